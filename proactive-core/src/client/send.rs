//! Sending one envelope: validate, POST, retry what may be retried, and say what
//! happened.

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use chrono::Utc;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use tracing::{Instrument, debug, field, info, info_span, warn};

use super::Client;
use super::error::{ApiError, DispatchError, InvalidEnvelope, ResponseError, SendError};
use super::retry::{Next, parse_retry_after};
use crate::{Envelope, Problem};

/// The largest answer body read; Amazon's error bodies are a few hundred bytes.
const MAX_ANSWER: usize = 64 * 1024;
/// The shortest timeout an attempt gets, even at the end of the time budget.
const MIN_ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1);

/// Amazon accepted the event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    status: u16,
    request_id: Option<String>,
    attempts: u32,
    by_earlier_attempt: bool,
    warnings: Vec<Problem>,
}

impl Accepted {
    /// The HTTP status: 202 (or another 2xx), or 409 when
    /// [`by_earlier_attempt`](Self::by_earlier_attempt).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Amazon's `x-amzn-requestid` of the answer, for support requests.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// How many times the event was POSTed.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// How many of the attempts were retries.
    pub fn retries(&self) -> u32 {
        self.attempts.saturating_sub(1)
    }

    /// Whether the last attempt got 409 (this referenceId was already sent) after
    /// an earlier attempt whose answer was lost (a timeout, a dropped connection,
    /// a 5xx): that earlier attempt was delivered, and this one was not sent twice.
    pub fn by_earlier_attempt(&self) -> bool {
        self.by_earlier_attempt
    }

    /// The validation warnings of the envelope: it was sent, but something is
    /// probably not what was meant.
    pub fn warnings(&self) -> &[Problem] {
        &self.warnings
    }
}

impl Client {
    /// Validates `envelope` and, if validation finds no error, sends it, retrying
    /// what may be retried (see [`RetryPolicy`](super::RetryPolicy)) with the same
    /// referenceId every time.
    ///
    /// An envelope with validation errors (including an `expiryTime` already
    /// past, outside Amazon's now-window, `now + 5 min ..= now + 24 h`:
    /// [`Rule::NowWindow`](crate::Rule::NowWindow), or a body over
    /// [`MAX_BODY_BYTES`](crate::MAX_BODY_BYTES)) is not sent: [`SendError::Invalid`]. Warnings are returned in
    /// [`Accepted::warnings`]. A 401 or 403 gets one more attempt with a new
    /// token, unless the token in use already drew a 401/403 right after it was
    /// fetched: then the refusal is about the event (a Unicast user who has not
    /// subscribed, say), and asking for yet another token would not help. 400,
    /// 409 and other 4xx are never retried, except that a 409 after an attempt
    /// whose answer was lost means that attempt was delivered
    /// ([`Accepted::by_earlier_attempt`]).
    ///
    /// ```no_run
    /// # async fn run(client: proactive_core::client::Client, envelope: proactive_core::Envelope) {
    /// match client.send(&envelope).await {
    ///     Ok(accepted) => println!("accepted after {} attempts", accepted.attempts()),
    ///     Err(error) if error.is_retryable() => eprintln!("not now, try later: {error}"),
    ///     Err(error) => eprintln!("refused: {error}"),
    /// }
    /// # }
    /// ```
    pub async fn send(&self, envelope: &Envelope) -> Result<Accepted, SendError> {
        let span = info_span!(
            "proactive.send",
            reference_id = %envelope.reference_id,
            event = %envelope.event.name(),
            stage = %self.target.stage,
            region = %self.target.region,
            attempts = field::Empty,
            status = field::Empty,
        );
        async move {
            let mut report = envelope.validate_at(Utc::now());
            let body = if report.has_errors() { Vec::new() } else { envelope.to_vec() };
            if report.has_errors() || !report.check_body_size(body.len()) {
                let error = InvalidEnvelope::new(report);
                warn!(error = %error, "not sent");
                return Err(SendError::Invalid(error));
            }
            let warnings: Vec<Problem> = report.warnings().cloned().collect();
            let result = self.post(Bytes::from(body)).await;
            let span = tracing::Span::current();
            match &result {
                Ok(accepted) => {
                    span.record("attempts", accepted.attempts).record("status", accepted.status);
                    debug!(
                        status = accepted.status,
                        request_id = accepted.request_id.as_deref(),
                        attempts = accepted.attempts,
                        by_earlier_attempt = accepted.by_earlier_attempt,
                        "accepted"
                    );
                }
                Err(error) => {
                    span.record("attempts", error.attempts());
                    if let Some(status) = error.status() {
                        span.record("status", status);
                    }
                    warn!(error = %error, request_id = error.request_id(), attempts = error.attempts(), "not delivered");
                }
            }
            result.map(|accepted| Accepted { warnings, ..accepted })
        }
        .instrument(span)
        .await
    }

    /// POSTs `body` until it is accepted, refused, or the retry policy gives up.
    async fn post(&self, body: Bytes) -> Result<Accepted, SendError> {
        let shared = &*self.shared;
        let policy = &shared.retry;
        let started = Instant::now();
        let mut attempt = 0;
        // Whether a new token was already tried after a 401/403.
        let mut token_refreshed = false;
        // Whether an earlier attempt may have been delivered although its answer
        // was lost (a timeout, a dropped connection) or was a 5xx.
        let mut maybe_delivered = false;
        loop {
            attempt += 1;
            let token = shared.tokens.get().await.map_err(|mut error| {
                error.event_attempts = attempt - 1;
                SendError::Token(error)
            })?;
            let remaining = policy.max_elapsed().saturating_sub(started.elapsed());
            let timeout = shared.request_timeout.min(remaining).max(MIN_ATTEMPT_TIMEOUT);
            debug!(attempt, "POST");
            let sent = shared
                .http
                .post(self.target.events_url.clone())
                .header(CONTENT_TYPE, "application/json")
                .header(AUTHORIZATION, token.header.clone())
                .timeout(timeout)
                .body(body.clone())
                .send()
                .await;
            let (failure, retry_after) = match sent {
                Err(error) => {
                    let timed_out = error.is_timeout().then_some(timeout);
                    let connect = error.is_connect();
                    // Only a request that never connected cannot have been delivered.
                    maybe_delivered |= !connect;
                    debug!(attempt, timed_out = timed_out.is_some(), connect, "no answer");
                    (SendError::Dispatch(DispatchError::new(timed_out, connect, attempt, Box::new(error))), None)
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    let request_id = request_id(response.headers());
                    let retry_after = retry_after(response.headers());
                    let answer = read_body(response, MAX_ANSWER).await;
                    debug!(attempt, status, request_id = request_id.as_deref(), "answer");
                    let accepted = |by_earlier_attempt| Accepted {
                        status,
                        request_id: request_id.clone(),
                        attempts: attempt,
                        by_earlier_attempt,
                        warnings: Vec::new(),
                    };
                    let api_error = || ApiError::new(status, &answer, request_id.clone(), retry_after);
                    match status {
                        200..=299 => return Ok(accepted(false)),
                        409 if maybe_delivered => return Ok(accepted(true)),
                        401 | 403 if !token_refreshed && shared.tokens.refused(&token) => {
                            token_refreshed = true;
                            continue;
                        }
                        401 | 403 => {
                            if token_refreshed {
                                shared.tokens.refused_again(&token);
                            }
                            return Err(SendError::Api(api_error().with_attempts(attempt)));
                        }
                        429 => (SendError::Api(api_error().with_attempts(attempt)), retry_after),
                        500..=599 => {
                            maybe_delivered = true;
                            (SendError::Api(api_error().with_attempts(attempt)), retry_after)
                        }
                        400..=499 => return Err(SendError::Api(api_error().with_attempts(attempt))),
                        _ => return Err(SendError::Response(ResponseError::new(status, request_id, attempt))),
                    }
                }
            };
            match policy.next(attempt, started.elapsed(), retry_after) {
                Next::RetryAfter(delay) => {
                    info!(attempt, delay_ms = delay.as_millis() as u64, error = %failure, "retrying");
                    tokio::time::sleep(delay).await;
                }
                Next::GiveUp => return Err(failure),
            }
        }
    }
}

/// The `x-amzn-requestid` header.
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    let value = headers.get("x-amzn-requestid")?.to_str().ok()?;
    Some(super::error::truncate(value.to_owned(), 256))
}

/// The `Retry-After` header, as a wait from now.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    parse_retry_after(headers.get(RETRY_AFTER)?.to_str().ok()?, SystemTime::now())
}

/// Reads at most `limit` bytes of the body; a body that fails midway gives what
/// was read. Reading it to the end lets the connection be reused.
pub(crate) async fn read_body(mut response: reqwest::Response, limit: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = limit - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= limit {
            break;
        }
    }
    body
}
