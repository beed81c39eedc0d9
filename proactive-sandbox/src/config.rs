//! How a sandbox behaves: its credentials, token lifetime and injected faults.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use std::collections::HashMap;

use crate::{RequestLog, ScriptedAnswer};

/// The configuration of a [`Sandbox`](crate::Sandbox). The defaults accept the
/// credentials [`DEFAULT_CLIENT_ID`] / [`DEFAULT_CLIENT_SECRET`], issue tokens
/// valid for an hour, and inject no faults.
#[derive(Clone)]
pub struct SandboxConfig {
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    pub(crate) token_lifetime: Duration,
    pub(crate) faults: Faults,
    pub(crate) seed: u64,
    pub(crate) on_request: Option<RequestCallback>,
    pub(crate) scripts: HashMap<String, ScriptedAnswer>,
    pub(crate) grants_scope: bool,
}

/// What [`SandboxConfig::on_request`] stores.
pub(crate) type RequestCallback = Arc<dyn Fn(&RequestLog) + Send + Sync>;

/// The client id a default sandbox accepts.
pub const DEFAULT_CLIENT_ID: &str = "amzn1.application-oa2-client.sandbox";
/// The client secret a default sandbox accepts.
pub const DEFAULT_CLIENT_SECRET: &str = "sandbox-secret";

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            client_secret: DEFAULT_CLIENT_SECRET.to_owned(),
            token_lifetime: Duration::from_secs(3600),
            faults: Faults::default(),
            seed: 0x5eed,
            on_request: None,
            scripts: HashMap::new(),
            grants_scope: true,
        }
    }
}

impl SandboxConfig {
    /// The default configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// The client id and secret the token endpoint accepts.
    pub fn credentials(mut self, client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        self.client_id = client_id.into();
        self.client_secret = client_secret.into();
        self
    }

    /// How long issued tokens stay valid (`expires_in`); a short lifetime lets a
    /// test watch a client refresh its token.
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// The faults to inject on the events endpoints.
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// The seed mixed into the fault decisions: with another seed, other
    /// requests are faulted (the decisions stay a function of each request, see [`Faults`]).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Answers every valid event sent to the Unicast user `user_id` with
    /// `answer` instead of accepting it: the refusals real users cause (not
    /// subscribed, skill not enabled, ...), for testing what a sender does with
    /// them. Multicast events and other users are answered as usual.
    ///
    /// ```
    /// use proactive_sandbox::{SandboxConfig, ScriptedAnswer};
    /// let config = SandboxConfig::new().answer_for("amzn1.ask.account.GONE", ScriptedAnswer::NotSubscribed);
    /// ```
    pub fn answer_for(mut self, user_id: impl Into<String>, answer: ScriptedAnswer) -> Self {
        self.scripts.insert(user_id.into(), answer);
        self
    }

    /// Answers every token request with LWA's `invalid_scope`, as Login with
    /// Amazon answers for a skill whose manifest lacks the notifications
    /// permission or the event publications.
    pub fn without_proactive_events(mut self) -> Self {
        self.grants_scope = false;
        self
    }

    /// Called once for every request the sandbox answers (the CLI prints them).
    pub fn on_request(mut self, callback: impl Fn(&RequestLog) + Send + Sync + 'static) -> Self {
        self.on_request = Some(Arc::new(callback));
        self
    }
}

impl fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("token_lifetime", &self.token_lifetime)
            .field("faults", &self.faults)
            .field("seed", &self.seed)
            .field("scripts", &self.scripts)
            .finish_non_exhaustive()
    }
}

/// Faults injected on the events endpoints, in this order: latency, then (for
/// an authenticated request whose body names a `referenceId`) the forced
/// failures, a closed connection, the rate limit, a server error. Requests that
/// pass them are validated and answered as Amazon would.
///
/// Whether a request is faulted is decided from the request itself, never from
/// a random sequence shared by concurrent requests: from a hash of the
/// configuration's [`seed`](crate::SandboxConfig::seed), the envelope's
/// `referenceId` and the attempt number (the how-many-th request with that
/// `referenceId` the sandbox has seen, from 1). The same events therefore meet
/// the same faults whatever their order or concurrency, run after run. A body
/// with no readable `referenceId` is never faulted (it gets its 400 or 403).
/// Only the rate limit depends on time.
///
/// ```
/// use proactive_sandbox::Faults;
///
/// // A fifth of attempts fail, but never more than 3 attempts of one event:
/// // a client making 4 or more attempts delivers every event.
/// let faults = Faults { faults_per_event: Some(3), ..Faults::failing(0.2) };
/// assert_eq!(faults.server_error_rate, 0.1);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// Added before every answer.
    pub latency: Duration,
    /// At most this many event requests per second; the rest get 429 with
    /// `Retry-After` (`None`: no limit).
    pub rate_limit: Option<RateLimit>,
    /// The fraction (0 to 1) of attempts answered 500 or 503.
    pub server_error_rate: f64,
    /// The fraction (0 to 1) of attempts whose connection is closed without a
    /// response (after the request was read, before it is processed).
    pub close_rate: f64,
    /// At most this many attempts of one event (one `referenceId`) meet a
    /// fault (a closed connection, a 429 or a server error); its later
    /// attempts pass them. `None`: no bound, so an event may fail every
    /// attempt. Forced failures ([`failing_attempts`](Self::failing_attempts))
    /// are not bounded by it.
    pub faults_per_event: Option<u32>,
    /// The first this-many attempts of every event are answered 503 with
    /// `Retry-After: failing_retry_after_secs`: a retry the test can count on.
    pub failing_attempts: u32,
    /// The `Retry-After` of the forced failures, in seconds.
    pub failing_retry_after_secs: u32,
}

/// A rate limit: requests over `per_second` in a one-second window get 429.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed in each one-second window.
    pub per_second: u32,
    /// The `Retry-After` header's value, in seconds.
    pub retry_after_secs: u32,
}

impl Faults {
    /// No faults.
    pub fn none() -> Self {
        Self::default()
    }

    /// Failures at `rate` (0 to 1) of attempts in all, split evenly between
    /// server errors and closed connections, with no bound per event.
    pub fn failing(rate: f64) -> Self {
        Self { server_error_rate: rate / 2.0, close_rate: rate / 2.0, ..Self::default() }
    }

    /// Whether any fault needs the request's `referenceId` and attempt number.
    pub(crate) fn per_attempt(&self) -> bool {
        self.server_error_rate > 0.0 || self.close_rate > 0.0 || self.rate_limit.is_some() || self.failing_attempts > 0
    }
}

/// A number in `0..1` decided by `seed`, `reference_id` and `attempt` alone
/// (FNV-1a, then the SplitMix64 finalizer to spread the bits).
pub(crate) fn roll(seed: u64, reference_id: &str, attempt: u32) -> f64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let bytes = seed.to_le_bytes().into_iter().chain(reference_id.bytes()).chain(attempt.to_le_bytes());
    for byte in bytes {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash = (hash ^ (hash >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash = (hash ^ (hash >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^= hash >> 31;
    (hash >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::roll;

    #[test]
    fn rolls_depend_on_the_request_only_and_spread_evenly() {
        assert_eq!(roll(1, "order-1", 1), roll(1, "order-1", 1));
        assert_ne!(roll(1, "order-1", 1), roll(1, "order-1", 2));
        assert_ne!(roll(1, "order-1", 1), roll(2, "order-1", 1));
        let under = (0..10_000).filter(|i| roll(7, &format!("r{i}"), 1) < 0.2).count();
        assert!((1_800..2_200).contains(&under), "{under} of 10000 under 0.2");
    }
}
