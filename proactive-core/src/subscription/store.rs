//! The storage behind the tracker: one small trait, and the values it stores.

use std::collections::BTreeSet;
use std::future::Future;

use chrono::{DateTime, Utc};

use super::event::SubscribedEvent;
use crate::{Region, UserId};

/// What a store keeps for one user: the newest subscription request it has seen.
///
/// A user who unsubscribed from everything keeps a state with no events: its
/// timestamp is what lets a late, older request be recognised as stale.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserSubscriptions {
    /// The user.
    pub user_id: UserId,
    /// Every event the user is subscribed to.
    pub events: BTreeSet<SubscribedEvent>,
    /// The `request.timestamp` of the request that set this state.
    pub timestamp: DateTime<Utc>,
    /// The `request.requestId` of that request.
    pub request_id: String,
    /// The `context.System.apiEndpoint` of that request: the user's Alexa host.
    pub api_endpoint: String,
}

impl UserSubscriptions {
    /// Whether this state replaces `stored`: it is newer by `timestamp`, or has
    /// the same timestamp and a greater `request_id`.
    ///
    /// The request id only breaks ties, so that the final state never depends
    /// on the order requests arrived in. The same request delivered twice does
    /// not supersede itself. Every store must use this rule.
    pub fn supersedes(&self, stored: &UserSubscriptions) -> bool {
        (self.timestamp, self.request_id.as_str()) > (stored.timestamp, stored.request_id.as_str())
    }

    /// The region to send this user's events to; `None` when the endpoint is not
    /// one of Amazon's three hosts.
    pub fn region(&self) -> Option<Region> {
        Region::from_api_endpoint(&self.api_endpoint)
    }
}

/// What [`SubscriptionStore::apply`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// The new state superseded what was stored (or nothing was): it is stored now.
    Stored {
        /// The state it replaced; `None` for a user the store had not seen.
        previous: Option<UserSubscriptions>,
    },
    /// The store already held a state that the new one does not supersede:
    /// nothing changed.
    Stale {
        /// The state the store keeps.
        stored: UserSubscriptions,
    },
    /// The user disabled the skill after the new state was made (the store
    /// keeps a [`Tombstone`] newer than it): nothing changed.
    Disabled {
        /// The tombstone the store keeps.
        tombstone: Tombstone,
    },
}

/// How long a store keeps a [`Tombstone`]: an hour and five minutes after the
/// `SkillDisabled` request's timestamp.
///
/// An older request for the same user is dated before the tombstone, so once
/// this has passed it is more than an hour old, and the verifier refuses it
/// (Alexa's skill events have a one-hour timestamp tolerance; the five minutes
/// cover clock skew).
pub const TOMBSTONE_TTL: chrono::Duration = chrono::Duration::minutes(65);

/// What a store remembers of a user who disabled the skill: when.
///
/// A `SkillDisabled` removes the user's subscriptions, but requests arrive out
/// of order: a `ProactiveSubscriptionChanged` made before the user disabled the
/// skill may arrive after it. The tombstone makes that request stale, so the
/// user is not brought back. A newer request for the same user id still applies.
/// Stores keep a tombstone for [`TOMBSTONE_TTL`] and then remove it
/// ([`SubscriptionStore::purge_tombstones`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tombstone {
    /// The user who disabled the skill.
    pub user_id: UserId,
    /// The `request.timestamp` of the `SkillDisabled` request.
    pub timestamp: DateTime<Utc>,
    /// The `request.requestId` of that request.
    pub request_id: String,
}

impl Tombstone {
    /// Whether this tombstone replaces `stored`, by the same rule as
    /// [`UserSubscriptions::supersedes`]: newer by timestamp, ties broken by
    /// request id.
    pub fn supersedes(&self, stored: &UserSubscriptions) -> bool {
        (self.timestamp, self.request_id.as_str()) > (stored.timestamp, stored.request_id.as_str())
    }

    /// Whether `state` is newer than this tombstone, and so applies.
    pub fn is_superseded_by(&self, state: &UserSubscriptions) -> bool {
        (state.timestamp, state.request_id.as_str()) > (self.timestamp, self.request_id.as_str())
    }

    /// Whether the tombstone may be removed at `now` ([`TOMBSTONE_TTL`] after its timestamp).
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.timestamp + TOMBSTONE_TTL < now
    }
}

/// What [`SubscriptionStore::disable`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Disabled {
    /// The user's subscriptions are gone and the tombstone is stored (or an
    /// equal or newer one was already there).
    Removed {
        /// The state it removed; `None` when the store held no subscriptions
        /// for that user.
        previous: Option<UserSubscriptions>,
    },
    /// The store holds a state newer than the `SkillDisabled` request (a
    /// genuine newer request for the same user id): nothing changed.
    Stale {
        /// The state the store keeps.
        stored: UserSubscriptions,
    },
}

/// How many subscribers [`SubscriptionTracker::subscriber_stream`](super::SubscriptionTracker::subscriber_stream)
/// asks a store for at once.
pub const DEFAULT_PAGE_SIZE: usize = 1_000;

/// One page of an event's subscribers, from [`SubscriptionStore::subscribers_page`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubscriberPage {
    /// Subscribers, sorted by user id, every one after the page's cursor.
    pub subscribers: Vec<Subscriber>,
    /// The cursor of the next page: the last user id this page read. `None`
    /// when the store has no subscriber after this page.
    ///
    /// It may be set on a last page that happens to be full (the next page is
    /// then empty), and it may be past the last subscriber listed, when a store
    /// skipped an item it could not read.
    pub next: Option<UserId>,
}

/// A user to send an event to, from [`SubscriptionStore::subscribers_page`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscriber {
    /// The id for the Unicast audience.
    pub user_id: UserId,
    /// The user's Alexa host, from their newest subscription request.
    pub api_endpoint: String,
}

impl Subscriber {
    /// The region to send to; `None` when the endpoint is not one of Amazon's
    /// three hosts.
    pub fn region(&self) -> Option<Region> {
        Region::from_api_endpoint(&self.api_endpoint)
    }
}

/// Where the tracker keeps each user's newest subscriptions.
///
/// # Why the methods return futures
///
/// The trait is async so that a store can sit on an async database client
/// (DynamoDB, Postgres, ...) without blocking the executor; stores on a
/// blocking library, like the SQLite one, move their work to a blocking thread
/// themselves. The methods are written as `fn … -> impl Future + Send` rather
/// than `async fn` so that the futures are `Send` and a tracker can be used
/// from a multi-threaded server (axum, hyper, Lambda), without boxing every call
/// as the `async-trait` crate would. An implementation may still write
/// `async fn`. The cost is that the trait is not object safe:
/// [`SubscriptionTracker`](super::SubscriptionTracker) is generic over its store.
///
/// # Contract
///
/// - [`apply`](Self::apply) is atomic per user: it compares with
///   [`UserSubscriptions::supersedes`] (and, for a user with a [`Tombstone`],
///   [`Tombstone::is_superseded_by`]) and replaces in one step, so that
///   concurrent calls for the same user never lose the newest state.
/// - A state with no events is stored, not deleted (it guards against older
///   requests arriving later) and is never among the subscribers.
/// - [`disable`](Self::disable) removes the user's state and keeps a
///   tombstone in its place; [`purge_tombstones`](Self::purge_tombstones)
///   removes tombstones older than a cutoff.
/// - Pages are in user id order: [`subscribers_page`](Self::subscribers_page)
///   returns the subscribers whose id is greater than the cursor, at most
///   `limit` of them (a limit of 0 counts as 1), read by key (SQLite's index,
///   DynamoDB's sort key), never by position. A user added or removed while a
///   caller pages appears at most once; no user appears twice.
///
/// # Implementing a store
///
/// A store over a map behind a mutex; a database store does the same with a
/// transaction (or a conditional write) in `apply`:
///
/// ```
/// use std::collections::BTreeMap;
/// use std::ops::Bound;
/// use std::sync::Mutex;
///
/// use chrono::{DateTime, Utc};
/// use proactive_core::UserId;
/// use proactive_core::subscription::{
///     Applied, Disabled, StoreError, SubscribedEvent, Subscriber, SubscriberPage, SubscriptionStore, Tombstone,
///     UserSubscriptions,
/// };
///
/// /// Each user's state, or the tombstone of a user who disabled the skill.
/// #[derive(Default)]
/// struct MapStore(Mutex<BTreeMap<UserId, Result<UserSubscriptions, Tombstone>>>);
///
/// impl MapStore {
///     fn users(&self) -> Result<std::sync::MutexGuard<'_, BTreeMap<UserId, Result<UserSubscriptions, Tombstone>>>, StoreError> {
///         self.0.lock().map_err(|_| StoreError::new("the store's lock is poisoned"))
///     }
/// }
///
/// impl SubscriptionStore for MapStore {
///     async fn apply(&self, state: UserSubscriptions) -> Result<Applied, StoreError> {
///         // One lock for the comparison and the write: atomic per user.
///         let mut users = self.users()?;
///         match users.get(&state.user_id) {
///             Some(Ok(stored)) if !state.supersedes(stored) => Ok(Applied::Stale { stored: stored.clone() }),
///             Some(Err(tombstone)) if !tombstone.is_superseded_by(&state) => {
///                 Ok(Applied::Disabled { tombstone: tombstone.clone() })
///             }
///             _ => {
///                 let previous = users.insert(state.user_id.clone(), Ok(state));
///                 Ok(Applied::Stored { previous: previous.and_then(Result::ok) })
///             }
///         }
///     }
///
///     async fn get(&self, user_id: &UserId) -> Result<Option<UserSubscriptions>, StoreError> {
///         Ok(self.users()?.get(user_id).cloned().and_then(Result::ok))
///     }
///
///     async fn subscribers_page(
///         &self,
///         event: &SubscribedEvent,
///         after: Option<&UserId>,
///         limit: usize,
///     ) -> Result<SubscriberPage, StoreError> {
///         // A BTreeMap iterates in key order, and `range` starts after the cursor.
///         let users = self.users()?;
///         let start = after.map_or(Bound::Unbounded, Bound::Excluded);
///         let subscribers: Vec<Subscriber> = users
///             .range::<UserId, _>((start, Bound::Unbounded))
///             .filter_map(|(_, state)| state.as_ref().ok().filter(|state| state.events.contains(event)))
///             .take(limit.max(1))
///             .map(|state| Subscriber { user_id: state.user_id.clone(), api_endpoint: state.api_endpoint.clone() })
///             .collect();
///         let next = (subscribers.len() == limit.max(1)).then(|| subscribers.last().map(|s| s.user_id.clone())).flatten();
///         Ok(SubscriberPage { subscribers, next })
///     }
///
///     async fn disable(&self, tombstone: Tombstone) -> Result<Disabled, StoreError> {
///         let mut users = self.users()?;
///         match users.get(&tombstone.user_id) {
///             Some(Ok(stored)) if !tombstone.supersedes(stored) => Ok(Disabled::Stale { stored: stored.clone() }),
///             Some(Err(newer)) if newer.timestamp >= tombstone.timestamp => Ok(Disabled::Removed { previous: None }),
///             _ => {
///                 let previous = users.insert(tombstone.user_id.clone(), Err(tombstone));
///                 Ok(Disabled::Removed { previous: previous.and_then(Result::ok) })
///             }
///         }
///     }
///
///     async fn purge_tombstones(&self, older_than: DateTime<Utc>) -> Result<u64, StoreError> {
///         let mut users = self.users()?;
///         let before = users.len();
///         users.retain(|_, state| !matches!(state, Err(tombstone) if tombstone.timestamp < older_than));
///         Ok((before - users.len()) as u64)
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let store = MapStore::default();
/// let state = |timestamp: &str, request_id: &str| UserSubscriptions {
///     user_id: UserId::new("amzn1.ask.account.A").unwrap(),
///     events: [SubscribedEvent::new("AMAZON.WeatherAlert.Activated")].into(),
///     timestamp: timestamp.parse().unwrap(),
///     request_id: request_id.to_owned(),
///     api_endpoint: "https://api.eu.amazonalexa.com".to_owned(),
/// };
/// assert!(matches!(store.apply(state("2026-03-01T08:00:00Z", "b")).await?, Applied::Stored { previous: None }));
/// // An older request that arrives late changes nothing.
/// assert!(matches!(store.apply(state("2026-03-01T07:00:00Z", "a")).await?, Applied::Stale { .. }));
/// let weather = SubscribedEvent::new("AMAZON.WeatherAlert.Activated");
/// assert_eq!(store.subscribers_page(&weather, None, 10).await?.subscribers.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait SubscriptionStore: Send + Sync {
    /// Stores `state` if it supersedes what is stored for its user (a state,
    /// or a [`Tombstone`]), and says which happened.
    fn apply(&self, state: UserSubscriptions) -> impl Future<Output = Result<Applied, StoreError>> + Send;

    /// The stored state of one user, if any (`None` for a user who disabled the skill).
    fn get(&self, user_id: &UserId) -> impl Future<Output = Result<Option<UserSubscriptions>, StoreError>> + Send;

    /// One page of the users subscribed to `event`: those whose id is greater
    /// than `after` (from the start when `None`), sorted by user id, at most
    /// `limit` (at least 1). Continue with the page's
    /// [`next`](SubscriberPage::next) until it is `None`.
    fn subscribers_page(
        &self,
        event: &SubscribedEvent,
        after: Option<&UserId>,
        limit: usize,
    ) -> impl Future<Output = Result<SubscriberPage, StoreError>> + Send;

    /// The user disabled the skill: removes their state and every
    /// subscription, and keeps `tombstone` so that an older request arriving
    /// later changes nothing. A stored state newer than the tombstone stays
    /// ([`Disabled::Stale`]); a stored tombstone that is as new or newer stays.
    fn disable(&self, tombstone: Tombstone) -> impl Future<Output = Result<Disabled, StoreError>> + Send;

    /// Removes the tombstones dated before `older_than` (normally now minus
    /// [`TOMBSTONE_TTL`]) and says how many. A store whose database expires
    /// items by itself (DynamoDB's time to live) may remove none here.
    fn purge_tombstones(&self, older_than: DateTime<Utc>) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// A store could not read or write.
///
/// The message says what the store was doing; the cause (an I/O or database
/// error) is the [`source`](std::error::Error::source), never part of the message.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StoreError {
    message: String,
    refused: bool,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl StoreError {
    /// An error with a message and no underlying cause; for store implementations.
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), refused: false, source: None }
    }

    /// The request itself is beyond what the store can hold (too many event
    /// names, a name too long): asking again will not help. The tracker
    /// reports it as a refused request (answer HTTP 400), not a store failure.
    pub fn refused(message: impl Into<String>) -> Self {
        Self { message: message.into(), refused: true, source: None }
    }

    /// Whether the request was refused ([`refused`](Self::refused)), rather
    /// than the store failing.
    pub fn is_refused(&self) -> bool {
        self.refused
    }

    /// An error caused by `source`; for store implementations.
    pub fn with_source(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Self { message: message.into(), refused: false, source: Some(source.into()) }
    }

    /// What the store was doing when it failed.
    pub fn message(&self) -> &str {
        &self.message
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(timestamp: &str, request_id: &str) -> UserSubscriptions {
        UserSubscriptions {
            user_id: UserId::new("amzn1.ask.account.A").unwrap(),
            events: BTreeSet::new(),
            timestamp: timestamp.parse().unwrap(),
            request_id: request_id.to_owned(),
            api_endpoint: "https://api.amazonalexa.com".to_owned(),
        }
    }

    #[test]
    fn newer_timestamps_supersede_and_request_ids_break_ties() {
        let old = state("2024-05-01T12:00:00Z", "b");
        let new = state("2024-05-01T12:00:01Z", "a");
        assert!(new.supersedes(&old));
        assert!(!old.supersedes(&new));
        let tie = state("2024-05-01T12:00:00Z", "c");
        assert!(tie.supersedes(&old));
        assert!(!old.supersedes(&tie));
        assert!(!old.supersedes(&old.clone()), "a redelivered request is stale");
    }

    #[test]
    fn store_errors_keep_the_cause_out_of_the_message() {
        use std::error::Error;
        let error = StoreError::with_source("could not read `subs.db`", std::io::Error::other("disk on fire"));
        assert_eq!(error.to_string(), "could not read `subs.db`");
        assert_eq!(error.source().unwrap().to_string(), "disk on fire");
        assert!(StoreError::new("x").source().is_none());
    }
}
