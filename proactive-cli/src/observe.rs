//! What an operator watches of `proactive queue work`: Prometheus text on
//! `/metrics` and `/healthz` on `--metrics-addr`, and logs as text or JSON
//! lines on standard error (`--log-format`).
//!
//! The metrics server has the limits of any server here ([`Limits`]): a
//! request head must arrive within 10 s of the connection waiting for it (the
//! idle timeout too), and at most 64 connections are served at once; one more
//! is closed at once, so a scraper that opens too many is refused, and the
//! worker never is.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use proactive_aws::aws_sdk_sqs;
use proactive_core::client::Client;

/// How logs are written on standard error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// tracing's human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Installs the log subscriber, at info level.
pub(crate) fn init_logs(format: LogFormat) {
    let builder = tracing_subscriber::fmt().with_writer(std::io::stderr).with_max_level(tracing::Level::INFO);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).try_init(),
        LogFormat::Text => builder.with_ansi(false).try_init(),
    };
}

/// What `/healthz` checks: a token can be had with the credentials, and the
/// queue answers.
pub(crate) struct Health {
    pub(crate) client: Client,
    pub(crate) sqs: aws_sdk_sqs::Client,
    pub(crate) queue_url: String,
}

impl Health {
    /// `Ok` when healthy; otherwise what is wrong, for the response body.
    async fn check(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        if let Err(error) = self.client.check_token().await {
            problems.push(format!("token endpoint: {error}"));
        }
        let queue = self
            .sqs
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await;
        if let Err(error) = queue {
            problems.push(format!("queue `{}`: {}", self.queue_url, aws_sdk_sqs::error::DisplayErrorContext(error)));
        }
        if problems.is_empty() { Ok(()) } else { Err(problems.join("\n")) }
    }
}

/// The metrics server's limits.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// How long a connection may wait for a request head (hyper's
    /// `header_read_timeout`: idle connections, fresh or kept alive, too).
    pub(crate) header: Duration,
    /// Connections served at once; one more is closed as soon as it is accepted.
    pub(crate) max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { header: Duration::from_secs(10), max_connections: 64 }
    }
}

/// Installs the Prometheus recorder and serves `/metrics` and `/healthz` on
/// `addr` until the process ends, within [`Limits::default`]; the address
/// actually bound (port 0 picks one) is printed on standard error.
pub(crate) async fn serve(addr: SocketAddr, health: Health) -> Result<(), String> {
    let handle =
        PrometheusBuilder::new().install_recorder().map_err(|e| format!("cannot install the metrics recorder: {e}"))?;
    let bound = serve_with(addr, handle, health, Limits::default()).await?;
    eprintln!("metrics on http://{bound}/metrics, health on http://{bound}/healthz");
    Ok(())
}

/// Serves `metrics` and `health` on `addr` within `limits`, on a task of its own.
async fn serve_with(
    addr: SocketAddr,
    metrics: PrometheusHandle,
    health: Health,
    limits: Limits,
) -> Result<SocketAddr, String> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on `{addr}` (--metrics-addr): {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    let state = Arc::new((metrics, health));
    let open = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(limits.header);
    tokio::spawn(async move {
        loop {
            // A failed accept (out of file descriptors, a reset) affects that connection only.
            let Ok((stream, _)) = listener.accept().await else { continue };
            // At the cap, the new connection is closed (dropped) at once.
            let Ok(permit) = Arc::clone(&open).try_acquire_owned() else { continue };
            let (state, http) = (Arc::clone(&state), http.clone());
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let state = Arc::clone(&state);
                    async move { Ok::<_, Infallible>(answer(&state.0, &state.1, &request).await) }
                });
                let _ = http.serve_connection(TokioIo::new(stream), service).await;
                drop(permit);
            });
        }
    });
    Ok(bound)
}

async fn answer(metrics: &PrometheusHandle, health: &Health, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    match request.uri().path() {
        "/metrics" => text(StatusCode::OK, metrics.render(), "text/plain; version=0.0.4"),
        "/healthz" => match health.check().await {
            Ok(()) => text(StatusCode::OK, "ok\n".to_owned(), "text/plain"),
            Err(problems) => text(StatusCode::SERVICE_UNAVAILABLE, format!("{problems}\n"), "text/plain"),
        },
        _ => text(StatusCode::NOT_FOUND, "not found: try /metrics or /healthz\n".to_owned(), "text/plain"),
    }
}

fn text(status: StatusCode, body: String, content_type: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    use super::*;

    /// Health that is never asked for here: its clients would reach nothing.
    fn health() -> Health {
        let client = Client::builder("id", "secret").base_url("http://127.0.0.1:9").build().unwrap();
        let config = aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .region(aws_sdk_sqs::config::Region::new("us-east-1"))
            .endpoint_url("http://127.0.0.1:9")
            .build();
        Health { client, sqs: aws_sdk_sqs::Client::from_conf(config), queue_url: "http://127.0.0.1:9/q".to_owned() }
    }

    fn get(addr: SocketAddr, path: &str) -> std::io::Result<String> {
        let mut stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(stream, "GET {path} HTTP/1.1\r\nHost: metrics\r\nConnection: close\r\n\r\n")?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        Ok(answer)
    }

    /// Whether the server closes `stream` (end of file, or a reset) within `within`.
    fn closed(mut stream: TcpStream, within: Duration) -> bool {
        stream.set_read_timeout(Some(within)).unwrap();
        match stream.read(&mut [0; 16]) {
            Ok(0) => true,
            Err(error) => error.kind() == std::io::ErrorKind::ConnectionReset,
            Ok(_) => false,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn idle_connections_are_closed_and_one_over_the_cap_is_refused_while_metrics_are_served() {
        let metrics = PrometheusBuilder::new().build_recorder().handle();
        let limits = Limits { header: Duration::from_millis(300), max_connections: 4 };
        let addr = serve_with("127.0.0.1:0".parse().unwrap(), metrics, health(), limits).await.unwrap();
        tokio::task::spawn_blocking(move || {
            let held: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(addr).unwrap()).collect();
            std::thread::sleep(Duration::from_millis(50));
            let over = TcpStream::connect(addr).unwrap();
            // Well before the header timeout (300 ms) would close it.
            assert!(closed(over, Duration::from_millis(150)), "a fifth connection is closed at once");
            // The idle ones are closed after the header timeout, and then there is room.
            for idle in held {
                assert!(closed(idle, Duration::from_secs(5)), "an idle connection outlived the header timeout");
            }
            let answer = get(addr, "/metrics").unwrap();
            assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
            let answer = get(addr, "/nothing").unwrap();
            assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
        })
        .await
        .unwrap();
    }
}
