//! Neither the client secret nor a token appears in any tracing output or in
//! any `Debug` or `Display` string of the client, its outcomes and its errors.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proactive_core::client::{BulkSummary, Client};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::FmtSpan;

use super::server::{CLIENT_ID, CLIENT_SECRET, Reply, Server, fast_retries};
use super::{envelope, expired_envelope};

/// Everything written by the subscriber.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Every string a user could see: `Debug` and `Display`, with the error's chain.
fn strings_of(texts: &mut Vec<String>, error: &(dyn std::error::Error + 'static)) {
    texts.push(format!("{error}"));
    texts.push(format!("{error:?}"));
    let mut source = error.source();
    while let Some(inner) = source {
        texts.push(format!("{inner}"));
        texts.push(format!("{inner:?}"));
        source = inner.source();
    }
}

#[test]
fn no_secret_or_token_in_tracing_debug_or_display() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::FULL)
        .with_ansi(false)
        .finish();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (mut texts, issued) = tracing::subscriber::with_default(subscriber, || runtime.block_on(scenarios()));

    let output = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(output.contains("proactive.send") && output.contains("proactive.token"), "tracing was captured: {output}");
    assert!(output.contains("retrying") && output.contains("access token received"), "{output}");
    texts.push(output);

    assert!(issued.len() >= 3, "tokens were issued: {issued:?}");
    for text in &texts {
        assert!(!text.contains(CLIENT_SECRET), "the secret leaked: {text}");
        assert!(!text.contains("the-wrong-secret"), "a wrong secret leaked: {text}");
        assert!(!text.contains(CLIENT_ID), "the client id leaked: {text}");
        for token in &issued {
            assert!(!text.contains(token.as_str()), "a token leaked: {text}");
            // The random part alone, in case a token is printed escaped or cut.
            assert!(!text.contains(&token[token.len() - 16..]), "a token leaked: {text}");
        }
    }
}

/// Runs sends that succeed, retry, refresh the token and fail in every stage;
/// returns every string they produced and the tokens the server issued.
async fn scenarios() -> (Vec<String>, Vec<String>) {
    let server = Server::start(|request, log| match request.reference_id.as_deref() {
        Some("forbidden-once") if log.requests_for("forbidden-once") == 0 => Reply::api_error(403, "revoked"),
        Some("flaky") if log.requests_for("flaky") < 2 => Reply::api_error(500, "oops"),
        Some("closed") if log.requests_for("closed") == 0 => Reply::close(),
        Some("slow") => Reply::accepted("late").delay(Duration::from_millis(300)),
        Some("refused") => Reply::api_error(400, "Invalid event"),
        Some(id) if id.starts_with("unsubscribed") => Reply::api_error(403, "not subscribed"),
        _ => Reply::accepted("req-ok"),
    })
    .await;
    let mut texts = Vec::new();
    let builder = server.client().request_timeout(Duration::from_millis(100)).retry_policy(fast_retries(2));
    texts.push(format!("{builder:?}"));
    let client = builder.build().unwrap();
    texts.push(format!("{client:?}"));

    for id in ["ok", "forbidden-once", "flaky", "closed", "slow", "refused", "unsubscribed-1", "unsubscribed-2"] {
        match client.send(&envelope(id)).await {
            Ok(accepted) => texts.push(format!("{accepted:?}")),
            Err(error) => strings_of(&mut texts, &error),
        }
    }
    match client.send(&expired_envelope("expired")).await {
        Ok(accepted) => panic!("an expired envelope was sent: {accepted:?}"),
        Err(error) => strings_of(&mut texts, &error),
    }
    let mut summary = BulkSummary::new();
    let mut outcomes = client.send_all((0..20).map(|i| envelope(&format!("bulk-{i}"))), 4);
    while let Some(outcome) = outcomes.next().await {
        texts.push(format!("{outcome:?}"));
        summary.record(&outcome);
    }
    texts.push(format!("{summary:?} {summary}"));
    texts.push(format!("{client:?}"));

    // Wrong credentials: the token stage.
    let wrong = Client::builder(CLIENT_ID, "the-wrong-secret")
        .base_url(server.base_url())
        .token_url(server.token_url())
        .build()
        .unwrap();
    texts.push(format!("{wrong:?}"));
    match wrong.send(&envelope("wrong")).await {
        Ok(accepted) => panic!("sent with the wrong secret: {accepted:?}"),
        Err(error) => strings_of(&mut texts, &error),
    }
    // An unreachable token endpoint: the transport error is in the chain.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let unreachable = Client::builder(CLIENT_ID, CLIENT_SECRET)
        .token_url(format!("http://127.0.0.1:{port}/auth/o2/token"))
        .retry_policy(fast_retries(1))
        .build()
        .unwrap();
    if let Err(error) = unreachable.send(&envelope("no-token")).await {
        strings_of(&mut texts, &error);
    }

    let issued = server.log().tokens.keys().cloned().collect();
    (texts, issued)
}
