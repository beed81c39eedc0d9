//! Text that was meant as a `localizedattribute:KEY` reference but is spelled
//! differently: `localized:KEY`, `localizedAttribute:KEY`, `LocalizedAttribute:KEY`,
//! spaces around the colon. Amazon treats it as plain text, so Alexa would read
//! the reference aloud.

use crate::schemas::{AttributeKey, LOCALIZED_ATTRIBUTE_PREFIX};

/// Prefixes seen in real senders' code instead of `localizedattribute`.
const MISSPELLINGS: [&str; 6] =
    ["localized", "localizedattributes", "localised", "localisedattribute", "localizedattr", "localizedkey"];

/// The reference `text` was probably meant to be (`localizedattribute:KEY`), if
/// it looks like a misspelled one: a known misspelling of the prefix or one
/// the crate's did-you-mean finds close, in any case, with any spaces around the colon, followed by
/// a valid key.
pub(crate) fn intended(text: &str) -> Option<String> {
    let (prefix, key) = text.split_once(':')?;
    let key = key.trim();
    AttributeKey::new(key).ok()?;
    let prefix = prefix.trim().to_ascii_lowercase();
    let wanted = &LOCALIZED_ATTRIBUTE_PREFIX[..LOCALIZED_ATTRIBUTE_PREFIX.len() - 1];
    let close = prefix == wanted
        || MISSPELLINGS.contains(&prefix.as_str())
        || (prefix.len() >= 8 && crate::suggest::closest(&prefix, [wanted]).is_some());
    let corrected = format!("{LOCALIZED_ATTRIBUTE_PREFIX}{key}");
    (close && corrected != text).then_some(corrected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelled_prefixes_are_corrected() {
        for text in [
            "localized:title",
            "localizedAttribute:title",
            "LocalizedAttribute:title",
            "localizedattribute : title",
            "localizedattribute: title",
            "localizedAtribute:title",
            "localizedattributes:title",
        ] {
            assert_eq!(intended(text).as_deref(), Some("localizedattribute:title"), "{text}");
        }
    }

    #[test]
    fn ordinary_text_and_correct_references_are_left_alone() {
        for text in ["localizedattribute:title", "Note: bring a coat", "local:time", "Localized: yes it is", "title"] {
            assert_eq!(intended(text), None, "{text}");
        }
    }
}
