//! The subscription and manifest sample of the README, kept compiling: the
//! three functions are the README's code, unchanged; the test runs them.

use proactive_core::manifest::{EventsEndpoint, EventsManifest};
use proactive_core::schemas::{EventName, WeatherAlertActivated};
use proactive_core::subscription::{Outcome, SqliteStore, SubscriptionChangedRequest, SubscriptionTracker};

/// The body Alexa POSTs to the skill's events endpoint.
async fn on_request(tracker: &SubscriptionTracker<SqliteStore>, body: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
    // An error here means the body is not a subscription change: answer 400 with its message.
    let request = SubscriptionChangedRequest::from_slice(body)?;
    // An error here means the store failed: answer 500, and Alexa retries.
    match tracker.apply(&request).await? {
        Outcome::Updated(change) => {
            println!("{} in {:?}: +{:?} -{:?}", change.user_id(), change.region(), change.added(), change.removed())
        }
        Outcome::Stale(_) => {} // an older request that arrived late: nothing changed
    }
    Ok(())
}

/// Everyone to send a weather alert to, with the region of each.
async fn audience(tracker: &SubscriptionTracker<SqliteStore>) -> Result<(), Box<dyn std::error::Error>> {
    for subscriber in tracker.subscribers(EventName::WeatherAlertActivated).await? {
        println!("Unicast to {} via {:?}", subscriber.user_id, subscriber.region());
    }
    Ok(())
}

/// Adds the permission, publications, subscription event and endpoint to skill.json.
fn update_manifest(skill_json: &str) -> Result<String, Box<dyn std::error::Error>> {
    let manifest = EventsManifest::new(EventsEndpoint::new("arn:aws:lambda:us-east-1:123456789012:function:skill")?)
        .publish_payload::<WeatherAlertActivated>()
        .publish(EventName::OrderStatusUpdated);
    Ok(manifest.merge_json(skill_json)?)
}

#[tokio::test]
async fn the_readme_sample_runs() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let tracker = SubscriptionTracker::new(SqliteStore::open(dir.path().join("subscriptions.db"))?);
    let body = br#"{"version":"1.0","context":{"System":{"application":{"applicationId":"a"},"user":{"userId":"amzn1.ask.account.X"},"apiEndpoint":"https://api.amazonalexa.com"}},"request":{"type":"AlexaSkillEvent.ProactiveSubscriptionChanged","requestId":"r","timestamp":1714564800000,"body":{"subscriptions":[{"eventName":"AMAZON.WeatherAlert.Activated"}]}}}"#;
    on_request(&tracker, body).await?;
    audience(&tracker).await?;
    let skill_json = update_manifest(r#"{"manifest": {"manifestVersion": "1.0"}}"#)?;
    assert!(skill_json.contains("SKILL_PROACTIVE_SUBSCRIPTION_CHANGED"), "{skill_json}");
    let subscribers = tracker.subscribers(EventName::WeatherAlertActivated).await?;
    assert_eq!(subscribers.len(), 1);
    Ok(())
}
