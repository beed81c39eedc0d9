//! The queue message: the envelope as Amazon receives it, and its region.

use proactive_core::{Envelope, Region};

/// The message attribute that carries the region to send to (`NA`, `EU` or
/// `FE`). A message without it is sent to the consumer's default region.
pub const REGION_ATTRIBUTE: &str = "proactive-region";

/// The largest message the producer enqueues, attributes included, and the
/// largest batch: 256 KiB, the limit every SQS queue accepts (a queue's
/// `MaximumMessageSize` may allow more; see
/// [`SqsProducer::max_message_bytes`](crate::SqsProducer::max_message_bytes)).
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// A referenceId that is the same every time for the same `event_key` and
/// `user`: moved to [`proactive_core::fanout::stable_reference_id`] (same ids),
/// and kept here so that existing producers keep compiling.
pub use proactive_core::fanout::stable_reference_id;

/// The body and the region of one message.
pub(crate) fn encode(envelope: &Envelope) -> String {
    envelope.to_json()
}

/// The size SQS counts for a message: body, attribute name, type and value.
pub(crate) fn size(body: &str, region: Region) -> usize {
    body.len() + REGION_ATTRIBUTE.len() + "String".len() + region.code().len()
}
