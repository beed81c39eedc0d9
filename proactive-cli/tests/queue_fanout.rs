//! `proactive queue fanout` against a local AWS (moto's server): subscribers
//! from the DynamoDB store onto SQS, killed with SIGKILL halfway and run again
//! from its checkpoint, then delivered by `queue work` to the sandbox, each
//! subscriber exactly once (the `aws` feature).

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use futures_util::StreamExt;
use proactive_aws::moto::Moto;
use proactive_aws::{DynamoDbStore, REGION_ATTRIBUTE, aws_sdk_dynamodb, aws_sdk_sqs, stable_reference_id};
use proactive_core::UserId;
use proactive_core::subscription::{SubscriptionChangedRequest, SubscriptionTracker};
use proactive_sandbox::Sandbox;
use serde_json::json;

mod aws_common;
use aws_common::proactive;

const WEATHER: &str = "AMAZON.WeatherAlert.Activated";
const SUBSCRIBERS: usize = 300;
const PAGE: usize = 25;

fn user(i: usize) -> UserId {
    UserId::new(&format!("amzn1.ask.account.fanout-{i:04}")).unwrap()
}

/// A template valid now: a weather alert, expiring in 23 hours.
fn template(dir: &std::path::Path, name: &str, alert: &str) -> String {
    let now = Utc::now();
    let envelope = json!({
        "timestamp": now.to_rfc3339_opts(SecondsFormat::Millis, true),
        "referenceId": "template",
        "expiryTime": (now + chrono::Duration::hours(23)).to_rfc3339_opts(SecondsFormat::Millis, true),
        "event": {"name": WEATHER, "payload": {"weatherAlert": {"alertType": alert}}},
        "localizedAttributes": [],
        "relevantAudience": {"type": "Multicast", "payload": {}}
    });
    let path = dir.join(name);
    std::fs::write(&path, envelope.to_string()).unwrap();
    path.to_str().unwrap().to_owned()
}

/// A table with `SUBSCRIBERS` users subscribed to weather alerts; user 7 is in Europe.
async fn subscribed_table(moto: &Moto) -> DynamoDbStore {
    let client = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
    let store = DynamoDbStore::create_table(client, "fanout-subscriptions").await.unwrap();
    let tracker = SubscriptionTracker::new(store.clone());
    futures_util::stream::iter(0..SUBSCRIBERS)
        .for_each_concurrent(16, |i| {
            let tracker = &tracker;
            async move {
                let endpoint = if i == 7 { "https://api.eu.amazonalexa.com" } else { "https://api.amazonalexa.com" };
                let body = json!({
                    "version": "1.0",
                    "context": {"System": {
                        "application": {"applicationId": "amzn1.ask.skill.test"},
                        "user": {"userId": user(i).as_str()},
                        "apiEndpoint": endpoint
                    }},
                    "request": {
                        "type": "AlexaSkillEvent.ProactiveSubscriptionChanged",
                        "requestId": format!("r-{i}"),
                        "timestamp": Utc::now().to_rfc3339(),
                        "body": {"subscriptions": [{"eventName": WEATHER}]}
                    }
                });
                tracker.apply(&SubscriptionChangedRequest::from_value(&body).unwrap()).await.unwrap();
            }
        })
        .await;
    store
}

fn fanout_args<'a>(moto: &'a Moto, queue: &'a str, template: &'a str) -> Vec<&'a str> {
    vec![
        "queue",
        "fanout",
        "--aws-endpoint",
        moto.endpoint(),
        "--queue-url",
        queue,
        "--table",
        "fanout-subscriptions",
        "--event-key",
        "storm-2026-12-05",
        "--page-size",
        "25",
        template,
    ]
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

async fn queued(sqs: &aws_sdk_sqs::Client, queue: &str) -> usize {
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(queue)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .unwrap();
    let count = attributes
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages));
    count.and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// Every message on the queue (received and deleted): referenceId -> (count, region).
async fn drain(sqs: &aws_sdk_sqs::Client, queue: &str) -> BTreeMap<String, (usize, String)> {
    let mut seen: BTreeMap<String, (usize, String)> = BTreeMap::new();
    loop {
        let output = sqs
            .receive_message()
            .queue_url(queue)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        let messages = output.messages();
        if messages.is_empty() {
            return seen;
        }
        for message in messages {
            let body: serde_json::Value = serde_json::from_str(message.body().unwrap()).unwrap();
            let region = message
                .message_attributes()
                .and_then(|a| a.get(REGION_ATTRIBUTE))
                .and_then(|v| v.string_value())
                .unwrap_or_default()
                .to_owned();
            let entry = seen.entry(body["referenceId"].as_str().unwrap().to_owned()).or_insert((0, region));
            entry.0 += 1;
            sqs.delete_message()
                .queue_url(queue)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fanout_killed_halfway_resumes_from_its_checkpoint_and_delivers_each_subscriber_once() {
    let Some(moto) = Moto::start_or_skip() else { return };
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    let queue = sqs.create_queue().queue_name("fanout-events").send().await.unwrap().queue_url.unwrap();
    subscribed_table(&moto).await;
    let dir = tempfile::tempdir().unwrap();
    let template = template(dir.path(), "storm.json", "TORNADO");

    // Killed with SIGKILL once a third is on the queue.
    let mut first = proactive().args(fanout_args(&moto, &queue, &template)).stdout(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while queued(&sqs, &queue).await < SUBSCRIBERS / 3 {
        assert!(Instant::now() < deadline, "the fan-out enqueued too little");
        assert!(first.try_wait().unwrap().is_none(), "the fan-out ended before it could be killed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill().unwrap();
    first.wait().unwrap();
    let at_kill = queued(&sqs, &queue).await;
    assert!(at_kill < SUBSCRIBERS, "killed halfway, not after the end: {at_kill}");

    // Run again: it resumes after the last page it finished.
    let second = proactive().args(fanout_args(&moto, &queue, &template)).output().unwrap();
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    assert!(text(&second).contains(", resumed after `amzn1.ask.account.fanout-"), "{}", text(&second));

    // A third run finds the fan-out done.
    let third = proactive().args(fanout_args(&moto, &queue, &template)).output().unwrap();
    assert_eq!(third.status.code(), Some(0), "{}", text(&third));
    assert!(text(&third).contains("is already done: nothing enqueued"), "{}", text(&third));

    // Every subscriber is on the queue with their stable referenceId and
    // region; only the page that was being enqueued at the kill is there twice.
    let messages = drain(&sqs, &queue).await;
    assert_eq!(messages.len(), SUBSCRIBERS, "every subscriber, once by referenceId");
    for i in 0..SUBSCRIBERS {
        let id = stable_reference_id("storm-2026-12-05", Some(&user(i)));
        let (_, region) = messages.get(id.as_str()).unwrap_or_else(|| panic!("user {i} was not enqueued"));
        assert_eq!(region, if i == 7 { "EU" } else { "NA" }, "user {i}");
    }
    let repeats: usize = messages.values().map(|(count, _)| count - 1).sum();
    assert!(repeats <= PAGE, "at most the page in flight is enqueued twice, not {repeats}");

    // Put them back, repeats included, and deliver: each subscriber once.
    let sandbox = Sandbox::start().await.unwrap();
    let mut lines = String::new();
    for (id, (count, _)) in &messages {
        let i: usize =
            (0..SUBSCRIBERS).find(|i| stable_reference_id("storm-2026-12-05", Some(&user(*i))).as_str() == id).unwrap();
        let mut envelope: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&template).unwrap()).unwrap();
        envelope["referenceId"] = json!(id);
        envelope["relevantAudience"] = json!({"type": "Unicast", "payload": {"user": user(i).as_str()}});
        for _ in 0..*count {
            lines.push_str(&envelope.to_string());
            lines.push('\n');
        }
    }
    let file = dir.path().join("again.jsonl");
    std::fs::write(&file, lines).unwrap();
    let sent = proactive()
        .args([
            "send",
            "--concurrency",
            "8",
            "--quiet",
            "--endpoint",
            &sandbox.base_url(),
            "--token-url",
            &sandbox.token_url(),
        ])
        .args(["--client-id", sandbox.client_id(), "--client-secret", sandbox.client_secret(), file.to_str().unwrap()])
        .output()
        .unwrap();
    let accepted: BTreeSet<String> =
        sandbox.records().accepted.iter().map(|a| a.envelope.reference_id.as_str().to_owned()).collect();
    assert_eq!(accepted.len(), SUBSCRIBERS, "{}", text(&sent));
    assert_eq!(sandbox.records().accepted.len(), SUBSCRIBERS, "each subscriber accepted exactly once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_error_and_enqueues_nothing() {
    let Some(moto) = Moto::start_or_skip() else { return };
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    let queue = sqs.create_queue().queue_name("fanout-bad").send().await.unwrap().queue_url.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let good = template(dir.path(), "good.json", "TORNADO");

    // An unknown table.
    let output = proactive().args(fanout_args(&moto, &queue, &good)).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("the DynamoDB table `fanout-subscriptions` does not exist or cannot be read"),
        "{}",
        text(&output)
    );

    // An invalid template.
    let client = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
    DynamoDbStore::create_table(client, "fanout-subscriptions").await.unwrap();
    let bad = template(dir.path(), "bad.json", "NOT_AN_ALERT");
    let output = proactive().args(fanout_args(&moto, &queue, &bad)).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("the template"), "{}", text(&output));
    assert!(text(&output).contains("nothing was sent"), "{}", text(&output));

    // No subscriber: said so, exit 0, and the fan-out is done.
    let output = proactive().args(fanout_args(&moto, &queue, &good)).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(text(&output).contains("no subscriber of `AMAZON.WeatherAlert.Activated`"), "{}", text(&output));

    // Another template under the same event key: refused, not mixed.
    let other = template(dir.path(), "other.json", "HURRICANE");
    let output = proactive().args(fanout_args(&moto, &queue, &other)).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("was written for another template"), "{}", text(&output));
    assert_eq!(queued(&sqs, &queue).await, 0, "nothing was enqueued");
}
