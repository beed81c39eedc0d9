//! `proactive subscriptions apply|count|list` on a SQLite store: recorded
//! requests applied by the tracker's rules (newest wins, stale and invalid
//! lines reported, SkillDisabled's tombstone against older requests), count
//! and list agreeing, list paging through 20,000 subscribers, and clear errors.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use assert_cmd::cargo::cargo_bin;
use proactive_core::chrono::{self, Utc};
use serde_json::{Value, json};

const NA: &str = "https://api.amazonalexa.com";
const EU: &str = "https://api.eu.amazonalexa.com";
const FE: &str = "https://api.fe.amazonalexa.com";
const WEATHER: &str = "AMAZON.WeatherAlert.Activated";
const TRASH: &str = "AMAZON.TrashCollectionAlert.Activated";

fn proactive(dir: &Path) -> Command {
    let mut command = Command::new(cargo_bin!("proactive"));
    command.current_dir(dir);
    command
}

/// Runs `proactive` in `dir` with `stdin`; exit code, stdout, stderr.
fn run(dir: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child =
        proactive(dir).args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    // A run that refuses its arguments may exit before it reads: a closed pipe is no failure.
    match child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {}
        written => written.unwrap(),
    }
    let out: Output = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `minutes` ago (negative: ahead of now), as Alexa writes a timestamp.
fn ago(minutes: i64) -> String {
    (Utc::now() - chrono::Duration::minutes(minutes)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn body(kind: &str, user: &str, timestamp: &str, request_id: &str, endpoint: &str, body: Value) -> String {
    json!({
        "version": "1.0",
        "context": {"System": {
            "application": {"applicationId": "amzn1.ask.skill.test"},
            "user": {"userId": format!("amzn1.ask.account.{user}")},
            "apiEndpoint": endpoint
        }},
        "request": {
            "type": format!("AlexaSkillEvent.{kind}"),
            "requestId": request_id,
            "timestamp": timestamp,
            "body": body
        }
    })
    .to_string()
}

/// A ProactiveSubscriptionChanged body, as Alexa POSTs it.
fn subscribe(user: &str, timestamp: &str, request_id: &str, endpoint: &str, events: &[&str]) -> String {
    let subscriptions: Vec<Value> = events.iter().map(|name| json!({"eventName": name})).collect();
    body("ProactiveSubscriptionChanged", user, timestamp, request_id, endpoint, json!({"subscriptions": subscriptions}))
}

fn disable(user: &str, timestamp: &str, request_id: &str) -> String {
    body("SkillDisabled", user, timestamp, request_id, NA, json!({"userInformationPersistenceStatus": "NOT_PERSISTED"}))
}

fn write_lines(path: &Path, lines: &[String]) {
    std::fs::write(path, lines.iter().map(|line| format!("{line}\n")).collect::<String>()).unwrap();
}

/// `list`'s lines, parsed.
fn list(dir: &Path, event: &str) -> Vec<Value> {
    let (code, stdout, stderr) = run(dir, &["subscriptions", "list", "--subscribers", "subs.db", "--event", event], "");
    assert_eq!(code, 0, "{stderr}");
    stdout.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

fn user_ids(listed: &[Value]) -> Vec<&str> {
    listed.iter().map(|entry| entry["userId"].as_str().unwrap()).collect()
}

#[test]
fn apply_reports_each_line_and_count_and_list_agree() {
    let dir = tempfile::tempdir().unwrap();
    let missing_user = json!({"version": "1.0", "context": {"System": {
        "application": {"applicationId": "amzn1.ask.skill.test"}, "apiEndpoint": NA}},
        "request": {"type": "AlexaSkillEvent.ProactiveSubscriptionChanged", "requestId": "x", "timestamp": ago(9)}});
    let lines = [
        subscribe("A", &ago(10), "a1", NA, &[WEATHER]),
        subscribe("B", &ago(10), "b1", EU, &[WEATHER, TRASH]),
        subscribe("A", &ago(5), "a2", NA, &[WEATHER, TRASH]),
        // Older than line 3, arriving after it.
        subscribe("A", &ago(8), "a0", NA, &[]),
        missing_user.to_string(),
        "{\"version\": \"1.0\", \"context\":".to_owned(),
        subscribe("C", &ago(7), "c1", FE, &[TRASH]),
        body("SkillEnabled", "D", &ago(6), "e1", NA, json!({})),
    ];
    write_lines(&dir.path().join("requests.jsonl"), &lines);
    let (code, stdout, stderr) =
        run(dir.path(), &["subscriptions", "apply", "--subscribers", "subs.db", "requests.jsonl"], "");
    assert_eq!(code, 1, "an invalid line makes the exit code 1: {stdout}{stderr}");
    let expected = [
        format!("requests.jsonl:1: updated amzn1.ask.account.A: +[{WEATHER}] -[]"),
        format!("requests.jsonl:2: updated amzn1.ask.account.B: +[{TRASH}, {WEATHER}] -[]"),
        format!("requests.jsonl:3: updated amzn1.ask.account.A: +[{TRASH}] -[]"),
        "requests.jsonl:5: invalid: `context.System.user` is missing; every ProactiveSubscriptionChanged request \
         from Alexa has it"
            .to_owned(),
        "requests.jsonl:6: invalid: not JSON at column 29: EOF while parsing a value; each line must be one request \
         body, as Alexa sent it"
            .to_owned(),
        format!("requests.jsonl:7: updated amzn1.ask.account.C: +[{TRASH}] -[]"),
        "requests.jsonl:8: no change amzn1.ask.account.D: `AlexaSkillEvent.SkillEnabled` changes no subscription"
            .to_owned(),
        "8 request(s): 4 updated, 0 removed, 1 stale, 0 disabled, 1 no change, 2 invalid, 0 refused; 0 tombstone(s) \
         older than 65 min removed"
            .to_owned(),
    ];
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 9, "{stdout}");
    let (line4, others): (Vec<&str>, Vec<&str>) = lines.iter().partition(|line| line.starts_with("requests.jsonl:4:"));
    assert_eq!(others, expected, "{stdout}");
    assert!(
        line4[0].starts_with("requests.jsonl:4: stale amzn1.ask.account.A: older than the request the store holds (")
            && line4[0].ends_with(", `a2`); nothing changed"),
        "{}",
        line4[0]
    );

    let (code, counts, stderr) = run(dir.path(), &["subscriptions", "count", "--subscribers", "subs.db"], "");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(counts, format!("3 {TRASH}\n2 {WEATHER}\n"));
    let one =
        |event: &str| run(dir.path(), &["subscriptions", "count", "--subscribers", "subs.db", "--event", event], "");
    assert_eq!(one(WEATHER).1, format!("2 {WEATHER}\n"));
    assert_eq!(one("AMAZON.Occasion.Updated").1, "0 AMAZON.Occasion.Updated\n", "a known event without subscribers");

    let trash = list(dir.path(), TRASH);
    assert_eq!(
        trash,
        [
            json!({"userId": "amzn1.ask.account.A", "apiEndpoint": NA, "region": "NA"}),
            json!({"userId": "amzn1.ask.account.B", "apiEndpoint": EU, "region": "EU"}),
            json!({"userId": "amzn1.ask.account.C", "apiEndpoint": FE, "region": "FE"}),
        ]
    );
    assert_eq!(user_ids(&list(dir.path(), WEATHER)), ["amzn1.ask.account.A", "amzn1.ask.account.B"]);

    // The same records again change nothing: every line is stale (or as before).
    let (code, stdout, _) =
        run(dir.path(), &["subscriptions", "apply", "--subscribers", "subs.db", "-q", "requests.jsonl"], "");
    assert_eq!(code, 1);
    assert!(stdout.ends_with("8 request(s): 0 updated, 0 removed, 5 stale, 0 disabled, 1 no change, 2 invalid, 0 refused; 0 tombstone(s) older than 65 min removed\n"), "{stdout}");
    assert_eq!(stdout.lines().count(), 3, "--quiet prints the bad lines and the summary: {stdout}");
}

/// Issue 22: SkillDisabled(t2), then a ProactiveSubscriptionChanged(t1 < t2)
/// for the same user. The user stays removed; a request newer than t2 brings
/// them back.
#[test]
fn a_request_older_than_a_skill_disabled_does_not_bring_the_user_back() {
    let dir = tempfile::tempdir().unwrap();
    let (t0, t1, t2, t3) = (ago(20), ago(15), ago(10), ago(5));
    write_lines(
        &dir.path().join("log.jsonl"),
        &[
            subscribe("A", &t0, "a0", NA, &[WEATHER]),
            subscribe("B", &t0, "b0", NA, &[WEATHER]),
            disable("A", &t2, "d2"),
            subscribe("A", &t1, "a1", NA, &[WEATHER, TRASH]),
        ],
    );
    let (code, stdout, stderr) =
        run(dir.path(), &["subscriptions", "apply", "--subscribers", "subs.db", "log.jsonl"], "");
    assert_eq!(code, 0, "a line refused as disabled is no error: {stdout}{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[2],
        "log.jsonl:3: removed amzn1.ask.account.A: SkillDisabled: 1 subscription(s) dropped, a tombstone kept \
         against older requests"
    );
    let t2_shown = t2.replace(".000Z", "Z");
    assert_eq!(
        lines[3],
        format!(
            "log.jsonl:4: disabled amzn1.ask.account.A: older than the user's SkillDisabled ({t2_shown}); nothing \
             changed, the user stays removed"
        )
    );
    assert_eq!(user_ids(&list(dir.path(), WEATHER)), ["amzn1.ask.account.B"]);
    assert!(list(dir.path(), TRASH).is_empty());

    // A genuine newer request for the same user id applies.
    write_lines(&dir.path().join("later.jsonl"), &[subscribe("A", &t3, "a3", EU, &[TRASH])]);
    let (code, stdout, _) = run(dir.path(), &["subscriptions", "apply", "--subscribers", "subs.db", "later.jsonl"], "");
    assert_eq!(code, 0);
    assert!(stdout.starts_with(&format!("later.jsonl:1: updated amzn1.ask.account.A: +[{TRASH}] -[]\n")), "{stdout}");
    assert_eq!(user_ids(&list(dir.path(), TRASH)), ["amzn1.ask.account.A"]);
    assert_eq!(user_ids(&list(dir.path(), WEATHER)), ["amzn1.ask.account.B"]);
}

/// Records hours old: their tombstones are past the 65-minute time to live
/// from the start. Within one run a SkillDisabled still orders the older
/// requests after it; across runs only with --keep-tombstones.
#[test]
fn old_records_keep_their_tombstones_for_the_run_or_with_keep_tombstones() {
    let dir = tempfile::tempdir().unwrap();
    let (t1, t2) = (ago(180), ago(120));
    let apply = |file: &str, extra: &[&str]| {
        let mut args = vec!["subscriptions", "apply", "--subscribers", "subs.db", "--format", "json", file];
        args.extend_from_slice(extra);
        let (code, stdout, stderr) = run(dir.path(), &args, "");
        assert_eq!(code, 0, "{stdout}{stderr}");
        stdout.lines().map(|line| serde_json::from_str::<Value>(line).unwrap()).collect::<Vec<_>>()
    };
    write_lines(&dir.path().join("one.jsonl"), &[disable("A", &t2, "d"), subscribe("A", &t1, "a", NA, &[WEATHER])]);
    let lines = apply("one.jsonl", &[]);
    assert_eq!(lines[1]["outcome"], "disabled", "{lines:?}");
    assert_eq!(lines[2]["purged_tombstones"], 1, "purged at the end of the run: {lines:?}");
    assert!(list(dir.path(), WEATHER).is_empty());

    // Split over two runs: the first run's purge removed the tombstone, so
    // the older request brings the user back, as the help says.
    write_lines(&dir.path().join("disable.jsonl"), &[disable("B", &t2, "d")]);
    write_lines(&dir.path().join("older.jsonl"), &[subscribe("B", &t1, "b", NA, &[WEATHER])]);
    apply("disable.jsonl", &[]);
    assert_eq!(apply("older.jsonl", &[])[0]["outcome"], "updated");
    // With --keep-tombstones on the first run, it stays removed.
    write_lines(&dir.path().join("disable.jsonl"), &[disable("C", &t2, "d")]);
    write_lines(&dir.path().join("older.jsonl"), &[subscribe("C", &t1, "c", NA, &[WEATHER])]);
    let kept = apply("disable.jsonl", &["--keep-tombstones"]);
    assert_eq!(kept[1]["purged_tombstones"], Value::Null, "{kept:?}");
    assert_eq!(apply("older.jsonl", &[])[0]["outcome"], "disabled");
    assert_eq!(user_ids(&list(dir.path(), WEATHER)), ["amzn1.ask.account.B"]);
}

#[test]
fn json_output_stdin_and_a_request_from_the_future() {
    let dir = tempfile::tempdir().unwrap();
    let input = [
        subscribe("A", &ago(3), "a", NA, &[WEATHER]),
        subscribe("F", &ago(-180), "f", NA, &[WEATHER]),
        subscribe("B", &ago(2), "b", NA, &[]),
        body("SkillPermissionChanged", "A", &ago(1), "p", NA, json!({"acceptedPermissions": []})),
    ]
    .map(|line| format!("{line}\n"))
    .concat();
    let args = ["subscriptions", "apply", "--subscribers", "subs.db", "--format", "json", "-"];
    let (code, stdout, stderr) = run(dir.path(), &args, &input);
    assert_eq!(code, 1, "a refused line makes the exit code 1: {stderr}");
    let lines: Vec<Value> = stdout.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(
        lines[0],
        json!({"source": "-:1", "outcome": "updated", "userId": "amzn1.ask.account.A", "added": [WEATHER],
            "removed": [], "message": format!("+[{WEATHER}] -[]")})
    );
    assert_eq!(lines[1]["outcome"], "refused");
    let message = lines[1]["message"].as_str().unwrap();
    assert!(message.contains("is more than 3600 seconds after now"), "{message}");
    assert_eq!(lines[2]["outcome"], "updated", "an empty set is stored too");
    assert_eq!(lines[3]["outcome"], "updated", "the notifications permission withdrawn: {}", lines[3]);
    assert_eq!(lines[3]["removed"], json!([WEATHER]));
    assert_eq!(
        lines[4],
        json!({"total": 4, "updated": 3, "removed": 0, "stale": 0, "disabled": 0, "no_change": 0, "invalid": 0,
            "refused": 1, "purged_tombstones": 0})
    );
    let (_, counts, _) = run(dir.path(), &["subscriptions", "count", "--subscribers", "subs.db"], "");
    assert_eq!(counts, "`subs.db` has no subscribers\n", "nobody is subscribed; F was never stored");

    // All applied or stale: exit 0.
    let (code, _, stderr) = run(dir.path(), &args, &input.lines().next().map(|l| format!("{l}\n")).unwrap());
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn list_pages_through_twenty_thousand_subscribers() {
    let dir = tempfile::tempdir().unwrap();
    const USERS: usize = 20_000;
    let timestamp = ago(5);
    // Users in a scrambled order, so that the list's order is the store's.
    let lines: Vec<String> = (0..USERS)
        .map(|i| subscribe(&format!("U{:05}", (i * 7_919) % USERS), &timestamp, &format!("r{i}"), NA, &[WEATHER]))
        .collect();
    write_lines(&dir.path().join("many.jsonl"), &lines);
    let (code, stdout, stderr) =
        run(dir.path(), &["subscriptions", "apply", "-q", "--subscribers", "subs.db", "many.jsonl"], "");
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("20000 request(s): 20000 updated"), "{stdout}");

    let listed = list(dir.path(), WEATHER);
    let ids = user_ids(&listed);
    let expected: Vec<String> = (0..USERS).map(|i| format!("amzn1.ask.account.U{i:05}")).collect();
    assert_eq!(ids, expected, "every subscriber once, sorted by user id, across 20 pages");
    let (_, count, _) =
        run(dir.path(), &["subscriptions", "count", "--subscribers", "subs.db", "--event", WEATHER], "");
    assert_eq!(count, format!("{USERS} {WEATHER}\n"));

    // `| head -1`: a closed pipe ends the listing quietly.
    let mut child = proactive(dir.path())
        .args(["subscriptions", "list", "--subscribers", "subs.db", "--event", WEATHER])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(first.contains("amzn1.ask.account.U00000"), "{first}");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn errors_are_clear_and_a_missing_store_is_never_created() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    for args in [
        &["subscriptions", "count", "--subscribers", "missing.db"][..],
        &["subscriptions", "list", "--subscribers", "missing.db", "--event", WEATHER][..],
    ] {
        let (code, stdout, stderr) = run(path, args, "");
        assert_eq!((code, stdout.as_str()), (2, ""));
        assert_eq!(
            stderr,
            "error: the subscription store `missing.db` does not exist; check the path (`proactive subscriptions \
             apply` creates one)\n"
        );
    }
    assert!(!path.join("missing.db").exists());

    write_lines(&path.join("r.jsonl"), &[subscribe("A", &ago(1), "a", NA, &[WEATHER])]);
    assert_eq!(run(path, &["subscriptions", "apply", "--subscribers", "subs.db", "r.jsonl"], "").0, 0);
    let (code, _, stderr) =
        run(path, &["subscriptions", "list", "--subscribers", "subs.db", "--event", "WeatherAlert"], "");
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "error: unknown event name `WeatherAlert`: it is none of Amazon's schemas, and `subs.db` has no subscriber \
         of it; did you mean `AMAZON.WeatherAlert.Activated`?\n"
    );
    let (code, _, stderr) =
        run(path, &["subscriptions", "count", "--subscribers", "subs.db", "--event", "AMAZON.Ocasion.Updated"], "");
    assert_eq!(code, 2);
    assert!(stderr.ends_with("did you mean `AMAZON.Occasion.Updated`?\n"), "{stderr}");

    // A name Amazon may add later is listed when the store has subscribers of it.
    write_lines(&path.join("new.jsonl"), &[subscribe("N", &ago(1), "n", NA, &["AMAZON.Future.Event"])]);
    assert_eq!(run(path, &["subscriptions", "apply", "--subscribers", "subs.db", "new.jsonl"], "").0, 0);
    assert_eq!(user_ids(&list(path, "AMAZON.Future.Event")), ["amzn1.ask.account.N"]);

    // An input that is the store, a directory, a symlink, an empty input.
    let (code, _, stderr) = run(path, &["subscriptions", "apply", "--subscribers", "subs.db", "./subs.db"], "");
    assert_eq!(code, 2);
    assert_eq!(stderr, "error: `./subs.db` is the subscription store itself; give the file of recorded requests\n");
    std::fs::create_dir(path.join("dir.db")).unwrap();
    let (code, _, stderr) = run(path, &["subscriptions", "apply", "--subscribers", "dir.db", "r.jsonl"], "");
    assert_eq!((code, stderr.as_str()), (2, "error: the subscription store `dir.db` is not a regular file\n"));
    std::os::unix::fs::symlink("subs.db", path.join("link.db")).unwrap();
    let (code, _, stderr) = run(path, &["subscriptions", "apply", "--subscribers", "link.db", "r.jsonl"], "");
    assert_eq!(code, 2);
    assert_eq!(
        stderr,
        "error: the subscription store `link.db` is a symbolic link; give the path of the file it points to\n"
    );
    let (code, _, stderr) = run(path, &["subscriptions", "apply", "--subscribers", "subs.db", "-"], "\n\n");
    assert_eq!((code, stderr.as_str()), (2, "error: no requests in the input\n"));
    // A pretty-printed file, and a line over the limit: reported per line, the rest applied.
    let long = format!("{{\"pad\": \"{}\"}}", "x".repeat(1_200_000));
    let input = format!("{{\n{long}\n{}\n", subscribe("L", &ago(1), "l", NA, &[TRASH]));
    let (code, stdout, _) = run(path, &["subscriptions", "apply", "--subscribers", "subs.db", "-"], &input);
    assert_eq!(code, 1, "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines[0],
        "-:1: invalid: not JSON at column 1: EOF while parsing an object; the input must be JSONL, one request body \
         per line (`jq -c .` writes it so)"
    );
    assert!(
        lines[1].starts_with("-:2: invalid: the line is 1200011 bytes or more, over the limit of "),
        "{}",
        lines[1]
    );
    assert!(lines[2].starts_with("-:3: updated amzn1.ask.account.L"), "{}", lines[2]);

    let (code, _, stderr) = run(path, &["subscriptions", "apply", "--subscribers", "subs.db", "nope.jsonl"], "");
    assert_eq!(code, 2);
    assert!(stderr.starts_with("error: cannot read `nope.jsonl`: "), "{stderr}");
}

#[test]
fn the_help_says_that_apply_verifies_no_signature() {
    let dir = tempfile::tempdir().unwrap();
    let (code, help, _) = run(dir.path(), &["subscriptions", "apply", "--help"], "");
    assert_eq!(code, 0);
    assert!(
        help.contains(
            "This command verifies no signature: the records are taken to be your own, of requests your endpoint \
             verified when they arrived."
        ),
        "{help}"
    );
    assert!(help.contains("The store is created if it does not exist."), "{help}");
    assert!(help.contains("--keep-tombstones"), "{help}");
    let (_, short, _) = run(dir.path(), &["subscriptions", "--help"], "");
    assert!(short.contains("to a SQLite subscription store. Verifies no signature"), "{short}");
}

/// The README's `proactive subscriptions` commands, run as printed (through
/// `sh`, with `examples/` beside the store), on `examples/skill-events/requests.jsonl`.
#[test]
fn the_readme_commands_run_as_printed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let section = readme.split("`proactive subscriptions` works on").nth(1).expect("the README's subscriptions text");
    let block = section.split("```sh\n").nth(1).unwrap().split("```").next().unwrap();
    let commands: Vec<&str> = block.lines().collect();
    assert_eq!(commands.len(), 3, "{block}");
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(root.join("examples"), dir.path().join("examples")).unwrap();
    let bin = cargo_bin!("proactive").parent().unwrap().to_owned();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let outputs: Vec<String> = commands
        .iter()
        .map(|command| {
            let out = Command::new("sh").args(["-c", command]).current_dir(dir.path()).env("PATH", &path).output();
            let out = out.unwrap();
            assert_eq!(out.status.code(), Some(0), "{command}: {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8_lossy(&out.stdout).into_owned()
        })
        .collect();
    let summary = outputs[0].lines().last().unwrap();
    assert_eq!(
        summary,
        "7 request(s): 4 updated, 1 removed, 1 stale, 1 disabled, 0 no change, 0 invalid, 0 refused; 1 tombstone(s) \
         older than 65 min removed"
    );
    assert!(
        outputs[0].contains(":6: disabled amzn1.ask.account.AGF7EXAMPLEUSERB: older than the user's SkillDisabled")
    );
    assert_eq!(outputs[1], format!("2 {TRASH}\n1 {WEATHER}\n"));
    let listed: Vec<Value> = outputs[2].lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(user_ids(&listed), ["amzn1.ask.account.AGF7EXAMPLEUSERA", "amzn1.ask.account.AGF7EXAMPLEUSERC"]);
}
