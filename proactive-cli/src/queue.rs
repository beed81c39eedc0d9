//! `proactive queue send` and `proactive queue work`: envelopes onto an SQS
//! queue, and the worker that sends them to Amazon (the `aws` feature).

use std::future::Future;
use std::time::Instant;

use proactive_aws::{
    DeadLetter, DeadLetterError, DeadLetterSink, Delivery, RefusedReason, SqsDeadLetters, SqsProducer, Worker,
    WorkerConfig, WorkerSummary, aws_sdk_sqs,
};
use proactive_core::{Envelope, Region};

mod fanout;

use crate::client_args::ClientArgs;
use crate::input::Input;
use crate::{Format, INVALID, OK, USAGE};

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
    /// Re-stamp every envelope at each attempt (retries too): timestamp = now, expiryTime = now +
    /// its own window, where a window under 6 min becomes 6 min and one over 23 h becomes 23 h; the
    /// referenceId is kept. Without it, an event that expired while queued is dead-lettered.
    #[arg(long)]
    restamp: bool,
    /// The summary at the end: a line, or one JSON object (with the dead letters per kind).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
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

/// What `queue send` has done so far.
#[derive(Default)]
struct Enqueued {
    total: u64,
    invalid: u64,
    failed: u64,
    enqueued: u64,
}

/// Envelopes are read, validated and enqueued in batches of [`SEND_BATCH`] as
/// they are read, so memory stays flat whatever the input's size.
async fn send(args: SendArgs) -> u8 {
    let started = Instant::now();
    let producer = SqsProducer::new(sqs(&args.queue).await, args.queue.queue_url.clone());
    let mut counts = Enqueued::default();
    let mut batch: Vec<(String, Envelope)> = Vec::with_capacity(SEND_BATCH);
    let mut code = OK;
    'inputs: for path in &args.paths {
        let input = match Input::open(path) {
            Ok(input) => input,
            Err(message) => {
                eprintln!("error: {message}");
                code = USAGE;
                break;
            }
        };
        for item in input {
            let item = match item {
                Ok(item) => item,
                Err(message) => {
                    eprintln!("error: {message}");
                    code = USAGE;
                    break 'inputs;
                }
            };
            counts.total += 1;
            let location = item.location();
            match item.parsed.envelope {
                Some(envelope) if !item.parsed.report.has_errors() => batch.push((location, envelope)),
                _ => {
                    counts.invalid += 1;
                    out!("{location}: not enqueued, invalid:");
                    for problem in item.parsed.report.errors() {
                        out!("  {problem}");
                    }
                }
            }
            if batch.len() == SEND_BATCH && !enqueue(&producer, &mut batch, args.region, &mut counts).await {
                code = USAGE;
                break 'inputs;
            }
        }
    }
    // What was read before an error is enqueued too, and counted.
    if !batch.is_empty() && !enqueue(&producer, &mut batch, args.region, &mut counts).await {
        code = USAGE;
    }
    let Enqueued { total, invalid, failed, enqueued } = counts;
    out!(
        "{total} event{}: {enqueued} enqueued, {invalid} invalid, {failed} failed; {} ms",
        if total == 1 { "" } else { "s" },
        started.elapsed().as_millis()
    );
    match code {
        OK if invalid + failed > 0 => INVALID,
        code => code,
    }
}

/// How many envelopes `queue send` holds before it enqueues them: one SQS batch.
const SEND_BATCH: usize = 10;

/// Enqueues `batch` (emptying it) and reports each envelope not enqueued;
/// false when the queue could not be reached.
async fn enqueue(
    producer: &SqsProducer,
    batch: &mut Vec<(String, Envelope)>,
    region: Region,
    counts: &mut Enqueued,
) -> bool {
    let (locations, envelopes): (Vec<String>, Vec<Envelope>) = batch.drain(..).unzip();
    let report = match producer.enqueue(envelopes.into_iter().map(|envelope| (envelope, region))).await {
        Ok(report) => report,
        Err(error) => {
            let first = locations.first().map_or("", String::as_str);
            eprintln!(
                "error: {}; enqueue again from {first} on (stable referenceIds make that harmless)",
                chain(&error)
            );
            return false;
        }
    };
    counts.enqueued += report.enqueued as u64;
    for refused in &report.refused {
        // SQS's own refusal may pass another time; the others never will.
        let outcome = if matches!(refused.reason, RefusedReason::Sqs { .. }) { "failed" } else { "invalid" };
        if outcome == "failed" {
            counts.failed += 1;
        } else {
            counts.invalid += 1;
        }
        out!("{}: not enqueued, {outcome}: {}", locations[refused.index], refused.reason);
    }
    true
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

/// A sink that says on standard error, as it happens, when a dead letter
/// could not be kept (the worker counts it, and the message comes back).
struct Loud<S>(S);

impl<S: DeadLetterSink> DeadLetterSink for Loud<S> {
    async fn put(&self, letter: &DeadLetter) -> Result<(), DeadLetterError> {
        let kept = self.0.put(letter).await;
        if let Err(error) = &kept {
            let id = letter.reference_id.as_deref().unwrap_or("none");
            eprintln!(
                "error: the `{}` dead letter of message `{}` (referenceId `{id}`) was not kept, so the message comes \
                 back to the queue: {}",
                letter.kind,
                letter.message_id,
                chain(error)
            );
        }
        kept
    }

    fn check(&self) -> impl Future<Output = Result<(), DeadLetterError>> + Send {
        self.0.check()
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
    let delivery = Delivery::new(client.clone()).restamp(args.restamp);
    let summary = match &args.dead_letter_url {
        Some(url) => {
            let sink = Loud(SqsDeadLetters::new(sqs.clone(), url.clone()));
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
    print_summary(&summary, args.format, client.token_requests(), started.elapsed().as_millis());
    if summary.dead_letter_failures > 0 { INVALID } else { OK }
}

/// The worker's summary: a line, or one JSON object.
fn print_summary(summary: &WorkerSummary, format: Format, token_requests: u64, elapsed_ms: u128) {
    if format == Format::Json {
        let line = serde_json::json!({
            "received": summary.received,
            "accepted": summary.delivered - summary.duplicates,
            "already_delivered": summary.duplicates,
            "dead_lettered": summary.dead_lettered,
            "kinds": summary.dead_lettered_by_kind,
            "dead_letter_failures": summary.dead_letter_failures,
            "left_on_queue": summary.released,
            "retries": summary.retries,
            "token_requests": token_requests,
            "elapsed_ms": elapsed_ms,
        });
        out!("{line}");
        return;
    }
    let kinds: Vec<String> = summary.dead_lettered_by_kind.iter().map(|(kind, n)| format!("{n} {kind}")).collect();
    let kinds = if kinds.is_empty() { String::new() } else { format!(": {}", kinds.join(", ")) };
    let not_kept = match summary.dead_letter_failures {
        0 => String::new(),
        n => format!(", {n} dead letter{} not kept (see the errors above)", if n == 1 { "" } else { "s" }),
    };
    out!(
        "{} event{}: {} accepted, {} already delivered, {} dead-lettered (invalid, refused or failed{kinds}){not_kept}, \
         {} left on the queue; {} retries, {token_requests} token request(s), {elapsed_ms} ms",
        summary.received,
        if summary.received == 1 { "" } else { "s" },
        summary.delivered - summary.duplicates,
        summary.duplicates,
        summary.dead_lettered,
        summary.released,
        summary.retries,
    );
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
