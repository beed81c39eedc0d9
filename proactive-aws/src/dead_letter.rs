//! Where refused events go: a record with the reason, and the sinks that keep it.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use aws_sdk_sqs::types::QueueAttributeName;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An event that will not be delivered, with why: what a consumer writes to the
/// dead-letter sink before it deletes the message from the queue.
///
/// Serialized as one JSON object (the body of a dead-letter queue message).
/// `body` is the original message body, byte for byte, so the event can be
/// looked at, fixed and enqueued again; unless the record had to be cut to fit
/// the dead-letter queue ([`cut_to`](Self::cut_to)): then `body` holds the
/// start of it and `body_bytes` says how long it was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeadLetter {
    /// What kind of refusal, in snake case: `invalid` (validation refused the
    /// envelope, for instance it expired while queued), `malformed` (the
    /// message is not an envelope), `gave_up` (failed on every receive), or
    /// Amazon's refusal as the client classifies it (`not_subscribed`,
    /// `invalid_request`, ...: [`ApiErrorKind::as_str`](proactive_core::client::ApiErrorKind::as_str)).
    pub kind: String,
    /// The whole reason, as the error displays it.
    pub reason: String,
    /// Amazon's HTTP status, when Amazon answered.
    pub status: Option<u16>,
    /// Amazon's `message`, verbatim, when its answer had one.
    pub amazon_message: Option<String>,
    /// Amazon's `code`, when its answer had one.
    pub amazon_code: Option<String>,
    /// Amazon's `x-amzn-requestid`, for support requests.
    pub amazon_request_id: Option<String>,
    /// The envelope's referenceId, when the body could be read.
    pub reference_id: Option<String>,
    /// The region it was sent to (`NA`, `EU`, `FE`).
    pub region: Option<String>,
    /// HTTP requests made for it during the last receive.
    pub attempts: u32,
    /// How many times the queue delivered the message.
    pub receive_count: u32,
    /// The queue's message id.
    pub message_id: String,
    /// When it was given up.
    pub failed_at: DateTime<Utc>,
    /// The original message body (its start, when `body_bytes` is set).
    pub body: String,
    /// Set when the record was cut to fit the dead-letter queue: the original
    /// body's length in bytes. `kind`, `status` and `reference_id` are never cut.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_bytes: Option<usize>,
}

/// What a cut keeps of a long `reason` or `amazon_message`, in bytes.
const KEPT_TEXT: usize = 512;

impl DeadLetter {
    /// The record as JSON in at most `limit` bytes: whole when it fits;
    /// otherwise `body` is cut (and `body_bytes` set), then `reason` and
    /// `amazon_message` are cut to their first 512 bytes. `kind`, `status` and
    /// `reference_id` are always kept. `None` when even that does not fit.
    ///
    /// ```
    /// use proactive_aws::DeadLetter;
    ///
    /// let mut letter: DeadLetter = serde_json::from_str(r#"{"kind":"not_subscribed","reason":"403",
    ///     "status":403,"amazon_message":null,"amazon_code":null,"amazon_request_id":null,
    ///     "reference_id":"order-1","region":"NA","attempts":1,"receive_count":1,"message_id":"m",
    ///     "failed_at":"2026-12-05T00:00:00Z","body":""}"#).unwrap();
    /// letter.body = "x".repeat(5000);
    /// let json = letter.cut_to(1024).unwrap();
    /// assert!(json.len() <= 1024);
    /// let cut: DeadLetter = serde_json::from_str(&json).unwrap();
    /// assert_eq!((cut.kind.as_str(), cut.status, cut.reference_id.as_deref()), ("not_subscribed", Some(403), Some("order-1")));
    /// assert_eq!(cut.body_bytes, Some(5000));
    /// ```
    pub fn cut_to(&self, limit: usize) -> Option<String> {
        let json = serde_json::to_string(self).ok()?;
        if json.len() <= limit {
            return Some(json);
        }
        let mut cut = self.clone();
        cut.body_bytes = Some(self.body.len());
        cut.reason = prefix(&cut.reason, KEPT_TEXT.max(limit / 4)).to_owned();
        cut.amazon_message = cut.amazon_message.as_deref().map(|m| prefix(m, KEPT_TEXT.max(limit / 4)).to_owned());
        // Each round removes at least the excess from the body: escaping only makes its JSON longer.
        for _ in 0..8 {
            let json = serde_json::to_string(&cut).ok()?;
            if json.len() <= limit {
                return Some(json);
            }
            let excess = json.len() - limit;
            if cut.body.is_empty() {
                cut.reason = prefix(&cut.reason, KEPT_TEXT.min(cut.reason.len().saturating_sub(excess))).to_owned();
                cut.amazon_message = None;
                continue;
            }
            let keep = cut.body.len().saturating_sub(excess);
            cut.body = prefix(&cut.body, keep).to_owned();
        }
        None
    }
}

/// The longest start of `text` of at most `bytes` bytes that ends on a character boundary.
fn prefix(text: &str, bytes: usize) -> &str {
    let mut end = bytes.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A dead-letter sink could not keep a record; the message stays on the queue.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct DeadLetterError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl DeadLetterError {
    /// An error with a message and the cause; for sink implementations.
    pub fn new(message: impl Into<String>, source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        Self { message: message.into(), source }
    }
}

/// Where dead letters are kept. A consumer deletes a refused message from the
/// queue only after [`put`](Self::put) succeeded, so nothing is lost when the
/// sink fails: the message comes back, and is refused and recorded again.
pub trait DeadLetterSink: Send + Sync {
    /// Keeps `letter` durably.
    fn put(&self, letter: &DeadLetter) -> impl Future<Output = Result<(), DeadLetterError>> + Send;

    /// Whether the sink can take records: the [`Worker`](crate::Worker)
    /// calls it once before it receives anything and stops with an error if
    /// it fails (a dead-letter queue that does not exist). The default accepts.
    fn check(&self) -> impl Future<Output = Result<(), DeadLetterError>> + Send {
        std::future::ready(Ok(()))
    }
}

/// A dead-letter queue: each record is one SQS message, its body the record's
/// JSON, cut to fit the queue's `MaximumMessageSize` when it is longer
/// ([`DeadLetter::cut_to`]).
#[derive(Clone, Debug)]
pub struct SqsDeadLetters {
    client: aws_sdk_sqs::Client,
    queue_url: Arc<str>,
    /// The queue's `MaximumMessageSize`, read by [`check`](DeadLetterSink::check).
    max_message_bytes: Arc<AtomicUsize>,
}

impl SqsDeadLetters {
    /// Records go to the queue at `queue_url` (messages up to
    /// [`MAX_MESSAGE_BYTES`](crate::MAX_MESSAGE_BYTES) until
    /// [`check`](DeadLetterSink::check) reads the queue's own limit).
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        let max_message_bytes = Arc::new(AtomicUsize::new(crate::MAX_MESSAGE_BYTES));
        Self { client, queue_url: queue_url.into().into(), max_message_bytes }
    }

    /// The largest record sent: the queue's `MaximumMessageSize`.
    pub fn max_message_bytes(&self) -> usize {
        self.max_message_bytes.load(Ordering::Relaxed)
    }
}

impl DeadLetterSink for SqsDeadLetters {
    async fn put(&self, letter: &DeadLetter) -> Result<(), DeadLetterError> {
        let limit = self.max_message_bytes();
        let body = letter.cut_to(limit).ok_or_else(|| {
            DeadLetterError::new(format!("the dead letter does not fit in {limit} bytes, even cut"), None)
        })?;
        self.client.send_message().queue_url(&*self.queue_url).message_body(body).send().await.map_err(|e| {
            let e = aws_sdk_sqs::error::DisplayErrorContext(e);
            DeadLetterError::new(format!("could not send a dead letter to `{}`: {e}", self.queue_url), None)
        })?;
        Ok(())
    }

    /// Reads the queue's `MaximumMessageSize` (GetQueueAttributes): an error
    /// when the queue does not exist or cannot be reached.
    async fn check(&self) -> Result<(), DeadLetterError> {
        let output = self
            .client
            .get_queue_attributes()
            .queue_url(&*self.queue_url)
            .attribute_names(QueueAttributeName::MaximumMessageSize)
            .send()
            .await
            .map_err(|e| {
                let e = aws_sdk_sqs::error::DisplayErrorContext(e);
                DeadLetterError::new(
                    format!(
                        "the dead-letter queue `{}` cannot be used: {e}; create it, or give the URL of one that exists",
                        self.queue_url
                    ),
                    None,
                )
            })?;
        let limit = output
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::MaximumMessageSize))
            .and_then(|v| v.parse::<usize>().ok());
        if let Some(limit) = limit {
            self.max_message_bytes.store(limit, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// Dead letters kept in memory (for tests and for handlers that pass them on
/// themselves). Clones share the records.
#[derive(Clone, Debug, Default)]
pub struct MemoryDeadLetters {
    letters: Arc<Mutex<Vec<DeadLetter>>>,
}

impl MemoryDeadLetters {
    /// No records yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every record kept so far, in order.
    pub fn letters(&self) -> Vec<DeadLetter> {
        self.letters.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl DeadLetterSink for MemoryDeadLetters {
    async fn put(&self, letter: &DeadLetter) -> Result<(), DeadLetterError> {
        self.letters.lock().unwrap_or_else(PoisonError::into_inner).push(letter.clone());
        Ok(())
    }
}
