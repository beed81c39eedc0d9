//! Sending one envelope: success, Amazon's errors, retries, timeouts.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proactive_core::client::{SendError, Stage};

use super::server::{Reply, Server, fast_retries};
use super::{envelope, expired_envelope};

#[tokio::test]
async fn accepted_with_202_and_its_request_id() {
    let server = Server::start(|_, _| Reply::accepted("req-202")).await;
    let client = server.client().build().unwrap();
    let sent = envelope("ok-202");
    let accepted = client.send(&sent).await.unwrap();
    assert_eq!((accepted.status(), accepted.request_id(), accepted.attempts()), (202, Some("req-202"), 1));
    assert!(!accepted.by_earlier_attempt() && accepted.warnings().is_empty());

    let log = server.log();
    let request = &log.events[0];
    assert_eq!(request.path, "/v1/proactiveEvents/stages/development");
    assert_eq!(request.headers["content-type"], "application/json");
    assert!(request.headers["user-agent"].starts_with("proactive-core/"), "{:?}", request.headers);
    assert!(log.token_valid(request.token.as_deref()), "the bearer token is the one issued");
    assert_eq!(request.body, sent.to_vec(), "the body is exactly the envelope's JSON");
}

#[tokio::test]
async fn accepted_with_200_on_the_live_stage() {
    let server = Server::start(|_, _| Reply::status(200).json(serde_json::json!({}))).await;
    let client = server.client().stage(Stage::Live).application("my-skill/1.2").build().unwrap();
    let accepted = client.send(&envelope("ok-200")).await.unwrap();
    assert_eq!((accepted.status(), accepted.request_id()), (200, None));
    let log = server.log();
    assert_eq!(log.events[0].path, "/v1/proactiveEvents");
    assert!(log.events[0].headers["user-agent"].starts_with("my-skill/1.2 proactive-core/"));
}

#[tokio::test]
async fn a_400_surfaces_amazons_body_and_is_not_retried() {
    let server = Server::start(|_, _| {
        Reply::api_error(400, "Invalid relevantAudience: user is required").header("x-amzn-requestid", "req-400")
    })
    .await;
    let client = server.client().build().unwrap();
    let error = client.send(&envelope("bad-request")).await.unwrap_err();
    let SendError::Api(api) = &error else { panic!("an API error: {error:?}") };
    assert_eq!(api.status(), 400);
    assert_eq!(api.code(), Some("400"));
    assert_eq!(api.message(), Some("Invalid relevantAudience: user is required"));
    assert_eq!(api.request_id(), Some("req-400"));
    assert_eq!((error.status(), error.attempts(), error.is_retryable()), (Some(400), 1, false));
    assert_eq!(error.to_string(), "Amazon answered 400: Invalid relevantAudience: user is required");
    assert_eq!(server.log().events.len(), 1);
}

#[tokio::test]
async fn a_409_on_the_first_attempt_is_a_duplicate_and_not_retried() {
    let server = Server::start(|_, _| Reply::api_error(409, "duplicate referenceId")).await;
    let client = server.client().build().unwrap();
    let error = client.send(&envelope("dup")).await.unwrap_err();
    assert_eq!((error.status(), error.attempts(), error.is_retryable()), (Some(409), 1, false));
    assert_eq!(server.log().events.len(), 1);
}

#[tokio::test]
async fn a_409_after_a_lost_answer_means_the_earlier_attempt_was_delivered() {
    // The first attempt is accepted but its answer is lost (the connection
    // closes); the retry, with the same referenceId, gets 409.
    let server = Server::start(|request, log| {
        let id = request.reference_id.as_deref().unwrap();
        if log.accept(id) { Reply::close() } else { Reply::api_error(409, "duplicate referenceId") }
    })
    .await;
    let client = server.client().build().unwrap();
    let accepted = client.send(&envelope("lost-answer")).await.unwrap();
    assert_eq!((accepted.status(), accepted.attempts()), (409, 2));
    assert!(accepted.by_earlier_attempt());
    let log = server.log();
    assert_eq!(log.accepted, ["lost-answer"]);
    assert_eq!(log.requests_for("lost-answer"), 2);
    assert_eq!(log.events[0].body, log.events[1].body, "every attempt sends the same body and referenceId");
}

#[tokio::test]
async fn a_409_after_a_429_is_still_a_duplicate() {
    // A 429 was not processed, so a 409 after it means another send with the same id.
    let server = Server::start(|_, log| {
        if log.events.is_empty() { Reply::api_error(429, "slow down") } else { Reply::api_error(409, "duplicate") }
    })
    .await;
    let client = server.client().build().unwrap();
    let error = client.send(&envelope("dup-after-429")).await.unwrap_err();
    assert_eq!((error.status(), error.attempts()), (Some(409), 2));
}

#[tokio::test]
async fn server_errors_then_success_on_the_third_attempt() {
    let server = Server::start(|_, log| match log.events.len() {
        0 | 1 => Reply::api_error(500, "internal error"),
        _ => Reply::accepted("req-third"),
    })
    .await;
    let client = server.client().build().unwrap();
    let accepted = client.send(&envelope("third-time")).await.unwrap();
    assert_eq!((accepted.status(), accepted.attempts(), accepted.retries()), (202, 3, 2));
    let log = server.log();
    assert_eq!(log.events.iter().map(|e| e.status).collect::<Vec<_>>(), [500, 500, 202]);
    assert!(log.events.iter().all(|e| e.reference_id.as_deref() == Some("third-time")));
}

#[tokio::test]
async fn a_connection_closed_mid_request_is_retried() {
    let server =
        Server::start(|_, log| if log.events.is_empty() { Reply::close() } else { Reply::accepted("r") }).await;
    let client = server.client().build().unwrap();
    let accepted = client.send(&envelope("closed-once")).await.unwrap();
    assert_eq!((accepted.status(), accepted.attempts()), (202, 2));
    assert!(!accepted.by_earlier_attempt());
    assert_eq!(server.log().events.len(), 2);
}

#[tokio::test]
async fn a_slow_answer_times_out_and_is_retried() {
    let server = Server::start(|_, log| {
        let reply = Reply::accepted("r");
        if log.events.is_empty() { reply.delay(Duration::from_secs(2)) } else { reply }
    })
    .await;
    let client = server.client().request_timeout(Duration::from_millis(200)).build().unwrap();
    let accepted = client.send(&envelope("slow-once")).await.unwrap();
    assert_eq!(accepted.attempts(), 2);
}

#[tokio::test]
async fn answers_always_slower_than_the_timeout_are_reported_after_every_attempt() {
    let server = Server::start(|_, _| Reply::accepted("late").delay(Duration::from_secs(2))).await;
    let client =
        server.client().request_timeout(Duration::from_millis(150)).retry_policy(fast_retries(3)).build().unwrap();
    let error = client.send(&envelope("always-slow")).await.unwrap_err();
    let SendError::Dispatch(dispatch) = &error else { panic!("a dispatch error: {error:?}") };
    assert!(dispatch.is_timeout() && !dispatch.is_connect());
    assert_eq!((error.attempts(), error.is_retryable(), error.status()), (3, true, None));
    assert_eq!(error.to_string(), "the events endpoint did not answer within 150ms after 3 attempts");
    assert!(std::error::Error::source(&error).is_some(), "the transport error is the source");
    assert_eq!(server.log().events.len(), 3);
}

#[tokio::test]
async fn exhausted_retries_are_reported_with_the_attempt_count() {
    let server = Server::start(|_, _| Reply::api_error(503, "unavailable").header("x-amzn-requestid", "r-503")).await;
    let client = server.client().retry_policy(fast_retries(4)).build().unwrap();
    let error = client.send(&envelope("never")).await.unwrap_err();
    assert_eq!((error.status(), error.attempts(), error.is_retryable()), (Some(503), 4, true));
    assert_eq!(error.request_id(), Some("r-503"));
    assert_eq!(error.to_string(), "Amazon answered 503: unavailable after 4 attempts");
    assert_eq!(server.log().events.len(), 4);
}

#[tokio::test]
async fn retry_after_in_seconds_is_honoured() {
    let server = Server::start(|_, log| {
        if log.events.is_empty() {
            Reply::api_error(429, "too many requests").header("retry-after", "1")
        } else {
            Reply::accepted("r")
        }
    })
    .await;
    let client = server.client().build().unwrap();
    let accepted = client.send(&envelope("rate-limited")).await.unwrap();
    assert_eq!(accepted.attempts(), 2);
    let log = server.log();
    let gap = log.events[1].arrived - log.events[0].arrived;
    assert!(gap >= Duration::from_secs(1), "the retry came {gap:?} after the 429 that asked for 1 s");
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured() {
    // A date at least a second ahead, on a whole second (HTTP dates have no fraction).
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let not_before = UNIX_EPOCH + Duration::from_secs(now + 2);
    let date = httpdate::fmt_http_date(not_before);
    let server = Server::start(move |_, log| {
        if log.events.is_empty() {
            Reply::api_error(503, "maintenance").header("retry-after", &date)
        } else {
            Reply::accepted("r")
        }
    })
    .await;
    let client = server.client().build().unwrap();
    client.send(&envelope("rate-limited-date")).await.unwrap();
    let log = server.log();
    assert!(log.events[1].arrived_wall >= not_before, "the retry came before the Retry-After date");
}

#[tokio::test]
async fn a_retry_after_beyond_the_time_budget_ends_the_retries() {
    let server = Server::start(|_, _| Reply::api_error(429, "later").header("retry-after", "3600")).await;
    let client = server.client().build().unwrap();
    let started = std::time::Instant::now();
    let error = client.send(&envelope("too-long")).await.unwrap_err();
    let SendError::Api(api) = &error else { panic!("{error:?}") };
    assert_eq!((api.status(), api.retry_after(), api.attempts()), (429, Some(Duration::from_secs(3600)), 1));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn an_expired_envelope_is_refused_without_a_request() {
    let server = Server::start(|_, _| Reply::accepted("r")).await;
    let client = server.client().build().unwrap();
    let error = client.send(&expired_envelope("too-late")).await.unwrap_err();
    let SendError::Invalid(invalid) = &error else { panic!("{error:?}") };
    assert!(invalid.errors().any(|p| p.path == "expiryTime"), "{}", invalid.report());
    assert_eq!((error.attempts(), error.status(), error.is_retryable()), (0, None, false));
    assert!(error.to_string().starts_with("the envelope was not sent: validation found"), "{error}");
    let log = server.log();
    assert!(log.events.is_empty() && log.token_forms.is_empty(), "nothing was sent, not even a token request");
}

#[tokio::test]
async fn an_envelope_over_the_body_limit_is_refused_without_a_request() {
    let server = Server::start(|_, _| Reply::accepted("r")).await;
    let client = server.client().build().unwrap();
    let mut huge = envelope("too-big");
    let key = proactive_core::schemas::AttributeKey::new("notes").unwrap();
    huge.localized_attributes.insert_key(
        proactive_core::Locale::en_us(),
        key,
        "x".repeat(proactive_core::MAX_BODY_BYTES),
    );
    let error = client.send(&huge).await.unwrap_err();
    let SendError::Invalid(invalid) = &error else { panic!("{error:?}") };
    assert!(invalid.errors().any(|p| p.rule == proactive_core::Rule::BodySize), "{}", invalid.report());
    assert!(server.log().events.is_empty(), "nothing was sent");
    // At the limit exactly it is sent.
    let mut fits = envelope("fits");
    let key = proactive_core::schemas::AttributeKey::new("notes").unwrap();
    fits.localized_attributes.insert_key(proactive_core::Locale::en_us(), key.clone(), "");
    let room = proactive_core::MAX_BODY_BYTES - fits.to_vec().len();
    fits.localized_attributes.insert_key(proactive_core::Locale::en_us(), key, "x".repeat(room));
    assert_eq!(fits.to_vec().len(), proactive_core::MAX_BODY_BYTES);
    client.send(&fits).await.unwrap();
}

#[tokio::test]
async fn warnings_do_not_stop_a_send_and_are_returned() {
    let server = Server::start(|_, _| Reply::accepted("r")).await;
    let client = server.client().build().unwrap();
    let mut warned = envelope("warned");
    warned.audience = proactive_core::Audience::unicast("not-an-amazon-id").unwrap();
    let accepted = client.send(&warned).await.unwrap();
    assert!(accepted.warnings().iter().any(|p| p.path == "relevantAudience.payload.user"), "{:?}", accepted.warnings());
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let server = Server::start(|_, _| Reply::status(307).header("location", "http://127.0.0.1:1/elsewhere")).await;
    let client = server.client().build().unwrap();
    let error = client.send(&envelope("redirected")).await.unwrap_err();
    assert!(matches!(error, SendError::Response(_)), "{error:?}");
    assert_eq!((error.status(), error.attempts()), (Some(307), 1));
}

#[tokio::test]
async fn a_refused_connection_is_a_dispatch_error() {
    // Bind and drop a listener to get a loopback port with nobody on it.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let token_server = Server::start(|_, _| Reply::accepted("r")).await;
    let client = token_server
        .client()
        .base_url(format!("http://127.0.0.1:{port}"))
        .retry_policy(fast_retries(2))
        .build()
        .unwrap();
    let error = client.send(&envelope("nobody-home")).await.unwrap_err();
    let SendError::Dispatch(dispatch) = &error else { panic!("{error:?}") };
    assert!(dispatch.is_connect());
    assert_eq!(error.attempts(), 2);
}
