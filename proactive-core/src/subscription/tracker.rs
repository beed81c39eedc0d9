//! The tracker: applies subscription requests to a store and says what changed.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::event::SubscribedEvent;
use super::request::SubscriptionChangedRequest;
use super::store::{Applied, StoreError, Subscriber, SubscriptionStore, UserSubscriptions};
use crate::{Region, UserId};

/// Keeps every user's newest subscriptions in a [`SubscriptionStore`].
///
/// Feed it every `ProactiveSubscriptionChanged` request; it keeps only the
/// newest state per user (requests may arrive out of order), reports what
/// changed, and lists the subscribers of an event for Unicast fan-out.
/// Cloning shares the store when the store's clones do (both stores here do).
#[derive(Clone, Debug, Default)]
pub struct SubscriptionTracker<S> {
    store: S,
}

impl<S: SubscriptionStore> SubscriptionTracker<S> {
    /// A tracker over `store`.
    pub fn new(store: S) -> Self {
        Self { store }
    }

    /// The store, for queries the tracker does not wrap.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Applies a request: stores it if it is the newest for its user, and says
    /// what changed, or that it was stale.
    pub async fn apply(&self, request: &SubscriptionChangedRequest) -> Result<Outcome, StoreError> {
        let state = request.to_user_subscriptions();
        match self.store.apply(state.clone()).await? {
            Applied::Stored { previous } => Ok(Outcome::Updated(Change::new(state, previous))),
            Applied::Stale { stored } => {
                Ok(Outcome::Stale(Stale { user_id: state.user_id, timestamp: state.timestamp, stored }))
            }
        }
    }

    /// Every user subscribed to `event`, sorted by user id: the audience of a
    /// Unicast fan-out. Accepts an [`EventName`](crate::schemas::EventName), a
    /// [`SubscribedEvent`], or use [`SubscribedEvent::of`] for a payload type.
    pub async fn subscribers(&self, event: impl Into<SubscribedEvent>) -> Result<Vec<Subscriber>, StoreError> {
        self.store.subscribers(&event.into()).await
    }

    /// Drops the subscription Amazon just said does not exist (opt-in): when
    /// `error` is a [`NotSubscribed`](crate::client::ApiErrorKind::NotSubscribed)
    /// refusal of a Unicast `envelope`, removes the envelope's event from that
    /// user's stored subscriptions, so the next fan-out skips them. Returns
    /// whether something was removed; any other error or audience changes nothing.
    ///
    /// The stored state keeps its timestamp, so any later genuine subscription
    /// request from Alexa still supersedes it.
    ///
    /// ```no_run
    /// # async fn run(
    /// #     client: proactive_core::client::Client,
    /// #     tracker: proactive_core::subscription::SubscriptionTracker<proactive_core::subscription::MemoryStore>,
    /// #     envelope: proactive_core::Envelope,
    /// # ) -> Result<(), proactive_core::subscription::StoreError> {
    /// if let Err(error) = client.send(&envelope).await {
    ///     tracker.forget_not_subscribed(&envelope, &error).await?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "client")]
    pub async fn forget_not_subscribed(
        &self,
        envelope: &crate::Envelope,
        error: &crate::client::SendError,
    ) -> Result<bool, StoreError> {
        use crate::client::{ApiErrorKind, SendError};
        let (SendError::Api(api), crate::Audience::Unicast(user)) = (error, &envelope.audience) else {
            return Ok(false);
        };
        if api.kind() != ApiErrorKind::NotSubscribed {
            return Ok(false);
        }
        let Some(mut state) = self.store.get(user).await? else { return Ok(false) };
        if !state.events.remove(&SubscribedEvent::from(envelope.event.name())) {
            return Ok(false);
        }
        // Supersedes the stored state (same timestamp, greater request id), and
        // is superseded by any newer request.
        state.request_id.push_str("~not-subscribed");
        Ok(matches!(self.store.apply(state).await?, Applied::Stored { .. }))
    }

    /// The stored state of one user, if any.
    pub async fn get(&self, user_id: &UserId) -> Result<Option<UserSubscriptions>, StoreError> {
        self.store.get(user_id).await
    }
}

/// What applying a request did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The request was the newest for its user: the store holds it now.
    Updated(Change),
    /// The store already held a newer state for the user (the request arrived
    /// out of order, or twice): nothing changed.
    Stale(Stale),
}

impl Outcome {
    /// The user the request was about.
    pub fn user_id(&self) -> &UserId {
        match self {
            Self::Updated(change) => change.user_id(),
            Self::Stale(stale) => stale.user_id(),
        }
    }

    /// The region to send the user's events to, from the newest state: the
    /// request's for [`Updated`](Self::Updated), the stored one's for
    /// [`Stale`](Self::Stale). `None` when the endpoint is not one of Amazon's hosts.
    pub fn region(&self) -> Option<Region> {
        match self {
            Self::Updated(change) => change.region(),
            Self::Stale(stale) => stale.stored().region(),
        }
    }
}

/// How one user's subscriptions changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    state: UserSubscriptions,
    added: BTreeSet<SubscribedEvent>,
    removed: BTreeSet<SubscribedEvent>,
    first_seen: bool,
}

impl Change {
    fn new(state: UserSubscriptions, previous: Option<UserSubscriptions>) -> Self {
        let first_seen = previous.is_none();
        let previous = previous.map(|p| p.events).unwrap_or_default();
        let added = state.events.difference(&previous).cloned().collect();
        let removed = previous.difference(&state.events).cloned().collect();
        Self { state, added, removed, first_seen }
    }

    /// The user.
    pub fn user_id(&self) -> &UserId {
        &self.state.user_id
    }

    /// Events the user subscribed to with this request.
    pub fn added(&self) -> &BTreeSet<SubscribedEvent> {
        &self.added
    }

    /// Events the user unsubscribed from with this request.
    pub fn removed(&self) -> &BTreeSet<SubscribedEvent> {
        &self.removed
    }

    /// Every event the user is subscribed to now.
    pub fn current(&self) -> &BTreeSet<SubscribedEvent> {
        &self.state.events
    }

    /// Whether the set of events stayed the same (a newer request that
    /// repeats the set, perhaps from another region).
    pub fn is_unchanged(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }

    /// Whether the store had no state for this user before.
    pub fn is_first_seen(&self) -> bool {
        self.first_seen
    }

    /// The user's Alexa host, from the request.
    pub fn api_endpoint(&self) -> &str {
        &self.state.api_endpoint
    }

    /// The region to send the user's events to; `None` when the endpoint is not
    /// one of Amazon's three hosts.
    pub fn region(&self) -> Option<Region> {
        self.state.region()
    }

    /// When the change happened (the request's timestamp).
    pub fn timestamp(&self) -> DateTime<Utc> {
        self.state.timestamp
    }

    /// The state now stored for the user.
    pub fn state(&self) -> &UserSubscriptions {
        &self.state
    }
}

/// A request that was not newer than the stored state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stale {
    user_id: UserId,
    timestamp: DateTime<Utc>,
    stored: UserSubscriptions,
}

impl Stale {
    /// The user.
    pub fn user_id(&self) -> &UserId {
        &self.user_id
    }

    /// The timestamp of the stale request.
    pub fn timestamp(&self) -> DateTime<Utc> {
        self.timestamp
    }

    /// The newer state the store keeps.
    pub fn stored(&self) -> &UserSubscriptions {
        &self.stored
    }
}
