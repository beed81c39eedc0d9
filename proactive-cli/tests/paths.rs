//! Files the CLI writes never destroy files it should not touch: an output is a
//! regular file or a new one (a device or a symbolic link is refused, except the
//! link `manifest --merge` documents following), it is never an input, the
//! secret file or another output, however the path is spelled, and a journal
//! refuses inputs it was not written for. All in temporary directories; the
//! device tests make their own device node, as root (CI runs as root).

use std::os::unix::fs::FileTypeExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use assert_cmd::cargo::cargo_bin;
use proactive_core::chrono::{self, Utc};
use serde_json::{Value, json};

fn output(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out: Output =
        Command::new(cargo_bin!("proactive")).current_dir(dir).args(args).stdin(Stdio::null()).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn envelope(id: &str, creator: &str) -> Value {
    let now = Utc::now();
    json!({
        "timestamp": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "referenceId": id,
        "expiryTime": (now + chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "event": {"name": "AMAZON.MessageAlert.Activated", "payload": {
            "state": {"status": "UNREAD", "freshness": "NEW"},
            "messageGroup": {"creator": {"name": creator}, "count": 2}}},
        "localizedAttributes": [],
        "relevantAudience": {"type": "Multicast", "payload": {}},
    })
}

fn write_events(path: &Path, creator: &str) -> PathBuf {
    let text: String = (0..3).map(|i| format!("{}\n", envelope(&format!("ev-{i}"), creator))).collect();
    std::fs::write(path, text).unwrap();
    path.to_owned()
}

/// A character device like `/dev/null` (1, 3), made in `dir`; `None` (and why) when not root.
fn device(dir: &Path) -> Option<PathBuf> {
    let path = dir.join("null");
    let made = Command::new("mknod").arg(&path).args(["c", "1", "3"]).status();
    match made {
        Ok(status) if status.success() => Some(path),
        other => {
            println!("skipped: cannot make a device node (this test needs root, as CI runs): {other:?}");
            None
        }
    }
}

fn is_device(path: &Path) -> bool {
    std::fs::symlink_metadata(path).unwrap().file_type().is_char_device()
}

#[test]
fn a_device_is_never_replaced_by_failed_journal_or_merge() {
    let dir = tempfile::tempdir().unwrap();
    let Some(null) = device(dir.path()) else { return };
    let events = write_events(&dir.path().join("events.jsonl"), "Jane");
    let (null, events) = (null.to_str().unwrap(), events.to_str().unwrap());
    for flag in ["--failed", "--journal"] {
        let (code, stdout, stderr) = output(dir.path(), &["send", "--sandbox", flag, null, events]);
        assert_eq!(code, 2, "{flag}: {stdout}{stderr}");
        assert!(stderr.contains(&format!("{flag} `{null}` is a character device, not a regular file")), "{stderr}");
        assert!(!stdout.contains("accepted"), "nothing is sent: {stdout}");
        assert!(is_device(Path::new(null)), "{flag} replaced the device");
    }
    let (code, _, stderr) = output(
        dir.path(),
        &["manifest", "--event", "AMAZON.OrderStatus.Updated", "--endpoint", "https://x.example/e", "--merge", null],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is a character device, not a regular file"), "{stderr}");
    assert!(is_device(Path::new(null)));
}

#[test]
fn a_failed_file_that_is_a_symbolic_link_is_refused_and_its_target_kept() {
    let dir = tempfile::tempdir().unwrap();
    let events = write_events(&dir.path().join("events.jsonl"), "Jane");
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    let link = dir.path().join("failed.jsonl");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let (code, _, stderr) =
        output(dir.path(), &["send", "--sandbox", "--failed", link.to_str().unwrap(), events.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is a symbolic link, which is not followed"), "{stderr}");
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
}

#[test]
fn manifest_merge_through_a_symbolic_link_merges_its_target_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let real_dir = dir.path().join("project");
    std::fs::create_dir(&real_dir).unwrap();
    let target = real_dir.join("skill.json");
    let skill = json!({"manifest": {
        "publishingInformation": {"locales": {"en-US": {"name": "Owl Orders"}}},
        "apis": {"custom": {"endpoint": {"uri": "arn:aws:lambda:us-east-1:1:function:owl"}}},
        "permissions": [{"name": "alexa::profile:email:read"}],
        "events": {"endpoint": {"uri": "arn:aws:lambda:us-east-1:1:function:owl"}}
    }});
    std::fs::write(&target, serde_json::to_string_pretty(&skill).unwrap()).unwrap();
    let link = dir.path().join("skill.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();

    let (code, stdout, stderr) = output(
        dir.path(),
        &[
            "manifest",
            "--event",
            "AMAZON.OrderStatus.Updated",
            "--endpoint",
            "arn:aws:lambda:us-east-1:1:function:owl",
            "--merge",
            "skill.json",
        ],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link is kept");
    let merged: Value = serde_json::from_str(&std::fs::read_to_string(&target).unwrap()).unwrap();
    assert_eq!(merged["manifest"]["events"]["publications"][0]["eventName"], "AMAZON.OrderStatus.Updated");
    let leftovers: Vec<_> = std::fs::read_dir(&real_dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers, ["skill.json"], "no temporary file is left beside the target");
}

#[test]
fn the_secret_file_is_never_an_output() {
    let dir = tempfile::tempdir().unwrap();
    let events = write_events(&dir.path().join("events.jsonl"), "Jane");
    let events = events.to_str().unwrap();
    // `printf` writes no newline: the old journal reader took it for a record cut off by a kill.
    std::fs::write(dir.path().join("s"), "not-a-real-secret").unwrap();
    for flag in ["--failed", "--journal"] {
        let (code, stdout, stderr) =
            output(dir.path(), &["send", "--sandbox", "--client-secret-file", "s", flag, "s", events]);
        assert_eq!(code, 2, "{flag}: {stdout}{stderr}");
        assert!(
            stderr.contains(&format!(
                "{flag} is the file given to --client-secret-file: the secret would be overwritten"
            )),
            "{stderr}"
        );
        assert!(!stderr.contains("not-a-real-secret"));
        assert_eq!(std::fs::read_to_string(dir.path().join("s")).unwrap(), "not-a-real-secret", "{flag}");
    }
}

#[test]
fn the_same_new_file_spelled_two_ways_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let events = write_events(&dir.path().join("events.jsonl"), "Jane");
    let (code, stdout, stderr) =
        output(dir.path(), &["send", "--sandbox", "--journal", "j", "--failed", "./j", events.to_str().unwrap()]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains("--failed and --journal are the same file `j`"), "{stderr}");
    assert!(!dir.path().join("j").exists(), "nothing was written");
    assert!(!stdout.contains("accepted"), "nothing was sent: {stdout}");
}

#[test]
fn a_journal_refuses_an_input_it_was_not_written_for_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let first = write_events(&dir.path().join("first.jsonl"), "Jane");
    // Other events with the same referenceIds.
    let second = write_events(&dir.path().join("second.jsonl"), "Joe");
    let (first, second) = (first.to_str().unwrap(), second.to_str().unwrap());
    let (code, _, stderr) = output(dir.path(), &["send", "--sandbox", "--journal", "j", first]);
    assert_eq!(code, 0, "{stderr}");

    let (code, stdout, stderr) = output(dir.path(), &["send", "--sandbox", "--journal", "j", second]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains("the journal `j` was written for `") && stderr.contains("first.jsonl`, not for `"),
        "{stderr}"
    );
    assert!(stderr.contains("pass --journal-force if it is for these events"), "{stderr}");
    assert!(!stdout.contains("skipped"), "{stdout}");

    let (code, stdout, stderr) =
        output(dir.path(), &["send", "--sandbox", "--journal", "j", "--journal-force", second]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stderr.contains("resuming from it anyway (--journal-force)"), "{stderr}");

    // The same input again (by another spelling): resumed, nothing sent twice.
    let (code, stdout, stderr) =
        output(dir.path(), &["send", "--sandbox", "--journal", "j", "--format", "json", "./first.jsonl"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["skipped"], 3, "{summary}");
}

#[test]
fn a_journal_that_does_not_name_its_input_is_refused_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let events = write_events(&dir.path().join("events.jsonl"), "Jane");
    let events = events.to_str().unwrap();
    // A journal as versions before the first line wrote it.
    std::fs::write(
        dir.path().join("old"),
        "{\"referenceId\":\"ev-0\",\"outcome\":\"accepted\",\"source\":\"x:1\",\"status\":202}\n",
    )
    .unwrap();
    let (code, stdout, stderr) = output(dir.path(), &["send", "--sandbox", "--journal", "old", events]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains("does not say which input it was written for"), "{stderr}");
    let (code, stdout, stderr) =
        output(dir.path(), &["send", "--sandbox", "--journal", "old", "--journal-force", "--format", "json", events]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["skipped"], 1, "{summary}");
}

#[test]
fn a_journal_for_a_pipe_input_takes_nothing_from_the_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("events.jsonl");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let text: String = (0..3).map(|i| format!("{}\n", envelope(&format!("ev-{i}"), "Jane"))).collect();
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, text).unwrap())
    };
    let (code, stdout, stderr) =
        output(dir.path(), &["send", "--sandbox", "--journal", "j", "--format", "json", fifo.to_str().unwrap()]);
    writer.join().unwrap();
    assert_eq!(code, 0, "{stdout}{stderr}");
    let summary: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["accepted"], 3, "{summary}");
}
