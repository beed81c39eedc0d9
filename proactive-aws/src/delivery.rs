//! What both consumers do with one message: read it, send it, and decide.

use chrono::Utc;
use proactive_core::client::{Client, InvalidEnvelope, PreparedEnvelope, SendError};
use proactive_core::{Envelope, ReferenceId, Region};

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
        let client = match region {
            Some(region) if region != self.client.region() => self.client.with_region(region),
            _ => self.client.clone(),
        };
        let (reference_id, sent) = match self.prepare(message.body) {
            Ok(prepared) => (prepared.reference_id().clone(), client.send_prepared(&prepared).await),
            Err(Unprepared::Invalid(reference_id, invalid)) => (reference_id, Err(SendError::Invalid(invalid))),
            Err(Unprepared::Malformed(reason)) => {
                return Disposition::DeadLetter(Box::new(letter(message, "malformed", reason)));
            }
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
                record.reference_id = Some(reference_id.as_str().to_owned());
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

impl Delivery {
    /// The message's body, prepared to be sent. The common case costs one
    /// parse: a body that validates is sent as it is
    /// ([`PreparedEnvelope::from_bytes`]), or re-stamped with `restamp`. A body
    /// that does not is read again as an [`Envelope`], to tell a message that
    /// is no envelope at all (`malformed`) from an envelope that Amazon would
    /// refuse (`invalid`, with its referenceId).
    fn prepare(&self, body: &str) -> Result<PreparedEnvelope, Unprepared> {
        if !self.restamp
            && let Ok(prepared) = PreparedEnvelope::from_json(body)
        {
            return Ok(prepared);
        }
        let envelope = match Envelope::from_json(body) {
            Ok((envelope, _warnings)) => envelope,
            Err(report) => {
                let first = report.errors().next().map_or_else(|| "no envelope".to_owned(), ToString::to_string);
                return Err(Unprepared::Malformed(format!("the message is not a valid envelope: {first}")));
            }
        };
        let prepared =
            if self.restamp { PreparedEnvelope::restamped(&envelope) } else { PreparedEnvelope::new(&envelope) };
        prepared.map_err(|invalid| Unprepared::Invalid(envelope.reference_id, invalid))
    }
}

/// Why a message's body could not be prepared.
enum Unprepared {
    /// Not an envelope: why.
    Malformed(String),
    /// An envelope that may not be sent: its referenceId and its problems.
    Invalid(ReferenceId, InvalidEnvelope),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A delivery whose client would reach nothing: these messages are settled before any request.
    fn delivery(restamp: bool) -> Delivery {
        let client = Client::builder("client", "secret").base_url("http://127.0.0.1:9").build().unwrap();
        Delivery::new(client).restamp(restamp)
    }

    fn message(body: &str) -> Inbound<'_> {
        Inbound { message_id: "m-1", body, region: None, receive_count: 1 }
    }

    fn envelope(expiry: &str, alert_type: &str) -> String {
        format!(
            r#"{{"timestamp":"2020-01-01T00:00:00Z","referenceId":"ref-1","expiryTime":"{expiry}","event":{{"name":"AMAZON.WeatherAlert.Activated","payload":{{"weatherAlert":{{"alertType":"{alert_type}"}}}}}},"localizedAttributes":[],"relevantAudience":{{"type":"Multicast","payload":{{}}}}}}"#
        )
    }

    fn dead_letter(disposition: Disposition) -> DeadLetter {
        match disposition {
            Disposition::DeadLetter(letter) => *letter,
            other => panic!("not a dead letter: {other:?}"),
        }
    }

    #[tokio::test]
    async fn an_envelope_expired_while_queued_is_invalid_and_keeps_its_reference_id() {
        // Valid when written, expired by now: refused at the moment of sending, before any request.
        let body = envelope("2020-01-01T01:00:00Z", "TORNADO");
        let letter = dead_letter(delivery(false).decide(&message(&body)).await);
        assert_eq!((letter.kind.as_str(), letter.reference_id.as_deref()), ("invalid", Some("ref-1")));
        assert!(letter.reason.contains("expiryTime"), "{}", letter.reason);
    }

    #[tokio::test]
    async fn an_envelope_that_does_not_read_is_malformed_with_the_path() {
        for restamp in [false, true] {
            let body = envelope("2020-01-01T01:00:00Z", "TORNADOES");
            let letter = dead_letter(delivery(restamp).decide(&message(&body)).await);
            assert_eq!(letter.kind, "malformed", "restamp: {restamp}");
            assert!(letter.reason.contains("event.payload.weatherAlert.alertType"), "{}", letter.reason);
        }
    }

    #[tokio::test]
    async fn a_body_that_is_no_envelope_is_malformed() {
        for restamp in [false, true] {
            let letter = dead_letter(delivery(restamp).decide(&message("{\"timestamp\": oops")).await);
            assert_eq!(letter.kind, "malformed");
            assert!(letter.reason.starts_with("the message is not a valid envelope: "), "{}", letter.reason);
            assert_eq!((letter.reference_id, letter.body.as_str()), (None, "{\"timestamp\": oops"));
        }
    }
}
