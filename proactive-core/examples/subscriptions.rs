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
//! Settings (environment):
//! - `PROACTIVE_SKILL_ID`: the skill ids served, comma-separated (required).
//! - `PROACTIVE_SANDBOX_ALEXA=DIR`: for local tests only, trust the CA of the
//!   sandbox's Alexa kept in `DIR` (written by `proactive sandbox
//!   --skill-endpoint … --alexa-dir DIR`) instead of Amazon's, and read its
//!   certificate chains from `DIR` instead of downloading them.
//!
//! In your own code, depend on `proactive-core` with the `verify` feature and
//! use `proactive_core::verify`; this example names the crate directly.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use proactive_core::subscription::{
    Handled, Outcome, SkillEvent, SqliteStore, SubscribedEvent, SubscriptionTracker, TrackerError,
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

    // Only verified requests reach `events`; everything else gets a 400.
    let router =
        Router::new().route("/alexa/events", post(events)).layer(VerifyLayer::new(verifier)).with_state(tracker);
    let listener = tokio::net::TcpListener::bind(address).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            // If the signal cannot be installed, run until killed.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        })
        .await?;
    Ok(())
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
        Handled::Subscriptions(Outcome::Updated(change)) => println!(
            "{user} at {}: added [{}], removed [{}], now [{}]",
            change.timestamp(),
            list(change.added()),
            list(change.removed()),
            list(change.current()),
        ),
        Handled::Subscriptions(Outcome::Stale(stale)) => println!(
            "{user}: ignored a request from {}, older than the stored one from {}",
            stale.timestamp(),
            stale.stored().timestamp
        ),
        Handled::UserRemoved { .. } => println!("{user} disabled the skill: forgotten"),
        _ => println!("{user}: `{}` changes no subscription", event.request_type()),
    }
}

fn list<'a>(events: impl IntoIterator<Item = &'a SubscribedEvent>) -> String {
    events.into_iter().map(SubscribedEvent::as_str).collect::<Vec<_>>().join(", ")
}
