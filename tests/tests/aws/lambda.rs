//! The Lambda handler, invoked with a recorded SQS event (the JSON Lambda
//! passes a function for an SQS event source; the envelopes' timestamps are
//! filled in at run time, so that they are current).

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use proactive_aws::aws_lambda_events::event::sqs::SqsEvent;
use proactive_aws::{DeadLetter, DeadLetterError, DeadLetterSink, Delivery, MemoryDeadLetters, SqsHandler};
use proactive_core::client::Client;
use proactive_sandbox::Sandbox;

use super::fast_retries;
use super::front::{Front, NOT_SUBSCRIBED};

const RECORDED: &str = include_str!("sqs-event.json");

const DELIVERED: &str = "059f36b4-87a3-44ab-83d2-661975830a7d";
const UNSUBSCRIBED: &str = "2e1424d4-f796-459a-8184-9c92662be6da";
const DUPLICATE: &str = "3b7a8f7e-5d1c-4e2a-9f0b-7c6d5e4f3a21";
const UNREACHABLE: &str = "4c8b9a8f-6e2d-4f3b-a01c-8d7e6f5a4b32";
const UNREACHABLE_LAST_RECEIVE: &str = "5d9cab90-7f3e-4a4c-b12d-9e8f7a6b5c43";
const MALFORMED: &str = "6eadbca1-8a4f-4b5d-c23e-af9a8b7c6d54";
const BAD_REGION: &str = "7fbecdb2-9b5a-4c6e-d34f-b0ab9c8d7e65";
const EUROPE: &str = "80cfdec3-ac6b-4d7f-e45a-c1bcad9e8f76";

fn recorded_event() -> SqsEvent {
    let now = Utc::now();
    let text = RECORDED
        .replace("$TIMESTAMP", &now.to_rfc3339_opts(SecondsFormat::Secs, true))
        .replace("$EXPIRY", &(now + chrono::Duration::hours(23)).to_rfc3339_opts(SecondsFormat::Secs, true));
    serde_json::from_str(&text).unwrap()
}

async fn delivery(sandbox: &Sandbox, front: &Front) -> Delivery {
    let client = Client::builder(sandbox.client_id(), sandbox.client_secret())
        .base_url(front.base_url())
        .token_url(sandbox.token_url())
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    Delivery::new(client).max_receives(3)
}

fn failed_ids(response: &proactive_aws::aws_lambda_events::event::sqs::SqsBatchResponse) -> Vec<&str> {
    let mut ids: Vec<&str> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    ids.sort_unstable();
    ids
}

#[tokio::test]
async fn only_the_messages_that_may_pass_later_come_back() {
    let sandbox = Sandbox::start().await.unwrap();
    let front = Front::start(sandbox.base_url()).await;
    let dead_letters = MemoryDeadLetters::new();
    let handler = SqsHandler::new(delivery(&sandbox, &front).await, dead_letters.clone());

    let response = handler.handle(recorded_event()).await;
    assert_eq!(failed_ids(&response), [UNREACHABLE], "only the 503 with receives left comes back");
    let json = serde_json::to_value(&response).unwrap();
    assert_eq!(json, serde_json::json!({"batchItemFailures": [{"itemIdentifier": UNREACHABLE}]}));

    // Delivered once, though the queue delivered the event twice.
    let records = sandbox.records();
    let mut accepted: Vec<&str> = records.accepted.iter().map(|a| a.envelope.reference_id.as_str()).collect();
    accepted.sort_unstable();
    assert_eq!(accepted, ["lambda-delivered", "lambda-eu"]);
    assert_eq!(sandbox.records().events_with_status(409), 1, "the duplicate was answered 409 and counted delivered");

    let letters: BTreeMap<String, DeadLetter> =
        dead_letters.letters().into_iter().map(|l| (l.message_id.clone(), l)).collect();
    assert_eq!(
        letters.keys().map(String::as_str).collect::<Vec<_>>(),
        [UNSUBSCRIBED, UNREACHABLE_LAST_RECEIVE, MALFORMED, BAD_REGION]
    );
    let refused = &letters[UNSUBSCRIBED];
    assert_eq!((refused.kind.as_str(), refused.status), ("not_subscribed", Some(403)));
    assert_eq!(refused.amazon_message.as_deref(), Some(NOT_SUBSCRIBED));
    assert_eq!(refused.reference_id.as_deref(), Some("lambda-unsubscribed"));
    let gave_up = &letters[UNREACHABLE_LAST_RECEIVE];
    assert_eq!((gave_up.kind.as_str(), gave_up.status, gave_up.receive_count), ("gave_up", Some(503), 3));
    assert!(
        gave_up.reason.starts_with("failed on each of 3 receives, the last time: Amazon answered 503"),
        "{}",
        gave_up.reason
    );
    let malformed = &letters[MALFORMED];
    assert_eq!(malformed.kind, "malformed");
    assert!(malformed.reason.starts_with("the message is not a valid envelope: "), "{}", malformed.reason);
    assert_eq!(malformed.body, "{\"timestamp\": oops", "the body is kept byte for byte");
    let bad_region = &letters[BAD_REGION];
    assert_eq!(
        (bad_region.kind.as_str(), bad_region.reason.as_str()),
        ("malformed", "unknown region `XX`: use `na`, `eu` or `fe`")
    );
    assert!(!letters.contains_key(DELIVERED) && !letters.contains_key(DUPLICATE) && !letters.contains_key(EUROPE));
}

/// A sink that keeps nothing.
struct Broken;

impl DeadLetterSink for Broken {
    async fn put(&self, _letter: &DeadLetter) -> Result<(), DeadLetterError> {
        Err(DeadLetterError::new("the dead-letter queue is gone", None))
    }
}

#[tokio::test]
async fn a_refusal_that_cannot_be_dead_lettered_comes_back_rather_than_being_lost() {
    let sandbox = Sandbox::start().await.unwrap();
    let front = Front::start(sandbox.base_url()).await;
    let handler = SqsHandler::new(delivery(&sandbox, &front).await, Broken).concurrency(1);
    let response = tokio::time::timeout(Duration::from_secs(60), handler.handle(recorded_event())).await.unwrap();
    let mut expected = [UNSUBSCRIBED, UNREACHABLE, UNREACHABLE_LAST_RECEIVE, MALFORMED, BAD_REGION];
    expected.sort_unstable();
    assert_eq!(failed_ids(&response), expected);
}
