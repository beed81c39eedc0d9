//! `proactive send` and Amazon's now-window and refusals, end to end: the
//! README's main job as written, and every kind of refusal through a sandbox
//! that answers chosen users as Amazon answers real ones.

use std::process::Command;

use assert_cmd::cargo::cargo_bin;
use chrono::{Duration, Utc};
use proactive_core::Envelope;
use proactive_sandbox::{Faults, Sandbox, SandboxConfig, ScriptedAnswer};
use serde_json::{Value, json};

fn proactive() -> Command {
    let mut command = Command::new(cargo_bin!("proactive"));
    command.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    command
}

fn scratch(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("proactive-cli-refusals-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

/// The README's first command, split into the arguments after `--`, with
/// `examples/events/*.json` expanded as a shell does.
fn readme_main_job() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let block = readme.split("```sh\n").nth(1).unwrap();
    let mut lines = block.lines();
    let first = lines.next().unwrap().split('#').next().unwrap().trim();
    assert_eq!(lines.next().unwrap().split('#').next().unwrap().trim(), "cargo test --workspace");
    let (cargo, args) = first.split_once(" -- ").unwrap();
    assert_eq!(cargo, "cargo run --release -p proactive-cli");
    let mut expanded = Vec::new();
    for arg in args.split_whitespace() {
        if arg == "examples/events/*.json" {
            let mut files: Vec<String> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/events"))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".json"))
                .map(|name| format!("examples/events/{name}"))
                .collect();
            files.sort();
            expanded.extend(files);
        } else {
            expanded.push(arg.to_owned());
        }
    }
    expanded
}

#[test]
fn the_readme_main_job_sends_8_of_8() {
    let args = readme_main_job();
    assert_eq!(args.iter().filter(|a| a.starts_with("examples/events/")).count(), 8);
    let out = proactive().args(&args).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout
            .lines()
            .last()
            .unwrap()
            .starts_with("8 events: 8 accepted, 0 already delivered, 0 invalid, 0 refused, 0 failed;"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_envelope_the_readme_main_job_sends_satisfies_the_now_window() {
    // The same arguments, sent to a sandbox this test can inspect instead of the embedded one.
    let sandbox = Sandbox::start().await.unwrap();
    let mut args: Vec<String> = readme_main_job().into_iter().filter(|a| a != "--sandbox").collect();
    args.extend(
        [
            "--endpoint",
            &sandbox.base_url(),
            "--token-url",
            &sandbox.token_url(),
            "--client-id",
            sandbox.client_id(),
            "--client-secret",
            sandbox.client_secret(),
        ]
        .map(str::to_owned),
    );
    let before = Utc::now();
    let out = tokio::task::spawn_blocking(move || proactive().args(&args).output().unwrap()).await.unwrap();
    let after = Utc::now();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let accepted = sandbox.records().accepted;
    assert_eq!(accepted.len(), 8);
    for event in &accepted {
        let envelope = &event.envelope;
        assert!(envelope.timestamp >= before - Duration::milliseconds(1) && envelope.timestamp <= after);
        // Within the window both when sent and now, after the run.
        assert!(envelope.check_now_window(envelope.timestamp).is_ok(), "{}", envelope.to_json());
        assert!(envelope.check_now_window(after).is_ok(), "{}", envelope.to_json());
    }
}

#[test]
fn without_restamp_stored_envelopes_are_refused_before_sending() {
    let out = proactive()
        .args(["send", "--sandbox", "--format", "json", "examples/events/weather_alert.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<Value> = out
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    let (summary, event) = (&lines[1], &lines[0]);
    assert_eq!((summary["accepted"].as_u64(), summary["token_requests"].as_u64()), (Some(0), Some(0)));
    assert_eq!(summary["kinds"], json!({"invalid": 1}));
    assert_eq!(
        (&event["source"], &event["outcome"]),
        (&json!("examples/events/weather_alert.json"), &json!("invalid"))
    );
    assert_eq!(event["kind"], "invalid");
    assert_eq!(
        event["hint"],
        "the expiry is outside Amazon's now-window: send it with --restamp, or give it a new timestamp and expiryTime"
    );
    assert!(event["message"].as_str().unwrap().contains("between now + 5 min ("), "{event}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restamp_delivers_a_five_minute_envelope_to_a_clock_2_s_ahead_after_a_retry_3_s_later() {
    // The first attempt is answered 503 with `Retry-After: 3`; the sandbox's clock runs 2 s ahead.
    let faults = Faults { failing_attempts: 1, failing_retry_after_secs: 3, ..Faults::none() };
    let sandbox = Sandbox::start_with(SandboxConfig::new().faults(faults)).await.unwrap();
    sandbox.set_now(Utc::now() + Duration::seconds(2));
    let mut stored: Value =
        serde_json::from_str(&std::fs::read_to_string("../examples/events/weather_alert.json").unwrap()).unwrap();
    let written = Utc::now() - Duration::days(1);
    stored["referenceId"] = json!("restamp-five-minutes");
    stored["timestamp"] = json!(written);
    stored["expiryTime"] = json!(written + Duration::minutes(5));
    let path = scratch("five-minutes.json", &stored.to_string());
    let started = Utc::now();
    let out = proactive()
        .arg("send")
        .args(&one_attempt_against(&sandbox)[..8])
        .args(["--max-attempts", "2", "--restamp", "--format", "json", &path])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = json_lines(&out.stdout);
    assert_eq!(lines[0]["outcome"], "accepted", "{}", lines[0]);
    assert_eq!(sandbox.records().events_with_status(503), 1, "one forced retry");
    let records = sandbox.records();
    let sent = &records.accepted[0].envelope;
    assert_eq!(sent.reference_id.as_str(), "restamp-five-minutes", "the referenceId never changes");
    assert_eq!(sent.expiry_time - sent.timestamp, Duration::minutes(6), "a 5-minute window becomes 6");
    assert!(sent.timestamp >= started + Duration::seconds(3), "re-stamped at the retry: {}", sent.timestamp);
}

/// One envelope per user, as JSONL: the weather alert example, Unicast to `user`.
fn envelopes_for(users: &[String]) -> String {
    let example: Value =
        serde_json::from_str(&std::fs::read_to_string("../examples/events/weather_alert.json").unwrap()).unwrap();
    let mut lines = String::new();
    for (i, user) in users.iter().enumerate() {
        let mut v = example.clone();
        v["referenceId"] = json!(format!("kind-{i}"));
        v["relevantAudience"] = json!({"type": "Unicast", "payload": {"user": user}});
        assert!(Envelope::from_json(&v.to_string()).is_ok());
        lines.push_str(&v.to_string());
        lines.push('\n');
    }
    lines
}

/// The options that send to `sandbox`, one attempt per event, restamped.
fn one_attempt_against(sandbox: &Sandbox) -> [String; 11] {
    [
        "--endpoint".to_owned(),
        sandbox.base_url(),
        "--token-url".to_owned(),
        sandbox.token_url(),
        "--client-id".to_owned(),
        sandbox.client_id().to_owned(),
        "--client-secret".to_owned(),
        sandbox.client_secret().to_owned(),
        "--max-attempts".to_owned(),
        "1".to_owned(),
        "--restamp".to_owned(),
    ]
}

/// One JSON value per non-empty line of `out`.
fn json_lines(out: &[u8]) -> Vec<Value> {
    out.split(|b| *b == b'\n').filter(|l| !l.is_empty()).map(|l| serde_json::from_slice(l).unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_kind_of_refusal_has_its_kind_hint_and_count() {
    let kinds = [
        (ScriptedAnswer::NotSubscribed, "not_subscribed", "drop the subscription and do not retry"),
        (ScriptedAnswer::NotSubscribed, "not_subscribed", "drop the subscription and do not retry"),
        (ScriptedAnswer::NoEnablement, "no_enablement", "the user has not enabled this skill"),
        (ScriptedAnswer::InvalidToken, "invalid_token", "the access token was refused even after a new one"),
        (
            ScriptedAnswer::InvalidRequest("Invalid expiryTime".into()),
            "invalid_request",
            "Amazon found the request malformed",
        ),
        (ScriptedAnswer::RateLimited, "rate_limited", "send more slowly"),
        (ScriptedAnswer::ServerError, "server_error", "retry later with the same referenceId"),
        (ScriptedAnswer::Duplicate, "duplicate", "a new event needs a new referenceId"),
        (ScriptedAnswer::Custom { status: 418, body: json!({"message": "teapot"}) }, "other", "does not document"),
    ];
    let users: Vec<String> = (0..kinds.len()).map(|i| format!("amzn1.ask.account.USER{i}")).collect();
    let mut config = SandboxConfig::new();
    for (user, (answer, _, _)) in users.iter().zip(&kinds) {
        config = config.answer_for(user.clone(), answer.clone());
    }
    let sandbox = Sandbox::start_with(config).await.unwrap();
    let input = scratch("kinds.jsonl", &envelopes_for(&users));
    let failed = scratch("kinds-failed.jsonl", "");
    let connection = one_attempt_against(&sandbox);
    let run = |extra: Vec<String>| {
        let connection = connection.clone();
        tokio::task::spawn_blocking(move || proactive().arg("send").args(connection).args(extra).output().unwrap())
    };

    let out =
        run(vec!["--format".into(), "json".into(), "--failed".into(), failed.clone(), input.clone()]).await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    let mut outcomes = json_lines(&out.stdout);
    let summary = outcomes.pop().unwrap();
    assert_eq!(
        summary["kinds"],
        json!({"duplicate": 1, "invalid_request": 1, "invalid_token": 1, "no_enablement": 1, "not_subscribed": 2,
               "other": 1, "rate_limited": 1, "server_error": 1})
    );
    assert_eq!(outcomes.len(), kinds.len());
    let failed_lines: Vec<Value> =
        std::fs::read_to_string(&failed).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(failed_lines.len(), kinds.len());
    for (i, (_, kind, hint)) in kinds.iter().enumerate() {
        let source = format!("{input}:{}", i + 1);
        for (what, line) in [
            ("--format json", outcomes.iter().find(|o| o["source"] == source.as_str())),
            ("--failed", failed_lines.iter().find(|o| o["source"] == source.as_str()).map(|l| &l["error"])),
        ] {
            let fields = line.unwrap_or_else(|| panic!("{what}: no line for {source}"));
            assert_eq!(fields["kind"], *kind, "{what}: {fields}");
            assert!(fields["hint"].as_str().unwrap().contains(hint), "{what}: {fields}");
        }
    }

    // The text summary counts them per kind, most frequent first.
    let out = run(vec![input]).await.unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains(
            "\nnot delivered, by kind: 2 not_subscribed, 1 duplicate, 1 invalid_request, 1 invalid_token, \
             1 no_enablement, 1 other, 1 rate_limited, 1 server_error\n"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("  not_subscribed: the user is not subscribed to this event in this stage: drop the subscription and do not retry\n"), "{stdout}");
}
