//! The `proactive` binary, run as a user runs it: exit codes, output shapes, stdin.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;

fn proactive() -> Command {
    let mut command = Command::new(cargo_bin!("proactive"));
    command.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    command
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str], stdin: Option<&str>) -> Run {
    let mut child =
        proactive().args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    // Written from another thread while the output is read: a large input
    // whose output fills the pipe first would otherwise deadlock.
    let text = stdin.unwrap_or_default().to_owned();
    let writer = std::thread::spawn(move || input.write_all(text.as_bytes()));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

fn scratch(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("proactive-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

const EXAMPLES: [&str; 8] = [
    "examples/events/media_content.json",
    "examples/events/message_alert.json",
    "examples/events/occasion.json",
    "examples/events/order_status.json",
    "examples/events/social_game_invite.json",
    "examples/events/sports_event.json",
    "examples/events/trash_collection.json",
    "examples/events/weather_alert.json",
];

fn broken_example() -> String {
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string("../examples/events/trash_collection.json").unwrap()).unwrap();
    v["event"]["payload"]["alert"]["garbageTypes"] =
        serde_json::json!(["GLASS", "CANS", "BULKY", "BOTTLES", "LANDFILL", "BURNABLE"]);
    v["relevantAudience"]["payload"] = Value::Null;
    v.to_string()
}

#[test]
fn validate_text_says_ok_per_event_and_exits_0() {
    let mut args = vec!["validate"];
    args.extend(EXAMPLES);
    let out = run(&args, None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 9, "{}", out.stdout);
    // The examples are stored envelopes dated 2035: valid, but Amazon would refuse them
    // today, which offline validation says as a warning.
    for line in &lines[..8] {
        assert!(
            line.contains(": warning: expiryTime: expiryTime 2035-06-02T08:00:00Z is ")
                && line.contains(" days after now; Amazon accepts an expiryTime between now + 5 min ("),
            "{line}"
        );
    }
    assert_eq!(lines[8], "8 events: 8 valid, 0 invalid; 8 with warnings");
    let (_, fresh) = restamped("examples/events/weather_alert.json");
    let out = run(&["validate", &fresh], None);
    assert_eq!(
        (out.code, out.stdout.trim_end()),
        (0, format!("{fresh}: ok\n1 event: 1 valid, 0 invalid; 0 with warnings").as_str())
    );
}

/// The example re-stamped to now (its own window kept), as a scratch file.
fn restamped(example: &str) -> (Value, String) {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(format!("../{example}")).unwrap()).unwrap();
    let (envelope, _) = proactive_core::Envelope::from_json(&v.to_string()).unwrap();
    let mut envelope = envelope;
    envelope.restamp();
    v["timestamp"] = serde_json::json!(envelope.timestamp);
    v["expiryTime"] = serde_json::json!(envelope.expiry_time);
    let name = format!("fresh-{}", example.rsplit('/').next().unwrap());
    let path = scratch(&name, &v.to_string());
    (v, path)
}

#[test]
fn validate_text_lists_problems_with_paths_and_exits_1() {
    let bad = scratch("bad.json", &broken_example());
    let out = run(&["validate", &bad], None);
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("error: event.payload.alert.garbageTypes: 6 items, at most 5"), "{}", out.stdout);
    assert!(out.stdout.contains("warning: relevantAudience.payload:"), "{}", out.stdout);
}

#[test]
fn validate_names_the_intended_reference_for_a_misspelled_prefix() {
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string("../examples/events/media_content.json").unwrap()).unwrap();
    v["event"]["payload"]["content"]["name"] = Value::from("localized:title");
    v["localizedAttributes"] =
        serde_json::json!([{"locale": "en-US", "providerName": "Example TV", "title": "Luther"}]);
    let path = scratch("misspelled.json", &v.to_string());
    let out = run(&["validate", &path], None);
    assert_eq!(out.code, 1);
    let first = out.stdout.lines().next().unwrap();
    assert_eq!(
        first,
        format!(
            "{path}: error: event.payload.content.name: `localized:title` looks like a misspelled reference, and \
             Alexa would read it aloud as it is: write `localizedattribute:title` (the prefix is \
             `localizedattribute:`, lowercase, no spaces)"
        )
    );
}

#[test]
fn validate_json_has_the_documented_shape() {
    let bad = scratch("bad2.json", &broken_example());
    let lines = scratch(
        "two.jsonl",
        &format!(
            "{}\n\n{}\n",
            std::fs::read_to_string("../examples/events/message_alert.json").unwrap().replace('\n', ""),
            broken_example()
        ),
    );
    let out = run(&["validate", "--format", "json", "examples/events/weather_alert.json", &bad, &lines], None);
    assert_eq!(out.code, 1);
    let results: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(results.len(), 4);
    for result in &results {
        let keys: Vec<&str> = result.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["file", "line", "valid", "errors", "warnings"]);
    }
    assert_eq!(results[0]["line"], Value::Null);
    assert_eq!(results[0]["valid"], true);
    assert_eq!(results[1]["valid"], false);
    assert_eq!(results[1]["errors"][0]["path"], "event.payload.alert.garbageTypes");
    assert_eq!(results[1]["warnings"][0]["path"], "relevantAudience.payload");
    // JSONL lines are 1-based and count blank lines.
    assert_eq!((results[2]["line"].as_u64(), results[2]["valid"].as_bool()), (Some(1), Some(true)));
    assert_eq!((results[3]["line"].as_u64(), results[3]["valid"].as_bool()), (Some(3), Some(false)));
}

#[test]
fn validate_reads_jsonl_from_stdin() {
    let text = std::fs::read_to_string("../examples/events/orders.jsonl").unwrap();
    let out = run(&["validate", "--format", "json", "-"], Some(&text));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let results: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(results.len(), 300);
    assert!(results.iter().all(|r| r["file"] == "-" && r["valid"] == true));
}

#[test]
fn usage_and_io_errors_exit_2() {
    let missing = run(&["validate", "no/such/file.json"], None);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("cannot read `no/such/file.json`"), "{}", missing.stderr);
    assert_eq!(run(&["validate"], None).code, 2);
    assert_eq!(run(&["validate", "--format", "yaml", "x.json"], None).code, 2);
    assert_eq!(run(&["frobnicate"], None).code, 2);
    let bad_locale = run(&["preview", "--locale", "english", "examples/events/weather_alert.json"], None);
    assert_eq!(bad_locale.code, 2);
    assert!(bad_locale.stderr.contains("invalid locale `english`"));
}

#[test]
fn preview_prints_each_locale_or_one() {
    let out = run(&["preview", "examples/events/weather_alert.json"], None);
    assert_eq!(out.code, 0);
    assert!(
        out.stdout.contains("en-US: There is a tornado alert for your area. Provided by Example Weather Corp."),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("en-GB: There is a tornado alert for your area. Provided by Example Weather Corp UK."));
    assert!(out.stderr.contains("approximate"));
    let out = run(&["preview", "--locale", "de-DE", "examples/events/media_content.json"], None);
    assert_eq!(out.code, 0);
    assert!(
        out.stdout
            .contains("de-DE: Der Nachtmanager, Staffel 3 will stream on June 5, 2035 at 8:00 PM UTC on Beispiel TV.")
    );
    assert!(!out.stdout.contains("en-US"));
    assert!(
        out.stdout.contains("Beispiel TV. [English sentence; Alexa speaks de-DE in its own words]"),
        "{}",
        out.stdout
    );
    // A locale the event lacks is an error, not an English sentence passed off as German.
    let out = run(&["preview", "--locale", "fr-FR", "examples/events/media_content.json"], None);
    assert_eq!((out.code, out.stdout.as_str()), (1, ""));
    assert_eq!(
        out.stderr.lines().next().unwrap(),
        "error: examples/events/media_content.json: users in fr-FR would get this event without its content: the \
         event has no `fr-FR` localized attributes; it has `en-US`, `de-DE`"
    );
    let bad = scratch("bad3.json", &broken_example());
    assert_eq!(run(&["preview", &bad], None).code, 1);
}

#[test]
fn schema_lists_names_and_prints_a_json_schema() {
    let out = run(&["schema"], None);
    assert_eq!(out.code, 0);
    assert_eq!(out.stdout.lines().count(), 8);
    assert!(out.stdout.contains("AMAZON.SocialGameInvite.Available"));
    let out = run(&["schema", "AMAZON.TrashCollectionAlert.Activated"], None);
    assert_eq!(out.code, 0);
    let schema: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(schema["title"], "TrashCollectionAlertActivated");
    assert!(out.stdout.contains("\"maxItems\": 5"));
    let out = run(&["schema", "AMAZON.Reminder.Created"], None);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("unknown event name `AMAZON.Reminder.Created`"));
}

#[test]
fn sandbox_subcommand_serves_until_stopped_and_prints_requests() {
    let mut child =
        proactive().args(["sandbox", "--port", "0"]).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let url = first.trim().strip_prefix("sandbox listening on ").expect(&first).to_owned();
    let addr = url.strip_prefix("http://").unwrap().to_owned();

    // One token request, by hand.
    let body = "grant_type=client_credentials&client_id=x&client_secret=y&scope=alexa%3A%3Aproactive_events";
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "POST /auth/o2/token HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    std::io::Read::read_to_string(&mut stream, &mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 401"), "{reply}");

    let mut seen = String::new();
    for line in (&mut stdout).lines() {
        let line = line.unwrap();
        if line.contains("POST /auth/o2/token") {
            seen = line;
            break;
        }
    }
    assert!(seen.contains("401 POST /auth/o2/token") && seen.contains("invalid_client"), "{seen}");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn manifest_prints_the_fragment() {
    let out = run(
        &[
            "manifest",
            "--event",
            "AMAZON.OrderStatus.Updated",
            "--event",
            "AMAZON.WeatherAlert.Activated",
            "--endpoint",
            "https://skill.example.com/alexa",
        ],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let fragment: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(fragment["permissions"][0]["name"], "alexa::devices:all:notifications:write");
    assert_eq!(fragment["events"]["publications"][1]["eventName"], "AMAZON.WeatherAlert.Activated");
    assert_eq!(fragment["events"]["subscriptions"][0]["eventName"], "SKILL_PROACTIVE_SUBSCRIPTION_CHANGED");
    assert_eq!(fragment["events"]["endpoint"]["uri"], "https://skill.example.com/alexa");
}

#[test]
fn manifest_merges_in_place_idempotently() {
    let skill = serde_json::json!({
        "manifest": {
            "publishingInformation": {"locales": {"en-US": {"name": "Owl Orders"}}},
            "apis": {"custom": {"endpoint": {"uri": "arn:aws:lambda:us-east-1:1:function:owl"}}},
            "permissions": [{"name": "alexa::profile:email:read"}],
            "events": {"endpoint": {"uri": "arn:aws:lambda:us-east-1:1:function:owl"}}
        }
    });
    let path = scratch("skill.json", &serde_json::to_string_pretty(&skill).unwrap());
    let out = run(&["manifest", "--event", "AMAZON.OrderStatus.Updated", "--merge", &path], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("merged"), "{}", out.stdout);
    let merged: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(merged["manifest"]["publishingInformation"], skill["manifest"]["publishingInformation"]);
    assert_eq!(merged["manifest"]["apis"], skill["manifest"]["apis"]);
    let permissions: Vec<&str> =
        merged["manifest"]["permissions"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(permissions, ["alexa::profile:email:read", "alexa::devices:all:notifications:write"]);
    // The endpoint already in skill.json was kept.
    assert_eq!(merged["manifest"]["events"]["endpoint"]["uri"], "arn:aws:lambda:us-east-1:1:function:owl");

    let before = std::fs::read_to_string(&path).unwrap();
    let again = run(&["manifest", "--event", "AMAZON.OrderStatus.Updated", "--merge", &path], None);
    assert_eq!(again.code, 0);
    assert!(again.stdout.contains("already up to date"), "{}", again.stdout);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
}

#[test]
fn manifest_errors_exit_2() {
    let no_endpoint = run(&["manifest", "--event", "AMAZON.OrderStatus.Updated"], None);
    assert_eq!(no_endpoint.code, 2);
    assert!(no_endpoint.stderr.contains("--endpoint"), "{}", no_endpoint.stderr);
    let bad_endpoint =
        run(&["manifest", "--event", "AMAZON.OrderStatus.Updated", "--endpoint", "http://insecure.example"], None);
    assert_eq!(bad_endpoint.code, 2);
    let bad_name = run(&["manifest", "--event", "AMAZON.Reminder.Created", "--endpoint", "https://x.example"], None);
    assert_eq!(bad_name.code, 2);
    assert!(bad_name.stderr.contains("unknown event name"));
    let missing = run(&["manifest", "--event", "AMAZON.OrderStatus.Updated", "--merge", "no/such/skill.json"], None);
    assert_eq!(missing.code, 2);
}

#[test]
fn send_to_the_sandbox_accepts_every_example_and_previews_it() {
    let mut args = vec!["send", "--sandbox", "--restamp"];
    args.extend(EXAMPLES);
    let out = run(&args, None);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(
        out.stdout.lines().filter(|l| l.contains(": accepted (202, request sandbox-")).count(),
        8,
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("  en-US: There is a tornado alert for your area. Provided by Example Weather Corp."));
    let summary = out.stdout.lines().last().unwrap();
    assert!(
        summary.starts_with(
            "8 events: 8 accepted, 0 already delivered, 0 invalid, 0 refused, 0 failed; 0 retries, 1 token request(s)"
        ),
        "{summary}"
    );
}

#[test]
fn send_json_summary_has_the_documented_shape() {
    let out = run(&["send", "--sandbox", "--restamp", "--format", "json", "examples/events/weather_alert.json"], None);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "one line per event, then the summary: {}", out.stdout);
    assert_eq!(lines[0]["source"], "examples/events/weather_alert.json");
    assert_eq!((lines[0]["outcome"].as_str(), lines[0]["status"].as_u64()), (Some("accepted"), Some(202)));
    let summary = &lines[1];
    let keys: Vec<&str> = summary.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "total",
            "accepted",
            "already_delivered",
            "invalid",
            "refused",
            "failed",
            "skipped",
            "retries",
            "token_requests",
            "elapsed_ms",
            "kinds"
        ]
    );
    assert_eq!(summary["kinds"], serde_json::json!({}));
    assert_eq!((summary["total"].as_u64(), summary["accepted"].as_u64()), (Some(1), Some(1)));
    assert_eq!(summary["token_requests"], 1);
}

#[test]
fn send_with_injected_failures_loses_nothing() {
    let failed = scratch("failed.jsonl", "");
    let out = run(
        &[
            "send",
            "--sandbox",
            "--sandbox-fail-rate",
            "0.2",
            "--max-attempts",
            "1",
            "--failed",
            &failed,
            "--format",
            "json",
            "--quiet",
            "--restamp",
            "examples/events/orders.jsonl",
        ],
        None,
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let lines: Vec<Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let summary = lines.last().unwrap();
    let count = |key: &str| summary[key].as_u64().unwrap();
    let (delivered, failed_count) = (count("accepted") + count("already_delivered"), count("failed"));
    assert!(failed_count > 0, "the sandbox injected no failure: {summary}");
    assert_eq!(delivered + failed_count + count("refused"), 300);
    assert_eq!(lines.len() as u64 - 1, failed_count + count("refused"), "--quiet prints only what was not delivered");
    assert!(lines[..lines.len() - 1].iter().all(|l| l["outcome"] == "failed" || l["outcome"] == "refused"));
    let lines: Vec<Value> =
        std::fs::read_to_string(&failed).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len() as u64, failed_count);
    for line in &lines {
        assert!(line["source"].as_str().unwrap().starts_with("examples/events/orders.jsonl:"));
        assert!(line["error"]["message"].is_string());
        let kind = line["error"]["kind"].as_str().unwrap();
        assert!(["server_error", "no_answer"].contains(&kind), "{line}");
        assert!(line["error"]["hint"].as_str().unwrap().contains("retry later") || kind == "no_answer", "{line}");
        assert!(line["envelope"]["referenceId"].is_string());
    }
    // The --failed file is itself valid input: sending it again delivers the rest.
    let again = run(&["send", "--sandbox", "--restamp", "--format", "json", "--quiet", &failed], None);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let summary: Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(summary["accepted"].as_u64(), Some(failed_count));
}

#[test]
fn send_reads_stdin_and_refuses_invalid_events_without_sending_them() {
    let good = std::fs::read_to_string("../examples/events/message_alert.json").unwrap().replace('\n', "");
    let failed = scratch("invalid-failed.jsonl", "");
    let out = run(
        &["send", "--sandbox", "--restamp", "--failed", &failed, "-"],
        Some(&format!("{good}\n{}\n", broken_example())),
    );
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("-:1: accepted (202"), "{}", out.stdout);
    assert!(out.stdout.contains("-:2: invalid: not sent\n  error: event.payload.alert.garbageTypes"), "{}", out.stdout);
    assert!(
        out.stdout.contains("2 events: 1 accepted, 0 already delivered, 1 invalid, 0 refused, 0 failed"),
        "{}",
        out.stdout
    );
    let line: Value = serde_json::from_str(std::fs::read_to_string(&failed).unwrap().trim()).unwrap();
    assert_eq!(line["source"], "-:2");
    assert_eq!(line["error"]["stage"], "validation");
    assert_eq!(line["error"]["kind"], "invalid");
    assert!(line["error"]["hint"].as_str().unwrap().starts_with("it was not sent: fix the errors listed"));
    assert!(out.stdout.contains("not delivered, by kind: 1 invalid"), "{}", out.stdout);
    assert!(line["error"]["problems"][0].as_str().unwrap().contains("garbageTypes"));
}

#[test]
fn send_needs_credentials_and_never_prints_the_secret() {
    let no_credentials = proactive()
        .args(["send", "examples/events/weather_alert.json"])
        .env_remove("ALEXA_CLIENT_ID")
        .env_remove("ALEXA_CLIENT_SECRET")
        .output()
        .unwrap();
    assert_eq!(no_credentials.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_credentials.stderr).contains("ALEXA_CLIENT_ID"));

    // Nothing listens on port 1: the token request fails; the secret must not appear anywhere.
    let secret = "v3ry-s3cret+&=%value";
    let out = proactive()
        .args([
            "send",
            "--max-attempts",
            "1",
            "--endpoint",
            "http://127.0.0.1:1",
            "--token-url",
            "http://127.0.0.1:1/auth/o2/token",
        ])
        .args(["--client-id", "amzn1.application-oa2-client.x", "--restamp", "examples/events/weather_alert.json"])
        .env("ALEXA_CLIENT_SECRET", secret)
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("weather_alert.json: failed: the token request failed"), "{stdout}");
    assert!(!stdout.contains(secret) && !stderr.contains(secret));

    // A non-loopback plain-http endpoint is refused before any request.
    let out = run(
        &[
            "send",
            "--client-id",
            "a",
            "--client-secret",
            "b",
            "--endpoint",
            "http://example.com",
            "examples/events/weather_alert.json",
        ],
        None,
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
}
