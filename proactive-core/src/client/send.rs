//! Sending one envelope: validate, POST, retry what may be retried, and say what
//! happened.

use std::time::{Duration, Instant};

use chrono::Utc;
use tracing::{Instrument, Span, debug, field, info, info_span, warn};

use super::error::{ApiError, DispatchError, ResponseError, SendError};
use super::http::{attempt_timeout, request_id, retry_after, retryable_status};
use super::prepared::PreparedEnvelope;
use super::retry::Next;
use super::token::Token;
use super::transport::Answer;
use super::{Client, Target};
use crate::schemas::EventName;
use crate::{Envelope, Problem, ReferenceId};

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
        let span = send_span(&envelope.reference_id, envelope.event.name(), &self.target);
        async move {
            let report = envelope.validate_at(Utc::now());
            match PreparedEnvelope::from_report(envelope, report) {
                Ok(prepared) => self.deliver(&prepared).await,
                Err(error) => {
                    warn!(error = %error, "not sent");
                    Err(SendError::Invalid(error))
                }
            }
        }
        .instrument(span)
        .await
    }

    /// Sends an envelope validated and serialized ahead (see
    /// [`PreparedEnvelope`]) as [`send`](Self::send) sends an envelope: what
    /// is left to check, the now-window at this moment, is checked first, and
    /// an `expiryTime` past or outside it is [`SendError::Invalid`], as there.
    /// A [`PreparedEnvelope::restamped`] envelope is instead re-stamped before
    /// each attempt, retries included.
    ///
    /// ```no_run
    /// use proactive_core::client::{Client, PreparedEnvelope};
    /// # async fn run(client: Client, envelope: proactive_core::Envelope) -> Result<(), Box<dyn std::error::Error>> {
    /// // Prepared where the envelope is made (another thread, say), sent here.
    /// let prepared = PreparedEnvelope::new(&envelope)?;
    /// let accepted = client.send_prepared(&prepared).await?;
    /// assert_eq!(accepted.attempts(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send_prepared(&self, prepared: &PreparedEnvelope) -> Result<Accepted, SendError> {
        let span = send_span(prepared.reference_id(), prepared.event(), &self.target);
        async move {
            if let Some(error) = prepared.refusal_at(Utc::now()) {
                warn!(error = %error, "not sent");
                return Err(SendError::Invalid(error));
            }
            self.deliver(prepared).await
        }
        .instrument(span)
        .await
    }

    /// POSTs a valid envelope and records the outcome in the current span.
    async fn deliver(&self, prepared: &PreparedEnvelope) -> Result<Accepted, SendError> {
        let warnings = prepared.warnings().to_vec();
        let result = self.post(prepared).await;
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

    /// POSTs `prepared` until it is accepted, refused, or the retry policy
    /// gives up; each attempt takes its body from it (re-stamped, if it is).
    async fn post(&self, prepared: &PreparedEnvelope) -> Result<Accepted, SendError> {
        let started = Instant::now();
        let mut attempts = Attempts::default();
        loop {
            attempts.count += 1;
            let (failure, retry_after) = match self.attempt(prepared, started, &mut attempts).await {
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

    /// One POST of `prepared` (the `attempts.count`th) and what to do next.
    async fn attempt(&self, prepared: &PreparedEnvelope, started: Instant, attempts: &mut Attempts) -> Step {
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
        let target = &*self.target;
        let events = (&target.events_uri, &target.events_host);
        let body = prepared.attempt_body();
        let sent = shared.transport.post(events, target.proxied, &token.header, body, timeout).await;
        match sent {
            Ok(answer) => self.answer(answer, &token, attempts),
            Err(failure) => {
                let timed_out = failure.timed_out.then_some(timeout);
                // Only a request that never connected cannot have been delivered.
                attempts.maybe_delivered |= !failure.connect;
                debug!(attempt, timed_out = timed_out.is_some(), connect = failure.connect, "no answer");
                let error = DispatchError::new(timed_out, failure.connect, attempt, failure.source);
                Step::RetryAfter(SendError::Dispatch(error), None)
            }
        }
    }

    /// What the answer to an attempt means: accepted, refused, or worth another
    /// attempt (with a new token, or after a wait).
    fn answer(&self, answer: Answer, token: &Token, attempts: &mut Attempts) -> Step {
        let tokens = &self.shared.tokens;
        let attempt = attempts.count;
        let Answer { status, headers, body: answer } = answer;
        let request_id = request_id(&headers);
        let retry_after = retry_after(&headers);
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

/// The span of one send: `proactive.send`, with what identifies the event and where it goes.
fn send_span(reference_id: &ReferenceId, event: EventName, target: &Target) -> Span {
    info_span!(
        "proactive.send",
        reference_id = %reference_id,
        event = %event,
        stage = %target.stage,
        region = %target.region,
        attempts = field::Empty,
        status = field::Empty,
    )
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
