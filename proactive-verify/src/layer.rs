//! A tower layer for any HTTP server built on tower (axum, hyper-util, tonic's
//! HTTP stack): a body size cap, then the verifier; 400 on any failure.

use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Either, Full, Limited};

use crate::verifier::{SignatureHeaders, Verifier};

/// The largest request body read by default. Alexa's requests are a few KB.
pub const DEFAULT_MAX_BODY: usize = 128 * 1024;
/// How long a request body may take to arrive by default: a client that stalls
/// mid-body is answered 408 and its connection closed.
pub const DEFAULT_BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Verifies every request before the inner service sees it.
///
/// A request that passes reaches the inner service with its exact body as
/// [`Full<Bytes>`] and the [`Checked`](crate::Checked) facts in its
/// extensions. Any failure (a body over the cap, any
/// [`VerifyError`](crate::VerifyError)) is answered with HTTP 400 and a
/// one-line reason, and the inner service is not called; a body that does not
/// arrive within [`DEFAULT_BODY_TIMEOUT`] (10 s) is answered 408.
///
/// The layer sees requests only once their head is read: the server must
/// bound the rest (connections, head and idle time). The `subscriptions`
/// example shows hyper's settings for that: a header read timeout (which also
/// closes idle connections) and a connection cap.
///
/// ```no_run
/// # async fn run(verifier: proactive_verify::Verifier) {
/// use axum::{Router, body::Bytes, routing::post};
/// use proactive_verify::VerifyLayer;
///
/// let app: Router = Router::new()
///     .route("/alexa/events", post(|body: Bytes| async move { /* verified bytes */ }))
///     .layer(VerifyLayer::new(verifier));
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct VerifyLayer {
    verifier: Verifier,
    max_body: usize,
    body_timeout: std::time::Duration,
}

impl VerifyLayer {
    /// A layer that verifies with `verifier` and reads at most
    /// [`DEFAULT_MAX_BODY`] bytes.
    pub fn new(verifier: Verifier) -> Self {
        Self { verifier, max_body: DEFAULT_MAX_BODY, body_timeout: DEFAULT_BODY_TIMEOUT }
    }

    /// Reads at most `max_body` bytes of a body; a larger body is refused.
    pub fn max_body(mut self, max_body: usize) -> Self {
        self.max_body = max_body;
        self
    }

    /// Waits at most `timeout` for the whole body (default
    /// [`DEFAULT_BODY_TIMEOUT`]); a slower one is answered 408.
    pub fn body_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.body_timeout = timeout;
        self
    }
}

impl<S> tower_layer::Layer<S> for VerifyLayer {
    type Service = VerifyService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        VerifyService {
            inner,
            verifier: self.verifier.clone(),
            max_body: self.max_body,
            body_timeout: self.body_timeout,
        }
    }
}

/// The service [`VerifyLayer`] wraps around an inner service.
#[derive(Clone, Debug)]
pub struct VerifyService<S> {
    inner: S,
    verifier: Verifier,
    max_body: usize,
    body_timeout: std::time::Duration,
}

impl<S, B, ResBody> tower_service::Service<Request<B>> for VerifyService<S>
where
    S: tower_service::Service<Request<Full<Bytes>>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<Either<ResBody, Full<Bytes>>>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The clone that was polled ready serves this request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let verifier = self.verifier.clone();
        let (max_body, body_timeout) = (self.max_body, self.body_timeout);
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let body = match tokio::time::timeout(body_timeout, Limited::new(body, max_body).collect()).await {
                Ok(Ok(collected)) => collected.to_bytes(),
                Ok(Err(_)) => return Ok(refuse(format!("the body is unreadable or larger than {max_body} bytes"))),
                Err(_) => {
                    let mut response =
                        refuse(format!("the body did not arrive within {} ms", body_timeout.as_millis()));
                    *response.status_mut() = StatusCode::REQUEST_TIMEOUT;
                    return Ok(response);
                }
            };
            let verified = match SignatureHeaders::try_from_http(&parts.headers) {
                Ok(headers) => verifier.verify(headers, &body).await,
                Err(error) => Err(error),
            };
            match verified {
                Ok(checked) => {
                    let mut request = Request::from_parts(parts, Full::new(body));
                    request.extensions_mut().insert(checked);
                    inner.call(request).await.map(|response| response.map(Either::Left))
                }
                Err(error) => {
                    tracing::info!(%error, "refused an unverified request");
                    Ok(refuse(error.to_string()))
                }
            }
        })
    }
}

fn refuse<L>(reason: String) -> Response<Either<L, Full<Bytes>>> {
    let mut response = Response::new(Either::Right(Full::new(Bytes::from(reason))));
    *response.status_mut() = StatusCode::BAD_REQUEST;
    response.headers_mut().insert(header::CONTENT_TYPE, http::HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}
