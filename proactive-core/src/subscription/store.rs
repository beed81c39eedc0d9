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
}

/// A user to send an event to, from [`SubscriptionStore::subscribers`].
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
///   [`UserSubscriptions::supersedes`] and replaces in one step, so that
///   concurrent calls for the same user never lose the newest state.
/// - A state with no events is stored, not deleted (it guards against older
///   requests arriving later) and is never among [`subscribers`](Self::subscribers).
/// - Results are deterministic: [`subscribers`](Self::subscribers) is sorted by
///   user id.
///
/// # Implementing a store
///
/// A store over a map behind a mutex; a database store does the same with a
/// transaction (or a conditional write) in `apply`:
///
/// ```
/// use std::collections::BTreeMap;
/// use std::sync::Mutex;
///
/// use proactive_core::UserId;
/// use proactive_core::subscription::{
///     Applied, StoreError, SubscribedEvent, Subscriber, SubscriptionStore, UserSubscriptions,
/// };
///
/// #[derive(Default)]
/// struct MapStore(Mutex<BTreeMap<UserId, UserSubscriptions>>);
///
/// impl MapStore {
///     fn users(&self) -> Result<std::sync::MutexGuard<'_, BTreeMap<UserId, UserSubscriptions>>, StoreError> {
///         self.0.lock().map_err(|_| StoreError::new("the store's lock is poisoned"))
///     }
/// }
///
/// impl SubscriptionStore for MapStore {
///     async fn apply(&self, state: UserSubscriptions) -> Result<Applied, StoreError> {
///         // One lock for the comparison and the write: atomic per user.
///         let mut users = self.users()?;
///         match users.get(&state.user_id) {
///             Some(stored) if !state.supersedes(stored) => Ok(Applied::Stale { stored: stored.clone() }),
///             _ => Ok(Applied::Stored { previous: users.insert(state.user_id.clone(), state) }),
///         }
///     }
///
///     async fn get(&self, user_id: &UserId) -> Result<Option<UserSubscriptions>, StoreError> {
///         Ok(self.users()?.get(user_id).cloned())
///     }
///
///     async fn subscribers(&self, event: &SubscribedEvent) -> Result<Vec<Subscriber>, StoreError> {
///         // A BTreeMap iterates in key order: sorted by user id, as the contract asks.
///         let users = self.users()?;
///         let subscribed = users.values().filter(|state| state.events.contains(event));
///         Ok(subscribed
///             .map(|state| Subscriber { user_id: state.user_id.clone(), api_endpoint: state.api_endpoint.clone() })
///             .collect())
///     }
///
///     async fn delete(&self, user_id: &UserId) -> Result<Option<UserSubscriptions>, StoreError> {
///         Ok(self.users()?.remove(user_id))
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
/// assert_eq!(store.subscribers(&weather).await?.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait SubscriptionStore: Send + Sync {
    /// Stores `state` if it supersedes what is stored for its user, and says
    /// which happened.
    fn apply(&self, state: UserSubscriptions) -> impl Future<Output = Result<Applied, StoreError>> + Send;

    /// The stored state of one user, if any.
    fn get(&self, user_id: &UserId) -> impl Future<Output = Result<Option<UserSubscriptions>, StoreError>> + Send;

    /// Every user subscribed to `event`, sorted by user id.
    fn subscribers(&self, event: &SubscribedEvent) -> impl Future<Output = Result<Vec<Subscriber>, StoreError>> + Send;

    /// Forgets `user_id` entirely: its state and every subscription. Returns the
    /// state it removed, `None` when the store held nothing for that user.
    ///
    /// For the skill lifecycle: a user who disables the skill gets a new user id
    /// if they enable it again, so the old id will never be used again and
    /// nothing needs to be kept to order later requests against.
    fn delete(&self, user_id: &UserId) -> impl Future<Output = Result<Option<UserSubscriptions>, StoreError>> + Send;
}

/// A store could not read or write.
///
/// The message says what the store was doing; the cause (an I/O or database
/// error) is the [`source`](std::error::Error::source), never part of the message.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StoreError {
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl StoreError {
    /// An error with a message and no underlying cause; for store implementations.
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), source: None }
    }

    /// An error caused by `source`; for store implementations.
    pub fn with_source(
        message: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        Self { message: message.into(), source: Some(source.into()) }
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
