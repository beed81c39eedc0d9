//! The queue-fed sender on a local AWS (moto's server) and the sandbox: the
//! producer, two workers (one killed and restarted), and the Lambda handler.

mod front;
mod lambda;
mod secret;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use proactive_aws::aws_sdk_sqs::types::QueueAttributeName;
use proactive_aws::{DeadLetter, Delivery, SqsDeadLetters, SqsProducer, Worker, WorkerConfig, aws_sdk_sqs};
use proactive_core::client::{Client, RetryPolicy};
use proactive_core::schemas::WeatherAlertActivated;
use proactive_core::schemas::weather_alert_activated::{WeatherAlert, WeatherAlertType};
use proactive_core::{Audience, Envelope, Region, UserId};
use proactive_sandbox::{Faults, Sandbox, SandboxConfig, ScriptedAnswer};
use tokio::sync::watch;

use front::UNSUBSCRIBED;

/// A Unicast weather alert for `user`, its referenceId derived from the pair.
pub(crate) fn alert_for(user: &str) -> Envelope {
    let alert = WeatherAlertActivated::builder()
        .weather_alert(WeatherAlert::builder().alert_type(WeatherAlertType::Tornado).build())
        .build();
    let user = UserId::new(&format!("amzn1.ask.account.{user}")).unwrap();
    Envelope::builder(alert, Audience::Unicast(user.clone()))
        .reference_id(proactive_aws::stable_reference_id("storm-2026-12-02", Some(&user)))
        .build()
}

pub(crate) fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(5)
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(10))
}

pub(crate) async fn create_queue(sqs: &aws_sdk_sqs::Client, prefix: &str) -> String {
    let output = sqs.create_queue().queue_name(proactive_tests::unique_name(prefix)).send().await.unwrap();
    output.queue_url().unwrap().to_owned()
}

async fn queue_depth(sqs: &aws_sdk_sqs::Client, url: &str) -> (u64, u64) {
    let output = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .unwrap();
    let attributes = output.attributes().unwrap();
    let get = |name| attributes.get(&name).and_then(|v| v.parse().ok()).unwrap_or(0);
    (
        get(QueueAttributeName::ApproximateNumberOfMessages),
        get(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
    )
}

/// Every record on the dead-letter queue.
async fn drain_dead_letters(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<DeadLetter> {
    let mut letters = Vec::new();
    loop {
        let output = sqs.receive_message().queue_url(url).max_number_of_messages(10).send().await.unwrap();
        let messages = output.messages.unwrap_or_default();
        if messages.is_empty() {
            return letters;
        }
        for message in messages {
            letters.push(serde_json::from_str(message.body().unwrap()).unwrap());
            sqs.delete_message().queue_url(url).receipt_handle(message.receipt_handle().unwrap()).send().await.unwrap();
        }
    }
}

const ENVELOPES: usize = 10_000;
/// One user in this many is not subscribed: Amazon refuses their event.
const REFUSED_ONE_IN: usize = 100;

fn user_of(i: usize) -> String {
    if i % REFUSED_ONE_IN == 7 { format!("{UNSUBSCRIBED}-{i}") } else { format!("user-{i}") }
}

/// Amazon's words for a user who is not subscribed, as the sandbox scripts them.
const NOT_SUBSCRIBED_PREFIX: &str = "Could not find any subscriptions for stage=development, skillId=";

/// A sandbox failing 20% of attempts that answers every unsubscribed user's
/// event with Amazon's 403 "Could not find any subscriptions…".
async fn refusing_sandbox() -> Sandbox {
    // Decided per (referenceId, attempt), at most 4 faults per event: a worker's 5 attempts always suffice.
    let faults = Faults { faults_per_event: Some(4), ..Faults::failing(0.2) };
    let config = (0..ENVELOPES)
        .filter(|i| i % REFUSED_ONE_IN == 7)
        .map(|i| format!("amzn1.ask.account.{}", user_of(i)))
        .fold(SandboxConfig::new().faults(faults), |config, user| {
            config.answer_for(user, ScriptedAnswer::NotSubscribed)
        });
    Sandbox::start_with(config).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_envelopes_two_workers_one_killed_each_delivered_once() {
    let Some(moto) = proactive_tests::moto() else { return };
    let started = Instant::now();
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    let queue = create_queue(&sqs, "events").await;
    let dead = create_queue(&sqs, "dead-letters").await;
    let sandbox = refusing_sandbox().await;

    // Built now, so each is inside the now-window (default expiry: 23 h) when a worker sends it.
    let envelopes: Vec<Envelope> = (0..ENVELOPES).map(|i| alert_for(&user_of(i))).collect();
    let expected: BTreeMap<String, bool> = envelopes
        .iter()
        .enumerate()
        .map(|(i, e)| (e.reference_id.as_str().to_owned(), i % REFUSED_ONE_IN == 7))
        .collect();

    let client = Client::builder(sandbox.client_id(), sandbox.client_secret())
        .base_url(sandbox.base_url())
        .token_url(sandbox.token_url())
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    let mut config = WorkerConfig::new(&queue);
    config.concurrency = 32;
    let held = config.concurrency;
    config.wait_time = Duration::from_secs(1);
    config.visibility_timeout = Duration::from_secs(4);
    config.retry_delay = Duration::from_secs(1);
    let (stop, stopped) = watch::channel(false);
    let worker = |config: WorkerConfig| {
        let delivery = Delivery::new(client.clone()).max_receives(20);
        let mut stopped = stopped.clone();
        let worker = Worker::new(sqs.clone(), delivery, SqsDeadLetters::new(sqs.clone(), &dead), config);
        tokio::spawn(worker.run(async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        }))
    };
    let doomed = worker(config.clone());
    let steady = worker(config.clone());

    // The producer runs while the workers do, as in production. The first 50
    // deliverable envelopes are enqueued a second time: a re-enqueued event
    // must still be delivered once.
    let producer = SqsProducer::new(sqs.clone(), &queue);
    let again: Vec<Envelope> = (0..50).filter(|i| i % REFUSED_ONE_IN != 7).map(|i| envelopes[i].clone()).collect();
    let producing = tokio::spawn(async move {
        let report = producer.enqueue(envelopes.into_iter().map(|e| (e, Region::NorthAmerica))).await.unwrap();
        assert_eq!((report.enqueued, report.refused.len()), (ENVELOPES, 0));
        let report = producer.enqueue(again.into_iter().map(|e| (e, Region::NorthAmerica))).await.unwrap();
        assert_eq!(report.enqueued, 49);
    });

    // Kill one worker mid-run, with messages in flight, and start it again.
    while sandbox.records().accepted.len() < ENVELOPES / 3 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    doomed.abort();
    assert!(doomed.await.unwrap_err().is_cancelled());
    let restarted = worker(config);

    producing.await.unwrap();
    let enqueued_in = started.elapsed();
    wait_until_settled(&sqs, &queue, &dead, &sandbox).await;
    let _ = stop.send(true);
    let steady = steady.await.unwrap().unwrap();
    let restarted = restarted.await.unwrap().unwrap();
    let drained_in = started.elapsed();

    // The killed worker may have kept a dead letter and not yet deleted its
    // message: that refusal comes back and is recorded again. At most the
    // messages it held (its concurrency) can be.
    assert_each_delivered_once(&sqs, &queue, &dead, &sandbox, &expected, held).await;
    eprintln!(
        "enqueued {} in {enqueued_in:?}; drained in {drained_in:?}; steady worker {steady:?}; restarted worker \
         {restarted:?}; sandbox statuses {:?}",
        ENVELOPES + 49,
        sandbox.records().event_statuses
    );
}

/// Waits (at most 4 minutes) until the queue is empty and every envelope is
/// accepted or dead-lettered.
async fn wait_until_settled(sqs: &aws_sdk_sqs::Client, queue: &str, dead: &str, sandbox: &Sandbox) {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let accepted = sandbox.records().accepted.len();
        let (dead_visible, _) = queue_depth(sqs, dead).await;
        let (visible, in_flight) = queue_depth(sqs, queue).await;
        if visible + in_flight == 0 && accepted + dead_visible as usize >= ENVELOPES {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "not done: {accepted} accepted, {dead_visible} dead, {visible}+{in_flight} queued"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The sandbox accepted every referenceId that is not refused exactly once;
/// each refused one is a dead letter with Amazon's status and words (recorded
/// again at most `repeats` times in all, by a killed worker); the queue is
/// empty. `expected` maps each referenceId to whether Amazon refuses it.
async fn assert_each_delivered_once(
    sqs: &aws_sdk_sqs::Client,
    queue: &str,
    dead: &str,
    sandbox: &Sandbox,
    expected: &BTreeMap<String, bool>,
    repeats: usize,
) {
    let records = sandbox.records();
    let mut accepted = BTreeSet::new();
    for event in &records.accepted {
        assert!(
            accepted.insert(event.envelope.reference_id.as_str().to_owned()),
            "{} accepted twice",
            event.envelope.reference_id
        );
    }
    let ids = |refused: bool| -> BTreeSet<String> {
        expected.iter().filter(|(_, r)| **r == refused).map(|(id, _)| id.clone()).collect()
    };
    assert_eq!(accepted, ids(false));
    let letters = drain_dead_letters(sqs, dead).await;
    let lettered: BTreeSet<String> = letters.iter().map(|l| l.reference_id.clone().unwrap()).collect();
    assert_eq!(lettered, ids(true));
    assert!(
        letters.len() - lettered.len() <= repeats,
        "{} dead letters for {} refusals: more repeats than the killed worker held",
        letters.len(),
        lettered.len()
    );
    for letter in &letters {
        assert_eq!((letter.kind.as_str(), letter.status), ("not_subscribed", Some(403)), "{letter:?}");
        let message = letter.amazon_message.as_deref().unwrap_or_default();
        assert!(message.starts_with(NOT_SUBSCRIBED_PREFIX), "{letter:?}");
        assert!(letter.reason.contains(message), "{}", letter.reason);
        assert_eq!(letter.region.as_deref(), Some("NA"));
        let (envelope, _) = Envelope::from_json(&letter.body).unwrap();
        assert_eq!(envelope.reference_id.as_str(), letter.reference_id.as_deref().unwrap());
    }
    // Each envelope once: accepted, or refused (its repeats were bounded above).
    assert_eq!(accepted.len() + lettered.len(), ENVELOPES);
    assert_eq!(queue_depth(sqs, queue).await, (0, 0), "the queue ends empty");
    assert!(records.events_with_status(409) > 0, "the re-enqueued and re-received events were answered 409");
}

/// An alert with an unreferenced localized attribute of `bytes` characters
/// (a warning, not an error), to make messages of a chosen size.
fn padded(user: &str, bytes: usize) -> Envelope {
    let mut envelope = alert_for(user);
    envelope.localized_attributes.insert(proactive_core::Locale::en_us(), "padding", "x".repeat(bytes)).unwrap();
    envelope
}

#[tokio::test]
async fn the_producer_refuses_invalid_and_oversized_envelopes_and_splits_batches_by_size() {
    let Some(moto) = proactive_tests::moto() else { return };
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    let queue = create_queue(&sqs, "producer").await;
    let mut expired = alert_for("expired");
    expired.timestamp = chrono::Utc::now() - chrono::Duration::hours(2);
    expired.expiry_time = chrono::Utc::now() - chrono::Duration::hours(1);
    let mut envelopes = vec![padded("big", 300 * 1024), expired];
    // Ten messages of 30 KiB: one batch of ten would be over SQS's 256 KiB.
    envelopes.extend((0..10).map(|i| padded(&format!("medium-{i}"), 30 * 1024)));
    let producer = SqsProducer::new(sqs.clone(), &queue);
    let report = producer.enqueue(envelopes.into_iter().map(|e| (e, Region::Europe))).await.unwrap();
    assert_eq!(report.enqueued, 10);
    let reasons: Vec<(usize, String)> = report.refused.iter().map(|r| (r.index, r.reason.to_string())).collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert_eq!(reasons[0].0, 0);
    assert!(reasons[0].1.starts_with("the message would be 307"), "{}", reasons[0].1);
    assert!(reasons[0].1.ends_with(" bytes, over the queue's limit of 262144"), "{}", reasons[0].1);
    assert_eq!(reasons[1].0, 1);
    assert!(reasons[1].1.starts_with("the envelope is invalid: "), "{}", reasons[1].1);

    let mut received = 0;
    loop {
        let output = sqs
            .receive_message()
            .queue_url(&queue)
            .max_number_of_messages(10)
            .message_attribute_names(proactive_aws::REGION_ATTRIBUTE)
            .send()
            .await
            .unwrap();
        let messages = output.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        for message in &messages {
            let region = message.message_attributes().unwrap()[proactive_aws::REGION_ATTRIBUTE].string_value();
            assert_eq!(region, Some("EU"));
            let (envelope, _) = Envelope::from_json(message.body().unwrap()).unwrap();
            let Audience::Unicast(user) = &envelope.audience else { panic!("a Unicast alert") };
            assert!(user.as_str().contains("medium-"), "{user}");
            sqs.delete_message()
                .queue_url(&queue)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
            received += 1;
        }
    }
    assert_eq!(received, 10);
}
