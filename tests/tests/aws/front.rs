//! A front for the sandbox that plays Amazon's refusals: events for chosen
//! users get Amazon's 403 "Could not find any subscriptions…" (or a 503 every
//! time), everything else is passed to the sandbox as it is, faults included.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Amazon's answer for a Unicast user who is not subscribed to the event.
pub(crate) const NOT_SUBSCRIBED: &str =
    "Could not find any subscriptions for stage=development, skillId=amzn1.ask.skill.test, topicId=EVENT";

/// Users whose id contains this are refused with [`NOT_SUBSCRIBED`].
pub(crate) const UNSUBSCRIBED: &str = "unsubscribed";
/// Users whose id contains this get 503 on every attempt.
pub(crate) const UNREACHABLE: &str = "unreachable";

pub(crate) struct Front {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Front {
    /// Starts a front on a free loopback port for the sandbox at `sandbox`.
    pub(crate) async fn start(sandbox: String) -> Front {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let http: HttpClient<HttpConnector, Full<Bytes>> = HttpClient::builder(TokioExecutor::new()).build_http();
        let shared = Arc::new((http, sandbox));
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let shared = Arc::clone(&shared);
                tokio::spawn(async move {
                    let service = service_fn(move |request| answer(Arc::clone(&shared), request));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Front { addr, task }
    }

    /// The base URL to send events to.
    pub(crate) fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Shared = Arc<(HttpClient<HttpConnector, Full<Bytes>>, String)>;

async fn answer(
    shared: Shared,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, hyper_util::client::legacy::Error> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let text = String::from_utf8_lossy(&body);
    let refuse = |status: StatusCode, message: &str| {
        let body = serde_json::json!({"code": status.as_u16(), "message": message}).to_string();
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        Ok(response)
    };
    if text.contains(UNSUBSCRIBED) {
        return refuse(StatusCode::FORBIDDEN, NOT_SUBSCRIBED);
    }
    if text.contains(UNREACHABLE) {
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "the service is unavailable");
    }
    let (http, sandbox) = &*shared;
    let mut forward = Request::builder().method(parts.method).uri(format!("{sandbox}{}", parts.uri.path()));
    for (name, value) in &parts.headers {
        if name != hyper::header::HOST {
            forward = forward.header(name, value);
        }
    }
    let response = http.request(forward.body(Full::new(body)).unwrap()).await?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    Ok(Response::from_parts(parts, Full::new(body)))
}
