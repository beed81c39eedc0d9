//! `proactive queue send` and `proactive queue work`: envelopes onto an SQS
//! queue, and the worker that sends them to Amazon (the `aws` feature).

use std::time::Instant;

use proactive_aws::{
    DeadLetter, DeadLetterError, DeadLetterSink, Delivery, RefusedReason, SqsDeadLetters, SqsProducer, Worker,
    WorkerConfig, aws_sdk_sqs,
};
use proactive_core::{Envelope, Region};

mod fanout;

use crate::client_args::ClientArgs;
use crate::input::Input;
use crate::{INVALID, OK, USAGE};

/// The `queue` subcommands.
#[derive(clap::Subcommand)]
pub(crate) enum QueueCommand {
    /// Validate envelopes and put the valid ones on an SQS queue (invalid ones are reported, not enqueued).
    Send(SendArgs),
    /// Run the worker: read the queue, send to Amazon, dead-letter refusals; stops on SIGTERM or Ctrl-C.
    Work(Box<WorkArgs>),
    /// Put the envelope of every subscriber of a template's event (from the DynamoDB subscription
    /// store) on the queue, a page at a time, with a checkpoint to resume from.
    Fanout(fanout::FanoutArgs),
}

/// Where the queue is.
#[derive(clap::Args)]
pub(crate) struct QueueArgs {
    /// The queue's URL.
    #[arg(long, value_name = "URL")]
    queue_url: String,
    /// Reach AWS at this URL instead (a local emulation such as moto's server).
    #[arg(long, value_name = "URL")]
    aws_endpoint: Option<String>,
}

#[derive(clap::Args)]
pub(crate) struct SendArgs {
    #[command(flatten)]
    queue: QueueArgs,
    /// The region to send the events to: na, eu or fe.
    #[arg(long, default_value = "na")]
    region: Region,
    /// Files holding one envelope (`.json`) or one per line (`.jsonl`); `-` reads JSONL from stdin.
    #[arg(required = true)]
    paths: Vec<String>,
}

#[derive(clap::Args)]
pub(crate) struct WorkArgs {
    #[command(flatten)]
    queue: QueueArgs,
    /// Write refused events here, each with its reason (without it, they are printed as JSON lines).
    #[arg(long, value_name = "URL")]
    dead_letter_url: Option<String>,
    /// How many events are in flight at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1024))]
    concurrency: u16,
    /// Serve Prometheus text on http://ADDR/metrics and a health check on /healthz (503 when the token endpoint
    /// refuses the credentials or the queue cannot be reached); port 0 picks one, printed on standard error.
    #[arg(long, value_name = "ADDR")]
    metrics_addr: Option<std::net::SocketAddr>,
    /// Write logs on standard error, as text or JSON lines (none without this flag).
    #[arg(long, value_name = "FORMAT")]
    log_format: Option<crate::observe::LogFormat>,
    #[command(flatten)]
    amazon: ClientArgs,
}

pub(crate) fn run(command: QueueCommand) -> u8 {
    let Some(runtime) = crate::runtime(crate::Threads::PerCore) else { return USAGE };
    match command {
        QueueCommand::Send(args) => runtime.block_on(send(args)),
        QueueCommand::Work(args) => runtime.block_on(work(*args)),
        QueueCommand::Fanout(args) => runtime.block_on(fanout::run(args)),
    }
}

async fn sqs(queue: &QueueArgs) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(&proactive_aws::sdk_config(queue.aws_endpoint.as_deref()).await)
}

async fn send(args: SendArgs) -> u8 {
    let started = Instant::now();
    let (mut total, mut invalid) = (0u64, 0u64);
    let mut valid: Vec<(String, Envelope)> = Vec::new();
    for path in &args.paths {
        let input = match Input::open(path) {
            Ok(input) => input,
            Err(message) => {
                eprintln!("error: {message}");
                return USAGE;
            }
        };
        for item in input {
            let item = match item {
                Ok(item) => item,
                Err(message) => {
                    eprintln!("error: {message}");
                    return USAGE;
                }
            };
            total += 1;
            let location = item.location();
            match item.parsed.envelope {
                Some(envelope) if !item.parsed.report.has_errors() => valid.push((location, envelope)),
                _ => {
                    invalid += 1;
                    out!("{location}: not enqueued, invalid:");
                    for problem in item.parsed.report.errors() {
                        out!("  {problem}");
                    }
                }
            }
        }
    }
    let producer = SqsProducer::new(sqs(&args.queue).await, args.queue.queue_url.clone());
    let locations: Vec<String> = valid.iter().map(|(location, _)| location.clone()).collect();
    let report = match producer.enqueue(valid.into_iter().map(|(_, envelope)| (envelope, args.region))).await {
        Ok(report) => report,
        Err(error) => {
            eprintln!("error: {}", chain(&error));
            return USAGE;
        }
    };
    let mut failed = 0u64;
    for refused in &report.refused {
        // SQS's own refusal may pass another time; the others never will.
        let outcome = if matches!(refused.reason, RefusedReason::Sqs { .. }) { "failed" } else { "invalid" };
        failed += u64::from(outcome == "failed");
        out!("{}: not enqueued, {outcome}: {}", locations[refused.index], refused.reason);
    }
    let invalid = invalid + report.refused.len() as u64 - failed;
    out!(
        "{total} event{}: {} enqueued, {invalid} invalid, {failed} failed; {} ms",
        if total == 1 { "" } else { "s" },
        report.enqueued,
        started.elapsed().as_millis()
    );
    if invalid + failed == 0 { OK } else { INVALID }
}

/// Refusals printed on standard output as JSON lines, when there is no
/// dead-letter queue.
struct Print;

impl DeadLetterSink for Print {
    async fn put(&self, letter: &DeadLetter) -> Result<(), DeadLetterError> {
        let line = serde_json::to_string(letter)
            .map_err(|e| DeadLetterError::new("cannot write a dead letter", Some(Box::new(e))))?;
        out!("{line}");
        Ok(())
    }
}

async fn work(mut args: WorkArgs) -> u8 {
    let started = Instant::now();
    if let Some(format) = args.log_format {
        crate::observe::init_logs(format);
    }
    let config = proactive_aws::sdk_config(args.queue.aws_endpoint.as_deref()).await;
    if let Err(message) = args.amazon.resolve_aws_secret(&config).await {
        eprintln!("error: {message}");
        return USAGE;
    }
    let client = match args
        .amazon
        .credentials(false, &[])
        .and_then(|b| args.amazon.configure(b, false).build().map_err(|e| e.to_string()))
    {
        Ok(client) => client,
        Err(message) => {
            eprintln!("error: {message}");
            return USAGE;
        }
    };
    let sqs = aws_sdk_sqs::Client::new(&config);
    if let Some(addr) = args.metrics_addr {
        let health = crate::observe::Health {
            client: client.clone(),
            sqs: sqs.clone(),
            queue_url: args.queue.queue_url.clone(),
        };
        if let Err(message) = crate::observe::serve(addr, health).await {
            eprintln!("error: {message}");
            return USAGE;
        }
    }
    let mut config = WorkerConfig::new(args.queue.queue_url.clone());
    config.concurrency = usize::from(args.concurrency);
    let delivery = Delivery::new(client.clone());
    let summary = match &args.dead_letter_url {
        Some(url) => {
            let sink = SqsDeadLetters::new(sqs.clone(), url.clone());
            Worker::new(sqs, delivery, sink, config).run(proactive_aws::shutdown_signal()).await
        }
        None => Worker::new(sqs, delivery, Print, config).run(proactive_aws::shutdown_signal()).await,
    };
    let summary = match summary {
        Ok(summary) => summary,
        Err(error) => {
            eprintln!("error: {}", chain(&error));
            return USAGE;
        }
    };
    out!(
        "{} event{}: {} accepted, {} already delivered, {} dead-lettered (invalid, refused or failed), {} left on the \
         queue; {} retries, {} token request(s), {} ms",
        summary.received,
        if summary.received == 1 { "" } else { "s" },
        summary.delivered - summary.duplicates,
        summary.duplicates,
        summary.dead_lettered,
        summary.released,
        summary.retries,
        client.token_requests(),
        started.elapsed().as_millis()
    );
    OK
}

/// The error and its causes, `: `-separated (the AWS SDK's errors say little
/// at the top).
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
