//! Where refused events go: a record with the reason, and the sinks that keep it.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An event that will not be delivered, with why: what a consumer writes to the
/// dead-letter sink before it deletes the message from the queue.
///
/// Serialized as one JSON object (the body of a dead-letter queue message).
/// `body` is the original message body, byte for byte, so the event can be
/// looked at, fixed and enqueued again.
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
    /// The original message body.
    pub body: String,
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
}

/// A dead-letter queue: each record is one SQS message, its body the record's
/// JSON.
#[derive(Clone, Debug)]
pub struct SqsDeadLetters {
    client: aws_sdk_sqs::Client,
    queue_url: Arc<str>,
}

impl SqsDeadLetters {
    /// Records go to the queue at `queue_url`.
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self { client, queue_url: queue_url.into().into() }
    }
}

impl DeadLetterSink for SqsDeadLetters {
    async fn put(&self, letter: &DeadLetter) -> Result<(), DeadLetterError> {
        let body = serde_json::to_string(letter)
            .map_err(|e| DeadLetterError::new("could not write a dead letter as JSON", Some(Box::new(e))))?;
        self.client.send_message().queue_url(&*self.queue_url).message_body(body).send().await.map_err(|e| {
            DeadLetterError::new(format!("could not send a dead letter to `{}`", self.queue_url), Some(Box::new(e)))
        })?;
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
