//! Every skill event Alexa sends a skill's events endpoint, read from one
//! entry point: subscriptions, enablement, permissions, account linking.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::request::{Common, Obj, RequestError, SubscriptionChangedRequest, describe, parse_json};
use crate::UserId;
use crate::manifest::NOTIFICATIONS_PERMISSION;

/// A skill event, as Alexa POSTs it to the manifest's `events.endpoint` (or
/// passes it to the skill's Lambda function).
///
/// ```
/// use proactive_core::subscription::SkillEvent;
///
/// let body = r#"{"version": "1.0",
///   "context": {"System": {"application": {"applicationId": "amzn1.ask.skill.1"},
///     "user": {"userId": "amzn1.ask.account.A"}, "apiEndpoint": "https://api.amazonalexa.com"}},
///   "request": {"type": "AlexaSkillEvent.SkillDisabled", "requestId": "r1",
///     "timestamp": "2024-05-01T12:00:00Z", "body": {"userInformationPersistenceStatus": "NOT_PERSISTED"}}}"#;
/// let event = SkillEvent::from_json(body)?;
/// assert!(matches!(event, SkillEvent::SkillDisabled(_)));
/// assert_eq!(event.user_id().as_str(), "amzn1.ask.account.A");
/// # Ok::<(), proactive_core::subscription::RequestError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkillEvent {
    /// `AlexaSkillEvent.ProactiveSubscriptionChanged`: the user's whole set of
    /// subscribed events (manifest name `SKILL_PROACTIVE_SUBSCRIPTION_CHANGED`).
    ProactiveSubscriptionChanged(SubscriptionChangedRequest),
    /// `AlexaSkillEvent.SkillEnabled` (manifest name `SKILL_ENABLED`).
    SkillEnabled(LifecycleEvent),
    /// `AlexaSkillEvent.SkillDisabled` (`SKILL_DISABLED`): the user id dies;
    /// enabling again gives a new one.
    SkillDisabled(LifecycleEvent),
    /// `AlexaSkillEvent.SkillPermissionAccepted` (`SKILL_PERMISSION_ACCEPTED`).
    SkillPermissionAccepted(PermissionEvent),
    /// `AlexaSkillEvent.SkillPermissionChanged` (`SKILL_PERMISSION_CHANGED`).
    SkillPermissionChanged(PermissionEvent),
    /// `AlexaSkillEvent.SkillAccountLinked` (`SKILL_ACCOUNT_LINKED`). The
    /// access token in its body is not kept.
    SkillAccountLinked(LifecycleEvent),
}

/// The facts every skill event carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LifecycleEvent {
    application_id: String,
    user_id: UserId,
    api_endpoint: String,
    request_id: String,
    timestamp: DateTime<Utc>,
}

/// A permission event: the facts, and the permissions the user now grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PermissionEvent {
    event: LifecycleEvent,
    accepted: BTreeSet<String>,
}

impl LifecycleEvent {
    /// `context.System.application.applicationId`.
    pub fn application_id(&self) -> &str {
        &self.application_id
    }

    /// `context.System.user.userId`.
    pub fn user_id(&self) -> &UserId {
        &self.user_id
    }

    /// `context.System.apiEndpoint`.
    pub fn api_endpoint(&self) -> &str {
        &self.api_endpoint
    }

    /// `request.requestId`.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// `request.timestamp`, in UTC.
    pub fn timestamp(&self) -> DateTime<Utc> {
        self.timestamp
    }
}

impl PermissionEvent {
    /// The facts every skill event carries.
    pub fn event(&self) -> &LifecycleEvent {
        &self.event
    }

    /// The scopes of `request.body.acceptedPermissions`.
    pub fn accepted(&self) -> &BTreeSet<String> {
        &self.accepted
    }

    /// Whether the user grants `alexa::devices:all:notifications:write`, without
    /// which no proactive event reaches them.
    pub fn grants_notifications(&self) -> bool {
        self.accepted.contains(NOTIFICATIONS_PERMISSION)
    }
}

impl SkillEvent {
    /// Reads a skill event from the JSON text Alexa POSTed.
    pub fn from_json(body: &str) -> Result<Self, RequestError> {
        Self::from_slice(body.as_bytes())
    }

    /// Reads a skill event from the body bytes Alexa POSTed (as an HTTP
    /// framework hands them over); [`from_json`](Self::from_json) reads text.
    pub fn from_slice(body: &[u8]) -> Result<Self, RequestError> {
        Self::from_value(&parse_json(body)?)
    }

    /// Reads a skill event from parsed JSON (a Lambda event).
    pub fn from_value(value: &Value) -> Result<Self, RequestError> {
        let request_type = Obj::root(value, "skill event")?.object("request")?.string("type")?.to_owned();
        let kind = match request_type.as_str() {
            super::REQUEST_TYPE => {
                return SubscriptionChangedRequest::from_value(value).map(Self::ProactiveSubscriptionChanged);
            }
            "AlexaSkillEvent.SkillEnabled" => "SkillEnabled",
            "AlexaSkillEvent.SkillDisabled" => "SkillDisabled",
            "AlexaSkillEvent.SkillPermissionAccepted" => "SkillPermissionAccepted",
            "AlexaSkillEvent.SkillPermissionChanged" => "SkillPermissionChanged",
            "AlexaSkillEvent.SkillAccountLinked" => "SkillAccountLinked",
            unknown if unknown.starts_with("AlexaSkillEvent.") => {
                return Err(RequestError::UnknownSkillEvent { found: clip(&request_type) });
            }
            _ => return Err(RequestError::NotASkillEvent { found: clip(&request_type) }),
        };
        let root = Obj::root(value, kind)?;
        let request = root.object("request")?;
        let Common { application_id, user_id, api_endpoint, request_id, timestamp, .. } =
            Common::parse(&root, &request)?;
        let event = LifecycleEvent { application_id, user_id, api_endpoint, request_id, timestamp };
        Ok(match kind {
            "SkillEnabled" => Self::SkillEnabled(event),
            "SkillDisabled" => Self::SkillDisabled(event),
            "SkillAccountLinked" => Self::SkillAccountLinked(event),
            "SkillPermissionAccepted" => {
                Self::SkillPermissionAccepted(PermissionEvent { event, accepted: scopes(&request)? })
            }
            _ => Self::SkillPermissionChanged(PermissionEvent { event, accepted: scopes(&request)? }),
        })
    }

    /// `request.type`, such as `AlexaSkillEvent.SkillDisabled`.
    pub fn request_type(&self) -> &'static str {
        match self {
            Self::ProactiveSubscriptionChanged(_) => super::REQUEST_TYPE,
            Self::SkillEnabled(_) => "AlexaSkillEvent.SkillEnabled",
            Self::SkillDisabled(_) => "AlexaSkillEvent.SkillDisabled",
            Self::SkillPermissionAccepted(_) => "AlexaSkillEvent.SkillPermissionAccepted",
            Self::SkillPermissionChanged(_) => "AlexaSkillEvent.SkillPermissionChanged",
            Self::SkillAccountLinked(_) => "AlexaSkillEvent.SkillAccountLinked",
        }
    }

    /// The user the event is about.
    pub fn user_id(&self) -> &UserId {
        match self {
            Self::ProactiveSubscriptionChanged(request) => request.user_id(),
            Self::SkillEnabled(event) | Self::SkillDisabled(event) | Self::SkillAccountLinked(event) => event.user_id(),
            Self::SkillPermissionAccepted(event) | Self::SkillPermissionChanged(event) => event.event.user_id(),
        }
    }

    /// `request.timestamp`, in UTC.
    pub fn timestamp(&self) -> DateTime<Utc> {
        match self {
            Self::ProactiveSubscriptionChanged(request) => request.timestamp(),
            Self::SkillEnabled(event) | Self::SkillDisabled(event) | Self::SkillAccountLinked(event) => {
                event.timestamp()
            }
            Self::SkillPermissionAccepted(event) | Self::SkillPermissionChanged(event) => event.event.timestamp(),
        }
    }

    /// `context.System.application.applicationId`: the skill the event is for.
    pub fn application_id(&self) -> &str {
        match self {
            Self::ProactiveSubscriptionChanged(request) => request.application_id(),
            Self::SkillEnabled(event) | Self::SkillDisabled(event) | Self::SkillAccountLinked(event) => {
                event.application_id()
            }
            Self::SkillPermissionAccepted(event) | Self::SkillPermissionChanged(event) => event.event.application_id(),
        }
    }
}

/// The scopes of `request.body.acceptedPermissions`; absent means none.
fn scopes(request: &Obj<'_>) -> Result<BTreeSet<String>, RequestError> {
    let Some(body) = request.optional_object("body")? else { return Ok(BTreeSet::new()) };
    let Some(entries) = body.get("acceptedPermissions") else { return Ok(BTreeSet::new()) };
    let path = body.path("acceptedPermissions");
    let Value::Array(entries) = entries else {
        return Err(RequestError::InvalidField {
            path,
            problem: format!("is {}; expected an array of `{{\"scope\": …}}` objects", describe(entries)),
        });
    };
    let mut scopes = BTreeSet::new();
    for (index, entry) in entries.iter().enumerate() {
        // A plain string would otherwise name no scope, and so withdraw every permission.
        if !entry.is_object() {
            return Err(RequestError::InvalidField {
                path: format!("{path}[{index}]"),
                problem: format!(
                    "is {}; expected an object such as `{{\"scope\": \"{NOTIFICATIONS_PERMISSION}\"}}`",
                    describe(entry)
                ),
            });
        }
        match entry.get("scope") {
            Some(Value::String(scope)) => {
                scopes.insert(scope.clone());
            }
            None | Some(Value::Null) => {}
            Some(other) => {
                return Err(RequestError::InvalidField {
                    path: format!("{path}[{index}].scope"),
                    problem: format!("is {}; expected a string", describe(other)),
                });
            }
        }
    }
    Ok(scopes)
}

/// A request type quoted in an error, at most 100 characters.
fn clip(text: &str) -> String {
    match text.char_indices().nth(100) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}
