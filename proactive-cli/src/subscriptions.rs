//! `proactive subscriptions apply|count|list`: recorded skill event requests
//! applied to a SQLite subscription store by the tracker's rules, and what a
//! fan-out would reach, counted or listed a page at a time.

use std::collections::BTreeSet;
use std::io::{self, BufRead, BufReader};

use proactive_core::Region;
use proactive_core::chrono::{DateTime, SecondsFormat, Utc};
use proactive_core::schemas::EventName;
use proactive_core::subscription::{
    DEFAULT_PAGE_SIZE, Handled, RequestError, SkillEvent, SqliteStore, StoreError, SubscribedEvent, SubscriptionStore,
    SubscriptionTracker, TOMBSTONE_TTL, Tracked,
};
use serde::Serialize;

use crate::fanout::{block_on, open_store};
use crate::input::{self, Line, MAX_LINE_BYTES};
use crate::output::Stdout;
use crate::{Format, INVALID, OK, USAGE};

/// The `subscriptions` subcommands.
#[derive(clap::Subcommand)]
pub(crate) enum SubscriptionsCommand {
    /// Apply recorded skill event requests (JSONL) to a SQLite subscription store. Verifies no
    /// signature.
    ///
    /// Each line of REQUESTS is one skill event request body as Alexa POSTed it: an events
    /// endpoint's log, or an export from another store. Lines are read one at a time and applied
    /// by the tracker's rules, as the endpoint applies them: the newest request per user wins, an
    /// older one is stale; SkillDisabled removes the user and keeps a tombstone, so that an older
    /// request for them is refused as disabled; a permission change without the notifications
    /// permission unsubscribes them. A request dated more than an hour ahead of now is refused. A
    /// bad line is reported with its line number and the field at fault, and the rest is still
    /// applied. Applying the same records again changes nothing.
    ///
    /// This command verifies no signature: the records are taken to be your own, of requests your
    /// endpoint verified when they arrived. Never apply requests that came from anyone else.
    ///
    /// The store is created if it does not exist.
    ///
    /// Tombstones: no tombstone is removed during the run, so a SkillDisabled anywhere in the input
    /// makes the older requests of that user stale, however old the records. At the end,
    /// tombstones older than 65 minutes are removed, as the endpoint removes them (the verifier
    /// refuses requests older than an hour). A request older than a SkillDisabled applied by an
    /// earlier run therefore brings the user back once that tombstone is gone: give every file of
    /// a replay to one run, or use --keep-tombstones until the last.
    #[command(after_help = APPLY_EXIT_CODES)]
    Apply(ApplyArgs),
    /// Count the subscribers of each event (or of one) in a SQLite subscription store.
    ///
    /// Prints `COUNT EVENT` lines: the users a fan-out of that event would reach.
    Count(CountArgs),
    /// List the subscribers of one event as JSONL: `{"userId", "apiEndpoint", "region"}`.
    ///
    /// Sorted by user id, read a page at a time: memory stays flat however many there are.
    /// `region` is `NA`, `EU` or `FE`, or null for an apiEndpoint that is none of Amazon's hosts.
    List(ListArgs),
}

/// The exit codes of `subscriptions apply`.
const APPLY_EXIT_CODES: &str = "\
Exit codes:
  0  every line was applied, or changed nothing (stale, disabled, no change)
  1  some line was invalid, or refused (dated from the future)
  2  usage or I/O error (bad flag, unreadable file, the store failed)";

/// Where the subscription store is.
#[derive(clap::Args)]
pub(crate) struct StoreArgs {
    /// The SQLite subscription store (the file the events endpoint's `SqliteStore` writes).
    #[arg(long, value_name = "DB")]
    subscribers: String,
}

#[derive(clap::Args)]
pub(crate) struct ApplyArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Output format: a line per request and a summary line, or the same as JSON objects (JSONL).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Print only the lines that were invalid or refused, and the summary.
    #[arg(long, short)]
    quiet: bool,
    /// Remove no tombstone at the end of the run, for a replay split over several runs.
    #[arg(long)]
    keep_tombstones: bool,
    /// JSONL files of request bodies, one per line, applied in order; `-` reads standard input.
    #[arg(required = true, value_name = "REQUESTS")]
    paths: Vec<String>,
}

#[derive(clap::Args)]
pub(crate) struct CountArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Only this event, such as `AMAZON.WeatherAlert.Activated`.
    #[arg(long, value_name = "NAME")]
    event: Option<String>,
}

#[derive(clap::Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The event whose subscribers to list, such as `AMAZON.WeatherAlert.Activated`.
    #[arg(long, value_name = "NAME")]
    event: String,
}

/// Runs a `subscriptions` subcommand; the exit code.
pub(crate) fn run(command: SubscriptionsCommand) -> u8 {
    match command {
        SubscriptionsCommand::Apply(args) => apply(args),
        SubscriptionsCommand::Count(args) => count(args),
        SubscriptionsCommand::List(args) => list(args),
    }
}

/// An error with its causes, for the CLI: the store's messages keep their
/// cause (SQLite's words) out of the message.
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}

// ---------------------------------------------------------------- apply

/// Runs `subscriptions apply`.
fn apply(args: ApplyArgs) -> u8 {
    let db = &args.store.subscribers;
    if let Err(message) = check_apply_paths(db, &args.paths) {
        error!("{message}");
        return USAGE;
    }
    let store = match SqliteStore::open(db) {
        Ok(store) => store,
        Err(error) => {
            error!("{}", describe(&error));
            return USAGE;
        }
    };
    // No purge at each SkillDisabled: the records are old, and their
    // tombstones must order the requests that follow them in the input.
    let tracker = SubscriptionTracker::new(store).with_purge_on_disable(false);
    let mut report = Report::new(args.format, args.quiet);
    let mut stopped = false;
    for path in &args.paths {
        if let Err(message) = apply_path(path, &tracker, &mut report) {
            error!("{message}");
            stopped = true;
            break;
        }
    }
    let purged = if args.keep_tombstones || stopped {
        None
    } else {
        match block_on(tracker.purge_tombstones()) {
            Ok(purged) => Some(purged),
            Err(error) => {
                error!("{}", describe(&error));
                stopped = true;
                None
            }
        }
    };
    report.finish(purged, stopped)
}

/// The store is written: it must be a regular file or not exist yet (never a
/// symlink, a device or a directory), and no input may be the store.
fn check_apply_paths(db: &str, paths: &[String]) -> Result<(), String> {
    match std::fs::symlink_metadata(db) {
        Ok(meta) if meta.is_file() => {}
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(format!(
                "the subscription store `{db}` is a symbolic link; give the path of the file it points to"
            ));
        }
        Ok(_) => return Err(format!("the subscription store `{db}` is not a regular file")),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(format!("cannot open the subscription store `{db}`: {error}")),
    }
    if paths.iter().filter(|path| *path == "-").count() > 1 {
        return Err("standard input (`-`) can be read only once".to_owned());
    }
    // The store is written: the output path guard says whether an input is the same file.
    let output = crate::paths::Output { flag: "--subscribers", path: db };
    for path in paths {
        if crate::paths::check(&[crate::paths::Input::File(path)], std::slice::from_ref(&output)).is_err() {
            return Err(format!("`{path}` is the subscription store itself; give the file of recorded requests"));
        }
    }
    Ok(())
}

/// Applies every line of one input; an error (reading the input, or the
/// store failing) stops the run.
fn apply_path(path: &str, tracker: &SubscriptionTracker<SqliteStore>, report: &mut Report) -> Result<(), String> {
    let mut reader: Box<dyn BufRead> = if path == "-" {
        Box::new(BufReader::with_capacity(256 * 1024, io::stdin()))
    } else {
        let file = std::fs::File::open(path).map_err(|e| format!("cannot read `{path}`: {e}"))?;
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(format!("cannot read `{path}`: it is a directory"));
        }
        Box::new(BufReader::with_capacity(256 * 1024, file))
    };
    let mut buffer = Vec::new();
    for number in 1.. {
        let read = input::read_line(&mut reader, &mut buffer, Some(b'\n'))
            .map_err(|e| format!("cannot read `{path}` at line {number}: {e}"))?;
        let source = format!("{path}:{number}");
        let bytes = match read {
            Line::End => return Ok(()),
            Line::Ended | Line::Last => buffer.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(&buffer),
            Line::TooLong(len) => {
                report.line(&source, Applied::Invalid(too_long(len)));
                continue;
            }
        };
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let applied = apply_line(bytes, number, tracker).map_err(|error| {
            format!(
                "stopped at `{source}`: {}; the lines before it were applied, and applying them again changes nothing",
                describe(&error)
            )
        })?;
        report.line(&source, applied);
    }
    Ok(())
}

fn too_long(len: usize) -> String {
    format!("the line is {len} bytes or more, over the limit of {MAX_LINE_BYTES} bytes; skipped")
}

/// Applies one request body; `Err` only when the store failed (the run stops).
fn apply_line(bytes: &[u8], number: usize, tracker: &SubscriptionTracker<SqliteStore>) -> Result<Applied, StoreError> {
    let event = match SkillEvent::from_slice(bytes) {
        Ok(event) => event,
        Err(error) => return Ok(Applied::Invalid(invalid_message(&error, bytes, number))),
    };
    let user = event.user_id().as_str().to_owned();
    match block_on(tracker.handle(&event)) {
        Ok(handled) => Ok(Applied::from_handled(handled, user, event.request_type())),
        Err(error) if error.is_refused() => Ok(Applied::Refused { user, message: error.to_string() }),
        Err(proactive_core::subscription::TrackerError::Store(error)) => Err(error),
        Err(other) => Ok(Applied::Refused { user, message: other.to_string() }),
    }
}

/// The message of a line that is not a skill event. A line that is not JSON
/// names its column (the line is the input's); the first line of a
/// pretty-printed file gets a hint.
fn invalid_message(error: &RequestError, bytes: &[u8], number: usize) -> String {
    match error {
        RequestError::NotJson { column, reason, .. } => {
            let hint = if number == 1 && matches!(bytes.trim_ascii(), b"{" | b"[") {
                "; the input must be JSONL, one request body per line (`jq -c .` writes it so)"
            } else {
                "; each line must be one request body, as Alexa sent it"
            };
            format!("not JSON at column {column}: {reason}{hint}")
        }
        other => other.to_string(),
    }
}

/// What one line did.
enum Applied {
    Updated { user: String, added: Vec<String>, removed: Vec<String> },
    Removed { user: String, dropped: usize },
    Stale { user: String, stored: DateTime<Utc>, request_id: String },
    Disabled { user: String, disabled: DateTime<Utc> },
    NoChange { user: String, request_type: &'static str },
    Invalid(String),
    Refused { user: String, message: String },
}

fn names(events: &BTreeSet<SubscribedEvent>) -> Vec<String> {
    events.iter().map(|event| event.as_str().to_owned()).collect()
}

fn instant(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

impl Applied {
    fn from_handled(handled: Handled, user: String, request_type: &'static str) -> Self {
        match handled {
            Handled::Subscriptions(Tracked::Updated(change)) => {
                Self::Updated { user, added: names(change.added()), removed: names(change.removed()) }
            }
            Handled::Subscriptions(Tracked::Stale(stale)) => {
                Self::Stale { user, stored: stale.stored().timestamp, request_id: stale.stored().request_id.clone() }
            }
            Handled::Subscriptions(Tracked::Disabled(tombstone)) => {
                Self::Disabled { user, disabled: tombstone.timestamp }
            }
            Handled::UserRemoved { previous, .. } => {
                Self::Removed { user, dropped: previous.map_or(0, |state| state.events.len()) }
            }
            _ => Self::NoChange { user, request_type },
        }
    }

    /// The outcome's word (`no_change` in JSON, `no change` in text).
    fn key(&self) -> &'static str {
        match self {
            Self::Updated { .. } => "updated",
            Self::Removed { .. } => "removed",
            Self::Stale { .. } => "stale",
            Self::Disabled { .. } => "disabled",
            Self::NoChange { .. } => "no_change",
            Self::Invalid(_) => "invalid",
            Self::Refused { .. } => "refused",
        }
    }

    fn is_bad(&self) -> bool {
        matches!(self, Self::Invalid(_) | Self::Refused { .. })
    }

    /// The user, and what to say after the outcome's word.
    fn detail(&self) -> (Option<&str>, String) {
        match self {
            Self::Updated { user, added, removed } => {
                (Some(user), format!("+[{}] -[{}]", added.join(", "), removed.join(", ")))
            }
            Self::Removed { user, dropped } => (
                Some(user),
                format!("SkillDisabled: {dropped} subscription(s) dropped, a tombstone kept against older requests"),
            ),
            Self::Stale { user, stored, request_id } => (
                Some(user),
                format!(
                    "older than the request the store holds ({}, `{request_id}`); nothing changed",
                    instant(*stored)
                ),
            ),
            Self::Disabled { user, disabled } => (
                Some(user),
                format!(
                    "older than the user's SkillDisabled ({}); nothing changed, the user stays removed",
                    instant(*disabled)
                ),
            ),
            Self::NoChange { user, request_type } => (Some(user), format!("`{request_type}` changes no subscription")),
            Self::Invalid(message) => (None, message.clone()),
            Self::Refused { user, message } => (Some(user), message.clone()),
        }
    }
}

/// One outcome line as JSON.
#[derive(Serialize)]
struct JsonLine<'a> {
    source: &'a str,
    outcome: &'static str,
    #[serde(rename = "userId", skip_serializing_if = "Option::is_none")]
    user_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    added: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    removed: Option<&'a [String]>,
    message: String,
}

/// The outcome words, in the summary's order.
const KEYS: [&str; 7] = ["updated", "removed", "stale", "disabled", "no_change", "invalid", "refused"];

/// Prints each line's outcome and the summary.
struct Report {
    out: Stdout,
    format: Format,
    quiet: bool,
    counts: [u64; KEYS.len()],
    /// Lines invalid or refused.
    bad: u64,
}

impl Report {
    fn new(format: Format, quiet: bool) -> Self {
        Self { out: Stdout::new(), format, quiet, counts: [0; KEYS.len()], bad: 0 }
    }

    fn line(&mut self, source: &str, applied: Applied) {
        let key = applied.key();
        if let Some(index) = KEYS.iter().position(|k| *k == key) {
            self.counts[index] += 1;
        }
        if applied.is_bad() {
            self.bad += 1;
        } else if self.quiet {
            return;
        }
        let (user, message) = applied.detail();
        match self.format {
            Format::Json => {
                let (added, removed) = match &applied {
                    Applied::Updated { added, removed, .. } => (Some(added.as_slice()), Some(removed.as_slice())),
                    _ => (None, None),
                };
                let line = JsonLine { source, outcome: key, user_id: user, added, removed, message };
                self.out.line(format_args!("{}", serde_json::to_string(&line).unwrap_or_default()));
            }
            Format::Text => {
                let word = key.replace('_', " ");
                match user {
                    Some(user) => self.out.line(format_args!("{source}: {word} {user}: {message}")),
                    None => self.out.line(format_args!("{source}: {word}: {message}")),
                }
            }
        }
    }

    /// Prints the summary; the exit code.
    fn finish(mut self, purged: Option<u64>, stopped: bool) -> u8 {
        let total: u64 = self.counts.iter().sum();
        if total == 0 && !stopped {
            self.out.flush();
            error!("no requests in the input");
            return USAGE;
        }
        match self.format {
            Format::Json => {
                let mut object = serde_json::Map::new();
                object.insert("total".into(), total.into());
                for (key, count) in KEYS.iter().zip(self.counts) {
                    object.insert((*key).into(), count.into());
                }
                object.insert("purged_tombstones".into(), purged.into());
                if stopped {
                    object.insert("stopped".into(), true.into());
                }
                self.out.line(format_args!("{}", serde_json::Value::Object(object)));
            }
            Format::Text => {
                let counts: Vec<String> =
                    KEYS.iter().zip(self.counts).map(|(key, n)| format!("{n} {}", key.replace('_', " "))).collect();
                let tombstones = match purged {
                    Some(n) => format!("; {n} tombstone(s) older than {} min removed", TOMBSTONE_TTL.num_minutes()),
                    None if stopped => "; stopped early".to_owned(),
                    None => "; tombstones kept (--keep-tombstones)".to_owned(),
                };
                self.out.line(format_args!("{total} request(s): {}{tombstones}", counts.join(", ")));
            }
        }
        self.out.flush();
        if stopped {
            USAGE
        } else if self.bad > 0 {
            INVALID
        } else {
            OK
        }
    }
}

// ---------------------------------------------------------------- count, list

/// The event named `name`: one of Amazon's schemas, or a name the store has
/// subscribers of (Amazon may add an event before this tool knows it). Any
/// other name is an error with a did-you-mean.
fn event(store: &SqliteStore, db: &str, name: &str) -> Result<SubscribedEvent, String> {
    if let Ok(known) = name.parse::<EventName>() {
        return Ok(known.into());
    }
    let event = SubscribedEvent::new(name);
    let page = block_on(store.subscribers_page(&event, None, 1)).map_err(|error| describe(&error))?;
    if page.subscribers.is_empty() {
        return Err(format!(
            "unknown event name `{name}`: it is none of Amazon's schemas, and `{db}` has no subscriber of it; {}",
            proactive_core::suggest::event_name_hint(name)
        ));
    }
    Ok(event)
}

/// Opens the store to read from: it must exist (a misspelled path is an
/// error, never a new empty store).
fn open_existing(db: &str) -> Result<SqliteStore, String> {
    if std::fs::symlink_metadata(db).is_err_and(|error| error.kind() == io::ErrorKind::NotFound) {
        return Err(format!(
            "the subscription store `{db}` does not exist; check the path (`proactive subscriptions apply` creates one)"
        ));
    }
    open_store(db)
}

/// Runs `subscriptions count`.
fn count(args: CountArgs) -> u8 {
    let db = &args.store.subscribers;
    let store = match open_existing(db) {
        Ok(store) => store,
        Err(message) => {
            error!("{message}");
            return USAGE;
        }
    };
    let counted = block_on(store.event_counts()).map_err(|error| describe(&error)).and_then(|counts| {
        let Some(name) = &args.event else { return Ok(counts) };
        let event = event(&store, db, name)?;
        let n = counts.iter().find(|(counted, _)| *counted == event).map_or(0, |(_, n)| *n);
        Ok(vec![(event, n)])
    });
    let counts = match counted {
        Ok(counts) => counts,
        Err(message) => {
            error!("{message}");
            return USAGE;
        }
    };
    if counts.is_empty() {
        out!("`{db}` has no subscribers");
    }
    for (event, n) in counts {
        out!("{n} {event}");
    }
    OK
}

/// One line of `subscriptions list`.
#[derive(Serialize)]
struct Listed<'a> {
    #[serde(rename = "userId")]
    user_id: &'a str,
    #[serde(rename = "apiEndpoint")]
    api_endpoint: &'a str,
    region: Option<Region>,
}

/// Runs `subscriptions list`: a page at a time, never the whole list.
fn list(args: ListArgs) -> u8 {
    let db = &args.store.subscribers;
    let listed = open_existing(db).and_then(|store| {
        let event = event(&store, db, &args.event)?;
        list_pages(&store, &event)
    });
    match listed {
        Ok(0) => {
            eprintln!("`{db}` has no subscriber of `{}`", args.event);
            OK
        }
        Ok(_) => OK,
        Err(message) => {
            error!("{message}");
            USAGE
        }
    }
}

/// Prints every subscriber of `event`, a page at a time; how many.
fn list_pages(store: &SqliteStore, event: &SubscribedEvent) -> Result<u64, String> {
    let mut out = Stdout::new();
    let mut buffer = Vec::new();
    let (mut after, mut listed) = (None, 0u64);
    loop {
        let page = block_on(store.subscribers_page(event, after.as_ref(), DEFAULT_PAGE_SIZE))
            .map_err(|error| format!("{}; {listed} subscriber(s) were listed", describe(&error)))?;
        for subscriber in &page.subscribers {
            let line = Listed {
                user_id: subscriber.user_id.as_str(),
                api_endpoint: &subscriber.api_endpoint,
                region: subscriber.region(),
            };
            buffer.clear();
            if serde_json::to_writer(&mut buffer, &line).is_ok() {
                buffer.push(b'\n');
                out.bytes(&buffer);
            }
            listed += 1;
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(listed),
        }
    }
}
