//! "Did you mean" suggestions, for the messages of this crate and of tools built
//! on it (the `proactive` CLI uses them for event names and locales).
//!
//! There is one engine, in `proactive-table` ([`closest`]): the derive's
//! compile-time errors, untyped JSON and the CLI give the same hint for the same
//! typo.
//!
//! ```
//! use proactive_core::schemas::EventName;
//! use proactive_core::suggest;
//!
//! assert_eq!(suggest::closest("refrenceId", ["referenceId", "timestamp"]), Some("referenceId"));
//! assert_eq!(suggest::closest_event_name("OrderStatus"), Some(EventName::OrderStatusUpdated));
//! assert_eq!(suggest::did_you_mean("zzz", ["referenceId"]), "");
//! ```

pub use crate::schemas::table::suggest::{THRESHOLD, closest, did_you_mean};
use crate::schemas::{EventName, table};

/// The event name closest to `input`, compared without the `AMAZON.` (in any case) that
/// every name shares (which would make them all look alike), so `OrderStatus` and
/// `AMAZON.WeatherAlert.Activatd` both find their schema.
pub fn closest_event_name(input: &str) -> Option<EventName> {
    table::closest_schema(input).and_then(|name| name.parse().ok())
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
