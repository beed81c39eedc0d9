//! The Lambda sample of the README's "Beyond one machine", kept compiling:
//! `main` and `on_event` are the README's code, unchanged; the test runs it against a
//! DynamoDB table on the local AWS.

use proactive_aws::lambda_runtime::{self, LambdaEvent, service_fn};
use proactive_aws::{DynamoDbStore, aws_sdk_dynamodb};
use proactive_core::schemas::EventName;
use proactive_core::subscription::{SkillEvent, SubscriptionTracker};
use proactive_core::verify::RequestPolicy;
use serde_json::{Value, json};

/// The README's `main`, compiled (it would wait for Lambda's runtime API).
#[allow(dead_code)]
async fn main() -> Result<(), lambda_runtime::Error> {
    // Once per execution environment, outside the handler: a missing setting fails here.
    let policy = RequestPolicy::new([std::env::var("PROACTIVE_SKILL_ID")?]);
    let config = proactive_aws::sdk_config(None).await;
    let store = DynamoDbStore::new(aws_sdk_dynamodb::Client::new(&config), std::env::var("PROACTIVE_TABLE")?);
    let tracker = SubscriptionTracker::new(store);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| on_event(&policy, &tracker, event.payload))).await
}

/// Alexa invokes the function with the request itself as the event: no signature,
/// so check the application id and the timestamp, then apply every skill event.
async fn on_event(
    policy: &RequestPolicy,
    tracker: &SubscriptionTracker<DynamoDbStore>,
    request: Value,
) -> Result<Value, lambda_runtime::Error> {
    policy.check_value(&request)?;
    tracker.handle(&SkillEvent::from_value(&request)?).await?; // SkillDisabled forgets the user
    Ok(json!({"version": "1.0", "response": {}}))
}

#[tokio::test]
async fn the_readme_events_endpoint_stores_a_subscription_in_dynamodb() {
    let Some(moto) = proactive_tests::moto() else { return };
    let client = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
    let store = DynamoDbStore::create_table(client, proactive_tests::unique_name("readme")).await.unwrap();
    let tracker = SubscriptionTracker::new(store);
    let policy = RequestPolicy::new(["amzn1.ask.skill.test"]);
    let request = json!({
        "version": "1.0",
        "context": {"System": {
            "application": {"applicationId": "amzn1.ask.skill.test"},
            "user": {"userId": "amzn1.ask.account.readme"},
            "apiEndpoint": "https://api.eu.amazonalexa.com"
        }},
        "request": {
            "type": "AlexaSkillEvent.ProactiveSubscriptionChanged",
            "requestId": "amzn1.echo-api.request.readme",
            "timestamp": chrono::Utc::now().to_rfc3339(),
            "body": {"subscriptions": [{"eventName": "AMAZON.WeatherAlert.Activated"}]}
        }
    });
    let answer = on_event(&policy, &tracker, request).await.unwrap();
    assert_eq!(answer, json!({"version": "1.0", "response": {}}));
    let subscribers = tracker.all_subscribers(EventName::WeatherAlertActivated).await.unwrap();
    assert_eq!(subscribers.len(), 1);
    assert_eq!(subscribers[0].user_id.as_str(), "amzn1.ask.account.readme");
    assert_eq!(subscribers[0].region(), Some(proactive_core::Region::Europe));
    let error = on_event(&policy, &tracker, json!({"version": "1.0"})).await.unwrap_err().to_string();
    assert!(!error.is_empty());
}
