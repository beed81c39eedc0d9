//! What a bulk send costs the client: events per second and the client's CPU
//! time per 1,000 events, at concurrency 1, 16 and 64, against a minimal
//! loopback server (a token endpoint and an events endpoint answering 202 at
//! once).
//!
//! The server runs in a child process (this same binary, re-run with
//! `PROACTIVE_BENCH_SERVER=1`), so the CPU time measured for this process
//! (`cpu_time::ProcessTime`, i.e. `CLOCK_PROCESS_CPUTIME_ID`) is the client's
//! alone: validation, serialization, HTTP and TLS-free HTTP/1.1 on loopback,
//! the retry loop and the bulk stream. Each iteration sends 1,000 envelopes
//! (already built) with `Client::send_all`.
//!
//! Run with `cargo bench -p proactive-core --bench bulk_send`; the last lines
//! print events/s and CPU ms per 1,000 events for each concurrency.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use proactive_core::client::{Client, RetryPolicy};
use proactive_core::schemas::WeatherAlertActivated;
use proactive_core::schemas::weather_alert_activated::{WeatherAlert, WeatherAlertType};
use proactive_core::{Audience, Envelope};

const SERVER_ENV: &str = "PROACTIVE_BENCH_SERVER";
const EVENTS_PER_ITERATION: usize = 1000;
const CONCURRENCY: [usize; 3] = [1, 16, 64];

/// Per concurrency: events sent, wall time, client CPU time.
type Totals = BTreeMap<usize, (u64, Duration, Duration)>;

fn main() {
    if std::env::var_os(SERVER_ENV).is_some() {
        serve();
        return;
    }
    let server = ServerProcess::start();
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a Tokio runtime");
    let client = Client::builder("bench-client", "bench-secret")
        .base_url(format!("http://{}", server.addr))
        .token_url(format!("http://{}/auth/o2/token", server.addr))
        .retry_policy(RetryPolicy::no_retries())
        .build()
        .expect("a client");
    let envelopes: Vec<Arc<Envelope>> = (0..EVENTS_PER_ITERATION).map(|_| Arc::new(envelope())).collect();
    let totals = Arc::new(Mutex::new(Totals::new()));

    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();
    let mut group = criterion.benchmark_group("bulk_send");
    group.throughput(Throughput::Elements(EVENTS_PER_ITERATION as u64));
    for concurrency in CONCURRENCY {
        group.bench_with_input(BenchmarkId::new("concurrency", concurrency), &concurrency, |b, &concurrency| {
            b.iter_custom(|iterations| {
                let (client, totals) = (&client, &totals);
                let batches: Vec<Vec<Arc<Envelope>>> = (0..iterations).map(|_| envelopes.clone()).collect();
                let cpu = cpu_time::ProcessTime::now();
                let started = Instant::now();
                runtime.block_on(async move {
                    for batch in batches {
                        let mut outcomes = client.send_all(batch, concurrency);
                        while let Some(outcome) = outcomes.next().await {
                            assert!(outcome.result.is_ok(), "{:?}", outcome.result);
                        }
                    }
                });
                let (wall, cpu) = (started.elapsed(), cpu.elapsed());
                let mut totals = totals.lock().expect("not poisoned");
                let entry = totals.entry(concurrency).or_default();
                entry.0 += iterations * EVENTS_PER_ITERATION as u64;
                entry.1 += wall;
                entry.2 += cpu;
                wall
            });
        });
    }
    group.finish();
    criterion.final_summary();

    println!("\nbulk_send: client-side figures over every iteration run (warm-up included)");
    println!("{:>12} {:>12} {:>26}", "concurrency", "events/s", "client CPU per 1,000 events");
    for (concurrency, (events, wall, cpu)) in totals.lock().expect("not poisoned").iter() {
        let per_second = *events as f64 / wall.as_secs_f64();
        let cpu_per_thousand = cpu.as_secs_f64() * 1000.0 / (*events as f64 / 1000.0);
        println!("{concurrency:>12} {per_second:>12.0} {cpu_per_thousand:>23.1} ms");
    }
    println!("token requests: {}", client.token_requests());
}

fn envelope() -> Envelope {
    let alert = WeatherAlertActivated::builder()
        .weather_alert(WeatherAlert::builder().alert_type(WeatherAlertType::Tornado).build())
        .build();
    Envelope::builder(alert, Audience::Multicast).build()
}

/// The server child: killed when dropped.
struct ServerProcess {
    child: Child,
    addr: String,
}

impl ServerProcess {
    fn start() -> Self {
        let exe = std::env::current_exe().expect("the bench binary's path");
        let mut child = Command::new(exe)
            .env(SERVER_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the server process starts");
        let stdout = child.stdout.take().expect("a piped stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("the server prints its address");
        let addr = line.trim().to_owned();
        assert!(!addr.is_empty(), "the server printed no address");
        Self { child, addr }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server: one Tokio worker, so the client keeps the other core.
fn serve() {
    // Exit when the parent goes away (its end of our stdin closes).
    std::thread::spawn(|| {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        std::process::exit(0);
    });
    let runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("a Tokio runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        println!("{}", listener.local_addr().expect("an address"));
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            tokio::spawn(async move {
                let service = service_fn(answer);
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
}

async fn answer(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let is_token = request.uri().path() == "/auth/o2/token";
    request.into_body().collect().await?;
    let response = if is_token {
        let body =
            r#"{"access_token":"Atc|bench","expires_in":3600,"scope":"alexa::proactive_events","token_type":"bearer"}"#;
        Response::new(Full::new(Bytes::from_static(body.as_bytes())))
    } else {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = hyper::StatusCode::ACCEPTED;
        response.headers_mut().insert("x-amzn-requestid", hyper::header::HeaderValue::from_static("bench-request"));
        response
    };
    Ok(response)
}
