//! Sending one envelope: validate, POST, retry what may be retried, and say what
//! happened.

use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::Utc;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use tracing::{Instrument, debug, field, info, info_span, warn};

use super::Client;
use super::error::{ApiError, DispatchError, InvalidEnvelope, ResponseError, SendError};
use super::http::{MAX_ANSWER, attempt_timeout, read_body, request_id, retry_after, retryable_status};
use super::retry::Next;
use super::token::Token;
use crate::{Envelope, Problem};

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
        let started = Instant::now();
        let mut attempts = Attempts::default();
        loop {
            attempts.count += 1;
            let (failure, retry_after) = match self.attempt(&body, started, &mut attempts).await {
                Step::Accepted(accepted) => return Ok(accepted),
                Step::NewToken => continue,
                Step::Final(error) => return Err(error),
                Step::RetryAfter(failure, retry_after) => (failure, retry_after),
            };
            match self.shared.retry.next(attempts.count, started.elapsed(), retry_after) {
                Next::RetryAfter(delay) => {
                    let attempt = attempts.count;
                    info!(attempt, delay_ms = delay.as_millis() as u64, error = %failure, "retrying");
                    tokio::time::sleep(delay).await;
                }
                Next::GiveUp => return Err(failure),
            }
        }
    }

    /// One POST of `body` (the `attempts.count`th) and what to do next.
    async fn attempt(&self, body: &Bytes, started: Instant, attempts: &mut Attempts) -> Step {
        let shared = &*self.shared;
        let attempt = attempts.count;
        let token = match shared.tokens.get().await {
            Ok(token) => token,
            Err(mut error) => {
                error.event_attempts = attempt - 1;
                return Step::Final(SendError::Token(error));
            }
        };
        let timeout = attempt_timeout(shared.request_timeout, &shared.retry, started.elapsed());
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
        match sent {
            Ok(response) => self.answer(response, &token, attempts).await,
            Err(error) => {
                let timed_out = error.is_timeout().then_some(timeout);
                let connect = error.is_connect();
                // Only a request that never connected cannot have been delivered.
                attempts.maybe_delivered |= !connect;
                debug!(attempt, timed_out = timed_out.is_some(), connect, "no answer");
                let error = DispatchError::new(timed_out, connect, attempt, Box::new(error));
                Step::RetryAfter(SendError::Dispatch(error), None)
            }
        }
    }

    /// What the answer to an attempt means: accepted, refused, or worth another
    /// attempt (with a new token, or after a wait).
    async fn answer(&self, response: reqwest::Response, token: &Token, attempts: &mut Attempts) -> Step {
        let tokens = &self.shared.tokens;
        let attempt = attempts.count;
        let status = response.status().as_u16();
        let request_id = request_id(response.headers());
        let retry_after = retry_after(response.headers());
        let answer = read_body(response, MAX_ANSWER).await;
        debug!(attempt, status, request_id = request_id.as_deref(), "answer");
        let accepted = |by_earlier_attempt| {
            let request_id = request_id.clone();
            Step::Accepted(Accepted { status, request_id, attempts: attempt, by_earlier_attempt, warnings: Vec::new() })
        };
        let api_error =
            || SendError::Api(ApiError::new(status, &answer, request_id.clone(), retry_after).with_attempts(attempt));
        match status {
            200..=299 => accepted(false),
            409 if attempts.maybe_delivered => accepted(true),
            401 | 403 if !attempts.token_refreshed && tokens.refused(token) => {
                attempts.token_refreshed = true;
                Step::NewToken
            }
            401 | 403 => {
                if attempts.token_refreshed {
                    tokens.refused_again(token);
                }
                Step::Final(api_error())
            }
            status if retryable_status(status) => {
                // A 5xx may come after the event was delivered.
                attempts.maybe_delivered |= status != 429;
                Step::RetryAfter(api_error(), retry_after)
            }
            400..=499 => Step::Final(api_error()),
            _ => Step::Final(SendError::Response(ResponseError::new(status, request_id, attempt))),
        }
    }
}

/// What the attempts at sending one body have found so far.
#[derive(Debug, Default)]
struct Attempts {
    /// How many attempts were made, the current one included.
    count: u32,
    /// Whether a new token was already tried after a 401/403.
    token_refreshed: bool,
    /// Whether an earlier attempt may have been delivered although its answer
    /// was lost (a timeout, a dropped connection) or was a 5xx.
    maybe_delivered: bool,
}

/// What to do after one attempt.
enum Step {
    /// Amazon accepted the event: done.
    Accepted(Accepted),
    /// The token was refused: try again at once with a new one.
    NewToken,
    /// Worth another attempt if the retry policy allows, after at least the
    /// `Retry-After` wait; otherwise this is the error.
    RetryAfter(SendError, Option<Duration>),
    /// Refused for good, or no token: no more attempts.
    Final(SendError),
}
