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
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(example_binary())
        .args([format!("127.0.0.1:{port}"), database.display().to_string()])
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
