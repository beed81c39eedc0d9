//! "Did you mean" suggestions, for the messages of this crate and of tools built
//! on it (the `proactive` CLI uses them for event names and locales).
//!
//! ```
//! use proactive_core::schemas::EventName;
//! use proactive_core::suggest;
//!
//! assert_eq!(suggest::closest("refrenceId", ["referenceId", "timestamp"]), Some("referenceId"));
//! assert_eq!(suggest::closest_event_name("OrderStatus"), Some(EventName::OrderStatusUpdated));
//! assert_eq!(suggest::did_you_mean("zzz", ["referenceId"]), "");
//! ```

use crate::schemas::EventName;

/// The candidate closest to `input`, if one is close enough to be a likely typo:
/// the same word in another case, or a Jaro-Winkler similarity of at least 0.85
/// (compared without case).
pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = input.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| {
            let score =
                if c.eq_ignore_ascii_case(input) { 1.0 } else { strsim::jaro_winkler(&lower, &c.to_ascii_lowercase()) };
            (c, score)
        })
        .filter(|(_, score)| *score >= 0.85)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(c, _)| c)
}

/// ``; did you mean `x`?`` when a candidate is close, or an empty string: to
/// append to an error message.
pub fn did_you_mean<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(input, candidates).map(|c| format!("; did you mean `{c}`?")).unwrap_or_default()
}

/// The event name closest to `input`, compared without the `AMAZON.` (in any case) that
/// every name shares (which would make them all look alike), so `OrderStatus` and
/// `AMAZON.WeatherAlert.Activatd` both find their schema.
pub fn closest_event_name(input: &str) -> Option<EventName> {
    fn bare(name: &str) -> &str {
        match name.get(..7) {
            Some(prefix) if prefix.eq_ignore_ascii_case("AMAZON.") => &name[7..],
            _ => name,
        }
    }
    let close = closest(bare(input), EventName::ALL.iter().map(|name| bare(name.as_str())))?;
    EventName::ALL.into_iter().find(|name| bare(name.as_str()) == close)
}

/// What to tell someone who wrote the unknown event name `input`: ``did you mean
/// `AMAZON.X.Y`?`` when one is close, otherwise the list of Amazon's schemas.
pub fn event_name_hint(input: &str) -> String {
    match closest_event_name(input) {
        Some(close) => format!("did you mean `{close}`?"),
        None => format!("Amazon's schemas are {}", EventName::ALL.map(EventName::as_str).join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(closest("garbageType", ["garbageTypes", "collectionDayOfWeek"]), Some("garbageTypes"));
        assert_eq!(closest("unicast", ["Unicast", "Multicast"]), Some("Unicast"));
        assert_eq!(closest("zzz", ["garbageTypes", "collectionDayOfWeek"]), None);
        assert_eq!(did_you_mean("refrenceId", ["referenceId", "timestamp"]), "; did you mean `referenceId`?");
    }

    #[test]
    fn event_names_are_compared_without_their_shared_prefix() {
        assert_eq!(closest_event_name("OrderStatus"), Some(EventName::OrderStatusUpdated));
        assert_eq!(closest_event_name("AMAZON.WeatherAlert.Activatd"), Some(EventName::WeatherAlertActivated));
        assert_eq!(closest_event_name("amazon.occasion.updated"), Some(EventName::OccasionUpdated));
        assert_eq!(closest_event_name("Occasion.Updated"), Some(EventName::OccasionUpdated));
        assert_eq!(closest_event_name("Pizza"), None);
        assert_eq!(event_name_hint("OrderStatus"), "did you mean `AMAZON.OrderStatus.Updated`?");
        assert!(event_name_hint("Pizza").starts_with("Amazon's schemas are AMAZON."), "{}", event_name_hint("Pizza"));
    }
}
