//! The one trait that anything sendable implements.

use crate::LocalizedAttributes;
use crate::report::Report;
use crate::schemas::{AnyEvent, EventName, EventPayload};

/// Something that becomes the `event` and `localizedAttributes` of an envelope.
///
/// Implemented by every generated payload type, by [`AnyEvent`], and by user
/// structs with `#[derive(ProactiveEvent)]`. The envelope, validation, preview and
/// the client accept any `ProactiveEvent` the same way.
///
/// ```
/// # use proactive_core::schemas::WeatherAlertActivated;
/// # use proactive_core::schemas::weather_alert_activated::{WeatherAlert, WeatherAlertType};
/// # let alert = WeatherAlertActivated::builder()
/// #     .weather_alert(WeatherAlert::builder().alert_type(WeatherAlertType::Tornado).build())
/// #     .build();
/// use proactive_core::ProactiveEvent;
/// use proactive_core::schemas::EventName;
///
/// assert_eq!(alert.event_name(), EventName::WeatherAlertActivated);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a proactive event",
    note = "use a payload type from `proactive_core::schemas`, or add `#[derive(ProactiveEvent)]` to `{Self}`"
)]
pub trait ProactiveEvent {
    /// The schema's name.
    fn event_name(&self) -> EventName;

    /// The `event` object: name and payload.
    fn to_event(&self) -> AnyEvent;

    /// The `event` object, consuming `self` (no copy for a payload type).
    fn into_event(self) -> AnyEvent
    where
        Self: Sized,
    {
        self.to_event()
    }

    /// The localized attributes the event brings with it (a derived struct's
    /// per-locale fields); none by default.
    fn localized_attributes(&self) -> LocalizedAttributes {
        LocalizedAttributes::new()
    }

    /// Checks that only the implementor can make (a derived struct checks that
    /// its per-locale fields cover the same locales); adds problems to `report`.
    fn check(&self, report: &mut Report) {
        let _ = report;
    }
}

/// Implements [`ProactiveEvent`] for each generated payload type.
macro_rules! impl_for_payloads {
    ($($payload:ty),*) => {$(
        impl ProactiveEvent for $payload {
            fn event_name(&self) -> EventName {
                <$payload as EventPayload>::NAME
            }

            fn to_event(&self) -> AnyEvent {
                self.clone().into_any()
            }

            fn into_event(self) -> AnyEvent {
                self.into_any()
            }
        }
    )*};
}

proactive_schemas::__for_each_payload!(impl_for_payloads);

impl ProactiveEvent for AnyEvent {
    fn event_name(&self) -> EventName {
        self.name()
    }

    fn to_event(&self) -> AnyEvent {
        self.clone()
    }

    fn into_event(self) -> AnyEvent {
        self
    }
}

/// A reference works wherever the value does (the event is then copied).
impl<T: ProactiveEvent + ?Sized> ProactiveEvent for &T {
    fn event_name(&self) -> EventName {
        (**self).event_name()
    }

    fn to_event(&self) -> AnyEvent {
        (**self).to_event()
    }

    fn localized_attributes(&self) -> LocalizedAttributes {
        (**self).localized_attributes()
    }

    fn check(&self, report: &mut Report) {
        (**self).check(report);
    }
}
