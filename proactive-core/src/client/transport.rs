//! How an events request travels: straight over hyper's HTTP/1.1 connections
//! ([`Connections`]), or through reqwest when the system routes the events host
//! through a proxy.
//!
//! The events POST is the one request a bulk send makes thousands of times, so
//! it skips what reqwest adds per request and this client never uses: the
//! redirect and retry layers (redirects are refused, retries are the
//! [`RetryPolicy`](super::RetryPolicy)'s), a URL re-parsed from every answer,
//! the header copies. Measured with callgrind on `proactive send`, that was
//! 40% of the sending thread's instructions. The TLS configuration, the
//! connect timeout, `TCP_NODELAY` and the idle timeout are reqwest's own
//! settings here. A proxy (`HTTPS_PROXY`, `ALL_PROXY`, the system's settings)
//! is reqwest's to handle: when one applies to the events URL, the events go
//! through reqwest as the token requests do.

use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderMap, HeaderValue, USER_AGENT};
use http::{Method, Request, Uri};
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use tokio::time::Instant;

use super::connections::{Connections, Failure};
use super::error::BoxError;
use super::http::{MAX_ANSWER, read_body};

/// How long an unused connection stays in the pool (Amazon closes idle ones after a minute).
pub(crate) const POOL_IDLE: Duration = Duration::from_secs(50);

/// The events request's ways out: hyper's connections (TLS by rustls), and
/// reqwest for a URL that the system's settings send through a proxy.
#[derive(Clone)]
pub(crate) struct Transport {
    direct: Connections,
    user_agent: HeaderValue,
    proxied: reqwest::Client,
}

/// An answer: its status, its headers, and at most [`MAX_ANSWER`] bytes of its body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// A request that got no answer.
#[derive(Debug)]
pub(crate) struct NoAnswer {
    /// It timed out (after the given time).
    pub(crate) timed_out: bool,
    /// It never connected, so it cannot have been delivered.
    pub(crate) connect: bool,
    pub(crate) source: BoxError,
}

impl Transport {
    /// Both ways: `tls` for https, the connect timeout and `TCP_NODELAY` for
    /// the direct one; `proxied` (reqwest, configured alike) for proxies.
    pub(crate) fn new(
        tls: rustls::ClientConfig,
        user_agent: &str,
        connect_timeout: Duration,
        proxied: reqwest::Client,
    ) -> Result<Self, BoxError> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(connect_timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(Self { direct: Connections::new(https), user_agent: HeaderValue::from_str(user_agent)?, proxied })
    }

    /// Whether the system's proxy settings (`HTTPS_PROXY`, `ALL_PROXY`,
    /// `NO_PROXY`, ...; as reqwest reads them) send requests to `uri` through a proxy.
    pub(crate) fn is_proxied(uri: &Uri) -> bool {
        hyper_util::client::proxy::matcher::Matcher::from_system().intercept(uri).is_some()
    }

    /// POSTs `body` as JSON to `uri` with `authorization`; the answer, read
    /// within `timeout` (a body still arriving then is cut where it is).
    pub(crate) async fn post(
        &self,
        (uri, host): (&Uri, &HeaderValue),
        proxied: bool,
        authorization: &HeaderValue,
        body: Bytes,
        timeout: Duration,
    ) -> Result<Answer, NoAnswer> {
        if proxied {
            // Boxed: reqwest's future would make every direct request's future kilobytes larger.
            return Box::pin(self.post_proxied(uri, authorization, body, timeout)).await;
        }
        let deadline = Instant::now() + timeout;
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = Method::POST;
        // On a connection of its own, a request names only its path.
        *request.uri_mut() = uri.path_and_query().map_or_else(|| Uri::from_static("/"), |path| Uri::from(path.clone()));
        let headers = request.headers_mut();
        // Room for the four made once, rather than grown as they are inserted.
        *headers = HeaderMap::with_capacity(4);
        headers.insert(HOST, host.clone());
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(AUTHORIZATION, authorization.clone());
        headers.insert(USER_AGENT, self.user_agent.clone());
        let (response, lease) = match tokio::time::timeout_at(deadline, self.direct.send(uri, host, request)).await {
            Ok(Ok(sent)) => sent,
            Ok(Err(Failure::Connect(source))) => return Err(NoAnswer { timed_out: false, connect: true, source }),
            Ok(Err(Failure::Request(error))) => {
                return Err(NoAnswer { timed_out: false, connect: false, source: Box::new(error) });
            }
            Err(elapsed) => return Err(NoAnswer { timed_out: true, connect: false, source: Box::new(elapsed) }),
        };
        let (parts, body) = response.into_parts();
        // A body still arriving at the deadline is cut where it is.
        let mut read = Vec::new();
        if let Ok(true) = tokio::time::timeout_at(deadline, read_body(body, &mut read, MAX_ANSWER)).await {
            // Read to its end: the connection is free for the next request.
            self.direct.give_back(lease);
        }
        Ok(Answer { status: parts.status.as_u16(), headers: parts.headers, body: read })
    }

    /// [`post`](Self::post) through reqwest, which goes through the proxy.
    async fn post_proxied(
        &self,
        uri: &Uri,
        authorization: &HeaderValue,
        body: Bytes,
        timeout: Duration,
    ) -> Result<Answer, NoAnswer> {
        let sent = self
            .proxied
            .post(uri.to_string())
            .header(CONTENT_TYPE, "application/json")
            .header(AUTHORIZATION, authorization.clone())
            .timeout(timeout)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(response) => {
                let (parts, body) = http::Response::from(response).into_parts();
                let mut read = Vec::new();
                read_body(body, &mut read, MAX_ANSWER).await;
                Ok(Answer { status: parts.status.as_u16(), headers: parts.headers, body: read })
            }
            Err(error) => {
                Err(NoAnswer { timed_out: error.is_timeout(), connect: error.is_connect(), source: Box::new(error) })
            }
        }
    }
}

/// The `Host` header for `url`, as hyper-util would write it for each request:
/// the host, and the port unless it is the scheme's own.
pub(crate) fn host_header(url: &reqwest::Url) -> HeaderValue {
    let host = url.host_str().unwrap_or_default();
    let text = match url.port() {
        // `Url` drops a port equal to the scheme's default.
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    // A parsed URL's host and port are valid header text.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("localhost"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_headers_are_what_hyper_util_writes() {
        for (url, host) in [
            ("https://api.amazonalexa.com/v1/proactiveEvents", "api.amazonalexa.com"),
            ("https://api.amazonalexa.com:443/v1/proactiveEvents", "api.amazonalexa.com"),
            ("https://events.example:8443/v1", "events.example:8443"),
            ("http://127.0.0.1:18080/v1", "127.0.0.1:18080"),
            ("http://localhost/v1", "localhost"),
            ("http://[::1]:9000/v1", "[::1]:9000"),
        ] {
            let url = reqwest::Url::parse(url).unwrap();
            assert_eq!(host_header(&url), host, "{url}");
        }
    }
}
