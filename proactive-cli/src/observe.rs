//! What an operator watches of `proactive queue work`: Prometheus text on
//! `/metrics` and `/healthz` on `--metrics-addr`, and logs as text or JSON
//! lines on standard error (`--log-format`).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

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

/// Installs the Prometheus recorder and serves `/metrics` and `/healthz` on
/// `addr` until the process ends; the address actually bound (port 0 picks
/// one) is printed on standard error.
pub(crate) async fn serve(addr: SocketAddr, health: Health) -> Result<(), String> {
    let handle =
        PrometheusBuilder::new().install_recorder().map_err(|e| format!("cannot install the metrics recorder: {e}"))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on `{addr}` (--metrics-addr): {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    eprintln!("metrics on http://{bound}/metrics, health on http://{bound}/healthz");
    let state = Arc::new((handle, health));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let state = Arc::clone(&state);
            tokio::spawn(async move {
                let service = service_fn(move |request| {
                    let state = Arc::clone(&state);
                    async move { Ok::<_, Infallible>(answer(&state.0, &state.1, &request).await) }
                });
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    Ok(())
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
