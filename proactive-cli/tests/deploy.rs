//! `deploy/template.yaml` deployed into moto's CloudFormation (transformed by
//! aws-sam-translator, as `sam deploy` does), then used with the names its
//! outputs give: the store's basics on its table, and `queue send` → `queue
//! work` on its queues, with the client secret read from its SSM parameter,
//! while `/metrics` and `/healthz` are watched. No output of any of it holds
//! the client secret.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::Utc;
use proactive_aws::moto::Moto;
use proactive_aws::{DynamoDbStore, aws_sdk_dynamodb};
use proactive_core::UserId;
use proactive_core::schemas::EventName;
use proactive_core::subscription::{SkillEvent, SubscriptionTracker};
use proactive_sandbox::{Sandbox, skill_event};
use serde_json::Value;

mod aws_common;
use aws_common::{envelope, proactive};

const SKILL: &str = "amzn1.ask.skill.00000000-0000-0000-0000-000000000000";
const WRONG_SECRET: &str = "wrong-secret-4f1c9a7e2b";

/// Deploys the template; the stack's outputs (and `_resources`, the logical
/// id and type of each resource).
fn deploy(moto: &Moto, secret: &str) -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut child = Command::new(std::env::var("MOTO_PYTHON").unwrap_or_else(|_| "python3".to_owned()))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/deploy/moto_deploy.py"))
        .args([moto.endpoint(), root.join("deploy/template.yaml").to_str().unwrap(), "proactive"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(secret.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let (stdout, stderr) = (String::from_utf8(output.stdout).unwrap(), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "the deploy failed (pip install aws-sam-translator 'moto[server]'): {stderr}");
    assert!(!stdout.contains(secret) && !stderr.contains(secret));
    serde_json::from_str(&stdout).unwrap()
}

/// A GET over HTTP/1.0 (the server then closes the connection after the
/// body): the status code and the body.
fn get(addr: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    (status, body)
}

/// The value of the Prometheus sample `name` (with its labels, as printed).
fn sample(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .map_or(0, |value| value.trim().parse::<f64>().unwrap() as u64)
}

/// Starts `queue work` with `--metrics-addr 127.0.0.1:0` and JSON logs; the
/// child, the metrics address, and a channel of its standard error lines.
fn work(
    moto: &Moto,
    outputs: &Value,
    sandbox: &Sandbox,
    secret_flag: &[&str],
) -> (Child, String, mpsc::Receiver<String>) {
    let mut child = proactive()
        .args(["queue", "work", "--aws-endpoint", moto.endpoint()])
        .args(["--queue-url", outputs["EventsQueueUrl"].as_str().unwrap()])
        .args(["--dead-letter-url", outputs["RefusalsQueueUrl"].as_str().unwrap()])
        .args(["--endpoint", &sandbox.base_url(), "--token-url", &sandbox.token_url()])
        .args(["--client-id", sandbox.client_id()])
        .args(secret_flag)
        .args(["--metrics-addr", "127.0.0.1:0", "--log-format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines, receiver) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let first = receiver.recv_timeout(Duration::from_secs(60)).expect("queue work printed no metrics address");
    let addr = first
        .strip_prefix("metrics on http://")
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("not the metrics address: {first}"))
        .to_owned();
    (child, addr, receiver)
}

fn terminate(child: Child, stderr: &mpsc::Receiver<String>) -> (Option<i32>, String, String) {
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let output = child.wait_with_output().unwrap();
    let stderr: Vec<String> = stderr.try_iter().collect();
    (output.status.code(), String::from_utf8(output.stdout).unwrap(), stderr.join("\n"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_template_deploys_into_moto_and_its_table_and_queues_work() {
    let Some(moto) = Moto::start_or_skip() else { return };
    let sandbox = Sandbox::start().await.unwrap();
    let secret = sandbox.client_secret().to_owned();
    let outputs = deploy(&moto, &secret);
    let resources: Vec<&str> = outputs["_resources"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    for expected in [
        "SubscriptionsTable AWS::DynamoDB::Table",
        "EventsQueue AWS::SQS::Queue",
        "EventsDeadLetterQueue AWS::SQS::Queue",
        "RefusalsQueue AWS::SQS::Queue",
        "EventsEndpointFunction AWS::Lambda::Function",
        "EventsEndpointFunctionAlexaPermission AWS::Lambda::Permission",
        "SenderFunction AWS::Lambda::Function",
        "SenderFunctionQueue AWS::Lambda::EventSourceMapping",
    ] {
        assert!(resources.contains(&expected), "{expected} not in {resources:?}");
    }
    assert!(outputs["EventsEndpointArn"].as_str().unwrap().starts_with("arn:aws:lambda:"), "{outputs}");

    store_basics(&moto, outputs["SubscriptionsTableName"].as_str().unwrap()).await;
    let mut seen = round_trip(&moto, &outputs, &sandbox).await;
    seen.push_str(&refused_credentials(&moto, &outputs, &sandbox).await);
    assert!(!seen.contains(&secret), "the client secret is in an output");
    assert!(!seen.contains(WRONG_SECRET), "the client secret is in an output");
}

/// The store's basics on the stack's table: a subscription is kept, an older
/// request changes nothing, a disabled skill forgets the user.
async fn store_basics(moto: &Moto, table: &str) {
    let client = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
    let tracker = SubscriptionTracker::new(DynamoDbStore::new(client, table));
    let user = "amzn1.ask.account.deployed";
    let mut older = skill_event::subscription_changed(SKILL, user, &[]);
    let subscribe = skill_event::subscription_changed(SKILL, user, &["AMAZON.WeatherAlert.Activated"]);
    older["request"]["timestamp"] = Value::String((Utc::now() - chrono::Duration::minutes(5)).to_rfc3339());
    let event = |value: &Value| SkillEvent::from_value(value).unwrap();
    tracker.handle(&event(&subscribe)).await.unwrap();
    tracker.handle(&event(&older)).await.unwrap();
    let id = UserId::new(user).unwrap();
    let state = tracker.get(&id).await.unwrap().expect("the user is stored");
    assert!(state.events.iter().any(|e| e.as_str() == EventName::WeatherAlertActivated.as_str()), "{state:?}");
    tracker.handle(&event(&skill_event::skill_disabled(SKILL, user))).await.unwrap();
    assert_eq!(tracker.get(&id).await.unwrap(), None);
}

/// `queue send` onto the stack's queue, then `queue work` (the secret from
/// the stack's SSM parameter) until both are delivered: `/metrics` then
/// equals the final summary, and `/healthz` is healthy. Returns every output.
async fn round_trip(moto: &Moto, outputs: &Value, sandbox: &Sandbox) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    std::fs::write(&path, format!("{}\n{}\n", envelope("deploy-1", "alice"), envelope("deploy-2", "bob"))).unwrap();
    let send = proactive()
        .args(["queue", "send", "--aws-endpoint", moto.endpoint()])
        .args(["--queue-url", outputs["EventsQueueUrl"].as_str().unwrap(), path.to_str().unwrap()])
        .output()
        .unwrap();
    let mut seen = String::from_utf8_lossy(&send.stdout).into_owned() + &String::from_utf8_lossy(&send.stderr);
    assert_eq!(send.status.code(), Some(0), "{seen}");

    let (child, addr, stderr) = work(moto, outputs, sandbox, &["--client-secret-ssm", "/proactive/client-secret"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let metrics = loop {
        let (status, metrics) = get(&addr, "/metrics");
        assert_eq!(status, 200);
        if sample(&metrics, "proactive_messages_total{outcome=\"accepted\"}") == 2 {
            break metrics;
        }
        assert!(Instant::now() < deadline, "not delivered: {metrics}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (status, health) = get(&addr, "/healthz");
    assert_eq!((status, health.as_str()), (200, "ok\n"));
    let (code, stdout, logs) = terminate(child, &stderr);
    seen.push_str(&format!("{metrics}{health}{stdout}{logs}"));
    assert_eq!(code, Some(0), "{stdout}{logs}");
    let summary = stdout.lines().last().unwrap();
    let expected = format!(
        "{} events: {} accepted, 0 already delivered, 0 dead-lettered (invalid, refused or failed), 0 left on the \
         queue; {} retries, {} token request(s), ",
        sample(&metrics, "proactive_messages_received_total"),
        sample(&metrics, "proactive_messages_total{outcome=\"accepted\"}"),
        sample(&metrics, "proactive_retries_total"),
        sample(&metrics, "proactive_token_requests_total"),
    );
    assert!(summary.starts_with(&expected), "{summary}\n{metrics}");
    assert!(summary.starts_with("2 events: 2 accepted"), "{summary}");
    assert!(metrics.contains("proactive_queue_age_seconds"), "{metrics}");
    let log = logs.lines().find(|line| line.starts_with('{')).expect("no JSON log line");
    let log: Value = serde_json::from_str(log).unwrap();
    assert!(log["level"].is_string() && log["message"].is_string(), "{log}");
    seen
}

/// `queue work` with a secret the sandbox refuses: `/healthz` answers 503 and
/// says the token endpoint refused; nothing shows the secret.
async fn refused_credentials(moto: &Moto, outputs: &Value, sandbox: &Sandbox) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret");
    std::fs::write(&path, WRONG_SECRET).unwrap();
    let (child, addr, stderr) = work(moto, outputs, sandbox, &["--client-secret-file", path.to_str().unwrap()]);
    let (status, health) = get(&addr, "/healthz");
    let (_, stdout, logs) = terminate(child, &stderr);
    assert_eq!(status, 503, "{health}");
    assert!(health.starts_with("token endpoint: "), "{health}");
    format!("{health}{stdout}{logs}")
}
