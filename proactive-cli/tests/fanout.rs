//! `proactive fanout` on a SQLite subscription store: a fan-out to 100,000
//! subscribers killed halfway and run again with the same journal and event
//! key delivers each subscriber exactly one event; a template without
//! subscribers, an invalid template, a missing store and an output that is the
//! store each get a clear answer and send nothing. The sandbox runs in this
//! process, so it outlives the killed `proactive`; interruptions wait for the
//! sandbox's accepted count, never for a fixed time.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;
use proactive_core::UserId;
use proactive_core::chrono::{self, TimeZone, Utc};
use proactive_core::fanout::stable_reference_id;
use proactive_core::subscription::{SqliteStore, SubscribedEvent, SubscriptionStore, UserSubscriptions};
use proactive_sandbox::{Sandbox, SandboxConfig};
use serde_json::{Value, json};

const EVENT: &str = "AMAZON.OrderStatus.Updated";
const CONCURRENCY: usize = 16;
const SUBSCRIBERS: usize = 100_000;
const KEY: &str = "order-1234/shipped";

fn proactive() -> Command {
    let mut command = Command::new(cargo_bin!("proactive"));
    command.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).stdin(Stdio::null());
    command
}

fn output(command: &mut Command) -> (i32, String, String) {
    let out: Output = command.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs a store call to its end on this thread: outside a Tokio runtime the
/// SQLite store works inline.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::yield_now();
    }
}

/// The user id of subscriber `i`.
fn user(i: usize) -> String {
    format!("amzn1.ask.account.FANOUT{i:07}")
}

/// The Alexa host of subscriber `i`: the three regions in turn.
fn api_endpoint(i: usize) -> &'static str {
    ["https://api.amazonalexa.com", "https://api.eu.amazonalexa.com", "https://api.fe.amazonalexa.com"][i % 3]
}

/// A store at `dir/subscriptions.db` with `count` subscribers of `event`.
fn store(dir: &Path, count: usize, event: &str) -> PathBuf {
    let path = dir.join("subscriptions.db");
    let store = SqliteStore::open(&path).unwrap();
    let timestamp = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    for i in 0..count {
        let state = UserSubscriptions {
            user_id: UserId::new(&user(i)).unwrap(),
            events: BTreeSet::from([SubscribedEvent::new(event)]),
            timestamp,
            request_id: format!("amzn1.echo-api.request.{i}"),
            api_endpoint: api_endpoint(i).to_owned(),
        };
        block_on(store.apply(state)).unwrap();
    }
    path
}

/// A valid OrderStatus template, fresh, at `dir/template.json`.
fn template(dir: &Path) -> PathBuf {
    let now = Utc::now();
    let stamp = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let template = json!({
        "timestamp": stamp(now),
        "referenceId": "replaced-for-each-user",
        "expiryTime": stamp(now + chrono::Duration::hours(2)),
        "event": {"name": EVENT, "payload": {
            "state": {"status": "ORDER_SHIPPED"},
            "order": {"seller": {"name": "localizedattribute:sellerName"}}}},
        "localizedAttributes": [{"locale": "en-US", "sellerName": "Delivery Owl"}],
        "relevantAudience": {"type": "Unicast", "payload": {"user": "amzn1.ask.account.TEMPLATE"}},
    });
    let path = dir.join("template.json");
    std::fs::write(&path, template.to_string()).unwrap();
    path
}

/// A sandbox on its own runtime, which counts the events it accepts as they come.
struct Counted {
    runtime: tokio::runtime::Runtime,
    sandbox: Sandbox,
    accepted: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
}

impl Counted {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let (accepted, requests) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (counted, all) = (Arc::clone(&accepted), Arc::clone(&requests));
        let config = SandboxConfig::new().on_request(move |log| {
            if log.request.contains("proactiveEvents") {
                all.fetch_add(1, Ordering::Relaxed);
                if log.status == 202 {
                    counted.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        let sandbox = runtime.block_on(Sandbox::start_with(config)).unwrap();
        Self { runtime, sandbox, accepted, requests }
    }

    fn fanout(&self, store: &Path, template: &Path, extra: &[&str]) -> Command {
        let mut command = proactive();
        command
            .args(["fanout", "--endpoint", &self.sandbox.base_url(), "--token-url", &self.sandbox.token_url()])
            .args(["--client-id", self.sandbox.client_id(), "--client-secret", self.sandbox.client_secret()])
            .args(["--concurrency", &CONCURRENCY.to_string(), "--format", "json", "--quiet"])
            .args(["--subscribers", store.to_str().unwrap(), "--event-key", KEY])
            .args(extra)
            .arg(template)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Waits until the sandbox accepted `count` events (or the child ended).
    fn wait_for(&self, count: usize, child: &mut Child) {
        let started = Instant::now();
        while self.accepted.load(Ordering::Relaxed) < count {
            assert!(child.try_wait().unwrap().is_none(), "the fan-out ended before it could be interrupted");
            assert!(started.elapsed() < Duration::from_secs(600), "no progress");
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.sandbox.stop();
        let _ = &self.runtime;
    }
}

fn last_json_line(stdout: &[u8]) -> Value {
    let text = String::from_utf8_lossy(stdout);
    serde_json::from_str(text.lines().last().unwrap_or_default()).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn a_fanout_killed_halfway_resumes_from_its_journal_and_each_subscriber_gets_one_event() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path(), SUBSCRIBERS, EVENT);
    let template = template(dir.path());
    let journal = dir.path().join("journal.jsonl");
    let journal_arg = journal.to_str().unwrap();
    let sandbox = Counted::start();

    let mut first = sandbox.fanout(&store, &template, &["--journal", journal_arg]).spawn().unwrap();
    sandbox.wait_for(SUBSCRIBERS / 2, &mut first);
    first.kill().unwrap(); // SIGKILL
    let status = first.wait().unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9));
    let before = sandbox.accepted.load(Ordering::Relaxed);
    assert!(before < SUBSCRIBERS, "killed after everything was sent");
    let recorded = std::fs::read_to_string(&journal).unwrap().lines().count();
    assert!(recorded > 0 && recorded < SUBSCRIBERS, "{recorded} records");

    let second = sandbox.fanout(&store, &template, &["--journal", journal_arg]).output().unwrap();
    assert_eq!(second.status.code(), Some(0), "{}", String::from_utf8_lossy(&second.stderr));
    let summary = last_json_line(&second.stdout);
    let count = |key: &str| summary[key].as_u64().unwrap();
    // Only events in flight at the kill lost their record: sent again, and answered 409.
    let resent = count("already_delivered");
    assert!(resent <= CONCURRENCY as u64, "{resent} sent again at concurrency {CONCURRENCY}: {summary}");
    assert_eq!(count("refused") + count("failed") + count("invalid"), 0, "{summary}");
    assert_eq!(count("skipped") + count("accepted") + resent, SUBSCRIBERS as u64, "{summary}");

    // Every subscriber got exactly one accepted event, with their own stable referenceId.
    assert_eq!(sandbox.accepted.load(Ordering::Relaxed), SUBSCRIBERS);
    let records = sandbox.sandbox.records();
    let mut users: HashMap<String, String> = HashMap::with_capacity(SUBSCRIBERS);
    for accepted in &records.accepted {
        let proactive_core::Audience::Unicast(user) = &accepted.envelope.audience else { panic!("not Unicast") };
        let previous = users.insert(user.to_string(), accepted.envelope.reference_id.to_string());
        assert!(previous.is_none(), "{user} got two events");
    }
    assert_eq!(users.len(), SUBSCRIBERS);
    for i in [0, 1, SUBSCRIBERS / 2, SUBSCRIBERS - 1] {
        let id = UserId::new(&user(i)).unwrap();
        assert_eq!(users[&user(i)], stable_reference_id(KEY, Some(&id)).as_str(), "{}", user(i));
    }
    assert_eq!(records.events_with_status(409), resent, "the repeats are the 409s");
}

#[test]
fn an_event_without_subscribers_says_so_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path(), 3, "AMAZON.WeatherAlert.Activated");
    let template = template(dir.path());
    let sandbox = Counted::start();
    let (code, stdout, stderr) = output(&mut sandbox.fanout(&store, &template, &[]));
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        stdout.trim_end(),
        format!("`{}` has no subscriber of `{EVENT}`: nothing to send", store.display()),
        "{stderr}"
    );
    assert_eq!(sandbox.requests.load(Ordering::Relaxed), 0);
}

#[test]
fn an_invalid_template_is_refused_and_nothing_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path(), 3, EVENT);
    let template = template(dir.path());
    let mut json: Value = serde_json::from_str(&std::fs::read_to_string(&template).unwrap()).unwrap();
    json["event"]["payload"]["state"]["status"] = json!("SHIPPED_SOMEHOW");
    std::fs::write(&template, json.to_string()).unwrap();
    let sandbox = Counted::start();
    let (code, stdout, stderr) = output(&mut sandbox.fanout(&store, &template, &[]));
    assert_eq!(code, 1, "{stdout}{stderr}");
    let path = template.display();
    assert!(stderr.contains(&format!("the template `{path}` is not valid; nothing was sent")), "{stderr}");
    assert!(stderr.contains("event.payload.state.status"), "the field is named: {stderr}");
    assert_eq!(sandbox.requests.load(Ordering::Relaxed), 0, "nothing was sent");
}

#[test]
fn a_missing_store_is_a_clear_error_and_never_created() {
    let dir = tempfile::tempdir().unwrap();
    let template = template(dir.path());
    let missing = dir.path().join("subscriptons.db");
    let (code, stdout, stderr) = output(proactive().args([
        "fanout",
        "--sandbox",
        "--subscribers",
        missing.to_str().unwrap(),
        "--event-key",
        KEY,
        template.to_str().unwrap(),
    ]));
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains(&format!("cannot open the subscription store `{}`", missing.display())), "{stderr}");
    assert!(!missing.exists(), "a misspelled path is not created");
}

#[test]
fn an_output_file_that_is_the_store_is_refused_and_the_store_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path(), 3, EVENT);
    let template = template(dir.path());
    let before = std::fs::read(&store).unwrap();
    let link = dir.path().join("link.db");
    std::fs::hard_link(&store, &link).unwrap();
    let store_arg = store.to_str().unwrap();
    for (flag, path) in [("--journal", store_arg), ("--failed", store_arg), ("--journal", link.to_str().unwrap())] {
        let (code, stdout, stderr) = output(proactive().args([
            "fanout",
            "--sandbox",
            flag,
            path,
            "--subscribers",
            store_arg,
            "--event-key",
            KEY,
            template.to_str().unwrap(),
        ]));
        assert_eq!(code, 2, "{stdout}{stderr}");
        // The store is an input of the run, so the output path guard refuses it as one.
        let expected = format!("{flag} `{path}` is the input `{store_arg}`: it would be overwritten");
        assert!(stderr.contains(&expected), "{stderr}");
        assert_eq!(std::fs::read(&store).unwrap(), before, "the store was changed");
    }
}
