//! Bulk sends: one outcome per input, none lost, memory bounded, cancellable.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use proactive_core::client::{BulkSummary, SendError};

use super::server::{Reply, Server, fast_retries, roll};
use super::{envelope, expired_envelope};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_events_through_a_server_failing_a_fifth_of_requests() {
    const EVENTS: usize = 10_000;
    // A fifth of the first 4 attempts of each event fail, evenly: 429, 500, a
    // connection closed before the event is processed, and one closed after it
    // was accepted (delivered, but the answer is lost). The rest are accepted,
    // or get 409 for a reference id already accepted. Each fault is decided by
    // the referenceId and attempt number alone, so every run meets the same
    // faults, and no event fails its 8 attempts.
    let server = Server::start(move |request, log| {
        let id = request.reference_id.as_deref().expect("every body has a referenceId");
        let roll = if request.attempt <= 4 { roll(id, request.attempt) } else { 1.0 };
        match roll {
            r if r < 0.05 => Reply::api_error(429, "rate limited"),
            r if r < 0.10 => Reply::api_error(500, "internal error"),
            r if r < 0.15 => Reply::close(),
            r if r < 0.20 => {
                log.accept(id);
                Reply::close()
            }
            _ if log.accept(id) => Reply::accepted(id),
            _ => Reply::api_error(409, "duplicate referenceId"),
        }
    })
    .await;
    let client = server.client().retry_policy(fast_retries(8)).build().unwrap();

    let started = Instant::now();
    let envelopes = (0..EVENTS).map(|i| envelope(&format!("bulk-{i}")));
    let outcomes: Vec<_> = client.send_all(envelopes, 64).collect().await;
    let elapsed = started.elapsed();

    assert_eq!(outcomes.len(), EVENTS, "one outcome per input");
    let indices: HashSet<usize> = outcomes.iter().map(|o| o.index).collect();
    assert_eq!(indices.len(), EVENTS, "every index exactly once");
    assert!(outcomes.iter().all(|o| o.reference_id.as_str() == format!("bulk-{}", o.index)));

    let log = server.log();
    let accepted_by_server: HashSet<&str> = log.accepted.iter().map(String::as_str).collect();
    assert_eq!(accepted_by_server.len(), log.accepted.len(), "no referenceId accepted twice");
    let mut requests_per_id: HashMap<&str, usize> = HashMap::new();
    for request in &log.events {
        *requests_per_id.entry(request.reference_id.as_deref().unwrap()).or_default() += 1;
    }
    let mut summary = BulkSummary::new();
    for outcome in &outcomes {
        summary.record(outcome);
        let id = outcome.reference_id.as_str();
        assert_eq!(
            requests_per_id[id],
            match &outcome.result {
                Ok(accepted) => accepted.attempts() as usize,
                Err(error) => error.attempts() as usize,
            },
            "the attempts reported for {id} are the requests the server received"
        );
        assert!(outcome.result.is_ok(), "{id}: {:?}", outcome.result);
        assert!(accepted_by_server.contains(id), "{id} reported accepted but never accepted");
    }
    assert_eq!(summary.total(), EVENTS as u64);
    assert_eq!(summary.delivered(), EVENTS as u64, "every event delivered: {summary}");
    assert_eq!(accepted_by_server.len(), EVENTS);
    assert!(summary.already_delivered > 0, "answers were lost after delivery: {summary}");
    assert_eq!(summary.retries as usize, log.events.len() - EVENTS);
    assert_eq!(client.token_requests(), 1);
    println!("{summary} in {elapsed:?} ({} requests)", log.events.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lazy_million_is_read_as_sends_finish_and_dropping_the_stream_cancels() {
    let server = Server::start(|_, _| Reply::accepted("r").delay(Duration::from_millis(5))).await;
    let client = server.client().build().unwrap();
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&pulled);
    let envelopes = (0..1_000_000).map(move |i| {
        counter.fetch_add(1, Ordering::Relaxed);
        envelope(&format!("lazy-{i}"))
    });
    let concurrency = 16;
    let mut outcomes = client.send_all(envelopes, concurrency);
    for _ in 0..100 {
        assert!(outcomes.next().await.unwrap().result.is_ok());
    }
    let read = pulled.load(Ordering::Relaxed);
    assert!(read <= 100 + concurrency, "{read} envelopes read for 100 outcomes at concurrency {concurrency}");

    drop(outcomes);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let requests = server.log().events.len();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.log().events.len(), requests, "no request after the stream was dropped");
    assert_eq!(pulled.load(Ordering::Relaxed), read, "no envelope read after the stream was dropped");
}

#[tokio::test]
async fn invalid_envelopes_and_refusals_get_their_outcome_too() {
    let server = Server::start(|request, _| match request.reference_id.as_deref() {
        Some("refused") => Reply::api_error(400, "bad"),
        _ => Reply::accepted("r"),
    })
    .await;
    let client = server.client().retry_policy(fast_retries(2)).build().unwrap();
    let envelopes = vec![envelope("fine-1"), expired_envelope("expired"), envelope("refused"), envelope("fine-2")];
    let stream = futures_util::stream::iter(envelopes.into_iter().map(Arc::new));
    let outcomes: HashMap<usize, _> = client.send_stream(stream, 0).map(|o| (o.index, o)).collect().await;
    assert_eq!(outcomes.len(), 4);
    assert!(outcomes[&0].result.is_ok() && outcomes[&3].result.is_ok());
    assert!(matches!(outcomes[&1].result, Err(SendError::Invalid(_))));
    assert_eq!(outcomes[&2].result.as_ref().unwrap_err().status(), Some(400));
    let mut summary = BulkSummary::new();
    outcomes.values().for_each(|o| summary.record(o));
    assert_eq!((summary.accepted, summary.invalid, summary.refused, summary.failed), (2, 1, 1, 0));
    assert_eq!(
        summary.to_string(),
        "4 events: 2 accepted, 0 already delivered, 1 invalid, 1 refused, 0 failed; 0 retries"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn borrowed_input_works_and_owned_input_can_be_spawned() {
    let server = Server::start(|_, _| Reply::accepted("r")).await;
    let client = server.client().build().unwrap();
    let envelopes: Vec<_> = (0..10).map(|i| envelope(&format!("borrowed-{i}"))).collect();
    let outcomes: Vec<_> = client.send_all(&envelopes, 4).collect().await;
    assert_eq!(outcomes.len(), 10);

    let owned = client.send_all((0..10).map(|i| envelope(&format!("spawned-{i}"))), 4);
    let summary = tokio::spawn(async move {
        let mut summary = BulkSummary::new();
        let mut owned = owned;
        while let Some(outcome) = owned.next().await {
            summary.record(&outcome);
        }
        summary
    });
    assert_eq!(summary.await.unwrap().accepted, 10);
    assert_eq!(server.log().events.len(), 20);
}
