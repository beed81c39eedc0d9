//! `proactive send`: read envelopes as a stream, validate them, send the valid
//! ones through the library's bulk send, and write each outcome as it
//! completes, with a summary, a file of everything not delivered, and a journal
//! to resume from.
//!
//! A reader thread parses and validates the input ([`PreparedEnvelope`]: a
//! line that reads exactly into its envelope is the body as it is, anything
//! else is serialized anew) while one runtime thread does nothing but send, so
//! memory is bounded by the concurrency, not by the input: at most [`QUEUED`]
//! prepared events wait for a free slot. One thread for all the HTTP work
//! (a current-thread runtime) spares every request the hand-offs between
//! threads that a multi-threaded runtime makes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use proactive_core::client::{BulkOutcome, BulkSend, Client, Outcome, PreparedEnvelope};
use proactive_core::{Envelope, Region};
use proactive_sandbox::{Faults, Sandbox, SandboxConfig};
use tokio::sync::mpsc;

use crate::client_args::ClientArgs;
use crate::input::{Input, Item};
use crate::journal::{InputId, Journal, Settled};
use crate::{Format, USAGE};

mod report;

pub(crate) use report::Event;
use report::Reporter;

/// Every option of `proactive send`.
#[derive(clap::Args)]
pub(crate) struct SendArgs {
    /// Files holding one envelope (`.json`) or one per line (`.jsonl`); `-` reads JSONL from stdin.
    #[arg(required = true)]
    paths: Vec<String>,
    #[command(flatten)]
    amazon: ClientArgs,
    /// How many events are in flight at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1024))]
    concurrency: u16,
    /// Write every event that was not delivered (invalid, refused, failed, or interrupted) to this
    /// file, as JSONL with its error; the file can be sent again as is. An existing file is replaced
    /// only at the end, atomically. It must be a regular file or a new one (a symbolic link is not
    /// followed), and may not be an input, the secret file or the journal.
    #[arg(long, value_name = "PATH")]
    failed: Option<String>,
    /// Append each event's final outcome to this JSONL file as it completes (synced to disk in
    /// batches). Run the same command again with the same journal to resume: events it records
    /// as accepted, already delivered or refused are skipped, the rest are sent. It must be a regular
    /// file or a new one, and may not be an input or the secret file. It records its inputs (path and
    /// SHA-256 of the first MiB) and refuses others.
    #[arg(long, value_name = "PATH")]
    journal: Option<String>,
    /// Resume from a journal written for other inputs (or by an older proactive, which did not
    /// record them): its records still decide which events are skipped.
    #[arg(long, requires = "journal")]
    journal_force: bool,
    /// Start an embedded sandbox and send to it: no credentials needed.
    #[arg(long)]
    sandbox: bool,
    /// With --sandbox: the fraction (0 to 1) of requests it fails (500/503 or a closed connection),
    /// each decided by the event's referenceId and attempt number, so a run can be repeated.
    #[arg(long, default_value_t = 0.0, requires = "sandbox")]
    sandbox_fail_rate: f64,
    /// Re-stamp every envelope at each attempt (retries too): sets timestamp to now and expiryTime
    /// to now + the envelope's own window, clamped to 6 min..23 h; the referenceId is kept. For
    /// envelopes written earlier, which Amazon refuses once their expiry is less than 5 min or more
    /// than 24 h away. An envelope whose own window (expiryTime - timestamp) is under 5 min (0 s or
    /// negative too) or over 24 h breaks Amazon's rule, and is refused as invalid, not re-stamped.
    #[arg(long)]
    restamp: bool,
    /// Output format: a line per event and a summary line, or the same as JSON objects (JSONL).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Print only events that were not delivered, and the summary.
    #[arg(long, short)]
    quiet: bool,
}

impl SendArgs {
    /// The input paths as given.
    pub(crate) fn paths(&self) -> &[String] {
        &self.paths
    }

    /// Whether `--restamp` was given.
    pub(crate) fn restamp(&self) -> bool {
        self.restamp
    }
}

/// Parsed events waiting for a free slot, at most (besides those in flight).
const QUEUED: usize = 256;
/// How long in-flight events may take to finish after Ctrl-C.
const GRACE: Duration = Duration::from_secs(10);
/// How long the reader thread gets to notice the end of the run.
const READER_WAIT: Duration = Duration::from_secs(1);

pub(crate) fn run(args: SendArgs) -> u8 {
    if !(0.0..=1.0).contains(&args.sandbox_fail_rate) {
        error!("--sandbox-fail-rate must be between 0 and 1");
        return USAGE;
    }
    if let Err(message) = check_paths(&args, &[]) {
        error!("{message}");
        return USAGE;
    }
    let mut inputs = Vec::with_capacity(args.paths.len());
    for path in &args.paths {
        match Input::open(path) {
            Ok(input) => inputs.push(input),
            Err(message) => {
                error!("{message}");
                return USAGE;
            }
        }
    }
    let journal_inputs = match journal_inputs(&args) {
        Ok(inputs) => inputs,
        Err(message) => {
            error!("{message}");
            return USAGE;
        }
    };
    run_source(&args, Source::Inputs(inputs), input_bytes(&args.paths), &journal_inputs)
}

/// Where the events to send come from.
pub(crate) enum Source {
    /// Files of stored envelopes.
    Inputs(Vec<Input>),
    /// A fan-out of a template to the subscribers in a store.
    Fanout(crate::fanout::Reader),
}

/// Sends the events of `source` with the outputs `args` asks for; a journal
/// records `journal_inputs` as what it was written for. The exit code.
pub(crate) fn run_source(args: &SendArgs, source: Source, input_bytes: Option<u64>, journal_inputs: &[InputId]) -> u8 {
    let opened = args.journal.as_deref().map(|path| Journal::open(path, journal_inputs, args.journal_force));
    let (journal, settled) = match opened.transpose() {
        Ok(Some((journal, settled))) => (Some(journal), settled),
        Ok(None) => (None, Settled::default()),
        Err(message) => {
            error!("{message}");
            return USAGE;
        }
    };
    let reporter = match Reporter::new(args, journal, settled.resumed, input_bytes) {
        Ok(reporter) => reporter,
        Err(message) => {
            error!("{message}");
            return USAGE;
        }
    };
    let Some(runtime) = crate::runtime(crate::Threads::One) else { return USAGE };
    let code = runtime.block_on(send(args, source, settled, reporter));
    // In-flight requests cancelled by an interruption must not hold the exit.
    runtime.shutdown_timeout(Duration::from_millis(100));
    code
}

/// `--failed` and `--journal` may be neither an input (the paths, and
/// `other_inputs`), the secret file nor each other, and are regular files or
/// new ones.
pub(crate) fn check_paths(args: &SendArgs, other_inputs: &[&str]) -> Result<(), String> {
    use crate::paths::{Input, Output};
    let mut inputs: Vec<Input<'_>> = args.paths.iter().map(|path| Input::File(path)).collect();
    inputs.extend(other_inputs.iter().map(|path| Input::File(path)));
    inputs.extend(args.amazon.client_secret_file.as_deref().map(Input::Secret));
    let outputs: Vec<Output<'_>> = [("--failed", &args.failed), ("--journal", &args.journal)]
        .into_iter()
        .filter_map(|(flag, path)| Some(Output { flag, path: path.as_deref()? }))
        .collect();
    crate::paths::check(&inputs, &outputs)
}

/// What a journal of this run records as its inputs: each path's digest.
fn journal_inputs(args: &SendArgs) -> Result<Vec<InputId>, String> {
    if args.journal.is_none() {
        return Ok(Vec::new());
    }
    args.paths.iter().map(|input| InputId::of(input)).collect()
}

/// The inputs' total size, for the progress bar's ETA; `None` with standard input.
fn input_bytes(paths: &[String]) -> Option<u64> {
    paths.iter().map(|path| (path != "-").then(|| std::fs::metadata(path).ok().map(|m| m.len())).flatten()).sum()
}

/// What the reader thread hands over besides the envelopes to send.
pub(crate) enum Read {
    /// An event that is not sent: invalid, or settled by an earlier run.
    NotSent(Box<Item>),
    /// A fan-out's event settled by an earlier run: its source and referenceId.
    Skipped(String, String),
    /// A file that held no events.
    Empty(String),
    /// An input that could not be read to its end.
    Error(String),
}

/// The events handed to the bulk send and not yet back, by their index there.
type Pending = Arc<Mutex<HashMap<usize, Event>>>;

async fn send(args: &SendArgs, source: Source, settled: Settled, mut reporter: Reporter) -> u8 {
    let started = Instant::now();
    // The embedded sandbox lives as long as this function.
    let sandbox = match start_sandbox(args).await {
        Ok(sandbox) => sandbox,
        Err(code) => return code,
    };
    let client = match client(args, sandbox.as_ref()) {
        Ok(client) => client,
        Err(message) => {
            error!("{message}");
            return USAGE;
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    let pending: Pending = Arc::default();
    let (mut envelopes_rx, mut others_rx, reader) = spawn_reader(source, settled, args.restamp, &stop, &pending);
    let taking = Arc::clone(&stop);
    let envelopes = futures_util::stream::poll_fn(move |cx| {
        // After Ctrl-C no new event is taken; those in flight finish.
        if taking.load(Ordering::Acquire) { std::task::Poll::Ready(None) } else { envelopes_rx.poll_recv(cx) }
    });
    let mut outcomes = client.send_routed_stream(envelopes, usize::from(args.concurrency));
    let mut signals = Signals::new();
    let bad_input = drive(&mut outcomes, &mut others_rx, &pending, &stop, &mut signals, &mut reporter).await;
    // Stop the reader (it may wait on a full queue) and close the bulk send.
    stop.store(true, Ordering::Release);
    drop(outcomes);
    drop(others_rx);
    wait_for_reader(&reader);
    let unsettled: Vec<Event> =
        pending.lock().map(|mut pending| pending.drain().map(|(_, e)| e).collect()).unwrap_or_default();
    reporter.finish(unsettled, &client, started.elapsed(), args.sandbox, signals.code(), bad_input)
}

/// The embedded sandbox, with `--sandbox`; the exit code when it cannot start.
async fn start_sandbox(args: &SendArgs) -> Result<Option<Sandbox>, u8> {
    if !args.sandbox {
        return Ok(None);
    }
    let config = SandboxConfig::new().faults(Faults::failing(args.sandbox_fail_rate));
    match Sandbox::start_with(config).await {
        Ok(sandbox) => Ok(Some(sandbox)),
        Err(error) => {
            error!("cannot start the sandbox: {error}");
            Err(USAGE)
        }
    }
}

/// Starts the reader thread (see [`read_inputs`]): the envelopes to send, what
/// else it reads, and the thread.
fn spawn_reader(
    source: Source,
    settled: Settled,
    restamp: bool,
    stop: &Arc<AtomicBool>,
    pending: &Pending,
) -> (mpsc::Receiver<Routed>, mpsc::Receiver<Read>, std::thread::JoinHandle<()>) {
    let (envelopes_tx, envelopes_rx) = mpsc::channel::<Routed>(QUEUED);
    let (others_tx, others_rx) = mpsc::channel::<Read>(QUEUED);
    let (stop, pending) = (Arc::clone(stop), Arc::clone(pending));
    let reader = std::thread::spawn(move || match source {
        Source::Inputs(inputs) => read_inputs(inputs, &settled, restamp, &envelopes_tx, &others_tx, &pending, &stop),
        Source::Fanout(fanout) => {
            let mut handoff = Handoff { index: 0, pending: &pending, envelopes: &envelopes_tx };
            fanout.read(&settled, &mut handoff, &others_tx, &stop);
        }
    });
    (envelopes_rx, others_rx, reader)
}

/// An event to send and the region to send it to (`None`: the client's own).
type Routed = (Option<Region>, PreparedEnvelope);

/// Hands outcomes and what the reader read to the reporter until both end, or
/// until the grace after Ctrl-C (none after a second one) runs out. Returns
/// whether an input could not be read to its end.
async fn drive(
    outcomes: &mut BulkSend<'_>,
    others_rx: &mut mpsc::Receiver<Read>,
    pending: &Pending,
    stop: &AtomicBool,
    signals: &mut Signals,
    reporter: &mut Reporter,
) -> bool {
    let (mut sending, mut reading) = (true, true);
    let mut deadline: Option<tokio::time::Instant> = None;
    let mut bad_input = false;
    let mut flush = tokio::time::interval(report::FLUSH_EVERY);
    flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while sending || reading {
        tokio::select! {
            outcome = outcomes.next(), if sending => match outcome {
                Some(outcome) => sending = report_ready(outcome, outcomes, pending, reporter),
                None => sending = false,
            },
            read = others_rx.recv(), if reading => match read {
                Some(read) => bad_input |= not_sent(reporter, read),
                None => reading = false,
            },
            () = signals.next(), if deadline.is_none() || signals.received == 1 => {
                stop.store(true, Ordering::Release);
                // A second signal: stop waiting for the events in flight.
                let wait = if signals.received == 1 { GRACE } else { Duration::ZERO };
                deadline = Some(tokio::time::Instant::now() + wait);
                reading = false;
                reporter.interrupted(signals.received == 1, wait);
            },
            () = sleep_until(deadline), if deadline.is_some() => break,
            // Lines are buffered; a quiet moment prints them.
            _ = flush.tick() => reporter.tick(),
        }
    }
    bad_input
}

/// Reports `outcome` and every other outcome already complete, without going
/// back to the `select!` (which polls every branch) for each; returns whether
/// the bulk send goes on.
fn report_ready(outcome: BulkOutcome, outcomes: &mut BulkSend<'_>, pending: &Pending, reporter: &mut Reporter) -> bool {
    use futures_util::FutureExt as _;
    let mut next = Some(outcome);
    while let Some(outcome) = next.take() {
        let event = pending.lock().ok().and_then(|mut pending| pending.remove(&outcome.index));
        if let Some(event) = event {
            sent(reporter, event, &outcome);
        }
        match outcomes.next().now_or_never() {
            Some(Some(outcome)) => next = Some(outcome),
            Some(None) => return false,
            None => {}
        }
    }
    true
}

/// Hands what the reader read besides envelopes to the reporter; returns
/// whether it is an input that could not be read to its end.
fn not_sent(reporter: &mut Reporter, read: Read) -> bool {
    match read {
        Read::NotSent(item) => reporter.not_sent(*item),
        Read::Skipped(source, reference_id) => reporter.skipped(&source, &reference_id),
        Read::Empty(file) => {
            reporter.flush();
            error!("`{file}` holds no events");
        }
        Read::Error(message) => {
            reporter.flush();
            error!("{message}");
            return true;
        }
    }
    false
}

/// Waits a moment for the reader thread to end. It ends at once unless it waits
/// on the input itself (a terminal on standard input): then it is left behind,
/// and ends with the process.
fn wait_for_reader(reader: &std::thread::JoinHandle<()>) {
    let waited = Instant::now();
    while !reader.is_finished() && waited.elapsed() < READER_WAIT {
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Hands one bulk-send outcome to the reporter, with the outcome this run gives it.
fn sent(reporter: &mut Reporter, event: Event, outcome: &BulkOutcome) {
    let mut kind = Outcome::of(&outcome.result);
    // Resuming: a 409 on the first attempt is an event the interrupted run delivered.
    if kind == Outcome::Refused
        && reporter.resumed()
        && outcome.result.as_ref().err().and_then(|e| e.status()) == Some(409)
    {
        kind = Outcome::AlreadyDelivered;
    }
    reporter.outcome(event, kind, &outcome.result);
}

/// The reader thread: parses every input, hands valid events to the bulk send
/// and the rest to the reporter, until the inputs end or `stop` is set.
fn read_inputs(
    inputs: Vec<Input>,
    settled: &Settled,
    restamp: bool,
    envelopes: &mpsc::Sender<Routed>,
    others: &mpsc::Sender<Read>,
    pending: &Pending,
    stop: &AtomicBool,
) {
    let mut handoff = Handoff { index: 0, pending, envelopes };
    for mut input in inputs {
        loop {
            if stop.load(Ordering::Acquire) {
                return;
            }
            let raw = match input.next_raw() {
                Ok(Some(raw)) => raw,
                Ok(None) => break,
                Err(message) => {
                    let _ = others.blocking_send(Read::Error(message));
                    break;
                }
            };
            // Most lines: prepared straight from their bytes, with one parse.
            let raw = match if restamp { Err(raw) } else { raw.prepare() } {
                Ok(ready) if !settled.contains(ready.prepared.reference_id().as_str()) => {
                    let event = Event::ready(&ready, handoff.index);
                    if !handoff.send(event, ready.prepared) {
                        return;
                    }
                    continue;
                }
                Ok(ready) => ready.into_raw(),
                Err(raw) => raw,
            };
            // The rest: parsed for their report, re-stamped, or skipped.
            let sent = match prepare(raw.parse(true), settled, restamp) {
                Ok((item, envelope, prepared)) => handoff.send(Event::new(item, &envelope, handoff.index), prepared),
                Err(item) => others.blocking_send(Read::NotSent(item)).is_ok(),
            };
            if !sent {
                return;
            }
        }
        if input.items == 0 && others.blocking_send(Read::Empty(input.file().to_owned())).is_err() {
            return;
        }
    }
}

/// Where the reader hands events to the bulk send.
pub(crate) struct Handoff<'a> {
    /// The next event's index in the bulk send.
    index: usize,
    pending: &'a Pending,
    envelopes: &'a mpsc::Sender<Routed>,
}

impl Handoff<'_> {
    /// Hands `prepared` over, `event` kept until its outcome; false once the send is closed.
    fn send(&mut self, event: Event, prepared: PreparedEnvelope) -> bool {
        self.send_to(event, None, prepared)
    }

    /// [`send`](Self::send) to `region`.
    pub(crate) fn send_to(&mut self, event: Event, region: Option<Region>, prepared: PreparedEnvelope) -> bool {
        if let Ok(mut pending) = self.pending.lock() {
            pending.insert(self.index, event);
        }
        self.index += 1;
        self.envelopes.blocking_send((region, prepared)).is_ok()
    }

    /// The index the next event gets.
    pub(crate) fn index(&self) -> usize {
        self.index
    }
}

/// `item` prepared for sending (to be re-stamped at each attempt with
/// `--restamp`), or the item not
/// to send: invalid (before or after re-stamping), or settled by an earlier run.
fn prepare(mut item: Item, settled: &Settled, restamp: bool) -> Result<(Item, Envelope, PreparedEnvelope), Box<Item>> {
    let settled_before = item.parsed.envelope.as_ref().is_some_and(|e| settled.contains(e.reference_id.as_str()));
    if !item.is_valid() || settled_before {
        return Err(Box::new(item));
    }
    let Some(envelope) = item.parsed.envelope.take() else { return Err(Box::new(item)) };
    let prepared = if restamp { PreparedEnvelope::restamped(&envelope) } else { PreparedEnvelope::new(&envelope) };
    match prepared {
        Ok(prepared) => Ok((item, envelope, prepared)),
        Err(invalid) => {
            // Valid as read, but not once re-stamped (or serialized): say why.
            item.parsed.report = invalid.report().clone();
            item.parsed.envelope = Some(envelope);
            Err(Box::new(item))
        }
    }
}

/// SIGINT and SIGTERM, counted.
struct Signals {
    interrupt: Option<tokio::signal::unix::Signal>,
    terminate: Option<tokio::signal::unix::Signal>,
    received: u32,
    last: i32,
}

impl Signals {
    fn new() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        Self {
            interrupt: signal(SignalKind::interrupt()).ok(),
            terminate: signal(SignalKind::terminate()).ok(),
            received: 0,
            last: 0,
        }
    }

    /// The next signal.
    async fn next(&mut self) {
        let interrupt = async {
            match &mut self.interrupt {
                Some(signal) => signal.recv().await,
                None => std::future::pending().await,
            }
        };
        let terminate = async {
            match &mut self.terminate {
                Some(signal) => signal.recv().await,
                None => std::future::pending().await,
            }
        };
        self.last = tokio::select! {
            _ = interrupt => 2,
            _ = terminate => 15,
        };
        self.received += 1;
    }

    /// The exit status after the signal (128 + its number), if one came.
    fn code(&self) -> Option<u8> {
        (self.received > 0).then(|| 128 + self.last as u8)
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// The client for the flags: the sandbox's, or Amazon's with credentials.
fn client(args: &SendArgs, sandbox: Option<&Sandbox>) -> Result<Client, String> {
    let builder = match sandbox {
        Some(sandbox) => Client::builder(sandbox.client_id().to_owned(), sandbox.client_secret().to_owned())
            .base_url(sandbox.base_url())
            .token_url(sandbox.token_url()),
        None => args.amazon.credentials(true, &args.paths)?,
    };
    args.amazon.configure(builder, sandbox.is_some()).build().map_err(|error| error.to_string())
}
