//! The producer: validated envelopes onto an SQS queue, in batches of 10.

use std::sync::Arc;

use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};
use chrono::Utc;
use proactive_core::{Envelope, Region, Report};

use crate::message::{self, MAX_MESSAGE_BYTES, REGION_ATTRIBUTE};

/// SQS's limit on the messages of one batch.
const BATCH: usize = 10;
/// How many times entries that SQS failed on its side are sent again.
const ENTRY_RETRIES: u32 = 3;

/// Puts envelopes on an SQS queue for the [`Worker`](crate::Worker) or the
/// [`SqsHandler`](crate::SqsHandler): each message's body is the envelope's
/// JSON exactly as Amazon receives it, and its [`REGION_ATTRIBUTE`] names the
/// region to send it to.
///
/// Every envelope is validated first (at the current time, as the client will
/// validate it); one with errors is refused, not enqueued. So is one larger
/// than [`max_message_bytes`](Self::max_message_bytes). Messages go in batches
/// of up to 10 that also respect the size limit.
///
/// Give envelopes a [`stable_reference_id`](crate::stable_reference_id): a
/// producer that crashes and enqueues the same events again then causes no
/// double delivery.
///
/// ```no_run
/// # async fn run(envelopes: Vec<proactive_core::Envelope>) -> Result<(), Box<dyn std::error::Error>> {
/// use proactive_aws::{SqsProducer, aws_sdk_sqs};
/// use proactive_core::Region;
///
/// let config = proactive_aws::sdk_config(None).await;
/// let producer = SqsProducer::new(aws_sdk_sqs::Client::new(&config), "https://sqs.eu-west-1.amazonaws.com/123456789012/proactive");
/// let report = producer.enqueue(envelopes.into_iter().map(|envelope| (envelope, Region::Europe))).await?;
/// for refused in &report.refused {
///     eprintln!("envelope {} not enqueued: {}", refused.index, refused.reason);
/// }
/// println!("{} enqueued", report.enqueued);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct SqsProducer {
    client: aws_sdk_sqs::Client,
    queue_url: Arc<str>,
    max_message_bytes: usize,
}

/// What [`SqsProducer::enqueue`] did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct EnqueueReport {
    /// How many envelopes are on the queue.
    pub enqueued: usize,
    /// The envelopes that are not, each with why.
    pub refused: Vec<Refused>,
}

/// An envelope the producer did not enqueue.
#[derive(Debug)]
#[non_exhaustive]
pub struct Refused {
    /// Its position in the input, from 0.
    pub index: usize,
    /// Why.
    pub reason: RefusedReason,
}

/// Why an envelope was not enqueued.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RefusedReason {
    /// Validation found errors; the report has every problem.
    #[error("the envelope is invalid: {}", first_error(.0))]
    Invalid(Report),
    /// The message would be over the size limit.
    #[error("the message would be {bytes} bytes, over the queue's limit of {limit}")]
    TooLarge {
        /// The message's size, attributes included.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// Its `expiryTime` is outside Amazon's window from now (5 minutes to 24
    /// hours ahead): Amazon would refuse it. Re-stamp the template.
    #[error("its expiryTime {expiry_time} is not between 5 minutes and 24 hours from now; Amazon would refuse it")]
    Window {
        /// The envelope's `expiryTime`.
        expiry_time: chrono::DateTime<Utc>,
    },
    /// SQS refused the entry.
    #[error("SQS refused the message: {code}: {message}")]
    Sqs {
        /// SQS's error code.
        code: String,
        /// SQS's message.
        message: String,
    },
}

fn first_error(report: &Report) -> String {
    report.errors().next().map_or_else(|| "no error".to_owned(), ToString::to_string)
}

/// The queue could not be reached; envelopes before `enqueued` are on it.
#[derive(Debug, thiserror::Error)]
#[error("could not send messages to `{queue_url}` ({enqueued} enqueued before the failure)")]
pub struct EnqueueError {
    queue_url: String,
    /// How many envelopes were enqueued before the failure; whether the failed
    /// batch was is unknown, so enqueue from the failed batch on again (stable
    /// referenceIds make that harmless).
    pub enqueued: usize,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl SqsProducer {
    /// A producer for the queue at `queue_url`.
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self { client, queue_url: queue_url.into().into(), max_message_bytes: MAX_MESSAGE_BYTES }
    }

    /// Sets the largest message (and batch) in bytes, for a queue whose
    /// `MaximumMessageSize` differs from [`MAX_MESSAGE_BYTES`].
    #[must_use]
    pub fn max_message_bytes(mut self, bytes: usize) -> Self {
        self.max_message_bytes = bytes;
        self
    }

    /// The queue's URL.
    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    /// Validates and enqueues each (envelope, region), in batches. Refusals are
    /// in the report; `Err` only when the queue could not be reached.
    pub async fn enqueue(
        &self,
        envelopes: impl IntoIterator<Item = (Envelope, Region)>,
    ) -> Result<EnqueueReport, EnqueueError> {
        let mut report = EnqueueReport::default();
        let mut batch: Vec<(usize, String, Region)> = Vec::with_capacity(BATCH);
        let mut batch_bytes = 0;
        for (index, (envelope, region)) in envelopes.into_iter().enumerate() {
            let validation = envelope.validate_at(Utc::now());
            if validation.has_errors() {
                report.refused.push(Refused { index, reason: RefusedReason::Invalid(validation) });
                continue;
            }
            let body = message::encode(&envelope);
            let bytes = message::size(&body, region);
            if bytes > self.max_message_bytes {
                let limit = self.max_message_bytes;
                report.refused.push(Refused { index, reason: RefusedReason::TooLarge { bytes, limit } });
                continue;
            }
            if batch.len() == BATCH || batch_bytes + bytes > self.max_message_bytes {
                self.send_batch(std::mem::take(&mut batch), &mut report).await?;
                batch_bytes = 0;
            }
            batch_bytes += bytes;
            batch.push((index, body, region));
        }
        if !batch.is_empty() {
            self.send_batch(batch, &mut report).await?;
        }
        Ok(report)
    }

    /// The largest message (and batch), in bytes.
    pub(crate) fn max_bytes(&self) -> usize {
        self.max_message_bytes
    }

    /// `bodies` cut into batches of at most 10 messages within the size limit.
    pub(crate) fn batches(&self, bodies: Vec<(usize, String, Region)>) -> Vec<Vec<(usize, String, Region)>> {
        let mut batches = Vec::with_capacity(bodies.len().div_ceil(BATCH));
        let mut batch: Vec<(usize, String, Region)> = Vec::with_capacity(BATCH);
        let mut batch_bytes = 0;
        for (index, body, region) in bodies {
            let bytes = message::size(&body, region);
            if batch.len() == BATCH || batch_bytes + bytes > self.max_message_bytes {
                batches.push(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
                batch_bytes = 0;
            }
            batch_bytes += bytes;
            batch.push((index, body, region));
        }
        if !batch.is_empty() {
            batches.push(batch);
        }
        batches
    }

    /// Sends one batch; entries SQS failed on its side are sent again.
    pub(crate) async fn send_batch(
        &self,
        batch: Vec<(usize, String, Region)>,
        report: &mut EnqueueReport,
    ) -> Result<(), EnqueueError> {
        let mut pending = batch;
        for round in 0..=ENTRY_RETRIES {
            let entries = pending
                .iter()
                .enumerate()
                .map(|(slot, (_, body, region))| entry(slot, body, *region))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| self.error(report.enqueued, e))?;
            let output = self
                .client
                .send_message_batch()
                .queue_url(&*self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| self.error(report.enqueued, e))?;
            report.enqueued += output.successful().len();
            let mut again = Vec::new();
            for failed in output.failed() {
                let Some(item) = failed.id().parse::<usize>().ok().and_then(|slot| pending.get(slot)) else { continue };
                if failed.sender_fault() || round == ENTRY_RETRIES {
                    let reason = RefusedReason::Sqs {
                        code: failed.code().to_owned(),
                        message: failed.message().unwrap_or_default().to_owned(),
                    };
                    report.refused.push(Refused { index: item.0, reason });
                } else {
                    again.push(item.clone());
                }
            }
            if again.is_empty() {
                break;
            }
            pending = again;
        }
        Ok(())
    }

    fn error(
        &self,
        enqueued: usize,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> EnqueueError {
        EnqueueError { queue_url: self.queue_url.to_string(), enqueued, source: source.into() }
    }
}

fn entry(
    slot: usize,
    body: &str,
    region: Region,
) -> Result<SendMessageBatchRequestEntry, aws_sdk_sqs::error::BuildError> {
    let attribute = MessageAttributeValue::builder().data_type("String").string_value(region.code()).build()?;
    SendMessageBatchRequestEntry::builder()
        .id(slot.to_string())
        .message_body(body)
        .message_attributes(REGION_ATTRIBUTE, attribute)
        .build()
}
