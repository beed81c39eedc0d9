//! Verified chains by URL until their `notAfter`, downloads in flight, and
//! recent failures: three separate maps, so that downloads (which anyone can
//! start with an unsigned request) never push out a verified chain.
//!
//! - At most `max_downloads` downloads run at once; the others wait for a turn
//!   (at most [`QUEUE_WAIT`], then they fail without being remembered).
//! - One download per URL at a time, however many requests need it (as the
//!   client's token cache does). A download lives only as long as some request
//!   awaits it: when every client that wanted it hangs up, it is dropped, and
//!   its turn goes to the next.
//! - A URL whose download or chain failed is refused from memory for
//!   `failure_ttl`, without a new download.
//! - Only chains that verified are kept, at most `capacity`: the expired ones
//!   go first, then the one that expires first.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared, WeakShared};
use tokio::sync::Semaphore;

use crate::cert::VerifiedChain;
use crate::error::{VerifyError, clip};
use crate::url::CertUrl;

/// How many chains are kept by default. Alexa uses one URL at a time, and a
/// new one when the certificate is renewed.
pub const DEFAULT_CAPACITY: usize = 16;
/// How many certificate downloads run at once by default.
pub const DEFAULT_MAX_DOWNLOADS: usize = 4;
/// How long a URL whose download or chain failed is refused without a new
/// download, by default.
pub const DEFAULT_FAILURE_TTL: Duration = Duration::from_secs(30);
/// How long a download waits for its turn before it fails (not remembered).
pub const QUEUE_WAIT: Duration = Duration::from_secs(5);
/// How many failed URLs are remembered at most.
const MAX_FAILED: usize = 1024;

type Download = BoxFuture<'static, Result<Arc<VerifiedChain>, VerifyError>>;
type Fetch = Shared<Download>;

/// What the cache knows, under one lock.
#[derive(Default)]
struct State {
    /// Chains that verified, at most `capacity`.
    ready: HashMap<CertUrl, Arc<VerifiedChain>>,
    /// Downloads awaited by at least one request (a dead entry is one nobody awaits).
    in_flight: HashMap<CertUrl, WeakShared<Download>>,
    /// Failed URLs, with when they may be tried again and why they failed.
    failed: HashMap<CertUrl, (DateTime<Utc>, VerifyError)>,
}

pub(crate) struct Cache {
    capacity: usize,
    failure_ttl: chrono::Duration,
    state: Mutex<State>,
    turns: Arc<Semaphore>,
    downloads: Arc<AtomicU64>,
}

impl Cache {
    pub(crate) fn new(capacity: usize, max_downloads: usize, failure_ttl: Duration) -> Self {
        Self {
            capacity: capacity.max(1),
            failure_ttl: chrono::Duration::from_std(failure_ttl).unwrap_or(chrono::Duration::MAX),
            state: Mutex::default(),
            turns: Arc::new(Semaphore::new(max_downloads.max(1))),
            downloads: Arc::default(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; a poisoned map is still a valid cache.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How many downloads were started.
    pub(crate) fn downloads(&self) -> u64 {
        self.downloads.load(Ordering::Relaxed)
    }

    /// The chain for `url` valid at `now`: the cached one, the remembered
    /// failure, the download in flight, or a new download made by `start` when
    /// its turn comes.
    pub(crate) async fn get(
        &self,
        url: &CertUrl,
        now: DateTime<Utc>,
        start: impl FnOnce() -> Download + Send + 'static,
    ) -> Result<Arc<VerifiedChain>, VerifyError> {
        let fetch = {
            let mut state = self.state();
            match self.known(&mut state, url, now) {
                Some(known) => return known,
                None => self.join_or_start(&mut state, url, start),
            }
        };
        let result = fetch.clone().await;
        let mut state = self.state();
        if state.in_flight.get(url).and_then(WeakShared::upgrade).is_some_and(|stored| stored.ptr_eq(&fetch)) {
            state.in_flight.remove(url);
        }
        match &result {
            Ok(chain) if chain.valid_at(now) => self.keep(&mut state, url, chain, now),
            Err(VerifyError::Download { problem, .. }) if problem == BUSY => {}
            Err(error) => remember_failure(&mut state, url, error, now + self.failure_ttl, now),
            Ok(_) => {}
        }
        result
    }

    /// What is already known about `url`: a chain valid at `now`, or a recent failure.
    fn known(
        &self,
        state: &mut State,
        url: &CertUrl,
        now: DateTime<Utc>,
    ) -> Option<Result<Arc<VerifiedChain>, VerifyError>> {
        if let Some(chain) = state.ready.get(url).filter(|chain| chain.valid_at(now)) {
            return Some(Ok(Arc::clone(chain)));
        }
        match state.failed.get(url) {
            Some((until, error)) if now < *until => Some(Err(error.clone())),
            Some(_) => {
                state.failed.remove(url);
                None
            }
            None => None,
        }
    }

    /// The download in flight for `url`, or a new one that waits for its turn.
    fn join_or_start(
        &self,
        state: &mut State,
        url: &CertUrl,
        start: impl FnOnce() -> Download + Send + 'static,
    ) -> Fetch {
        if let Some(fetch) = state.in_flight.get(url).and_then(WeakShared::upgrade) {
            return fetch;
        }
        let (turns, downloads, quoted) =
            (Arc::clone(&self.turns), Arc::clone(&self.downloads), clip(url.as_str(), 100));
        let download: Download = Box::pin(async move {
            let busy = || VerifyError::Download { url: quoted.clone(), problem: BUSY.to_owned(), source: None };
            let _turn = match tokio::time::timeout(QUEUE_WAIT, turns.acquire_owned()).await {
                Ok(Ok(turn)) => turn,
                _ => return Err(busy()),
            };
            downloads.fetch_add(1, Ordering::Relaxed);
            start().await
        });
        let fetch = download.shared();
        // Downloads nobody awaits any more are dropped: forget them.
        state.in_flight.retain(|_, weak| weak.upgrade().is_some());
        if let Some(weak) = fetch.downgrade() {
            state.in_flight.insert(url.clone(), weak);
        }
        fetch
    }

    /// Keeps a chain that verified, making room among the verified chains only.
    fn keep(&self, state: &mut State, url: &CertUrl, chain: &Arc<VerifiedChain>, now: DateTime<Utc>) {
        state.failed.remove(url);
        let ready = &mut state.ready;
        if !ready.contains_key(url) && ready.len() >= self.capacity {
            ready.retain(|_, chain| chain.valid_at(now));
            if ready.len() >= self.capacity
                && let Some(first) = ready.iter().min_by_key(|(_, chain)| chain.not_after).map(|(key, _)| key.clone())
            {
                ready.remove(&first);
            }
        }
        ready.insert(url.clone(), Arc::clone(chain));
    }
}

/// The problem of a download that did not get its turn in time.
const BUSY: &str = "too many certificate downloads are in progress; try again later";

/// Remembers that `url` failed until `until`; when the memory is full, the
/// failures past their time go first, then the one that ends first.
fn remember_failure(state: &mut State, url: &CertUrl, error: &VerifyError, until: DateTime<Utc>, now: DateTime<Utc>) {
    let failed = &mut state.failed;
    if !failed.contains_key(url) && failed.len() >= MAX_FAILED {
        failed.retain(|_, (until, _)| now < *until);
        if failed.len() >= MAX_FAILED
            && let Some(first) = failed.iter().min_by_key(|(_, (until, _))| *until).map(|(key, _)| key.clone())
        {
            failed.remove(&first);
        }
    }
    failed.insert(url.clone(), (until, error.clone()));
}
