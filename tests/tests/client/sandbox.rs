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
    let faults =
        Faults { rate_limit: Some(RateLimit { per_second: 2000, retry_after_secs: 0 }), ..Faults::failing(0.2) };
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
