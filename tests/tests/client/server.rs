//! A scripted HTTP server on loopback standing in for Login with Amazon and the
//! Proactive Events API: each test says how to answer, and the server records
//! every request (arrival time, token, body) for assertions.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use proactive_core::client::{Client, ClientBuilder, RetryPolicy};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub(crate) const CLIENT_ID: &str = "amzn1.application-oa2-client.test";
pub(crate) const CLIENT_SECRET: &str = "s3cr3t+&=% value";
pub(crate) const TOKEN_PATH: &str = "/auth/o2/token";

/// How to answer one request.
#[derive(Clone, Debug, Default)]
pub(crate) struct Reply {
    status: u16,
    body: String,
    headers: Vec<(String, String)>,
    delay: Duration,
    close: bool,
}

impl Reply {
    pub(crate) fn status(status: u16) -> Self {
        Self { status, ..Self::default() }
    }

    /// 202 with a request id, as Amazon accepts an event.
    pub(crate) fn accepted(request_id: &str) -> Self {
        Self::status(202).header("x-amzn-requestid", request_id)
    }

    /// Amazon's error body.
    pub(crate) fn api_error(status: u16, message: &str) -> Self {
        Self::status(status).json(serde_json::json!({"code": status, "message": message}))
    }

    /// Closes the connection without an answer.
    pub(crate) fn close() -> Self {
        Self { close: true, ..Self::default() }
    }

    pub(crate) fn json(mut self, body: serde_json::Value) -> Self {
        self.body = body.to_string();
        self.header("content-type", "application/json")
    }

    pub(crate) fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Waits this long before answering (or closing).
    pub(crate) fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// One request to the events endpoint, as received.
#[derive(Clone, Debug)]
pub(crate) struct EventRequest {
    pub(crate) arrived: Instant,
    pub(crate) arrived_wall: SystemTime,
    pub(crate) path: String,
    pub(crate) headers: HashMap<String, String>,
    /// The bearer token.
    pub(crate) token: Option<String>,
    pub(crate) reference_id: Option<String>,
    /// The how-many-th request with this referenceId, from 1 (0 without one).
    pub(crate) attempt: u32,
    pub(crate) body: Bytes,
    /// The status answered (0 for a closed connection).
    pub(crate) status: u16,
}

/// Everything the server saw and decided.
#[derive(Debug, Default)]
pub(crate) struct Log {
    pub(crate) events: Vec<EventRequest>,
    /// The decoded form of every token request.
    pub(crate) token_forms: Vec<HashMap<String, String>>,
    /// Issued tokens and their expiry.
    pub(crate) tokens: HashMap<String, Instant>,
    /// Reference ids accepted, in order; `accept` refuses a second one.
    pub(crate) accepted: Vec<String>,
    accepted_set: HashSet<String>,
    /// Requests seen per referenceId.
    attempts: HashMap<String, u32>,
}

impl Log {
    /// Records `id` as accepted; false if it already was (answer 409).
    pub(crate) fn accept(&mut self, id: &str) -> bool {
        let fresh = self.accepted_set.insert(id.to_owned());
        if fresh {
            self.accepted.push(id.to_owned());
        }
        fresh
    }

    /// Issues a token valid for `lifetime`: the answer of LWA.
    pub(crate) fn issue_token(&mut self, lifetime: Duration) -> Reply {
        let token = format!("Atc|issued-token-{}-{:016x}", self.tokens.len() + 1, fastrand::u64(..));
        self.tokens.insert(token.clone(), Instant::now() + lifetime);
        Reply::status(200).json(serde_json::json!({
            "access_token": token,
            "expires_in": lifetime.as_secs(),
            "scope": "alexa::proactive_events",
            "token_type": "bearer",
        }))
    }

    /// Whether `token` was issued and has not expired.
    pub(crate) fn token_valid(&self, token: Option<&str>) -> bool {
        token.and_then(|t| self.tokens.get(t)).is_some_and(|expiry| Instant::now() < *expiry)
    }

    /// Event requests for one reference id.
    pub(crate) fn requests_for(&self, id: &str) -> usize {
        self.events.iter().filter(|e| e.reference_id.as_deref() == Some(id)).count()
    }
}

type EventsFn = dyn Fn(&EventRequest, &mut Log) -> Reply + Send + Sync;
type TokenFn = dyn Fn(&HashMap<String, String>, &mut Log) -> Reply + Send + Sync;

struct Shared {
    events: Box<EventsFn>,
    token: Box<TokenFn>,
    log: Mutex<Log>,
}

/// A running server; stops when dropped.
pub(crate) struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// Answers events with `events`, and tokens for the test credentials (valid an hour).
    pub(crate) async fn start(events: impl Fn(&EventRequest, &mut Log) -> Reply + Send + Sync + 'static) -> Self {
        Self::with_tokens(events, default_token).await
    }

    /// Answers events with `events` and token requests with `token`.
    pub(crate) async fn with_tokens(
        events: impl Fn(&EventRequest, &mut Log) -> Reply + Send + Sync + 'static,
        token: impl Fn(&HashMap<String, String>, &mut Log) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free loopback port");
        let addr = listener.local_addr().expect("a bound address");
        let shared = Arc::new(Shared { events: Box::new(events), token: Box::new(token), log: Mutex::default() });
        let task = tokio::spawn(serve(listener, Arc::clone(&shared)));
        Self { addr, shared, task }
    }

    pub(crate) fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) fn token_url(&self) -> String {
        format!("http://{}{TOKEN_PATH}", self.addr)
    }

    pub(crate) fn log(&self) -> MutexGuard<'_, Log> {
        self.shared.log.lock().unwrap()
    }

    /// A client for this server with the test credentials and fast retries.
    pub(crate) fn client(&self) -> ClientBuilder {
        Client::builder(CLIENT_ID, CLIENT_SECRET)
            .base_url(self.base_url())
            .token_url(self.token_url())
            .request_timeout(Duration::from_secs(5))
            .retry_policy(fast_retries(5))
    }
}

/// A number in `0..1` decided by `reference_id` and `attempt` alone, for
/// deciding faults: the same request meets the same fault whatever the order
/// or concurrency of the others (FNV-1a, then the SplitMix64 finalizer).
pub(crate) fn roll(reference_id: &str, attempt: u32) -> f64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in reference_id.bytes().chain(attempt.to_le_bytes()) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash = (hash ^ (hash >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash = (hash ^ (hash >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^= hash >> 31;
    (hash >> 11) as f64 / (1u64 << 53) as f64
}

/// Up to `attempts` attempts, waiting at most a few milliseconds between them.
pub(crate) fn fast_retries(attempts: u32) -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(attempts)
        .with_initial_backoff(Duration::from_millis(1))
        .with_max_backoff(Duration::from_millis(5))
}

/// LWA for the test credentials: a token valid for an hour, or invalid_client.
pub(crate) fn default_token(form: &HashMap<String, String>, log: &mut Log) -> Reply {
    let field = |name: &str| form.get(name).map(String::as_str);
    if field("client_id") == Some(CLIENT_ID)
        && field("client_secret") == Some(CLIENT_SECRET)
        && field("grant_type") == Some("client_credentials")
        && field("scope") == Some("alexa::proactive_events")
    {
        log.issue_token(Duration::from_secs(3600))
    } else {
        Reply::status(401)
            .json(serde_json::json!({"error": "invalid_client", "error_description": "Client authentication failed"}))
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(Arc::clone(&shared), request));
            // A closed connection (an error from the service) ends this task.
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

/// Returned to hyper to close the connection without an answer.
#[derive(Debug)]
struct Closed;

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("closed on purpose")
    }
}

impl std::error::Error for Closed {}

async fn handle(shared: Arc<Shared>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Closed> {
    let arrived = Instant::now();
    let arrived_wall = SystemTime::now();
    let path = request.uri().path().to_owned();
    let headers: HashMap<String, String> = request
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), value.to_str().unwrap_or("<binary>").to_owned()))
        .collect();
    let body = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Err(Closed),
    };
    let reply = if path == TOKEN_PATH {
        let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
        let mut log = shared.log.lock().unwrap();
        let reply = (shared.token)(&form, &mut log);
        log.token_forms.push(form);
        reply
    } else {
        let token = headers.get("authorization").and_then(|v| v.strip_prefix("Bearer ")).map(str::to_owned);
        let reference_id = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("referenceId").and_then(|id| id.as_str()).map(str::to_owned));
        let mut log = shared.log.lock().unwrap();
        let attempt = reference_id.as_ref().map_or(0, |id| {
            let seen = log.attempts.entry(id.clone()).or_default();
            *seen += 1;
            *seen
        });
        let mut event =
            EventRequest { arrived, arrived_wall, path, headers, token, reference_id, attempt, body, status: 0 };
        let reply = (shared.events)(&event, &mut log);
        event.status = if reply.close { 0 } else { reply.status };
        log.events.push(event);
        reply
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    if reply.close {
        return Err(Closed);
    }
    let mut response = Response::new(Full::new(Bytes::from(reply.body)));
    *response.status_mut() = hyper::StatusCode::from_u16(reply.status).expect("a valid status");
    for (name, value) in reply.headers {
        response.headers_mut().insert(
            hyper::header::HeaderName::from_bytes(name.as_bytes()).expect("a valid header name"),
            hyper::header::HeaderValue::from_str(&value).expect("a valid header value"),
        );
    }
    Ok(response)
}
