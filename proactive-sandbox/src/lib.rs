//! An offline stand-in for Amazon's Login with Amazon token endpoint and the
//! Proactive Events API, on loopback, with Amazon's rules and failure modes.
//!
//! Nobody can test proactive events against Amazon without credentials, a
//! deployed skill and a subscribed device. A [`Sandbox`] needs none of them: it
//! issues tokens for the credentials it was configured with, checks the bearer
//! token on every event, validates the body with the same rules as
//! `proactive-core`, answers 409 for a reference id already accepted for the same
//! audience, refuses an `expiryTime` outside now + 5 min ..= now + 24 h by
//! its own clock ([`Sandbox::set_now`]), answers chosen users with Amazon's
//! refusals ([`SandboxConfig::answer_for`]), and can inject latency, rate limits, server errors and dropped
//! connections ([`Faults`]: each decided by the request's `referenceId` and
//! attempt number, so the same events meet the same faults on every run). It
//! records what it accepted, for assertions.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! use proactive_sandbox::{Faults, Sandbox, SandboxConfig};
//!
//! let sandbox = Sandbox::start_with(SandboxConfig::new().faults(Faults::failing(0.2))).await?;
//! // Point the client at sandbox.base_url() and sandbox.token_url(), with
//! // sandbox.client_id() and sandbox.client_secret(); then assert on:
//! assert_eq!(sandbox.records().accepted.len(), 0);
//! # Ok(())
//! # }
//! ```
//!
//! The sandbox stops when it is dropped.
//!
//! It also plays Alexa's side ([`Alexa`]): it signs skill events
//! ([`skill_event`]) with a CA of its own and POSTs them to a skill's events
//! endpoint, and hands that endpoint's verifier exactly that CA, so an endpoint
//! is tested end to end, offline.

mod alexa;
mod alexa_files;
mod config;
mod records;
mod script;
mod server;
pub mod skill_event;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use alexa::{Alexa, AlexaError, AlexaOptions, Answer, Signature};
pub use config::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Faults, RateLimit, SandboxConfig};
pub use records::{AcceptedEvent, Records, RequestLog, Stage};
pub use script::ScriptedAnswer;

/// A running sandbox. Stops on drop.
#[derive(Debug)]
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<server::Shared>,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for server::Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("config", &self.config).finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Starts a sandbox with the default configuration on a free loopback port.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with(SandboxConfig::default()).await
    }

    /// Starts a sandbox with `config` on a free loopback port.
    pub async fn start_with(config: SandboxConfig) -> std::io::Result<Self> {
        Self::bind(config, 0).await
    }

    /// Starts a sandbox with `config` on loopback port `port` (0: a free one).
    pub async fn bind(config: SandboxConfig, port: u16) -> std::io::Result<Self> {
        let listener = server::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(server::Shared::new(config));
        let (shutdown, receiver) = watch::channel(false);
        let task = tokio::spawn(server::serve(listener, Arc::clone(&shared), receiver));
        Ok(Self { addr, shared, shutdown, task })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL of the events API, such as `http://127.0.0.1:41234`; the
    /// events endpoints are `{base_url}/v1/proactiveEvents` and
    /// `{base_url}/v1/proactiveEvents/stages/development`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The URL of the token endpoint, `{base_url}/auth/o2/token`.
    pub fn token_url(&self) -> String {
        format!("http://{}/auth/o2/token", self.addr)
    }

    /// The client id the token endpoint accepts.
    pub fn client_id(&self) -> &str {
        &self.shared.config.client_id
    }

    /// The client secret the token endpoint accepts.
    pub fn client_secret(&self) -> &str {
        &self.shared.config.client_secret
    }

    /// The sandbox's clock: the system clock, moved by [`set_now`](Self::set_now).
    /// The now-window (an `expiryTime` between now + 5 min and now + 24 h) is
    /// checked against it.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.shared.now()
    }

    /// Sets the sandbox's clock to `now`; it runs on from there. For testing what
    /// Amazon answers to an envelope sent later (or earlier) than it was written.
    pub fn set_now(&self, now: chrono::DateTime<chrono::Utc>) {
        self.shared.set_now(now);
    }

    /// A snapshot of what it recorded so far.
    pub fn records(&self) -> Records {
        self.shared.records()
    }

    /// Stops accepting and closes every open connection.
    pub fn stop(&self) {
        let _ = self.shutdown.send(true);
        self.task.abort();
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop();
    }
}
