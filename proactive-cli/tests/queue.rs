//! `proactive queue send` and `proactive queue work` against a local AWS
//! (moto's server) and the sandbox (the `aws` feature).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use proactive_aws::aws_sdk_sqs;
use proactive_aws::moto::Moto;
use proactive_sandbox::{Faults, Sandbox, SandboxConfig, ScriptedAnswer};

mod aws_common;
use aws_common::{envelope, proactive};

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
    let running = worker(&moto, &queue, &dead, &sandbox, &["--concurrency", "4"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while sandbox.records().accepted.len() < 2 {
        assert!(Instant::now() < deadline, "the worker delivered {:?}", sandbox.records().accepted);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // SIGTERM, as ECS or Kubernetes stop a container.
    let killed = Command::new("kill").args(["-TERM", &running.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let output = running.wait_with_output().unwrap();
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

/// `proactive queue work` on `queue` with `dead` as its dead-letter queue, sending to `sandbox`,
/// with `extra` arguments.
fn worker(moto: &Moto, queue: &str, dead: &str, sandbox: &Sandbox, extra: &[&str]) -> std::process::Child {
    proactive()
        .args(["queue", "work", "--aws-endpoint", moto.endpoint(), "--queue-url", queue, "--dead-letter-url", dead])
        .args(extra)
        .args(["--endpoint", &sandbox.base_url(), "--token-url", &sandbox.token_url()])
        .args(["--client-id", sandbox.client_id(), "--client-secret", sandbox.client_secret()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits up to `within` for `child` to exit on its own; SIGTERM after that.
/// The output, and whether it exited on its own.
fn finish(child: std::process::Child, within: Duration) -> (std::process::Output, bool) {
    let deadline = Instant::now() + within;
    let mut child = child;
    let on_its_own = loop {
        if child.try_wait().unwrap().is_some() {
            break true;
        }
        if Instant::now() > deadline {
            let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
            break false;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (child.wait_with_output().unwrap(), on_its_own)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_will_not_start_with_a_dead_letter_queue_that_does_not_exist() {
    let Some(moto) = Moto::start_or_skip() else { return };
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    let queue = sqs.create_queue().queue_name("cli-no-dlq").send().await.unwrap().queue_url.unwrap();
    let dead = queue.replace("cli-no-dlq", "cli-no-such-dead-letters");
    let sandbox = Sandbox::start().await.unwrap();
    let (output, on_its_own) = finish(worker(&moto, &queue, &dead, &sandbox, &[]), Duration::from_secs(20));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(on_its_own, "the worker ran on without a dead-letter queue: {stderr}");
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "error: the dead-letter sink cannot take records, so refused events could not be kept: the dead-letter \
             queue `{dead}` cannot be used: "
        )),
        "{stderr}"
    );
    assert!(stderr.contains("; create it, or give the URL of one that exists"), "{stderr}");
}

/// A valid envelope to a user the sandbox answers "not subscribed", padded with
/// whitespace to `bytes`.
fn padded_refused(reference_id: &str, bytes: usize) -> String {
    let mut body = envelope(reference_id, "gone");
    let pad = bytes - body.len();
    body.insert_str(body.len() - 1, &" ".repeat(pad));
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_over_the_queue_limit_is_cut_to_fit_and_keeps_its_id_kind_and_status() {
    let Some(moto) = Moto::start_or_skip() else { return };
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    let queue = sqs.create_queue().queue_name("cli-big").send().await.unwrap().queue_url.unwrap();
    // SQS's smallest limit, 1 KiB: a 3,000-byte body does not fit, escaped or not.
    let dead = sqs
        .create_queue()
        .queue_name("cli-big-dead")
        .attributes(aws_sdk_sqs::types::QueueAttributeName::MaximumMessageSize, "1024")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let body = padded_refused("cli-big-1", 3000);
    sqs.send_message().queue_url(&queue).message_body(&body).send().await.unwrap();
    let config = SandboxConfig::new().answer_for("amzn1.ask.account.gone", ScriptedAnswer::NotSubscribed);
    let sandbox = Sandbox::start_with(config).await.unwrap();
    let child = worker(&moto, &queue, &dead, &sandbox, &[]);

    let deadline = Instant::now() + Duration::from_secs(30);
    let letter = loop {
        let received = sqs.receive_message().queue_url(&dead).send().await.unwrap();
        if let Some(message) = received.messages.unwrap_or_default().into_iter().next() {
            break message.body.unwrap();
        }
        assert!(Instant::now() < deadline, "no dead letter reached the 1 KiB queue");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (output, _) = finish(child, Duration::ZERO);
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains(" 1 dead-lettered (invalid, refused or failed: 1 not_subscribed), "), "{stdout}");
    assert!(letter.len() <= 1024, "{} bytes", letter.len());
    let letter: serde_json::Value = serde_json::from_str(&letter).unwrap();
    assert_eq!(
        (&letter["reference_id"], &letter["kind"], &letter["status"], &letter["body_bytes"]),
        (
            &serde_json::json!("cli-big-1"),
            &serde_json::json!("not_subscribed"),
            &serde_json::json!(403),
            &serde_json::json!(3000)
        )
    );
    assert!(body.starts_with(letter["body"].as_str().unwrap()), "the body's start is kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_the_queue_cannot_take_is_an_error_counted_in_the_summary_and_the_exit_code() {
    let Some(moto) = Moto::start_or_skip() else { return };
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    let queue = sqs.create_queue().queue_name("cli-lost").send().await.unwrap().queue_url.unwrap();
    let dead = sqs.create_queue().queue_name("cli-lost-dead").send().await.unwrap().queue_url.unwrap();
    let config = SandboxConfig::new().answer_for("amzn1.ask.account.gone", ScriptedAnswer::NotSubscribed);
    let sandbox = Sandbox::start_with(config).await.unwrap();
    let child = worker(&moto, &queue, &dead, &sandbox, &[]);
    // The worker has checked the dead-letter queue once it polls; then the queue goes away.
    tokio::time::sleep(Duration::from_secs(2)).await;
    sqs.delete_queue().queue_url(&dead).send().await.unwrap();
    sqs.send_message().queue_url(&queue).message_body(envelope("cli-lost-1", "gone")).send().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while sandbox.records().event_requests() == 0 {
        assert!(Instant::now() < deadline, "the worker never sent the event");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (output, _) = finish(child, Duration::ZERO);
    let (stdout, stderr) = (String::from_utf8(output.stdout).unwrap(), String::from_utf8(output.stderr).unwrap());
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.starts_with(
            "error: the `not_subscribed` dead letter of message `"
        ) && stderr.contains("` (referenceId `cli-lost-1`) was not kept, so the message comes back to the queue: could not send a dead letter to `"),
        "{stderr}"
    );
    assert!(stdout.contains(", 1 dead letter not kept (see the errors above), 1 left on the queue; "), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_restamp_sends_a_stored_envelope_re_stamped_at_each_attempt() {
    let Some(moto) = Moto::start_or_skip() else { return };
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    let queue = sqs.create_queue().queue_name("cli-restamp").send().await.unwrap().queue_url.unwrap();
    let dead = sqs.create_queue().queue_name("cli-restamp-dead").send().await.unwrap().queue_url.unwrap();
    // Written a day ago with a 5-minute window: expired while queued.
    let mut stored: serde_json::Value = serde_json::from_str(&envelope("cli-restamp-1", "alice")).unwrap();
    let written = Utc::now() - chrono::Duration::days(1);
    stored["timestamp"] = serde_json::json!(written);
    stored["expiryTime"] = serde_json::json!(written + chrono::Duration::minutes(5));
    sqs.send_message().queue_url(&queue).message_body(stored.to_string()).send().await.unwrap();
    let faults = Faults { failing_attempts: 1, failing_retry_after_secs: 1, ..Faults::none() };
    let sandbox = Sandbox::start_with(SandboxConfig::new().faults(faults)).await.unwrap();
    let started = Utc::now();
    let child = worker(&moto, &queue, &dead, &sandbox, &["--restamp", "--format", "json"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while sandbox.records().accepted.is_empty() {
        assert!(Instant::now() < deadline, "nothing accepted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (output, _) = finish(child, Duration::ZERO);
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (&summary["accepted"], &summary["dead_lettered"], &summary["retries"]),
        (&1.into(), &0.into(), &1.into())
    );
    let records = sandbox.records();
    let sent = &records.accepted[0].envelope;
    assert_eq!(sent.reference_id.as_str(), "cli-restamp-1");
    assert_eq!(sent.expiry_time - sent.timestamp, chrono::Duration::minutes(6));
    assert!(sent.timestamp >= started + chrono::Duration::seconds(1), "re-stamped at the retry: {}", sent.timestamp);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_enqueues_in_batches_of_10_as_it_reads() {
    let Some(moto) = Moto::start_or_skip() else { return };
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    let queue = sqs.create_queue().queue_name("cli-stream").send().await.unwrap().queue_url.unwrap();
    let mut child = proactive()
        .args(["queue", "send", "--aws-endpoint", moto.endpoint(), "--queue-url", &queue, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for i in 0..12 {
        writeln!(stdin, "{}", envelope(&format!("stream-{i}"), "alice")).unwrap();
    }
    writeln!(stdin, "{}", envelope("stream has spaces", "bob")).unwrap();
    stdin.flush().unwrap();
    // The first 10 are on the queue while the input is still open.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let attributes = sqs
            .get_queue_attributes()
            .queue_url(&queue)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .unwrap();
        let depth = attributes.attributes().unwrap()
            [&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages]
            .parse::<u32>()
            .unwrap();
        if depth >= 10 {
            assert_eq!(depth, 10, "one batch of 10, no more, before the input ends");
            break;
        }
        assert!(Instant::now() < deadline, "nothing was enqueued before the input ended");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for i in 12..25 {
        writeln!(stdin, "{}", envelope(&format!("stream-{i}"), "alice")).unwrap();
    }
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("-:13: not enqueued, invalid:\n  error: referenceId: "), "{stdout}");
    assert!(stdout.lines().last().unwrap().starts_with("26 events: 25 enqueued, 1 invalid, 0 failed; "), "{stdout}");
}
