//! The Login with Amazon access token: the client-credentials grant, a cache
//! refreshed a margin before expiry, one request however many tasks need a token
//! at once, and invalidation after the events endpoint refuses a token.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use reqwest::Url;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use tracing::{Instrument, debug, field, info, info_span, warn};

use super::error::{TokenError, TokenErrorKind};
use super::http::{MAX_ANSWER, attempt_timeout, read_body, request_id, retry_after, retryable_status};
use super::retry::{Next, RetryPolicy};

/// The scope that lets a token send proactive events.
pub(crate) const SCOPE: &str = "alexa::proactive_events";
/// The lifetime assumed when the token endpoint does not say (LWA's is one hour).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

/// What a token request needs. The credentials never leave this struct except
/// into the form body of a token request.
pub(crate) struct TokenSource {
    pub(crate) http: reqwest::Client,
    pub(crate) url: Url,
    pub(crate) client_id: SecretString,
    pub(crate) client_secret: SecretString,
    pub(crate) refresh_margin: Duration,
    pub(crate) timeout: Duration,
    pub(crate) retry: RetryPolicy,
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSource")
            .field("url", &self.url.as_str())
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("refresh_margin", &self.refresh_margin)
            .finish_non_exhaustive()
    }
}

/// A cached access token, as the `Authorization` header value it is used as
/// (marked sensitive, so the HTTP stack never prints it).
pub(crate) struct Token {
    pub(crate) header: HeaderValue,
    pub(crate) generation: u64,
    refresh_at: Instant,
    expires_at: Instant,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("value", &"[REDACTED]")
            .field("generation", &self.generation)
            .field("refresh_at", &self.refresh_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

type Fetch = Shared<BoxFuture<'static, Result<Arc<Token>, TokenError>>>;

/// The token cache, shared by every clone of a client.
pub(crate) struct Tokens {
    source: Arc<TokenSource>,
    requests: Arc<AtomicU64>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    current: Option<Arc<Token>>,
    /// The token request in flight, awaited by every task that needs a token.
    fetch: Option<Fetch>,
    generations: u64,
    /// A token that drew a 401/403 right after replacing one that drew a 401/403:
    /// the refusals are not about the token (a Unicast user who has not
    /// subscribed, say), so further ones are not worth a new token.
    refusals_not_about: Option<u64>,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("source", &self.source)
            .field("requests", &self.requests.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Tokens {
    pub(crate) fn new(source: TokenSource) -> Self {
        Self { source: Arc::new(source), requests: Arc::default(), state: Mutex::default() }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; if something did, the state is
        // still a valid cache (at worst one more token request).
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How many token requests were made (each retry counts).
    pub(crate) fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// A token valid for at least the refresh margin: the cached one, or a new
    /// one from the request in flight, or from a new request.
    pub(crate) async fn get(&self) -> Result<Arc<Token>, TokenError> {
        let fetch = {
            let mut state = self.state();
            if let Some(token) = &state.current
                && Instant::now() < token.refresh_at
            {
                return Ok(Arc::clone(token));
            }
            match &state.fetch {
                Some(fetch) => fetch.clone(),
                None => {
                    state.generations += 1;
                    let fetch =
                        fetch(Arc::clone(&self.source), Arc::clone(&self.requests), state.generations).boxed().shared();
                    state.fetch = Some(fetch.clone());
                    fetch
                }
            }
        };
        // If every task awaiting the request is cancelled, the request stays
        // stored, and the next task to need a token resumes it.
        let result = fetch.clone().await;
        let mut state = self.state();
        if state.fetch.as_ref().is_some_and(|stored| stored.ptr_eq(&fetch)) {
            state.fetch = None;
            if let Ok(token) = &result {
                state.current = Some(Arc::clone(token));
            }
        }
        match result {
            Ok(token) => Ok(token),
            // The old token, if it has not expired yet, still serves.
            Err(error) => match &state.current {
                Some(token) if Instant::now() < token.expires_at => {
                    warn!(error = %error, "the token refresh failed; using the current token until it expires");
                    Ok(Arc::clone(token))
                }
                _ => Err(error),
            },
        }
    }

    /// The events endpoint refused `token` (401 or 403): forgets it, so the
    /// next [`get`](Self::get) asks for a new one. Returns whether a retry with a
    /// new token is worth it.
    pub(crate) fn refused(&self, token: &Token) -> bool {
        let mut state = self.state();
        if state.refusals_not_about == Some(token.generation) {
            return false;
        }
        if state.current.as_ref().is_some_and(|current| current.generation == token.generation) {
            info!(generation = token.generation, "the events endpoint refused the token; getting a new one");
            state.current = None;
        }
        true
    }

    /// The new token got a 401/403 too: further refusals of it are not about the token.
    pub(crate) fn refused_again(&self, token: &Token) {
        self.state().refusals_not_about = Some(token.generation);
    }
}

/// Asks for a token, retrying what may be retried.
async fn fetch(source: Arc<TokenSource>, requests: Arc<AtomicU64>, generation: u64) -> Result<Arc<Token>, TokenError> {
    let span = info_span!("proactive.token", generation, attempts = field::Empty, expires_in_secs = field::Empty);
    async move {
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            requests.fetch_add(1, Ordering::Relaxed);
            tracing::Span::current().record("attempts", attempt);
            debug!(attempt, url = source.url.as_str(), "requesting an access token");
            let requested_at = Instant::now();
            // No attempt runs past the retry policy's time budget.
            let timeout = attempt_timeout(source.timeout, &source.retry, started.elapsed());
            let (error, retry_after) = match request(&source, attempt, timeout).await {
                Answer::Token { header, lifetime } => {
                    tracing::Span::current().record("expires_in_secs", lifetime.as_secs());
                    info!(attempt, expires_in_secs = lifetime.as_secs(), "access token received");
                    let expires_at = requested_at + lifetime;
                    let margin = source.refresh_margin.min(lifetime / 2);
                    return Ok(Arc::new(Token { header, generation, refresh_at: expires_at - margin, expires_at }));
                }
                Answer::Fatal(error) => {
                    warn!(error = %error, "the token request failed");
                    return Err(error);
                }
                Answer::Retryable(error, retry_after) => (error, retry_after),
            };
            match source.retry.next(attempt, started.elapsed(), retry_after) {
                Next::RetryAfter(delay) => {
                    info!(attempt, delay_ms = delay.as_millis() as u64, error = %error, "retrying the token request");
                    tokio::time::sleep(delay).await;
                }
                Next::GiveUp => {
                    warn!(error = %error, "the token request failed");
                    return Err(error);
                }
            }
        }
    }
    .instrument(span)
    .await
}

enum Answer {
    Token { header: HeaderValue, lifetime: Duration },
    Fatal(TokenError),
    Retryable(TokenError, Option<Duration>),
}

/// One token request and what its answer means.
async fn request(source: &TokenSource, attempt: u32, timeout: Duration) -> Answer {
    // Every value percent-encoded: a secret with `+`, `&`, `=` or `%` must survive.
    // (The body is handed to the HTTP stack, which cannot zeroize it.)
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "client_credentials")
        .append_pair("client_id", source.client_id.expose_secret())
        .append_pair("client_secret", source.client_secret.expose_secret())
        .append_pair("scope", SCOPE)
        .finish();
    let response = source
        .http
        .post(source.url.clone())
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded;charset=UTF-8")
        .header(ACCEPT, "application/json")
        .timeout(timeout)
        .body(form)
        .send()
        .await;
    let response = match response {
        Ok(response) => response,
        Err(error) => {
            let kind = if error.is_timeout() { TokenErrorKind::Timeout } else { TokenErrorKind::Connection };
            return Answer::Retryable(TokenError::new(kind, attempt).with_source(Box::new(error)), None);
        }
    };
    let (parts, answer) = http::Response::from(response).into_parts();
    let status = parts.status.as_u16();
    let request_id = request_id(&parts.headers);
    let retry_after = retry_after(&parts.headers);
    let mut body = Vec::new();
    read_body(answer, &mut body, MAX_ANSWER).await;
    match status {
        200..=299 => match parse_token(&body) {
            Some((header, lifetime)) => Answer::Token { header, lifetime },
            None => Answer::Fatal(
                TokenError::new(TokenErrorKind::InvalidResponse, attempt).with_answer(status, None, None, request_id),
            ),
        },
        status if retryable_status(status) => Answer::Retryable(
            TokenError::new(TokenErrorKind::Unavailable, attempt).with_answer(status, None, None, request_id),
            retry_after,
        ),
        400..=499 => {
            let (error, description) = parse_lwa_error(&body);
            let kind = match error.as_deref() {
                Some("invalid_client") => TokenErrorKind::InvalidClient,
                Some("invalid_scope") => TokenErrorKind::InvalidScope,
                None if status == 401 => TokenErrorKind::InvalidClient,
                _ => TokenErrorKind::Rejected,
            };
            Answer::Fatal(TokenError::new(kind, attempt).with_answer(status, error, description, request_id))
        }
        _ => Answer::Fatal(
            TokenError::new(TokenErrorKind::InvalidResponse, attempt).with_answer(status, None, None, request_id),
        ),
    }
}

/// Reads `{"access_token": ..., "expires_in": ...}` into the header value it
/// becomes and the token's lifetime. Nothing of the body is ever put in an
/// error: it holds the token.
fn parse_token(body: &[u8]) -> Option<(HeaderValue, Duration)> {
    #[derive(serde::Deserialize)]
    struct Answer {
        access_token: SecretString,
        expires_in: Option<u64>,
    }
    let answer: Answer = serde_json::from_slice(body).ok()?;
    let token = answer.access_token.expose_secret();
    if token.is_empty() {
        return None;
    }
    let mut header = HeaderValue::from_str(&format!("Bearer {token}")).ok()?;
    header.set_sensitive(true);
    let lifetime = match answer.expires_in {
        Some(0) => return None,
        Some(seconds) => Duration::from_secs(seconds),
        None => DEFAULT_LIFETIME,
    };
    Some((header, lifetime))
}

/// Reads LWA's `{"error": ..., "error_description": ...}`.
fn parse_lwa_error(body: &[u8]) -> (Option<String>, Option<String>) {
    #[derive(serde::Deserialize)]
    struct LwaError {
        error: Option<String>,
        error_description: Option<String>,
    }
    match serde_json::from_slice::<LwaError>(body) {
        Ok(e) => (
            e.error.map(|s| super::error::truncate(s, 256)),
            e.error_description.map(|s| super::error::truncate(s, 1024)),
        ),
        Err(_) => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_answers() {
        let (header, lifetime) = parse_token(
            br#"{"access_token":"Atc|abc","expires_in":3600,"scope":"alexa::proactive_events","token_type":"bearer"}"#,
        )
        .unwrap();
        assert_eq!((header.to_str().unwrap(), lifetime), ("Bearer Atc|abc", Duration::from_secs(3600)));
        assert!(header.is_sensitive());
        assert_eq!(format!("{header:?}"), "Sensitive");
        assert_eq!(parse_token(br#"{"access_token":"t"}"#).unwrap().1, DEFAULT_LIFETIME);
        assert!(parse_token(br#"{"access_token":""}"#).is_none());
        assert!(parse_token(br#"{"access_token":"t","expires_in":0}"#).is_none());
        assert!(parse_token(b"{\"access_token\":\"line\\nbreak\"}").is_none());
        assert!(parse_token(b"not json").is_none());
    }

    #[test]
    fn lwa_errors() {
        let body = br#"{"error":"invalid_scope","error_description":"An unknown scope was requested"}"#;
        assert_eq!(
            parse_lwa_error(body),
            (Some("invalid_scope".into()), Some("An unknown scope was requested".into()))
        );
        assert_eq!(parse_lwa_error(b"<html>"), (None, None));
    }
}
