//! `VerifyLayer` in front of an axum router: 400 and no handler call for
//! anything unverified or oversized; the exact bytes for a signed request.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Bytes;
use axum::routing::post;
use proactive_sandbox::{Alexa, skill_event};
use proactive_verify::{RequestPolicy, VerifyLayer};

const SKILL: &str = "amzn1.ask.skill.test";

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/alexa/events", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

#[tokio::test]
async fn only_verified_requests_reach_the_handler() {
    let alexa = Alexa::new().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let router = Router::new()
        .route(
            "/alexa/events",
            post(move |body: Bytes| async move {
                seen.fetch_add(1, Ordering::SeqCst);
                body
            }),
        )
        .layer(VerifyLayer::new(alexa.verifier(RequestPolicy::new([SKILL])).unwrap()).max_body(4096));
    let url = serve(router).await;

    let event = skill_event::skill_disabled(SKILL, "amzn1.ask.account.A");
    let answer = alexa.post(&url, &event).await.unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body, event.to_string(), "the handler gets the exact bytes");

    let stranger = Alexa::new().unwrap();
    let answer = stranger.post(&url, &event).await.unwrap();
    assert_eq!(answer.status, 400);
    assert!(answer.body.contains("certificate chain"), "{}", answer.body);

    let other_skill = skill_event::skill_disabled("amzn1.ask.skill.other", "amzn1.ask.account.A");
    assert_eq!(alexa.post(&url, &other_skill).await.unwrap().status, 400);

    let mut huge = event.clone();
    huge["request"]["padding"] = "x".repeat(5000).into();
    let answer = alexa.post(&url, &huge).await.unwrap();
    assert_eq!(answer.status, 400);
    assert!(answer.body.contains("larger than 4096 bytes"), "{}", answer.body);

    assert_eq!(calls.load(Ordering::SeqCst), 1, "only the verified request reached the handler");
}

/// Sends `head` (the request line and headers, raw bytes) with a small JSON
/// body to the server at `url`; returns the whole response as text.
async fn raw_post(url: &str, head: &[u8]) -> String {
    use std::io::{Read, Write};
    let address = url.trim_start_matches("http://").split('/').next().unwrap().to_owned();
    let body = b"{}";
    let mut request = head.to_vec();
    request.extend_from_slice(format!("Content-Length: {}\r\nConnection: close\r\n\r\n", body.len()).as_bytes());
    request.extend_from_slice(body);
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream.write_all(&request).unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).unwrap();
        String::from_utf8_lossy(&response).into_owned()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_signature_header_that_is_not_ascii_is_called_so_not_missing() {
    let alexa = Alexa::new().unwrap();
    let router = Router::new()
        .route("/alexa/events", post(|| async { "reached" }))
        .layer(VerifyLayer::new(alexa.verifier(RequestPolicy::new([SKILL])).unwrap()));
    let url = serve(router).await;
    let url_header = b"SignatureCertChainUrl: https://s3.amazonaws.com/echo.api/\xc3\xa9cho.pem\r\n";
    let signature_header = b"Signature-256: c2lnbmF0dXJl\xff\r\n";
    let good_url = b"SignatureCertChainUrl: https://s3.amazonaws.com/echo.api/echo-api-cert.pem\r\n";
    for (headers, header) in [
        ([&url_header[..], b"Signature-256: c2lnbmF0dXJl\r\n"].concat(), "SignatureCertChainUrl"),
        ([&good_url[..], &signature_header[..]].concat(), "Signature-256"),
    ] {
        let head = [&b"POST /alexa/events HTTP/1.1\r\nHost: localhost\r\n"[..], &headers].concat();
        let response = raw_post(&url, &head).await;
        assert!(response.starts_with("HTTP/1.1 400"), "{response}");
        assert!(
            response.contains(&format!(
                "the `{header}` header is not ASCII text: it holds bytes outside visible ASCII; Alexa sends a URL \
                 there (`SignatureCertChainUrl`) or base64 (`Signature-256`)"
            )),
            "{response}"
        );
        assert!(!response.contains("missing"), "{response}");
    }
}
