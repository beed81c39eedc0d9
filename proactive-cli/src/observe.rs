//! What an operator watches of `proactive queue work`: Prometheus text on
//! `/metrics` and `/healthz` on `--metrics-addr`, and logs as text or JSON
//! lines on standard error (`--log-format`).
//!
//! The metrics server has the limits of any server here ([`Limits`]): a
//! request head must arrive within 10 s of the connection waiting for it (the
//! idle timeout too), and at most 64 connections are open at once: at the cap,
//! the oldest is shut down (gracefully: a request it is answering is finished),
//! so idle connections can never keep a scrape out.

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
    /// Connections open at once; at the cap, the oldest is shut down.
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
    let open = Arc::new(Connections::new(limits.max_connections));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(limits.header);
    tokio::spawn(async move {
        loop {
            // A failed accept (out of file descriptors, a reset) affects that connection only.
            let Ok((stream, _)) = listener.accept().await else { continue };
            let (id, shut_down) = open.add();
            let (state, http, open) = (Arc::clone(&state), http.clone(), Arc::clone(&open));
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let state = Arc::clone(&state);
                    async move { Ok::<_, Infallible>(answer(&state.0, &state.1, &request).await) }
                });
                let connection = http.serve_connection(TokioIo::new(stream), service);
                let mut connection = std::pin::pin!(connection);
                tokio::select! {
                    _ = connection.as_mut() => {}
                    _ = shut_down => {
                        connection.as_mut().graceful_shutdown();
                        let _ = connection.await;
                    }
                }
                open.remove(id);
            });
        }
    });
    Ok(bound)
}

/// The open connections, oldest first, each with the signal that shuts it
/// down. (The example endpoint, `proactive-core/examples/subscriptions.rs`,
/// has the same few lines, so that it stays one file a user can copy.)
struct Connections {
    max: usize,
    open: std::sync::Mutex<(u64, std::collections::BTreeMap<u64, tokio::sync::oneshot::Sender<()>>)>,
}

impl Connections {
    fn new(max: usize) -> Self {
        Self { max: max.max(1), open: std::sync::Mutex::default() }
    }

    /// A new connection's id and its shutdown signal; at the cap, the oldest
    /// connection is told to shut down.
    fn add(&self) -> (u64, tokio::sync::oneshot::Receiver<()>) {
        let mut guard = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
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
        self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner).1.remove(&id);
    }
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
    async fn idle_connections_never_keep_a_scrape_out_and_are_closed_after_the_header_timeout() {
        let metrics = PrometheusBuilder::new().build_recorder().handle();
        // The header timeout is long here: only the cap can make room.
        let limits = Limits { header: Duration::from_secs(30), ..Limits::default() };
        let addr = serve_with("127.0.0.1:0".parse().unwrap(), metrics, health(), limits).await.unwrap();
        tokio::task::spawn_blocking(move || {
            let held: Vec<TcpStream> = (0..500).map(|_| TcpStream::connect(addr).unwrap()).collect();
            let started = std::time::Instant::now();
            let answer = get(addr, "/metrics").unwrap();
            assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
            assert!(started.elapsed() < Duration::from_secs(5), "{:?} behind 500 idle connections", started.elapsed());
            // The oldest were shut down to make room; the newest are still open.
            let mut held = held.into_iter();
            assert!(closed(held.next().unwrap(), Duration::from_secs(5)), "the oldest idle connection is shut down");
            assert!(!closed(held.next_back().unwrap(), Duration::from_millis(200)), "the newest is kept");
        })
        .await
        .unwrap();

        // And an idle connection does not outlive the header timeout.
        let limits = Limits { header: Duration::from_millis(300), max_connections: 4 };
        let metrics = PrometheusBuilder::new().build_recorder().handle();
        let addr = serve_with("127.0.0.1:0".parse().unwrap(), metrics, health(), limits).await.unwrap();
        tokio::task::spawn_blocking(move || {
            let idle = TcpStream::connect(addr).unwrap();
            assert!(closed(idle, Duration::from_secs(5)), "an idle connection outlived the header timeout");
            let answer = get(addr, "/nothing").unwrap();
            assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
        })
        .await
        .unwrap();
    }
}
