//! A subscription store in memory: for tests and single-process prototypes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};

use super::event::SubscribedEvent;
use super::store::{
    Applied, Disabled, StoreError, Subscriber, SubscriberPage, SubscriptionStore, Tombstone, UserSubscriptions,
};
use crate::UserId;

/// A [`SubscriptionStore`] in memory. Everything is lost when the process ends.
///
/// Cloning is cheap and the clones share one store, so a server can hand a
/// clone to every task. Each call holds a lock for a few map operations and
/// never awaits while holding it.
///
/// ```
/// use proactive_core::subscription::{MemoryStore, SubscriptionTracker};
///
/// let store = MemoryStore::new();
/// let tracker = SubscriptionTracker::new(store.clone()); // the clone shares the store
/// assert!(store.is_empty());
/// # let _ = tracker;
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    users: HashMap<UserId, UserSubscriptions>,
    /// For each event, its subscribers: kept in step with `users` so that
    /// fan-out does not scan every user.
    by_event: BTreeMap<SubscribedEvent, BTreeSet<UserId>>,
    /// Users who disabled the skill, until their tombstones are purged.
    tombstones: HashMap<UserId, Tombstone>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many users the store holds a state for (including users subscribed
    /// to nothing).
    pub fn len(&self) -> usize {
        self.lock().users.len()
    }

    /// Whether the store holds no user at all.
    pub fn is_empty(&self) -> bool {
        self.lock().users.is_empty()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every update below leaves `Inner` consistent before anything that can
        // panic, so a poisoned lock still guards consistent data.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Inner {
    fn apply(&mut self, state: UserSubscriptions) -> Applied {
        if let Some(tombstone) = self.tombstones.get(&state.user_id) {
            if !tombstone.is_superseded_by(&state) {
                return Applied::Disabled { tombstone: tombstone.clone() };
            }
            self.tombstones.remove(&state.user_id);
        }
        if let Some(stored) = self.users.get(&state.user_id) {
            if !state.supersedes(stored) {
                return Applied::Stale { stored: stored.clone() };
            }
            for event in stored.events.difference(&state.events) {
                if let Some(users) = self.by_event.get_mut(event) {
                    users.remove(&state.user_id);
                    if users.is_empty() {
                        self.by_event.remove(event);
                    }
                }
            }
        }
        for event in &state.events {
            self.by_event.entry(event.clone()).or_default().insert(state.user_id.clone());
        }
        let previous = self.users.insert(state.user_id.clone(), state);
        Applied::Stored { previous }
    }

    fn disable(&mut self, tombstone: Tombstone) -> Disabled {
        if let Some(stored) = self.users.get(&tombstone.user_id)
            && !tombstone.supersedes(stored)
        {
            return Disabled::Stale { stored: stored.clone() };
        }
        let previous = self.remove(&tombstone.user_id);
        match self.tombstones.get(&tombstone.user_id) {
            Some(kept) if (kept.timestamp, &kept.request_id) >= (tombstone.timestamp, &tombstone.request_id) => {}
            _ => {
                self.tombstones.insert(tombstone.user_id.clone(), tombstone);
            }
        }
        Disabled::Removed { previous }
    }

    fn remove(&mut self, user_id: &UserId) -> Option<UserSubscriptions> {
        let removed = self.users.remove(user_id)?;
        for event in &removed.events {
            if let Some(users) = self.by_event.get_mut(event) {
                users.remove(user_id);
                if users.is_empty() {
                    self.by_event.remove(event);
                }
            }
        }
        Some(removed)
    }

    fn page(&self, event: &SubscribedEvent, after: Option<&UserId>, limit: usize) -> SubscriberPage {
        let limit = limit.max(1);
        let Some(users) = self.by_event.get(event) else {
            return SubscriberPage::default();
        };
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        let mut ids = users.range::<UserId, _>((start, Bound::Unbounded));
        let subscribers: Vec<Subscriber> = ids
            .by_ref()
            .take(limit)
            .filter_map(|user_id| self.users.get(user_id))
            .map(|state| Subscriber { user_id: state.user_id.clone(), api_endpoint: state.api_endpoint.clone() })
            .collect();
        // One id beyond the page says whether there is a next page.
        let next = ids.next().and(subscribers.last()).map(|last| last.user_id.clone());
        SubscriberPage { subscribers, next }
    }

    fn purge(&mut self, older_than: DateTime<Utc>) -> u64 {
        let before = self.tombstones.len();
        self.tombstones.retain(|_, tombstone| tombstone.timestamp >= older_than);
        (before - self.tombstones.len()) as u64
    }
}

impl SubscriptionStore for MemoryStore {
    async fn apply(&self, state: UserSubscriptions) -> Result<Applied, StoreError> {
        Ok(self.lock().apply(state))
    }

    async fn get(&self, user_id: &UserId) -> Result<Option<UserSubscriptions>, StoreError> {
        Ok(self.lock().users.get(user_id).cloned())
    }

    async fn subscribers_page(
        &self,
        event: &SubscribedEvent,
        after: Option<&UserId>,
        limit: usize,
    ) -> Result<SubscriberPage, StoreError> {
        Ok(self.lock().page(event, after, limit))
    }

    async fn disable(&self, tombstone: Tombstone) -> Result<Disabled, StoreError> {
        Ok(self.lock().disable(tombstone))
    }

    async fn purge_tombstones(&self, older_than: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(self.lock().purge(older_than))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(millis: i64, events: &[&str]) -> UserSubscriptions {
        UserSubscriptions {
            user_id: UserId::new("amzn1.ask.account.A").unwrap(),
            events: events.iter().map(|name| SubscribedEvent::new(name)).collect(),
            timestamp: chrono::DateTime::from_timestamp_millis(millis).unwrap(),
            request_id: millis.to_string(),
            api_endpoint: "https://api.amazonalexa.com".to_owned(),
        }
    }

    #[test]
    fn the_event_index_follows_the_users() {
        let store = MemoryStore::new();
        assert!(store.is_empty());
        let mut inner = store.lock();
        assert!(matches!(inner.apply(state(1, &["a", "b"])), Applied::Stored { previous: None }));
        assert!(matches!(inner.apply(state(2, &["b", "c"])), Applied::Stored { previous: Some(_) }));
        assert!(matches!(inner.apply(state(0, &["a"])), Applied::Stale { .. }));
        let indexed: Vec<_> = inner.by_event.keys().map(SubscribedEvent::as_str).collect();
        assert_eq!(indexed, ["b", "c"], "an event nobody subscribes to leaves the index");
        assert!(matches!(inner.apply(state(3, &[])), Applied::Stored { .. }));
        assert!(inner.by_event.is_empty());
        drop(inner);
        assert_eq!(store.len(), 1, "a user subscribed to nothing is kept");
    }

    fn tombstone(millis: i64) -> Tombstone {
        Tombstone {
            user_id: UserId::new("amzn1.ask.account.A").unwrap(),
            timestamp: chrono::DateTime::from_timestamp_millis(millis).unwrap(),
            request_id: format!("disabled-{millis}"),
        }
    }

    #[test]
    fn disable_takes_the_user_out_of_the_index() {
        let store = MemoryStore::new();
        let mut inner = store.lock();
        inner.apply(state(1, &["a", "b"]));
        let Disabled::Removed { previous: Some(removed) } = inner.disable(tombstone(2)) else {
            panic!("the user was stored")
        };
        assert_eq!(removed.events.len(), 2);
        assert!(inner.by_event.is_empty(), "no event keeps a disabled user");
        assert_eq!(inner.disable(tombstone(3)), Disabled::Removed { previous: None }, "a second disable finds nothing");
        assert_eq!(inner.tombstones[&removed.user_id].timestamp, tombstone(3).timestamp, "the newer tombstone is kept");
        assert_eq!(inner.purge(tombstone(4).timestamp), 1);
        assert!(inner.tombstones.is_empty());
        drop(inner);
        assert!(store.is_empty());
    }
}
