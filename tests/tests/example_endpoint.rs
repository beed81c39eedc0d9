//! The `subscriptions` example, run as its README command runs it: an
//! unsigned POST and one signed by an untrusted CA get 400 and store nothing;
//! the same event signed by the sandbox's Alexa, whose CA the example was told
//! to trust, is stored.
//!
//! `cargo test --workspace` builds the example before running tests; run alone,
//! this test builds it first.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use proactive_core::UserId;
use proactive_core::schemas::EventName;
use proactive_core::subscription::{SqliteStore, SubscriptionStore};
use proactive_sandbox::{Alexa, skill_event};

const SKILL: &str = "amzn1.ask.skill.example-test";
const USER: &str = "amzn1.ask.account.EXAMPLE";

/// `target/debug/examples/subscriptions`, built if missing.
fn example_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let binary = profile_dir.join("examples").join(format!("subscriptions{}", std::env::consts::EXE_SUFFIX));
    if !binary.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "-p", "proactive-core", "--features", "sqlite", "--example", "subscriptions"])
            .status()
            .unwrap();
        assert!(status.success(), "could not build the example");
    }
    binary
}

/// The example on a free port; killed on drop.
struct Endpoint {
    child: Child,
    url: String,
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(database: &Path, sandbox_dir: &Path) -> Endpoint {
    start_with(database, sandbox_dir, &[])
}

/// The example under `ulimit -n 1024` (as a typical service runs), with `env` set.
fn start_with(database: &Path, sandbox_dir: &Path, env: &[(&str, &str)]) -> Endpoint {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new("sh")
        .args(["-c", "ulimit -n 1024 && exec \"$0\" \"$@\""])
        .arg(example_binary())
        .args([format!("127.0.0.1:{port}"), database.display().to_string()])
        .envs(env.iter().copied())
        .env("PROACTIVE_SKILL_ID", SKILL)
        .env("PROACTIVE_SANDBOX_ALEXA", sandbox_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The example prints `listening on …` once it accepts connections.
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let listening = lines.by_ref().map_while(Result::ok).find(|line| line.starts_with("listening on"));
    assert!(listening.is_some(), "the example did not start");
    std::thread::spawn(move || lines.for_each(drop));
    Endpoint { child, url: format!("http://127.0.0.1:{port}/alexa/events") }
}

/// A POST without signature headers; returns the status code.
fn unsigned_post(url: &str, body: &str) -> u16 {
    let address = url.trim_start_matches("http://").split('/').next().unwrap();
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "POST /alexa/events HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test]
async fn only_requests_signed_by_a_trusted_alexa_are_stored() {
    let dir = tempfile::tempdir().unwrap();
    let trusted_dir = dir.path().join("trusted");
    let trusted = Alexa::open(&trusted_dir).unwrap();
    let stranger = Alexa::open(dir.path().join("stranger")).unwrap();
    // Let the example find the stranger's chain too, so that it is refused for
    // its root, not for a failed download.
    let name = stranger.cert_chain_url().rsplit('/').next().unwrap();
    std::fs::write(trusted_dir.join(name), stranger.chain_pem()).unwrap();

    let database = dir.path().join("subscriptions.db");
    let endpoint = start(&database, &trusted_dir);
    let event = skill_event::subscription_changed(SKILL, USER, &["AMAZON.WeatherAlert.Activated"]);

    assert_eq!(unsigned_post(&endpoint.url, &event.to_string()), 400, "unsigned");
    let answer = stranger.post(&endpoint.url, &event).await.unwrap();
    assert_eq!(answer.status, 400, "untrusted CA: {}", answer.body);
    assert!(answer.body.contains("does not lead to a trusted root"), "{}", answer.body);

    let store = SqliteStore::open(&database).unwrap();
    let user = UserId::new(USER).unwrap();
    assert_eq!(store.get(&user).await.unwrap(), None, "nothing stored from refused requests");

    let answer = trusted.post(&endpoint.url, &event).await.unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    let page = store.subscribers_page(&EventName::WeatherAlertActivated.into(), None, 10).await.unwrap();
    assert_eq!(page.subscribers.iter().map(|s| s.user_id.as_str()).collect::<Vec<_>>(), [USER]);

    // The user disables the skill: forgotten.
    let answer = trusted.post(&endpoint.url, &skill_event::skill_disabled(SKILL, USER)).await.unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(store.get(&user).await.unwrap(), None);
}

/// Raises this process's soft open-file limit to `at_least` if it is lower
/// (with `prlimit`, as the workspace forbids the `unsafe` a direct call needs);
/// the hard limit must allow it.
fn raise_open_files(at_least: u64) {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
    let soft: u64 = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .and_then(|line| line.split_whitespace().nth(3))
        .and_then(|soft| soft.parse().ok())
        .unwrap_or(u64::MAX);
    if soft < at_least {
        let pid = std::process::id().to_string();
        let status = Command::new("prlimit").args(["--pid", &pid, &format!("--nofile={at_least}:")]).status().unwrap();
        assert!(
            status.success(),
            "cannot raise the open-file limit to {at_least} (this test holds 1,100 connections): raise the hard limit"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_event_is_answered_while_1100_idle_connections_are_held() {
    raise_open_files(2400);
    let dir = tempfile::tempdir().unwrap();
    let alexa_dir = dir.path().join("alexa");
    let alexa = Alexa::open(&alexa_dir).unwrap();
    let endpoint = start_with(&dir.path().join("subscriptions.db"), &alexa_dir, &[]);
    let address = endpoint.url.trim_start_matches("http://").split('/').next().unwrap().to_owned();

    // More idle connections than the endpoint has file descriptors.
    let idle: Vec<TcpStream> =
        tokio::task::spawn_blocking(move || (0..1100).map(|_| TcpStream::connect(&address).unwrap()).collect())
            .await
            .unwrap();
    assert_eq!(idle.len(), 1100);

    let event = skill_event::subscription_changed(SKILL, USER, &["AMAZON.WeatherAlert.Activated"]);
    // Without a connection cap it is never answered.
    let answer = tokio::time::timeout(std::time::Duration::from_secs(1), alexa.post(&endpoint.url, &event))
        .await
        .expect("the signed event was not answered within 1 s while idle connections were held")
        .unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    drop(idle);
}

/// Reads what the endpoint sends until it closes the connection; panics if it
/// is still open after 10 s (the endpoint's timeouts here are 300 ms).
fn until_closed(mut stream: TcpStream, what: &str) -> String {
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    let mut answer = Vec::new();
    match stream.read_to_end(&mut answer) {
        Ok(_) => String::from_utf8_lossy(&answer).into_owned(),
        // Closed with unread bytes of ours: a reset is a close too.
        Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {
            String::from_utf8_lossy(&answer).into_owned()
        }
        Err(error) => panic!("{what}: the endpoint kept the connection open past its timeout ({error})"),
    }
}

#[test]
fn idle_partial_header_and_stalled_body_connections_are_closed_after_their_timeouts() {
    let dir = tempfile::tempdir().unwrap();
    let alexa_dir = dir.path().join("alexa");
    Alexa::open(&alexa_dir).unwrap();
    let endpoint = start_with(
        &dir.path().join("subscriptions.db"),
        &alexa_dir,
        &[("PROACTIVE_HEADER_TIMEOUT_MS", "300"), ("PROACTIVE_BODY_TIMEOUT_MS", "300")],
    );
    let address = endpoint.url.trim_start_matches("http://").split('/').next().unwrap();

    let idle = TcpStream::connect(address).unwrap();
    let mut partial = TcpStream::connect(address).unwrap();
    write!(partial, "POST /alexa/events HTTP/1.1\r\nHost: {address}\r\nContent-Type: appl").unwrap();
    let mut stalled = TcpStream::connect(address).unwrap();
    write!(stalled, "POST /alexa/events HTTP/1.1\r\nHost: {address}\r\nContent-Length: 100\r\n\r\n{{\"version\"")
        .unwrap();

    until_closed(idle, "idle");
    until_closed(partial, "partial header");
    let answer = until_closed(stalled, "stalled body");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("the body did not arrive within 300 ms"), "{answer}");
}
