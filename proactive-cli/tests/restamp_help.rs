//! `send --restamp` does what its help says: the help names the clamp and the
//! windows it refuses, and an envelope whose own window breaks Amazon's rule
//! (0 s, negative, 30 days) is refused as invalid, not re-stamped.

use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

fn proactive(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(cargo_bin!("proactive"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .args(args)
        .env_remove("ALEXA_CLIENT_ID")
        .env_remove("ALEXA_CLIENT_SECRET")
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8(out.stdout).unwrap())
}

#[test]
fn the_restamp_help_says_which_windows_are_clamped_and_which_refused() {
    let (code, help) = proactive(&["send", "--help"]);
    assert_eq!(code, Some(0));
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        help.contains(
            "Re-stamp every envelope at each attempt (retries too): sets timestamp to now and expiryTime to now + \
             the envelope's own window, clamped to 6 min..23 h; the referenceId is kept. For envelopes written earlier, which Amazon refuses once their expiry is less \
             than 5 min or more than 24 h away. An envelope whose own window (expiryTime - timestamp) is under 5 min \
             (0 s or negative too) or over 24 h breaks Amazon's rule, and is refused as invalid, not re-stamped"
        ),
        "{help}"
    );
    assert!(!help.contains("5 min..23 h"), "{help}");
}

#[test]
fn restamp_refuses_an_envelope_whose_own_window_breaks_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/events/weather_alert.json")).unwrap();
    let mut lines = String::new();
    for (id, expiry) in
        [("zero", "2026-03-01T08:00:00Z"), ("negative", "2026-03-01T07:00:00Z"), ("month", "2026-03-31T08:00:00Z")]
    {
        let mut v: Value = serde_json::from_str(&example).unwrap();
        v["timestamp"] = "2026-03-01T08:00:00Z".into();
        v["expiryTime"] = expiry.into();
        v["referenceId"] = id.into();
        lines.push_str(&format!("{v}\n"));
    }
    let path = dir.path().join("windows.jsonl");
    std::fs::write(&path, lines).unwrap();
    let (code, stdout) = proactive(&["send", "--sandbox", "--restamp", "--format", "json", path.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{stdout}");
    let events: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events.last().unwrap()["kinds"], serde_json::json!({"invalid": 3}), "{stdout}");
    for event in &events[..3] {
        assert_eq!(event["outcome"], "invalid", "{event}");
        let message = event["problems"][0].as_str().unwrap();
        assert!(
            message.starts_with("error: expiryTime: expiryTime is") && message.contains("the timestamp"),
            "{event}"
        );
    }
}
