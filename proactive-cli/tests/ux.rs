//! What a newcomer meets: help that lists exit codes, completions, "did you mean",
//! colour that obeys `NO_COLOR` and `--color`, and a client secret kept off the
//! command line and out of every output.

use std::io::Write;
use std::process::{Command, Stdio};

use assert_cmd::cargo::cargo_bin;
use proactive_sandbox::{Sandbox, SandboxConfig};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Everything the command printed.
    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `proactive` from the workspace root with `env` added, colour variables
/// cleared, and `stdin` as its standard input.
fn run_with(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Run {
    let mut command = Command::new(cargo_bin!("proactive"));
    command
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .args(args)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("ALEXA_CLIENT_ID")
        .env_remove("ALEXA_CLIENT_SECRET")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    // A command that does not read its input (it refused its arguments, say)
    // may have exited already: the pipe is then closed, which is no failure.
    match child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {}
        written => written.unwrap(),
    }
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

fn run(args: &[&str]) -> Run {
    run_with(args, &[], "")
}

/// A file in a directory of this test process.
fn scratch(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("proactive-ux-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

const ESC: char = '\u{1b}';

#[test]
fn help_lists_the_exit_codes() {
    for args in [&["--help"][..], &["send", "--help"], &["validate", "-h"]] {
        let out = run(args);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let codes = out.stdout.split_once("Exit codes:").map(|(_, codes)| codes).unwrap_or_default();
        for code in ["  0  ", "  1  ", "  2  "] {
            assert!(codes.contains(code), "{args:?} does not list exit code {code:?}:\n{}", out.stdout);
        }
    }
}

#[test]
fn sandbox_help_shows_the_port_default_once() {
    let out = run(&["sandbox", "--help"]);
    let port = out.stdout.lines().find(|line| line.contains("--port")).unwrap();
    assert_eq!(port.matches("default").count(), 1, "{port}");
}

#[test]
fn completions_print_a_script_bash_accepts() {
    let out = run(&["completions", "bash"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for word in ["_proactive()", "validate", "manifest", "--client-secret-file", "complete -F"] {
        assert!(out.stdout.contains(word), "no `{word}` in the script");
    }
    let script = scratch("proactive.bash", &out.stdout);
    let check = Command::new("bash").args(["-n", &script]).output().unwrap();
    assert!(check.status.success(), "bash -n: {}", String::from_utf8_lossy(&check.stderr));
    // The check can fail: a broken script is refused.
    let broken = scratch("broken.bash", &out.stdout.replacen("_proactive()", "_proactive() {{", 1));
    assert!(!Command::new("bash").args(["-n", &broken]).output().unwrap().status.success());

    let out = run(&["completions", "tcsh"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("possible values: bash"), "{}", out.stderr);
}

#[test]
fn schema_suggests_the_closest_event_name() {
    let out = run(&["schema", "OrderStatus"]);
    assert_eq!(out.code, 2);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr.trim_end(),
        "error: unknown event name `OrderStatus`; did you mean `AMAZON.OrderStatus.Updated`?"
    );

    // Nothing close: the list instead.
    let out = run(&["schema", "Pizza"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("Amazon's schemas are AMAZON.MediaContent.Available, "), "{}", out.stderr);
    assert!(!out.stderr.contains("did you mean"), "{}", out.stderr);
}

#[test]
fn manifest_reports_a_mistyped_event_before_the_missing_endpoint() {
    let out = run(&["manifest", "--event", "AMAZON.WeatherAlert.Activated", "--event", "AMAZON.OrderStatus.Updatd"]);
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr.trim_end(),
        "error: unknown event name `AMAZON.OrderStatus.Updatd`; did you mean `AMAZON.OrderStatus.Updated`?"
    );

    // With the names right, the endpoint is what is missing...
    let out = run(&["manifest", "--event", "AMAZON.OrderStatus.Updated"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.starts_with("error: an events endpoint is required: pass --endpoint"), "{}", out.stderr);
    // ...also when merging into a skill.json that has none to keep (it is left as it was).
    let skill = r#"{"manifest": {"apis": {"custom": {}}}}"#;
    let path = scratch("skill.json", skill);
    let out = run(&["manifest", "--event", "AMAZON.OrderStatus.Updated", "--merge", &path]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("--endpoint") && out.stderr.contains("(the skill.json has none to keep)"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), skill);
}

#[test]
fn preview_suggests_the_closest_locale() {
    // Not written xx-YY: refused, with the locale meant.
    let out = run(&["preview", "--locale", "en_us", "examples/events/order_status.json"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.starts_with("error: invalid locale `en_us`"), "{}", out.stderr);
    assert!(out.stderr.contains("; did you mean `en-US`?"), "{}", out.stderr);

    // A locale the event lacks: an error naming the close one, and no sentence
    // passed off as what users in that locale hear (issue 12).
    let out = run(&["preview", "--locale", "en-UK", "examples/events/order_status.json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "error: examples/events/order_status.json: users in en-UK would get this event without its content: \
             the event has no `en-UK` localized attributes; did you mean `en-US`?"
        ),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("  en-UK: "), "{}", out.stdout);

    // A locale the event has: no warning.
    let out = run(&["preview", "--locale", "en-US", "examples/events/order_status.json"]);
    assert_eq!(out.code, 0);
    assert!(!out.stderr.contains("warning:"), "{}", out.stderr);
}

#[test]
fn colour_follows_no_color_and_the_color_flag() {
    let colored = |out: &Run| out.all().contains(ESC);
    let schema = ["schema", "Pizza"];
    // CLICOLOR_FORCE stands for a terminal: `auto` colours then...
    let forced = run_with(&schema, &[("CLICOLOR_FORCE", "1")], "");
    assert!(forced.stderr.starts_with(&format!("{ESC}[")), "{:?}", forced.stderr);
    // ...but never with NO_COLOR or --color never.
    assert!(!colored(&run_with(&schema, &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")], "")));
    assert!(!colored(&run_with(&["--color", "never", "schema", "Pizza"], &[("CLICOLOR_FORCE", "1")], "")));
    // A pipe is not a terminal.
    let piped = run(&schema);
    assert!(!colored(&piped));
    assert!(piped.stderr.starts_with("error: unknown event name"), "{}", piped.stderr);
    // --color always wins over the pipe and over NO_COLOR.
    let always = run_with(&["schema", "Pizza", "--color", "always"], &[("NO_COLOR", "1")], "");
    assert!(always.stderr.starts_with(&format!("{ESC}[")), "{:?}", always.stderr);
    assert!(always.stderr.contains("error:"), "{:?}", always.stderr);

    // clap's own help obeys the flag too, though it prints before the flag is parsed.
    assert!(run(&["--color", "always", "--help"]).stdout.contains(ESC));
    assert!(!run_with(&["--color", "never", "--help"], &[("CLICOLOR_FORCE", "1")], "").stdout.contains(ESC));
}

#[test]
fn validate_colours_problem_prefixes_only_when_asked() {
    let mut envelope: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("../examples/events/weather_alert.json").unwrap()).unwrap();
    envelope["referenceId"] = serde_json::json!("");
    let bad = scratch("bad.json", &envelope.to_string());
    let plain = run(&["validate", &bad]);
    let colored = run(&["validate", "--color", "always", &bad]);
    assert_eq!(plain.code, 1);
    assert_eq!(colored.code, 1);
    assert!(plain.stdout.contains(": error: referenceId"), "{}", plain.stdout);
    assert!(!plain.stdout.contains(ESC));
    assert!(colored.stdout.contains(ESC), "{}", colored.stdout);
    // The same words once the colour is taken out.
    let stripped: String = colored.stdout.replace("\u{1b}[1m", "").replace("\u{1b}[31m", "").replace("\u{1b}[0m", "");
    assert_eq!(stripped, plain.stdout);
}

/// A sandbox that accepts only `client_id`/`secret`, on a runtime that lives as
/// long as the pair.
fn sandbox(secret: &str) -> (tokio::runtime::Runtime, Sandbox) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let config = SandboxConfig::new().credentials("ux-client-id", secret);
    let sandbox = runtime.block_on(Sandbox::start_with(config)).unwrap();
    (runtime, sandbox)
}

const SECRET: &str = "ux-Secret-7f3a9c";

fn send_args<'a>(sandbox: &'a Sandbox, extra: &[&'a str]) -> Vec<String> {
    let mut args = vec![
        "send".to_owned(),
        "--client-id".to_owned(),
        "ux-client-id".to_owned(),
        "--endpoint".to_owned(),
        sandbox.base_url(),
        "--token-url".to_owned(),
        sandbox.token_url(),
        // The examples are stored envelopes: sent as of now (issue 12's now-window).
        "--restamp".to_owned(),
    ];
    args.extend(extra.iter().map(|arg| (*arg).to_owned()));
    args
}

fn send(sandbox: &Sandbox, extra: &[&str], env: &[(&str, &str)], stdin: &str) -> Run {
    let args = send_args(sandbox, extra);
    run_with(&args.iter().map(String::as_str).collect::<Vec<_>>(), env, stdin)
}

#[test]
fn the_secret_is_read_from_a_file_stdin_or_the_environment_and_never_printed() {
    let (_runtime, sandbox) = sandbox(SECRET);
    let file = scratch("secret", &format!("{SECRET}\n"));
    // One event per run: the sandbox answers 409 to a reference id it has accepted.
    let runs = [
        ("file", send(&sandbox, &["--client-secret-file", &file, "examples/events/order_status.json"], &[], "")),
        (
            "stdin",
            send(
                &sandbox,
                &["--client-secret-file", "-", "examples/events/occasion.json"],
                &[],
                &format!("{SECRET}\n"),
            ),
        ),
        (
            "environment",
            send(&sandbox, &["examples/events/weather_alert.json"], &[("ALEXA_CLIENT_SECRET", SECRET)], ""),
        ),
    ];
    for (source, out) in &runs {
        assert_eq!(out.code, 0, "from the {source}: {}", out.all());
        assert!(out.stdout.contains("1 accepted"), "from the {source}: {}", out.stdout);
        assert!(!out.all().contains(SECRET), "the {source} secret was printed");
    }
    assert_eq!(sandbox.records().accepted.len(), 3);
}

#[test]
fn a_wrong_or_misplaced_secret_is_refused_without_being_printed() {
    let (_runtime, sandbox) = sandbox(SECRET);
    let wrong = "ux-Wrong-Secret-41d2";
    let event = "examples/events/order_status.json";

    let out = send(&sandbox, &["--client-secret-file", &scratch("wrong", wrong), event], &[], "");
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.all().contains("invalid_client"), "{}", out.all());

    // The secret typed where the path goes: the message does not repeat it.
    let mistyped = send(&sandbox, &["--client-secret-file", wrong, event], &[], "");
    assert_eq!(mistyped.code, 2);
    assert!(mistyped.stderr.starts_with("error: cannot read the client secret from --client-secret-file"));

    // Standard input holds the events or the secret.
    let both = send(&sandbox, &["--client-secret-file", "-", "-"], &[], wrong);
    assert_eq!(both.code, 2);
    assert!(both.stderr.contains("standard input cannot hold both the events"), "{}", both.stderr);

    // Two sources at once is a usage error.
    let conflict = send(&sandbox, &["--client-secret", wrong, "--client-secret-file", "-", event], &[], "");
    assert_eq!(conflict.code, 2);
    assert!(conflict.stderr.contains("cannot be used with"), "{}", conflict.stderr);

    let empty = send(&sandbox, &["--client-secret-file", "-", event], &[], "\n");
    assert_eq!(empty.code, 2);
    assert!(empty.stderr.contains("the client secret in standard input is empty"), "{}", empty.stderr);

    for out in [&out, &mistyped, &both, &conflict, &empty] {
        assert!(!out.all().contains(wrong), "the secret was printed:\n{}", out.all());
    }
    assert!(sandbox.records().accepted.is_empty());
}

#[test]
fn help_warns_that_the_flag_is_visible_and_never_shows_the_secret() {
    let out = run_with(&["send", "--help"], &[("ALEXA_CLIENT_SECRET", SECRET)], "");
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("Visible to other users of the machine"), "{}", out.stdout);
    assert!(out.stdout.contains("--client-secret-file <PATH>"), "{}", out.stdout);
    assert!(!out.all().contains(SECRET));
}
