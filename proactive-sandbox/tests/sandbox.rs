//! The sandbox answers like Amazon: every status it can give, token expiry,
//! injected faults, and what it records. Requests are written by hand on a TCP
//! socket so that the test depends on no HTTP client.

use std::time::Duration;

use proactive_sandbox::{Faults, RateLimit, Sandbox, SandboxConfig, Stage};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// One HTTP/1.1 request; `None` when the connection closes without a response.
async fn http(sandbox: &Sandbox, path: &str, headers: &[(&str, &str)], body: &str) -> Option<Reply> {
    let mut stream = TcpStream::connect(sandbox.addr()).await.unwrap();
    let mut request =
        format!("POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let mut lines = head.lines();
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines.filter_map(|l| l.split_once(": ")).map(|(n, v)| (n.to_owned(), v.to_owned())).collect();
    Some(Reply { status, headers, body: body.to_owned() })
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

async fn token_reply(sandbox: &Sandbox, pairs: &[(&str, &str)]) -> Reply {
    http(sandbox, "/auth/o2/token", &[("Content-Type", "application/x-www-form-urlencoded")], &form(pairs))
        .await
        .unwrap()
}

async fn token(sandbox: &Sandbox) -> String {
    let reply = token_reply(
        sandbox,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", sandbox.client_id()),
            ("client_secret", sandbox.client_secret()),
            ("scope", "alexa::proactive_events"),
        ],
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["access_token"].as_str().unwrap().to_owned()
}

fn envelope(reference: &str, audience: Value) -> String {
    let now = chrono::Utc::now();
    json!({
        "timestamp": now.to_rfc3339(),
        "referenceId": reference,
        "expiryTime": (now + chrono::Duration::hours(1)).to_rfc3339(),
        "event": {"name": "AMAZON.MessageAlert.Activated",
                  "payload": {"state": {"status": "UNREAD"}, "messageGroup": {"creator": {"name": "Andy"}, "count": 2}}},
        "localizedAttributes": [],
        "relevantAudience": audience
    })
    .to_string()
}

fn unicast(user: &str) -> Value {
    json!({"type": "Unicast", "payload": {"user": user}})
}

async fn send(sandbox: &Sandbox, token: &str, path: &str, body: &str) -> Option<Reply> {
    let auth = format!("Bearer {token}");
    http(sandbox, path, &[("Authorization", &auth), ("Content-Type", "application/json")], body).await
}

const DEV: &str = "/v1/proactiveEvents/stages/development";
const LIVE: &str = "/v1/proactiveEvents";

#[tokio::test]
async fn token_endpoint_answers_like_lwa() {
    let sandbox = Sandbox::start_with(SandboxConfig::new().credentials("id", "s3cr+t&=% ")).await.unwrap();
    let ok = token_reply(
        &sandbox,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "id"),
            ("client_secret", "s3cr+t&=% "),
            ("scope", "alexa::proactive_events"),
        ],
    )
    .await;
    assert_eq!(ok.status, 200);
    let body = ok.json();
    assert!(body["access_token"].as_str().unwrap().starts_with("Atc|"));
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["scope"], "alexa::proactive_events");
    assert_eq!(body["token_type"], "bearer");

    let wrong_secret = token_reply(
        &sandbox,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "id"),
            ("client_secret", "nope"),
            ("scope", "alexa::proactive_events"),
        ],
    )
    .await;
    assert_eq!((wrong_secret.status, wrong_secret.json()["error"].as_str()), (401, Some("invalid_client")));

    let wrong_scope = token_reply(
        &sandbox,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "id"),
            ("client_secret", "s3cr+t&=% "),
            ("scope", "profile"),
        ],
    )
    .await;
    assert_eq!((wrong_scope.status, wrong_scope.json()["error"].as_str()), (400, Some("invalid_scope")));

    let wrong_grant = token_reply(&sandbox, &[("grant_type", "authorization_code")]).await;
    assert_eq!((wrong_grant.status, wrong_grant.json()["error"].as_str()), (400, Some("unsupported_grant_type")));

    let records = sandbox.records();
    assert_eq!(records.token_requests(), 4);
    assert_eq!(records.tokens_issued(), 1);
}

#[tokio::test]
async fn events_are_accepted_once_per_audience() {
    let sandbox = Sandbox::start().await.unwrap();
    let token = token(&sandbox).await;

    let accepted = send(&sandbox, &token, DEV, &envelope("ref-1", unicast("amzn1.ask.account.A"))).await.unwrap();
    assert_eq!(accepted.status, 202);
    let request_id = accepted.header("x-amzn-requestid").unwrap().to_owned();

    // The same reference id for the same user: 409. For another user: accepted.
    let duplicate = send(&sandbox, &token, DEV, &envelope("ref-1", unicast("amzn1.ask.account.A"))).await.unwrap();
    assert_eq!(duplicate.status, 409);
    assert!(duplicate.json()["message"].as_str().unwrap().contains("ref-1"));
    let other_user = send(&sandbox, &token, DEV, &envelope("ref-1", unicast("amzn1.ask.account.B"))).await.unwrap();
    assert_eq!(other_user.status, 202);

    // Multicast: once per reference id, on the live path too (with a trailing slash).
    let multicast = json!({"type": "Multicast", "payload": {}});
    assert_eq!(
        send(&sandbox, &token, "/v1/proactiveEvents/", &envelope("ref-m", multicast.clone())).await.unwrap().status,
        202
    );
    assert_eq!(send(&sandbox, &token, LIVE, &envelope("ref-m", multicast)).await.unwrap().status, 409);

    let records = sandbox.records();
    assert_eq!(records.accepted.len(), 3);
    assert_eq!(records.accepted[0].request_id, request_id);
    assert_eq!(records.accepted[0].stage, Stage::Development);
    assert_eq!(records.accepted[2].stage, Stage::Live);
    assert_eq!(records.accepted[0].envelope.reference_id.as_str(), "ref-1");
    assert_eq!((records.events_with_status(202), records.events_with_status(409)), (3, 2));
}

#[tokio::test]
async fn invalid_events_get_400_naming_the_first_problem() {
    let sandbox = Sandbox::start().await.unwrap();
    let token = token(&sandbox).await;
    let bad = envelope("bad id", unicast("amzn1.ask.account.A"));
    let reply = send(&sandbox, &token, DEV, &bad).await.unwrap();
    assert_eq!(reply.status, 400);
    let body = reply.json();
    assert_eq!(body["code"], 400);
    assert!(
        body["message"].as_str().unwrap().starts_with("error: referenceId: the reference id contains ' '"),
        "{body}"
    );

    let reply = send(&sandbox, &token, DEV, "{not json").await.unwrap();
    assert_eq!(reply.status, 400);
    assert!(reply.json()["message"].as_str().unwrap().contains("invalid JSON at line 1"));

    // Already expired: refused like the client refuses it.
    let mut expired: Value = serde_json::from_str(&envelope("ref-old", unicast("amzn1.ask.account.A"))).unwrap();
    expired["timestamp"] = json!("2019-02-13T14:00:00Z");
    expired["expiryTime"] = json!("2019-02-13T15:00:00Z");
    let reply = send(&sandbox, &token, DEV, &expired.to_string()).await.unwrap();
    assert_eq!(reply.status, 400);
    assert!(reply.json()["message"].as_str().unwrap().contains("expired"));
    assert!(sandbox.records().accepted.is_empty());
}

#[tokio::test]
async fn missing_unknown_and_expired_tokens_get_403() {
    let sandbox = Sandbox::start_with(SandboxConfig::new().token_lifetime(Duration::from_millis(300))).await.unwrap();
    let body = envelope("ref-1", unicast("amzn1.ask.account.A"));
    let none = http(&sandbox, DEV, &[("Content-Type", "application/json")], &body).await.unwrap();
    assert_eq!(none.status, 403);
    assert_eq!(send(&sandbox, "Atc|forged", DEV, &body).await.unwrap().status, 403);

    let token = token(&sandbox).await;
    assert_eq!(send(&sandbox, &token, DEV, &body).await.unwrap().status, 202);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let expired = send(&sandbox, &token, DEV, &envelope("ref-2", unicast("amzn1.ask.account.A"))).await.unwrap();
    assert_eq!(expired.status, 403);
    assert!(expired.json()["message"].as_str().unwrap().contains("expired"));
    assert_eq!(sandbox.records().events_with_status(403), 3);
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let faults = Faults { rate_limit: Some(RateLimit { per_second: 2, retry_after_secs: 7 }), ..Faults::none() };
    let sandbox = Sandbox::start_with(SandboxConfig::new().faults(faults)).await.unwrap();
    let token = token(&sandbox).await;
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for i in 0..4 {
        let reply =
            send(&sandbox, &token, DEV, &envelope(&format!("r{i}"), unicast("amzn1.ask.account.A"))).await.unwrap();
        statuses.push(reply.status);
        if reply.status == 429 {
            retry_after = reply.header("retry-after").map(str::to_owned);
        }
    }
    assert_eq!(statuses, [202, 202, 429, 429]);
    assert_eq!(retry_after.as_deref(), Some("7"));
}

#[tokio::test]
async fn injected_failures_are_server_errors_and_closed_connections() {
    let sandbox = Sandbox::start_with(SandboxConfig::new().faults(Faults::failing(0.5)).seed(7)).await.unwrap();
    let token = token(&sandbox).await;
    let (mut accepted, mut errors, mut closed) = (0, 0, 0);
    for i in 0..200 {
        match send(&sandbox, &token, DEV, &envelope(&format!("f{i}"), unicast("amzn1.ask.account.A"))).await {
            Some(reply) if reply.status == 202 => accepted += 1,
            Some(reply) if reply.status == 500 || reply.status == 503 => errors += 1,
            Some(reply) => panic!("unexpected {}: {}", reply.status, reply.body),
            None => closed += 1,
        }
    }
    // About a quarter each of errors and closed connections; every request is one of the three.
    assert_eq!(accepted + errors + closed, 200);
    assert!((20..80).contains(&errors), "{errors} server errors");
    assert!((20..80).contains(&closed), "{closed} closed connections");
    let records = sandbox.records();
    assert_eq!(records.accepted.len(), accepted);
    assert_eq!(records.events_with_status(0), closed as u64);
    assert_eq!(records.events_with_status(500) + records.events_with_status(503), errors as u64);
}

#[tokio::test]
async fn latency_is_added() {
    let faults = Faults { latency: Duration::from_millis(150), ..Faults::none() };
    let sandbox = Sandbox::start_with(SandboxConfig::new().faults(faults)).await.unwrap();
    let token = token(&sandbox).await;
    let start = std::time::Instant::now();
    send(&sandbox, &token, DEV, &envelope("slow", unicast("amzn1.ask.account.A"))).await.unwrap();
    // A lower bound only: the sandbox waited before answering.
    assert!(start.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn requests_are_reported_to_the_callback_and_unknown_paths_are_404() {
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&lines);
    let config = SandboxConfig::new()
        .on_request(move |log| sink.lock().unwrap().push(format!("{} {}", log.status, log.request)));
    let sandbox = Sandbox::start_with(config).await.unwrap();
    let token = token(&sandbox).await;
    assert_eq!(send(&sandbox, &token, "/v1/other", "{}").await.unwrap().status, 404);
    assert_eq!(*lines.lock().unwrap(), ["200 POST /auth/o2/token", "404 POST /v1/other"]);
}

#[tokio::test]
async fn dropping_the_sandbox_stops_it() {
    let sandbox = Sandbox::start().await.unwrap();
    let addr = sandbox.addr();
    drop(sandbox);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn an_expiry_outside_the_now_window_gets_400_by_the_sandbox_clock() {
    let sandbox = Sandbox::start().await.unwrap();
    let token = token(&sandbox).await;
    let now = chrono::Utc::now();
    for (reference, ahead, words) in [
        ("late", chrono::Duration::hours(25), "is 25 h after now, 1 h over the limit"),
        ("soon", chrono::Duration::minutes(4), "is only 4 min after now"),
    ] {
        let mut body: Value = serde_json::from_str(&envelope(reference, unicast("amzn1.ask.account.A"))).unwrap();
        // A valid timestamp window (1 h); only the distance from now is wrong.
        body["timestamp"] = json!((now + ahead - chrono::Duration::hours(1)).to_rfc3339());
        body["expiryTime"] = json!((now + ahead).to_rfc3339());
        sandbox.set_now(now);
        let reply = send(&sandbox, &token, DEV, &body.to_string()).await.unwrap();
        assert_eq!(reply.status, 400, "{reference}");
        let message = reply.json()["message"].as_str().unwrap().to_owned();
        assert!(message.starts_with("error: expiryTime: expiryTime "), "{message}");
        assert!(message.contains(words) && message.contains("between now + 5 min ("), "{message}");
        // The same envelope, at a moment by the sandbox's clock when it is 1 h ahead, is accepted.
        sandbox.set_now(now + ahead - chrono::Duration::hours(1));
        assert_eq!(send(&sandbox, &token, DEV, &body.to_string()).await.unwrap().status, 202, "{reference}");
    }
    assert_eq!(sandbox.records().accepted.len(), 2);
}
