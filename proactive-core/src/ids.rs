//! Values with rules, parsed once: reference ids, locales and user ids.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Implements `Display`, `FromStr`, `AsRef<str>`, `Serialize` and `Deserialize`
/// for a string newtype whose only constructor is `new`.
macro_rules! string_newtype {
    ($name:ident, $error:ident) => {
        impl $name {
            /// The value as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = $error;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::new(text)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = $error;

            fn try_from(text: &str) -> Result<Self, Self::Error> {
                Self::new(text)
            }
        }

        impl TryFrom<String> for $name {
            type Error = $error;

            fn try_from(text: String) -> Result<Self, Self::Error> {
                Self::new(&text)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
                Self::new(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// The `referenceId` of an event: 1 to 100 characters of `A-Z a-z 0-9 ~ -`.
///
/// Amazon documents "alphanumeric and `~`", but its own examples use `-`; the
/// project accepts both (see the Decisions table). A user receives at most one
/// event per reference id: a second one is answered with 409.
///
/// ```
/// use proactive_core::ReferenceId;
///
/// let id = ReferenceId::new("order-1234~shipped")?;
/// assert_eq!(id.as_str(), "order-1234~shipped");
/// assert!(ReferenceId::new("order 1234").is_err(), "no spaces");
/// assert_ne!(ReferenceId::random(), ReferenceId::random());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReferenceId(String);

/// A string that is not a valid [`ReferenceId`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidReferenceId {
    /// Empty.
    #[error("the reference id is empty; Amazon requires 1 to 100 characters of A-Z, a-z, 0-9, `~` and `-`")]
    Empty,
    /// Longer than 100 characters.
    #[error("the reference id has {0} characters; Amazon allows at most 100")]
    TooLong(usize),
    /// Has a character outside the allowed set.
    #[error(
        "the reference id contains {0:?} at character {1}; Amazon allows only A-Z, a-z, 0-9, `~` and `-` (1 to 100 characters)"
    )]
    InvalidCharacter(char, usize),
}

impl ReferenceId {
    /// Checks and wraps a reference id.
    pub fn new(id: &str) -> Result<Self, InvalidReferenceId> {
        if id.is_empty() {
            return Err(InvalidReferenceId::Empty);
        }
        if let Some((index, c)) =
            id.chars().enumerate().find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '~' || *c == '-'))
        {
            return Err(InvalidReferenceId::InvalidCharacter(c, index));
        }
        let count = id.chars().count();
        if count > 100 {
            return Err(InvalidReferenceId::TooLong(count));
        }
        Ok(Self(id.to_owned()))
    }

    /// A fresh reference id: a random (v4) UUID as 32 hexadecimal digits, which
    /// fit Amazon's charset and never repeat in practice.
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }
}

string_newtype!(ReferenceId, InvalidReferenceId);

/// A locale as Amazon writes it in `localizedAttributes`: `xx-YY`, such as
/// `en-US`, `de-DE` or `ja-JP`.
///
/// ```
/// use proactive_core::Locale;
///
/// let german: Locale = "de-DE".parse()?;
/// assert_eq!(german.as_str(), "de-DE");
/// assert_eq!(Locale::en_us().as_str(), "en-US");
/// assert!("german".parse::<Locale>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Locale(String);

/// A string that is not a valid [`Locale`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid locale `{0}`: write a language and a region as `xx-YY`, such as `en-US` or `de-DE`")]
pub struct InvalidLocale(String);

impl Locale {
    /// Checks and wraps a locale.
    pub fn new(locale: &str) -> Result<Self, InvalidLocale> {
        let b = locale.as_bytes();
        let valid = b.len() == 5
            && b[0].is_ascii_lowercase()
            && b[1].is_ascii_lowercase()
            && b[2] == b'-'
            && b[3].is_ascii_uppercase()
            && b[4].is_ascii_uppercase();
        if valid { Ok(Self(locale.to_owned())) } else { Err(InvalidLocale(locale.to_owned())) }
    }

    /// `en-US`.
    pub fn en_us() -> Self {
        Self("en-US".to_owned())
    }
}

string_newtype!(Locale, InvalidLocale);

/// The id of an Alexa user, from `context.System.user.userId`: non-empty, at most
/// 255 characters. Real ids start with `amzn1.ask.account.`; a missing prefix is
/// only a warning in validation, since test tools use other ids.
///
/// ```
/// use proactive_core::UserId;
///
/// let user = UserId::new("amzn1.ask.account.AGF7EXAMPLEUSERID")?;
/// assert_eq!(user.to_string(), "amzn1.ask.account.AGF7EXAMPLEUSERID");
/// assert!(UserId::new("").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);

/// A string that is not a valid [`UserId`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidUserId {
    /// Empty (or only white space).
    #[error("the user id is empty; a Unicast event needs the user's id from `context.System.user.userId`")]
    Empty,
    /// Longer than 255 characters.
    #[error("the user id has {0} characters; Amazon's user ids have at most 255")]
    TooLong(usize),
}

impl UserId {
    /// The prefix of every real Alexa user id.
    pub const PREFIX: &'static str = "amzn1.ask.account.";

    /// Checks and wraps a user id.
    pub fn new(id: &str) -> Result<Self, InvalidUserId> {
        let count = id.chars().count();
        if id.trim().is_empty() {
            Err(InvalidUserId::Empty)
        } else if count > 255 {
            Err(InvalidUserId::TooLong(count))
        } else {
            Ok(Self(id.to_owned()))
        }
    }
}

string_newtype!(UserId, InvalidUserId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_ids() {
        assert!(ReferenceId::new("unique-id-of-this-instance").is_ok());
        assert!(ReferenceId::new("a~b-C9").is_ok());
        assert!(ReferenceId::new(&"x".repeat(100)).is_ok());
        assert_eq!(ReferenceId::new(""), Err(InvalidReferenceId::Empty));
        assert_eq!(ReferenceId::new(&"x".repeat(101)), Err(InvalidReferenceId::TooLong(101)));
        assert_eq!(ReferenceId::new("order_1"), Err(InvalidReferenceId::InvalidCharacter('_', 5)));
        let error = ReferenceId::new("a b").unwrap_err().to_string();
        assert!(error.contains("' ' at character 1") && error.contains("A-Z, a-z, 0-9, `~` and `-`"), "{error}");
    }

    #[test]
    fn random_reference_ids_are_valid_and_distinct() {
        let ids: std::collections::HashSet<_> = (0..1000).map(|_| ReferenceId::random()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids.iter().all(|id| ReferenceId::new(id.as_str()).is_ok() && id.as_str().len() == 32));
    }

    #[test]
    fn locales() {
        for good in ["en-US", "de-DE", "ja-JP", "pt-BR"] {
            assert_eq!(Locale::new(good).unwrap().as_str(), good);
        }
        for bad in ["en-us", "EN-US", "en_US", "en", "eng-USA", "", "en-US "] {
            assert!(Locale::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn user_ids() {
        assert!(UserId::new("amzn1.ask.account.ABC").is_ok());
        assert_eq!(UserId::new(" "), Err(InvalidUserId::Empty));
        assert_eq!(UserId::new(&"u".repeat(256)), Err(InvalidUserId::TooLong(256)));
        let parsed: Result<UserId, _> = serde_json::from_str("\"\"");
        assert!(parsed.unwrap_err().to_string().contains("the user id is empty"));
    }
}
