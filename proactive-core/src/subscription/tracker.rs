//! The tracker: applies subscription requests to a store and says what changed.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use futures_util::stream::{self, Stream, StreamExt};

use super::event::SubscribedEvent;
use super::request::SubscriptionChangedRequest;
use super::skill_event::{LifecycleEvent, SkillEvent};
use super::store::{
    Applied, DEFAULT_PAGE_SIZE, Disabled, StoreError, Subscriber, SubscriberPage, SubscriptionStore, TOMBSTONE_TTL,
    Tombstone, UserSubscriptions,
};
use crate::{Region, UserId};

/// Keeps every user's newest subscriptions in a [`SubscriptionStore`].
///
/// Feed it every `ProactiveSubscriptionChanged` request; it keeps only the
/// newest state per user (requests may arrive out of order), reports what
/// changed, and lists the subscribers of an event for Unicast fan-out.
/// Cloning shares the store when the store's clones do (both stores here do).
///
/// ```
/// use proactive_core::Region;
/// use proactive_core::schemas::EventName;
/// use proactive_core::subscription::{MemoryStore, SubscriptionChangedRequest, SubscriptionTracker, Tracked};
///
/// // The body Alexa POSTs to the skill's events endpoint.
/// let body = r#"{
///   "version": "1.0",
///   "context": {"System": {
///     "application": {"applicationId": "amzn1.ask.skill.0f4e2b3c-1111-2222-3333-444455556666"},
///     "user": {"userId": "amzn1.ask.account.AGF7EXAMPLEUSERID"},
///     "apiEndpoint": "https://api.eu.amazonalexa.com"
///   }},
///   "request": {
///     "type": "AlexaSkillEvent.ProactiveSubscriptionChanged",
///     "requestId": "amzn1.echo-api.request.6c1f0a8e-7777-8888-9999-000011112222",
///     "timestamp": "2026-03-01T12:00:00Z",
///     "body": {"subscriptions": [{"eventName": "AMAZON.WeatherAlert.Activated"}]}
///   }
/// }"#;
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let tracker = SubscriptionTracker::new(MemoryStore::new());
/// let request = SubscriptionChangedRequest::from_json(body)?;
/// match tracker.apply(&request).await? {
///     Tracked::Updated(change) => assert_eq!(change.added().len(), 1),
///     other => unreachable!("the first request for this user is the newest, not {other:?}"),
/// }
/// // The same request again (Alexa retries) changes nothing.
/// assert!(matches!(tracker.apply(&request).await?, Tracked::Stale(_)));
///
/// // A small audience, all at once; a large one goes through `subscriber_stream`.
/// let subscribers = tracker.all_subscribers(EventName::WeatherAlertActivated).await?;
/// assert_eq!(subscribers[0].user_id.as_str(), "amzn1.ask.account.AGF7EXAMPLEUSERID");
/// assert_eq!(subscribers[0].region(), Some(Region::Europe));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A request dated more than [`MAX_FUTURE`] ahead of now is refused
/// ([`TrackerError::FromTheFuture`]): newest-wins ordering would otherwise let
/// one forged far-future request hide every later genuine one.
#[derive(Clone, Debug)]
pub struct SubscriptionTracker<S> {
    store: S,
    max_future: Duration,
    purge_on_disable: bool,
}

/// How far ahead of now a request's timestamp may be: the verifier's
/// one-hour tolerance for skill events.
pub const MAX_FUTURE: Duration = Duration::hours(1);

impl<S: Default> Default for SubscriptionTracker<S> {
    fn default() -> Self {
        Self { store: S::default(), max_future: MAX_FUTURE, purge_on_disable: true }
    }
}

/// Why the tracker did not apply a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrackerError {
    /// The request is dated too far in the future: refused, nothing changed.
    /// Answer HTTP 400.
    #[error(
        "`request.timestamp` {timestamp} of the request for `{user_id}` is more than {max_future_secs} seconds after now ({now}); refused, since a request from the future would hide every later one"
    )]
    FromTheFuture {
        /// The user of the request.
        user_id: UserId,
        /// The request's timestamp.
        timestamp: DateTime<Utc>,
        /// The tracker's clock.
        now: DateTime<Utc>,
        /// The allowance, in seconds.
        max_future_secs: i64,
    },
    /// The store failed (answer HTTP 500, so that Alexa retries), or refused
    /// the request as beyond its limits ([`StoreError::is_refused`]: answer 400).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl TrackerError {
    /// Whether the request itself is at fault (answer 400), rather than the store (500).
    pub fn is_refused(&self) -> bool {
        match self {
            Self::FromTheFuture { .. } => true,
            Self::Store(error) => error.is_refused(),
        }
    }
}

impl<S: SubscriptionStore> SubscriptionTracker<S> {
    /// A tracker over `store`.
    pub fn new(store: S) -> Self {
        Self { store, max_future: MAX_FUTURE, purge_on_disable: true }
    }

    /// Accepts requests dated up to `max_future` after now (default [`MAX_FUTURE`]).
    pub fn with_max_future(mut self, max_future: Duration) -> Self {
        self.max_future = max_future;
        self
    }

    /// Whether [`handle`](Self::handle) removes the expired tombstones after
    /// each `SkillDisabled` (default `true`).
    ///
    /// A replay of recorded requests turns it off: its requests are old, so
    /// the tombstone of a `SkillDisabled` may be past [`TOMBSTONE_TTL`] already,
    /// and purged at once it would not make the replay's older requests stale.
    /// Call [`purge_tombstones`](Self::purge_tombstones) when the replay is done.
    pub fn with_purge_on_disable(mut self, purge: bool) -> Self {
        self.purge_on_disable = purge;
        self
    }

    fn ensure_not_future(&self, user_id: &UserId, timestamp: DateTime<Utc>) -> Result<(), TrackerError> {
        let now = Utc::now();
        if timestamp > now + self.max_future {
            return Err(TrackerError::FromTheFuture {
                user_id: user_id.clone(),
                timestamp,
                now,
                max_future_secs: self.max_future.num_seconds(),
            });
        }
        Ok(())
    }

    /// The store, for queries the tracker does not wrap.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Applies a request: stores it if it is the newest for its user, and says
    /// what changed, or that it was stale. A request from too far in the
    /// future changes nothing and is an error.
    pub async fn apply(&self, request: &SubscriptionChangedRequest) -> Result<Tracked, TrackerError> {
        self.ensure_not_future(request.user_id(), request.timestamp())?;
        Ok(self.store_state(request.to_user_subscriptions()).await?)
    }

    async fn store_state(&self, state: UserSubscriptions) -> Result<Tracked, StoreError> {
        match self.store.apply(state.clone()).await? {
            Applied::Stored { previous } => Ok(Tracked::Updated(Change::new(state, previous))),
            Applied::Stale { stored } => {
                Ok(Tracked::Stale(Stale { user_id: state.user_id, timestamp: state.timestamp, stored }))
            }
            Applied::Disabled { tombstone } => Ok(Tracked::Disabled(tombstone)),
        }
    }

    /// Removes a user who disabled the skill and keeps a tombstone, then
    /// removes the tombstones older than [`TOMBSTONE_TTL`] (unless
    /// [`with_purge_on_disable`](Self::with_purge_on_disable) turned it off).
    async fn disable(&self, event: &LifecycleEvent) -> Result<Handled, StoreError> {
        let tombstone = Tombstone {
            user_id: event.user_id().clone(),
            timestamp: event.timestamp(),
            request_id: event.request_id().to_owned(),
        };
        let handled = match self.store.disable(tombstone).await? {
            Disabled::Removed { previous } => Handled::UserRemoved { user_id: event.user_id().clone(), previous },
            Disabled::Stale { stored } => Handled::Subscriptions(Tracked::Stale(Stale {
                user_id: event.user_id().clone(),
                timestamp: event.timestamp(),
                stored,
            })),
        };
        if self.purge_on_disable {
            self.purge_tombstones().await?;
        }
        Ok(handled)
    }

    /// Removes the tombstones of users who disabled the skill more than
    /// [`TOMBSTONE_TTL`] ago, and says how many. [`handle`](Self::handle) calls
    /// it after each `SkillDisabled`; call it yourself on a schedule if you like.
    pub async fn purge_tombstones(&self) -> Result<u64, StoreError> {
        self.store.purge_tombstones(Utc::now() - TOMBSTONE_TTL).await
    }

    /// Applies any skill event:
    /// - `ProactiveSubscriptionChanged`: as [`apply`](Self::apply);
    /// - `SkillDisabled`: forgets the user (the id is never used again) and
    ///   keeps a [`Tombstone`] for [`TOMBSTONE_TTL`], so that a subscription
    ///   change made before it but arriving after it changes nothing;
    /// - `SkillPermissionChanged` / `SkillPermissionAccepted` without the
    ///   notifications permission: the user is subscribed to nothing, as of the
    ///   event's timestamp (a later subscription change applies again);
    /// - anything else changes nothing.
    ///
    /// A request from too far in the future changes nothing and is an error.
    pub async fn handle(&self, event: &SkillEvent) -> Result<Handled, TrackerError> {
        self.ensure_not_future(event.user_id(), event.timestamp())?;
        match event {
            SkillEvent::ProactiveSubscriptionChanged(request) => {
                Ok(Handled::Subscriptions(self.store_state(request.to_user_subscriptions()).await?))
            }
            SkillEvent::SkillDisabled(event) => Ok(self.disable(event).await?),
            SkillEvent::SkillPermissionAccepted(permission) | SkillEvent::SkillPermissionChanged(permission)
                if !permission.grants_notifications() =>
            {
                let state = nothing_as_of(permission.event());
                Ok(Handled::Subscriptions(self.store_state(state).await?))
            }
            _ => Ok(Handled::NoChange),
        }
    }

    /// Every user subscribed to `event`, sorted by user id, read a page at a
    /// time ([`DEFAULT_PAGE_SIZE`] users): the audience of a Unicast fan-out,
    /// with memory for one page whatever the audience's size. Accepts an
    /// [`EventName`](crate::schemas::EventName), a [`SubscribedEvent`], or use
    /// [`SubscribedEvent::of`] for a payload type.
    ///
    /// A store error ends the stream after it is yielded.
    ///
    /// ```
    /// use futures_util::TryStreamExt;
    /// use proactive_core::schemas::EventName;
    /// use proactive_core::subscription::{MemoryStore, SubscriptionTracker};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
    /// let tracker = SubscriptionTracker::new(MemoryStore::new());
    /// let mut subscribers = std::pin::pin!(tracker.subscriber_stream(EventName::WeatherAlertActivated));
    /// while let Some(subscriber) = subscribers.try_next().await? {
    ///     println!("send to {} in {:?}", subscriber.user_id, subscriber.region());
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn subscriber_stream(
        &self,
        event: impl Into<SubscribedEvent>,
    ) -> impl Stream<Item = Result<Subscriber, StoreError>> + Send + '_ {
        self.subscriber_pages(event, None, DEFAULT_PAGE_SIZE).flat_map(|page| {
            stream::iter(match page {
                Ok(page) => page.subscribers.into_iter().map(Ok).collect::<Vec<_>>(),
                Err(error) => vec![Err(error)],
            })
        })
    }

    /// The subscribers of `event` a page at a time: those after `after` (from
    /// the start when `None`), `page_size` users a page. Each page's
    /// [`next`](SubscriberPage::next) is a cursor to resume from after a crash.
    /// A store error ends the stream after it is yielded.
    pub fn subscriber_pages(
        &self,
        event: impl Into<SubscribedEvent>,
        after: Option<UserId>,
        page_size: usize,
    ) -> impl Stream<Item = Result<SubscriberPage, StoreError>> + Send + '_ {
        let event = event.into();
        // The state: the cursor, or `None` once the last page was read.
        stream::unfold(Some(after), move |cursor| {
            let event = event.clone();
            async move {
                let after = cursor?;
                match self.store.subscribers_page(&event, after.as_ref(), page_size).await {
                    Ok(page) => {
                        let next = page.next.clone().map(Some);
                        Some((Ok(page), next))
                    }
                    Err(error) => Some((Err(error), None)),
                }
            }
        })
    }

    /// Every user subscribed to `event`, sorted by user id, **all held in
    /// memory at once**: for tests and small audiences. A fan-out to a large
    /// audience uses [`subscriber_stream`](Self::subscriber_stream).
    pub async fn all_subscribers(&self, event: impl Into<SubscribedEvent>) -> Result<Vec<Subscriber>, StoreError> {
        let mut pages = std::pin::pin!(self.subscriber_pages(event, None, DEFAULT_PAGE_SIZE));
        let mut all = Vec::new();
        while let Some(page) = pages.next().await {
            all.extend(page?.subscribers);
        }
        Ok(all)
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

/// No subscriptions, as of `event`: what a user without the notifications
/// permission is subscribed to.
fn nothing_as_of(event: &LifecycleEvent) -> UserSubscriptions {
    UserSubscriptions {
        user_id: event.user_id().clone(),
        events: BTreeSet::new(),
        timestamp: event.timestamp(),
        request_id: event.request_id().to_owned(),
        api_endpoint: event.api_endpoint().to_owned(),
    }
}

/// What [`SubscriptionTracker::handle`] did with a skill event.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Handled {
    /// The user's subscriptions were set (a subscription change, or a
    /// permission withdrawn), or the event was stale.
    Subscriptions(Tracked),
    /// The user disabled the skill and was forgotten; a tombstone is kept for
    /// [`TOMBSTONE_TTL`].
    UserRemoved {
        /// The user.
        user_id: UserId,
        /// What the store held for them; `None` when nothing.
        previous: Option<UserSubscriptions>,
    },
    /// The event changes no subscription (`SkillEnabled`, `SkillAccountLinked`,
    /// a permission change that keeps notifications).
    NoChange,
}

/// What the tracker did with a subscription request.
///
/// (The client's [`Outcome`](crate::client::Outcome) is what Amazon did with
/// an event; this is what the store did with a request.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tracked {
    /// The request was the newest for its user: the store holds it now.
    Updated(Change),
    /// The store already held a newer state for the user (the request arrived
    /// out of order, or twice): nothing changed.
    Stale(Stale),
    /// The user disabled the skill after the request was made: nothing
    /// changed, and the user stays removed.
    Disabled(Tombstone),
}

impl Tracked {
    /// The user the request was about.
    pub fn user_id(&self) -> &UserId {
        match self {
            Self::Updated(change) => change.user_id(),
            Self::Stale(stale) => stale.user_id(),
            Self::Disabled(tombstone) => &tombstone.user_id,
        }
    }

    /// The region to send the user's events to, from the newest state: the
    /// request's for [`Updated`](Self::Updated), the stored one's for
    /// [`Stale`](Self::Stale). `None` for [`Disabled`](Self::Disabled), and
    /// when the endpoint is not one of Amazon's hosts.
    pub fn region(&self) -> Option<Region> {
        match self {
            Self::Updated(change) => change.region(),
            Self::Stale(stale) => stale.stored().region(),
            Self::Disabled(_) => None,
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
