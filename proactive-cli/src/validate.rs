//! `proactive validate` and `proactive preview`: read envelopes as a stream and
//! say what is wrong with each, in input order, ending with a total.
//!
//! Validation is spread over the machine's cores: the main thread reads lines,
//! workers parse and check batches of them and render the output, and one
//! writer prints the batches in input order. At most [`BATCHES_IN_FLIGHT`]
//! batches exist at once, so memory does not grow with the input.

use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use proactive_core::{Locale, Rule, Severity};

use crate::input::{Input, Item, Raw};
use crate::output::Stdout;
use crate::{Allow, Format, INVALID, OK, USAGE};

/// Lines per batch handed to a worker.
const BATCH_LINES: usize = 256;
/// Batches read but not yet printed, at most.
const BATCHES_IN_FLIGHT: usize = 8;

/// How one run went, added up over batches.
#[derive(Clone, Copy, Default)]
struct Totals {
    events: u64,
    valid: u64,
    invalid: u64,
    with_warnings: u64,
}

impl Totals {
    fn add(&mut self, other: Totals) {
        self.events += other.events;
        self.valid += other.valid;
        self.invalid += other.invalid;
        self.with_warnings += other.with_warnings;
    }
}

/// A batch's rendered output and its counts.
struct Rendered {
    seq: u64,
    text: Vec<u8>,
    totals: Totals,
}

/// `proactive validate`.
pub(crate) fn validate(format: Format, quiet: bool, allow: &[Allow], paths: &[String]) -> u8 {
    let workers = std::thread::available_parallelism().map_or(1, usize::from).min(4);
    let (work_tx, work_rx) = sync_channel::<(u64, Vec<Raw>)>(BATCHES_IN_FLIGHT);
    let (done_tx, done_rx) = sync_channel::<Rendered>(BATCHES_IN_FLIGHT);
    let (slot_tx, slot_rx) = sync_channel::<()>(BATCHES_IN_FLIGHT);
    let work_rx = Arc::new(Mutex::new(work_rx));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let (work_rx, done_tx) = (Arc::clone(&work_rx), done_tx.clone());
            scope.spawn(move || render_batches(&work_rx, &done_tx, format, quiet, allow));
        }
        drop(done_tx);
        let writer = scope.spawn(move || write_in_order(&done_rx, &slot_rx, format));
        let mut status = OK;
        let mut seq = 0;
        for path in paths {
            let mut input = match Input::open(path) {
                Ok(input) => input,
                Err(message) => {
                    error!("{message}");
                    status = USAGE;
                    continue;
                }
            };
            // Standard input may be a person typing: answer each line at once.
            let batch_lines = if path == "-" { 1 } else { BATCH_LINES };
            loop {
                let mut batch = Vec::with_capacity(batch_lines);
                let mut error = None;
                while batch.len() < batch_lines {
                    match input.next_raw() {
                        Ok(Some(raw)) => batch.push(raw),
                        Ok(None) => break,
                        Err(message) => {
                            error = Some(message);
                            break;
                        }
                    }
                }
                let last = batch.len() < batch_lines;
                if !batch.is_empty() {
                    // Wait for a free slot, so reading never runs far ahead of printing.
                    if slot_tx.send(()).is_err() || work_tx.send((seq, batch)).is_err() {
                        break;
                    }
                    seq += 1;
                }
                if let Some(message) = error {
                    error!("{message}");
                    status = USAGE;
                }
                if last {
                    break;
                }
            }
            if input.items == 0 && status != USAGE {
                error!("`{}` holds no events", input.file());
                status = status.max(INVALID);
            }
        }
        drop(work_tx);
        let totals = writer.join().unwrap_or_default();
        if totals.invalid > 0 {
            status = status.max(INVALID);
        }
        status
    })
}

/// A worker: parses, validates and renders batches until there are no more.
fn render_batches(
    work: &Mutex<Receiver<(u64, Vec<Raw>)>>,
    done: &SyncSender<Rendered>,
    format: Format,
    quiet: bool,
    allow: &[Allow],
) {
    loop {
        let next = work.lock().map(|receiver| receiver.recv());
        let Ok(Ok((seq, batch))) = next else { return };
        let mut rendered = Rendered { seq, text: Vec::with_capacity(batch.len() * 64), totals: Totals::default() };
        // A stored envelope may be sent (or re-stamped) later: the now-window is a warning here.
        let now = proactive_core::chrono::Utc::now();
        for raw in batch {
            let mut item = raw.parse(false);
            item.parsed.warn_outside_now_window(now);
            if allow.contains(&Allow::LocaleSupport) {
                item.parsed.report = std::mem::take(&mut item.parsed.report).allow(Rule::LocaleSupport);
            }
            render(&item, format, quiet, &mut rendered);
        }
        if done.send(rendered).is_err() {
            return;
        }
    }
}

/// One event's lines (text) or object (JSON), and its counts.
fn render(item: &Item, format: Format, quiet: bool, out: &mut Rendered) {
    use std::io::Write as _;
    let report = &item.parsed.report;
    let valid = item.is_valid();
    let totals = &mut out.totals;
    totals.events += 1;
    if valid {
        totals.valid += 1;
    } else {
        totals.invalid += 1;
    }
    totals.with_warnings += u64::from(report.warnings().next().is_some());
    if quiet && report.is_clean() {
        return;
    }
    let text = &mut out.text;
    // Writing to a Vec cannot fail.
    let _ = match format {
        Format::Text if report.is_clean() => writeln!(text, "{}: ok", Location(item)),
        Format::Text => {
            let location = Location(item);
            report
                .problems()
                .iter()
                .try_for_each(|problem| writeln!(text, "{location}: {}", crate::color::problem(problem)))
        }
        Format::Json => {
            let problems = |severity| {
                report
                    .problems()
                    .iter()
                    .filter(move |p| p.severity == severity)
                    .map(|p| JsonProblem { path: &p.path, message: &p.message })
                    .collect::<Vec<_>>()
            };
            let entry = JsonEntry {
                file: &item.file,
                line: item.line,
                valid,
                errors: problems(Severity::Error),
                warnings: problems(Severity::Warning),
            };
            // Each element comes with its separator; the writer drops the first one's comma.
            text.write_all(b",\n")
                .and_then(|()| serde_json::to_writer(&mut *text, &entry).map_err(std::io::Error::other))
        }
    };
}

/// `file` or `file:line`, without allocating.
struct Location<'a>(&'a Item);

impl std::fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.line {
            Some(line) => write!(f, "{}:{line}", self.0.file),
            None => f.write_str(&self.0.file),
        }
    }
}

/// One element of `validate --format json`'s array.
#[derive(serde::Serialize)]
struct JsonEntry<'a> {
    file: &'a str,
    line: Option<usize>,
    valid: bool,
    errors: Vec<JsonProblem<'a>>,
    warnings: Vec<JsonProblem<'a>>,
}

#[derive(serde::Serialize)]
struct JsonProblem<'a> {
    path: &'a str,
    message: &'a str,
}

/// The writer: prints batches in input order as they arrive, then the total.
fn write_in_order(done: &Receiver<Rendered>, slots: &Receiver<()>, format: Format) -> Totals {
    let mut out = Stdout::new();
    let mut totals = Totals::default();
    let mut waiting = BTreeMap::new();
    let mut next = 0;
    let mut first = true;
    if format == Format::Json {
        out.bytes(b"[");
    }
    while let Ok(rendered) = done.recv() {
        waiting.insert(rendered.seq, rendered);
        while let Some(rendered) = waiting.remove(&next) {
            next += 1;
            totals.add(rendered.totals);
            match format {
                Format::Text => out.bytes(&rendered.text),
                // The array's elements, one per line, each after `,\n` but the first.
                Format::Json if first && !rendered.text.is_empty() => {
                    out.bytes(&rendered.text[1..]);
                    first = false;
                }
                Format::Json => out.bytes(&rendered.text),
            }
            let _ = slots.recv();
        }
        if waiting.is_empty() {
            out.flush();
        }
    }
    match format {
        Format::Json => out.bytes(b"\n]\n"),
        Format::Text => out.line(format_args!(
            "{} event{}: {} valid, {} invalid; {} with warnings",
            totals.events,
            if totals.events == 1 { "" } else { "s" },
            totals.valid,
            totals.invalid,
            totals.with_warnings
        )),
    }
    totals
}

/// `proactive preview`.
pub(crate) fn preview(locale: Option<&str>, path: &str) -> u8 {
    let locale = match locale.map(crate::hints::locale).transpose() {
        Ok(locale) => locale,
        Err(error) => {
            error!("{error}");
            return USAGE;
        }
    };
    let mut input = match Input::open(path) {
        Ok(input) => input,
        Err(message) => {
            error!("{message}");
            return USAGE;
        }
    };
    let mut out = Stdout::new();
    let mut status = OK;
    loop {
        let item = match input.next_item() {
            Ok(Some(item)) => item,
            Ok(None) => break,
            Err(message) => {
                error!("{message}");
                status = USAGE;
                break;
            }
        };
        status = status.max(preview_one(&item, locale.as_ref(), &mut out));
    }
    if input.items == 0 && status == OK {
        error!("`{path}` holds no events");
        status = INVALID;
    }
    out.flush();
    eprintln!(
        "note: previews approximate what Alexa says: Amazon's templates are English (other languages are marked), \
         times are shown in UTC (Alexa speaks the user's time zone), and numbers are spoken as words"
    );
    status
}

/// Prints one event's previews; its exit status.
fn preview_one(item: &Item, locale: Option<&Locale>, out: &mut Stdout) -> u8 {
    let mut status = OK;
    let Some(envelope) = &item.parsed.envelope else {
        out.flush();
        eprintln!("{}: cannot preview an invalid envelope:\n{}", item.location(), item.parsed.report);
        return INVALID;
    };
    if item.parsed.report.has_errors() {
        // Still worth seeing, but Amazon would refuse it: say why and fail.
        out.flush();
        eprintln!("{}: Amazon would refuse this event:\n{}", item.location(), item.parsed.report);
        status = INVALID;
    }
    if let Some(locale) = locale
        && let Some(missing) = crate::hints::missing_locale(envelope, locale)
    {
        // Not an English sentence passed off as this locale: users there would get no content.
        out.flush();
        error!("{}: users in {locale} would get this event without its content: {missing}", item.location());
        return INVALID;
    }
    out.line(format_args!("{} ({}):", item.location(), envelope.event.name()));
    let previews = match locale {
        Some(locale) => vec![envelope.preview(locale)],
        None => envelope.previews(),
    };
    for preview in previews {
        out.line(format_args!("  {preview}"));
        if !preview.missing.is_empty() {
            out.line(format_args!("    (not defined for {}: {})", preview.locale, preview.missing.join(", ")));
        }
    }
    status
}
