//! The README's "test it offline" commands, run as written (on a free port and
//! in a temporary directory): the CLI makes the sandbox Alexa's CA, the
//! `subscriptions` example trusts it, and signed events fired from the CLI
//! subscribe and then forget a user; an unsigned POST is refused.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use assert_cmd::cargo::cargo_bin;

/// `target/debug/examples/subscriptions`, built if missing (`cargo test
/// --workspace` builds it before any test runs).
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

struct Endpoint(Child);

impl Drop for Endpoint {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn proactive(dir: &Path, args: &[&str]) -> Output {
    Command::new(cargo_bin!("proactive")).current_dir(dir).args(args).output().unwrap()
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// The example's stdout lines, read on a thread.
fn spawn_endpoint(dir: &Path, port: u16) -> (Endpoint, std::sync::mpsc::Receiver<String>) {
    let mut child = Command::new(example_binary())
        .current_dir(dir)
        .env("PROACTIVE_SKILL_ID", "amzn1.ask.skill.sandbox")
        .env("PROACTIVE_SANDBOX_ALEXA", ".proactive-sandbox/alexa")
        .args([format!("127.0.0.1:{port}"), "subscriptions.db".to_owned()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    (Endpoint(child), receiver)
}

fn next_line(lines: &std::sync::mpsc::Receiver<String>, starting: &str) -> String {
    loop {
        let line = lines.recv_timeout(std::time::Duration::from_secs(30)).expect("the example printed nothing");
        if line.starts_with(starting) || line.contains(starting) {
            return line;
        }
    }
}

#[test]
fn the_sandbox_plays_alexa_against_the_example_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let made = proactive(dir.path(), &["sandbox", "--alexa-dir", ".proactive-sandbox/alexa"]);
    assert_eq!(made.status.code(), Some(0), "{}", text(&made));
    assert!(dir.path().join(".proactive-sandbox/alexa/ca.pem").exists());

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (_endpoint, lines) = spawn_endpoint(dir.path(), port);
    next_line(&lines, "listening on");
    let url = format!("http://127.0.0.1:{port}/alexa/events");

    let fired =
        proactive(dir.path(), &["sandbox", "--skill-endpoint", &url, "--event", "AMAZON.WeatherAlert.Activated"]);
    assert_eq!(fired.status.code(), Some(0), "{}", text(&fired));
    assert!(text(&fired).starts_with("200 AlexaSkillEvent.ProactiveSubscriptionChanged"), "{}", text(&fired));
    let line = next_line(&lines, "amzn1.ask.account.SANDBOX");
    assert!(line.contains("added [AMAZON.WeatherAlert.Activated]"), "{line}");

    let fired = proactive(dir.path(), &["sandbox", "--skill-endpoint", &url, "--fire", "skill-disabled"]);
    assert_eq!(fired.status.code(), Some(0), "{}", text(&fired));
    let line = next_line(&lines, "amzn1.ask.account.SANDBOX");
    assert!(line.contains("disabled the skill: forgotten"), "{line}");

    // Another skill id: the endpoint refuses it, and the CLI exits 1.
    let refused = proactive(dir.path(), &["sandbox", "--skill-endpoint", &url, "--skill-id", "amzn1.ask.skill.other"]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(text(&refused).starts_with("400 "), "{}", text(&refused));

    // `curl -X POST …/alexa/events -d '{}'`: unsigned, 400.
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(stream, "POST /alexa/events HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("the `SignatureCertChainUrl` header is missing"), "{answer}");
}

#[test]
fn a_non_http_endpoint_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = proactive(dir.path(), &["sandbox", "--skill-endpoint", "https://example.com/alexa"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("is not an http:// URL"), "{}", text(&output));
}
