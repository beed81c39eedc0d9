//! The two Lambda functions as deployed: the bootstraps built by `cargo lambda
//! build --release -p proactive-aws --features lambda`, run against `cargo
//! lambda watch --only-lambda-apis` (the Lambda Runtime API), with DynamoDB,
//! SQS and SSM on moto and the sandbox playing Alexa and Amazon. Run by
//! `.ci/run` after that build (the `lambda` feature keeps it out of `cargo
//! test --workspace`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use proactive_aws::moto::Moto;
use proactive_aws::{DynamoDbStore, aws_sdk_dynamodb, aws_sdk_sqs, aws_sdk_ssm};
use proactive_core::UserId;
use proactive_core::subscription::SubscriptionTracker;
use proactive_sandbox::{Sandbox, SandboxConfig, ScriptedAnswer, skill_event};
use serde_json::{Value, json};

const SKILL: &str = "amzn1.ask.skill.watch";
const RECORDED: &str = include_str!("../../tests/tests/aws/sqs-event.json");
const UNREACHABLE: &str = "4c8b9a8f-6e2d-4f3b-a01c-8d7e6f5a4b32";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_owned()
}

/// The bootstrap `cargo lambda build` wrote for `function`.
fn bootstrap(function: &str) -> PathBuf {
    let path = root().join("target/lambda").join(function).join("bootstrap");
    assert!(
        path.is_file(),
        "`{}` is missing: run `cargo lambda build --release -p proactive-aws --features lambda` first",
        path.display()
    );
    path
}

/// Output kept from a child's pipe.
type Captured = Arc<Mutex<String>>;

fn capture(pipe: impl Read + Send + 'static) -> Captured {
    let text = Captured::default();
    let keep = Arc::clone(&text);
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let mut text = keep.lock().unwrap();
            text.push_str(&line);
            text.push('\n');
        }
    });
    text
}

/// `cargo lambda watch --only-lambda-apis` on a free port, and one function
/// started against it (named `_`, the name watch gives a function it does not
/// start itself).
struct Function {
    watch: Child,
    function: Child,
    port: u16,
    stdout: Captured,
    stderr: Captured,
}

impl Function {
    fn start(name: &str, env: &[(&str, &str)], moto: &Moto) -> Function {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let watch = Command::new("cargo")
            .args(["lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", &port.to_string()])
            .current_dir(root())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot run `cargo lambda watch`: pip install cargo-lambda");
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "cargo lambda watch did not listen on {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut function = Command::new(bootstrap(name))
            .env_clear()
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_RUNTIME_API", format!("http://127.0.0.1:{port}/.rt"))
            .env("AWS_LAMBDA_FUNCTION_NAME", "_")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ENDPOINT_URL", moto.endpoint())
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = capture(function.stdout.take().unwrap());
        let stderr = capture(function.stderr.take().unwrap());
        Function { watch, function, port, stdout, stderr }
    }

    /// Invokes the function with `event`: the HTTP status and the answer.
    fn invoke(&self, event: &Value) -> (u16, Value) {
        let body = event.to_string();
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            stream,
            "POST /2015-03-31/functions/_/invocations HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut text = String::new();
        stream.read_to_string(&mut text).unwrap();
        let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let answer = text.split_once("\r\n\r\n").map_or("", |(_, body)| body);
        (status, serde_json::from_str(answer).unwrap_or(Value::String(answer.to_owned())))
    }

    /// Everything the function wrote.
    fn output(&self) -> (String, String) {
        std::thread::sleep(Duration::from_millis(200));
        (self.stdout.lock().unwrap().clone(), self.stderr.lock().unwrap().clone())
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.function.kill();
        let _ = self.function.wait();
        let _ = self.watch.kill();
        let _ = self.watch.wait();
    }
}

/// Each EMF line parses as JSON with the `_aws` block the specification
/// requires (a timestamp, and a namespace, dimensions and metrics whose
/// values are members of the line); returns them.
fn emf_lines(stdout: &str) -> Vec<Value> {
    let lines: Vec<Value> =
        stdout.lines().filter(|l| l.contains("\"_aws\"")).map(|l| serde_json::from_str(l).unwrap()).collect();
    for line in &lines {
        let aws = &line["_aws"];
        assert!(aws["Timestamp"].is_u64(), "{line}");
        let directive = &aws["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "Proactive", "{line}");
        for dimension in directive["Dimensions"][0].as_array().unwrap() {
            assert!(line[dimension.as_str().unwrap()].is_string(), "{line}");
        }
        for metric in directive["Metrics"].as_array().unwrap() {
            assert!(!line[metric["Name"].as_str().unwrap()].is_null(), "{line}");
        }
    }
    lines
}

/// The logs on standard error are JSON lines.
fn assert_json_logs(stderr: &str) {
    assert!(!stderr.trim().is_empty());
    for line in stderr.lines() {
        let log: Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON log line: {line}"));
        assert!(log["level"].is_string(), "{line}");
    }
}

#[test]
fn the_events_endpoint_fails_at_start_without_its_settings() {
    let output = Command::new(bootstrap("proactive-events-endpoint"))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .env("PROACTIVE_TABLE", "t")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("error: `PROACTIVE_SKILL_ID` is not set: set it to the skill id"), "{stderr}");
    let output = Command::new(bootstrap("proactive-sender")).env_clear().env("ALEXA_CLIENT_ID", "id").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("error: the client secret has no source: set `ALEXA_CLIENT_SECRET_SSM`"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_events_endpoint_applies_the_whole_lifecycle_and_refuses_the_rest() {
    let Some(moto) = Moto::start_or_skip() else { return };
    let config = moto.sdk_config().await;
    let table = format!("watch-{}", std::process::id());
    let store = DynamoDbStore::create_table(aws_sdk_dynamodb::Client::new(&config), table.clone()).await.unwrap();
    let tracker = SubscriptionTracker::new(store);
    let function = Function::start(
        "proactive-events-endpoint",
        &[("PROACTIVE_SKILL_ID", SKILL), ("PROACTIVE_TABLE", &table), ("PROACTIVE_LOG_FORMAT", "json")],
        &moto,
    );
    let user = "amzn1.ask.account.watch";
    let id = UserId::new(user).unwrap();

    let subscribe = skill_event::subscription_changed(SKILL, user, &["AMAZON.WeatherAlert.Activated"]);
    assert_eq!(function.invoke(&subscribe), (200, json!({"version": "1.0", "response": {}})));
    let before = tracker.get(&id).await.unwrap().expect("subscribed");

    let other_skill = skill_event::skill_disabled("amzn1.ask.skill.other", user);
    let (status, answer) = function.invoke(&other_skill);
    assert_eq!((status, &answer["errorType"]), (500, &json!("Refused")), "{answer}");
    let mut old = skill_event::skill_disabled(SKILL, user);
    old["request"]["timestamp"] =
        json!((Utc::now() - chrono::Duration::hours(2)).to_rfc3339_opts(SecondsFormat::Secs, true));
    let (status, answer) = function.invoke(&old);
    assert_eq!(status, 500, "{answer}");
    assert!(answer["errorMessage"].as_str().unwrap().contains("too old"), "{answer}");
    assert_eq!(tracker.get(&id).await.unwrap(), Some(before), "refused requests change nothing");

    let mut huge = skill_event::skill_disabled(SKILL, user);
    huge["request"]["requestId"] = json!("r".repeat(1 << 20));
    huge["request"]["timestamp"] = old["request"]["timestamp"].clone();
    let (status, _) = function.invoke(&huge);
    assert_eq!(status, 500);

    let disable = skill_event::skill_disabled(SKILL, user);
    assert_eq!(function.invoke(&disable).0, 200);
    assert_eq!(tracker.get(&id).await.unwrap(), None, "the user is gone");

    let (stdout, stderr) = function.output();
    assert!(!stdout.contains(&"r".repeat(200)) && !stderr.contains(&"r".repeat(200)), "a whole requestId was logged");
    assert_json_logs(&stderr);
    let emf = emf_lines(&stdout);
    let outcomes: Vec<&str> = emf.iter().filter_map(|l| l["outcome"].as_str()).collect();
    assert_eq!(outcomes, ["subscriptions", "refused", "refused", "refused", "user_removed"], "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sender_returns_exactly_the_retryable_messages_of_a_recorded_batch() {
    let Some(moto) = Moto::start_or_skip() else { return };
    let config = moto.sdk_config().await;
    let sandbox = Sandbox::start_with(
        SandboxConfig::new()
            .answer_for("amzn1.ask.account.unsubscribed-lambda", ScriptedAnswer::NotSubscribed)
            .answer_for("amzn1.ask.account.unreachable-lambda", ScriptedAnswer::ServerError)
            .answer_for("amzn1.ask.account.unreachable-lambda-2", ScriptedAnswer::ServerError),
    )
    .await
    .unwrap();
    let secret = sandbox.client_secret().to_owned();
    let ssm = aws_sdk_ssm::Client::new(&config);
    let parameter = "/proactive/watch-secret";
    ssm.put_parameter()
        .name(parameter)
        .value(&secret)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .unwrap();
    let sqs = aws_sdk_sqs::Client::new(&config);
    let refusals = sqs.create_queue().queue_name("watch-refusals").send().await.unwrap().queue_url.unwrap();
    let function = Function::start(
        "proactive-sender",
        &[
            ("ALEXA_CLIENT_ID", sandbox.client_id()),
            ("ALEXA_CLIENT_SECRET_SSM", parameter),
            ("PROACTIVE_DEAD_LETTER_URL", &refusals),
            ("PROACTIVE_API_URL", &sandbox.base_url()),
            ("PROACTIVE_TOKEN_URL", &sandbox.token_url()),
            ("PROACTIVE_MAX_RECEIVES", "3"),
            ("PROACTIVE_MAX_ATTEMPTS", "1"),
        ],
        &moto,
    );
    let now = Utc::now();
    let batch: Value = serde_json::from_str(
        &RECORDED
            .replace("$TIMESTAMP", &now.to_rfc3339_opts(SecondsFormat::Secs, true))
            .replace("$EXPIRY", &(now + chrono::Duration::hours(23)).to_rfc3339_opts(SecondsFormat::Secs, true)),
    )
    .unwrap();
    let (status, answer) = function.invoke(&batch);
    assert_eq!((status, answer), (200, json!({"batchItemFailures": [{"itemIdentifier": UNREACHABLE}]})));

    let received = sqs.receive_message().queue_url(&refusals).max_number_of_messages(10).send().await.unwrap();
    let mut kinds: Vec<String> = received
        .messages()
        .iter()
        .map(|m| serde_json::from_str::<Value>(m.body().unwrap()).unwrap()["kind"].as_str().unwrap().to_owned())
        .collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["gave_up", "malformed", "malformed", "not_subscribed"]);

    let (stdout, stderr) = function.output();
    assert!(!stdout.contains(&secret) && !stderr.contains(&secret), "the client secret is in an output");
    assert_json_logs(&stderr);
    let emf = emf_lines(&stdout);
    let settled: u64 = emf
        .iter()
        .filter(|l| l["proactive_messages_total"].is_u64())
        .map(|l| l["proactive_messages_total"].as_u64().unwrap())
        .sum();
    assert_eq!(settled, 8, "{stdout}");
}
