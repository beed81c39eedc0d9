//! One suite that every subscription store runs (memory, SQLite, DynamoDB on a
//! local AWS): what the tracker reports, SkillDisabled and its tombstone,
//! paging, that the order requests arrive in never changes the outcome, and
//! that 8 tasks applying 1,000 out-of-order updates each lose nothing. Then
//! what only SQLite has: a file that survives.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::{StreamExt, TryStreamExt};
use proactive_aws::DynamoDbStore;
use proactive_aws::aws_sdk_dynamodb;
use proactive_core::schemas::EventName;
use proactive_core::subscription::{
    Handled, MemoryStore, SkillEvent, SqliteStore, SubscribedEvent, Subscriber, SubscriptionChangedRequest,
    SubscriptionStore, SubscriptionTracker, TOMBSTONE_TTL, Tracked, UserSubscriptions,
};
use proactive_core::{Region, UserId};
use proptest::prelude::*;
use serde_json::{Value, json};
use tempfile::TempDir;

const NA: &str = "https://api.amazonalexa.com";
const EU: &str = "https://api.eu.amazonalexa.com";
const FE: &str = "https://api.fe.amazonalexa.com";

/// The event names the tests subscribe to: the 8 schemas and two that are not.
fn event_names() -> Vec<String> {
    let mut names: Vec<String> = EventName::ALL.iter().map(|name| name.as_str().to_owned()).collect();
    names.push("AMAZON.FlightStatus.Updated".to_owned());
    names.push("Custom.Not.A.Schema".to_owned());
    names
}

fn user(name: &str) -> UserId {
    UserId::new(&format!("amzn1.ask.account.{name}")).unwrap()
}

/// A request as Alexa sends it; `timestamp` is any JSON the parser accepts.
fn request(
    user: &UserId,
    timestamp: Value,
    request_id: &str,
    endpoint: &str,
    events: &[&str],
) -> SubscriptionChangedRequest {
    let subscriptions: Vec<Value> = events.iter().map(|name| json!({ "eventName": name })).collect();
    let body = json!({
        "version": "1.0",
        "context": {"System": {
            "application": {"applicationId": "amzn1.ask.skill.test"},
            "user": {"userId": user.as_str()},
            "apiEndpoint": endpoint
        }},
        "request": {
            "type": "AlexaSkillEvent.ProactiveSubscriptionChanged",
            "requestId": request_id,
            "timestamp": timestamp,
            "body": {"subscriptions": subscriptions}
        }
    });
    SubscriptionChangedRequest::from_value(&body).unwrap()
}

fn at(millis: i64) -> Value {
    json!(1_714_564_800_000_i64 + millis)
}

/// `millis` after ten minutes before the test process started, as epoch milliseconds.
fn recent(millis: i64) -> Value {
    static BASE: std::sync::LazyLock<i64> =
        std::sync::LazyLock::new(|| (Utc::now() - chrono::Duration::minutes(10)).timestamp_millis());
    json!(*BASE + millis)
}

fn set(names: &[&str]) -> BTreeSet<SubscribedEvent> {
    names.iter().map(|name| SubscribedEvent::new(name)).collect()
}

fn ids(subscribers: &[Subscriber]) -> Vec<&str> {
    subscribers.iter().map(|s| s.user_id.as_str()).collect()
}

const WEATHER: &str = "AMAZON.WeatherAlert.Activated";
const TRASH: &str = "AMAZON.TrashCollectionAlert.Activated";
const FLIGHT: &str = "AMAZON.FlightStatus.Updated";

/// The tracker's reports for one user's history, on any store.
async fn reports_changes_and_stale_requests<S: SubscriptionStore>(store: S) {
    let tracker = SubscriptionTracker::new(store);
    let alice = user("alice");
    let bob = user("bob");

    // First request: everything is added.
    let Tracked::Updated(change) = tracker.apply(&request(&alice, at(100), "r1", EU, &[WEATHER, TRASH])).await.unwrap()
    else {
        panic!("the first request must update")
    };
    assert!(change.is_first_seen());
    assert_eq!(change.added(), &set(&[WEATHER, TRASH]));
    assert!(change.removed().is_empty());
    assert_eq!(change.current(), &set(&[WEATHER, TRASH]));
    assert_eq!(change.region(), Some(Region::Europe));

    // A newer request: the difference, and the region of the new endpoint.
    let outcome = tracker.apply(&request(&alice, at(200), "r2", NA, &[WEATHER, FLIGHT])).await.unwrap();
    assert_eq!(outcome.region(), Some(Region::NorthAmerica));
    let Tracked::Updated(change) = outcome else { panic!("a newer request must update") };
    assert!(!change.is_first_seen());
    assert_eq!(change.added(), &set(&[FLIGHT]));
    assert_eq!(change.removed(), &set(&[TRASH]));
    assert_eq!(change.current(), &set(&[WEATHER, FLIGHT]));

    // An older request that arrives late is stale and changes nothing.
    let outcome = tracker.apply(&request(&alice, at(150), "r-late", FE, &[TRASH])).await.unwrap();
    assert_eq!(outcome.region(), Some(Region::NorthAmerica), "the stored state's region");
    let Tracked::Stale(stale) = outcome else { panic!("an older request must be stale") };
    assert_eq!(stale.user_id(), &alice);
    assert_eq!(stale.stored().request_id, "r2");
    assert_eq!(stale.stored().events, set(&[WEATHER, FLIGHT]));

    // The same request delivered twice is stale too.
    let again = tracker.apply(&request(&alice, at(200), "r2", NA, &[WEATHER, FLIGHT])).await.unwrap();
    assert!(matches!(again, Tracked::Stale(_)), "{again:?}");

    // Another user; fan-out lists both, sorted, with their hosts.
    tracker.apply(&request(&bob, at(50), "b1", FE, &[WEATHER])).await.unwrap();
    let weather = tracker.all_subscribers(EventName::WeatherAlertActivated).await.unwrap();
    assert_eq!(ids(&weather), [alice.as_str(), bob.as_str()]);
    assert_eq!(
        weather.iter().map(Subscriber::region).collect::<Vec<_>>(),
        [Some(Region::NorthAmerica), Some(Region::FarEast)]
    );
    assert_eq!(ids(&tracker.all_subscribers(SubscribedEvent::new(FLIGHT)).await.unwrap()), [alice.as_str()]);
    assert!(tracker.all_subscribers(EventName::TrashCollectionAlertActivated).await.unwrap().is_empty());

    // Unsubscribing from everything keeps the user's timestamp, so a late
    // older request cannot subscribe them again.
    let Tracked::Updated(change) = tracker.apply(&request(&alice, at(300), "r3", NA, &[])).await.unwrap() else {
        panic!("a newer request must update")
    };
    assert_eq!(change.removed(), &set(&[WEATHER, FLIGHT]));
    assert!(change.current().is_empty());
    assert!(matches!(
        tracker.apply(&request(&alice, at(250), "r-older", NA, &[WEATHER])).await.unwrap(),
        Tracked::Stale(_)
    ));
    assert_eq!(ids(&tracker.all_subscribers(EventName::WeatherAlertActivated).await.unwrap()), [bob.as_str()]);
    let stored = tracker.get(&alice).await.unwrap().unwrap();
    assert!(stored.events.is_empty());
    assert_eq!(stored.request_id, "r3");
    assert_eq!(tracker.get(&user("nobody")).await.unwrap(), None);
}

/// A newer request from another region, same events: every subscription
/// follows the user to the new endpoint.
async fn a_new_endpoint_moves_every_subscription<S: SubscriptionStore>(store: S) {
    let tracker = SubscriptionTracker::new(store);
    let alice = user("alice");
    tracker.apply(&request(&alice, at(100), "a1", NA, &[WEATHER, TRASH])).await.unwrap();
    let Tracked::Updated(change) = tracker.apply(&request(&alice, at(200), "a2", FE, &[WEATHER, TRASH])).await.unwrap()
    else {
        panic!("a newer request must update")
    };
    assert!(change.is_unchanged());
    for event in [WEATHER, TRASH] {
        let subscribers = tracker.all_subscribers(SubscribedEvent::new(event)).await.unwrap();
        assert_eq!(subscribers.iter().map(Subscriber::region).collect::<Vec<_>>(), [Some(Region::FarEast)], "{event}");
    }
}

/// A SkillDisabled request for `user` at `timestamp` (epoch milliseconds JSON).
fn skill_disabled(user: &UserId, timestamp: Value, request_id: &str) -> SkillEvent {
    let body = json!({
        "version": "1.0",
        "context": {"System": {
            "application": {"applicationId": "amzn1.ask.skill.test"},
            "user": {"userId": user.as_str()},
            "apiEndpoint": NA
        }},
        "request": {"type": "AlexaSkillEvent.SkillDisabled", "requestId": request_id, "timestamp": timestamp}
    });
    SkillEvent::from_value(&body).unwrap()
}

/// Disabling a user on any store: gone from `get` and from every event's subscribers.
async fn disable_forgets_a_user<S: SubscriptionStore>(store: S) {
    let alice = user("alice");
    let bob = user("bob");
    let tracker = SubscriptionTracker::new(store);
    tracker.apply(&request(&alice, at(100), "a1", NA, &[WEATHER, TRASH])).await.unwrap();
    tracker.apply(&request(&bob, at(100), "b1", NA, &[WEATHER])).await.unwrap();
    let handled = tracker.handle(&skill_disabled(&alice, at(200), "d1")).await.unwrap();
    let Handled::UserRemoved { previous: Some(removed), .. } = handled else { panic!("{handled:?}") };
    assert_eq!(removed.events, set(&[WEATHER, TRASH]));
    assert_eq!(tracker.get(&alice).await.unwrap(), None);
    assert_eq!(ids(&tracker.all_subscribers(SubscribedEvent::new(WEATHER)).await.unwrap()), [bob.as_str()]);
    assert!(tracker.all_subscribers(SubscribedEvent::new(TRASH)).await.unwrap().is_empty());
    let again = tracker.handle(&skill_disabled(&alice, at(200), "d1")).await.unwrap();
    assert!(matches!(again, Handled::UserRemoved { previous: None, .. }), "disabling twice finds nothing: {again:?}");
    assert!(tracker.get(&bob).await.unwrap().is_some(), "other users are kept");
}

/// SkillDisabled(t2), then a ProactiveSubscriptionChanged(t1 < t2) that
/// arrives late: the user stays removed. A newer request (t3 > t2) applies.
async fn a_late_older_request_does_not_bring_a_disabled_user_back<S: SubscriptionStore>(store: S) {
    // Dated minutes ago: tombstones older than the TTL are purged at once.
    let tracker = SubscriptionTracker::new(store);
    let alice = user("alice");
    tracker.apply(&request(&alice, recent(100), "a1", NA, &[WEATHER])).await.unwrap();
    tracker.handle(&skill_disabled(&alice, recent(300), "d1")).await.unwrap();
    let late = tracker.apply(&request(&alice, recent(200), "a2", NA, &[WEATHER, TRASH])).await.unwrap();
    let Tracked::Disabled(tombstone) = late else { panic!("an older request must meet the tombstone: {late:?}") };
    assert_eq!(tombstone.request_id, "d1");
    assert_eq!(tracker.get(&alice).await.unwrap(), None);
    assert!(tracker.all_subscribers(SubscribedEvent::new(WEATHER)).await.unwrap().is_empty(), "no one to send to");
    // An older SkillDisabled changes nothing either; the newer tombstone is kept.
    tracker.handle(&skill_disabled(&alice, recent(250), "d0")).await.unwrap();
    assert!(matches!(
        tracker.apply(&request(&alice, recent(280), "a3", NA, &[WEATHER])).await.unwrap(),
        Tracked::Disabled(_)
    ));
    // A genuine newer request for the same id applies.
    let newer = tracker.apply(&request(&alice, recent(400), "a4", EU, &[TRASH])).await.unwrap();
    assert!(matches!(newer, Tracked::Updated(_)), "{newer:?}");
    assert_eq!(ids(&tracker.all_subscribers(SubscribedEvent::new(TRASH)).await.unwrap()), [alice.as_str()]);
    // A SkillDisabled older than the stored state is stale.
    let stale = tracker.handle(&skill_disabled(&alice, recent(350), "d2")).await.unwrap();
    assert!(matches!(stale, Handled::Subscriptions(Tracked::Stale(_))), "{stale:?}");
    assert!(tracker.get(&alice).await.unwrap().is_some());
}

/// Tombstones older than the TTL are removed by the stores that purge them
/// (memory, SQLite); DynamoDB leaves it to its time to live.
async fn old_tombstones_are_purged<S: SubscriptionStore>(store: S, purges: bool) {
    let tracker = SubscriptionTracker::new(store);
    let alice = user("alice");
    let now = Utc::now();
    let long_ago = now - TOMBSTONE_TTL - chrono::Duration::minutes(1);
    let millis = |t: DateTime<Utc>| json!(t.timestamp_millis());
    tracker.handle(&skill_disabled(&alice, millis(long_ago), "d-old")).await.unwrap();
    let bob = user("bob");
    tracker.handle(&skill_disabled(&bob, millis(now), "d-new")).await.unwrap();
    let removed = tracker.purge_tombstones().await.unwrap();
    let older = long_ago - chrono::Duration::seconds(1);
    let late = tracker.apply(&request(&alice, millis(older), "a-old", NA, &[WEATHER])).await.unwrap();
    if purges {
        // The purge at bob's SkillDisabled already removed alice's tombstone.
        assert!(removed <= 1);
        assert!(matches!(late, Tracked::Updated(_)), "the expired tombstone is gone: {late:?}");
    } else {
        assert_eq!(removed, 0);
        assert!(matches!(late, Tracked::Disabled(_)), "DynamoDB keeps it until its time to live: {late:?}");
    }
    let recent = tracker.apply(&request(&bob, millis(now - chrono::Duration::seconds(1)), "b", NA, &[WEATHER])).await;
    assert!(matches!(recent.unwrap(), Tracked::Disabled(_)), "a fresh tombstone is kept");
}

/// Subscribes `count` users (`page-user-00000`, ...) to `event`, 16 at a time.
async fn subscribe_many<S: SubscriptionStore>(
    tracker: &SubscriptionTracker<S>,
    event: &str,
    count: usize,
) -> Vec<String> {
    let names: Vec<String> = (0..count).map(|i| format!("page-user-{i:05}")).collect();
    futures_util::stream::iter(&names)
        .for_each_concurrent(16, |name| async move {
            tracker.apply(&request(&user(name), at(1), "p1", NA, &[event])).await.unwrap();
        })
        .await;
    names.iter().map(|name| user(name).as_str().to_owned()).collect()
}

/// 2,500 subscribers in pages of 1,000: each exactly once, in order; a
/// resumed cursor continues where it stopped; an empty event is an empty stream.
async fn pages_give_every_subscriber_once_in_order<S: SubscriptionStore>(store: S) {
    let tracker = SubscriptionTracker::new(store);
    let expected = subscribe_many(&tracker, WEATHER, 2_500).await;
    tracker.apply(&request(&user("other"), at(1), "o", NA, &[TRASH])).await.unwrap();
    let pages: Vec<_> =
        tracker.subscriber_pages(SubscribedEvent::new(WEATHER), None, 1_000).try_collect().await.unwrap();
    let sizes: Vec<usize> = pages.iter().map(|page| page.subscribers.len()).collect();
    assert!(sizes.iter().all(|&size| size <= 1_000), "{sizes:?}");
    let listed: Vec<String> =
        pages.iter().flat_map(|page| &page.subscribers).map(|s| s.user_id.as_str().to_owned()).collect();
    assert_eq!(listed, expected, "every subscriber once, sorted by user id");
    // Resuming after the first page's cursor gives the rest.
    let cursor = pages[0].next.clone().expect("a full first page has a cursor");
    let rest: Vec<Subscriber> = tracker
        .subscriber_pages(SubscribedEvent::new(WEATHER), Some(cursor), 700)
        .map_ok(|p| p.subscribers)
        .try_concat()
        .await
        .unwrap();
    assert_eq!(ids(&rest), expected[1_000..].iter().map(String::as_str).collect::<Vec<_>>());
    let streamed: Vec<Subscriber> =
        tracker.subscriber_stream(EventName::WeatherAlertActivated).try_collect().await.unwrap();
    assert_eq!(streamed.len(), 2_500);
    let empty: Vec<Subscriber> = tracker.subscriber_stream(SubscribedEvent::new(FLIGHT)).try_collect().await.unwrap();
    assert!(empty.is_empty(), "an event nobody subscribes to gives an empty stream");
}

/// Users added and removed between pages: each appears at most once, and
/// those present throughout appear exactly once.
async fn paging_while_users_change_lists_no_one_twice<S: SubscriptionStore>(store: S) {
    let tracker = SubscriptionTracker::new(store);
    let initial = subscribe_many(&tracker, WEATHER, 300).await;
    let mut pages = std::pin::pin!(tracker.subscriber_pages(SubscribedEvent::new(WEATHER), None, 50));
    let mut seen = Vec::new();
    let mut round = 0;
    while let Some(page) = pages.next().await {
        seen.extend(page.unwrap().subscribers.into_iter().map(|s| s.user_id.as_str().to_owned()));
        round += 1;
        // Between pages: a new user before the cursor, one after it, and one removed ahead.
        let early = user(&format!("page-user-{:05}a", round));
        let late = user(&format!("page-user-{:05}z", 300 - round));
        tracker.apply(&request(&early, at(1), "n", NA, &[WEATHER])).await.unwrap();
        tracker.apply(&request(&late, at(1), "n", NA, &[WEATHER])).await.unwrap();
        let gone = user(&format!("page-user-{:05}", 299 - round * 7));
        tracker.apply(&request(&gone, at(2), "gone", NA, &[])).await.unwrap();
    }
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no user appears twice");
    let removed: HashSet<String> =
        (1..=round).map(|r| user(&format!("page-user-{:05}", 299 - r * 7)).as_str().to_owned()).collect();
    for id in initial.iter().filter(|id| !removed.contains(*id)) {
        assert!(unique.contains(id), "{id} was subscribed throughout and must be listed");
    }
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "pages stay in user id order");
}

/// Equal timestamps on any store: the greater request id wins.
async fn equal_timestamps_are_ordered_by_request_id<S: SubscriptionStore>(store: S) {
    let tracker = SubscriptionTracker::new(store);
    let alice = user("alice");
    tracker.apply(&request(&alice, at(0), "b", NA, &[WEATHER])).await.unwrap();
    let outcome = tracker.apply(&request(&alice, at(0), "a", NA, &[TRASH])).await.unwrap();
    assert!(matches!(outcome, Tracked::Stale(_)), "{outcome:?}");
    let outcome = tracker.apply(&request(&alice, at(0), "c", NA, &[TRASH])).await.unwrap();
    assert!(matches!(outcome, Tracked::Updated(_)), "{outcome:?}");
}

#[tokio::test]
async fn the_sqlite_store_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested-name.sqlite3");
    let alice = user("alice");
    let bob = user("bob");
    {
        let tracker = SubscriptionTracker::new(SqliteStore::open(&path).unwrap());
        tracker
            .apply(&request(&alice, json!("2024-05-01T12:00:00.123456789Z"), "a1", EU, &[WEATHER, FLIGHT]))
            .await
            .unwrap();
        tracker.apply(&request(&bob, at(0), "b1", NA, &[TRASH])).await.unwrap();
        tracker.apply(&request(&bob, at(1), "b2", NA, &[])).await.unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.path(), path);
    let tracker = SubscriptionTracker::new(store);
    let alice_state = tracker.get(&alice).await.unwrap().unwrap();
    assert_eq!(alice_state.events, set(&[WEATHER, FLIGHT]));
    assert_eq!(alice_state.timestamp, "2024-05-01T12:00:00.123456789Z".parse::<DateTime<Utc>>().unwrap());
    assert_eq!(alice_state.request_id, "a1");
    assert_eq!(alice_state.region(), Some(Region::Europe));
    assert_eq!(tracker.get(&bob).await.unwrap().unwrap().request_id, "b2");
    assert_eq!(ids(&tracker.all_subscribers(SubscribedEvent::new(FLIGHT)).await.unwrap()), [alice.as_str()]);
    // The stored timestamps still order what comes after the restart.
    let late = tracker.apply(&request(&bob, at(0), "b1", NA, &[TRASH])).await.unwrap();
    assert!(matches!(late, Tracked::Stale(_)), "{late:?}");
}

#[test]
fn the_sqlite_store_works_outside_a_tokio_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let tracker = SubscriptionTracker::new(SqliteStore::open(dir.path().join("subs.db")).unwrap());
    let alice = user("alice");
    let outcome = block_on(tracker.apply(&request(&alice, at(0), "a1", NA, &[WEATHER]))).unwrap();
    assert!(matches!(outcome, Tracked::Updated(_)));
    assert_eq!(ids(&block_on(tracker.all_subscribers(EventName::WeatherAlertActivated)).unwrap()), [alice.as_str()]);
}

/// Polls a future to completion on this thread, with no runtime at all.
fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Arc::new(Unpark(std::thread::current())).into();
    let mut context = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::park();
    }
}

#[test]
fn opening_a_file_that_is_not_a_database_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "these are not the subscriptions you are looking for, not by a long way".repeat(20)).unwrap();
    let error = SqliteStore::open(&path).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("could not create the subscription tables in `{}`; is it a SQLite database?", path.display())
    );
    assert!(std::error::Error::source(&error).is_some());
    let missing_dir = dir.path().join("no-such-dir").join("subs.db");
    let error = SqliteStore::open(&missing_dir).unwrap_err().to_string();
    assert!(error.starts_with("could not open the subscription database"), "{error}");
}

// --- Order independence -----------------------------------------------------

/// One generated request: which user, when, and which events.
#[derive(Clone, Debug)]
struct Update {
    user: usize,
    millis: i64,
    /// Unique per update, as Amazon's request ids are.
    request_id: String,
    events: Vec<usize>,
    endpoint: usize,
    /// Whether the timestamp is sent as ISO 8601 text instead of epoch ms.
    iso: bool,
}

impl Update {
    fn user_id(&self) -> UserId {
        user(&format!("user-{}", self.user))
    }

    fn request(&self, names: &[String]) -> SubscriptionChangedRequest {
        let events: Vec<&str> = self.events.iter().map(|&i| names[i].as_str()).collect();
        let timestamp = if self.iso {
            let time = DateTime::from_timestamp_millis(1_714_564_800_000 + self.millis).unwrap();
            json!(time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        } else {
            at(self.millis)
        };
        request(&self.user_id(), timestamp, &self.request_id, [NA, EU, FE][self.endpoint], &events)
    }
}

/// Up to 40 updates for 4 users over 12 ms, so that users repeat and many
/// updates share a timestamp.
fn updates() -> impl Strategy<Value = Vec<Update>> {
    let update = (0..4usize, 0..12i64, prop::collection::btree_set(0..10usize, 0..5), 0..3usize, any::<bool>());
    prop::collection::vec(update, 0..40).prop_map(|raw| {
        raw.into_iter()
            .enumerate()
            .map(|(i, (user, millis, events, endpoint, iso))| Update {
                user,
                millis,
                request_id: format!("amzn1.echo-api.request.{i}"),
                events: events.into_iter().collect(),
                endpoint,
                iso,
            })
            .collect()
    })
}

/// Everything a store holds for the generated users and events.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    users: Vec<Option<UserSubscriptions>>,
    subscribers: Vec<Vec<Subscriber>>,
}

async fn snapshot<S: SubscriptionStore>(tracker: &SubscriptionTracker<S>, names: &[String]) -> Snapshot {
    let mut users = Vec::new();
    for i in 0..4 {
        users.push(tracker.get(&user(&format!("user-{i}"))).await.unwrap());
    }
    let mut subscribers = Vec::new();
    for name in names {
        subscribers.push(tracker.all_subscribers(SubscribedEvent::new(name)).await.unwrap());
    }
    Snapshot { users, subscribers }
}

/// Applies `updates` in the given order, checking every report against a model
/// that knows the rule (newest by timestamp, then request id), and returns the
/// final snapshot.
async fn apply_all<S: SubscriptionStore>(store: S, updates: &[Update], names: &[String]) -> Snapshot {
    let tracker = SubscriptionTracker::new(store);
    let mut model: BTreeMap<UserId, UserSubscriptions> = BTreeMap::new();
    for update in updates {
        let request = update.request(names);
        let state = request.to_user_subscriptions();
        let outcome = tracker.apply(&request).await.unwrap();
        let previous = model.get(&state.user_id);
        match outcome {
            Tracked::Updated(change) => {
                assert!(previous.is_none_or(|p| state.supersedes(p)), "{update:?} must be stale");
                let before = previous.map(|p| p.events.clone()).unwrap_or_default();
                assert_eq!(change.added(), &state.events.difference(&before).cloned().collect());
                assert_eq!(change.removed(), &before.difference(&state.events).cloned().collect());
                assert_eq!(change.current(), &state.events);
                assert_eq!(change.is_first_seen(), previous.is_none());
                model.insert(state.user_id.clone(), state);
            }
            Tracked::Stale(stale) => {
                assert_eq!(Some(stale.stored()), previous, "{update:?}");
                assert!(!state.supersedes(stale.stored()), "{update:?} must not be stale");
            }
            Tracked::Disabled(tombstone) => panic!("no user disabled the skill here: {tombstone:?}"),
        }
    }
    let snapshot = snapshot(&tracker, names).await;
    for (i, stored) in snapshot.users.iter().enumerate() {
        assert_eq!(stored.as_ref(), model.get(&user(&format!("user-{i}"))));
    }
    snapshot
}

fn in_timestamp_order(updates: &[Update]) -> Vec<Update> {
    let mut sorted = updates.to_vec();
    sorted.sort_by(|a, b| (a.millis, &a.request_id).cmp(&(b.millis, &b.request_id)));
    sorted
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// Any store ends in the same state whatever the order updates arrive in, and
/// agrees with the memory store.
async fn state_does_not_depend_on_arrival_order<S: SubscriptionStore>(
    (first, second): (S, S),
    updates: &[Update],
    shuffled: &[Update],
) {
    let names = event_names();
    let ordered = apply_all(first, &in_timestamp_order(updates), &names).await;
    let arrived = apply_all(second, shuffled, &names).await;
    assert_eq!(arrived, ordered);
    assert_eq!(apply_all(MemoryStore::new(), shuffled, &names).await, arrived);
}

// --- Concurrency --------------------------------------------------------------

const TASKS: usize = 8;
const UPDATES_PER_TASK: usize = 1_000;
const SHARED_USERS: usize = 16;
/// Updates each user of a task's own receives.
const UPDATES_PER_OWN_USER: usize = 4;

/// Whether update `i` of a task goes to a user of the task's own.
fn is_own(i: usize) -> bool {
    i.is_multiple_of(2)
}

/// Update `i` of task `task`: even updates go to users of the task's own (4
/// each), odd ones to one of a few users every task writes to. Timestamps are
/// unique across all tasks, so the newest state of each user is known in
/// advance.
fn concurrent_update(task: usize, i: usize) -> (UserId, i64, Vec<&'static str>) {
    let user_id = if is_own(i) {
        user(&format!("own-{task}-{}", (i / 2) % (UPDATES_PER_TASK / 2 / UPDATES_PER_OWN_USER)))
    } else {
        user(&format!("shared-{}", (i / 2) % SHARED_USERS))
    };
    let millis = i64::try_from(i * TASKS + task).unwrap();
    let bits = (task * 31 + i * 7) % 256;
    let events =
        EventName::ALL.iter().enumerate().filter(|(b, _)| bits & (1 << b) != 0).map(|(_, n)| n.as_str()).collect();
    (user_id, millis, events)
}

/// The order a task applies its updates in: a fixed shuffle per task, so that
/// every user's updates arrive out of order.
fn arrival_order(task: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..UPDATES_PER_TASK).collect();
    fastrand::Rng::with_seed(task as u64).shuffle(&mut order);
    order
}

async fn check_concurrent_result<S: SubscriptionStore>(tracker: &SubscriptionTracker<S>) {
    let mut expected: BTreeMap<UserId, (i64, Vec<&'static str>)> = BTreeMap::new();
    for task in 0..TASKS {
        for i in 0..UPDATES_PER_TASK {
            let (user_id, millis, events) = concurrent_update(task, i);
            let entry = expected.entry(user_id).or_insert((i64::MIN, Vec::new()));
            if millis > entry.0 {
                *entry = (millis, events);
            }
        }
    }
    assert_eq!(expected.len(), TASKS * UPDATES_PER_TASK / 2 / UPDATES_PER_OWN_USER + SHARED_USERS);
    for (user_id, (millis, events)) in &expected {
        let stored = tracker.get(user_id).await.unwrap().unwrap_or_else(|| panic!("{user_id} was lost"));
        assert_eq!(stored.timestamp, DateTime::from_timestamp_millis(1_714_564_800_000 + millis).unwrap(), "{user_id}");
        assert_eq!(stored.events, set(events), "{user_id}");
    }
    for name in EventName::ALL {
        let expected: Vec<&str> = expected
            .iter()
            .filter(|(_, (_, events))| events.contains(&name.as_str()))
            .map(|(u, _)| u.as_str())
            .collect();
        assert_eq!(ids(&tracker.all_subscribers(name).await.unwrap()), expected, "{name}");
    }
}

/// One task's updates, in its arrival order; for its own users, checks each
/// report against what the task itself applied before.
async fn apply_task<S: SubscriptionStore>(tracker: &SubscriptionTracker<S>, task: usize) -> usize {
    let mut newest_own: BTreeMap<UserId, i64> = BTreeMap::new();
    let mut applied = 0;
    for i in arrival_order(task) {
        let (user_id, millis, events) = concurrent_update(task, i);
        let request = request(&user_id, at(millis), &format!("t{task}-{i}"), NA, &events);
        let outcome = tracker.apply(&request).await.unwrap();
        if is_own(i) {
            let newest = newest_own.get(&user_id).copied();
            match &outcome {
                Tracked::Updated(change) => {
                    assert!(newest.is_none_or(|n| n < millis), "{user_id}: an older update replaced a newer one");
                    assert_eq!(change.is_first_seen(), newest.is_none(), "{user_id}");
                    newest_own.insert(user_id, millis);
                }
                Tracked::Stale(stale) => {
                    assert!(newest.is_some_and(|n| n > millis), "{user_id}: the newest update was called stale");
                    assert_eq!(
                        stale.stored().timestamp,
                        DateTime::from_timestamp_millis(1_714_564_800_000 + newest.unwrap()).unwrap()
                    );
                }
                Tracked::Disabled(tombstone) => panic!("no user disabled the skill here: {tombstone:?}"),
            }
        }
        applied += 1;
    }
    applied
}

/// 8 tasks apply 1,000 updates each, shuffled, half to users every task
/// writes: nothing is lost and the newest state of every user is kept.
async fn eight_tasks_applying_a_thousand_out_of_order_updates_lose_nothing<S>(store: S)
where
    S: SubscriptionStore + 'static,
{
    let tracker = Arc::new(SubscriptionTracker::new(store));
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let tracker = Arc::clone(&tracker);
        tasks.push(tokio::spawn(async move { apply_task(&tracker, task).await }));
    }
    let mut applied = 0;
    for task in tasks {
        applied += task.await.unwrap();
    }
    assert_eq!(applied, TASKS * UPDATES_PER_TASK);
    check_concurrent_result(&tracker).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sqlite_updates_are_all_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("subs.db");
    eight_tasks_applying_a_thousand_out_of_order_updates_lose_nothing(SqliteStore::open(&path).unwrap()).await;
    let reopened = SubscriptionTracker::new(SqliteStore::open(&path).unwrap());
    check_concurrent_result(&reopened).await;
}

// --- The stores ---------------------------------------------------------------

/// The whole suite for one store. `$make` is an async block giving
/// `Option<(store, guard)>`: the guard keeps what the store needs alive (a
/// directory), `None` skips (no local AWS).
macro_rules! store_suite {
    ($name:ident, cases = $cases:expr, purges = $purges:expr, $make:expr) => {
        mod $name {
            use super::*;

            #[tokio::test]
            async fn reports_changes_and_stale_requests() {
                let Some((store, _guard)) = $make.await else { return };
                super::reports_changes_and_stale_requests(store).await;
            }

            #[tokio::test]
            async fn disables_a_user() {
                let Some((store, _guard)) = $make.await else { return };
                super::disable_forgets_a_user(store).await;
            }

            #[tokio::test]
            async fn a_late_older_request_does_not_bring_a_disabled_user_back() {
                let Some((store, _guard)) = $make.await else { return };
                super::a_late_older_request_does_not_bring_a_disabled_user_back(store).await;
            }

            #[tokio::test]
            async fn old_tombstones_are_purged() {
                let Some((store, _guard)) = $make.await else { return };
                super::old_tombstones_are_purged(store, $purges).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn pages_give_every_subscriber_once_in_order() {
                let Some((store, _guard)) = $make.await else { return };
                super::pages_give_every_subscriber_once_in_order(store).await;
            }

            #[tokio::test]
            async fn paging_while_users_change_lists_no_one_twice() {
                let Some((store, _guard)) = $make.await else { return };
                super::paging_while_users_change_lists_no_one_twice(store).await;
            }

            #[tokio::test]
            async fn equal_timestamps_are_ordered_by_request_id() {
                let Some((store, _guard)) = $make.await else { return };
                super::equal_timestamps_are_ordered_by_request_id(store).await;
            }

            #[tokio::test]
            async fn a_new_endpoint_moves_every_subscription() {
                let Some((store, _guard)) = $make.await else { return };
                super::a_new_endpoint_moves_every_subscription(store).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn eight_tasks_applying_a_thousand_out_of_order_updates_lose_nothing() {
                let Some((store, _guard)) = $make.await else { return };
                super::eight_tasks_applying_a_thousand_out_of_order_updates_lose_nothing(store).await;
            }

            proptest! {
                #![proptest_config(ProptestConfig { cases: $cases, ..ProptestConfig::default() })]

                #[test]
                fn state_does_not_depend_on_arrival_order(
                    (updates, shuffled) in updates().prop_flat_map(|u| (Just(u.clone()), Just(u).prop_shuffle()))
                ) {
                    runtime().block_on(async {
                        let (Some((first, _first)), Some((second, _second))) = ($make.await, $make.await) else {
                            return;
                        };
                        super::state_does_not_depend_on_arrival_order((first, second), &updates, &shuffled).await;
                    });
                }
            }
        }
    };
}

async fn memory() -> Option<(MemoryStore, ())> {
    Some((MemoryStore::new(), ()))
}

async fn sqlite() -> Option<(SqliteStore, TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{}.db", proactive_tests::unique_name("subs")));
    Some((SqliteStore::open(path).unwrap(), dir))
}

/// A new table on the local AWS (moto); `None` when it cannot start.
async fn dynamodb() -> Option<(DynamoDbStore, ())> {
    let moto = proactive_tests::moto()?;
    let client = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
    let store = DynamoDbStore::create_table(client, proactive_tests::unique_name("subscriptions")).await.unwrap();
    Some((store, ()))
}

store_suite!(memory_store, cases = 256, purges = true, memory());
// Each case writes two SQLite files or two DynamoDB tables; fewer cases keep the suite quick.
store_suite!(sqlite_store, cases = 64, purges = true, sqlite());
store_suite!(dynamodb_store, cases = 8, purges = false, dynamodb());
