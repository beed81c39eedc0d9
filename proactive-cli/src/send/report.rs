//! What `proactive send` writes: a line per event (text or JSON) as its outcome
//! is known, the `--failed` file, the journal, the progress bar, and the
//! summary. Every outcome line is written by [`Reporter::write`].

use std::io::Write as _;
use std::time::{Duration, Instant};

use bytes::Bytes;
use proactive_core::client::{Accepted, BulkSummary, Client, Outcome, PreparedEnvelope, SendError};
use proactive_core::{Envelope, Locale};
use serde::Serialize;
use serde_json::value::RawValue;

use super::SendArgs;
use crate::files::Replacement;
use crate::input::{Item, Ready};
use crate::journal::Journal;
use crate::outcome::{self, KindCounts};
use crate::output::Stdout;
use crate::{Format, INVALID, OK, USAGE};

/// Buffered lines are printed at least this often.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// Events whose accepted line is followed by a preview of what Alexa says.
const PREVIEWS: usize = 20;

/// An event handed to the bulk send: what its outcome line and `--failed` need.
pub(crate) struct Event {
    /// `file` or `file:line`, made on the reader thread rather than the sending one.
    source: Box<str>,
    reference_id: Box<str>,
    /// The envelope's JSON as read (valid UTF-8), for `--failed`.
    text: Option<Bytes>,
    preview: Option<String>,
}

impl Event {
    /// The event of `item`, whose `envelope` was taken out to be sent; the
    /// first few keep a preview.
    pub(crate) fn new(item: Item, envelope: &Envelope, index: usize) -> Self {
        Self {
            source: source(&item.file, item.line),
            reference_id: envelope.reference_id.as_str().into(),
            text: item.text.map(|text| Bytes::from(text.into_boxed_bytes())),
            preview: (index < PREVIEWS).then(|| preview(envelope)),
        }
    }

    /// The event of a line prepared straight from its bytes; the first few keep a preview.
    pub(crate) fn ready(ready: &Ready, index: usize) -> Self {
        // Read again for the few previews only: the prepared envelope keeps no envelope.
        let preview = (index < PREVIEWS)
            .then(|| std::str::from_utf8(&ready.text).ok().and_then(|text| Envelope::from_json(text).ok()))
            .flatten()
            .map(|(envelope, _)| preview(&envelope));
        Self {
            source: source(&ready.file, ready.line),
            reference_id: ready.prepared.reference_id().as_str().into(),
            text: Some(ready.text.clone()),
            preview,
        }
    }

    /// The event of one subscriber of a fan-out: `source` names the user, the
    /// body is what `--failed` keeps; the first few keep a preview.
    pub(crate) fn fanout(source: &str, prepared: &PreparedEnvelope, index: usize) -> Self {
        let text = Bytes::copy_from_slice(prepared.body());
        let preview = (index < PREVIEWS)
            .then(|| std::str::from_utf8(&text).ok().and_then(|text| Envelope::from_json(text).ok()))
            .flatten()
            .map(|(envelope, _)| preview(&envelope));
        Self { source: source.into(), reference_id: prepared.reference_id().as_str().into(), text: Some(text), preview }
    }

    /// The text as read.
    fn text(&self) -> Option<&str> {
        self.text.as_deref().and_then(|text| std::str::from_utf8(text).ok())
    }

    fn source(&self) -> &str {
        &self.source
    }

    fn bytes(&self) -> u64 {
        self.text.as_ref().map_or(0, |text| text.len() as u64 + 1)
    }
}

/// `file`, or `file:line` for a line of JSONL.
fn source(file: &str, line: Option<usize>) -> Box<str> {
    match line {
        Some(line) => format!("{file}:{line}").into(),
        None => file.into(),
    }
}

/// The first line of the envelope's preview, in its first locale.
fn preview(envelope: &Envelope) -> String {
    let locale = envelope.localized_attributes.locales().next().cloned().unwrap_or_else(Locale::en_us);
    envelope.preview(&locale).to_string()
}

/// One outcome line, as text or as a JSON object.
#[derive(Serialize)]
struct Line<'a> {
    source: &'a str,
    /// An [`Outcome`] word, or `skipped` (settled by an earlier run).
    outcome: &'a str,
    #[serde(rename = "referenceId", skip_serializing_if = "Option::is_none")]
    reference_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
    #[serde(skip_serializing_if = "is_zero")]
    attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    problems: Vec<String>,
    /// For an event not delivered: what kind of refusal (`not_subscribed`, `invalid`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    /// For an event not delivered: what to do about it, in one line.
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'static str>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Writes everything `send` reports; see the module docs.
pub(crate) struct Reporter {
    format: Format,
    quiet: bool,
    out: Stdout,
    progress: Option<Progress>,
    failed: Option<(String, Replacement)>,
    failed_lines: u64,
    journal: Option<Journal>,
    resumed: bool,
    summary: BulkSummary,
    kinds: KindCounts,
    skipped: u64,
    buffer: Vec<u8>,
}

impl Reporter {
    /// Opens the `--failed` file (a replacement of any old one) and sets up the progress bar.
    pub(crate) fn new(
        args: &SendArgs,
        journal: Option<Journal>,
        resumed: bool,
        input_bytes: Option<u64>,
    ) -> Result<Self, String> {
        let failed = match &args.failed {
            Some(path) => {
                Some((path.clone(), Replacement::new(path).map_err(|error| format!("cannot write `{path}`: {error}"))?))
            }
            None => None,
        };
        let progress = (args.format == Format::Text && std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .then(|| Progress::new(input_bytes));
        Ok(Self {
            format: args.format,
            quiet: args.quiet,
            out: Stdout::new(),
            progress,
            failed,
            failed_lines: 0,
            journal,
            resumed,
            summary: BulkSummary::new(),
            kinds: KindCounts::default(),
            skipped: 0,
            buffer: Vec::with_capacity(1024),
        })
    }

    /// Whether this run resumes one recorded in the journal.
    pub(crate) fn resumed(&self) -> bool {
        self.resumed
    }

    /// An event sent, with the outcome this run gives it.
    pub(crate) fn outcome(&mut self, event: Event, outcome: Outcome, result: &Result<Accepted, SendError>) {
        let attempts = match result {
            Ok(accepted) => accepted.attempts(),
            Err(error) => error.attempts(),
        };
        self.summary.add(outcome, attempts);
        let source = event.source();
        let (status, request_id, message) = match result {
            Ok(accepted) => (Some(accepted.status()), accepted.request_id(), None),
            Err(error) => (error.status(), error.request_id(), Some(error.to_string())),
        };
        if let Some(journal) = &mut self.journal
            && let Err(error) = journal.record(&event.reference_id, outcome, source, status)
        {
            error!("cannot write to the journal: {error}");
        }
        let (mut kind, mut hint) = (None, None);
        if let Err(error) = result
            && !outcome.is_delivered()
        {
            let (k, h) = outcome::classify(error);
            self.kinds.add(k);
            (kind, hint) = (Some(k), Some(h));
            self.write_failed(source, error_json(error), event.text());
        }
        self.write(&Line {
            source,
            outcome: outcome.as_str(),
            reference_id: Some(&event.reference_id),
            status,
            request_id,
            attempts,
            message,
            problems: Vec::new(),
            kind,
            hint,
        });
        if outcome.is_delivered()
            && self.format == Format::Text
            && !self.quiet
            && let Some(preview) = &event.preview
        {
            self.out.line(format_args!("  {preview}"));
        }
        if let Some(progress) = &mut self.progress {
            progress.done(event.bytes());
        }
    }

    /// An event settled by an earlier run, as the journal records: skipped.
    pub(crate) fn skipped(&mut self, source: &str, reference_id: &str) {
        self.skipped += 1;
        self.write(&Line {
            source,
            outcome: "skipped",
            reference_id: Some(reference_id),
            status: None,
            request_id: None,
            attempts: 0,
            message: Some("settled by an earlier run, as the journal records".to_owned()),
            problems: Vec::new(),
            kind: None,
            hint: None,
        });
    }

    /// An event not sent: invalid, or settled by an earlier run.
    pub(crate) fn not_sent(&mut self, item: Item) {
        let source = item.location();
        let reference_id = item.parsed.envelope.as_ref().map(|e| e.reference_id.as_str());
        if item.is_valid() {
            self.skipped(&source, reference_id.unwrap_or(""));
            return;
        }
        self.summary.add(Outcome::Invalid, 0);
        self.kinds.add(outcome::INVALID);
        let hint = outcome::invalid_hint(&item.parsed.report);
        let problems: Vec<String> = item.parsed.report.errors().map(ToString::to_string).collect();
        self.write_failed(
            &source,
            serde_json::json!({"kind": outcome::INVALID, "hint": hint, "stage": "validation", "problems": problems}),
            item.text.as_deref(),
        );
        self.write(&Line {
            source: &source,
            outcome: Outcome::Invalid.as_str(),
            reference_id,
            status: None,
            request_id: None,
            attempts: 0,
            message: Some("not sent".to_owned()),
            problems,
            kind: Some(outcome::INVALID),
            hint: Some(hint),
        });
    }

    /// The one function that writes an outcome line.
    fn write(&mut self, line: &Line<'_>) {
        let delivered =
            line.outcome == Outcome::Accepted.as_str() || line.outcome == Outcome::AlreadyDelivered.as_str();
        if self.quiet && (delivered || line.outcome == "skipped") {
            return;
        }
        match self.format {
            Format::Json => {
                self.buffer.clear();
                if serde_json::to_writer(&mut self.buffer, line).is_ok() {
                    self.out.bytes(&self.buffer);
                    self.out.bytes(b"\n");
                }
            }
            Format::Text => {
                let mut text = format!("{}: {}", line.source, line.outcome);
                match (line.status, &line.message) {
                    (_, Some(message)) => text = format!("{text}: {message}"),
                    (Some(status), None) => {
                        text = format!("{text} ({status}");
                        if let Some(id) = line.request_id {
                            text = format!("{text}, request {id}");
                        }
                        text.push(')');
                    }
                    (None, None) => {}
                }
                self.out.line(format_args!("{text}"));
                for problem in &line.problems {
                    self.out.line(format_args!("  {problem}"));
                }
                if let (Some(kind), Some(hint)) = (line.kind, line.hint) {
                    self.out.line(format_args!("  {kind}: {hint}"));
                }
            }
        }
    }

    /// Appends a line to `--failed`: `{"source", "error", "envelope"}`, which can be sent again.
    fn write_failed(&mut self, source: &str, error: serde_json::Value, text: Option<&str>) {
        let Some((_, file)) = &mut self.failed else { return };
        // The envelope as it was read when it is JSON, else as a string.
        let raw = text.and_then(|text| serde_json::from_str::<&RawValue>(text).ok());
        let envelope = match (raw, text) {
            (Some(raw), _) => serde_json::to_string(raw),
            (None, text) => serde_json::to_string(&text),
        }
        .unwrap_or_default();
        let line = format!(
            "{{\"source\":{},\"error\":{error},\"envelope\":{envelope}}}\n",
            serde_json::Value::String(source.to_owned())
        );
        // One write per line: a kill leaves no half line.
        if let Err(error) = file.file().write_all(line.as_bytes()) {
            error!("cannot write to the --failed file: {error}");
        }
        self.failed_lines += 1;
    }

    /// Ctrl-C (or SIGTERM) was received.
    pub(crate) fn interrupted(&mut self, first: bool, wait: Duration) {
        self.flush();
        if first {
            eprintln!(
                "interrupted: no new event is sent; waiting up to {} s for those in flight (again to stop now)",
                wait.as_secs()
            );
        } else {
            eprintln!("interrupted again: not waiting for the events in flight");
        }
    }

    /// Called every [`FLUSH_EVERY`]: prints buffered lines and updates the progress bar.
    pub(crate) fn tick(&mut self) {
        if let Some(progress) = &mut self.progress {
            progress.refresh();
        }
        self.flush();
    }

    /// Prints buffered lines (above the progress bar).
    pub(crate) fn flush(&mut self) {
        match &self.progress {
            Some(progress) => progress.bar.suspend(|| self.out.flush()),
            None => self.out.flush(),
        }
    }

    /// Ends the run: events never settled go to `--failed`, the files are
    /// synced and put in place, and the summary is printed. The exit status.
    pub(crate) fn finish(
        mut self,
        unsettled: Vec<Event>,
        client: &Client,
        elapsed: Duration,
        sandbox: bool,
        signal: Option<u8>,
        bad_input: bool,
    ) -> u8 {
        if let Some(progress) = self.progress.take() {
            progress.bar.finish_and_clear();
        }
        let unsettled_count = unsettled.len() as u64;
        for event in unsettled {
            let error = serde_json::json!({
                "message": "interrupted before its outcome was known; it may have been delivered (resume with the same --journal)",
            });
            self.write_failed(event.source(), error, event.text());
        }
        if let Some(journal) = self.journal.take()
            && let Err(error) = journal.finish()
        {
            error!("cannot sync the journal: {error}");
        }
        let failed_path = match self.failed.take() {
            Some((path, file)) => match file.commit() {
                Ok(()) => Some(path),
                Err(error) => {
                    error!("cannot write `{path}`: {error}");
                    None
                }
            },
            None => None,
        };
        self.summary_line(client, elapsed, sandbox, signal.is_some(), unsettled_count);
        if self.format == Format::Text
            && let Some(path) = failed_path
            && self.failed_lines > 0
        {
            self.out.line(format_args!("not delivered: {}, written to {path}", self.failed_lines));
        }
        self.out.flush();
        let summary = &self.summary;
        if let Some(code) = signal {
            code
        } else if summary.total() + self.skipped == 0 {
            error!("no events in the input");
            USAGE
        } else if bad_input {
            USAGE
        } else if summary.delivered() == summary.total() {
            OK
        } else {
            INVALID
        }
    }

    fn summary_line(&mut self, client: &Client, elapsed: Duration, sandbox: bool, interrupted: bool, unsettled: u64) {
        let summary = &self.summary;
        let elapsed_ms = elapsed.as_millis() as u64;
        match self.format {
            Format::Json => {
                let mut object = serde_json::Map::new();
                object.insert("total".into(), summary.total().into());
                for outcome in Outcome::ALL {
                    object.insert(outcome.key().into(), summary.count(outcome).into());
                }
                object.insert("skipped".into(), self.skipped.into());
                object.insert("retries".into(), summary.retries.into());
                object.insert("token_requests".into(), client.token_requests().into());
                object.insert("elapsed_ms".into(), elapsed_ms.into());
                object.insert("kinds".into(), self.kinds.to_json());
                if interrupted {
                    object.insert("interrupted".into(), true.into());
                    object.insert("unsettled".into(), unsettled.into());
                }
                self.out.line(format_args!("{}", serde_json::Value::Object(object)));
            }
            Format::Text => {
                let skipped = if self.skipped > 0 {
                    format!(", {} skipped as settled by the journal", self.skipped)
                } else {
                    String::new()
                };
                if !self.kinds.is_empty() {
                    self.out.line(format_args!("not delivered, by kind: {}", self.kinds.to_text()));
                }
                self.out.line(format_args!(
                    "{summary}, {} token request(s), {elapsed_ms} ms{skipped}{}",
                    client.token_requests(),
                    if sandbox { " (sandbox)" } else { "" }
                ));
                if interrupted {
                    self.out.line(format_args!(
                        "interrupted: {unsettled} event(s) in flight or queued have no outcome (see --failed and \
                         --journal), and the rest of the input was not read"
                    ));
                }
            }
        }
    }
}

/// The error as written to `--failed`: its kind and what to do, the status and
/// Amazon's words.
fn error_json(error: &SendError) -> serde_json::Value {
    let (kind, hint) = outcome::classify(error);
    serde_json::json!({
        "kind": kind,
        "hint": hint,
        "message": error.to_string(),
        "status": error.status(),
        "request_id": error.request_id(),
        "attempts": error.attempts(),
        "retryable": error.is_retryable(),
    })
}

/// The progress bar on a terminal: events done, a whole events-per-second rate,
/// and an ETA from the share of the input's bytes done.
struct Progress {
    bar: indicatif::ProgressBar,
    started: Instant,
    done: u64,
}

impl Progress {
    fn new(input_bytes: Option<u64>) -> Self {
        let (bar, template) = match input_bytes {
            Some(bytes) => (indicatif::ProgressBar::new(bytes), "{bar:30} {msg}, eta {eta}"),
            None => (indicatif::ProgressBar::new_spinner(), "{spinner} {msg}"),
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template(template)
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(10));
        Self { bar, started: Instant::now(), done: 0 }
    }

    fn done(&mut self, bytes: u64) {
        self.done += 1;
        if self.done == 1 {
            self.refresh();
        }
        self.bar.inc(bytes);
    }

    fn refresh(&mut self) {
        let seconds = self.started.elapsed().as_secs_f64().max(0.001);
        self.bar.set_message(format!("{} events, {} events/s", self.done, (self.done as f64 / seconds) as u64));
    }
}
