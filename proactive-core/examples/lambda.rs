//! A skill's events endpoint on AWS Lambda: the same skill events, applied by
//! the same `SubscriptionTracker::handle` as the HTTPS example.
//!
//! Alexa invokes the function directly (the skill's Lambda trigger), so there
//! is no signature to check: the application id and the timestamp are
//! (`RequestPolicy::check_value`). Build for Lambda with `cargo lambda build
//! --example lambda`, set `PROACTIVE_SKILL_ID`, and point the manifest's
//! `events.endpoint.uri` at the function's ARN.
//!
//! A Lambda function keeps no local file between invocations: this example
//! keeps subscriptions in memory to stay short; use a store that lives outside
//! the function (DynamoDB, a database) in production.

use proactive_core::subscription::{MemoryStore, SkillEvent, SubscriptionTracker};
use proactive_verify::RequestPolicy;
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    let skills = std::env::var("PROACTIVE_SKILL_ID").unwrap_or_default();
    let policy = RequestPolicy::new(skills.split(',').map(str::trim).filter(|id| !id.is_empty()).map(str::to_owned));
    let tracker = SubscriptionTracker::new(MemoryStore::new());
    lambda_runtime::run(lambda_runtime::service_fn(|event: lambda_runtime::LambdaEvent<Value>| {
        let (policy, tracker) = (&policy, &tracker);
        async move { handle(policy, tracker, &event.payload).await }
    }))
    .await
}

/// One invocation: check, read, apply. An error fails the invocation, which
/// Alexa treats as a refusal; a store failure is retried by Alexa.
async fn handle(
    policy: &RequestPolicy,
    tracker: &SubscriptionTracker<MemoryStore>,
    event: &Value,
) -> Result<Value, lambda_runtime::Error> {
    policy.check_value(event)?;
    let event = SkillEvent::from_value(event)?;
    let handled = tracker.handle(&event).await?;
    println!("{}: {} {handled:?}", event.user_id(), event.request_type());
    Ok(json!({"version": "1.0", "response": {}}))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The handler refuses another skill's event and forgets a user who
    /// disabled the skill.
    #[tokio::test]
    async fn the_handler_checks_then_applies() {
        let policy = RequestPolicy::new(["amzn1.ask.skill.1"]);
        let tracker = SubscriptionTracker::new(MemoryStore::new());
        let event = |skill: &str, kind: &str, body: Value| {
            json!({"version": "1.0",
                "context": {"System": {"application": {"applicationId": skill},
                    "user": {"userId": "amzn1.ask.account.A"}, "apiEndpoint": "https://api.amazonalexa.com"}},
                "request": {"type": kind, "requestId": kind, "timestamp": chrono::Utc::now().to_rfc3339(), "body": body}})
        };
        let subscribe = event(
            "amzn1.ask.skill.1",
            "AlexaSkillEvent.ProactiveSubscriptionChanged",
            json!({"subscriptions": [{"eventName": "AMAZON.WeatherAlert.Activated"}]}),
        );
        assert!(
            handle(&policy, &tracker, &event("amzn1.ask.skill.2", "AlexaSkillEvent.SkillDisabled", json!({})))
                .await
                .is_err()
        );
        handle(&policy, &tracker, &subscribe).await.unwrap();
        assert_eq!(tracker.store().len(), 1);
        handle(&policy, &tracker, &event("amzn1.ask.skill.1", "AlexaSkillEvent.SkillDisabled", json!({})))
            .await
            .unwrap();
        assert!(tracker.store().is_empty());
    }
}
