//! Text that Amazon may localize: a literal, or a reference to a localized attribute.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The prefix that turns a string value into a reference to a localized attribute.
pub const LOCALIZED_ATTRIBUTE_PREFIX: &str = "localizedattribute:";

/// The value of a string field that Amazon localizes.
///
/// On the wire both variants are a JSON string: a [`Literal`](Self::Literal) is
/// written as is and spoken the same in every locale, an
/// [`Attribute`](Self::Attribute) is written as `"localizedattribute:KEY"` and
/// Alexa speaks the value that the envelope's `localizedAttributes` give `KEY` in
/// the user's locale.
///
/// ```
/// use proactive_schemas::LocalizedText;
///
/// let literal = LocalizedText::from("Example Weather Corp");
/// let reference = LocalizedText::attribute("source");
/// assert_eq!(serde_json::to_string(&literal).unwrap(), r#""Example Weather Corp""#);
/// assert_eq!(serde_json::to_string(&reference).unwrap(), r#""localizedattribute:source""#);
/// let parsed: LocalizedText = serde_json::from_str(r#""localizedattribute:source""#).unwrap();
/// assert_eq!(parsed, reference);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LocalizedText {
    /// The same text in every locale.
    Literal(String),
    /// A reference to the localized attribute with this key.
    Attribute(AttributeKey),
}

impl LocalizedText {
    /// A reference to the localized attribute `key`.
    ///
    /// # Panics
    ///
    /// Panics when `key` is not a valid attribute key (see [`AttributeKey`]).
    /// Use [`AttributeKey::new`] to handle that case without a panic.
    #[track_caller]
    pub fn attribute(key: &str) -> Self {
        match AttributeKey::new(key) {
            Ok(key) => Self::Attribute(key),
            Err(error) => panic!("{error}"),
        }
    }

    /// The attribute key this text refers to, if it is a reference.
    pub fn attribute_key(&self) -> Option<&AttributeKey> {
        match self {
            Self::Literal(_) => None,
            Self::Attribute(key) => Some(key),
        }
    }

    /// Parses a wire value: `localizedattribute:KEY` becomes a reference, anything
    /// else a literal. A reference with an invalid key is kept as a literal; the
    /// validator reports it.
    pub fn from_wire(value: &str) -> Self {
        match value.strip_prefix(LOCALIZED_ATTRIBUTE_PREFIX).map(AttributeKey::new) {
            Some(Ok(key)) => Self::Attribute(key),
            _ => Self::Literal(value.to_owned()),
        }
    }

    /// The string Amazon receives for this value.
    pub fn to_wire(&self) -> Cow<'_, str> {
        match self {
            Self::Literal(text) => Cow::Borrowed(text),
            Self::Attribute(key) => Cow::Owned(format!("{LOCALIZED_ATTRIBUTE_PREFIX}{}", key.as_str())),
        }
    }
}

impl From<&str> for LocalizedText {
    fn from(text: &str) -> Self {
        Self::Literal(text.to_owned())
    }
}

impl From<String> for LocalizedText {
    fn from(text: String) -> Self {
        Self::Literal(text)
    }
}

impl From<&String> for LocalizedText {
    fn from(text: &String) -> Self {
        Self::Literal(text.clone())
    }
}

impl From<AttributeKey> for LocalizedText {
    fn from(key: AttributeKey) -> Self {
        Self::Attribute(key)
    }
}

impl fmt::Display for LocalizedText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_wire())
    }
}

impl Serialize for LocalizedText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Literal(text) => serializer.serialize_str(text),
            Self::Attribute(key) => {
                serializer.collect_str(&format_args!("{LOCALIZED_ATTRIBUTE_PREFIX}{}", key.as_str()))
            }
        }
    }
}

impl<'de> Deserialize<'de> for LocalizedText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Cow::<'de, str>::deserialize(deserializer)?;
        Ok(Self::from_wire(&text))
    }
}

#[cfg(feature = "schemars")]
#[cfg_attr(docsrs, doc(cfg(feature = "schemars")))]
impl schemars::JsonSchema for LocalizedText {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("LocalizedText")
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "Literal text, or `localizedattribute:KEY` to use the value of KEY in each locale's localized attributes."
        })
    }
}

/// The key of a localized attribute: 1 to 100 ASCII letters, digits, `_` or `-`.
///
/// Amazon does not document the key syntax; every published example uses
/// camelCase identifiers. Keys are limited to a conservative set so that they can
/// never be confused with the `locale` key or break a JSON path in a report.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttributeKey(String);

impl AttributeKey {
    /// Checks and wraps a key.
    pub fn new(key: &str) -> Result<Self, InvalidAttributeKey> {
        let valid_chars = key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if key.is_empty() || key.len() > 100 || !valid_chars || key == "locale" {
            return Err(InvalidAttributeKey(key.to_owned()));
        }
        Ok(Self(key.to_owned()))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AttributeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for AttributeKey {
    type Err = InvalidAttributeKey;

    fn from_str(key: &str) -> Result<Self, Self::Err> {
        Self::new(key)
    }
}

/// A string that is not a valid [`AttributeKey`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidAttributeKey(String);

impl fmt::Display for InvalidAttributeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid localized attribute key `{}`: use 1 to 100 ASCII letters, digits, `_` or `-`, and not `locale`",
            self.0
        )
    }
}

impl std::error::Error for InvalidAttributeKey {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_distinguishes_literals_from_references() {
        assert_eq!(LocalizedText::from_wire("localizedattribute:sellerName"), LocalizedText::attribute("sellerName"));
        assert_eq!(LocalizedText::from_wire("Delivery Owl"), LocalizedText::from("Delivery Owl"));
        // An invalid key stays literal text, so nothing is lost; the validator reports it.
        assert_eq!(LocalizedText::from_wire("localizedattribute:"), LocalizedText::from("localizedattribute:"));
        assert_eq!(LocalizedText::from_wire("localizedattribute:a b"), LocalizedText::from("localizedattribute:a b"));
    }

    #[test]
    fn attribute_keys_are_checked() {
        assert!(AttributeKey::new("providerName").is_ok());
        assert!(AttributeKey::new("provider-name_2").is_ok());
        for bad in ["", "locale", "a b", "ä", &"k".repeat(101)] {
            let error = AttributeKey::new(bad).unwrap_err();
            assert!(error.to_string().contains("invalid localized attribute key"), "{error}");
        }
    }
}
