//! The "Hosting the events endpoint" samples of the README, kept compiling:
//! `app` and `events` are the README's code (the verifier passed in, so that
//! the test can give it the sandbox's CA), `on_lambda` its Lambda lines; the
//! tests run them against the sandbox playing Alexa.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use proactive_core::schemas::EventName;
use proactive_core::subscription::{SkillEvent, SqliteStore, SubscriptionTracker};
use proactive_core::verify::{RequestPolicy, Verifier, VerifyLayer};
use proactive_sandbox::{Alexa, skill_event};
use serde_json::Value;

const SKILL: &str = "amzn1.ask.skill.readme";
const USER: &str = "amzn1.ask.account.README";

fn app(verifier: Verifier, tracker: Arc<SubscriptionTracker<SqliteStore>>) -> Router {
    Router::new().route("/alexa/events", post(events)).layer(VerifyLayer::new(verifier)).with_state(tracker)
}

async fn events(State(tracker): State<Arc<SubscriptionTracker<SqliteStore>>>, body: Bytes) -> StatusCode {
    let Ok(event) = SkillEvent::from_slice(&body) else { return StatusCode::BAD_REQUEST };
    match tracker.handle(&event).await {
        Ok(_) => StatusCode::OK, // e.g. SkillDisabled: the user is forgotten
        Err(error) if error.is_refused() => StatusCode::BAD_REQUEST, // dated too far ahead
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR, // the store failed: Alexa retries
    }
}

async fn on_lambda(
    policy: &RequestPolicy,
    tracker: &SubscriptionTracker<SqliteStore>,
    payload: &Value,
) -> Result<(), Box<dyn std::error::Error>> {
    policy.check_value(payload)?; // RequestPolicy: the application id and the timestamp
    tracker.handle(&SkillEvent::from_value(payload)?).await?;
    Ok(())
}

fn tracker(dir: &tempfile::TempDir) -> Arc<SubscriptionTracker<SqliteStore>> {
    Arc::new(SubscriptionTracker::new(SqliteStore::open(dir.path().join("s.db")).unwrap()))
}

#[test]
fn the_production_verifier_builds_with_the_well_known_roots() {
    Verifier::builder(RequestPolicy::new([SKILL])).build().unwrap();
    let error = Verifier::builder(RequestPolicy::new(Vec::<String>::new())).build().unwrap_err();
    assert!(error.to_string().contains("no application id is configured"), "{error}");
}

#[tokio::test]
async fn the_https_sample_stores_only_what_alexa_signed() {
    let dir = tempfile::tempdir().unwrap();
    let tracker = tracker(&dir);
    let alexa = Alexa::new().unwrap();
    let router = app(alexa.verifier(RequestPolicy::new([SKILL])).unwrap(), Arc::clone(&tracker));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/alexa/events", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let subscribe = skill_event::subscription_changed(SKILL, USER, &["AMAZON.WeatherAlert.Activated"]);
    assert_eq!(Alexa::new().unwrap().post(&url, &subscribe).await.unwrap().status, 400, "another CA");
    assert!(tracker.all_subscribers(EventName::WeatherAlertActivated).await.unwrap().is_empty());

    assert_eq!(alexa.post(&url, &subscribe).await.unwrap().status, 200);
    assert_eq!(tracker.all_subscribers(EventName::WeatherAlertActivated).await.unwrap().len(), 1);
    assert_eq!(alexa.post(&url, &skill_event::skill_disabled(SKILL, USER)).await.unwrap().status, 200);
    assert!(tracker.all_subscribers(EventName::WeatherAlertActivated).await.unwrap().is_empty());
}

#[tokio::test]
async fn the_lambda_sample_checks_then_handles() {
    let dir = tempfile::tempdir().unwrap();
    let tracker = tracker(&dir);
    let policy = RequestPolicy::new([SKILL]);
    let subscribe = skill_event::subscription_changed(SKILL, USER, &["AMAZON.WeatherAlert.Activated"]);

    let other = skill_event::subscription_changed("amzn1.ask.skill.other", USER, &["AMAZON.WeatherAlert.Activated"]);
    assert!(on_lambda(&policy, &tracker, &other).await.is_err());
    let mut stale = subscribe.clone();
    stale["request"]["timestamp"] = "2020-01-01T00:00:00Z".into();
    assert!(on_lambda(&policy, &tracker, &stale).await.is_err(), "older than an hour");
    assert!(tracker.all_subscribers(EventName::WeatherAlertActivated).await.unwrap().is_empty());

    on_lambda(&policy, &tracker, &subscribe).await.unwrap();
    assert_eq!(tracker.all_subscribers(EventName::WeatherAlertActivated).await.unwrap().len(), 1);
}
