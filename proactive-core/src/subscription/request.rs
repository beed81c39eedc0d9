//! The `AlexaSkillEvent.ProactiveSubscriptionChanged` request as Alexa POSTs it,
//! read leniently where Amazon is known to vary and strictly where it matters.

use std::collections::BTreeSet;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

use super::event::SubscribedEvent;
use super::store::UserSubscriptions;
use crate::{Region, UserId};

/// The `request.type` of a subscription change. (The skill manifest names the
/// same event `SKILL_PROACTIVE_SUBSCRIPTION_CHANGED`.)
pub const REQUEST_TYPE: &str = "AlexaSkillEvent.ProactiveSubscriptionChanged";

/// A user's subscriptions changed: the whole request envelope Alexa POSTs to the
/// skill's events endpoint.
///
/// ```json
/// {
///   "version": "1.0",
///   "context": {"System": {
///     "application": {"applicationId": "amzn1.ask.skill.…"},
///     "user": {"userId": "amzn1.ask.account.…"},
///     "apiEndpoint": "https://api.amazonalexa.com"
///   }},
///   "request": {
///     "type": "AlexaSkillEvent.ProactiveSubscriptionChanged",
///     "requestId": "amzn1.echo-api.request.…",
///     "timestamp": "2024-05-01T12:00:00Z",
///     "locale": "en-US",
///     "body": {"subscriptions": [{"eventName": "AMAZON.WeatherAlert.Activated"}]}
///   }
/// }
/// ```
///
/// What is accepted:
/// - `request.body`, `request.body.subscriptions` absent, `null` or `[]`: the
///   user is subscribed to nothing (Amazon's model makes `subscriptions`
///   optional, and real handlers have seen the body missing);
/// - an entry without `eventName` (Amazon's model makes it optional) names no
///   event and is skipped; repeated names count once;
/// - an event name outside the 8 schemas is kept (see [`SubscribedEvent`]);
/// - `request.timestamp` as ISO 8601 / RFC 3339 (without an offset it is read
///   as UTC), or as epoch milliseconds (a number or a string of digits), as the
///   developer console has been seen to send;
/// - unknown fields anywhere (`eventCreationTime`, `apiAccessToken`, `person`,
///   ...) are ignored; the `apiAccessToken` is not kept.
///
/// Everything the tracker needs is required: `version`,
/// `context.System.application.applicationId`, `context.System.user.userId`,
/// `context.System.apiEndpoint`, `request.type`, `request.requestId` and
/// `request.timestamp`. A missing or mistyped one is a [`RequestError`] that
/// names its path.
///
/// ```
/// use proactive_core::Region;
/// use proactive_core::subscription::SubscriptionChangedRequest;
///
/// let body = r#"{
///   "version": "1.0",
///   "context": {"System": {
///     "application": {"applicationId": "amzn1.ask.skill.0f4e2b3c-1111-2222-3333-444455556666"},
///     "user": {"userId": "amzn1.ask.account.AGF7EXAMPLEUSERID"},
///     "apiEndpoint": "https://api.fe.amazonalexa.com"
///   }},
///   "request": {
///     "type": "AlexaSkillEvent.ProactiveSubscriptionChanged",
///     "requestId": "amzn1.echo-api.request.1",
///     "timestamp": "2026-03-01T12:00:00Z"
///   }
/// }"#;
/// // No `body`: the user unsubscribed from everything.
/// let request = SubscriptionChangedRequest::from_json(body)?;
/// assert!(request.subscriptions().is_empty());
/// assert_eq!(request.region(), Some(Region::FarEast));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionChangedRequest {
    version: String,
    application_id: String,
    user_id: UserId,
    api_endpoint: String,
    request_id: String,
    timestamp: DateTime<Utc>,
    locale: Option<String>,
    subscriptions: BTreeSet<SubscribedEvent>,
}

/// Why a body is not a `ProactiveSubscriptionChanged` request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The body is not JSON at all.
    #[error(
        "the request body is not JSON (line {line}, column {column}): {reason}; pass the body Alexa sent, unchanged"
    )]
    NotJson {
        /// The line of the syntax error, from 1.
        line: usize,
        /// The column of the syntax error, from 1.
        column: usize,
        /// What the JSON parser expected.
        reason: String,
    },
    /// The body is JSON of another request type (`LaunchRequest`,
    /// `AlexaSkillEvent.SkillEnabled`, ...).
    #[error(
        "the request is `{found}`, not `AlexaSkillEvent.ProactiveSubscriptionChanged`; route other request types to their own handler"
    )]
    WrongRequestType {
        /// The `request.type` that was found.
        found: String,
    },
    /// A required field is missing (or `null`).
    #[error("`{path}` is missing; every {request} request from Alexa has it")]
    MissingField {
        /// The JSON path of the field, such as `context.System.user.userId`.
        path: String,
        /// The kind of request read, such as `ProactiveSubscriptionChanged`.
        request: &'static str,
    },
    /// The body is an Alexa request, but not a skill event (a `LaunchRequest`,
    /// an `IntentRequest`, ...). An `AlexaSkillEvent.*` of a type
    /// [`SkillEvent`](super::SkillEvent) does not know is
    /// [`UnknownSkillEvent`](Self::UnknownSkillEvent).
    #[error(
        "the request is `{found}`, not an `AlexaSkillEvent.*` skill event; route other request types to the skill's handler"
    )]
    NotASkillEvent {
        /// The `request.type` that was found.
        found: String,
    },
    /// The body is a skill event (`AlexaSkillEvent.*`) of a type that
    /// [`SkillEvent`](super::SkillEvent) does not know.
    #[error(
        "the request is `{found}`, a skill event type this library does not know; it knows \
         `AlexaSkillEvent.ProactiveSubscriptionChanged`, `AlexaSkillEvent.SkillEnabled`, \
         `AlexaSkillEvent.SkillDisabled`, `AlexaSkillEvent.SkillPermissionAccepted`, \
         `AlexaSkillEvent.SkillPermissionChanged` and `AlexaSkillEvent.SkillAccountLinked`; handle it before \
         `SkillEvent`, or remove it from the manifest's `events.subscriptions`"
    )]
    UnknownSkillEvent {
        /// The `request.type` that was found, at most 100 characters.
        found: String,
    },
    /// A field has the wrong type or an unusable value.
    #[error("`{path}` {problem}")]
    InvalidField {
        /// The JSON path of the field, such as `request.body.subscriptions[2]`.
        path: String,
        /// What is wrong and what was expected.
        problem: String,
    },
    /// The request is for another skill (see
    /// [`SubscriptionChangedRequest::ensure_application`]).
    #[error(
        "the request is for skill `{found}`, not `{expected}`; check the skill id, or that the endpoint is not shared with another skill"
    )]
    WrongApplication {
        /// The skill id this endpoint serves.
        expected: String,
        /// `context.System.application.applicationId` of the request.
        found: String,
    },
}

impl SubscriptionChangedRequest {
    /// Reads the request from the body bytes Alexa POSTed.
    ///
    /// ```
    /// use proactive_core::subscription::SubscriptionChangedRequest;
    ///
    /// let body = r#"{
    ///   "version": "1.0",
    ///   "context": {"System": {
    ///     "application": {"applicationId": "amzn1.ask.skill.0f4e2b3c-1111-2222-3333-444455556666"},
    ///     "user": {"userId": "amzn1.ask.account.AGF7EXAMPLEUSERID"},
    ///     "apiEndpoint": "https://api.eu.amazonalexa.com"
    ///   }},
    ///   "request": {
    ///     "type": "AlexaSkillEvent.ProactiveSubscriptionChanged",
    ///     "requestId": "amzn1.echo-api.request.6c1f0a8e-7777-8888-9999-000011112222",
    ///     "timestamp": "2026-03-01T12:00:00Z",
    ///     "body": {"subscriptions": [{"eventName": "AMAZON.WeatherAlert.Activated"}]}
    ///   }
    /// }"#;
    /// let request = SubscriptionChangedRequest::from_json(body)?;
    /// assert_eq!(request.subscriptions().len(), 1);
    ///
    /// // A body that is not such a request is an error naming what is wrong.
    /// let error = SubscriptionChangedRequest::from_json(r#"{"version": "1.0"}"#).unwrap_err();
    /// assert!(!error.to_string().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_json(body: &str) -> Result<Self, RequestError> {
        Self::from_slice(body.as_bytes())
    }

    /// Reads the request from the body bytes Alexa POSTed (as an HTTP
    /// framework hands them over); [`from_json`](Self::from_json) reads text.
    pub fn from_slice(body: &[u8]) -> Result<Self, RequestError> {
        Self::from_value(&parse_json(body)?)
    }

    /// Reads the request from an already parsed JSON value (for example from
    /// a Lambda runtime that hands over `serde_json::Value`).
    pub fn from_value(value: &Value) -> Result<Self, RequestError> {
        let root = Obj::root(value, "ProactiveSubscriptionChanged")?;
        let request = root.object("request")?;
        // The type first: a request of another type is reported as such, not as
        // whatever field it happens to lack.
        let request_type = request.string("type")?;
        if request_type != REQUEST_TYPE {
            return Err(RequestError::WrongRequestType { found: request_type.to_owned() });
        }
        let common = Common::parse(&root, &request)?;
        let subscriptions = parse_subscriptions(&request)?;
        let Common { version, application_id, user_id, api_endpoint, request_id, timestamp, locale } = common;
        Ok(Self { version, application_id, user_id, api_endpoint, request_id, timestamp, locale, subscriptions })
    }

    /// The envelope's `version`, `1.0` today.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// `context.System.application.applicationId`: the skill the request is for.
    pub fn application_id(&self) -> &str {
        &self.application_id
    }

    /// Checks that the request is for the skill `skill_id`
    /// (`amzn1.ask.skill.…`). Amazon asks skills hosted as web services to
    /// check this, so that a request meant for another skill is refused.
    pub fn ensure_application(&self, skill_id: &str) -> Result<(), RequestError> {
        if self.application_id == skill_id {
            Ok(())
        } else {
            Err(RequestError::WrongApplication { expected: skill_id.to_owned(), found: self.application_id.clone() })
        }
    }

    /// `context.System.user.userId`: who changed their subscriptions. This is
    /// the id a Unicast event is sent to.
    pub fn user_id(&self) -> &UserId {
        &self.user_id
    }

    /// `context.System.apiEndpoint`: the Alexa API host serving the user, such
    /// as `https://api.eu.amazonalexa.com`.
    pub fn api_endpoint(&self) -> &str {
        &self.api_endpoint
    }

    /// The region to send the user's events to, from [`api_endpoint`](Self::api_endpoint);
    /// `None` when the endpoint is not one of Amazon's three hosts (a test tool).
    pub fn region(&self) -> Option<Region> {
        Region::from_api_endpoint(&self.api_endpoint)
    }

    /// `request.requestId`.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// `request.timestamp`, in UTC: when the subscriptions changed. Requests can
    /// arrive out of order; this orders them.
    pub fn timestamp(&self) -> DateTime<Utc> {
        self.timestamp
    }

    /// `request.locale`, when Alexa sent one (such as `en-US`), as written.
    pub fn locale(&self) -> Option<&str> {
        self.locale.as_deref()
    }

    /// Every event the user is now subscribed to: the whole set, not a change.
    /// Empty when the user unsubscribed from everything.
    pub fn subscriptions(&self) -> &BTreeSet<SubscribedEvent> {
        &self.subscriptions
    }

    /// The state a [`SubscriptionStore`](super::SubscriptionStore) keeps for
    /// the user after this request.
    pub fn to_user_subscriptions(&self) -> UserSubscriptions {
        UserSubscriptions {
            user_id: self.user_id.clone(),
            events: self.subscriptions.clone(),
            timestamp: self.timestamp,
            request_id: self.request_id.clone(),
            api_endpoint: self.api_endpoint.clone(),
        }
    }
}

impl FromStr for SubscriptionChangedRequest {
    type Err = RequestError;

    fn from_str(body: &str) -> Result<Self, Self::Err> {
        Self::from_json(body)
    }
}

impl<'de> serde::Deserialize<'de> for SubscriptionChangedRequest {
    /// Reads the request with the same rules and messages as
    /// [`from_value`](Self::from_value), for frameworks that hand over typed events.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        Self::from_value(&value).map_err(serde::de::Error::custom)
    }
}

/// What every skill event's envelope carries.
pub(super) struct Common {
    pub(super) version: String,
    pub(super) application_id: String,
    pub(super) user_id: UserId,
    pub(super) api_endpoint: String,
    pub(super) request_id: String,
    pub(super) timestamp: DateTime<Utc>,
    pub(super) locale: Option<String>,
}

impl Common {
    pub(super) fn parse(root: &Obj<'_>, request: &Obj<'_>) -> Result<Self, RequestError> {
        let version = root.string("version")?.to_owned();
        let system = root.object("context")?.object("System")?;
        let application_id = system.object("application")?.string("applicationId")?.to_owned();
        let user = system.object("user")?;
        let user_id_text = user.string("userId")?;
        let user_id = UserId::new(user_id_text)
            .map_err(|error| user.invalid("userId", format!("is not a valid user id: {error}")))?;
        let api_endpoint = system.string("apiEndpoint")?.to_owned();
        let request_id = request.string("requestId")?.to_owned();
        let timestamp = parse_timestamp(request, "timestamp")?;
        let locale = request.optional_string("locale")?.map(str::to_owned);
        Ok(Self { version, application_id, user_id, api_endpoint, request_id, timestamp, locale })
    }
}

/// The JSON of a request body, or the error that says where it is not JSON.
pub(super) fn parse_json(body: &[u8]) -> Result<Value, RequestError> {
    serde_json::from_slice(body).map_err(|error| RequestError::NotJson {
        line: error.line(),
        column: error.column(),
        reason: syntax_reason(&error),
    })
}

/// The parser's reason without its " at line L column C" suffix, which the
/// error repeats in its own words.
fn syntax_reason(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_owned()
}

/// The `subscriptions` of `request.body`; absent, `null` and `[]` are all empty.
fn parse_subscriptions(request: &Obj<'_>) -> Result<BTreeSet<SubscribedEvent>, RequestError> {
    let Some(body) = request.optional_object("body")? else {
        return Ok(BTreeSet::new());
    };
    let Some(entries) = body.get("subscriptions") else {
        return Ok(BTreeSet::new());
    };
    let path = body.path("subscriptions");
    let Value::Array(entries) = entries else {
        return Err(RequestError::InvalidField {
            path,
            problem: format!("is {}; expected an array of `{{\"eventName\": …}}` objects", describe(entries)),
        });
    };
    let mut subscriptions = BTreeSet::new();
    for (index, entry) in entries.iter().enumerate() {
        let entry_path = format!("{path}[{index}]");
        let Value::Object(fields) = entry else {
            return Err(RequestError::InvalidField {
                path: entry_path,
                problem: format!(
                    "is {}; expected an object such as `{{\"eventName\": \"AMAZON.…\"}}`",
                    describe(entry)
                ),
            });
        };
        let entry = Obj { fields, path: entry_path, request: body.request };
        // Amazon's model makes `eventName` optional: an entry without one
        // names no event, so it adds nothing.
        if let Some(name) = entry.optional_string("eventName")?
            && !name.is_empty()
        {
            subscriptions.insert(SubscribedEvent::new(name));
        }
    }
    Ok(subscriptions)
}

/// `request.timestamp`: RFC 3339, ISO 8601 without an offset (read as UTC), or
/// epoch milliseconds as a number or a string of digits.
fn parse_timestamp(request: &Obj<'_>, key: &str) -> Result<DateTime<Utc>, RequestError> {
    let value = request.required(key)?;
    let invalid = |problem: String| RequestError::InvalidField { path: request.path(key), problem };
    let from_millis = |millis: i64| {
        DateTime::from_timestamp_millis(millis)
            .ok_or_else(|| invalid(format!("is {millis} epoch milliseconds, outside the dates chrono can represent")))
    };
    match value {
        Value::String(text) => {
            let text = text.trim();
            if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
                let millis = text
                    .parse::<i64>()
                    .map_err(|_| invalid(format!("is `{text}`, too large for epoch milliseconds")))?;
                return from_millis(millis);
            }
            if let Ok(time) = DateTime::parse_from_rfc3339(text) {
                return Ok(time.to_utc());
            }
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").map(|naive| naive.and_utc()).map_err(|_| {
                invalid(format!(
                    "is `{text}`; expected ISO 8601 such as `2024-05-01T12:00:00Z`, or epoch milliseconds such as `1714564800000`"
                ))
            })
        }
        Value::Number(number) => match (number.as_i64(), number.as_f64()) {
            (Some(millis), _) => from_millis(millis),
            // A whole number past what epoch milliseconds can be (`u64`, or `1e20`).
            (None, Some(float)) if float.fract() == 0.0 => Err(invalid(format!(
                "is {number}, out of range for epoch milliseconds (a signed 64-bit number); expected a time such as \
                 `1714564800000`"
            ))),
            _ => {
                Err(invalid(format!("is {number}; epoch milliseconds must be a whole number such as `1714564800000`")))
            }
        },
        other => Err(invalid(format!(
            "is {}; expected an ISO 8601 string or a number of epoch milliseconds",
            describe(other)
        ))),
    }
}

/// A JSON object and its path from the root, for messages that say where.
pub(super) struct Obj<'a> {
    fields: &'a serde_json::Map<String, Value>,
    path: String,
    /// The kind of request read, for "missing" messages.
    request: &'static str,
}

impl<'a> Obj<'a> {
    pub(super) fn root(value: &'a Value, request: &'static str) -> Result<Self, RequestError> {
        match value {
            Value::Object(fields) => Ok(Self { fields, path: String::new(), request }),
            other => Err(RequestError::InvalidField {
                path: "$".to_owned(),
                problem: format!("is {}; expected the Alexa request envelope, a JSON object", describe(other)),
            }),
        }
    }

    pub(super) fn path(&self, key: &str) -> String {
        if self.path.is_empty() { key.to_owned() } else { format!("{}.{key}", self.path) }
    }

    pub(super) fn invalid(&self, key: &str, problem: String) -> RequestError {
        RequestError::InvalidField { path: self.path(key), problem }
    }

    /// The value at `key`; `null` counts as absent.
    pub(super) fn get(&self, key: &str) -> Option<&'a Value> {
        self.fields.get(key).filter(|value| !value.is_null())
    }

    pub(super) fn required(&self, key: &str) -> Result<&'a Value, RequestError> {
        self.get(key).ok_or_else(|| RequestError::MissingField { path: self.path(key), request: self.request })
    }

    pub(super) fn object(&self, key: &str) -> Result<Obj<'a>, RequestError> {
        let value = self.required(key)?;
        self.as_object(key, value)
    }

    pub(super) fn optional_object(&self, key: &str) -> Result<Option<Obj<'a>>, RequestError> {
        self.get(key).map(|value| self.as_object(key, value)).transpose()
    }

    pub(super) fn as_object(&self, key: &str, value: &'a Value) -> Result<Obj<'a>, RequestError> {
        match value {
            Value::Object(fields) => Ok(Obj { fields, path: self.path(key), request: self.request }),
            other => Err(self.invalid(key, format!("is {}; expected an object", describe(other)))),
        }
    }

    pub(super) fn string(&self, key: &str) -> Result<&'a str, RequestError> {
        let value = self.required(key)?;
        self.as_str(key, value)
    }

    pub(super) fn optional_string(&self, key: &str) -> Result<Option<&'a str>, RequestError> {
        self.get(key).map(|value| self.as_str(key, value)).transpose()
    }

    pub(super) fn as_str(&self, key: &str, value: &'a Value) -> Result<&'a str, RequestError> {
        match value {
            Value::String(text) => Ok(text),
            other => Err(self.invalid(key, format!("is {}; expected a string", describe(other)))),
        }
    }
}

/// A short description of a JSON value for messages: `a number (5)`, `an array`.
pub(super) fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("a boolean ({b})"),
        Value::Number(n) => format!("a number ({n})"),
        Value::String(s) if s.chars().count() <= 40 => format!("a string ({s:?})"),
        Value::String(_) => "a string".to_owned(),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(body: Value) -> Value {
        json!({
            "version": "1.0",
            "context": {"System": {
                "application": {"applicationId": "amzn1.ask.skill.test"},
                "user": {"userId": "amzn1.ask.account.TEST"},
                "apiEndpoint": "https://api.amazonalexa.com"
            }},
            "request": {
                "type": REQUEST_TYPE,
                "requestId": "amzn1.echo-api.request.1",
                "timestamp": "2024-05-01T12:00:00Z",
                "body": body
            }
        })
    }

    #[test]
    fn timestamps_in_every_accepted_form_agree() {
        let expected: DateTime<Utc> = "2024-05-01T12:00:00Z".parse().unwrap();
        for form in [
            json!("2024-05-01T12:00:00Z"),
            json!("2024-05-01T14:00:00+02:00"),
            json!("2024-05-01T12:00:00"),
            json!("2024-05-01T12:00:00.000Z"),
            json!(1_714_564_800_000_i64),
            json!("1714564800000"),
        ] {
            let mut value = request(json!({}));
            value["request"]["timestamp"] = form.clone();
            let parsed = SubscriptionChangedRequest::from_value(&value).unwrap_or_else(|e| panic!("{form}: {e}"));
            assert_eq!(parsed.timestamp(), expected, "{form}");
        }
    }

    #[test]
    fn bad_timestamps_say_what_is_accepted() {
        for (form, needle) in [
            (json!("yesterday"), "is `yesterday`; expected ISO 8601"),
            (json!(1.5), "must be a whole number"),
            (json!(true), "is a boolean (true); expected an ISO 8601 string"),
            (json!("99999999999999999999"), "too large for epoch milliseconds"),
            (json!(i64::MAX), "outside the dates chrono can represent"),
            (json!(u64::MAX), "is 18446744073709551615, out of range for epoch milliseconds (a signed 64-bit number)"),
            (json!(1e20), "out of range for epoch milliseconds"),
        ] {
            let mut value = request(json!({}));
            value["request"]["timestamp"] = form.clone();
            let error = SubscriptionChangedRequest::from_value(&value).unwrap_err().to_string();
            assert!(error.starts_with("`request.timestamp` "), "{error}");
            assert!(error.contains(needle), "{form}: {error}");
        }
    }

    #[test]
    fn entries_without_an_event_name_add_nothing_and_repeats_count_once() {
        let value = request(json!({"subscriptions": [
            {"eventName": "AMAZON.WeatherAlert.Activated"},
            {},
            {"eventName": null},
            {"eventName": ""},
            {"eventName": "AMAZON.WeatherAlert.Activated"}
        ]}));
        let parsed = SubscriptionChangedRequest::from_value(&value).unwrap();
        let names: Vec<_> = parsed.subscriptions().iter().map(SubscribedEvent::as_str).collect();
        assert_eq!(names, ["AMAZON.WeatherAlert.Activated"]);
    }

    #[test]
    fn a_non_object_body_is_not_json_of_an_envelope() {
        let error = SubscriptionChangedRequest::from_json("[1, 2]").unwrap_err().to_string();
        assert_eq!(error, "`$` is an array; expected the Alexa request envelope, a JSON object");
        let error = SubscriptionChangedRequest::from_slice(b"{\"version\": ").unwrap_err();
        assert!(matches!(error, RequestError::NotJson { line: 1, .. }), "{error:?}");
        assert!(!error.to_string().contains("at line 1 column"), "{error}");
    }
}
