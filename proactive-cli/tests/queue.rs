//! `proactive queue send` and `proactive queue work` against a local AWS
//! (moto's server) and the sandbox (the `aws` feature).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::cargo::cargo_bin;
use chrono::{SecondsFormat, Utc};
use proactive_aws::aws_sdk_sqs;
use proactive_aws::moto::Moto;
use proactive_sandbox::Sandbox;

/// `proactive` with dummy AWS credentials: nothing can reach real AWS.
fn proactive() -> Command {
    let mut command = Command::new(cargo_bin!("proactive"));
    command
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .env("AWS_EC2_METADATA_DISABLED", "true");
    command
}

fn envelope(reference_id: &str, user: &str) -> String {
    let now = Utc::now();
    serde_json::json!({
        "timestamp": now.to_rfc3339_opts(SecondsFormat::Secs, true),
        "referenceId": reference_id,
        "expiryTime": (now + chrono::Duration::hours(23)).to_rfc3339_opts(SecondsFormat::Secs, true),
        "event": {"name": "AMAZON.WeatherAlert.Activated", "payload": {"weatherAlert": {"alertType": "TORNADO"}}},
        "localizedAttributes": [],
        "relevantAudience": {"type": "Unicast", "payload": {"user": format!("amzn1.ask.account.{user}")}}
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_enqueues_the_valid_events_and_work_delivers_them_until_sigterm() {
    let Some(moto) = Moto::start_or_skip() else { return };
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    let queue = sqs.create_queue().queue_name("cli-events").send().await.unwrap().queue_url.unwrap();
    let dead = sqs.create_queue().queue_name("cli-dead").send().await.unwrap().queue_url.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let mut file = std::fs::File::create(&path).unwrap();
    writeln!(file, "{}", envelope("cli-1", "alice")).unwrap();
    writeln!(file, "{}", envelope("cli 2 has spaces", "bob")).unwrap();
    writeln!(file, "{}", envelope("cli-3", "carol")).unwrap();
    drop(file);

    let output = proactive()
        .args(["queue", "send", "--aws-endpoint", moto.endpoint(), "--queue-url", &queue, path.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains(":2: not enqueued, invalid:\n  error: referenceId: "), "{stdout}");
    assert!(stdout.lines().last().unwrap().starts_with("3 events: 2 enqueued, 1 invalid, 0 failed; "), "{stdout}");

    let sandbox = Sandbox::start().await.unwrap();
    let worker = proactive()
        .args(["queue", "work", "--aws-endpoint", moto.endpoint(), "--queue-url", &queue, "--dead-letter-url", &dead])
        .args(["--concurrency", "4"])
        .args(["--endpoint", &sandbox.base_url(), "--token-url", &sandbox.token_url()])
        .args(["--client-id", sandbox.client_id(), "--client-secret", sandbox.client_secret()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while sandbox.records().accepted.len() < 2 {
        assert!(Instant::now() < deadline, "the worker delivered {:?}", sandbox.records().accepted);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // SIGTERM, as ECS or Kubernetes stop a container.
    let killed = Command::new("kill").args(["-TERM", &worker.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let output = worker.wait_with_output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        stdout.lines().last().unwrap().starts_with(
            "2 events: 2 accepted, 0 already delivered, 0 dead-lettered (invalid, refused or failed), 0 left on the queue; 0 \
             retries, 1 token request(s), "
        ),
        "{stdout}"
    );
    let mut ids: Vec<&str> = Vec::new();
    let records = sandbox.records();
    ids.extend(records.accepted.iter().map(|a| a.envelope.reference_id.as_str()));
    ids.sort_unstable();
    assert_eq!(ids, ["cli-1", "cli-3"]);
}
