//! The HTTP side: accepting connections and answering like LWA and the Proactive
//! Events API.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use proactive_core::{Audience, Envelope};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::{AcceptedEvent, Records, RequestLog, SandboxConfig, Stage};

/// The largest request body read: the limit the client and `proactive validate` enforce.
const MAX_BODY: usize = proactive_core::MAX_BODY_BYTES;
/// The scope LWA grants for Proactive Events.
pub(crate) const SCOPE: &str = "alexa::proactive_events";

pub(crate) struct Shared {
    pub(crate) config: SandboxConfig,
    state: Mutex<State>,
}

struct State {
    records: Records,
    /// Issued tokens and when they expire.
    tokens: HashMap<String, Instant>,
    /// (referenceId, user) of every accepted event; Multicast has no user.
    delivered: HashSet<(String, Option<String>)>,
    /// Random parts of tokens and request ids (never faults: see [`fault`]).
    rng: fastrand::Rng,
    /// Per referenceId: the requests seen (attempts) and how many were faulted.
    attempts: HashMap<String, (u32, u32)>,
    /// The current one-second rate-limit window and the requests in it.
    window: (Instant, u32),
    counter: u64,
    /// What [`Shared::now`] adds to the system clock.
    clock_offset: chrono::Duration,
}

impl Shared {
    pub(crate) fn new(config: SandboxConfig) -> Self {
        let state = State {
            records: Records::default(),
            tokens: HashMap::new(),
            delivered: HashSet::new(),
            rng: fastrand::Rng::with_seed(config.seed),
            attempts: HashMap::new(),
            window: (Instant::now(), 0),
            counter: 0,
            clock_offset: chrono::Duration::zero(),
        };
        Self { config, state: Mutex::new(state) }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the records half-written in a
        // way that matters to a test, so a poisoned lock is still used.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + self.state().clock_offset
    }

    pub(crate) fn set_now(&self, now: chrono::DateTime<chrono::Utc>) {
        self.state().clock_offset = now - chrono::Utc::now();
    }

    pub(crate) fn records(&self) -> Records {
        self.state().records.clone()
    }
}

/// A response, or a connection closed without one.
type Answer = Result<Response<Full<Bytes>>, ClosedWithoutAnswer>;

/// Returned to hyper to close the connection without a response (a fault).
#[derive(Debug)]
struct ClosedWithoutAnswer;

impl std::fmt::Display for ClosedWithoutAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection closed by fault injection")
    }
}

impl std::error::Error for ClosedWithoutAnswer {}

pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    loop {
        let stream = tokio::select! {
            _ = shutdown.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // A failed accept (too many open files, a reset) affects one connection only.
                Err(_) => continue,
            },
        };
        let shared = Arc::clone(&shared);
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(Arc::clone(&shared), request));
            let connection = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = shutdown.changed() => {}
            }
        });
    }
}

async fn handle(shared: Arc<Shared>, request: Request<Incoming>) -> Answer {
    let line = format!("{} {}", request.method(), request.uri().path());
    let path = request.uri().path().trim_end_matches('/').to_owned();
    let answer = match path.as_str() {
        "/auth/o2/token" | "/auth/O2/token" => token(&shared, request).await,
        "/v1/proactiveEvents" => events(&shared, request, Stage::Live).await,
        "/v1/proactiveEvents/stages/development" => events(&shared, request, Stage::Development).await,
        _ => Ok(Outcome::new(
            StatusCode::NOT_FOUND,
            json!({"message": format!("no such endpoint: {path}")}),
            "not found",
        )),
    };
    let (status, detail, result) = match answer {
        Ok(outcome) => (outcome.response.status().as_u16(), outcome.detail, Ok(outcome.response)),
        Err(detail) => (0, detail, Err(ClosedWithoutAnswer)),
    };
    if let Some(callback) = &shared.config.on_request {
        callback(&RequestLog { request: line, status, detail });
    }
    result
}

/// A response and a line saying what happened.
struct Outcome {
    response: Response<Full<Bytes>>,
    detail: String,
}

impl Outcome {
    fn new(status: StatusCode, body: serde_json::Value, detail: impl Into<String>) -> Self {
        let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
        *response.status_mut() = status;
        response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Self { response, detail: detail.into() }
    }

    fn with_header(mut self, name: hyper::header::HeaderName, value: &str) -> Self {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.response.headers_mut().insert(name, value);
        }
        self
    }
}

async fn body(request: Request<Incoming>) -> Result<Bytes, Outcome> {
    match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(_) => Err(Outcome::new(
            StatusCode::BAD_REQUEST,
            json!({"code": 400, "message": "the request body could not be read or is over 1 MiB"}),
            "unreadable body",
        )),
    }
}

/// The LWA token endpoint: client-credentials grant only.
async fn token(shared: &Shared, request: Request<Incoming>) -> Result<Outcome, String> {
    let outcome = token_answer(shared, request).await;
    let mut state = shared.state();
    *state.records.token_statuses.entry(outcome.response.status().as_u16()).or_default() += 1;
    Ok(outcome)
}

async fn token_answer(shared: &Shared, request: Request<Incoming>) -> Outcome {
    let lwa_error = |status, error: &str, description: &str| {
        Outcome::new(status, json!({"error": error, "error_description": description}), error.to_owned())
    };
    if request.method() != Method::POST {
        return lwa_error(StatusCode::METHOD_NOT_ALLOWED, "invalid_request", "use POST");
    }
    let bytes = match body(request).await {
        Ok(bytes) => bytes,
        Err(outcome) => return outcome,
    };
    let form: HashMap<String, String> = form_urlencoded::parse(&bytes).into_owned().collect();
    let field = |name: &str| form.get(name).map(String::as_str);
    if field("grant_type") != Some("client_credentials") {
        return lwa_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server",
        );
    }
    let config = &shared.config;
    if field("client_id") != Some(config.client_id.as_str())
        || field("client_secret") != Some(config.client_secret.as_str())
    {
        return lwa_error(StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed");
    }
    if field("scope") != Some(SCOPE) || !config.grants_scope {
        return lwa_error(StatusCode::BAD_REQUEST, "invalid_scope", "An unknown scope was requested");
    }
    let mut state = shared.state();
    state.counter += 1;
    let (counter, random) = (state.counter, state.rng.u64(..));
    let token = format!("Atc|sandbox-{counter}-{random:016x}");
    state.tokens.insert(token.clone(), Instant::now() + config.token_lifetime);
    Outcome::new(
        StatusCode::OK,
        json!({
            "access_token": token,
            "expires_in": config.token_lifetime.as_secs(),
            "scope": SCOPE,
            "token_type": "bearer"
        }),
        "token issued",
    )
}

/// The events endpoints.
async fn events(shared: &Shared, request: Request<Incoming>, stage: Stage) -> Result<Outcome, String> {
    let result = events_answer(shared, request, stage).await;
    let status = match &result {
        Ok(outcome) => outcome.response.status().as_u16(),
        Err(_) => 0,
    };
    *shared.state().records.event_statuses.entry(status).or_default() += 1;
    result
}

async fn events_answer(shared: &Shared, request: Request<Incoming>, stage: Stage) -> Result<Outcome, String> {
    if request.method() != Method::POST {
        return Ok(api_error(StatusCode::METHOD_NOT_ALLOWED, "use POST".to_owned()));
    }
    let faults = &shared.config.faults;
    if !faults.latency.is_zero() {
        tokio::time::sleep(faults.latency).await;
    }
    if let Some(refusal) = unauthenticated(shared, &request) {
        return Ok(refusal);
    }
    let bytes = match body(request).await {
        Ok(bytes) => bytes,
        Err(outcome) => return Ok(outcome),
    };
    let parsed = proactive_core::json::parse_slice(&bytes);
    if faults.per_attempt()
        && let Some(envelope) = &parsed.envelope
        && let Some(fault) = fault(shared, envelope.reference_id.as_str())
    {
        return fault;
    }
    let envelope = match parsed.envelope {
        Some(envelope) if !parsed.report.has_errors() => envelope,
        _ => {
            let first = parsed.report.errors().next().map_or_else(|| "invalid request".to_owned(), ToString::to_string);
            return Ok(api_error(StatusCode::BAD_REQUEST, first));
        }
    };
    // Amazon measures the expiry from the moment it receives the event.
    if let Some(outside) = envelope.validate_at(shared.now()).errors().next() {
        return Ok(api_error(StatusCode::BAD_REQUEST, outside.to_string()));
    }
    if let Some(scripted) = scripted(shared, &envelope, stage) {
        return Ok(scripted);
    }
    Ok(accept(shared, envelope, stage))
}

/// Amazon's error answer: `{"code": status, "message": ...}`.
fn api_error(status: StatusCode, message: String) -> Outcome {
    let detail = message.clone();
    Outcome::new(status, json!({"code": status.as_u16(), "message": message}), detail)
}

/// The 403 for a missing, unknown or expired token; `None` when the token is good.
fn unauthenticated(shared: &Shared, request: &Request<Incoming>) -> Option<Outcome> {
    let token = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let Some(token) = token else {
        return Some(api_error(StatusCode::FORBIDDEN, "the request has no `Authorization: Bearer` token".to_owned()));
    };
    match shared.state().tokens.get(&token) {
        None => Some(api_error(StatusCode::FORBIDDEN, "the authentication token is invalid".to_owned())),
        Some(expiry) if *expiry <= Instant::now() => {
            Some(api_error(StatusCode::FORBIDDEN, "the authentication token has expired".to_owned()))
        }
        Some(_) => None,
    }
}

/// The fault for this attempt of the event `reference_id`, if it meets one:
/// decided by the request alone (see [`Faults`](crate::Faults)), the rate
/// limit aside. `Err` closes the connection without an answer.
fn fault(shared: &Shared, reference_id: &str) -> Option<Result<Outcome, String>> {
    let config = &shared.config;
    let faults = &config.faults;
    let mut state = shared.state();
    let (attempt, faulted) = {
        let seen = state.attempts.entry(reference_id.to_owned()).or_default();
        seen.0 += 1;
        *seen
    };
    if attempt <= faults.failing_attempts {
        let message = format!("the service is unavailable (forced failure {attempt} of {})", faults.failing_attempts);
        let outcome = api_error(StatusCode::SERVICE_UNAVAILABLE, message);
        return Some(Ok(outcome.with_header(RETRY_AFTER, &faults.failing_retry_after_secs.to_string())));
    }
    if faults.faults_per_event.is_some_and(|most| faulted >= most) {
        return None;
    }
    let roll = crate::config::roll(config.seed, reference_id, attempt);
    let fault = if roll < faults.close_rate {
        Err("closed the connection without an answer (fault)".to_owned())
    } else if let Some(limited) = rate_limited(&mut state, faults) {
        Ok(limited)
    } else if roll < faults.close_rate + faults.server_error_rate {
        let coin = crate::config::roll(!config.seed, reference_id, attempt);
        let status = if coin < 0.5 { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::SERVICE_UNAVAILABLE };
        Ok(api_error(status, "the service encountered an internal error (fault)".to_owned()))
    } else {
        return None;
    };
    if let Some(seen) = state.attempts.get_mut(reference_id) {
        seen.1 += 1;
    }
    Some(fault)
}

/// The 429 of the rate-limit fault, when this request is over the limit.
fn rate_limited(state: &mut State, faults: &crate::Faults) -> Option<Outcome> {
    let limit = faults.rate_limit?;
    let now = Instant::now();
    if now.duration_since(state.window.0) >= Duration::from_secs(1) {
        state.window = (now, 0);
    }
    state.window.1 += 1;
    if state.window.1 <= limit.per_second {
        return None;
    }
    let message = "the client has made more calls than the allowed limit".to_owned();
    Some(
        api_error(StatusCode::TOO_MANY_REQUESTS, message).with_header(RETRY_AFTER, &limit.retry_after_secs.to_string()),
    )
}

/// The scripted answer for a Unicast to a user the sandbox has a script for.
fn scripted(shared: &Shared, envelope: &Envelope, stage: Stage) -> Option<Outcome> {
    let Audience::Unicast(user) = &envelope.audience else { return None };
    let answer = shared.config.scripts.get(user.as_str())?;
    let stage = match stage {
        Stage::Development => "development",
        Stage::Live => "live",
    };
    let event = envelope.event.name();
    let (status, body, retry_after) = answer.render(event.as_str(), user.as_str(), stage, &shared.config.client_id);
    let detail = format!("scripted {} for {user}", status.as_u16());
    let outcome = Outcome::new(status, body, detail);
    Some(match retry_after {
        Some(seconds) => outcome.with_header(RETRY_AFTER, &seconds.to_string()),
        None => outcome,
    })
}

fn accept(shared: &Shared, envelope: Envelope, stage: Stage) -> Outcome {
    let user = match &envelope.audience {
        Audience::Unicast(user) => Some(user.as_str().to_owned()),
        Audience::Multicast => None,
    };
    let key = (envelope.reference_id.as_str().to_owned(), user);
    let mut state = shared.state();
    if !state.delivered.insert(key) {
        let message =
            format!("an event with referenceId `{}` was already accepted for this audience", envelope.reference_id);
        return Outcome::new(StatusCode::CONFLICT, json!({"code": 409, "message": message}), message.clone());
    }
    state.counter += 1;
    let (counter, random) = (state.counter, state.rng.u32(..));
    let request_id = format!("sandbox-{counter:08}-{random:08x}");
    let detail = format!("accepted {} (ref {})", envelope.event.name(), envelope.reference_id);
    state.records.accepted.push(AcceptedEvent { envelope, stage, request_id: request_id.clone() });
    let mut outcome = Outcome::new(StatusCode::ACCEPTED, json!({}), detail);
    *outcome.response.body_mut() = Full::new(Bytes::new());
    outcome.response.headers_mut().remove(CONTENT_TYPE);
    outcome.with_header(hyper::header::HeaderName::from_static("x-amzn-requestid"), &request_id)
}

/// Binds to `addr` on loopback.
pub(crate) async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}
