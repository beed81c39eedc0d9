//! The `proactive` binary on large, broken and interrupted input: a send killed
//! mid-run and resumed from its journal, Ctrl-C, files that must never be
//! destroyed, and input hygiene. Each interruption waits for observable
//! progress (the sandbox's accepted count), never for a fixed time.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;
use proactive_core::chrono::{self, Utc};
use proactive_sandbox::{Faults, Sandbox, SandboxConfig};
use serde_json::{Value, json};

fn proactive() -> Command {
    let mut command = Command::new(cargo_bin!("proactive"));
    command.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    command
}

fn output(args: &[&str]) -> (i32, String, String) {
    let out: Output = proactive().args(args).stdin(Stdio::null()).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A valid envelope, fresh, with its own referenceId.
fn envelope(id: &str) -> Value {
    let now = Utc::now();
    json!({
        "timestamp": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "referenceId": id,
        "expiryTime": (now + chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "event": {"name": "AMAZON.MessageAlert.Activated", "payload": {
            "state": {"status": "UNREAD", "freshness": "NEW"},
            "messageGroup": {"creator": {"name": "Jane"}, "count": 2}}},
        "localizedAttributes": [],
        "relevantAudience": {"type": "Multicast", "payload": {}},
    })
}

fn write_events(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join("events.jsonl");
    let text: String = (0..n).map(|i| format!("{}\n", envelope(&format!("ev-{i}")))).collect();
    std::fs::write(&path, text).unwrap();
    path
}

/// A sandbox on its own runtime, slowed down so that a run can be interrupted midway.
struct Slow {
    runtime: tokio::runtime::Runtime,
    sandbox: Sandbox,
}

impl Slow {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let faults = Faults { latency: Duration::from_millis(5), ..Faults::none() };
        let sandbox = runtime.block_on(Sandbox::start_with(SandboxConfig::new().faults(faults))).unwrap();
        Self { runtime, sandbox }
    }

    fn send(&self, events: &Path, extra: &[&str]) -> Command {
        let mut command = proactive();
        command
            .args(["send", "--endpoint", &self.sandbox.base_url(), "--token-url", &self.sandbox.token_url()])
            .args(["--client-id", self.sandbox.client_id(), "--client-secret", self.sandbox.client_secret()])
            .args(["--concurrency", &CONCURRENCY.to_string(), "--format", "json", "--quiet"])
            .args(extra)
            .arg(events)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    fn accepted_ids(&self) -> Vec<String> {
        self.sandbox.records().accepted.iter().map(|a| a.envelope.reference_id.to_string()).collect()
    }

    /// Waits until the sandbox accepted `count` events (or the child ended).
    fn wait_for(&self, count: usize, child: &mut Child) {
        let started = Instant::now();
        while self.sandbox.records().accepted.len() < count {
            assert!(child.try_wait().unwrap().is_none(), "the send ended before it could be interrupted");
            assert!(started.elapsed() < Duration::from_secs(120), "no progress");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Slow {
    fn drop(&mut self) {
        self.sandbox.stop();
        let _ = &self.runtime;
    }
}

const CONCURRENCY: usize = 8;
const EVENTS: usize = 3000;

fn json_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?} in {}: {e}", path.display())))
        .collect()
}

fn last_json_line(stdout: &[u8]) -> Value {
    let text = String::from_utf8_lossy(stdout);
    serde_json::from_str(text.lines().last().unwrap_or_default()).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn a_send_killed_mid_run_resumes_from_its_journal_and_delivers_each_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let events = write_events(dir.path(), EVENTS);
    let journal = dir.path().join("journal.jsonl");
    let slow = Slow::start();
    let journal_arg = journal.to_str().unwrap();

    let mut first = slow.send(&events, &["--journal", journal_arg]).spawn().unwrap();
    slow.wait_for(300, &mut first);
    first.kill().unwrap(); // SIGKILL
    let status = first.wait().unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9));
    let before = slow.accepted_ids().len();
    assert!(before < EVENTS, "killed after everything was sent");
    // The first line names the input; the records follow.
    let recorded: Vec<Value> =
        json_lines(&journal).into_iter().filter(|line| line.get("referenceId").is_some()).collect();
    assert!(!recorded.is_empty() && recorded.len() < EVENTS, "{} records", recorded.len());

    let second = slow.send(&events, &["--journal", journal_arg]).output().unwrap();
    assert_eq!(second.status.code(), Some(0), "{}", String::from_utf8_lossy(&second.stderr));
    let summary = last_json_line(&second.stdout);

    let accepted = slow.accepted_ids();
    let distinct: HashSet<&String> = accepted.iter().collect();
    assert_eq!(distinct.len(), accepted.len(), "an event was accepted twice");
    assert_eq!(accepted.len(), EVENTS, "an event is missing");
    let count = |key: &str| summary[key].as_u64().unwrap();
    // Only events in flight at the kill lost their record: re-sent, and answered 409.
    let resent = count("already_delivered");
    assert!(resent <= CONCURRENCY as u64, "{resent} re-sent at concurrency {CONCURRENCY}: {summary}");
    assert_eq!(count("refused") + count("failed") + count("invalid"), 0, "{summary}");
    assert_eq!(count("skipped") + count("accepted") + resent, EVENTS as u64, "{summary}");
    assert_eq!(count("skipped"), recorded.len() as u64, "every record of the first run is skipped: {summary}");
}

#[test]
fn ctrl_c_lets_events_in_flight_finish_and_leaves_files_that_parse() {
    let dir = tempfile::tempdir().unwrap();
    let events = write_events(dir.path(), EVENTS);
    let (journal, failed) = (dir.path().join("journal.jsonl"), dir.path().join("failed.jsonl"));
    let slow = Slow::start();
    let mut child = slow
        .send(&events, &["--journal", journal.to_str().unwrap(), "--failed", failed.to_str().unwrap()])
        .spawn()
        .unwrap();
    slow.wait_for(300, &mut child);
    let killed = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted: no new event is sent"));
    let summary = last_json_line(&out.stdout);
    assert_eq!(summary["interrupted"], true, "{summary}");

    // Every event the sandbox accepted was recorded: those in flight were let finish.
    let recorded: HashSet<String> = json_lines(&journal)
        .iter()
        .filter(|r| r["outcome"] == "accepted")
        .map(|r| r["referenceId"].as_str().unwrap().to_owned())
        .collect();
    let accepted: HashSet<String> = slow.accepted_ids().into_iter().collect();
    assert_eq!(recorded, accepted);
    assert!(accepted.len() < EVENTS);
    // The events read but not settled are in --failed, which parses and can be sent again.
    let failed_lines = json_lines(&failed);
    assert_eq!(failed_lines.len() as u64, summary["unsettled"].as_u64().unwrap(), "{summary}");
    for line in &failed_lines {
        assert!(line["envelope"]["referenceId"].is_string(), "{line}");
        assert!(!accepted.contains(line["envelope"]["referenceId"].as_str().unwrap()));
    }
}

#[test]
fn an_output_file_that_is_an_input_is_refused_and_the_input_kept() {
    let dir = tempfile::tempdir().unwrap();
    let events = write_events(dir.path(), 3);
    let before = std::fs::read(&events).unwrap();
    let link = dir.path().join("link.jsonl");
    std::fs::hard_link(&events, &link).unwrap();
    let events_arg = events.to_str().unwrap();
    for (flag, path) in [("--failed", events_arg), ("--journal", events_arg), ("--failed", link.to_str().unwrap())] {
        let (code, stdout, stderr) = output(&["send", "--sandbox", flag, path, events_arg]);
        assert_eq!(code, 2, "{stdout}{stderr}");
        assert!(stderr.contains("is the input") && stderr.contains("would be overwritten"), "{stderr}");
        assert_eq!(std::fs::read(&events).unwrap(), before, "the input was changed");
    }
    let same = dir.path().join("out.jsonl");
    let same = same.to_str().unwrap();
    std::fs::write(same, "").unwrap();
    let (code, _, stderr) = output(&["send", "--sandbox", "--failed", same, "--journal", same, events_arg]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--failed and --journal are the same file"), "{stderr}");
}

#[test]
fn a_failed_file_replaces_the_old_one_only_when_complete() {
    let dir = tempfile::tempdir().unwrap();
    let events = write_events(dir.path(), 2);
    let failed = dir.path().join("failed.jsonl");
    std::fs::write(&failed, "old\n").unwrap();
    let (code, _, stderr) =
        output(&["send", "--sandbox", "--failed", failed.to_str().unwrap(), events.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(std::fs::read_to_string(&failed).unwrap(), "", "every event was delivered");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 2, "no temporary file is left: {leftovers:?}");
}

#[test]
fn manifest_merge_over_a_file_size_limit_leaves_the_original_whole() {
    let dir = tempfile::tempdir().unwrap();
    let skill = dir.path().join("skill.json");
    let original = r#"{"manifest": {"publishingInformation": {"locales": {"en-US": {"name": "Owl"}}}, "version": 1.0, "ratio": 1e3}}
"#;
    std::fs::write(&skill, original).unwrap();
    let skill_arg = skill.to_str().unwrap();
    let merge = ["manifest", "--event", "AMAZON.OrderStatus.Updated", "--endpoint", "https://owl.example/events"];
    let limited = Command::new("prlimit")
        .arg(format!("--fsize={}", original.len()))
        .arg(cargo_bin!("proactive"))
        .args(merge)
        .args(["--merge", skill_arg])
        .output()
        .unwrap();
    assert!(!limited.status.success(), "the merged file cannot fit under the limit");
    assert_eq!(std::fs::read_to_string(&skill).unwrap(), original, "the original is byte-identical");

    // Without the limit: merged, numbers and key order as written; then nothing to change.
    let (code, stdout, stderr) = output(&[&merge[..], &["--merge", skill_arg]].concat());
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("merged"), "{stdout}");
    let merged = std::fs::read_to_string(&skill).unwrap();
    assert!(merged.contains("\"version\": 1.0") && merged.contains("\"ratio\": 1e3"), "{merged}");
    let keys: Vec<String> =
        serde_json::from_str::<Value>(&merged).unwrap()["manifest"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys[..3], ["publishingInformation", "version", "ratio"]);
    let (code, stdout, _) = output(&[&merge[..], &["--merge", skill_arg]].concat());
    assert_eq!(code, 0);
    assert!(stdout.contains("nothing changed"), "{stdout}");
    assert_eq!(std::fs::read_to_string(&skill).unwrap(), merged);
}

/// The lines `validate` printed for `file:line`.
fn lines_of<'a>(stdout: &'a str, at: &str) -> Vec<&'a str> {
    stdout.lines().filter(|l| l.starts_with(&format!("{at}: "))).collect()
}

#[test]
fn broken_lines_get_their_own_clear_error_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.jsonl");
    let good = envelope("good").to_string();
    let mut text = b"\xEF\xBB\xBF".to_vec();
    text.extend_from_slice(good.as_bytes());
    text.extend_from_slice(b"\n");
    // Line 2: invalid UTF-8 in the middle of a string.
    let mut broken = envelope("broken").to_string().into_bytes();
    broken[20] = 0xFF;
    text.extend_from_slice(&broken);
    text.extend_from_slice(b"\n");
    // Line 3: the same key twice.
    text.extend_from_slice(
        good.replacen(r#""localizedAttributes":[]"#, r#""localizedAttributes":[],"localizedAttributes":[]"#, 1)
            .as_bytes(),
    );
    text.extend_from_slice(b"\n");
    // Line 4: a 2 MB event; line 5: a bit over the body limit; line 6: a huge bad value.
    let mut huge = envelope("huge");
    huge["localizedAttributes"] = json!([{"locale": "en-US", "notes": "x".repeat(2_000_000)}]);
    text.extend_from_slice(format!("{huge}\n").as_bytes());
    huge["localizedAttributes"][0]["notes"] = json!("x".repeat(proactive_core::MAX_BODY_BYTES));
    text.extend_from_slice(format!("{huge}\n").as_bytes());
    let mut bad = envelope("bad");
    bad["relevantAudience"]["type"] = json!("y".repeat(100_000));
    text.extend_from_slice(format!("{bad}\n").as_bytes());
    text.extend_from_slice(format!("{}\n", envelope("good-too")).as_bytes());
    std::fs::write(&path, text).unwrap();
    let file = path.to_str().unwrap();

    let (code, stdout, stderr) = output(&["validate", file]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("starts with a UTF-8 byte order mark; skipped it"), "{stderr}");
    assert_eq!(lines_of(&stdout, &format!("{file}:1")), [format!("{file}:1: ok")]);
    let line2 = lines_of(&stdout, &format!("{file}:2"));
    assert_eq!(line2, [format!("{file}:2: error: invalid UTF-8 at byte 20 of the line; JSON must be UTF-8")]);
    assert!(lines_of(&stdout, &format!("{file}:3"))[0].contains("duplicate key `localizedAttributes`"), "{stdout}");
    assert!(lines_of(&stdout, &format!("{file}:4"))[0].contains("is 2000"), "{stdout}");
    assert!(lines_of(&stdout, &format!("{file}:4"))[0].contains("over the limit"), "{stdout}");
    let line5 = lines_of(&stdout, &format!("{file}:5"));
    assert!(line5.iter().any(|l| l.contains("the request body would be") && l.contains("1 MiB")), "{line5:?}");
    let line6 = lines_of(&stdout, &format!("{file}:6"));
    assert!(!line6.is_empty() && line6.iter().all(|l| l.len() < 600), "{}", line6.join("\n").len());
    assert_eq!(lines_of(&stdout, &format!("{file}:7")), [format!("{file}:7: ok")]);
    assert!(stdout.ends_with("7 events: 2 valid, 5 invalid; 1 with warnings\n"), "{stdout}");

    // The same input through send: the invalid lines are not sent, the rest are.
    let (code, stdout, _) = output(&["send", "--sandbox", "--quiet", file]);
    assert_eq!(code, 1);
    assert!(stdout.contains("7 events: 2 accepted, 0 already delivered, 5 invalid, 0 refused, 0 failed"), "{stdout}");
}

#[test]
fn an_empty_jsonl_file_says_no_events() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.jsonl");
    std::fs::write(&path, "\n  \n").unwrap();
    let (code, _, stderr) = output(&["validate", path.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(stderr.contains("holds no events"), "{stderr}");
    let (code, _, stderr) = output(&["send", "--sandbox", path.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("holds no events") && stderr.contains("no events in the input"), "{stderr}");
}

#[test]
fn one_vocabulary_in_the_text_summary_the_json_summary_the_library_and_the_help() {
    use proactive_core::client::{BulkSummary, Outcome};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("two.jsonl");
    let mut invalid = envelope("invalid");
    invalid["relevantAudience"]["type"] = json!("Broadcast");
    std::fs::write(&path, format!("{}\n{invalid}\n", envelope("fine"))).unwrap();
    let file = path.to_str().unwrap();
    let (_, text, _) = output(&["send", "--sandbox", "--quiet", file]);
    let (_, json_out, _) = output(&["send", "--sandbox", "--quiet", "--format", "json", file]);
    let json_summary: Value = serde_json::from_str(json_out.lines().last().unwrap()).unwrap();
    let mut library = BulkSummary::new();
    library.add(Outcome::Accepted, 1);
    library.add(Outcome::Invalid, 0);
    let display = library.to_string();
    let text_summary = text.lines().last().unwrap();
    for outcome in Outcome::ALL {
        let n = library.count(outcome);
        assert!(display.contains(&format!("{n} {outcome}")), "{display}");
        assert!(text_summary.contains(&format!("{n} {outcome}")), "{text_summary}");
        assert_eq!(json_summary[outcome.key()].as_u64(), Some(n), "{json_summary}");
    }
    assert!(text_summary.starts_with(&display), "the CLI's summary is the library's: {text_summary}");
    let (_, help, _) = output(&["send", "--help"]);
    for word in ["accepted", "already delivered", "invalid", "refused", "failed"] {
        assert!(help.contains(word), "{word} in {help}");
    }
    assert!(!help.contains("rejected"), "{help}");
}

#[test]
fn the_progress_line_on_a_terminal_shows_a_whole_rate_and_an_eta() {
    let dir = tempfile::tempdir().unwrap();
    let events = write_events(dir.path(), 2000);
    let bin = cargo_bin!("proactive");
    // `script` runs the command on a pseudo-terminal and copies what it drew.
    let command = format!("{} send --sandbox --quiet {}", bin.display(), events.display());
    let out = Command::new("script").args(["-qec", &command, "/dev/null"]).output().unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    let frames: Vec<&str> = screen.split(['\r', '\n']).filter(|f| f.contains("events/s")).collect();
    assert!(!frames.is_empty(), "no progress line drawn: {screen:?}");
    let frame = frames.last().unwrap();
    let rate = frame.split(" events/s").next().unwrap().rsplit(' ').next().unwrap();
    assert!(rate.chars().all(|c| c.is_ascii_digit()) && !rate.is_empty(), "rate `{rate}` in {frame:?}");
    let eta = frame.split("eta ").nth(1).unwrap_or_default();
    assert!(eta.starts_with(|c: char| c.is_ascii_digit()), "eta in {frame:?}");
}
