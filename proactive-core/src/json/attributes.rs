//! `localizedAttributes`: one object per locale, each with its attribute texts.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::Reader;
use super::payload::Facts;
use crate::json_kind::kind;
use crate::report::Rule;
use crate::schemas::AttributeKey;
use crate::validate::LocaleKeys;
use crate::{Locale, LocalizedAttributes};

/// What was read of `localizedAttributes`.
pub(super) struct ReadAttributes {
    /// Every object that names its locale in a string, with its valid keys.
    pub(super) objects: Vec<ReadObject>,
    /// Whether every object was read without error.
    pub(super) complete: bool,
    /// Whether the array has no object at all (or is missing).
    pub(super) empty: bool,
}

/// One object of `localizedAttributes` that names its locale in a string.
pub(super) struct ReadObject {
    index: usize,
    /// The locale as written.
    name: String,
    /// The locale, when it is valid and not repeated.
    locale: Option<Locale>,
    keys: BTreeMap<AttributeKey, String>,
}

impl ReadAttributes {
    /// The objects, as the localized-attribute checks see them.
    pub(super) fn checked(&self) -> impl Iterator<Item = LocaleKeys<'_>> {
        self.objects.iter().map(|object| LocaleKeys {
            index: object.index,
            locale: &object.name,
            first_valid: object.locale.is_some(),
            keys: &object.keys,
        })
    }

    /// The typed attributes: the objects whose locale is valid and not repeated.
    pub(super) fn into_attributes(self) -> LocalizedAttributes {
        let mut attributes = LocalizedAttributes::new();
        for object in self.objects {
            if let Some(locale) = object.locale {
                attributes.push_locale(locale, object.keys);
            }
        }
        attributes
    }
}

impl Reader<'_> {
    /// Reads `localizedAttributes`, every object of it that can be read;
    /// `None` when it is not an array. `facts` says whether the payload
    /// references any key (a missing array is then left to the reference check).
    pub(super) fn localized_attributes(&mut self, value: Option<Value>, facts: &Facts) -> Option<ReadAttributes> {
        let Some(value) = value else {
            if facts.references.is_empty() {
                self.report.warning(
                    Rule::MissingLocalizedAttributes,
                    "localizedAttributes",
                    "`localizedAttributes` is missing; Amazon's model requires it: write `[]` when nothing is localized",
                );
            }
            // When the payload references keys, the localized-attribute check names each undefined one.
            return Some(ReadAttributes { objects: Vec::new(), complete: true, empty: true });
        };
        let Value::Array(items) = value else {
            self.report.error(
                Rule::InvalidValue,
                "localizedAttributes",
                format!("expected an array of objects, one per locale, found {}", kind(&value)),
            );
            return None;
        };
        let mut read =
            ReadAttributes { objects: Vec::with_capacity(items.len()), complete: true, empty: items.is_empty() };
        for (index, item) in items.into_iter().enumerate() {
            read.complete &= self.locale_object(item, index, &mut read.objects);
        }
        Some(read)
    }

    /// Reads the `index`th object of `localizedAttributes` into `objects`;
    /// returns whether it was without error.
    fn locale_object(&mut self, item: Value, index: usize, objects: &mut Vec<ReadObject>) -> bool {
        let at = format!("localizedAttributes[{index}]");
        let Value::Object(object) = item else {
            self.report.error(Rule::InvalidValue, &at, format!("expected an object, found {}", kind(&item)));
            return false;
        };
        let name = object.get("locale").and_then(Value::as_str).map(str::to_owned);
        let locale = self.locale(object.get("locale"), &at, objects);
        let (keys, keys_ok) = self.attribute_texts(object, &at);
        let ok = locale.is_some() && keys_ok;
        if let Some(name) = name {
            objects.push(ReadObject { index, name, locale, keys: keys.into_iter().collect() });
        }
        ok
    }

    /// The `locale` of one object, unless it is missing, invalid, or already
    /// had an object in `objects`.
    fn locale(&mut self, value: Option<&Value>, at: &str, objects: &[ReadObject]) -> Option<Locale> {
        match value {
            None => {
                self.missing(&format!("{at}.locale"), "each object names its locale, such as `en-US`");
                None
            }
            Some(Value::String(text)) => match Locale::new(text) {
                Ok(locale) if objects.iter().any(|object| object.locale.as_ref() == Some(&locale)) => {
                    self.report.error(
                        Rule::DuplicateLocale,
                        format!("{at}.locale"),
                        format!("{locale} appears twice; merge its keys into one object"),
                    );
                    None
                }
                Ok(locale) => Some(locale),
                Err(error) => {
                    self.report.error(Rule::Locale, format!("{at}.locale"), error.to_string());
                    None
                }
            },
            Some(other) => {
                self.report.error(
                    Rule::Locale,
                    format!("{at}.locale"),
                    format!("expected a string such as `en-US`, found {}", kind(other)),
                );
                None
            }
        }
    }

    /// The attribute keys and texts of one object (all but `locale`), and
    /// whether every one was valid.
    fn attribute_texts(&mut self, object: Map<String, Value>, at: &str) -> (Vec<(AttributeKey, String)>, bool) {
        let mut keys = Vec::new();
        let mut ok = true;
        for (key, text) in object {
            if key == "locale" {
                continue;
            }
            let path = format!("{at}.{key}");
            let key = match AttributeKey::new(&key) {
                Ok(key) => key,
                Err(error) => {
                    self.report.error(Rule::AttributeKey, &path, error.to_string());
                    ok = false;
                    continue;
                }
            };
            match text {
                Value::String(text) => keys.push((key, text)),
                other => {
                    self.report.error(Rule::InvalidValue, &path, format!("expected text, found {}", kind(&other)));
                    ok = false;
                }
            }
        }
        (keys, ok)
    }
}
