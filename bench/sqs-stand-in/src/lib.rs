//! What the stand-ins of `bench/` share: serving an AWS JSON protocol
//! (awsJson1_0: the operation in `X-Amz-Target: <Prefix>.<Operation>`, a JSON
//! body each way, errors as `{"__type": "<namespace>#<Code>", "message": ...}`
//! with status 400) over HTTP/1 on loopback, on one thread, checking no
//! signature.
//!
//! Two binaries use it: `sqs-stand-in` (Amazon SQS) and `dynamodb-stand-in`
//! (Amazon DynamoDB). Each implements [`Api`] and calls [`main`].

use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// The content type of every answer.
const CONTENT: &str = "application/x-amz-json-1.0";

/// A refusal: the service's error code and a message.
#[derive(Debug)]
pub struct ApiError {
    /// The error code, such as `InvalidParameterValue`: the part of `__type` after `#`.
    pub code: &'static str,
    /// What was wrong, for a person.
    pub message: String,
}

/// One stand-in: its names, and how it answers a call.
pub trait Api: Send + Sync + 'static {
    /// The binary's name, for its usage line.
    const BINARY: &'static str;
    /// The service, for messages: `SQS`.
    const SERVICE: &'static str;
    /// The environment variable that may hold the address to listen on.
    const LISTEN_VAR: &'static str;
    /// An address to show in messages, such as `127.0.0.1:9324`.
    const EXAMPLE_ADDRESS: &'static str;
    /// What `X-Amz-Target` starts with, the dot included: `AmazonSQS.`.
    const TARGET_PREFIX: &'static str;
    /// What an error's `__type` starts with, the `#` included: `com.amazonaws.sqs#`.
    const ERROR_PREFIX: &'static str;

    /// Answers one call of `operation`: the response body, or a refusal.
    fn answer(&self, operation: &str, body: &[u8]) -> impl Future<Output = Result<Vec<u8>, ApiError>> + Send;
}

/// Runs a stand-in: reads `--listen ADDRESS` (or the stand-in's environment
/// variable; default `127.0.0.1:0`), listens, prints the base URL
/// (`http://127.0.0.1:PORT`) on the first line of standard output, makes the
/// stand-in from it with `make`, and serves until killed.
pub fn main<A: Api>(make: impl FnOnce(String) -> A) -> ExitCode {
    let usage = format!("usage: {} [--listen ADDRESS]   (default ${}, or 127.0.0.1:0)", A::BINARY, A::LISTEN_VAR);
    let listen = match listen_address::<A>(std::env::args().skip(1)) {
        Ok(listen) => listen,
        Err(message) => {
            eprintln!("{message}\n{usage}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(listen, make)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: cannot listen on `{listen}`: {error}");
            ExitCode::FAILURE
        }
    }
}

fn listen_address<A: Api>(mut args: impl Iterator<Item = String>) -> Result<SocketAddr, String> {
    let example = A::EXAMPLE_ADDRESS;
    let mut listen = std::env::var(A::LISTEN_VAR).unwrap_or_else(|_| "127.0.0.1:0".to_owned());
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => {
                listen = args.next().ok_or_else(|| format!("error: `--listen` needs an address such as {example}"))?;
            }
            "-h" | "--help" => {
                return Err(format!(
                    "A stand-in for Amazon {}'s JSON protocol, in memory, for benchmarks.",
                    A::SERVICE
                ));
            }
            other => return Err(format!("error: unknown argument `{other}`")),
        }
    }
    listen.parse().map_err(|_| format!("error: `{listen}` is not an address such as {example}"))
}

async fn serve<A: Api>(listen: SocketAddr, make: impl FnOnce(String) -> A) -> std::io::Result<()> {
    let listener = TcpListener::bind(listen).await?;
    let base = format!("http://{}", listener.local_addr()?);
    println!("{base}");
    let api = Arc::new(make(base));
    loop {
        // A failed accept (too many open files, a reset) affects one connection only.
        let Ok((stream, _)) = listener.accept().await else { continue };
        let _ = stream.set_nodelay(true);
        let api = Arc::clone(&api);
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(Arc::clone(&api), request));
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

async fn handle<A: Api>(api: Arc<A>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let operation = request
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix(A::TARGET_PREFIX))
        .map(str::to_owned);
    let body = request.into_body().collect().await?.to_bytes();
    let answer = match operation {
        Some(operation) => api.answer(&operation, &body).await,
        None => Err(ApiError {
            code: "MissingAction",
            message: format!(
                "no `X-Amz-Target: {}<Operation>` header: the stand-in speaks {}'s JSON protocol only",
                A::TARGET_PREFIX,
                A::SERVICE
            ),
        }),
    };
    let (status, body) = match answer {
        Ok(body) => (StatusCode::OK, body),
        Err(error) => (
            StatusCode::BAD_REQUEST,
            serde_json::json!({"__type": format!("{}{}", A::ERROR_PREFIX, error.code), "message": error.message})
                .to_string()
                .into_bytes(),
        ),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT));
    Ok(response)
}
