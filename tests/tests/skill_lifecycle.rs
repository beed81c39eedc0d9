//! The whole skill lifecycle through `SkillEvent` and the tracker, on both
//! stores: SkillDisabled forgets the user, a permission change without
//! notifications unsubscribes them, a far-future request changes nothing, and a
//! replay with purging off keeps old tombstones until it purges them.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use proactive_core::UserId;
use proactive_core::schemas::EventName;
use proactive_core::subscription::{
    Handled, MemoryStore, RequestError, SkillEvent, SqliteStore, SubscriptionStore, SubscriptionTracker, Tracked,
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
    tracker.all_subscribers(event).await.unwrap().into_iter().map(|s| s.user_id.as_str().to_owned()).collect()
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
    assert!(matches!(handled, Handled::Subscriptions(Tracked::Updated(_))), "{handled:?}");
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
    let Handled::Subscriptions(Tracked::Updated(change)) = handled else { panic!("{handled:?}") };
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

/// A skill event request around `request` (its `type`, `timestamp`, `body`...).
fn raw_event(request: Value) -> Result<SkillEvent, RequestError> {
    let mut request = request;
    request["requestId"] = json!("r");
    let value = json!({"version": "1.0",
        "context": {"System": {"application": {"applicationId": "amzn1.ask.skill.test"},
            "user": {"userId": "amzn1.ask.account.A"}, "apiEndpoint": "https://api.amazonalexa.com"}},
        "request": request});
    SkillEvent::from_json(&value.to_string())
}

#[test]
fn an_unknown_skill_event_type_is_called_unknown_and_the_known_ones_listed() {
    let error = raw_event(json!({"type": "AlexaSkillEvent.SkillMessagingEnabled", "timestamp": 1})).unwrap_err();
    assert!(
        matches!(error, RequestError::UnknownSkillEvent { ref found } if found == "AlexaSkillEvent.SkillMessagingEnabled")
    );
    assert_eq!(
        error.to_string(),
        "the request is `AlexaSkillEvent.SkillMessagingEnabled`, a skill event type this library does not know; it \
         knows `AlexaSkillEvent.ProactiveSubscriptionChanged`, `AlexaSkillEvent.SkillEnabled`, \
         `AlexaSkillEvent.SkillDisabled`, `AlexaSkillEvent.SkillPermissionAccepted`, \
         `AlexaSkillEvent.SkillPermissionChanged` and `AlexaSkillEvent.SkillAccountLinked`; handle it before \
         `SkillEvent`, or remove it from the manifest's `events.subscriptions`"
    );
}

#[test]
fn accepted_permissions_as_plain_strings_are_refused_not_read_as_none() {
    let body = json!({"acceptedPermissions": [NOTIFICATIONS]});
    for kind in ["SkillPermissionAccepted", "SkillPermissionChanged"] {
        let request = json!({"type": format!("AlexaSkillEvent.{kind}"), "timestamp": 1, "body": body});
        let error = raw_event(request).unwrap_err().to_string();
        assert_eq!(
            error,
            "`request.body.acceptedPermissions[0]` is a string (\"alexa::devices:all:notifications:write\"); \
             expected an object such as `{\"scope\": \"alexa::devices:all:notifications:write\"}`"
        );
    }
    // The documented form still reads.
    let good = json!({"acceptedPermissions": [{"scope": NOTIFICATIONS}]});
    let event = raw_event(json!({"type": "AlexaSkillEvent.SkillPermissionChanged", "timestamp": 1, "body": good}));
    let Ok(SkillEvent::SkillPermissionChanged(event)) = event else { panic!("{event:?}") };
    assert!(event.grants_notifications());
}

#[test]
fn a_timestamp_too_large_for_epoch_milliseconds_says_out_of_range() {
    let error = raw_event(json!({"type": "AlexaSkillEvent.SkillDisabled", "timestamp": u64::MAX})).unwrap_err();
    assert_eq!(
        error.to_string(),
        "`request.timestamp` is 18446744073709551615, out of range for epoch milliseconds (a signed 64-bit number); \
         expected a time such as `1714564800000`"
    );
    // A fraction is still a fraction.
    let error = raw_event(json!({"type": "AlexaSkillEvent.SkillDisabled", "timestamp": 1.5})).unwrap_err();
    assert!(error.to_string().contains("must be a whole number"), "{error}");
}

/// A replay of old records: SkillDisabled(t2), then a ProactiveSubscriptionChanged(t1 < t2),
/// both older than the tombstones' time to live. With the purge after each SkillDisabled, the
/// tombstone is gone at once and the older request brings the user back; without it, the
/// request meets the tombstone, and a purge afterwards removes it.
async fn an_old_tombstone_is_kept_while_purging_is_off<S: SubscriptionStore>(store: S, other: S) {
    let t2 = Utc::now() - Duration::hours(3);
    let t1 = t2 - Duration::minutes(1);
    let purging = SubscriptionTracker::new(other);
    purging.handle(&event("SkillDisabled", "A", t2, "d", json!({}))).await.unwrap();
    let late = purging.handle(&subscribe("A", t1, "r", &[WEATHER])).await.unwrap();
    assert!(matches!(late, Handled::Subscriptions(Tracked::Updated(_))), "purged at once: {late:?}");

    let replay = SubscriptionTracker::new(store).with_purge_on_disable(false);
    replay.handle(&event("SkillDisabled", "A", t2, "d", json!({}))).await.unwrap();
    let late = replay.handle(&subscribe("A", t1, "r", &[WEATHER])).await.unwrap();
    assert!(matches!(late, Handled::Subscriptions(Tracked::Disabled(_))), "kept: {late:?}");
    assert!(subscribers(&replay, EventName::WeatherAlertActivated).await.is_empty());
    assert_eq!(replay.purge_tombstones().await.unwrap(), 1, "the replay purges when it is done");
}

#[tokio::test]
async fn an_old_tombstone_is_kept_while_purging_is_off_in_memory() {
    an_old_tombstone_is_kept_while_purging_is_off(MemoryStore::new(), MemoryStore::new()).await;
}

#[tokio::test]
async fn an_old_tombstone_is_kept_while_purging_is_off_in_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let open = |name: &str| SqliteStore::open(dir.path().join(name)).unwrap();
    an_old_tombstone_is_kept_while_purging_is_off(open("replay.db"), open("purging.db")).await;
}
