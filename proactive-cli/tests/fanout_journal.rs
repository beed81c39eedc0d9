//! `proactive fanout`'s journal: a second run with the same journal skips
//! every subscriber the first settled, and a journal from another fan-out
//! (another event key, another template, another store) is refused before
//! anything is sent.

use std::path::Path;
use std::process::{Command, Output};

use assert_cmd::cargo::cargo_bin;
use proactive_core::chrono::{self, Utc};
use serde_json::json;

const WEATHER: &str = "AMAZON.WeatherAlert.Activated";

fn proactive(dir: &Path, args: &[&str]) -> Output {
    Command::new(cargo_bin!("proactive")).current_dir(dir).args(args).output().unwrap()
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// `subs.db` with three weather subscribers, and two templates.
fn setup(dir: &Path) {
    let now = Utc::now();
    let lines: Vec<String> = ["alice", "bob", "carol"]
        .iter()
        .enumerate()
        .map(|(i, user)| {
            json!({
                "version": "1.0",
                "context": {"System": {
                    "application": {"applicationId": "amzn1.ask.skill.test"},
                    "user": {"userId": format!("amzn1.ask.account.{user}")},
                    "apiEndpoint": "https://api.amazonalexa.com"
                }},
                "request": {
                    "type": "AlexaSkillEvent.ProactiveSubscriptionChanged",
                    "requestId": format!("r-{i}"),
                    "timestamp": (now - chrono::Duration::minutes(5)).to_rfc3339(),
                    "body": {"subscriptions": [{"eventName": WEATHER}]}
                }
            })
            .to_string()
        })
        .collect();
    std::fs::write(dir.join("requests.jsonl"), lines.join("\n") + "\n").unwrap();
    let applied = proactive(dir, &["subscriptions", "apply", "--subscribers", "subs.db", "requests.jsonl"]);
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied));
    for (name, alert) in [("storm.json", "TORNADO"), ("hurricane.json", "HURRICANE")] {
        let envelope = json!({
            "timestamp": now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "referenceId": "template",
            "expiryTime": (now + chrono::Duration::hours(23)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "event": {"name": WEATHER, "payload": {"weatherAlert": {"alertType": alert}}},
            "localizedAttributes": [],
            "relevantAudience": {"type": "Multicast", "payload": {}}
        });
        std::fs::write(dir.join(name), envelope.to_string()).unwrap();
    }
}

fn fanout<'a>(key: &'a str, template: &'a str) -> Vec<&'a str> {
    vec!["fanout", "--sandbox", "--subscribers", "subs.db", "--event-key", key, "--journal", "j", template]
}

#[test]
fn a_journal_resumes_its_own_fanout_and_refuses_another() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    setup(dir);
    let first = proactive(dir, &fanout("storm-1", "storm.json"));
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    assert_eq!(text(&first).matches(": accepted").count(), 3, "{}", text(&first));
    assert!(text(&first).contains("subs.db#amzn1.ask.account.alice: accepted"), "{}", text(&first));

    // The same fan-out again: everyone is settled, nothing is sent.
    let again = proactive(dir, &fanout("storm-1", "storm.json"));
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert_eq!(text(&again).matches(": skipped").count(), 3, "{}", text(&again));
    assert_eq!(text(&again).matches(": accepted").count(), 0, "{}", text(&again));

    // Another event key, or another template: refused before anything is sent.
    for (key, template) in [("storm-2", "storm.json"), ("storm-1", "hurricane.json")] {
        let other = proactive(dir, &fanout(key, template));
        assert_eq!(other.status.code(), Some(2), "{key} {template}: {}", text(&other));
        assert!(text(&other).contains("the journal `j` was written for"), "{}", text(&other));
        assert_eq!(text(&other).matches(": accepted").count(), 0, "{}", text(&other));
    }

    // An output that is the store is refused.
    let clash = proactive(
        dir,
        &["fanout", "--sandbox", "--subscribers", "subs.db", "--event-key", "k", "--failed", "./subs.db", "storm.json"],
    );
    assert_eq!(clash.status.code(), Some(2), "{}", text(&clash));
    assert!(text(&clash).contains("--failed `./subs.db` is the input `subs.db`"), "{}", text(&clash));
}

#[test]
fn no_subscriber_is_said_and_exits_zero_and_a_missing_store_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    setup(dir);
    let trash = std::fs::read_to_string(dir.join("storm.json")).unwrap().replace(
        r#""name":"AMAZON.WeatherAlert.Activated","payload":{"weatherAlert":{"alertType":"TORNADO"}}"#,
        r#""name":"AMAZON.TrashCollectionAlert.Activated","payload":{"alert":{"garbageTypes":["RECYCLABLE_PLASTICS"],"collectionDayOfWeek":"TUESDAY"}}"#,
    );
    std::fs::write(dir.join("trash.json"), trash).unwrap();
    let none = proactive(dir, &["fanout", "--sandbox", "--subscribers", "subs.db", "--event-key", "k", "trash.json"]);
    assert_eq!(none.status.code(), Some(0), "{}", text(&none));
    assert!(
        text(&none).contains("has no subscriber of `AMAZON.TrashCollectionAlert.Activated`: nothing to send"),
        "{}",
        text(&none)
    );
    let missing =
        proactive(dir, &["fanout", "--sandbox", "--subscribers", "nope.db", "--event-key", "k", "storm.json"]);
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing));
    assert!(text(&missing).contains("cannot open the subscription store `nope.db`"), "{}", text(&missing));
    assert!(!dir.join("nope.db").exists(), "a missing store is never created");
}
