//! The skill events Alexa sends a skill's events endpoint, as JSON bodies for
//! [`Alexa::post`](crate::Alexa::post).

use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};

/// The API host the sandbox's events say the user is served by.
pub const API_ENDPOINT: &str = "https://api.amazonalexa.com";

/// A skill event of `request_type` (such as `AlexaSkillEvent.SkillEnabled`)
/// for `user_id` of skill `skill_id`, dated now, with `body` as `request.body`.
pub fn skill_event(request_type: &str, skill_id: &str, user_id: &str, body: Value) -> Value {
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    json!({
        "version": "1.0",
        "context": {"System": {
            "application": {"applicationId": skill_id},
            "user": {"userId": user_id},
            "apiEndpoint": API_ENDPOINT
        }},
        "request": {
            "type": request_type,
            "requestId": format!("amzn1.echo-api.request.sandbox-{}", uuid_like()),
            "timestamp": now,
            "eventCreationTime": now,
            "eventPublishingTime": now,
            "body": body
        }
    })
}

/// `AlexaSkillEvent.ProactiveSubscriptionChanged`: the user's whole set of
/// subscribed event names (empty: unsubscribed from everything).
pub fn subscription_changed(skill_id: &str, user_id: &str, events: &[&str]) -> Value {
    let subscriptions: Vec<Value> = events.iter().map(|name| json!({"eventName": name})).collect();
    skill_event(
        "AlexaSkillEvent.ProactiveSubscriptionChanged",
        skill_id,
        user_id,
        json!({"subscriptions": subscriptions}),
    )
}

/// `AlexaSkillEvent.SkillDisabled`.
pub fn skill_disabled(skill_id: &str, user_id: &str) -> Value {
    skill_event(
        "AlexaSkillEvent.SkillDisabled",
        skill_id,
        user_id,
        json!({"userInformationPersistenceStatus": "NOT_PERSISTED"}),
    )
}

/// `AlexaSkillEvent.SkillEnabled`.
pub fn skill_enabled(skill_id: &str, user_id: &str) -> Value {
    skill_event("AlexaSkillEvent.SkillEnabled", skill_id, user_id, json!({}))
}

/// `AlexaSkillEvent.SkillPermissionChanged` with the scopes the user now grants.
pub fn permission_changed(skill_id: &str, user_id: &str, scopes: &[&str]) -> Value {
    let accepted: Vec<Value> = scopes.iter().map(|scope| json!({"scope": scope})).collect();
    skill_event("AlexaSkillEvent.SkillPermissionChanged", skill_id, user_id, json!({"acceptedPermissions": accepted}))
}

fn uuid_like() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}
