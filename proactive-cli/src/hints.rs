//! "Did you mean" for the names a user types: event names (`schema`, `manifest
//! --event`) and locales (`preview --locale`), from proactive-core's suggestions.

use proactive_core::schemas::EventName;
use proactive_core::{Envelope, Locale, suggest};

/// Alexa's skill locales, the candidates for a `--locale` that is not written
/// `xx-YY`.
const ALEXA_LOCALES: [&str; 17] = [
    "ar-SA", "de-DE", "en-AU", "en-CA", "en-GB", "en-IN", "en-US", "es-ES", "es-MX", "es-US", "fr-CA", "fr-FR",
    "hi-IN", "it-IT", "ja-JP", "nl-NL", "pt-BR",
];

/// The event named `name`, or the message for a name that is none of Amazon's.
pub(crate) fn event_name(name: &str) -> Result<EventName, String> {
    name.parse().map_err(|_| format!("unknown event name `{name}`; {}", suggest::event_name_hint(name)))
}

/// The locale `given`, or the message for one that is not written `xx-YY`.
pub(crate) fn locale(given: &str) -> Result<Locale, String> {
    Locale::new(given).map_err(|error| format!("{error}{}", suggest::did_you_mean(given, ALEXA_LOCALES)))
}

/// What to warn about when `envelope` has localized attributes but none for
/// `locale`: a close locale it has, or the ones it has. `None` when there is
/// nothing to say.
pub(crate) fn missing_locale(envelope: &Envelope, locale: &Locale) -> Option<String> {
    let attributes = &envelope.localized_attributes;
    if attributes.is_empty() || attributes.locales().any(|known| known == locale) {
        return None;
    }
    let known: Vec<&str> = attributes.locales().map(|known| known.as_str()).collect();
    let hint = match suggest::closest(locale.as_str(), known.iter().copied()) {
        Some(close) => format!("did you mean `{close}`?"),
        None => format!("it has {}", known.iter().map(|known| format!("`{known}`")).collect::<Vec<_>>().join(", ")),
    };
    Some(format!("the event has no `{locale}` localized attributes; {hint}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_and_locales_suggest_the_closest() {
        assert_eq!(event_name("AMAZON.Occasion.Updated"), Ok(EventName::OccasionUpdated));
        assert_eq!(
            event_name("OrderStatus").unwrap_err(),
            "unknown event name `OrderStatus`; did you mean `AMAZON.OrderStatus.Updated`?"
        );
        assert!(locale("en_US").unwrap_err().ends_with("; did you mean `en-US`?"));
        assert!(locale("de-de").unwrap_err().ends_with("; did you mean `de-DE`?"));
        assert!(!locale("zzzz").unwrap_err().contains("did you mean"));
    }
}
