//! The queue message: the envelope as Amazon receives it, and its region.

use proactive_core::{Envelope, ReferenceId, Region, UserId};
use uuid::Uuid;

/// The message attribute that carries the region to send to (`NA`, `EU` or
/// `FE`). A message without it is sent to the consumer's default region.
pub const REGION_ATTRIBUTE: &str = "proactive-region";

/// The largest message the producer enqueues, attributes included, and the
/// largest batch: 256 KiB, the limit every SQS queue accepts (a queue's
/// `MaximumMessageSize` may allow more; see
/// [`SqsProducer::max_message_bytes`](crate::SqsProducer::max_message_bytes)).
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// The namespace of [`stable_reference_id`]'s name-based UUIDs.
const NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_1f2e_8d4b_4a55_9b1e_5f0c_2a7d_93e1);

/// A referenceId that is the same every time for the same `event_key` and
/// `user` (`None` for Multicast): a name-based UUID (version 5) of the pair.
///
/// Give every envelope of a fan-out the id of its (business event, user) pair,
/// and an event that is enqueued twice (a producer that crashed and ran again,
/// a queue that delivered twice) reaches Amazon with the same id: Amazon keeps
/// the first and answers 409 to the others, which the consumers count as
/// delivered. The `event_key` is whatever names the business event for you (an
/// order number and its status, an alert id); it is hashed, so it may hold any
/// text.
///
/// ```
/// use proactive_aws::stable_reference_id;
/// use proactive_core::UserId;
///
/// let user = UserId::new("amzn1.ask.account.A")?;
/// let id = stable_reference_id("order-1234/shipped", Some(&user));
/// assert_eq!(id, stable_reference_id("order-1234/shipped", Some(&user)));
/// assert_ne!(id, stable_reference_id("order-1234/delivered", Some(&user)));
/// assert_ne!(id, stable_reference_id("order-1234/shipped", None));
/// # Ok::<(), proactive_core::InvalidUserId>(())
/// ```
pub fn stable_reference_id(event_key: &str, user: Option<&UserId>) -> ReferenceId {
    // The key's length first, so that no (key, user) pair can be written as
    // another with the boundary moved.
    let user = user.map_or("", UserId::as_str);
    let name = format!("{}:{event_key}{user}", event_key.len());
    let id = Uuid::new_v5(&NAMESPACE, name.as_bytes()).hyphenated().to_string();
    // A hyphenated UUID is 36 characters of `0-9 a-f -`, always a valid id.
    ReferenceId::new(&id).unwrap_or_else(|_| ReferenceId::random())
}

/// The body and the region of one message.
pub(crate) fn encode(envelope: &Envelope) -> String {
    envelope.to_json()
}

/// The size SQS counts for a message: body, attribute name, type and value.
pub(crate) fn size(body: &str, region: Region) -> usize {
    body.len() + REGION_ATTRIBUTE.len() + "String".len() + region.code().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_valid_and_distinct() {
        let a = UserId::new("amzn1.ask.account.A").unwrap();
        let b = UserId::new("amzn1.ask.account.B").unwrap();
        let id = stable_reference_id("order-1", Some(&a));
        // Fixed forever: a new version must give the ids the old one gave, or
        // events enqueued before an upgrade would be delivered twice.
        assert_eq!(id.as_str(), "ed42c914-463f-5520-a082-9d4ae85d1bfe");
        assert_eq!(id.as_str().len(), 36);
        assert_ne!(id, stable_reference_id("order-1", Some(&b)));
        assert_ne!(stable_reference_id("ab", None), stable_reference_id("a", Some(&UserId::new("b").unwrap())));
    }
}
