//! A skill's events endpoint, fit to deploy behind HTTPS: it verifies that
//! every request comes from Alexa, applies every skill event to a SQLite
//! file, and prints what changed.
//!
//! ```sh
//! PROACTIVE_SKILL_ID=amzn1.ask.skill.… \
//!   cargo run -p proactive-core --features sqlite --example subscriptions -- 127.0.0.1:3000 subscriptions.db
//! ```
//!
//! `POST /alexa/events` takes the body Alexa POSTs. Requests that fail
//! verification (signature, certificate chain, timestamp, skill id), bodies
//! over 128 KiB and bodies that are not skill events are answered 400 and
//! change nothing; a store failure is answered 500 (Alexa retries). Nothing
//! lists user ids: the subscribers of an event are read in-process with
//! `SubscriptionTracker::subscribers`, by the code that sends.
//!
//! Limits, so that idle or slow clients cannot starve Alexa's requests
//! (hyper's and tower's settings, nothing hand-written):
//! - a request head must arrive within 10 s of the connection waiting for it
//!   (hyper's `header_read_timeout`, which starts as soon as a connection is
//!   idle: it is also the idle timeout, fresh or kept-alive connections alike);
//! - a body must arrive within 10 s (`VerifyLayer`'s body timeout; 408);
//! - at most 256 connections are open: at the cap, the oldest one is shut
//!   down gracefully (hyper's `graceful_shutdown`: closed at once if idle,
//!   after its request if one is in progress) to make room for the new one.
//!
//! Settings (environment):
//! - `PROACTIVE_SKILL_ID`: the skill ids served, comma-separated (required).
//! - `PROACTIVE_HEADER_TIMEOUT_MS`, `PROACTIVE_BODY_TIMEOUT_MS`,
//!   `PROACTIVE_MAX_CONNECTIONS`: the limits above (10000, 10000, 256).
//! - `PROACTIVE_SANDBOX_ALEXA=DIR`: for local tests only, trust the CA of the
//!   sandbox's Alexa kept in `DIR` (written by `proactive sandbox
//!   --skill-endpoint … --alexa-dir DIR`) instead of Amazon's, and read its
//!   certificate chains from `DIR` instead of downloading them.
//!
//! In your own code, depend on `proactive-core` with the `verify` feature and
//! use `proactive_core::verify`; this example names the crate directly.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use proactive_core::subscription::{
    Handled, SkillEvent, SqliteStore, SubscribedEvent, SubscriptionTracker, Tracked, TrackerError,
};
use proactive_verify as verify;
use verify::{DirectorySource, RequestPolicy, Verifier, VerifyLayer};

/// The answer to a skill event: Alexa expects no speech.
const EMPTY_RESPONSE: &str = r#"{"version":"1.0","response":{}}"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let address: SocketAddr = args.next().as_deref().unwrap_or("127.0.0.1:3000").parse()?;
    let database = args.next().unwrap_or_else(|| "subscriptions.db".to_owned());

    let verifier = verifier()?;
    let store = tokio::task::spawn_blocking(move || SqliteStore::open(database)).await??;
    println!("subscriptions are kept in {}", store.path().display());
    let tracker = Arc::new(SubscriptionTracker::new(store));

    let limits = Limits::from_env()?;
    // Only verified requests reach `events`; everything else gets a 400.
    let layer = VerifyLayer::new(verifier).body_timeout(limits.body);
    let router = Router::new().route("/alexa/events", post(events)).layer(layer).with_state(tracker);
    let listener = tokio::net::TcpListener::bind(address).await?;
    println!("listening on http://{}", listener.local_addr()?);
    serve(listener, router, &limits).await;
    Ok(())
}

/// The endpoint's limits; see the module docs.
struct Limits {
    header: Duration,
    body: Duration,
    max_connections: usize,
}

impl Limits {
    fn from_env() -> Result<Self, Box<dyn std::error::Error>> {
        let number = |name: &str, default: u64| -> Result<u64, Box<dyn std::error::Error>> {
            match std::env::var(name) {
                Ok(value) => {
                    value.trim().parse().map_err(|_| format!("{name} must be a whole number, not `{value}`").into())
                }
                Err(_) => Ok(default),
            }
        };
        Ok(Self {
            header: Duration::from_millis(number("PROACTIVE_HEADER_TIMEOUT_MS", 10_000)?),
            body: Duration::from_millis(number("PROACTIVE_BODY_TIMEOUT_MS", 10_000)?),
            max_connections: usize::try_from(number("PROACTIVE_MAX_CONNECTIONS", 256)?)?.max(1),
        })
    }
}

/// Serves HTTP/1.1 with hyper until Ctrl-C, within `limits`.
async fn serve(listener: tokio::net::TcpListener, router: Router, limits: &Limits) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(limits.header);
    let open = Connections::new(limits.max_connections);
    let mut stop = std::pin::pin!(async {
        // If the signal cannot be installed, run until killed.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    });
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors, say: wait for connections to close.
                    eprintln!("cannot accept a connection: {error}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => return,
        };
        let (id, evicted) = open.add();
        let service = hyper_util::service::TowerToHyperService::new(router.clone());
        let connection = http.serve_connection(hyper_util::rt::TokioIo::new(stream), service);
        let open = Arc::clone(&open);
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = evicted => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            open.remove(id);
        });
    }
}

/// The open connections, oldest first, each with the signal that shuts it down.
struct Connections {
    max: usize,
    open: Mutex<(u64, BTreeMap<u64, tokio::sync::oneshot::Sender<()>>)>,
}

impl Connections {
    fn new(max: usize) -> Arc<Self> {
        Arc::new(Self { max, open: Mutex::default() })
    }

    /// A new connection's id and its shutdown signal; at the cap, the oldest
    /// connection is told to shut down.
    fn add(&self) -> (u64, tokio::sync::oneshot::Receiver<()>) {
        let mut guard = self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (next, open) = &mut *guard;
        while open.len() >= self.max {
            if let Some((_, oldest)) = open.pop_first() {
                let _ = oldest.send(());
            }
        }
        let (tell, told) = tokio::sync::oneshot::channel();
        *next += 1;
        open.insert(*next, tell);
        (*next, told)
    }

    fn remove(&self, id: u64) {
        self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).1.remove(&id);
    }
}

/// The verifier: Amazon's roots and downloads, or the sandbox's CA for local tests.
fn verifier() -> Result<Verifier, Box<dyn std::error::Error>> {
    let skills = std::env::var("PROACTIVE_SKILL_ID").unwrap_or_default();
    let skills: Vec<&str> = skills.split(',').map(str::trim).filter(|id| !id.is_empty()).collect();
    if skills.is_empty() {
        return Err(
            "set PROACTIVE_SKILL_ID to the skill id (amzn1.ask.skill.…): requests for other skills are refused".into(),
        );
    }
    let builder = Verifier::builder(RequestPolicy::new(skills));
    let Some(dir) = std::env::var_os("PROACTIVE_SANDBOX_ALEXA").map(PathBuf::from) else {
        return Ok(builder.build()?);
    };
    let source = DirectorySource::new(&dir);
    let ca = source.ca_pem().map_err(|e| format!("cannot read the sandbox CA in `{}`: {e}", dir.display()))?;
    eprintln!("warning: trusting the sandbox's Alexa CA in `{}`, not Amazon's: for local tests only", dir.display());
    Ok(builder.trust_pem(&ca)?.certificate_source(source).build()?)
}

/// `POST /alexa/events`, behind the verifier.
async fn events(State(tracker): State<Arc<SubscriptionTracker<SqliteStore>>>, body: Bytes) -> Response {
    let event = match SkillEvent::from_slice(&body) {
        Ok(event) => event,
        Err(error) => {
            eprintln!("refused a request: {error}");
            return (StatusCode::BAD_REQUEST, error.to_string()).into_response();
        }
    };
    match tracker.handle(&event).await {
        Ok(handled) => report(&event, &handled),
        Err(error @ TrackerError::FromTheFuture { .. }) => {
            eprintln!("refused a request: {error}");
            return (StatusCode::BAD_REQUEST, error.to_string()).into_response();
        }
        Err(error) => {
            let cause = std::error::Error::source(&error).map(|e| format!(": {e}")).unwrap_or_default();
            eprintln!("{error}{cause}");
            return (StatusCode::INTERNAL_SERVER_ERROR, "the event could not be stored").into_response();
        }
    }
    ([(header::CONTENT_TYPE, "application/json")], EMPTY_RESPONSE).into_response()
}

/// Prints what an event changed.
fn report(event: &SkillEvent, handled: &Handled) {
    let user = event.user_id();
    match handled {
        Handled::Subscriptions(Tracked::Updated(change)) => println!(
            "{user} at {}: added [{}], removed [{}], now [{}]",
            change.timestamp(),
            list(change.added()),
            list(change.removed()),
            list(change.current()),
        ),
        Handled::Subscriptions(Tracked::Stale(stale)) => println!(
            "{user}: ignored a request from {}, older than the stored one from {}",
            stale.timestamp(),
            stale.stored().timestamp
        ),
        Handled::Subscriptions(Tracked::Disabled(tombstone)) => {
            println!("{user}: ignored a request older than the user's SkillDisabled from {}", tombstone.timestamp)
        }
        Handled::UserRemoved { .. } => println!("{user} disabled the skill: forgotten"),
        _ => println!("{user}: `{}` changes no subscription", event.request_type()),
    }
}

fn list<'a>(events: impl IntoIterator<Item = &'a SubscribedEvent>) -> String {
    events.into_iter().map(SubscribedEvent::as_str).collect::<Vec<_>>().join(", ")
}
