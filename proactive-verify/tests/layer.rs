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
