//! The envelope's `localizedAttributes`, and per-locale text for derived events.

use std::collections::BTreeMap;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::schemas::AttributeKey;
use crate::{InvalidLocale, Locale};

/// The envelope's `localizedAttributes`: for each locale, the text of each
/// attribute key that the payload references as `localizedattribute:KEY`.
///
/// One entry per locale, so a duplicate locale cannot be expressed; locales keep
/// the order they were added in, so report paths such as
/// `localizedAttributes[1].sellerName` point into the array as it was written.
/// Serializes as Amazon's array, one object per locale:
/// `[{"locale": "en-US", "KEY": "text"}]`, and as `[]` when empty.
///
/// ```
/// use proactive_core::{Locale, LocalizedAttributes};
///
/// let mut attributes = LocalizedAttributes::new();
/// attributes.insert(Locale::en_us(), "sellerName", "Delivery Owl")?;
/// attributes.insert("de-DE".parse()?, "sellerName", "Lieferkauz")?;
/// assert_eq!(
///     serde_json::to_string(&attributes)?,
///     r#"[{"locale":"en-US","sellerName":"Delivery Owl"},{"locale":"de-DE","sellerName":"Lieferkauz"}]"#,
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LocalizedAttributes {
    // A handful of locales at most: a vector keeps their order and is faster than a map.
    locales: Vec<(Locale, BTreeMap<AttributeKey, String>)>,
}

impl LocalizedAttributes {
    /// No locales.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the text of `key` in `locale`, replacing any earlier text.
    pub fn insert(
        &mut self,
        locale: Locale,
        key: &str,
        text: impl Into<String>,
    ) -> Result<&mut Self, crate::schemas::InvalidAttributeKey> {
        let key = AttributeKey::new(key)?;
        self.entry(locale).insert(key, text.into());
        Ok(self)
    }

    fn entry(&mut self, locale: Locale) -> &mut BTreeMap<AttributeKey, String> {
        let index = match self.locales.iter().position(|(l, _)| *l == locale) {
            Some(index) => index,
            None => {
                self.locales.push((locale, BTreeMap::new()));
                self.locales.len() - 1
            }
        };
        &mut self.locales[index].1
    }

    /// Sets the text of an already checked key.
    pub fn insert_key(&mut self, locale: Locale, key: AttributeKey, text: impl Into<String>) -> &mut Self {
        self.entry(locale).insert(key, text.into());
        self
    }

    /// Adds a locale with no keys (a locale the skill supports, whose object would be
    /// empty); validation then reports every key it lacks.
    pub fn add_locale(&mut self, locale: Locale) -> &mut Self {
        self.entry(locale);
        self
    }

    /// Appends `locale` with its keys; the caller knows `locale` is not here yet.
    pub(crate) fn push_locale(&mut self, locale: Locale, keys: BTreeMap<AttributeKey, String>) {
        debug_assert!(self.keys(&locale).is_none(), "{locale} is already here");
        self.locales.push((locale, keys));
    }

    /// Merges `other` into `self`; `other`'s text wins where both set a key.
    pub fn merge(&mut self, other: LocalizedAttributes) {
        if self.locales.is_empty() {
            *self = other;
            return;
        }
        for (locale, keys) in other.locales {
            self.entry(locale).extend(keys);
        }
    }

    /// The text of `key` in `locale`.
    pub fn get(&self, locale: &Locale, key: &AttributeKey) -> Option<&str> {
        self.keys(locale)?.get(key).map(String::as_str)
    }

    /// The keys and text of `locale`.
    pub fn keys(&self, locale: &Locale) -> Option<&BTreeMap<AttributeKey, String>> {
        self.locales.iter().find(|(l, _)| l == locale).map(|(_, keys)| keys)
    }

    /// The locales, in order.
    pub fn locales(&self) -> impl Iterator<Item = &Locale> {
        self.locales.iter().map(|(l, _)| l)
    }

    /// Each locale with its keys and text, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&Locale, &BTreeMap<AttributeKey, String>)> {
        self.locales.iter().map(|(l, keys)| (l, keys))
    }

    /// Whether no locale is present.
    pub fn is_empty(&self) -> bool {
        self.locales.is_empty()
    }

    /// How many locales are present.
    pub fn len(&self) -> usize {
        self.locales.len()
    }
}

/// One locale's object in Amazon's array.
struct LocaleObject<'a>(&'a Locale, &'a BTreeMap<AttributeKey, String>);

impl Serialize for LocaleObject<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.1.len() + 1))?;
        map.serialize_entry("locale", self.0)?;
        for (key, text) in self.1 {
            map.serialize_entry(key.as_str(), text)?;
        }
        map.end()
    }
}

impl Serialize for LocalizedAttributes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.locales.iter().map(|(locale, keys)| LocaleObject(locale, keys)))
    }
}

/// Text given per locale: the type of a `#[derive(ProactiveEvent)]` field whose
/// schema path Amazon localizes. The derive writes `localizedattribute:KEY` into
/// the payload and this text into each locale's `localizedAttributes` object.
///
/// ```
/// use proactive_core::PerLocale;
///
/// let title = PerLocale::new().with("en-US", "The Night Manager")?.with("de-DE", "Der Nachtmanager")?;
/// assert_eq!(title.get(&"de-DE".parse()?), Some("Der Nachtmanager"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PerLocale {
    text: BTreeMap<Locale, String>,
}

impl PerLocale {
    /// No locales yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the text for `locale`.
    pub fn with(mut self, locale: &str, text: impl Into<String>) -> Result<Self, InvalidLocale> {
        self.text.insert(Locale::new(locale)?, text.into());
        Ok(self)
    }

    /// Sets the text for an already checked locale.
    pub fn insert(&mut self, locale: Locale, text: impl Into<String>) -> &mut Self {
        self.text.insert(locale, text.into());
        self
    }

    /// The text for `locale`.
    pub fn get(&self, locale: &Locale) -> Option<&str> {
        self.text.get(locale).map(String::as_str)
    }

    /// The locales, in order.
    pub fn locales(&self) -> impl Iterator<Item = &Locale> {
        self.text.keys()
    }

    /// Each locale with its text.
    pub fn iter(&self) -> impl Iterator<Item = (&Locale, &str)> {
        self.text.iter().map(|(l, t)| (l, t.as_str()))
    }
}

impl FromIterator<(Locale, String)> for PerLocale {
    fn from_iter<I: IntoIterator<Item = (Locale, String)>>(iter: I) -> Self {
        Self { text: iter.into_iter().collect() }
    }
}
