//! What a hostile review found in `DynamoDbStore` (issue 22, item 10), against
//! a local AWS (moto): a state written by another program in another RFC 3339
//! form, requests beyond the store's limits, and a malformed subscription item.

use std::collections::HashMap;

use proactive_aws::aws_sdk_dynamodb::types::AttributeValue;
use proactive_aws::{DynamoDbStore, MAX_EVENT_NAME_BYTES, MAX_EVENTS_PER_USER, aws_sdk_dynamodb};
use proactive_core::UserId;
use proactive_core::subscription::{
    Handled, SkillEvent, SubscribedEvent, SubscriptionChangedRequest, SubscriptionStore, SubscriptionTracker, Tracked,
    TrackerError,
};
use serde_json::{Value, json};

const WEATHER: &str = "AMAZON.WeatherAlert.Activated";

async fn table() -> Option<(aws_sdk_dynamodb::Client, DynamoDbStore)> {
    let moto = proactive_tests::moto()?;
    let client = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
    let store = DynamoDbStore::create_table(client.clone(), proactive_tests::unique_name("hardening")).await.unwrap();
    Some((client, store))
}

fn body(user: &str, request_type: &str, timestamp: &str, events: &[String]) -> Value {
    let subscriptions: Vec<Value> = events.iter().map(|name| json!({ "eventName": name })).collect();
    json!({
        "version": "1.0",
        "context": {"System": {
            "application": {"applicationId": "amzn1.ask.skill.test"},
            "user": {"userId": user},
            "apiEndpoint": "https://api.amazonalexa.com"
        }},
        "request": {
            "type": request_type,
            "requestId": format!("r-{timestamp}"),
            "timestamp": timestamp,
            "body": {"subscriptions": subscriptions}
        }
    })
}

fn changed(user: &str, timestamp: &str, events: &[String]) -> SubscriptionChangedRequest {
    SubscriptionChangedRequest::from_value(&body(
        user,
        "AlexaSkillEvent.ProactiveSubscriptionChanged",
        timestamp,
        events,
    ))
    .unwrap()
}

fn now_minus(minutes: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::minutes(minutes)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[tokio::test]
async fn a_state_written_in_another_rfc3339_form_can_still_be_updated_and_disabled() {
    let Some((client, store)) = table().await else { return };
    let user = "amzn1.ask.account.other-writer";
    // Another program wrote the state with whole seconds and `Z`, not the store's nanoseconds.
    let written = now_minus(30);
    let item: HashMap<String, AttributeValue> = [
        ("pk", AttributeValue::S(format!("user#{user}"))),
        ("sk", AttributeValue::S("state".into())),
        ("v", AttributeValue::S("1".into())),
        ("events", AttributeValue::L(vec![AttributeValue::S(WEATHER.into())])),
        ("timestamp", AttributeValue::S(written.clone())),
        ("request_id", AttributeValue::S("r-other".into())),
        ("api_endpoint", AttributeValue::S("https://api.amazonalexa.com".into())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    client.put_item().table_name(store.table()).set_item(Some(item)).send().await.unwrap();
    let tracker = SubscriptionTracker::new(store);
    let outcome = tracker.apply(&changed(user, &now_minus(20), &[])).await.unwrap();
    assert!(matches!(outcome, Tracked::Updated(_)), "a newer request replaces it: {outcome:?}");
    // The same, written again by the other program, then a SkillDisabled.
    let disabled = SkillEvent::from_value(&body(user, "AlexaSkillEvent.SkillDisabled", &now_minus(10), &[])).unwrap();
    let handled = tracker.handle(&disabled).await.unwrap();
    assert!(matches!(handled, Handled::UserRemoved { previous: Some(_), .. }), "{handled:?}");
    assert_eq!(tracker.get(&UserId::new(user).unwrap()).await.unwrap(), None);
}

#[tokio::test]
async fn requests_beyond_the_limits_are_refused_as_bad_requests() {
    let Some((_, store)) = table().await else { return };
    let tracker = SubscriptionTracker::new(store);
    let many: Vec<String> = (0..120).map(|i| format!("Custom.Event.{i}")).collect();
    let error = tracker.apply(&changed("amzn1.ask.account.many", &now_minus(5), &many)).await.unwrap_err();
    assert!(error.is_refused(), "a 400, not a 500 that Alexa retries forever: {error}");
    assert_eq!(
        error.to_string(),
        format!(
            "the request for `amzn1.ask.account.many` names 120 events; the DynamoDB store keeps at most {MAX_EVENTS_PER_USER} per user"
        )
    );
    let long = vec!["E".repeat(3_000)];
    let error = tracker.apply(&changed("amzn1.ask.account.long", &now_minus(5), &long)).await.unwrap_err();
    assert!(matches!(error, TrackerError::Store(_)) && error.is_refused(), "{error}");
    assert!(error.to_string().contains(&format!("of at most {MAX_EVENT_NAME_BYTES} bytes")), "{error}");
    // At the limit, it is stored.
    let most: Vec<String> = (0..MAX_EVENTS_PER_USER).map(|i| format!("Custom.Event.{i}")).collect();
    assert!(matches!(
        tracker.apply(&changed("amzn1.ask.account.most", &now_minus(5), &most)).await.unwrap(),
        Tracked::Updated(_)
    ));
    // And replacing all of them with as many others fits one transaction.
    let others: Vec<String> = (0..MAX_EVENTS_PER_USER).map(|i| format!("Other.Event.{i}")).collect();
    assert!(matches!(
        tracker.apply(&changed("amzn1.ask.account.most", &now_minus(4), &others)).await.unwrap(),
        Tracked::Updated(_)
    ));
}

#[tokio::test]
async fn a_malformed_subscription_item_is_skipped_not_fatal() {
    let Some((client, store)) = table().await else { return };
    let tracker = SubscriptionTracker::new(store.clone());
    for user in ["amzn1.ask.account.a", "amzn1.ask.account.c"] {
        tracker.apply(&changed(user, &now_minus(5), &[WEATHER.to_owned()])).await.unwrap();
    }
    // An `event#` item without `api_endpoint`, between the two.
    client
        .put_item()
        .table_name(store.table())
        .item("pk", AttributeValue::S(format!("event#{WEATHER}")))
        .item("sk", AttributeValue::S("amzn1.ask.account.b".into()))
        .send()
        .await
        .unwrap();
    let page = store.subscribers_page(&SubscribedEvent::new(WEATHER), None, 10).await.unwrap();
    let users: Vec<&str> = page.subscribers.iter().map(|s| s.user_id.as_str()).collect();
    assert_eq!(users, ["amzn1.ask.account.a", "amzn1.ask.account.c"]);
}
