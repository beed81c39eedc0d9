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

use std::process::ExitCode;

use proactive_core::subscription::{Handled, MemoryStore, SkillEvent, SubscriptionTracker};
use proactive_verify::RequestPolicy;
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> ExitCode {
    // Checked at start: without a skill id every event would be refused as
    // another skill's, one invocation at a time.
    let policy = match policy(std::env::var("PROACTIVE_SKILL_ID").ok().as_deref()) {
        Ok(policy) => policy,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::FAILURE;
        }
    };
    let tracker = SubscriptionTracker::new(MemoryStore::new());
    let run = lambda_runtime::run(lambda_runtime::service_fn(|event: lambda_runtime::LambdaEvent<Value>| {
        let (policy, tracker) = (&policy, &tracker);
        async move { handle(policy, tracker, &event.payload).await }
    }));
    match run.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: the Lambda runtime stopped: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The policy for the skill ids in `PROACTIVE_SKILL_ID` (comma-separated);
/// `Err` when there are none.
fn policy(skills: Option<&str>) -> Result<RequestPolicy, String> {
    let ids: Vec<&str> = skills.unwrap_or_default().split(',').map(str::trim).filter(|id| !id.is_empty()).collect();
    if ids.is_empty() {
        return Err("`PROACTIVE_SKILL_ID` is not set: set it to the skill id (`amzn1.ask.skill.…`; several, \
                    comma-separated)"
            .to_owned());
    }
    Ok(RequestPolicy::new(ids))
}

/// At most 100 bytes of an id read from a request, for a log line: a request
/// may carry megabytes in it.
fn clip(text: &str) -> &str {
    let mut end = text.len().min(100);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// One invocation: check, read, apply. An error fails the invocation, which
/// Alexa treats as a refusal; a store failure is retried by Alexa.
async fn handle(
    policy: &RequestPolicy,
    tracker: &SubscriptionTracker<MemoryStore>,
    event: &Value,
) -> Result<Value, lambda_runtime::Error> {
    policy.check_value(event)?;
    let request_id = event.pointer("/request/requestId").and_then(Value::as_str).unwrap_or_default();
    let event = SkillEvent::from_value(event)?;
    let handled = tracker.handle(&event).await?;
    let outcome = match handled {
        Handled::UserRemoved { .. } => "user removed",
        Handled::NoChange => "no change",
        _ => "subscriptions set",
    };
    println!("{} {}: {} ({outcome})", clip(request_id), clip(event.user_id().as_str()), event.request_type());
    Ok(json!({"version": "1.0", "response": {}}))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without a skill id the function does not start, rather than refuse
    /// every event as another skill's.
    #[test]
    fn a_missing_skill_id_fails_at_start() {
        for unset in [None, Some(""), Some(" , ")] {
            assert!(policy(unset).unwrap_err().contains("`PROACTIVE_SKILL_ID` is not set"));
        }
        assert!(policy(Some("amzn1.ask.skill.1")).is_ok());
    }

    #[test]
    fn logged_ids_are_clipped() {
        assert_eq!(clip(&"r".repeat(1 << 20)).len(), 100);
        assert_eq!(clip("amzn1.ask.account.A"), "amzn1.ask.account.A");
    }

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
