//! Scripted answers: the refusals Amazon gives real users (not subscribed, skill
//! not enabled, a refused token, ...), answered for chosen users so that the
//! path from Amazon's words to what the sender does can be tested end to end.

use hyper::StatusCode;
use serde_json::{Value, json};

/// What the sandbox answers for every event sent to one Unicast user, once the
/// event is valid; set with [`SandboxConfig::answer_for`](crate::SandboxConfig::answer_for).
///
/// The bodies are Amazon's, in the shape seen for each: `{"type", "message"}`
/// for the 403s real senders report, `{"code", "message"}` (Amazon's SDK model)
/// for the rest.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScriptedAnswer {
    /// 403 "Could not find any subscriptions for stage=…, skillId=…, topicId=EVENT".
    NotSubscribed,
    /// 403 "No enablement for clientId: …, userId: …".
    NoEnablement,
    /// 403 "The authentication token is invalid or doesn't have authentication to access the resource".
    InvalidToken,
    /// 400 `INVALID_REQUEST` with this message.
    InvalidRequest(String),
    /// 429 with `Retry-After: 1`.
    RateLimited,
    /// 500.
    ServerError,
    /// 409, as for a referenceId already accepted.
    Duplicate,
    /// Any status and body.
    Custom {
        /// The HTTP status.
        status: u16,
        /// The JSON body.
        body: Value,
    },
}

/// The skill id the sandbox's messages name.
const SKILL_ID: &str = "amzn1.ask.skill.sandbox";

impl ScriptedAnswer {
    /// The status, body and `Retry-After` for an event named `event`, for `user`,
    /// sent to `stage` (`development` or `live`) with `client_id`'s token.
    pub(crate) fn render(
        &self,
        event: &str,
        user: &str,
        stage: &str,
        client_id: &str,
    ) -> (StatusCode, Value, Option<u32>) {
        let status = |code: u16| StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        match self {
            Self::NotSubscribed => (
                StatusCode::FORBIDDEN,
                json!({"type": "FORBIDDEN", "message": format!(
                    "Could not find any subscriptions for stage={stage}, skillId={SKILL_ID}, topicId={event}"
                )}),
                None,
            ),
            Self::NoEnablement => (
                StatusCode::FORBIDDEN,
                json!({"type": "FORBIDDEN", "message": format!("No enablement for clientId: {client_id}, userId: {user}")}),
                None,
            ),
            Self::InvalidToken => (
                StatusCode::FORBIDDEN,
                json!({"code": 403, "message": "The authentication token is invalid or doesn't have authentication to access the resource"}),
                None,
            ),
            Self::InvalidRequest(message) => {
                (StatusCode::BAD_REQUEST, json!({"code": "INVALID_REQUEST", "message": message}), None)
            }
            Self::RateLimited => (
                StatusCode::TOO_MANY_REQUESTS,
                json!({"code": 429, "message": "The client has made more calls than the allowed limit"}),
                Some(1),
            ),
            Self::ServerError => (
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"code": 500, "message": "The ProactiveEvents service encounters an internal error for a valid request"}),
                None,
            ),
            Self::Duplicate => (
                StatusCode::CONFLICT,
                json!({"code": 409, "message": "A skill attempts to create duplicate events using the same referenceId for the same customer"}),
                None,
            ),
            Self::Custom { status: code, body } => (status(*code), body.clone(), None),
        }
    }
}
