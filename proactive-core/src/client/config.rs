//! Building a [`Client`]: credentials, region, stage, URLs, timeouts, retries.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};

use super::error::BuildError;
use super::retry::RetryPolicy;
use super::token::{TokenSource, Tokens};
use super::transport::{POOL_IDLE, Transport};
use super::{Client, Shared, Target};
use crate::Region;

/// Login with Amazon's token endpoint.
pub const DEFAULT_TOKEN_URL: &str = "https://api.amazon.com/auth/o2/token";
/// How long connecting may take, by default.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one request may take, from sending to the end of the answer, by default.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long before its expiry a token is replaced, by default.
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// The `User-Agent` of every request: this crate and its version.
pub const USER_AGENT: &str = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));

/// Which of the two events endpoints receives the events.
///
/// Development events reach only the skill's testers (users of the developer
/// account, subscribed in the Alexa app); use it before certification. Live
/// events reach every subscribed user of the certified skill.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// `{host}/v1/proactiveEvents/stages/development`: the default.
    #[default]
    Development,
    /// `{host}/v1/proactiveEvents`.
    Live,
}

impl Stage {
    /// The endpoint's path.
    pub const fn path(self) -> &'static str {
        match self {
            Self::Development => "/v1/proactiveEvents/stages/development",
            Self::Live => "/v1/proactiveEvents",
        }
    }

    /// `development` or `live`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Live => "live",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no stage.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown stage `{0}`: use `development` or `live`")]
pub struct UnknownStage(String);

impl FromStr for Stage {
    type Err = UnknownStage;

    /// Parses `development` (or `dev`) and `live` (any case).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "development" | "dev" => Ok(Self::Development),
            "live" => Ok(Self::Live),
            _ => Err(UnknownStage(text.to_owned())),
        }
    }
}

/// Configures and builds a [`Client`]; from [`Client::builder`].
///
/// ```
/// use std::time::Duration;
///
/// use proactive_core::client::{Client, RetryPolicy};
///
/// let client = Client::builder("id", "secret")
///     .api_endpoint("https://api.fe.amazonalexa.com") // from a request Alexa sent
///     .connect_timeout(Duration::from_secs(5))
///     .retry_policy(RetryPolicy::default())
///     .build()?;
/// assert_eq!(client.region(), proactive_core::Region::FarEast);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "a `ClientBuilder` does nothing until `.build()` is called"]
pub struct ClientBuilder {
    client_id: SecretString,
    client_secret: SecretString,
    region: Region,
    api_endpoint: Option<String>,
    stage: Stage,
    base_url: Option<String>,
    token_url: Option<String>,
    connect_timeout: Duration,
    request_timeout: Duration,
    refresh_margin: Duration,
    retry: RetryPolicy,
    application: Option<String>,
}

impl ClientBuilder {
    pub(super) fn new(client_id: SecretString, client_secret: SecretString) -> Self {
        Self {
            client_id,
            client_secret,
            region: Region::NorthAmerica,
            api_endpoint: None,
            stage: Stage::Development,
            base_url: None,
            token_url: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            refresh_margin: DEFAULT_REFRESH_MARGIN,
            retry: RetryPolicy::default(),
            application: None,
        }
    }

    /// Sends to this region's host (the default is North America). Send to the
    /// region where the users are: an NA user's event sent to the EU host reaches
    /// no one.
    pub fn region(mut self, region: Region) -> Self {
        self.region = region;
        self.api_endpoint = None;
        self
    }

    /// Sends to the region of `endpoint`, the `context.System.apiEndpoint` of a
    /// request Alexa sent to the skill (such as `https://api.eu.amazonalexa.com`).
    /// [`build`](Self::build) fails if it is not one of Amazon's three hosts.
    pub fn api_endpoint(mut self, endpoint: &str) -> Self {
        match Region::from_api_endpoint(endpoint) {
            Some(region) => {
                self.region = region;
                self.api_endpoint = None;
            }
            None => self.api_endpoint = Some(endpoint.to_owned()),
        }
        self
    }

    /// Sends to the development (the default) or the live endpoint.
    pub fn stage(mut self, stage: Stage) -> Self {
        self.stage = stage;
        self
    }

    /// Sends to this host instead of the region's (a sandbox, a test server, a
    /// proxy), such as `http://127.0.0.1:8080`: events go to
    /// `{base_url}/v1/proactiveEvents[/stages/development]`. Plain `http://` is
    /// accepted only for loopback hosts, so a token never travels unencrypted.
    ///
    /// Against the offline sandbox (`proactive_sandbox::Sandbox`, or `proactive
    /// sandbox --port 8080` in a terminal), set both URLs and its credentials:
    ///
    /// ```no_run
    /// use proactive_core::client::Client;
    /// # use proactive_core::{Audience, Envelope};
    /// # use proactive_core::schemas::WeatherAlertActivated;
    /// # use proactive_core::schemas::weather_alert_activated::{WeatherAlert, WeatherAlertType};
    ///
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// // With `proactive-sandbox` as a dev-dependency, in a test:
    /// // let sandbox = proactive_sandbox::Sandbox::start().await?;
    /// // Client::builder(sandbox.client_id(), sandbox.client_secret())
    /// //     .base_url(sandbox.base_url()).token_url(sandbox.token_url())
    /// let client = Client::builder("sandbox-client-id", "sandbox-client-secret")
    ///     .base_url("http://127.0.0.1:8080")
    ///     .token_url("http://127.0.0.1:8080/auth/o2/token")
    ///     .build()?;
    /// # let alert = WeatherAlertActivated::builder()
    /// #     .weather_alert(WeatherAlert::builder().alert_type(WeatherAlertType::Tornado).build())
    /// #     .build();
    /// # let envelope = Envelope::builder(alert, Audience::Multicast).build();
    /// let accepted = client.send(&envelope).await?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// A production URL is rejected by [`build`](Self::build) when it is plain
    /// `http://`:
    ///
    /// ```
    /// use proactive_core::client::Client;
    ///
    /// let error = Client::builder("id", "secret").base_url("http://api.example.com").build().unwrap_err();
    /// assert!(error.to_string().contains("uses plain http:// on a host that is not loopback"), "{error}");
    /// ```
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Asks this URL for tokens instead of [`DEFAULT_TOKEN_URL`]; the same rule
    /// about plain `http://` applies. See [`base_url`](Self::base_url) for the
    /// sandbox.
    ///
    /// ```
    /// use proactive_core::client::Client;
    ///
    /// let client = Client::builder("id", "secret")
    ///     .base_url("http://127.0.0.1:8080")
    ///     .token_url("http://127.0.0.1:8080/auth/o2/token")
    ///     .build();
    /// assert!(client.is_ok());
    /// ```
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = Some(url.into());
        self
    }

    /// How long connecting may take ([`DEFAULT_CONNECT_TIMEOUT`]).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long one attempt may take, from sending the request to the end of the
    /// answer ([`DEFAULT_REQUEST_TIMEOUT`]). A timed-out attempt is retried.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How long before its expiry a cached token is replaced
    /// ([`DEFAULT_REFRESH_MARGIN`]). For a token valid for less than twice the
    /// margin, half its lifetime is used instead.
    pub fn token_refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// How failed requests are retried ([`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Names the application in the `User-Agent`, before [`USER_AGENT`]:
    /// `my-skill/1.2 proactive-core/0.1.0`.
    pub fn application(mut self, name_and_version: impl Into<String>) -> Self {
        self.application = Some(name_and_version.into());
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<Client, BuildError> {
        if self.client_id.expose_secret().trim().is_empty() || self.client_secret.expose_secret().trim().is_empty() {
            return Err(BuildError::MissingCredentials);
        }
        if let Some(endpoint) = self.api_endpoint {
            return Err(BuildError::UnknownApiEndpoint { endpoint });
        }
        for (which, timeout) in [("connect timeout", self.connect_timeout), ("request timeout", self.request_timeout)] {
            if timeout.is_zero() {
                return Err(BuildError::ZeroTimeout { which });
            }
        }
        let base_url = self.base_url.as_deref().map(|url| check_url("base URL", url)).transpose()?;
        if let Some(url) = &base_url
            && (url.query().is_some() || url.fragment().is_some())
        {
            return Err(BuildError::InvalidUrl {
                which: "base URL",
                url: display_url(url),
                reason: "a base URL has no query or fragment",
            });
        }
        let token_url = check_url("token URL", self.token_url.as_deref().unwrap_or(DEFAULT_TOKEN_URL))?;
        let plain_http = base_url.iter().chain([&token_url]).any(|url| url.scheme() == "http");

        let user_agent = match &self.application {
            Some(application) => format!("{application} {USER_AGENT}"),
            None => USER_AGENT.to_owned(),
        };
        let https = base_url.as_ref().is_none_or(|url| url.scheme() == "https") || token_url.scheme() == "https";
        let tls = tls_config(https)?;
        let http = http_client(tls.clone(), &user_agent, self.connect_timeout, plain_http)?;
        let transport =
            Transport::new(tls, &user_agent, self.connect_timeout, http.clone()).map_err(BuildError::Http)?;
        let target = Target::new(self.region, self.stage, base_url.as_ref(), plain_http);
        let tokens = Tokens::new(TokenSource {
            http,
            url: token_url,
            client_id: self.client_id,
            client_secret: self.client_secret,
            refresh_margin: self.refresh_margin,
            timeout: self.request_timeout,
            retry: self.retry.clone(),
        });
        let shared = Shared {
            transport,
            tokens,
            retry: self.retry,
            request_timeout: self.request_timeout,
            base_url,
            no_proxy: plain_http,
        };
        Ok(Client { shared: Arc::new(shared), target: Arc::new(target) })
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The credentials are secrecy types, whose Debug prints `[REDACTED]`; URLs
        // are shown without any user name or password.
        f.debug_struct("ClientBuilder")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("region", &self.region)
            .field("stage", &self.stage)
            .field("base_url", &self.base_url.as_deref().map(redact_userinfo))
            .field("token_url", &self.token_url.as_deref().map(redact_userinfo))
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("refresh_margin", &self.refresh_margin)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// The events endpoint for a region and stage, or under a base URL.
pub(super) fn events_url(base_url: Option<&Url>, region: Region, stage: Stage) -> Url {
    let base = base_url.map_or(region.api_host(), |url| url.as_str()).trim_end_matches('/');
    // The base is a parsed URL or a constant host, so base + an ASCII path parses.
    Url::parse(&format!("{base}{}", stage.path())).expect("a valid base URL with a path appended is valid")
}

/// Parses a configured URL: https anywhere, plain http on loopback only, no
/// credentials in it.
fn check_url(which: &'static str, text: &str) -> Result<Url, BuildError> {
    let invalid = |reason| BuildError::InvalidUrl { which, url: redact_userinfo(text), reason };
    let url = Url::parse(text.trim()).map_err(|_| invalid("it is not a URL"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("a URL must not carry a user name or password"));
    }
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(BuildError::InsecureUrl { which, url: display_url(&url) }),
        _ => Err(invalid("use an https:// URL (or http:// on loopback)")),
    }
}

fn is_loopback(url: &Url) -> bool {
    // The URL parser has already normalized IP addresses; IPv6 ones are bracketed.
    let Some(host) = url.host_str() else { return false };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn display_url(url: &Url) -> String {
    redact_userinfo(url.as_str())
}

/// `scheme://user:password@host/...` without `user:password@`.
fn redact_userinfo(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else { return text.to_owned() };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
        None => text.to_owned(),
    }
}

/// TLS: rustls with the ring provider and the platform's certificate
/// verifier. A client whose URLs are all plain http (loopback: the sandbox, a
/// test server) never makes a TLS connection, so it trusts nothing and skips
/// loading the system's certificates (milliseconds at every start).
fn tls_config(https: bool) -> Result<rustls::ClientConfig, BuildError> {
    use rustls_platform_verifier::BuilderVerifierExt;

    // rustls 0.23.48 deprecates this for lacking post-quantum key exchange, and
    // offers no other way to build the ring provider (its signature algorithms
    // are private): ring is kept on purpose (no CMake, no C++ build), so the
    // warning is allowed here, on this one call, and on every rustls 0.23.
    #[allow(deprecated, reason = "the ring provider, chosen on purpose; see above")]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| BuildError::Http(Box::new(e)))?;
    let builder = if https {
        builder.with_platform_verifier().map_err(|e| BuildError::Http(Box::new(e)))?
    } else {
        builder.with_root_certificates(rustls::RootCertStore::empty())
    };
    Ok(builder.with_no_client_auth())
}

/// The reqwest client (token requests, and events through a proxy): `tls`,
/// HTTP/1.1, no redirects (a redirect could carry the token elsewhere), and no
/// proxy when a plain-http loopback URL is configured (a proxy would see the token).
fn http_client(
    tls: rustls::ClientConfig,
    user_agent: &str,
    connect_timeout: Duration,
    plain_http: bool,
) -> Result<reqwest::Client, BuildError> {
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .user_agent(user_agent)
        .connect_timeout(connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .tcp_nodelay(true)
        .pool_idle_timeout(POOL_IDLE);
    if plain_http {
        builder = builder.no_proxy();
    }
    builder.build().map_err(|e| BuildError::Http(Box::new(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str) -> Result<String, String> {
        check_url("base URL", url).map(|u| u.to_string()).map_err(|e| e.to_string())
    }

    #[test]
    fn plain_http_only_on_loopback() {
        assert!(check("https://api.amazonalexa.com").is_ok());
        assert!(check("https://sandbox.example.com:8443").is_ok());
        assert!(check("http://127.0.0.1:8080").is_ok());
        assert!(check("http://127.1.2.3").is_ok());
        assert!(check("http://[::1]:9000").is_ok());
        assert!(check("http://localhost:3000").is_ok());
        assert!(check("http://LOCALHOST").is_ok());
        let error = check("http://api.amazonalexa.com").unwrap_err();
        assert!(error.contains("plain http://") && error.contains("not loopback"), "{error}");
        assert!(check("http://10.0.0.1").unwrap_err().contains("not loopback"));
        assert!(check("http://localhost.example.com").unwrap_err().contains("not loopback"));
        assert!(check("ftp://127.0.0.1").unwrap_err().contains("use an https:// URL"));
        assert!(check("not a url").unwrap_err().contains("not a URL"));
    }

    #[test]
    fn credentials_in_urls_are_refused_and_never_shown() {
        let error = check("https://user:hunter2@example.com/x").unwrap_err();
        assert!(error.contains("user name or password") && !error.contains("hunter2"), "{error}");
        assert_eq!(redact_userinfo("https://u:p@h/a@b"), "https://h/a@b");
        assert_eq!(redact_userinfo("https://h/a@b"), "https://h/a@b");
    }

    #[test]
    fn events_urls() {
        let dev = events_url(None, Region::Europe, Stage::Development);
        assert_eq!(dev.as_str(), "https://api.eu.amazonalexa.com/v1/proactiveEvents/stages/development");
        let live = events_url(None, Region::FarEast, Stage::Live);
        assert_eq!(live.as_str(), "https://api.fe.amazonalexa.com/v1/proactiveEvents");
        let base = Url::parse("http://127.0.0.1:9/prefix/").unwrap();
        assert_eq!(
            events_url(Some(&base), Region::NorthAmerica, Stage::Live).as_str(),
            "http://127.0.0.1:9/prefix/v1/proactiveEvents"
        );
    }

    #[test]
    fn builder_checks() {
        let err = |b: ClientBuilder| b.build().unwrap_err().to_string();
        let b = || super::super::Client::builder("id", "secret");
        assert!(err(super::super::Client::builder("id", " ")).contains("client secret is empty"));
        assert!(err(b().api_endpoint("https://api.example.com")).contains("is not an Alexa API endpoint"));
        assert!(err(b().request_timeout(Duration::ZERO)).contains("request timeout must be more than zero"));
        assert!(err(b().base_url("http://127.0.0.1/?x=1")).contains("no query"));
        assert!(err(b().token_url("http://example.com/token")).contains("token URL"));
        let client = b().api_endpoint("https://api.fe.amazonalexa.com/").stage(Stage::Live).build().unwrap();
        assert_eq!((client.region(), client.stage()), (Region::FarEast, Stage::Live));
        assert_eq!(client.events_url(), "https://api.fe.amazonalexa.com/v1/proactiveEvents");
    }

    #[test]
    fn stages_parse() {
        assert_eq!("LIVE".parse::<Stage>().unwrap(), Stage::Live);
        assert_eq!("dev".parse::<Stage>().unwrap(), Stage::Development);
        assert!("prod".parse::<Stage>().unwrap_err().to_string().contains("`development` or `live`"));
    }
}
