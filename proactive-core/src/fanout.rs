//! Fan-out: one Unicast envelope for every subscriber of an event, from one
//! template, with a referenceId that is the same on every run.
//!
//! "Tell every subscriber of `AMAZON.SportsEvent.Updated` that their team
//! scored" is: read the subscribers a page at a time
//! ([`SubscriptionTracker::subscriber_pages`]), give each one the template with
//! the audience set to that user, the referenceId of (business event, user)
//! ([`stable_reference_id`]), and the region of the user's `apiEndpoint`
//! ([`Addressed::region`]), and send (a [`Client`](crate::Client), or a queue).
//! Running the fan-out again, or resuming it after a crash, gives every user
//! the same referenceId, so Amazon keeps the first event and answers 409
//! (already delivered) to a repeat: nothing is sent twice.
//!
//! ```
//! use futures_util::TryStreamExt;
//! use proactive_core::fanout::FanOut;
//! use proactive_core::Envelope;
//! use proactive_core::subscription::{MemoryStore, SubscriptionTracker};
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let tracker = SubscriptionTracker::new(MemoryStore::new());
//! // `template`: the envelope every subscriber gets (its audience and referenceId
//! // are replaced); built in code, or read from a file as here.
//! let json = include_str!("../../examples/events/sports_event.json");
//! let (template, _warnings) = Envelope::from_json(json).map_err(|report| report.to_string())?;
//! let fanout = FanOut::from_template("match-2026-05-01/goal-3", template)?;
//! let mut envelopes = std::pin::pin!(fanout.envelopes(&tracker, None));
//! while let Some(addressed) = envelopes.try_next().await? {
//!     println!("{} to {:?}", addressed.envelope.reference_id, addressed.region());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::sync::Arc;

use futures_util::stream::{self, Stream, StreamExt};
use uuid::Uuid;

use crate::subscription::{
    DEFAULT_PAGE_SIZE, StoreError, SubscribedEvent, Subscriber, SubscriptionStore, SubscriptionTracker,
};
use crate::{Audience, Envelope, ReferenceId, Region, Report, UserId};

/// The namespace of [`stable_reference_id`]'s name-based UUIDs.
const NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_1f2e_8d4b_4a55_9b1e_5f0c_2a7d_93e1);

/// A referenceId that is the same every time for the same `event_key` and
/// `user` (`None` for Multicast): a name-based UUID (version 5) of the pair.
///
/// Give every envelope of a fan-out the id of its (business event, user) pair,
/// and an event that is sent twice (a fan-out that crashed and ran again, a
/// queue that delivered twice) reaches Amazon with the same id: Amazon keeps
/// the first and answers 409 to the others, which counts as delivered. The
/// `event_key` is whatever names the business event for you (an order number
/// and its status, an alert id); it is hashed, so it may hold any text.
///
/// ```
/// use proactive_core::UserId;
/// use proactive_core::fanout::stable_reference_id;
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

/// The envelope of one subscriber, from [`FanOut::envelopes`].
#[derive(Clone, Debug, PartialEq)]
pub struct Addressed {
    /// The user and their Alexa host.
    pub subscriber: Subscriber,
    /// The envelope: Unicast to the user, with the stable referenceId.
    pub envelope: Envelope,
}

impl Addressed {
    /// The region to send to, from the subscriber's `apiEndpoint`; `None` when
    /// it is not one of Amazon's three hosts (send to your default region).
    pub fn region(&self) -> Option<Region> {
        self.subscriber.region()
    }
}

/// The template of a fan-out was refused: it has validation errors.
#[derive(Debug, thiserror::Error)]
#[error("the fan-out template is not valid:\n{report}")]
pub struct InvalidTemplate {
    report: Report,
}

impl InvalidTemplate {
    /// Every problem found in the template (with the audience it will have).
    pub fn report(&self) -> &Report {
        &self.report
    }
}

type MakeEnvelope = dyn Fn(&Subscriber) -> Option<Envelope> + Send + Sync;

/// How each subscriber's envelope is made.
#[derive(Clone)]
enum Make {
    /// One envelope, validated once; per user only the audience and the
    /// referenceId change. With the client, its body is serialized once too.
    Template(Box<Envelope>, Option<Arc<Body>>),
    /// A function per user; `None` skips the user.
    Function(Arc<MakeEnvelope>),
}

/// Makes the Unicast envelope of every subscriber of one event.
///
/// Made from a template ([`from_template`](Self::from_template)), validated
/// once, or from a function of the subscriber ([`from_fn`](Self::from_fn)).
/// Either way each envelope gets the audience of its user and the
/// [`stable_reference_id`] of (`event_key`, user).
#[derive(Clone)]
pub struct FanOut {
    event_key: String,
    event: SubscribedEvent,
    make: Make,
    restamp: bool,
}

impl fmt::Debug for FanOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let template = match &self.make {
            Make::Template(..) => "template",
            Make::Function(_) => "function",
        };
        f.debug_struct("FanOut")
            .field("event_key", &self.event_key)
            .field("event", &self.event)
            .field("from", &template)
            .finish()
    }
}

/// The user a template is validated with: a well-formed Unicast user.
const TEMPLATE_USER: &str = "amzn1.ask.account.FANOUT-TEMPLATE";

impl FanOut {
    /// A fan-out of `template` to the subscribers of its event, for the
    /// business event `event_key`. The template is validated once, as a
    /// Unicast envelope (its own audience and referenceId do not matter:
    /// both are replaced per user); one with errors is refused.
    pub fn from_template(event_key: impl Into<String>, template: Envelope) -> Result<Self, InvalidTemplate> {
        let mut template = template;
        template.audience = Audience::Unicast(UserId::new(TEMPLATE_USER).expect("a valid user id"));
        let report = template.validate();
        if report.has_errors() {
            return Err(InvalidTemplate { report });
        }
        let event = SubscribedEvent::from(template.event.name());
        #[cfg(feature = "client")]
        let body = Body::new(&template).map(Arc::new);
        #[cfg(not(feature = "client"))]
        let body = None;
        Ok(Self { event_key: event_key.into(), event, make: Make::Template(Box::new(template), body), restamp: false })
    }

    /// A fan-out to the subscribers of `event` whose envelopes `make` builds,
    /// one per subscriber (`None` skips that user). The audience and the
    /// referenceId it gives are replaced; each envelope is validated when it
    /// is sent.
    pub fn from_fn<F>(event_key: impl Into<String>, event: impl Into<SubscribedEvent>, make: F) -> Self
    where
        F: Fn(&Subscriber) -> Option<Envelope> + Send + Sync + 'static,
    {
        Self { event_key: event_key.into(), event: event.into(), make: Make::Function(Arc::new(make)), restamp: false }
    }

    /// Re-stamps every prepared envelope at each attempt, retries included
    /// ([`PreparedEnvelope::restamped`](crate::client::PreparedEnvelope::restamped)):
    /// for a long fan-out of a template written earlier, so that no event
    /// reaches Amazon with an expiry it finds too close.
    #[must_use]
    pub fn restamped(mut self) -> Self {
        self.restamp = true;
        self
    }

    /// The event whose subscribers this fan-out reaches.
    pub fn event(&self) -> &SubscribedEvent {
        &self.event
    }

    /// The business event's key.
    pub fn event_key(&self) -> &str {
        &self.event_key
    }

    /// The template, when made from one (validated, with a placeholder audience).
    pub fn template(&self) -> Option<&Envelope> {
        match &self.make {
            Make::Template(template, _) => Some(template),
            Make::Function(_) => None,
        }
    }

    /// The referenceId `user_id` gets: [`stable_reference_id`] of the event key and the user.
    pub fn reference_id_for(&self, user_id: &UserId) -> ReferenceId {
        stable_reference_id(&self.event_key, Some(user_id))
    }

    /// The envelope of `subscriber`; `None` when the function skips them.
    pub fn envelope_for(&self, subscriber: &Subscriber) -> Option<Envelope> {
        let mut envelope = match &self.make {
            Make::Template(template, _) => Envelope::clone(template),
            Make::Function(make) => make(subscriber)?,
        };
        envelope.audience = Audience::Unicast(subscriber.user_id.clone());
        envelope.reference_id = self.reference_id_for(&subscriber.user_id);
        Some(envelope)
    }

    /// Every subscriber's envelope, read from `tracker` a page at a time
    /// ([`DEFAULT_PAGE_SIZE`] users), after `after` (from the start when
    /// `None`: pass the last user you handled to resume). Users the function
    /// skips are left out. A store error ends the stream after it is yielded.
    pub fn envelopes<'a, S: SubscriptionStore>(
        &'a self,
        tracker: &'a SubscriptionTracker<S>,
        after: Option<UserId>,
    ) -> impl Stream<Item = Result<Addressed, StoreError>> + Send + 'a {
        tracker.subscriber_pages(self.event.clone(), after, DEFAULT_PAGE_SIZE).flat_map(move |page| {
            let addressed: Vec<Result<Addressed, StoreError>> = match page {
                Ok(page) => page
                    .subscribers
                    .into_iter()
                    .filter_map(|subscriber| {
                        let envelope = self.envelope_for(&subscriber)?;
                        Some(Ok(Addressed { subscriber, envelope }))
                    })
                    .collect(),
                Err(error) => vec![Err(error)],
            };
            stream::iter(addressed)
        })
    }
}

#[cfg(feature = "client")]
mod prepared;
#[cfg(feature = "client")]
use prepared::TemplateBody as Body;
/// Without the client, templates are not serialized ahead.
#[cfg(not(feature = "client"))]
#[derive(Debug)]
enum Body {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_ids_are_stable_valid_and_distinct() {
        let a = UserId::new("amzn1.ask.account.A").unwrap();
        let b = UserId::new("amzn1.ask.account.B").unwrap();
        let id = stable_reference_id("order-1", Some(&a));
        // Fixed forever (these are the ids proactive-aws gave before the
        // function moved here): a new version must give the ids the old one
        // gave, or events enqueued before an upgrade would be delivered twice.
        assert_eq!(id.as_str(), "ed42c914-463f-5520-a082-9d4ae85d1bfe");
        assert_eq!(stable_reference_id("order-1", None).as_str(), "9335e2cc-5e97-52cd-ab14-2bc2399be4fc");
        assert_eq!(id.as_str().len(), 36);
        assert_ne!(id, stable_reference_id("order-1", Some(&b)));
        // The boundary between key and user cannot be moved.
        assert_ne!(stable_reference_id("ab", None), stable_reference_id("a", Some(&UserId::new("b").unwrap())));
    }
}
