//! The Login with Amazon token: form encoding, caching, single flight, refresh,
//! invalidation after 401/403, and LWA's errors.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use proactive_core::client::{Client, SendError, TokenErrorKind};

use super::envelope;
use super::server::{CLIENT_ID, Reply, Server, default_token, fast_retries};

#[tokio::test]
async fn the_token_request_is_a_percent_encoded_client_credentials_grant() {
    let id = "amzn1.application-oa2-client.a+b&c";
    let secret = "p+q&r=s% t/ü";
    let server = Server::with_tokens(
        |_, _| Reply::accepted("r"),
        move |form, log| {
            if form.get("client_id").map(String::as_str) == Some(id)
                && form.get("client_secret").map(String::as_str) == Some(secret)
            {
                log.issue_token(Duration::from_secs(3600))
            } else {
                Reply::status(401).json(serde_json::json!({"error": "invalid_client"}))
            }
        },
    )
    .await;
    let client = Client::builder(id, secret)
        .base_url(server.base_url())
        .token_url(server.token_url())
        .retry_policy(fast_retries(3))
        .build()
        .unwrap();
    client.send(&envelope("encoded")).await.unwrap();
    let log = server.log();
    let form = &log.token_forms[0];
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["scope"], "alexa::proactive_events");
    assert_eq!(form["client_id"], id, "the server decodes the id it was sent");
    assert_eq!(form["client_secret"], secret, "the server decodes the secret it was sent");
    assert_eq!(form.len(), 4);
}

#[tokio::test]
async fn the_token_is_cached_across_sends_and_clones() {
    let server = Server::start(|_, _| Reply::accepted("r")).await;
    let client = server.client().build().unwrap();
    for i in 0..5 {
        client.clone().send(&envelope(&format!("cached-{i}"))).await.unwrap();
    }
    client.with_stage(proactive_core::client::Stage::Live).send(&envelope("other-stage")).await.unwrap();
    assert_eq!(server.log().token_forms.len(), 1);
    assert_eq!(client.token_requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_concurrent_sends_on_a_cold_client_make_one_token_request() {
    // A slow token endpoint, so every send needs the token while it is being fetched.
    let server = Server::with_tokens(
        |_, _| Reply::accepted("r"),
        |form, log| default_token(form, log).delay(Duration::from_millis(200)),
    )
    .await;
    let client = server.client().build().unwrap();
    let sends = (0..500).map(|i| {
        let client = client.clone();
        tokio::spawn(async move { client.send(&envelope(&format!("cold-{i}"))).await })
    });
    let results = join_all(sends).await;
    assert!(results.into_iter().all(|r| r.unwrap().is_ok()));
    let log = server.log();
    assert_eq!(log.token_forms.len(), 1, "the server counted the token requests");
    assert_eq!(log.events.len(), 500);
    assert_eq!(client.token_requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_expiring_during_a_long_run_is_refreshed_exactly_once() {
    // The first token lives 2 s, later ones an hour; with a 1 s margin the client
    // replaces the first after about 1 s. The server refuses expired tokens.
    let server = Server::with_tokens(
        |request, log| {
            if log.token_valid(request.token.as_deref()) {
                Reply::accepted("r")
            } else {
                Reply::api_error(403, "expired token")
            }
        },
        |_, log| {
            let lifetime = if log.tokens.is_empty() { 2 } else { 3600 };
            log.issue_token(Duration::from_secs(lifetime))
        },
    )
    .await;
    let client = server.client().token_refresh_margin(Duration::from_secs(1)).build().unwrap();
    let sent = Arc::new(AtomicU64::new(0));
    let workers = (0..8).map(|w| {
        let (client, sent) = (client.clone(), Arc::clone(&sent));
        tokio::spawn(async move {
            let end = Instant::now() + Duration::from_millis(2500);
            let mut i = 0;
            while Instant::now() < end {
                client.send(&envelope(&format!("long-{w}-{i}"))).await.unwrap();
                sent.fetch_add(1, Ordering::Relaxed);
                i += 1;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    });
    for worker in join_all(workers).await {
        worker.unwrap();
    }
    let log = server.log();
    assert_eq!(log.token_forms.len(), 2, "one token, then exactly one refresh");
    assert!(log.events.iter().all(|e| e.status == 202), "no request used an expired token");
    let tokens: std::collections::HashSet<_> = log.events.iter().map(|e| e.token.clone()).collect();
    assert_eq!(tokens.len(), 2, "both tokens were used");
    assert!(sent.load(Ordering::Relaxed) > 50);
}

#[tokio::test]
async fn a_403_gets_one_retry_with_a_new_token() {
    let server = Server::start(|_, log| {
        if log.events.is_empty() { Reply::api_error(403, "token revoked") } else { Reply::accepted("r") }
    })
    .await;
    let client = server.client().build().unwrap();
    let accepted = client.send(&envelope("refreshed")).await.unwrap();
    assert_eq!((accepted.status(), accepted.attempts()), (202, 2));
    let log = server.log();
    assert_eq!(log.token_forms.len(), 2, "exactly one token refresh");
    assert_ne!(log.events[0].token, log.events[1].token, "the retry used the new token");
    assert_eq!(client.token_requests(), 2);
}

#[tokio::test]
async fn a_401_gets_one_retry_with_a_new_token_too() {
    let server =
        Server::start(|_, log| if log.events.is_empty() { Reply::status(401) } else { Reply::accepted("r") }).await;
    let client = server.client().build().unwrap();
    assert_eq!(client.send(&envelope("refreshed-401")).await.unwrap().attempts(), 2);
    assert_eq!(server.log().token_forms.len(), 2);
}

#[tokio::test]
async fn a_403_that_a_new_token_does_not_cure_is_reported_and_not_refreshed_again() {
    // As for a Unicast user who has not subscribed: every token gets 403.
    let server = Server::start(|_, _| Reply::api_error(403, "user not subscribed")).await;
    let client = server.client().build().unwrap();
    let error = client.send(&envelope("unsubscribed-1")).await.unwrap_err();
    assert_eq!((error.status(), error.attempts(), error.is_retryable()), (Some(403), 2, false));
    assert!(error.to_string().contains("user not subscribed"));
    assert_eq!(server.log().token_forms.len(), 2);

    // The new token is fine; another 403 is about the event, not the token.
    let error = client.send(&envelope("unsubscribed-2")).await.unwrap_err();
    assert_eq!((error.status(), error.attempts()), (Some(403), 1));
    assert_eq!(server.log().token_forms.len(), 2, "no token request for a 403 the token cannot cure");
}

#[tokio::test]
async fn invalid_client_is_a_typed_error_naming_the_credentials() {
    let server = Server::start(|_, _| Reply::accepted("r")).await;
    let client = Client::builder(CLIENT_ID, "the-wrong-secret")
        .base_url(server.base_url())
        .token_url(server.token_url())
        .retry_policy(fast_retries(3))
        .build()
        .unwrap();
    let error = client.send(&envelope("wrong-secret")).await.unwrap_err();
    let SendError::Token(token) = &error else { panic!("{error:?}") };
    assert_eq!(token.kind(), TokenErrorKind::InvalidClient);
    assert_eq!((token.status(), token.error_code()), (Some(401), Some("invalid_client")));
    assert_eq!(token.description(), Some("Client authentication failed"));
    assert!(!error.is_retryable());
    assert_eq!(error.attempts(), 0);
    let text = error.to_string();
    assert!(text.contains("client id or secret is wrong") && text.contains("Permissions page"), "{text}");
    assert!(!text.contains("the-wrong-secret"));
    let log = server.log();
    assert_eq!((log.token_forms.len(), log.events.len()), (1, 0), "a refusal is not retried");
}

#[tokio::test]
async fn invalid_scope_is_a_typed_error_naming_the_manifest() {
    let server = Server::with_tokens(
        |_, _| Reply::accepted("r"),
        |_, _| {
            Reply::status(400).json(
                serde_json::json!({"error": "invalid_scope", "error_description": "An unknown scope was requested"}),
            )
        },
    )
    .await;
    let client = server.client().build().unwrap();
    let error = client.send(&envelope("no-permission")).await.unwrap_err();
    let SendError::Token(token) = &error else { panic!("{error:?}") };
    assert_eq!(token.kind(), TokenErrorKind::InvalidScope);
    let text = error.to_string();
    assert!(
        text.contains("An unknown scope was requested")
            && text.contains("alexa::devices:all:notifications:write")
            && text.contains("events.publications"),
        "{text}"
    );
}

#[tokio::test]
async fn an_unavailable_token_endpoint_is_retried() {
    let server = Server::with_tokens(
        |_, _| Reply::accepted("r"),
        |form, log| {
            if log.token_forms.len() < 2 { Reply::status(503) } else { default_token(form, log) }
        },
    )
    .await;
    let client = server.client().build().unwrap();
    client.send(&envelope("token-retried")).await.unwrap();
    assert_eq!(client.token_requests(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_sends_share_one_failing_token_request() {
    let server =
        Server::with_tokens(|_, _| Reply::accepted("r"), |_, _| Reply::status(500).delay(Duration::from_millis(50)))
            .await;
    let client = server.client().retry_policy(fast_retries(2)).build().unwrap();
    let sends = (0..50).map(|i| {
        let client = client.clone();
        tokio::spawn(async move { client.send(&envelope(&format!("shared-failure-{i}"))).await })
    });
    for result in join_all(sends).await {
        let error = result.unwrap().unwrap_err();
        let SendError::Token(token) = &error else { panic!("{error:?}") };
        assert_eq!((token.kind(), token.attempts()), (TokenErrorKind::Unavailable, 2));
        assert!(error.is_retryable());
    }
    assert_eq!(server.log().token_forms.len(), 2, "one token request (and its one retry) for all 50 sends");
}
