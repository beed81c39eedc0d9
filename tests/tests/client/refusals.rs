//! Amazon's now-window, re-stamping, and classified refusals, end to end through
//! the sandbox: its own clock, and its scripted answers for chosen users.

use chrono::{Duration, Utc};
use proactive_core::client::{ApiErrorKind, Client, PreparedEnvelope, SendError};
use proactive_core::schemas::EventName;
use proactive_core::subscription::{MemoryStore, SubscriptionChangedRequest, SubscriptionTracker};
use proactive_core::{Audience, Envelope, Rule};
use proactive_sandbox::{Faults, Sandbox, SandboxConfig, ScriptedAnswer};

use super::envelope;
use super::server::{Reply, Server, fast_retries};

fn client_for(sandbox: &Sandbox) -> Client {
    Client::builder(sandbox.client_id(), sandbox.client_secret())
        .base_url(sandbox.base_url())
        .token_url(sandbox.token_url())
        .retry_policy(fast_retries(2))
        .build()
        .unwrap()
}

/// An envelope whose expiry is `ahead` from now, with a window of 1 h.
fn expiring_in(id: &str, ahead: Duration) -> Envelope {
    let mut envelope = envelope(id);
    envelope.expiry_time = Utc::now() + ahead;
    envelope.timestamp = envelope.expiry_time - Duration::hours(1);
    envelope
}

#[tokio::test]
async fn the_client_refuses_an_expiry_outside_the_now_window_and_restamping_fixes_it() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = client_for(&sandbox);
    let mut too_late = expiring_in("late", Duration::hours(25));
    let mut too_soon = expiring_in("soon", Duration::minutes(4));
    for envelope in [&too_late, &too_soon] {
        let Err(SendError::Invalid(invalid)) = client.send(envelope).await else { panic!("sent") };
        let problem = invalid.errors().next().unwrap();
        assert_eq!((problem.rule, problem.path.as_str()), (Rule::NowWindow, "expiryTime"));
        assert!(problem.message.contains("between now + 5 min (") && problem.message.contains("and now + 24 h ("));
        assert!(problem.message.contains("proactive send --restamp"), "{problem}");
    }
    assert_eq!(sandbox.records().event_requests(), 0, "nothing was sent");

    too_late.restamp();
    too_soon.restamp();
    for envelope in [&too_late, &too_soon] {
        assert_eq!(envelope.expiry_time - envelope.timestamp, Duration::hours(1), "its own window is kept");
        assert_eq!(client.send(envelope).await.unwrap().status(), 202);
    }
    assert_eq!(sandbox.records().accepted.len(), 2);
}

/// A stored envelope with a 5-minute window, written a day ago.
fn stored_five_minutes(id: &str) -> Envelope {
    let mut envelope = envelope(id);
    envelope.timestamp = Utc::now() - Duration::days(1);
    envelope.expiry_time = envelope.timestamp + Duration::minutes(5);
    envelope
}

#[tokio::test]
async fn a_restamped_five_minute_envelope_survives_a_clock_2_s_ahead_and_a_retry_3_s_later() {
    // One forced 503 with `Retry-After: 3`, then accepted; the sandbox's clock runs 2 s ahead.
    let faults = Faults { failing_attempts: 1, failing_retry_after_secs: 3, ..Faults::none() };
    let sandbox = Sandbox::start_with(SandboxConfig::new().faults(faults)).await.unwrap();
    sandbox.set_now(Utc::now() + Duration::seconds(2));
    let client = client_for(&sandbox);
    let stored = stored_five_minutes("restamp-late");
    let first_attempt = Utc::now();
    let accepted = client.send_prepared(&PreparedEnvelope::restamped(&stored).unwrap()).await.unwrap();
    assert_eq!((accepted.status(), accepted.attempts()), (202, 2));
    let records = sandbox.records();
    let sent = &records.accepted[0].envelope;
    assert_eq!(sent.reference_id, stored.reference_id, "the referenceId never changes");
    assert_eq!(sent.expiry_time - sent.timestamp, Duration::minutes(6), "5 min becomes 6 min");
    assert!(sent.timestamp >= first_attempt + Duration::seconds(3), "re-stamped at the retry: {}", sent.timestamp);
}

#[tokio::test]
async fn every_attempt_of_a_restamped_envelope_is_stamped_when_it_is_made() {
    let server = Server::start(|request, log| {
        let id = request.reference_id.as_deref().unwrap_or_default();
        if request.attempt == 1 {
            Reply::api_error(503, "unavailable").header("retry-after", "1")
        } else {
            log.accept(id);
            Reply::accepted(id)
        }
    })
    .await;
    let client = server.client().build().unwrap();
    let stored = stored_five_minutes("restamp-each");
    let prepared = PreparedEnvelope::restamped(&stored).unwrap();
    assert_eq!(client.send_prepared(&prepared).await.unwrap().attempts(), 2);
    let sent: Vec<Envelope> = server
        .log()
        .events
        .iter()
        .map(|request| Envelope::from_json(std::str::from_utf8(&request.body).unwrap()).unwrap().0)
        .collect();
    assert_eq!(sent.len(), 2);
    assert!(
        sent[1].timestamp >= sent[0].timestamp + Duration::seconds(1),
        "{} then {}",
        sent[0].timestamp,
        sent[1].timestamp
    );
    for envelope in &sent {
        assert_eq!(envelope.reference_id, stored.reference_id);
        assert_eq!(envelope.expiry_time - envelope.timestamp, Duration::minutes(6));
        assert!(envelope.validate().is_clean());
    }

    // Not re-stamped: the same body on every attempt.
    let plain = PreparedEnvelope::new(&envelope("plain-each")).unwrap();
    assert!(!plain.is_restamped());
    assert_eq!(&plain.body_at(Utc::now() + Duration::hours(1))[..], plain.body());
}

#[tokio::test]
async fn the_sandbox_answers_400_by_its_own_clock() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = client_for(&sandbox);
    let sent = expiring_in("clock", Duration::hours(1));
    // 58 minutes later by the sandbox's clock, the expiry is 2 min away: Amazon would refuse it.
    sandbox.set_now(Utc::now() + Duration::minutes(58));
    let Err(SendError::Api(api)) = client.send(&sent).await else { panic!("accepted") };
    assert_eq!((api.status(), api.kind()), (400, ApiErrorKind::InvalidRequest));
    assert!(api.message().unwrap().contains("now + 5 min"), "{api}");
    // 23 h 30 min earlier, the same envelope is 24 h 30 min ahead: refused too.
    sandbox.set_now(Utc::now() - Duration::minutes(23 * 60 + 30));
    let Err(SendError::Api(api)) = client.send(&sent).await else { panic!("accepted") };
    assert!(api.message().unwrap().contains("over the limit"), "{api}");
    sandbox.set_now(Utc::now());
    assert_eq!(client.send(&sent).await.unwrap().status(), 202);
}

/// What each scripted answer becomes: its kind, hint and retryability.
#[tokio::test]
async fn each_refusal_is_classified_with_its_hint() {
    let cases = [
        (
            ScriptedAnswer::NotSubscribed,
            ApiErrorKind::NotSubscribed,
            "Could not find any subscriptions for stage=development",
        ),
        (ScriptedAnswer::NoEnablement, ApiErrorKind::NoEnablement, "No enablement for clientId: "),
        (ScriptedAnswer::InvalidToken, ApiErrorKind::InvalidToken, "authentication token is invalid"),
        (ScriptedAnswer::InvalidRequest("Invalid event".into()), ApiErrorKind::InvalidRequest, "Invalid event"),
        (ScriptedAnswer::RateLimited, ApiErrorKind::RateLimited, "more calls than the allowed limit"),
        (ScriptedAnswer::ServerError, ApiErrorKind::ServerError, "internal error"),
        (ScriptedAnswer::Duplicate, ApiErrorKind::Duplicate, "duplicate events"),
        (
            ScriptedAnswer::Custom {
                status: 418,
                body: serde_json::json!({"type": "TEAPOT", "message": "short and stout"}),
            },
            ApiErrorKind::Other,
            "short and stout",
        ),
    ];
    let mut config = SandboxConfig::new();
    for (i, (answer, _, _)) in cases.iter().enumerate() {
        config = config.answer_for(format!("amzn1.ask.account.U{i}"), answer.clone());
    }
    let sandbox = Sandbox::start_with(config).await.unwrap();
    let client = client_for(&sandbox);
    for (i, (_, kind, words)) in cases.iter().enumerate() {
        let mut sent = envelope(&format!("kind-{i}"));
        sent.audience = Audience::unicast(&format!("amzn1.ask.account.U{i}")).unwrap();
        let Err(SendError::Api(api)) = client.send(&sent).await else { panic!("{kind} was accepted") };
        assert_eq!(api.kind(), *kind, "{api}");
        assert!(api.message().unwrap().contains(words), "{api}");
        assert!(!kind.hint().is_empty());
        assert_eq!(api.is_retryable(), matches!(kind, ApiErrorKind::RateLimited | ApiErrorKind::ServerError));
    }
    // Other users are answered as usual.
    assert_eq!(client.send(&envelope("kind-multicast")).await.unwrap().status(), 202);
}

#[tokio::test]
async fn a_not_subscribed_refusal_can_drop_the_subscription() {
    let user = "amzn1.ask.account.GONE";
    let sandbox =
        Sandbox::start_with(SandboxConfig::new().answer_for(user, ScriptedAnswer::NotSubscribed)).await.unwrap();
    let client = client_for(&sandbox);
    let tracker = SubscriptionTracker::new(MemoryStore::new());
    let body = format!(
        r#"{{"version":"1.0","context":{{"System":{{"application":{{"applicationId":"a"}},"user":{{"userId":"{user}"}},"apiEndpoint":"https://api.amazonalexa.com"}}}},"request":{{"type":"AlexaSkillEvent.ProactiveSubscriptionChanged","requestId":"r1","timestamp":"2026-01-01T00:00:00Z","body":{{"subscriptions":[{{"eventName":"AMAZON.WeatherAlert.Activated"}},{{"eventName":"AMAZON.OrderStatus.Updated"}}]}}}}}}"#
    );
    tracker.apply(&SubscriptionChangedRequest::from_json(&body).unwrap()).await.unwrap();

    let mut sent = envelope("gone-1");
    sent.audience = Audience::unicast(user).unwrap();
    let error = client.send(&sent).await.unwrap_err();
    // Another kind of refusal (a duplicate) changes nothing.
    client.send(&envelope("twice")).await.unwrap();
    let other = client.send(&envelope("twice")).await.unwrap_err();
    assert!(!tracker.forget_not_subscribed(&sent, &other).await.unwrap());
    assert!(tracker.forget_not_subscribed(&sent, &error).await.unwrap());
    assert!(tracker.all_subscribers(EventName::WeatherAlertActivated).await.unwrap().is_empty());
    assert_eq!(tracker.all_subscribers(EventName::OrderStatusUpdated).await.unwrap().len(), 1, "the other one stays");
    assert!(!tracker.forget_not_subscribed(&sent, &error).await.unwrap(), "already dropped");

    // A later genuine request from Alexa still wins.
    let later = body.replace("r1", "r2").replace("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z");
    tracker.apply(&SubscriptionChangedRequest::from_json(&later).unwrap()).await.unwrap();
    assert_eq!(tracker.all_subscribers(EventName::WeatherAlertActivated).await.unwrap().len(), 1);
}
