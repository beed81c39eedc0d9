//! The checks that need no certificate: `request.timestamp` against now and the
//! application id against the skill's. A Lambda trigger gets only these.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde_json::Value;

use crate::error::{VerifyError, clip};

/// Tolerance for the age of `request.timestamp`: 150 seconds.
pub const TOLERANCE: Duration = Duration::seconds(150);
/// Tolerance for every `AlexaSkillEvent.*` request, `ProactiveSubscriptionChanged`
/// included: one hour (Alexa may deliver skill events late).
pub const SKILL_EVENT_TOLERANCE: Duration = Duration::hours(1);
/// How far in the future a timestamp may be, whatever the request type: clock
/// skew only. A request from further ahead is refused, since a forged
/// far-future timestamp would otherwise freeze a user's subscriptions (newest
/// wins) against every later genuine request.
pub const MAX_FUTURE: Duration = Duration::seconds(60);

type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Which skills an endpoint serves, and how far a request's timestamp may be
/// from now. The checks of a [`Verifier`](crate::Verifier) that need no
/// certificate, and the whole check for a skill on AWS Lambda, where Alexa
/// invokes the function directly and no signature exists.
///
/// ```
/// use proactive_verify::RequestPolicy;
///
/// let policy = RequestPolicy::new(["amzn1.ask.skill.1234"]);
/// let event = serde_json::json!({
///     "version": "1.0",
///     "context": {"System": {"application": {"applicationId": "amzn1.ask.skill.1234"}}},
///     "request": {"type": "AlexaSkillEvent.SkillDisabled", "timestamp": chrono::Utc::now().to_rfc3339()}
/// });
/// let checked = policy.check_value(&event)?;
/// assert_eq!(checked.request_type(), "AlexaSkillEvent.SkillDisabled");
/// # Ok::<(), proactive_verify::VerifyError>(())
/// ```
#[derive(Clone)]
pub struct RequestPolicy {
    application_ids: BTreeSet<String>,
    tolerance: Duration,
    skill_event_tolerance: Duration,
    max_future: Duration,
    clock: Clock,
}

impl fmt::Debug for RequestPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestPolicy")
            .field("application_ids", &self.application_ids)
            .field("tolerance", &self.tolerance)
            .field("skill_event_tolerance", &self.skill_event_tolerance)
            .field("max_future", &self.max_future)
            .finish_non_exhaustive()
    }
}

/// What the checks read from a request that passed them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    request_type: String,
    timestamp: DateTime<Utc>,
    application_id: String,
}

impl Checked {
    /// `request.type`, such as `AlexaSkillEvent.ProactiveSubscriptionChanged`.
    pub fn request_type(&self) -> &str {
        &self.request_type
    }

    /// `request.timestamp`.
    pub fn timestamp(&self) -> DateTime<Utc> {
        self.timestamp
    }

    /// The application id, one of the policy's.
    pub fn application_id(&self) -> &str {
        &self.application_id
    }
}

impl RequestPolicy {
    /// A policy for the skills `application_ids` (`amzn1.ask.skill.…`), with
    /// Amazon's tolerances and the system clock.
    pub fn new<I, S>(application_ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            application_ids: application_ids.into_iter().map(Into::into).collect(),
            tolerance: TOLERANCE,
            skill_event_tolerance: SKILL_EVENT_TOLERANCE,
            max_future: MAX_FUTURE,
            clock: Arc::new(Utc::now),
        }
    }

    /// Replaces the clock, for tests that move time.
    pub fn with_clock(mut self, clock: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Now, by the policy's clock.
    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// The skill ids this policy accepts.
    pub fn application_ids(&self) -> impl Iterator<Item = &str> {
        self.application_ids.iter().map(String::as_str)
    }

    /// How old a request of type `request_type` may be.
    pub fn tolerance_for(&self, request_type: &str) -> Duration {
        if request_type.starts_with("AlexaSkillEvent.") { self.skill_event_tolerance } else { self.tolerance }
    }

    /// Checks the body bytes of a request (a Lambda event or an HTTPS body).
    pub fn check(&self, body: &[u8]) -> Result<Checked, VerifyError> {
        let value: Value = serde_json::from_slice(body).map_err(|error| {
            VerifyError::body(format!("not JSON (line {}, column {})", error.line(), error.column()))
        })?;
        self.check_value(&value)
    }

    /// Checks an already parsed request, as a Lambda runtime hands it over.
    pub fn check_value(&self, request: &Value) -> Result<Checked, VerifyError> {
        let request_type = string_at(request, "/request/type", "request.type")?;
        let timestamp = timestamp_at(request)?;
        let now = self.now();
        let age = now - timestamp;
        let (tolerance, in_the_future) = if age < Duration::zero() {
            (self.max_future.min(self.tolerance_for(request_type)), true)
        } else {
            (self.tolerance_for(request_type), false)
        };
        if age.abs() > tolerance {
            return Err(VerifyError::Timestamp {
                timestamp,
                now,
                tolerance_secs: tolerance.num_seconds(),
                in_the_future,
                request_type: clip(request_type, 100),
            });
        }
        let application_id = application_id(request)?;
        if !self.application_ids.contains(application_id) {
            return Err(VerifyError::WrongApplication { found: clip(application_id, 100) });
        }
        Ok(Checked { request_type: request_type.to_owned(), timestamp, application_id: application_id.to_owned() })
    }
}

fn string_at<'a>(value: &'a Value, pointer: &str, path: &str) -> Result<&'a str, VerifyError> {
    match value.pointer(pointer) {
        Some(Value::String(text)) => Ok(text),
        None | Some(Value::Null) => Err(VerifyError::body(format!("`{path}` is missing"))),
        Some(_) => Err(VerifyError::body(format!("`{path}` is not a string"))),
    }
}

/// `context.System.application.applicationId`, or the older
/// `session.application.applicationId`.
fn application_id(request: &Value) -> Result<&str, VerifyError> {
    string_at(request, "/context/System/application/applicationId", "context.System.application.applicationId")
        .or_else(|_| string_at(request, "/session/application/applicationId", "session.application.applicationId"))
        .map_err(|_| VerifyError::body("`context.System.application.applicationId` is missing"))
}

/// `request.timestamp`: RFC 3339, ISO 8601 without an offset (UTC), or epoch
/// milliseconds as a number or a string of digits, as Alexa has been seen to send.
fn timestamp_at(request: &Value) -> Result<DateTime<Utc>, VerifyError> {
    let invalid = || VerifyError::body("`request.timestamp` is not an ISO 8601 date-time or epoch milliseconds");
    let millis = |millis: i64| DateTime::from_timestamp_millis(millis).ok_or_else(invalid);
    match request.pointer("/request/timestamp") {
        None | Some(Value::Null) => Err(VerifyError::body("`request.timestamp` is missing")),
        Some(Value::Number(number)) => millis(number.as_i64().ok_or_else(invalid)?),
        Some(Value::String(text)) => {
            let text = text.trim();
            if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
                return millis(text.parse().map_err(|_| invalid())?);
            }
            DateTime::parse_from_rfc3339(text).map(|t| t.to_utc()).or_else(|_| {
                NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").map(|t| t.and_utc()).map_err(|_| invalid())
            })
        }
        Some(_) => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(now: &str) -> RequestPolicy {
        let now: DateTime<Utc> = now.parse().unwrap();
        RequestPolicy::new(["skill"]).with_clock(move || now)
    }

    fn request(kind: &str, timestamp: Value) -> Value {
        json!({
            "context": {"System": {"application": {"applicationId": "skill"}}},
            "request": {"type": kind, "timestamp": timestamp}
        })
    }

    #[test]
    fn every_timestamp_form_is_read() {
        let policy = at("2024-05-01T12:00:00Z");
        for form in [
            json!("2024-05-01T12:00:00Z"),
            json!("2024-05-01T12:00:00"),
            json!(1_714_564_800_000_i64),
            json!("1714564800000"),
        ] {
            assert!(policy.check_value(&request("IntentRequest", form.clone())).is_ok(), "{form}");
        }
        for form in [json!("soon"), json!(true), json!(1.5)] {
            let error = policy.check_value(&request("IntentRequest", form.clone())).unwrap_err();
            assert!(matches!(error, VerifyError::Body { .. }), "{form}: {error}");
        }
    }

    #[test]
    fn the_session_application_id_counts_and_others_do_not() {
        let policy = at("2024-05-01T12:00:00Z");
        let old_style = json!({
            "session": {"application": {"applicationId": "skill"}},
            "request": {"type": "LaunchRequest", "timestamp": "2024-05-01T12:00:00Z"}
        });
        assert_eq!(policy.check_value(&old_style).unwrap().application_id(), "skill");
        let mut other = request("LaunchRequest", json!("2024-05-01T12:00:00Z"));
        other["context"]["System"]["application"]["applicationId"] = json!("x".repeat(500));
        let error = policy.check_value(&other).unwrap_err();
        assert!(
            matches!(error, VerifyError::WrongApplication { ref found } if found.chars().count() == 101),
            "{error}"
        );
    }
}
