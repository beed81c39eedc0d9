//! Events to send.

use chrono::{Duration, Utc};
use proactive_core::schemas::WeatherAlertActivated;
use proactive_core::schemas::weather_alert_activated::{WeatherAlert, WeatherAlertType};
use proactive_core::{Audience, Envelope, ReferenceId};

/// A valid Multicast weather alert with reference id `id`.
pub(crate) fn envelope(id: &str) -> Envelope {
    let alert = WeatherAlertActivated::builder()
        .weather_alert(WeatherAlert::builder().alert_type(WeatherAlertType::Tornado).build())
        .build();
    Envelope::builder(alert, Audience::Multicast).reference_id(ReferenceId::new(id).expect("a valid id")).build()
}

/// An envelope whose expiry is already past: validation refuses it.
pub(crate) fn expired_envelope(id: &str) -> Envelope {
    let mut envelope = envelope(id);
    envelope.timestamp = Utc::now() - Duration::hours(2);
    envelope.expiry_time = Utc::now() - Duration::hours(1);
    envelope
}
