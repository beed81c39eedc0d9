//! A skill's events endpoint: receives `ProactiveSubscriptionChanged` requests,
//! keeps every user's subscriptions in a SQLite file, and prints what changed.
//!
//! ```sh
//! cargo run -p proactive-core --features sqlite --example subscriptions -- 127.0.0.1:3000 subscriptions.db
//! ```
//!
//! Routes:
//! - `POST /alexa/events`: the body Alexa POSTs. Answers 200 with an empty
//!   Alexa response; 400 when the body is not a subscription change; 500 when
//!   the database fails (Alexa then retries).
//! - `GET /subscribers/{event}`: the users subscribed to an event, with the
//!   region to send to: the audience of a Unicast fan-out.
//!
//! Set `PROACTIVE_SKILL_ID=amzn1.ask.skill.…` to refuse requests for other skills.
//!
//! Not shown, and required for a real HTTPS endpoint: checking the request's
//! signature (`Signature-256` and `SignatureCertChainUrl` headers), as Amazon
//! requires of skills hosted as web services. A Lambda endpoint needs none.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use proactive_core::subscription::{
    Outcome, RequestError, SqliteStore, SubscribedEvent, SubscriptionChangedRequest, SubscriptionTracker,
};

/// What the handlers share.
struct App {
    tracker: SubscriptionTracker<SqliteStore>,
    skill_id: Option<String>,
}

/// The answer to a skill event: Alexa expects no speech.
const EMPTY_RESPONSE: &str = r#"{"version":"1.0","response":{}}"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let address: SocketAddr = args.next().as_deref().unwrap_or("127.0.0.1:3000").parse()?;
    let database = args.next().unwrap_or_else(|| "subscriptions.db".to_owned());

    let store = tokio::task::spawn_blocking(move || SqliteStore::open(database)).await??;
    println!("subscriptions are kept in {}", store.path().display());
    let app = Arc::new(App {
        tracker: SubscriptionTracker::new(store),
        skill_id: std::env::var("PROACTIVE_SKILL_ID").ok().filter(|id| !id.is_empty()),
    });

    let router = Router::new()
        .route("/alexa/events", post(events))
        .route("/subscribers/{event}", get(subscribers))
        .with_state(app);
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

/// `POST /alexa/events`.
async fn events(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let request = match SubscriptionChangedRequest::from_json(&body) {
        Ok(request) => request,
        Err(RequestError::WrongRequestType { found }) => {
            // Other skill events (SkillEnabled, ...) may share the endpoint.
            println!("ignored a `{found}` request");
            return json(StatusCode::OK, EMPTY_RESPONSE.to_owned());
        }
        Err(error) => {
            eprintln!("refused a request: {error}");
            return (StatusCode::BAD_REQUEST, error.to_string()).into_response();
        }
    };
    if let Some(skill_id) = &app.skill_id
        && let Err(error) = request.ensure_application(skill_id)
    {
        eprintln!("refused a request: {error}");
        return (StatusCode::BAD_REQUEST, error.to_string()).into_response();
    }

    match app.tracker.apply(&request).await {
        Ok(Outcome::Updated(change)) => {
            let region =
                change.region().map_or_else(|| format!("unknown host {}", change.api_endpoint()), |r| r.to_string());
            println!(
                "{} ({region}) at {}: added [{}], removed [{}], now [{}]",
                change.user_id(),
                change.timestamp(),
                list(change.added()),
                list(change.removed()),
                list(change.current()),
            );
        }
        Ok(Outcome::Stale(stale)) => {
            println!(
                "{}: ignored a request from {}, older than the stored one from {}",
                stale.user_id(),
                stale.timestamp(),
                stale.stored().timestamp
            );
        }
        Err(error) => {
            let cause = std::error::Error::source(&error).map(|e| format!(": {e}")).unwrap_or_default();
            eprintln!("{error}{cause}");
            return (StatusCode::INTERNAL_SERVER_ERROR, "the subscription could not be stored").into_response();
        }
    }
    json(StatusCode::OK, EMPTY_RESPONSE.to_owned())
}

/// `GET /subscribers/{event}`.
async fn subscribers(State(app): State<Arc<App>>, Path(event): Path<String>) -> Response {
    match app.tracker.subscribers(SubscribedEvent::new(&event)).await {
        Ok(subscribers) => {
            let list: Vec<_> = subscribers
                .iter()
                .map(|s| serde_json::json!({"userId": s.user_id, "region": s.region(), "apiEndpoint": s.api_endpoint}))
                .collect();
            json(StatusCode::OK, serde_json::Value::from(list).to_string())
        }
        Err(error) => {
            eprintln!("{error}");
            (StatusCode::INTERNAL_SERVER_ERROR, "the subscribers could not be read").into_response()
        }
    }
}

fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn list<'a>(events: impl IntoIterator<Item = &'a SubscribedEvent>) -> String {
    events.into_iter().map(SubscribedEvent::as_str).collect::<Vec<_>>().join(", ")
}
