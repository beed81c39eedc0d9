//! A template's request body cut where the referenceId and the user go, so
//! that each subscriber's body is three copies and two short strings: the
//! template is validated and serialized once, whatever the audience's size.

use bytes::{BufMut, Bytes, BytesMut};
use chrono::{DateTime, Utc};

use super::{FanOut, Make, TEMPLATE_USER};
use crate::client::{InvalidEnvelope, PreparedEnvelope};
use crate::schemas::EventName;
use crate::subscription::Subscriber;
use crate::{Envelope, Problem, ReferenceId};

/// The referenceId a template is serialized with, to be cut out again.
const TEMPLATE_REFERENCE_ID: &str = "proactive-fanout-template-reference-id";

/// A fan-out template's body, cut around its referenceId and its user.
#[derive(Clone, Debug)]
pub(super) struct TemplateBody {
    /// The body up to the first placeholder, the part between them, and the rest.
    parts: [Bytes; 3],
    /// Whether the referenceId comes before the user in the body.
    reference_first: bool,
    event: EventName,
    expiry_time: DateTime<Utc>,
    warnings: Vec<Problem>,
}

impl TemplateBody {
    /// Serializes `template` (validated, with the placeholder user) once and
    /// cuts it; `None` when a placeholder is not found exactly once (a payload
    /// that quotes it), and the envelopes are then serialized one by one.
    pub(super) fn new(template: &Envelope) -> Option<Self> {
        let mut template = template.clone();
        template.reference_id = ReferenceId::new(TEMPLATE_REFERENCE_ID).ok()?;
        let prepared = PreparedEnvelope::new(&template).ok()?;
        let body = prepared.body();
        let reference = find_once(body, &quoted(TEMPLATE_REFERENCE_ID))?;
        let user = find_once(body, &quoted(TEMPLATE_USER))?;
        let (first, second) = if reference.0 < user.0 { (reference, user) } else { (user, reference) };
        if first.1 > second.0 {
            return None;
        }
        let body = Bytes::copy_from_slice(body);
        Some(Self {
            parts: [body.slice(..first.0), body.slice(first.1..second.0), body.slice(second.1..)],
            reference_first: reference.0 < user.0,
            event: prepared.event(),
            expiry_time: prepared.expiry_time(),
            warnings: prepared.warnings().to_vec(),
        })
    }

    /// The body for `subscriber`, with `reference_id`.
    fn prepare(&self, reference_id: ReferenceId, subscriber: &Subscriber) -> PreparedEnvelope {
        let reference = quoted(reference_id.as_str());
        let user = quoted(subscriber.user_id.as_str());
        let (first, second) = if self.reference_first { (&reference, &user) } else { (&user, &reference) };
        let mut body =
            BytesMut::with_capacity(self.parts.iter().map(Bytes::len).sum::<usize>() + first.len() + second.len());
        body.put_slice(&self.parts[0]);
        body.put_slice(first);
        body.put_slice(&self.parts[1]);
        body.put_slice(second);
        body.put_slice(&self.parts[2]);
        PreparedEnvelope::assembled(reference_id, self.event, self.expiry_time, body.freeze(), self.warnings.clone())
    }
}

/// `text` as a JSON string, quotes included.
fn quoted(text: &str) -> Vec<u8> {
    serde_json::to_vec(text).unwrap_or_default()
}

/// The one place `needle` occurs in `haystack`, as (start, end); `None` when
/// it occurs never or more than once.
fn find_once(haystack: &[u8], needle: &[u8]) -> Option<(usize, usize)> {
    let mut found = memchr::memmem::find_iter(haystack, needle);
    let start = found.next()?;
    found.next().is_none().then_some((start, start + needle.len()))
}

impl FanOut {
    /// The prepared envelope of `subscriber`, ready for
    /// [`Client::send_prepared`](crate::Client::send_prepared): from a
    /// template, its body with the user and the referenceId put in (the
    /// template was validated once); from a function, its envelope validated
    /// and serialized. `None` when the function skips the user.
    pub fn prepare_for(&self, subscriber: &Subscriber) -> Option<Result<PreparedEnvelope, InvalidEnvelope>> {
        if let Make::Template(template, Some(body)) = &self.make {
            let prepared = body.prepare(self.reference_id_for(&subscriber.user_id), subscriber);
            if self.restamp {
                let window = (template.expiry_time - template.timestamp).max(crate::MIN_RESTAMP_WINDOW);
                return Some(Ok(prepared.restamp_each_attempt(window)));
            }
            return Some(Ok(prepared));
        }
        let envelope = self.envelope_for(subscriber)?;
        Some(if self.restamp { PreparedEnvelope::restamped(&envelope) } else { PreparedEnvelope::new(&envelope) })
    }
}

#[cfg(test)]
mod tests {
    use crate::fanout::FanOut;
    use crate::subscription::Subscriber;
    use crate::{Envelope, UserId};

    #[test]
    fn a_spliced_body_is_the_serialized_envelope() {
        let json = include_str!("../../../examples/events/order_status.json");
        let (template, _) = Envelope::from_json(json).unwrap();
        let fanout = FanOut::from_template("order-1/shipped", template).unwrap();
        for user in ["amzn1.ask.account.A", "amzn1.ask.account.\"quoted\"\\x", "amzn1.ask.account.é"] {
            let subscriber =
                Subscriber { user_id: UserId::new(user).unwrap(), api_endpoint: "https://api.amazonalexa.com".into() };
            let prepared = fanout.prepare_for(&subscriber).unwrap().unwrap();
            let expected = fanout.envelope_for(&subscriber).unwrap();
            assert_eq!(prepared.body(), expected.to_vec().as_slice(), "{user}");
            assert_eq!(prepared.reference_id(), &expected.reference_id);
        }
    }
}
