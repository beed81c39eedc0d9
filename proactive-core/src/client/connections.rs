//! The events connections: HTTP/1.1 connections made with hyper's connection
//! API, one per request in flight, each kept after its answer for the next
//! request to the same host.
//!
//! hyper-util's general pool (which this replaces for the events POST) keys
//! every checkout by scheme and authority in a hash map, races each checkout
//! against a new connect, and hands each connection back through a lock and
//! that map again. Callgrind on `proactive send` measured that at a sixth of
//! the sending thread's instructions. A client posts to one or two hosts, so
//! here the idle connections are a short list under a lock, found by their
//! `Host` header, and a connection is made only when none is idle.
//!
//! What the general pool does and this keeps:
//! - a connection idle for [`POOL_IDLE`](super::transport::POOL_IDLE) is
//!   dropped instead of reused (Amazon closes idle ones after a minute);
//! - a request is re-sent on another connection when a kept one turns out to be
//!   closed before the request was written to it (so it cannot have been
//!   delivered); a request that was written is never re-sent here;
//! - a connection whose request was cancelled (a timeout) or whose answer was
//!   not read to its end is not kept.

use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, Uri};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::time::Instant;
use tower_service::Service;
use tracing::debug;

use super::error::BoxError;
use super::transport::POOL_IDLE;

/// The connections of one client and its clones; cheap to clone.
#[derive(Clone)]
pub(crate) struct Connections {
    connector: HttpsConnector<HttpConnector>,
    idle: Arc<Mutex<Vec<Idle>>>,
}

/// A connection waiting for its next request.
struct Idle {
    sender: SendRequest<Full<Bytes>>,
    /// The `Host` header of the requests it carries, and whether it is TLS.
    host: HeaderValue,
    https: bool,
    since: Instant,
}

/// A connection lent to one request: [`Connections::give_back`] keeps it for
/// the next, dropping it closes it once its request is done.
pub(crate) struct Lease {
    sender: SendRequest<Full<Bytes>>,
    host: HeaderValue,
    https: bool,
}

/// Why a request got no answer.
pub(crate) enum Failure {
    /// No connection could be made: the request was not sent.
    Connect(BoxError),
    /// The connection failed after the request may have been written.
    Request(hyper::Error),
}

impl Connections {
    /// No connection yet; new ones are made with `connector`.
    pub(crate) fn new(connector: HttpsConnector<HttpConnector>) -> Self {
        Self { connector, idle: Arc::new(Mutex::new(Vec::new())) }
    }

    /// Sends `request` (whose URI is absolute, with its `Host` header `host`)
    /// on an idle connection to its host, or on a new one, and returns the
    /// answer's head with the connection it came on.
    pub(crate) async fn send(
        &self,
        uri: &Uri,
        host: &HeaderValue,
        mut request: Request<Full<Bytes>>,
    ) -> Result<(Response<Incoming>, Lease), Failure> {
        let https = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
        loop {
            let (mut sender, kept) = match self.take(host, https) {
                Some(sender) => (sender, true),
                // Boxed: connecting is rare, and its future large.
                None => (Box::pin(self.connect(uri)).await?, false),
            };
            if let Err(error) = sender.ready().await {
                // A kept connection closed while idle: nothing was sent on it.
                if kept {
                    continue;
                }
                return Err(Failure::Request(error));
            }
            match sender.try_send_request(request).await {
                Ok(response) => return Ok((response, Lease { sender, host: host.clone(), https })),
                Err(mut error) => match error.take_message() {
                    // Not written to the connection: it cannot have been
                    // delivered, so another connection may carry it.
                    Some(unsent) if kept => {
                        debug!(error = %error.error(), "kept connection closed; sending on another");
                        request = unsent;
                    }
                    _ => return Err(Failure::Request(error.into_error())),
                },
            }
        }
    }

    /// Keeps `lease`'s connection for the next request, unless it is closed
    /// (the server said `Connection: close`, or it failed).
    pub(crate) fn give_back(&self, lease: Lease) {
        if lease.sender.is_closed() {
            return;
        }
        let Lease { sender, host, https } = lease;
        let idle = Idle { sender, host, https, since: Instant::now() };
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).push(idle);
    }

    /// The connection to `host` that was idle last. Closed ones are passed
    /// over, and the ones idle too long (the oldest, at the front) dropped.
    fn take(&self, host: &HeaderValue, https: bool) -> Option<SendRequest<Full<Bytes>>> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if idle.first().is_some_and(|oldest| now - oldest.since >= POOL_IDLE) {
            idle.retain(|connection| now - connection.since < POOL_IDLE);
        }
        while let Some(position) = idle.iter().rposition(|c| c.https == https && c.host == host) {
            let connection = idle.remove(position);
            if !connection.sender.is_closed() {
                return Some(connection.sender);
            }
        }
        None
    }

    /// A new connection to `uri`'s host; its I/O runs in a task of its own.
    async fn connect(&self, uri: &Uri) -> Result<SendRequest<Full<Bytes>>, Failure> {
        let mut connector = self.connector.clone();
        let io = connector.call(uri.clone()).await.map_err(Failure::Connect)?;
        let (sender, connection) = http1::handshake(io).await.map_err(|error| Failure::Connect(Box::new(error)))?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                debug!(%error, "events connection closed");
            }
        });
        Ok(sender)
    }
}
