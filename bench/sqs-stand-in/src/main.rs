//! `sqs-stand-in`: a stand-in for Amazon SQS on loopback, for benchmarks only.
//!
//! It speaks SQS's JSON protocol (what the AWS SDKs use), keeps queues in
//! memory, creates a queue the first time its name is used, honours visibility
//! timeouts, delays and long polling, and checks no signature. It does only
//! what `proactive queue send|work` and `bench/queue-bench.sh` call, on one
//! thread, so that a benchmark measures the worker rather than the queue (moto,
//! the local AWS of the tests, is much slower). It is not an emulator: use moto
//! for the semantics.
//!
//! ```text
//! sqs-stand-in [--listen 127.0.0.1:0]    (or $SQS_STAND_IN_LISTEN)
//! ```
//!
//! It prints its base URL (`http://127.0.0.1:PORT`) on the first line of
//! standard output; queue URLs are `BASE/000000000000/NAME`.

mod protocol;
mod queue;

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

use protocol::{ApiError, Queues};

const USAGE: &str = "usage: sqs-stand-in [--listen ADDRESS]   (default $SQS_STAND_IN_LISTEN, or 127.0.0.1:0)";
const CONTENT: &str = "application/x-amz-json-1.0";

fn main() -> ExitCode {
    let listen = match listen_address(std::env::args().skip(1)) {
        Ok(listen) => listen,
        Err(message) => {
            eprintln!("{message}\n{USAGE}");
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
    match runtime.block_on(serve(listen)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: cannot listen on `{listen}`: {error}");
            ExitCode::FAILURE
        }
    }
}

fn listen_address(mut args: impl Iterator<Item = String>) -> Result<SocketAddr, String> {
    let mut listen = std::env::var("SQS_STAND_IN_LISTEN").unwrap_or_else(|_| "127.0.0.1:0".to_owned());
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--listen" => listen = args.next().ok_or("error: `--listen` needs an address such as 127.0.0.1:9324")?,
            "-h" | "--help" => {
                return Err("A stand-in for Amazon SQS's JSON protocol, in memory, for benchmarks.".into());
            }
            other => return Err(format!("error: unknown argument `{other}`")),
        }
    }
    listen.parse().map_err(|_| format!("error: `{listen}` is not an address such as 127.0.0.1:9324"))
}

async fn serve(listen: SocketAddr) -> std::io::Result<()> {
    let listener = TcpListener::bind(listen).await?;
    let base = format!("http://{}", listener.local_addr()?);
    println!("{base}");
    let queues = Arc::new(Queues::new(base));
    loop {
        // A failed accept (too many open files, a reset) affects one connection only.
        let Ok((stream, _)) = listener.accept().await else { continue };
        let _ = stream.set_nodelay(true);
        let queues = Arc::clone(&queues);
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(Arc::clone(&queues), request));
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

async fn handle(queues: Arc<Queues>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let operation = request
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("AmazonSQS."))
        .map(str::to_owned);
    let body = request.into_body().collect().await?.to_bytes();
    let answer = match operation {
        Some(operation) => protocol::answer(&queues, &operation, &body).await,
        None => Err(ApiError {
            code: "MissingAction",
            message: "no `X-Amz-Target: AmazonSQS.<Operation>` header: the stand-in speaks SQS's JSON protocol only"
                .to_owned(),
        }),
    };
    let (status, body) = match answer {
        Ok(body) => (StatusCode::OK, body),
        Err(error) => (
            StatusCode::BAD_REQUEST,
            serde_json::json!({"__type": format!("com.amazonaws.sqs#{}", error.code), "message": error.message})
                .to_string()
                .into_bytes(),
        ),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT));
    Ok(response)
}
