//! The name of an event a user subscribed to: one of the 8 schemas, or a name
//! Amazon may add later.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use crate::schemas::{EventName, EventPayload};

/// An event name from a subscription request's `subscriptions[].eventName`.
///
/// Usually one of the 8 schemas ([`known`](Self::known) gives it), but a name
/// outside them is kept rather than rejected: Amazon may add a schema before
/// this crate knows it, and dropping it would silently unsubscribe the user.
///
/// Equality, ordering and hashing follow the text, so a set of
/// `SubscribedEvent`s sorts by Amazon's name.
///
/// ```
/// use proactive_core::schemas::EventName;
/// use proactive_core::subscription::SubscribedEvent;
///
/// let known = SubscribedEvent::new("AMAZON.WeatherAlert.Activated");
/// assert_eq!(known.known(), Some(EventName::WeatherAlertActivated));
/// assert_eq!(known, SubscribedEvent::from(EventName::WeatherAlertActivated));
///
/// let other = SubscribedEvent::new("AMAZON.Future.Event");
/// assert_eq!(other.known(), None);
/// assert_eq!(other.as_str(), "AMAZON.Future.Event");
/// ```
#[derive(Clone)]
pub struct SubscribedEvent(Repr);

/// Canonical: a name of the 8 schemas is always `Known`, never `Other`.
#[derive(Clone, Debug)]
enum Repr {
    Known(EventName),
    Other(Box<str>),
}

impl SubscribedEvent {
    /// Wraps an event name as Amazon writes it. Any text is accepted; one of
    /// the 8 schema names becomes the matching [`EventName`].
    pub fn new(name: &str) -> Self {
        match name.parse::<EventName>() {
            Ok(known) => Self(Repr::Known(known)),
            Err(_) => Self(Repr::Other(name.into())),
        }
    }

    /// The subscription for a generated payload type, such as
    /// `SubscribedEvent::of::<WeatherAlertActivated>()`.
    pub fn of<P: EventPayload>() -> Self {
        Self(Repr::Known(P::NAME))
    }

    /// The schema, when the name is one of the 8.
    pub fn known(&self) -> Option<EventName> {
        match &self.0 {
            Repr::Known(name) => Some(*name),
            Repr::Other(_) => None,
        }
    }

    /// The name as Amazon writes it, such as `AMAZON.WeatherAlert.Activated`.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Known(name) => name.as_str(),
            Repr::Other(name) => name,
        }
    }
}

impl From<EventName> for SubscribedEvent {
    fn from(name: EventName) -> Self {
        Self(Repr::Known(name))
    }
}

impl From<&SubscribedEvent> for SubscribedEvent {
    fn from(event: &SubscribedEvent) -> Self {
        event.clone()
    }
}

impl FromStr for SubscribedEvent {
    type Err = std::convert::Infallible;

    /// Same as [`SubscribedEvent::new`]; never fails.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Ok(Self::new(name))
    }
}

impl PartialEq<EventName> for SubscribedEvent {
    fn eq(&self, other: &EventName) -> bool {
        self.known() == Some(*other)
    }
}

impl PartialEq for SubscribedEvent {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for SubscribedEvent {}

impl PartialOrd for SubscribedEvent {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SubscribedEvent {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for SubscribedEvent {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for SubscribedEvent {
    /// The name in quotes, as a string would print, so that sets of events
    /// read as `{"AMAZON.WeatherAlert.Activated"}` in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for SubscribedEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for SubscribedEvent {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl serde::Serialize for SubscribedEvent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for SubscribedEvent {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Ok(Self::new(&name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_schema_name_is_known() {
        for name in EventName::ALL {
            let event = SubscribedEvent::new(name.as_str());
            assert_eq!(event.known(), Some(name));
            assert_eq!(event, SubscribedEvent::from(name));
            assert_eq!(event, name);
        }
    }

    #[test]
    fn other_names_are_kept_verbatim_and_sort_by_text() {
        let set: BTreeSet<_> = ["AMAZON.Zebra.Seen", "AMAZON.WeatherAlert.Activated", "AMAZON.Aardvark.Seen"]
            .into_iter()
            .map(SubscribedEvent::new)
            .collect();
        let names: Vec<_> = set.iter().map(SubscribedEvent::as_str).collect();
        assert_eq!(names, ["AMAZON.Aardvark.Seen", "AMAZON.WeatherAlert.Activated", "AMAZON.Zebra.Seen"]);
        assert_eq!(serde_json::to_string(&SubscribedEvent::new("x")).unwrap(), "\"x\"");
        assert_eq!(
            format!("{set:?}"),
            r#"{"AMAZON.Aardvark.Seen", "AMAZON.WeatherAlert.Activated", "AMAZON.Zebra.Seen"}"#
        );
    }
}
