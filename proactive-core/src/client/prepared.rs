//! An envelope validated and serialized ahead of sending.

use std::ops::Range;

use bytes::Bytes;
use chrono::{DateTime, Duration, SecondsFormat, SubsecRound, Utc};
use tracing::debug;

use super::error::InvalidEnvelope;
use crate::json::Parsed;
use crate::schemas::EventName;
use crate::{Envelope, Problem, ReferenceId, Report};

/// An envelope validated and serialized once, ready to send: the work
/// [`Client::send`](super::Client::send) does before its first POST, done
/// ahead of time and on any thread. Sending it with
/// [`Client::send_prepared`](super::Client::send_prepared) (or many with
/// [`Client::send_prepared_stream`](super::Client::send_prepared_stream))
/// checks again only what depends on the moment of sending: an `expiryTime`
/// already past, or outside Amazon's now-window, is refused then, as
/// [`Client::send`](super::Client::send) refuses it.
///
/// A bulk sender that parses or builds envelopes on one thread and sends on
/// another prepares them on the first, so the sending thread only talks HTTP.
/// Cheap to clone: the body is reference-counted.
///
/// ```
/// use proactive_core::client::PreparedEnvelope;
/// use proactive_core::schemas::WeatherAlertActivated;
/// use proactive_core::schemas::weather_alert_activated::{WeatherAlert, WeatherAlertType};
/// use proactive_core::{Audience, Envelope, UserId};
///
/// let alert = WeatherAlertActivated::builder()
///     .weather_alert(WeatherAlert::builder().alert_type(WeatherAlertType::Tornado).build())
///     .build();
/// let envelope = Envelope::builder(&alert, Audience::Multicast).build();
/// let prepared = PreparedEnvelope::new(&envelope)?;
/// assert_eq!(prepared.body(), envelope.to_vec().as_slice(), "exactly what is POSTed");
/// assert_eq!(prepared.reference_id(), &envelope.reference_id);
///
/// // What validation refuses is refused here, before any sending.
/// let late = Envelope { expiry_time: envelope.timestamp + chrono::Duration::hours(25), ..envelope };
/// let error = PreparedEnvelope::new(&late).unwrap_err();
/// assert_eq!(error.errors().next().unwrap().path, "expiryTime");
/// # Ok::<(), proactive_core::client::InvalidEnvelope>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedEnvelope {
    reference_id: ReferenceId,
    event: EventName,
    expiry_time: DateTime<Utc>,
    body: Bytes,
    warnings: Vec<Problem>,
    /// Where to write a new timestamp and expiry at each attempt, when re-stamped.
    restamp: Option<Restamp>,
}

/// Re-stamping at each attempt: the envelope's window and where its
/// `timestamp` and `expiryTime` values lie in the body.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Restamp {
    window: Duration,
    timestamp: Range<usize>,
    expiry: Range<usize>,
}

impl Restamp {
    /// The two values' places in `body`, as [`Envelope::to_vec`] writes it:
    /// `{"timestamp":"…","referenceId":"…","expiryTime":"…",…` (a referenceId
    /// holds no quote, so the first `"expiryTime":"` is the envelope's).
    fn find(body: &[u8], window: Duration) -> Option<Self> {
        const TIMESTAMP: &[u8] = br#"{"timestamp":""#;
        const EXPIRY: &[u8] = br#""expiryTime":""#;
        let value = |start: usize| {
            let length = body.get(start..)?.iter().position(|&b| b == b'"')?;
            Some(start..start + length)
        };
        let timestamp = value(TIMESTAMP.len()).filter(|_| body.starts_with(TIMESTAMP))?;
        let key = memchr::memmem::find(&body[timestamp.end..], EXPIRY)? + timestamp.end;
        let expiry = value(key + EXPIRY.len())?;
        Some(Self { window, timestamp, expiry })
    }

    /// `body` with `timestamp = now` (to the millisecond) and `expiryTime = now + window`.
    fn apply(&self, body: &[u8], now: DateTime<Utc>) -> Bytes {
        let now = now.trunc_subsecs(3);
        let timestamp = now.to_rfc3339_opts(SecondsFormat::Millis, true);
        let expiry = (now + self.window).to_rfc3339_opts(SecondsFormat::Millis, true);
        debug!(timestamp, expiry_time = expiry, "re-stamped");
        let mut out = Vec::with_capacity(body.len() + 8);
        out.extend_from_slice(&body[..self.timestamp.start]);
        out.extend_from_slice(timestamp.as_bytes());
        out.extend_from_slice(&body[self.timestamp.end..self.expiry.start]);
        out.extend_from_slice(expiry.as_bytes());
        out.extend_from_slice(&body[self.expiry.end..]);
        Bytes::from(out)
    }
}

impl PreparedEnvelope {
    /// Validates `envelope` ([`Envelope::validate`]: everything but the moment
    /// of sending) and serializes it. An envelope with errors, or whose body
    /// would be over [`MAX_BODY_BYTES`](crate::MAX_BODY_BYTES), is refused with
    /// every problem found.
    pub fn new(envelope: &Envelope) -> Result<Self, InvalidEnvelope> {
        let report = envelope.validate();
        Self::from_report(envelope, report)
    }

    /// Reads one envelope from JSON (a stored event), validates it and
    /// prepares it: [`Envelope::from_json`] and [`new`](Self::new) in one
    /// step, with one parse and one validation.
    ///
    /// JSON that reads into the envelope exactly as written (every field
    /// Amazon's and present, nothing misspelled, moved or `null`, no key
    /// twice, every date-time in RFC 3339 with its offset) is the body itself:
    /// those bytes say exactly what the envelope says, so they are sent as
    /// they are instead of being written again. Anything else is read as
    /// [`Envelope::from_json`] reads it, normalizing what the Decisions table
    /// allows, and the body is the envelope it read, serialized.
    ///
    /// ```
    /// use proactive_core::client::PreparedEnvelope;
    ///
    /// let stored = r#"{"timestamp":"2026-03-01T08:00:00+01:00","referenceId":"order-1234",
    ///     "expiryTime":"2026-03-01T20:00:00Z","event":{"name":"AMAZON.WeatherAlert.Activated",
    ///     "payload":{"weatherAlert":{"alertType":"TORNADO"}}},"localizedAttributes":[],
    ///     "relevantAudience":{"type":"Multicast","payload":{}}}"#;
    /// let prepared = PreparedEnvelope::from_json(stored)?;
    /// assert_eq!(prepared.reference_id().as_str(), "order-1234");
    /// assert_eq!(prepared.body(), stored.as_bytes(), "sent as stored");
    ///
    /// // Read leniently (a Multicast without its payload), the envelope is written anew.
    /// let lenient = stored.replace(r#""type":"Multicast","payload":{}"#, r#""type":"Multicast""#);
    /// let prepared = PreparedEnvelope::from_json(&lenient)?;
    /// assert!(std::str::from_utf8(prepared.body()).unwrap().contains(r#""type":"Multicast","payload":{}"#));
    ///
    /// // What validation refuses is refused, with every problem found.
    /// let error = PreparedEnvelope::from_json(&stored.replace("TORNADO", "TORNADOES")).unwrap_err();
    /// assert_eq!(error.errors().next().unwrap().path, "event.payload.weatherAlert.alertType");
    /// # Ok::<(), proactive_core::client::InvalidEnvelope>(())
    /// ```
    pub fn from_json(json: &str) -> Result<Self, InvalidEnvelope> {
        Self::from_bytes(Bytes::copy_from_slice(json.as_bytes()))
    }

    /// [`from_json`](Self::from_json) for bytes (a line of a file, an HTTP
    /// body); invalid UTF-8 is an error with its byte offset.
    pub fn from_slice(json: &[u8]) -> Result<Self, InvalidEnvelope> {
        Self::from_bytes(Bytes::copy_from_slice(json))
    }

    /// [`from_slice`](Self::from_slice) without a copy: bytes the caller
    /// already owns (a `Vec<u8>`, a `String`, [`Bytes`]) become the body when
    /// they are sent as written.
    pub fn from_bytes(json: impl Into<Bytes>) -> Result<Self, InvalidEnvelope> {
        let json: Bytes = json.into();
        let parsed = match crate::json::parse_exact(&json) {
            Some(Parsed { envelope: Some(envelope), report }) if json.len() <= crate::MAX_BODY_BYTES => {
                return Ok(Self {
                    reference_id: envelope.reference_id,
                    event: envelope.event.name(),
                    expiry_time: envelope.expiry_time,
                    body: json,
                    warnings: report.into_warnings(),
                    restamp: None,
                });
            }
            // Too long as written: written anew, it may fit.
            Some(parsed) => parsed,
            None => crate::json::parse_slice_untyped(&json),
        };
        match parsed {
            Parsed { envelope: Some(envelope), report } => Self::from_report(&envelope, report),
            Parsed { envelope: None, report } => Err(InvalidEnvelope::new(report)),
        }
    }

    /// The envelope, `report` (its validation so far), and its body; or the report when it holds an error.
    pub(super) fn from_report(envelope: &Envelope, mut report: Report) -> Result<Self, InvalidEnvelope> {
        let body = if report.has_errors() { Vec::new() } else { envelope.to_vec() };
        if report.has_errors() || !report.check_body_size(body.len()) {
            return Err(InvalidEnvelope::new(report));
        }
        Ok(Self {
            reference_id: envelope.reference_id.clone(),
            event: envelope.event.name(),
            expiry_time: envelope.expiry_time,
            body: Bytes::from(body),
            warnings: report.into_warnings(),
            restamp: None,
        })
    }

    /// A body already made from a validated envelope (a fan-out template with
    /// its user and referenceId put in).
    pub(crate) fn assembled(
        reference_id: ReferenceId,
        event: EventName,
        expiry_time: DateTime<Utc>,
        body: Bytes,
        warnings: Vec<Problem>,
    ) -> Self {
        Self { reference_id, event, expiry_time, body, warnings, restamp: None }
    }

    /// Prepares a stored envelope to be **re-stamped at each attempt**:
    /// before every POST, retries included, `timestamp` becomes the moment of
    /// that attempt and `expiryTime` that moment plus the envelope's own window,
    /// clamped to 6 min ..= 23 h, as [`Envelope::restamp_at`] does. So a retry
    /// that waited never arrives with an expiry Amazon finds too close. The
    /// referenceId never changes, so a retry of a delivered event still gets 409.
    ///
    /// The envelope is validated once re-stamped to now; only the two values
    /// are rewritten at each attempt, in a copy of the body.
    ///
    /// ```
    /// use chrono::{Duration, Utc};
    /// use proactive_core::client::PreparedEnvelope;
    /// # use proactive_core::schemas::WeatherAlertActivated;
    /// # use proactive_core::schemas::weather_alert_activated::{WeatherAlert, WeatherAlertType};
    /// # use proactive_core::{Audience, Envelope};
    /// # let alert = WeatherAlertActivated::builder()
    /// #     .weather_alert(WeatherAlert::builder().alert_type(WeatherAlertType::Tornado).build())
    /// #     .build();
    /// // Written a day ago with a 5-minute window: Amazon would refuse it as it is.
    /// let stored = Envelope::builder(alert, Audience::Multicast)
    ///     .timestamp(Utc::now() - Duration::days(1))
    ///     .expires_after(Duration::minutes(5))
    ///     .build();
    /// let prepared = PreparedEnvelope::restamped(&stored)?;
    /// assert!(prepared.is_restamped());
    /// let later = Utc::now() + Duration::seconds(30);
    /// let (sent, _) = Envelope::from_json(std::str::from_utf8(&prepared.body_at(later)).unwrap()).unwrap();
    /// assert_eq!(sent.expiry_time - sent.timestamp, Duration::minutes(6), "at least 6 minutes");
    /// assert!(sent.timestamp > Utc::now(), "stamped at the attempt");
    /// assert_eq!(sent.reference_id, stored.reference_id);
    /// # Ok::<(), proactive_core::client::InvalidEnvelope>(())
    /// ```
    pub fn restamped(envelope: &Envelope) -> Result<Self, InvalidEnvelope> {
        let mut envelope = envelope.clone();
        envelope.restamp();
        let mut prepared = Self::new(&envelope)?;
        prepared.restamp = Restamp::find(&prepared.body, envelope.expiry_time - envelope.timestamp);
        Ok(prepared)
    }

    /// This prepared envelope re-stamped at each attempt with `window` (a
    /// fan-out's body, made from a template validated once).
    pub(crate) fn restamp_each_attempt(mut self, window: Duration) -> Self {
        self.restamp = Restamp::find(&self.body, window);
        self
    }

    /// Whether it is re-stamped at each attempt ([`restamped`](Self::restamped)).
    pub fn is_restamped(&self) -> bool {
        self.restamp.is_some()
    }

    /// The body an attempt at `now` sends: [`body`](Self::body), or for a
    /// [`restamped`](Self::restamped) envelope the body with `timestamp = now`
    /// and `expiryTime = now +` its window.
    pub fn body_at(&self, now: DateTime<Utc>) -> Bytes {
        match &self.restamp {
            None => self.body.clone(),
            Some(restamp) => restamp.apply(&self.body, now),
        }
    }

    /// The envelope's `referenceId`.
    pub fn reference_id(&self) -> &ReferenceId {
        &self.reference_id
    }

    /// The event's schema.
    pub fn event(&self) -> EventName {
        self.event
    }

    /// The envelope's `expiryTime`: sending checks it against the now-window
    /// (for a [`restamped`](Self::restamped) envelope, the one it had when prepared).
    pub fn expiry_time(&self) -> DateTime<Utc> {
        self.expiry_time
    }

    /// The request body: the envelope as JSON, exactly as it is POSTed (a
    /// [`restamped`](Self::restamped) envelope gets a new timestamp and expiry
    /// at each attempt: [`body_at`](Self::body_at)).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The validation warnings: it may be sent, but something is probably not what was meant.
    pub fn warnings(&self) -> &[Problem] {
        &self.warnings
    }

    /// Why it may not be sent at `now` (an `expiryTime` past or outside the
    /// now-window then), with its warnings; `None` when it may.
    pub(super) fn refusal_at(&self, now: DateTime<Utc>) -> Option<InvalidEnvelope> {
        if self.restamp.is_some() {
            // Its window is made anew from the moment of each attempt.
            return None;
        }
        let mut report = Report::new();
        crate::validate::check_sending_time(self.expiry_time, now, &mut report);
        if !report.has_errors() {
            return None;
        }
        for warning in &self.warnings {
            report.warning(warning.rule, warning.path.clone(), warning.message.clone());
        }
        Some(InvalidEnvelope::new(report))
    }

    /// The body of the attempt starting now: the body, shared, or re-stamped.
    pub(super) fn attempt_body(&self) -> Bytes {
        match &self.restamp {
            None => self.body.clone(),
            Some(restamp) => restamp.apply(&self.body, Utc::now()),
        }
    }
}
