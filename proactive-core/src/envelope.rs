//! The request body Amazon receives, as a typed value, and its builder.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde::Serialize;

use crate::report::Report;
use crate::schemas::AnyEvent;
use crate::{Audience, LocalizedAttributes, ProactiveEvent, ReferenceId};

/// The earliest allowed expiry, after the timestamp.
pub const MIN_EXPIRY: Duration = Duration::minutes(5);
/// The latest allowed expiry, after the timestamp.
pub const MAX_EXPIRY: Duration = Duration::hours(24);

/// The largest request body an event may have: 1 MiB. The one limit everything
/// here enforces: [`Client::send`](crate::client::Client::send) refuses a larger
/// envelope without sending it, the sandbox answers 400 to one, and
/// [`Report::check_body_size`] reports it (as `proactive validate` does).
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// The expiry [`EnvelopeBuilder::default_expiry`] uses: 23 h, not 24, so clock
/// skew cannot push it past Amazon's limit.
pub const DEFAULT_EXPIRY: Duration = Duration::hours(23);

/// A length of time [`EnvelopeBuilder::expires_after`] takes: a
/// [`chrono::TimeDelta`] or a [`std::time::Duration`].
pub trait ExpiryDuration {
    /// The duration as a `TimeDelta`; a `std::time::Duration` too long for one
    /// becomes the longest `TimeDelta`, which validation reports as outside
    /// Amazon's window.
    fn into_time_delta(self) -> Duration;
}

impl ExpiryDuration for Duration {
    fn into_time_delta(self) -> Duration {
        self
    }
}

impl ExpiryDuration for std::time::Duration {
    fn into_time_delta(self) -> Duration {
        Duration::from_std(self).unwrap_or(Duration::MAX)
    }
}

/// One Proactive Events request body: what is POSTed to Amazon.
///
/// Serializes to exactly Amazon's JSON, with all six keys every time
/// (`localizedAttributes: []` when nothing is localized, Multicast as
/// `{"type":"Multicast","payload":{}}`).
///
/// ```
/// # use proactive_core::schemas::WeatherAlertActivated;
/// # use proactive_core::schemas::weather_alert_activated::{WeatherAlert, WeatherAlertType};
/// # let alert = WeatherAlertActivated::builder()
/// #     .weather_alert(WeatherAlert::builder().alert_type(WeatherAlertType::Tornado).build())
/// #     .build();
/// use proactive_core::{Audience, Envelope};
///
/// let envelope = Envelope::builder(&alert, Audience::Multicast).build();
/// assert_eq!(envelope.expiry_time - envelope.timestamp, proactive_core::DEFAULT_EXPIRY);
/// // The fields are public: adjust a copy, then validate it.
/// let resend = Envelope { reference_id: proactive_core::ReferenceId::random(), ..envelope.clone() };
/// assert_ne!(resend.reference_id, envelope.reference_id);
/// assert!(resend.validate().is_clean());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// When the event happened; RFC 3339, written in UTC.
    #[serde(serialize_with = "crate::schemas::builder_support::write_rfc3339")]
    pub timestamp: DateTime<Utc>,
    /// The event's id; a user receives at most one event per id.
    pub reference_id: ReferenceId,
    /// When Amazon deletes the notification if still undelivered:
    /// `timestamp + 5 min ..= timestamp + 24 h`.
    #[serde(serialize_with = "crate::schemas::builder_support::write_rfc3339")]
    pub expiry_time: DateTime<Utc>,
    /// The event: schema name and payload.
    pub event: AnyEvent,
    /// The text of each `localizedattribute:KEY`, per locale.
    pub localized_attributes: LocalizedAttributes,
    /// Who receives it.
    #[serde(rename = "relevantAudience")]
    pub audience: Audience,
}

impl Envelope {
    /// Starts an envelope around `event` (a generated payload, an [`AnyEvent`] or
    /// a derived struct, by value or by reference), sent to `audience`. The
    /// localized attributes the event brings are included.
    ///
    /// ```
    /// use chrono::{Duration, TimeZone, Utc};
    /// use proactive_core::schemas::LocalizedText;
    /// use proactive_core::schemas::trash_collection_alert_activated::{
    ///     DayOfWeek, GarbageType, TrashCollectionAlert, TrashCollectionAlertActivated,
    /// };
    /// use proactive_core::{Audience, Envelope, ReferenceId};
    ///
    /// let alert = TrashCollectionAlertActivated::builder()
    ///     .alert(
    ///         TrashCollectionAlert::builder()
    ///             .garbage_types([GarbageType::Bottles, GarbageType::Compostable])
    ///             .collection_day_of_week(DayOfWeek::Tuesday)
    ///             .build(),
    ///     )
    ///     .build();
    /// let now = Utc.with_ymd_and_hms(2026, 3, 1, 8, 0, 0).unwrap();
    /// let (envelope, report) = Envelope::builder(&alert, Audience::unicast("amzn1.ask.account.ABC")?)
    ///     .timestamp(now)
    ///     .reference_id(ReferenceId::new("bins-2026-03-01")?)
    ///     .expires_after(Duration::hours(12))
    ///     .build_validated();
    /// assert!(!report.has_errors(), "{report}");
    /// assert_eq!(envelope.expiry_time, now + Duration::hours(12));
    /// assert!(envelope.to_json().contains(r#""relevantAudience":{"type":"Unicast","payload":{"user":"amzn1.ask.account.ABC"}}"#));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder(event: impl ProactiveEvent, audience: Audience) -> EnvelopeBuilder {
        let mut extra = Report::new();
        event.check(&mut extra);
        let localized_attributes = event.localized_attributes();
        EnvelopeBuilder {
            event: event.into_event(),
            localized_attributes,
            audience,
            timestamp: None,
            reference_id: None,
            expiry: Expiry::Default,
            extra,
        }
    }

    /// The exact request body Amazon receives.
    ///
    /// ```
    /// # use proactive_core::schemas::WeatherAlertActivated;
    /// # use proactive_core::schemas::weather_alert_activated::{WeatherAlert, WeatherAlertType};
    /// use proactive_core::{Audience, Envelope};
    ///
    /// # let alert = WeatherAlertActivated::builder()
    /// #     .weather_alert(WeatherAlert::builder().alert_type(WeatherAlertType::Tornado).build())
    /// #     .build();
    /// let json = Envelope::builder(&alert, Audience::Multicast).build().to_json();
    /// assert!(json.contains(r#""event":{"name":"AMAZON.WeatherAlert.Activated","payload":{"weatherAlert":{"alertType":"TORNADO"}}}"#));
    /// assert!(json.contains(r#""localizedAttributes":[]"#));
    /// ```
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an envelope always serializes: every key is a string")
    }

    /// The exact request body Amazon receives, as bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        // Most envelopes are 400 to 900 bytes: one allocation instead of serde_json's
        // default 128 bytes grown three times.
        let mut out = Vec::with_capacity(1024);
        serde_json::to_writer(&mut out, self).expect("an envelope always serializes: every key is a string");
        out
    }
}

#[derive(Clone, Debug)]
enum Expiry {
    Default,
    At(DateTime<Utc>),
    After(Duration),
}

/// Builds an [`Envelope`]. Unset values get safe defaults: the timestamp is now
/// (to the millisecond), the reference id is random, the expiry is
/// timestamp + 23 h.
///
/// ```
/// # use proactive_core::schemas::{LocalizedText, WeatherAlertActivated};
/// # use proactive_core::schemas::weather_alert_activated::{WeatherAlert, WeatherAlertType};
/// let alert = WeatherAlertActivated::builder()
///     .weather_alert(
///         WeatherAlert::builder()
///             .alert_type(WeatherAlertType::Tornado)
///             .source(LocalizedText::attribute("source"))
///             .build(),
///     )
///     .build();
/// use proactive_core::{Audience, Envelope, Locale};
///
/// // Localized text for the event's `localizedattribute:` keys, per locale.
/// let (envelope, report) = Envelope::builder(&alert, Audience::Multicast)
///     .localized(Locale::en_us(), "source", "Example Weather")?
///     .build_validated();
/// assert!(report.is_clean(), "{report}");
/// assert_eq!(envelope.localized_attributes.get(&Locale::en_us(), &"source".parse()?), Some("Example Weather"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
#[must_use = "an `EnvelopeBuilder` does nothing until `.build()` is called"]
pub struct EnvelopeBuilder {
    event: AnyEvent,
    localized_attributes: LocalizedAttributes,
    audience: Audience,
    timestamp: Option<DateTime<Utc>>,
    reference_id: Option<ReferenceId>,
    expiry: Expiry,
    extra: Report,
}

impl EnvelopeBuilder {
    /// Sets the timestamp.
    pub fn timestamp(mut self, timestamp: DateTime<Utc>) -> Self {
        self.timestamp = Some(timestamp);
        self
    }

    /// Sets the reference id.
    pub fn reference_id(mut self, id: ReferenceId) -> Self {
        self.reference_id = Some(id);
        self
    }

    /// Sets the expiry time explicitly.
    pub fn expiry_time(mut self, expiry: DateTime<Utc>) -> Self {
        self.expiry = Expiry::At(expiry);
        self
    }

    /// Sets the expiry as a duration after the timestamp: a
    /// [`chrono::TimeDelta`] or a [`std::time::Duration`].
    ///
    /// ```
    /// use proactive_core::chrono::TimeDelta;
    /// use proactive_core::schemas::weather_alert_activated::{WeatherAlert, WeatherAlertActivated, WeatherAlertType};
    /// use proactive_core::{Audience, Envelope};
    ///
    /// let payload = WeatherAlertActivated::builder()
    ///     .weather_alert(WeatherAlert::builder().alert_type(WeatherAlertType::Tornado).build())
    ///     .build();
    /// let hours = Envelope::builder(payload.clone(), Audience::Multicast)
    ///     .expires_after(std::time::Duration::from_secs(2 * 3600))
    ///     .build();
    /// assert_eq!(hours.expiry_time - hours.timestamp, TimeDelta::hours(2));
    /// let delta = Envelope::builder(payload, Audience::Multicast).expires_after(TimeDelta::hours(2)).build();
    /// assert_eq!(delta.expiry_time - delta.timestamp, TimeDelta::hours(2));
    /// ```
    pub fn expires_after(mut self, duration: impl ExpiryDuration) -> Self {
        self.expiry = Expiry::After(duration.into_time_delta());
        self
    }

    /// Uses the safe default expiry, timestamp + 23 h (what an unset expiry gets).
    pub fn default_expiry(mut self) -> Self {
        self.expiry = Expiry::Default;
        self
    }

    /// Sets the text of `key` in `locale`, replacing any earlier text.
    pub fn localized(
        mut self,
        locale: crate::Locale,
        key: &str,
        text: impl Into<String>,
    ) -> Result<Self, crate::schemas::InvalidAttributeKey> {
        self.localized_attributes.insert(locale, key, text)?;
        Ok(self)
    }

    /// Merges a table of localized attributes; its text wins where both set a key.
    pub fn localized_attributes(mut self, attributes: LocalizedAttributes) -> Self {
        self.localized_attributes.merge(attributes);
        self
    }

    /// Finishes the envelope, without validating it.
    pub fn build(self) -> Envelope {
        self.build_with_checks().0
    }

    /// Finishes the envelope and validates it: every problem, errors and warnings.
    pub fn build_validated(self) -> (Envelope, Report) {
        let (envelope, mut report) = self.build_with_checks();
        report.extend(envelope.validate());
        (envelope, report)
    }

    fn build_with_checks(self) -> (Envelope, Report) {
        let timestamp = self.timestamp.unwrap_or_else(|| Utc::now().trunc_subsecs(3));
        let expiry_time = match self.expiry {
            Expiry::Default => timestamp + DEFAULT_EXPIRY,
            Expiry::At(at) => at,
            // Past the end of time: the latest date-time, which validation reports.
            Expiry::After(duration) => timestamp.checked_add_signed(duration).unwrap_or(DateTime::<Utc>::MAX_UTC),
        };
        let envelope = Envelope {
            timestamp,
            reference_id: self.reference_id.unwrap_or_else(ReferenceId::random),
            expiry_time,
            event: self.event,
            localized_attributes: self.localized_attributes,
            audience: self.audience,
        };
        (envelope, self.extra)
    }
}
