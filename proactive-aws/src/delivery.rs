//! What both consumers do with one message: read it, send it, and decide.

use chrono::Utc;
use proactive_core::client::{Client, PreparedEnvelope, SendError};
use proactive_core::{Envelope, Region};

use crate::dead_letter::DeadLetter;

/// The default of [`Delivery::max_receives`].
const DEFAULT_MAX_RECEIVES: u32 = 5;

/// Sends queued envelopes with one [`Client`] and decides what becomes of each
/// message: the rules shared by the [`Worker`](crate::Worker) and the
/// [`SqsHandler`](crate::SqsHandler).
///
/// - accepted, or answered 409 (this referenceId was already delivered, by an
///   earlier receive of the same message or an earlier enqueue of the same
///   event): **delivered**, delete the message;
/// - refused for good (validation, a 4xx other than 409, an answer the API
///   never gives), or not a readable envelope: **dead letter**, then delete;
/// - failed in a way that may pass (429, 5xx, timeouts, the token endpoint):
///   **retry**, leave the message on the queue to be received again; after
///   [`max_receives`](Self::max_receives) receives, a dead letter of kind
///   `gave_up` instead. Token failures are always retried (wrong credentials
///   are fixed by an operator, not by dead-lettering the whole queue): let the
///   queue's redrive policy bound them.
#[derive(Clone, Debug)]
pub struct Delivery {
    client: Client,
    max_receives: u32,
    restamp: bool,
}

/// What to do with one message.
#[derive(Debug)]
#[non_exhaustive]
pub enum Disposition {
    /// Amazon has the event: delete the message.
    Delivered {
        /// Whether Amazon answered 409: the referenceId was already delivered.
        duplicate: bool,
        /// Retries made in this receive.
        retries: u32,
    },
    /// It will never be delivered: keep the record, then delete the message.
    DeadLetter(Box<DeadLetter>),
    /// Not now: leave the message on the queue to be received again.
    Retry(SendError),
}

/// One message as both consumers receive it.
pub(crate) struct Inbound<'a> {
    pub(crate) message_id: &'a str,
    pub(crate) body: &'a str,
    pub(crate) region: Option<&'a str>,
    pub(crate) receive_count: u32,
}

impl Delivery {
    /// Sends with `client` (its region is the default for messages without a
    /// region attribute).
    pub fn new(client: Client) -> Self {
        Self { client, max_receives: DEFAULT_MAX_RECEIVES, restamp: false }
    }

    /// After how many receives a message that still fails in a retryable way is
    /// dead-lettered (default 5; at least 1). Keep it below the queue's redrive
    /// `maxReceiveCount`, so that the reason is recorded.
    #[must_use]
    pub fn max_receives(mut self, receives: u32) -> Self {
        self.max_receives = receives.max(1);
        self
    }

    /// Re-stamps every envelope at each attempt, retries included
    /// ([`PreparedEnvelope::restamped`]): timestamp = now, expiryTime = now +
    /// its own window, clamped to 6 min ..= 23 h; the referenceId is kept. For
    /// queues whose events may wait longer than their window. Off by default:
    /// an event that expired while queued is then dead-lettered as `invalid`.
    #[must_use]
    pub fn restamp(mut self, restamp: bool) -> Self {
        self.restamp = restamp;
        self
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Reads, sends and decides one message, and records it
    /// ([`observe`](crate::observe)).
    pub(crate) async fn deliver(&self, message: &Inbound<'_>) -> Disposition {
        let started = std::time::Instant::now();
        let disposition = self.decide(message).await;
        let (name, kind, attempts) = match &disposition {
            Disposition::Delivered { duplicate, retries } => {
                ("delivered", if *duplicate { "duplicate" } else { "accepted" }, retries + 1)
            }
            Disposition::DeadLetter(letter) => ("dead_letter", letter.kind.as_str(), letter.attempts),
            Disposition::Retry(error @ SendError::Token(_)) => ("retry", "token", error.attempts()),
            Disposition::Retry(error) => ("retry", kind(error), error.attempts()),
        };
        crate::observe::delivery(name, kind, attempts, started.elapsed(), self.client.token_requests());
        disposition
    }

    /// Reads, sends and decides one message.
    async fn decide(&self, message: &Inbound<'_>) -> Disposition {
        let region = match message.region.map(str::parse::<Region>).transpose() {
            Ok(region) => region,
            Err(error) => return Disposition::DeadLetter(Box::new(letter(message, "malformed", error.to_string()))),
        };
        let envelope = match Envelope::from_json(message.body) {
            Ok((envelope, _warnings)) => envelope,
            Err(report) => {
                let first = report.errors().next().map_or_else(|| "no envelope".to_owned(), ToString::to_string);
                let reason = format!("the message is not a valid envelope: {first}");
                return Disposition::DeadLetter(Box::new(letter(message, "malformed", reason)));
            }
        };
        let client = match region {
            Some(region) if region != self.client.region() => self.client.with_region(region),
            _ => self.client.clone(),
        };
        let sent = if self.restamp {
            match PreparedEnvelope::restamped(&envelope) {
                Ok(prepared) => client.send_prepared(&prepared).await,
                Err(invalid) => Err(SendError::Invalid(invalid)),
            }
        } else {
            client.send(&envelope).await
        };
        match sent {
            Ok(accepted) => {
                Disposition::Delivered { duplicate: accepted.by_earlier_attempt(), retries: accepted.retries() }
            }
            Err(SendError::Api(error)) if error.status() == 409 => {
                Disposition::Delivered { duplicate: true, retries: error.attempts().saturating_sub(1) }
            }
            Err(error @ SendError::Token(_)) => Disposition::Retry(error),
            Err(error) if error.is_retryable() && message.receive_count < self.max_receives => {
                Disposition::Retry(error)
            }
            Err(error) => {
                let kind = if error.is_retryable() { "gave_up" } else { kind(&error) };
                let mut record = letter(message, kind, error.to_string());
                if kind == "gave_up" {
                    record.reason =
                        format!("failed on each of {} receives, the last time: {error}", message.receive_count);
                }
                record.reference_id = Some(envelope.reference_id.as_str().to_owned());
                record.region = Some(client.region().code().to_owned());
                record.status = error.status();
                record.attempts = error.attempts();
                record.amazon_request_id = error.request_id().map(str::to_owned);
                if let SendError::Api(api) = &error {
                    record.amazon_message = api.message().map(str::to_owned);
                    record.amazon_code = api.code().map(str::to_owned);
                }
                Disposition::DeadLetter(Box::new(record))
            }
        }
    }
}

/// The kind of a final refusal, in snake case: Amazon's refusals use the
/// client's classification ([`ApiErrorKind::as_str`](proactive_core::client::ApiErrorKind::as_str)).
fn kind(error: &SendError) -> &'static str {
    match error {
        SendError::Invalid(_) => "invalid",
        SendError::Api(api) => api.kind().as_str(),
        SendError::Response(_) => "unexpected_answer",
        _ => "gave_up",
    }
}

fn letter(message: &Inbound<'_>, kind: &str, reason: String) -> DeadLetter {
    DeadLetter {
        kind: kind.to_owned(),
        reason,
        status: None,
        amazon_message: None,
        amazon_code: None,
        amazon_request_id: None,
        reference_id: None,
        region: message.region.map(str::to_owned),
        attempts: 0,
        receive_count: message.receive_count,
        message_id: message.message_id.to_owned(),
        failed_at: Utc::now(),
        body: message.body.to_owned(),
        body_bytes: None,
    }
}
