//! The client against the workspace's offline Amazon, `proactive-sandbox`.

use std::time::Duration;

use proactive_core::client::{BulkSummary, Client, Stage};
use proactive_sandbox::{Faults, RateLimit, Sandbox, SandboxConfig};

use super::envelope;
use super::server::fast_retries;

fn client_for(sandbox: &Sandbox) -> proactive_core::client::ClientBuilder {
    Client::builder(sandbox.client_id(), sandbox.client_secret())
        .base_url(sandbox.base_url())
        .token_url(sandbox.token_url())
        .retry_policy(fast_retries(8))
}

#[tokio::test]
async fn the_sandbox_accepts_what_the_client_sends() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = client_for(&sandbox).stage(Stage::Live).build().unwrap();
    let sent = envelope("sandbox-1");
    let accepted = client.send(&sent).await.unwrap();
    assert_eq!(accepted.status(), 202);
    let records = sandbox.records();
    assert_eq!(records.accepted.len(), 1);
    assert_eq!(accepted.request_id(), Some(records.accepted[0].request_id.as_str()));
    assert_eq!(records.accepted[0].stage, proactive_sandbox::Stage::Live);
    assert_eq!(records.accepted[0].envelope, sent);

    let error = client.send(&sent).await.unwrap_err();
    assert_eq!((error.status(), error.attempts()), (Some(409), 1), "a real duplicate is reported");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_send_through_a_failing_rate_limited_sandbox_loses_nothing() {
    // Faults decided per (referenceId, attempt), at most 4 per event: the client's 8 attempts always suffice.
    let faults = Faults {
        rate_limit: Some(RateLimit { per_second: 2000, retry_after_secs: 0 }),
        faults_per_event: Some(4),
        ..Faults::failing(0.2)
    };
    let sandbox = Sandbox::start_with(SandboxConfig::new().faults(faults).token_lifetime(Duration::from_secs(3600)))
        .await
        .unwrap();
    let client = client_for(&sandbox).build().unwrap();
    let mut summary = BulkSummary::new();
    let mut outcomes = client.send_all((0..1000).map(|i| envelope(&format!("sandbox-bulk-{i}"))), 32);
    while let Some(outcome) = outcomes.next().await {
        summary.record(&outcome);
    }
    let records = sandbox.records();
    assert_eq!(summary.total(), 1000);
    assert_eq!(summary.delivered(), 1000, "{summary}");
    assert_eq!(records.accepted.len(), 1000, "each event accepted once");
    assert_eq!(records.token_requests(), 1);
    assert!(summary.retries > 0, "{summary}");
}

#[tokio::test]
async fn wrong_credentials_are_refused_by_the_sandbox_too() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = Client::builder(sandbox.client_id(), "not-the-secret")
        .base_url(sandbox.base_url())
        .token_url(sandbox.token_url())
        .build()
        .unwrap();
    let error = client.send(&envelope("sandbox-wrong")).await.unwrap_err();
    assert!(error.to_string().contains("invalid_client"), "{error}");
}

#[tokio::test]
async fn a_prepared_envelope_is_sent_as_the_envelope_would_be() {
    use futures_util::StreamExt;
    use proactive_core::Rule;
    use proactive_core::client::{Outcome, PreparedEnvelope, SendError};

    let sandbox = Sandbox::start().await.unwrap();
    let client = client_for(&sandbox).build().unwrap();
    let sent = envelope("prepared-1");
    let prepared = PreparedEnvelope::new(&sent).unwrap();
    assert_eq!(prepared.body(), sent.to_vec().as_slice());
    let accepted = client.send_prepared(&prepared).await.unwrap();
    assert_eq!((accepted.status(), accepted.attempts()), (202, 1));
    assert_eq!(sandbox.records().accepted[0].envelope, sent, "the sandbox read back exactly the envelope");

    // Valid when prepared, expired when sent: refused then, nothing POSTed.
    let mut stale = envelope("prepared-2");
    stale.timestamp = chrono::Utc::now() - chrono::Duration::minutes(10);
    stale.expiry_time = chrono::Utc::now() + chrono::Duration::milliseconds(50);
    let prepared = PreparedEnvelope::new(&stale).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    match client.send_prepared(&prepared).await {
        Err(SendError::Invalid(invalid)) => {
            assert!(invalid.report().has(Rule::Expired, "expiryTime"), "{:?}", invalid.report())
        }
        other => panic!("expected an expired envelope to be refused, got {other:?}"),
    }
    // Inside the 24 h window from its timestamp, but less than 5 min from now.
    let mut soon = envelope("prepared-3");
    soon.expiry_time = chrono::Utc::now() + chrono::Duration::minutes(2);
    soon.timestamp = soon.expiry_time - chrono::Duration::minutes(10);
    let error = client.send_prepared(&PreparedEnvelope::new(&soon).unwrap()).await.unwrap_err();
    assert!(matches!(&error, SendError::Invalid(i) if i.report().has(Rule::NowWindow, "expiryTime")), "{error}");
    assert_eq!(sandbox.records().accepted.len(), 1, "neither was sent");

    // Many: one outcome each, tagged with its reference id.
    let many: Vec<PreparedEnvelope> =
        (0..50).map(|i| PreparedEnvelope::new(&envelope(&format!("prepared-many-{i}"))).unwrap()).collect();
    let outcomes: Vec<_> = client.send_prepared_stream(futures_util::stream::iter(&many), 8).collect().await;
    assert_eq!(outcomes.len(), 50);
    assert!(outcomes.iter().all(|o| Outcome::of(&o.result) == Outcome::Accepted));
    let mut ids: Vec<_> = outcomes.iter().map(|o| (o.index, o.reference_id.to_string())).collect();
    ids.sort();
    assert!(ids.iter().all(|(i, id)| *id == format!("prepared-many-{i}")));
    assert_eq!(sandbox.records().accepted.len(), 51);
}
