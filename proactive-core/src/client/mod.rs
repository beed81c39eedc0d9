//! The client: Login with Amazon tokens, sending envelopes with retries, and
//! bulk sends that never lose an event (the `client` feature, on by default).
//!
//! Build one [`Client`] and share it: clones are cheap and share the connection
//! pool and the token cache.
//!
//! ```no_run
//! use proactive_core::client::{BulkSummary, Client, Stage};
//! use proactive_core::schemas::WeatherAlertActivated;
//! use proactive_core::schemas::weather_alert_activated::{WeatherAlert, WeatherAlertType};
//! use proactive_core::{Audience, Envelope, ReferenceId, Region};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // The skill's "Alexa Skill Messaging" credentials (Permissions page).
//! let client = Client::builder(std::env::var("ALEXA_CLIENT_ID")?, std::env::var("ALEXA_CLIENT_SECRET")?)
//!     .region(Region::Europe) // or .api_endpoint(apiEndpoint of a skill request)
//!     .stage(Stage::Live) // the default is Stage::Development
//!     .build()?;
//!
//! let alert = WeatherAlertActivated::builder()
//!     .weather_alert(WeatherAlert::builder().alert_type(WeatherAlertType::Tornado).build())
//!     .build();
//! let envelope = Envelope::builder(alert, Audience::Multicast).build();
//!
//! // One event: validated, then sent with retries.
//! let accepted = client.send(&envelope).await?;
//! println!("{} after {} attempt(s)", accepted.status(), accepted.attempts());
//!
//! // Many events: at most 16 in flight, one outcome per event, none lost.
//! let envelopes = (0..1000).map(|_| Envelope { reference_id: ReferenceId::random(), ..envelope.clone() });
//! let mut outcomes = client.send_all(envelopes, 16);
//! let mut summary = BulkSummary::new();
//! while let Some(outcome) = outcomes.next().await {
//!     if let Err(error) = &outcome.result {
//!         eprintln!("event {} ({}): {error}", outcome.index, outcome.reference_id);
//!     }
//!     summary.record(&outcome);
//! }
//! println!("{summary}; {} token request(s)", client.token_requests());
//! # Ok(())
//! # }
//! ```
//!
//! What it does, in order, for each envelope:
//!
//! - validates it with [`Envelope::validate_at`](crate::Envelope::validate_at) (now): errors refuse to send
//!   ([`SendError::Invalid`]), warnings come back in [`Accepted::warnings`]; an
//!   `expiryTime` outside now + 5 min ..= now + 24 h is such an error, as Amazon
//!   answers 400 for it (re-stamp stored envelopes with
//!   [`Envelope::restamp`](crate::Envelope::restamp)). A [`PreparedEnvelope`]
//!   was validated and serialized ahead, where it was made: sending it checks
//!   only the now-window;
//! - takes a token from the cache, or asks Login with Amazon for one (the
//!   client-credentials grant, every form value percent-encoded); the cached token
//!   is replaced a margin before it expires, and however many tasks need a token
//!   at once, one request is made;
//! - POSTs to `{host}/v1/proactiveEvents` (live) or
//!   `{host}/v1/proactiveEvents/stages/development` over a pooled HTTP/1.1
//!   connection (through a proxy when the system's settings, such as
//!   `HTTPS_PROXY` and `NO_PROXY`, name one for the host); any 2xx is success;
//! - retries 429, 5xx, timeouts and connection failures per the
//!   [`RetryPolicy`], honouring `Retry-After`, with the same referenceId; a
//!   401/403 gets one retry with a new token; 400, 403 (after that) and 409 are
//!   final, except that a 409 after an attempt whose answer was lost means that
//!   attempt was delivered ([`Accepted::by_earlier_attempt`]);
//! - classifies Amazon's refusals ([`ApiError::kind`]: not subscribed, skill not
//!   enabled, token, request, rate limit, server, duplicate), each kind with a
//!   one-line hint of what to do.
//!
//! Everything is traced with [`tracing`](https://docs.rs/tracing) (spans
//! `proactive.send`, `proactive.token` and `proactive.bulk`); no secret or token
//! ever appears in a span, an event, an error or a `Debug` string.

mod bulk;
mod config;
mod connections;
mod error;
mod http;
mod prepared;
mod retry;
mod send;
mod token;
mod transport;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
pub use secrecy::SecretString;

pub use bulk::{BulkOutcome, BulkSend, BulkSummary, Outcome};
pub use config::{
    ClientBuilder, DEFAULT_CONNECT_TIMEOUT, DEFAULT_REFRESH_MARGIN, DEFAULT_REQUEST_TIMEOUT, DEFAULT_TOKEN_URL, Stage,
    USER_AGENT, UnknownStage,
};
pub use error::{
    ApiError, ApiErrorKind, BuildError, DispatchError, InvalidEnvelope, ResponseError, SendError, TokenError,
    TokenErrorKind,
};
pub use prepared::PreparedEnvelope;
pub use retry::RetryPolicy;
pub use send::Accepted;

use crate::Region;

/// Sends proactive events to Amazon. Cheap to clone (two reference counts);
/// clones share the connection pool and the token cache. `Send + Sync`.
///
/// Made with [`Client::builder`]; see the [module docs](self) for an example.
///
/// ```
/// use proactive_core::client::Client;
///
/// let client = Client::builder("id", "secret").build()?;
/// let for_another_task = client.clone(); // shares the pool and the token cache
/// assert_eq!(for_another_task.token_requests(), 0, "no token until the first send");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
    target: Arc<Target>,
}

/// What every clone shares, whatever its region and stage.
struct Shared {
    transport: transport::Transport,
    tokens: token::Tokens,
    retry: RetryPolicy,
    request_timeout: Duration,
    base_url: Option<Url>,
    /// Whether proxies are off: a plain-http loopback URL is configured, and a
    /// proxy would see the token.
    no_proxy: bool,
}

/// Where this clone sends.
struct Target {
    region: Region,
    stage: Stage,
    events_url: Url,
    /// `events_url` as hyper takes it.
    events_uri: ::http::Uri,
    /// Its `Host` header, made once rather than for every request.
    events_host: ::http::HeaderValue,
    /// Whether events go through a proxy: the system's settings name one for
    /// `events_url`, and proxies are not off.
    proxied: bool,
}

impl Target {
    fn new(region: Region, stage: Stage, base_url: Option<&Url>, no_proxy: bool) -> Target {
        let events_url = config::events_url(base_url, region, stage);
        // A parsed URL is a valid URI.
        let events_uri: ::http::Uri = events_url.as_str().parse().expect("a URL is a valid URI");
        let proxied = !no_proxy && transport::Transport::is_proxied(&events_uri);
        let events_host = transport::host_header(&events_url);
        Target { region, stage, events_url, events_uri, events_host, proxied }
    }
}

impl Client {
    /// Starts configuring a client with the skill's "Alexa Skill Messaging"
    /// client id and secret (on the skill's Permissions page in the developer
    /// console). Both are kept as [`SecretString`]s: `Debug` never shows them.
    ///
    /// The defaults: North America, the development stage, Amazon's hosts,
    /// [`RetryPolicy::default`], the timeouts and refresh margin of the
    /// `DEFAULT_*` constants.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use proactive_core::Region;
    /// use proactive_core::client::{Client, RetryPolicy, Stage};
    ///
    /// let client = Client::builder("amzn1.application-oa2-client.ID", "s3cr3t-value")
    ///     .region(Region::Europe)
    ///     .stage(Stage::Live)
    ///     .request_timeout(Duration::from_secs(10))
    ///     .build()?;
    /// assert_eq!(client.region(), Region::Europe);
    /// assert!(!format!("{client:?}").contains("s3cr3t-value"), "Debug never shows the secret");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder(client_id: impl Into<SecretString>, client_secret: impl Into<SecretString>) -> ClientBuilder {
        ClientBuilder::new(client_id.into(), client_secret.into())
    }

    /// The region whose host receives the events.
    pub fn region(&self) -> Region {
        self.target.region
    }

    /// The stage whose endpoint receives the events.
    pub fn stage(&self) -> Stage {
        self.target.stage
    }

    /// The URL events are POSTed to.
    pub fn events_url(&self) -> &str {
        self.target.events_url.as_str()
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.shared.retry
    }

    /// A client for another region that shares this one's token cache and
    /// connection pool (the token is valid in every region). With a base URL
    /// configured, events still go to the base URL.
    pub fn with_region(&self, region: Region) -> Client {
        self.retarget(region, self.target.stage)
    }

    /// A client for another stage that shares this one's token cache and
    /// connection pool.
    pub fn with_stage(&self, stage: Stage) -> Client {
        self.retarget(self.target.region, stage)
    }

    fn retarget(&self, region: Region, stage: Stage) -> Client {
        let target = Target::new(region, stage, self.shared.base_url.as_ref(), self.shared.no_proxy);
        Client { shared: Arc::clone(&self.shared), target: Arc::new(target) }
    }

    /// Makes sure a token can be had, without sending an event: uses the cached
    /// token, or asks Login with Amazon for one. `proactive doctor` uses it to
    /// check the credentials and the skill's `alexa::proactive_events` scope
    /// (LWA's `invalid_scope` means the manifest lacks the permission or the
    /// publications).
    pub async fn check_token(&self) -> Result<(), TokenError> {
        self.shared.tokens.get().await.map(|_| ())
    }

    /// How many token requests this client (and its clones) made, retries
    /// included: with a healthy endpoint, one per token lifetime.
    pub fn token_requests(&self) -> u64 {
        self.shared.tokens.requests()
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("region", &self.target.region)
            .field("stage", &self.target.stage)
            .field("events_url", &self.target.events_url.as_str())
            .field("events_via_proxy", &self.target.proxied)
            .field("tokens", &self.shared.tokens)
            .field("retry", &self.shared.retry)
            .field("request_timeout", &self.shared.request_timeout)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}

    #[test]
    fn client_is_shareable() {
        assert_send_sync::<Client>();
        fn assert_error<E: std::error::Error + Send + Sync + 'static>() {}
        assert_error::<SendError>();
        assert_error::<BuildError>();
    }

    #[test]
    fn debug_redacts_the_credentials() {
        let builder = Client::builder("amzn1.application-oa2-client.ID", "very-secret-value");
        let text = format!("{builder:?}");
        assert!(!text.contains("very-secret-value") && !text.contains("oa2-client.ID"), "{text}");
        let client = builder.build().unwrap();
        let text = format!("{client:?}");
        assert!(!text.contains("very-secret-value") && !text.contains("oa2-client.ID"), "{text}");
        assert!(text.contains("api.amazonalexa.com/v1/proactiveEvents/stages/development"), "{text}");
    }

    #[test]
    fn retargeting_shares_the_token_cache() {
        let client = Client::builder("id", "secret").build().unwrap();
        let eu = client.with_region(Region::Europe).with_stage(Stage::Live);
        assert_eq!(eu.events_url(), "https://api.eu.amazonalexa.com/v1/proactiveEvents");
        assert!(Arc::ptr_eq(&client.shared, &eu.shared));
        let local = Client::builder("id", "secret").base_url("http://127.0.0.1:9").build().unwrap();
        assert_eq!(local.with_stage(Stage::Live).events_url(), "http://127.0.0.1:9/v1/proactiveEvents");
    }
}
