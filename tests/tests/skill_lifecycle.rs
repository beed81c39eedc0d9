//! The whole skill lifecycle through `SkillEvent` and the tracker, on both
//! stores: SkillDisabled forgets the user, a permission change without
//! notifications unsubscribes them, and a far-future request changes nothing.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use proactive_core::UserId;
use proactive_core::schemas::EventName;
use proactive_core::subscription::{
    Handled, MemoryStore, Outcome, RequestError, SkillEvent, SqliteStore, SubscriptionStore, SubscriptionTracker,
    TrackerError,
};
use serde_json::{Value, json};

const NOTIFICATIONS: &str = "alexa::devices:all:notifications:write";
const WEATHER: &str = "AMAZON.WeatherAlert.Activated";
const TRASH: &str = "AMAZON.TrashCollectionAlert.Activated";

fn event(kind: &str, user: &str, at: DateTime<Utc>, request_id: &str, body: Value) -> SkillEvent {
    let value = json!({
        "version": "1.0",
        "context": {"System": {
            "application": {"applicationId": "amzn1.ask.skill.test"},
            "user": {"userId": format!("amzn1.ask.account.{user}")},
            "apiEndpoint": "https://api.amazonalexa.com"
        }},
        "request": {
            "type": format!("AlexaSkillEvent.{kind}"),
            "requestId": request_id,
            "timestamp": at.to_rfc3339_opts(SecondsFormat::Millis, true),
            "body": body
        }
    });
    SkillEvent::from_json(&value.to_string()).unwrap_or_else(|e| panic!("{kind}: {e}"))
}

fn subscribe(user: &str, at: DateTime<Utc>, request_id: &str, events: &[&str]) -> SkillEvent {
    let subscriptions: Vec<Value> = events.iter().map(|name| json!({"eventName": name})).collect();
    event("ProactiveSubscriptionChanged", user, at, request_id, json!({"subscriptions": subscriptions}))
}

fn user(name: &str) -> UserId {
    UserId::new(&format!("amzn1.ask.account.{name}")).unwrap()
}

async fn subscribers<S: SubscriptionStore>(tracker: &SubscriptionTracker<S>, event: EventName) -> Vec<String> {
    tracker.subscribers(event).await.unwrap().into_iter().map(|s| s.user_id.as_str().to_owned()).collect()
}

async fn skill_disabled_removes_the_user_everywhere<S: SubscriptionStore>(store: S) {
    let tracker = SubscriptionTracker::new(store);
    let now = Utc::now();
    tracker.handle(&subscribe("A", now, "r1", &[WEATHER, TRASH])).await.unwrap();
    tracker.handle(&subscribe("B", now, "r2", &[WEATHER])).await.unwrap();

    let handled = tracker.handle(&event("SkillDisabled", "A", now, "r3", json!({}))).await.unwrap();
    let Handled::UserRemoved { user_id, previous } = handled else { panic!("{handled:?}") };
    assert_eq!(user_id, user("A"));
    assert_eq!(previous.unwrap().events.len(), 2);
    assert_eq!(subscribers(&tracker, EventName::WeatherAlertActivated).await, ["amzn1.ask.account.B"]);
    assert!(subscribers(&tracker, EventName::TrashCollectionAlertActivated).await.is_empty());
    assert_eq!(tracker.get(&user("A")).await.unwrap(), None);

    // Disabling twice, or a user never seen, removes nothing and fails nothing.
    let again = tracker.handle(&event("SkillDisabled", "A", now, "r4", json!({}))).await.unwrap();
    assert_eq!(again, Handled::UserRemoved { user_id: user("A"), previous: None });
}

#[tokio::test]
async fn skill_disabled_removes_the_user_from_every_event_in_memory() {
    skill_disabled_removes_the_user_everywhere(MemoryStore::new()).await;
}

#[tokio::test]
async fn skill_disabled_removes_the_user_from_every_event_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    skill_disabled_removes_the_user_everywhere(SqliteStore::open(dir.path().join("s.db")).unwrap()).await;
}

async fn a_far_future_request_is_refused_and_a_genuine_one_applies<S: SubscriptionStore>(store: S) {
    let tracker = SubscriptionTracker::new(store);
    let forged: DateTime<Utc> = "9999-12-31T23:59:59Z".parse().unwrap();
    let error = tracker.handle(&subscribe("A", forged, "forged", &[])).await.unwrap_err();
    assert!(matches!(error, TrackerError::FromTheFuture { .. }) && error.is_refused(), "{error}");
    let SkillEvent::ProactiveSubscriptionChanged(forged_request) = subscribe("A", forged, "forged", &[]) else {
        unreachable!()
    };
    assert!(tracker.apply(&forged_request).await.unwrap_err().is_refused(), "`apply` refuses it too");
    assert_eq!(tracker.get(&user("A")).await.unwrap(), None, "nothing was stored");

    let handled = tracker.handle(&subscribe("A", Utc::now(), "genuine", &[WEATHER])).await.unwrap();
    assert!(matches!(handled, Handled::Subscriptions(Outcome::Updated(_))), "{handled:?}");
    assert_eq!(subscribers(&tracker, EventName::WeatherAlertActivated).await, ["amzn1.ask.account.A"]);
}

#[tokio::test]
async fn a_far_future_request_is_refused_in_memory() {
    a_far_future_request_is_refused_and_a_genuine_one_applies(MemoryStore::new()).await;
}

#[tokio::test]
async fn a_far_future_request_is_refused_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    a_far_future_request_is_refused_and_a_genuine_one_applies(SqliteStore::open(dir.path().join("s.db")).unwrap())
        .await;
}

#[tokio::test]
async fn withdrawing_the_notifications_permission_unsubscribes_and_keeping_it_does_not() {
    let tracker = SubscriptionTracker::new(MemoryStore::new());
    let now = Utc::now();
    tracker.handle(&subscribe("A", now - Duration::seconds(10), "r1", &[WEATHER])).await.unwrap();

    let kept = json!({"acceptedPermissions": [{"scope": NOTIFICATIONS}, {"scope": "alexa::profile:email:read"}]});
    let handled = tracker.handle(&event("SkillPermissionChanged", "A", now, "r2", kept)).await.unwrap();
    assert_eq!(handled, Handled::NoChange);
    assert_eq!(subscribers(&tracker, EventName::WeatherAlertActivated).await.len(), 1);

    let withdrawn = json!({"acceptedPermissions": [{"scope": "alexa::profile:email:read"}]});
    let handled = tracker.handle(&event("SkillPermissionChanged", "A", now, "r3", withdrawn)).await.unwrap();
    let Handled::Subscriptions(Outcome::Updated(change)) = handled else { panic!("{handled:?}") };
    assert_eq!(change.removed().len(), 1);
    assert!(subscribers(&tracker, EventName::WeatherAlertActivated).await.is_empty());

    // A later subscription change (the user granted it again) applies.
    let later = now + Duration::seconds(5);
    tracker.handle(&subscribe("A", later, "r4", &[WEATHER])).await.unwrap();
    assert_eq!(subscribers(&tracker, EventName::WeatherAlertActivated).await.len(), 1);
}

#[tokio::test]
async fn enabling_and_linking_change_nothing() {
    let tracker = SubscriptionTracker::new(MemoryStore::new());
    let now = Utc::now();
    for kind in ["SkillEnabled", "SkillAccountLinked"] {
        let body = json!({"accessToken": "secret-token"});
        let event = event(kind, "A", now, "r", body);
        assert!(!format!("{event:?}").contains("secret-token"), "the access token is not kept");
        assert_eq!(tracker.handle(&event).await.unwrap(), Handled::NoChange);
    }
    assert!(tracker.store().is_empty());
}

#[test]
fn every_skill_event_reads_from_one_entry_point() {
    let now = Utc::now();
    let cases = [
        ("ProactiveSubscriptionChanged", "AlexaSkillEvent.ProactiveSubscriptionChanged"),
        ("SkillEnabled", "AlexaSkillEvent.SkillEnabled"),
        ("SkillDisabled", "AlexaSkillEvent.SkillDisabled"),
        ("SkillPermissionAccepted", "AlexaSkillEvent.SkillPermissionAccepted"),
        ("SkillPermissionChanged", "AlexaSkillEvent.SkillPermissionChanged"),
        ("SkillAccountLinked", "AlexaSkillEvent.SkillAccountLinked"),
    ];
    for (kind, request_type) in cases {
        let event = event(kind, "A", now, "r", json!({}));
        assert_eq!(event.request_type(), request_type);
        assert_eq!(event.user_id(), &user("A"));
        assert_eq!(event.application_id(), "amzn1.ask.skill.test");
    }

    let launch = json!({"version": "1.0", "request": {"type": "LaunchRequest"}});
    let error = SkillEvent::from_json(&launch.to_string()).unwrap_err();
    assert!(matches!(error, RequestError::NotASkillEvent { ref found } if found == "LaunchRequest"), "{error}");

    let missing =
        json!({"version": "1.0", "context": {"System": {}}, "request": {"type": "AlexaSkillEvent.SkillDisabled"}});
    let error = SkillEvent::from_json(&missing.to_string()).unwrap_err().to_string();
    assert_eq!(error, "`context.System.application` is missing; every SkillDisabled request from Alexa has it");

    let bad_scopes = json!({"version": "1.0", "context": {"System": {"application": {"applicationId": "s"},
        "user": {"userId": "amzn1.ask.account.A"}, "apiEndpoint": "x"}},
        "request": {"type": "AlexaSkillEvent.SkillPermissionChanged", "requestId": "r", "timestamp": 1,
        "body": {"acceptedPermissions": [{"scope": 5}]}}});
    let error = SkillEvent::from_json(&bad_scopes.to_string()).unwrap_err().to_string();
    assert_eq!(error, "`request.body.acceptedPermissions[0].scope` is a number (5); expected a string");
}

#[test]
fn the_manifest_subscribes_to_the_lifecycle_events_on_request() {
    use proactive_core::manifest::{EventsEndpoint, EventsManifest, SkillEventName};

    let endpoint = EventsEndpoint::new("https://skill.example.com/alexa/events").unwrap();
    let names = |manifest: &EventsManifest| -> Vec<String> {
        let fragment = manifest.fragment().unwrap();
        fragment["events"]["subscriptions"].as_array().unwrap().iter().map(|s| s["eventName"].to_string()).collect()
    };
    let plain = EventsManifest::new(endpoint.clone()).publish(EventName::WeatherAlertActivated);
    assert_eq!(names(&plain), [r#""SKILL_PROACTIVE_SUBSCRIPTION_CHANGED""#]);
    let lifecycle = plain.clone().subscribe_lifecycle().subscribe(SkillEventName::SkillAccountLinked);
    assert_eq!(
        names(&lifecycle),
        [
            r#""SKILL_PROACTIVE_SUBSCRIPTION_CHANGED""#,
            r#""SKILL_ENABLED""#,
            r#""SKILL_DISABLED""#,
            r#""SKILL_PERMISSION_ACCEPTED""#,
            r#""SKILL_PERMISSION_CHANGED""#,
            r#""SKILL_ACCOUNT_LINKED""#
        ]
    );
    // Merging twice adds nothing more.
    let once = lifecycle.merge_json(r#"{"manifest": {}}"#).unwrap();
    assert_eq!(lifecycle.merge_json(&once).unwrap(), once);
}
