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

    /// The seed of the random choices behind fault rates, so a run can be repeated.
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

/// Faults injected on the events endpoints, in this order: latency, a closed
/// connection, the rate limit, a server error. Requests that pass them are
/// authenticated, validated and answered as Amazon would.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Faults {
    /// Added before every answer.
    pub latency: Duration,
    /// At most this many event requests per second; the rest get 429 with
    /// `Retry-After` (`None`: no limit).
    pub rate_limit: Option<RateLimit>,
    /// The fraction (0 to 1) of requests answered 500 or 503 at random.
    pub server_error_rate: f64,
    /// The fraction (0 to 1) of requests whose connection is closed without a response.
    pub close_rate: f64,
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

    /// Failures at `rate` (0 to 1) in all, split evenly between server errors and
    /// closed connections.
    pub fn failing(rate: f64) -> Self {
        Self { server_error_rate: rate / 2.0, close_rate: rate / 2.0, ..Self::default() }
    }
}
