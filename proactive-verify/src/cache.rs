//! Verified chains by URL until their `notAfter`: bounded, and one download
//! per URL at a time however many requests need it (as the client's token
//! cache does).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};

use crate::cert::VerifiedChain;
use crate::error::VerifyError;
use crate::url::CertUrl;

/// How many chains are kept by default. Alexa uses one URL at a time, and a
/// new one when the certificate is renewed.
pub const DEFAULT_CAPACITY: usize = 16;

pub(crate) type Fetch = Shared<BoxFuture<'static, Result<Arc<VerifiedChain>, VerifyError>>>;

enum Slot {
    Ready(Arc<VerifiedChain>),
    /// The download in flight, awaited by every request that needs this URL.
    Fetching(Fetch),
}

pub(crate) struct Cache {
    capacity: usize,
    slots: Mutex<HashMap<CertUrl, Slot>>,
    downloads: AtomicU64,
}

impl Cache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self { capacity: capacity.max(1), slots: Mutex::default(), downloads: AtomicU64::new(0) }
    }

    fn slots(&self) -> MutexGuard<'_, HashMap<CertUrl, Slot>> {
        // Nothing panics while holding the lock; a poisoned map is still a valid cache.
        self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How many downloads were started.
    pub(crate) fn downloads(&self) -> u64 {
        self.downloads.load(Ordering::Relaxed)
    }

    /// The chain for `url` valid at `now`: the cached one, the download in
    /// flight, or a new download made by `start`.
    pub(crate) async fn get(
        &self,
        url: &CertUrl,
        now: DateTime<Utc>,
        start: impl FnOnce() -> BoxFuture<'static, Result<Arc<VerifiedChain>, VerifyError>>,
    ) -> Result<Arc<VerifiedChain>, VerifyError> {
        let fetch = {
            let mut slots = self.slots();
            match slots.get(url) {
                Some(Slot::Ready(chain)) if chain.valid_at(now) => return Ok(Arc::clone(chain)),
                Some(Slot::Fetching(fetch)) => fetch.clone(),
                _ => {
                    self.downloads.fetch_add(1, Ordering::Relaxed);
                    let fetch = start().shared();
                    if make_room(&mut slots, url, now, self.capacity) {
                        slots.insert(url.clone(), Slot::Fetching(fetch.clone()));
                    }
                    fetch
                }
            }
        };
        // If every request awaiting the download is cancelled, it stays stored
        // and the next request for the URL resumes it.
        let result = fetch.clone().await;
        let mut slots = self.slots();
        if let Some(Slot::Fetching(stored)) = slots.get(url)
            && stored.ptr_eq(&fetch)
        {
            match &result {
                Ok(chain) if chain.valid_at(now) => {
                    slots.insert(url.clone(), Slot::Ready(Arc::clone(chain)));
                }
                // A failure is not cached: the next request tries again.
                _ => {
                    slots.remove(url);
                }
            }
        }
        result
    }
}

/// Frees a slot for `url` if the cache is full: drops expired chains, then the
/// chain that expires first. Downloads in flight are never dropped; when every
/// slot holds one, returns `false` and the new download is not shared.
fn make_room(slots: &mut HashMap<CertUrl, Slot>, url: &CertUrl, now: DateTime<Utc>, capacity: usize) -> bool {
    if slots.contains_key(url) || slots.len() < capacity {
        return true;
    }
    slots.retain(|_, slot| !matches!(slot, Slot::Ready(chain) if !chain.valid_at(now)));
    if slots.len() < capacity {
        return true;
    }
    let first_to_expire = slots
        .iter()
        .filter_map(|(key, slot)| match slot {
            Slot::Ready(chain) => Some((chain.not_after, key.clone())),
            Slot::Fetching(_) => None,
        })
        .min_by(|a, b| a.0.cmp(&b.0));
    match first_to_expire {
        Some((_, key)) => {
            slots.remove(&key);
            true
        }
        None => false,
    }
}
