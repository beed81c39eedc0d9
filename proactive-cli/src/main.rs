//! `proactive`: validate, preview and send Alexa Proactive Events, print schemas
//! and manifest fragments, and run the offline sandbox.
//!
//! Exit codes: 0 when everything was valid (or accepted), 1 when some event was
//! not, 2 on usage or I/O errors.

/// Prints a line to standard output. A closed pipe (`proactive ... | head`) ends
/// the program quietly instead of panicking, as Unix tools do.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(error) = writeln!(std::io::stdout().lock(), $($arg)*) {
            if error.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            eprintln!("{} cannot write to standard output: {error}", $crate::color::Prefix::error($crate::color::Stream::Stderr));
            std::process::exit(2);
        }
    }};
}

mod client_args;
#[macro_use]
mod color;
mod alexa;
mod doctor;
mod fanout;
mod files;
mod hints;
mod input;
mod journal;
#[cfg(feature = "aws")]
mod observe;
mod outcome;
mod output;
mod paths;
#[cfg(feature = "aws")]
mod queue;
mod secret;
mod send;
mod subscriptions;
mod validate;

use std::process::ExitCode;

/// mimalloc: parsing and sending allocate many small short-lived values per
/// event, where it is markedly faster than the system allocator (measured with
/// `../shared/bench/`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use proactive_core::schemas::EventName;

/// Validate, preview and send Alexa Proactive Events.
#[derive(Parser)]
#[command(name = "proactive", version, about, long_about = None, after_help = EXIT_CODES)]
struct Cli {
    /// When to colour the `error:` and `warning:` prefixes (auto: on a terminal, unless NO_COLOR is set).
    #[arg(
        long,
        value_enum,
        global = true,
        value_name = "WHEN",
        default_value_t = clap::ColorChoice::Auto,
        display_order = 900
    )]
    color: clap::ColorChoice,
    #[command(subcommand)]
    command: Command,
}

/// The exit codes, as `--help` lists them.
const EXIT_CODES: &str = "\
Exit codes:
  0  everything was valid (validate, preview) or delivered (send)
  1  some event was invalid or not delivered
  2  usage or I/O error (bad flag, unreadable file, unknown name, no credentials)
  130, 143  send was interrupted by Ctrl-C (SIGINT) or SIGTERM";

#[derive(Subcommand)]
enum Command {
    /// Check envelopes (JSON files, or JSONL with one per line) against Amazon's rules.
    ///
    /// Input is read as a stream, a line at a time (a line over the 1 MiB body limit plus
    /// 64 KiB is reported and skipped), and results are printed in input order. A total
    /// line ends the run.
    #[command(after_help = EXIT_CODES)]
    Validate {
        /// Output format: text lines, or one JSON array with an object per event.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Print only events with errors or warnings, and the total.
        #[arg(long, short)]
        quiet: bool,
        /// Leave out a warning you have checked and accept (repeatable).
        #[arg(long, value_enum, value_name = "WARNING")]
        allow: Vec<Allow>,
        /// Files holding one envelope (`.json`) or one per line (`.jsonl`); `-` reads JSONL from stdin.
        #[arg(required = true)]
        paths: Vec<String>,
    },
    /// Show the sentence Alexa is expected to speak, per locale.
    #[command(after_help = EXIT_CODES)]
    Preview {
        /// Only this locale (default: every locale of the event).
        #[arg(long)]
        locale: Option<String>,
        /// A file holding one envelope, or JSONL.
        path: String,
    },
    /// Validate, preview and send envelopes to Amazon (or to an embedded sandbox).
    ///
    /// Each event gets one outcome: accepted (Amazon took it), already delivered (a 409 after an
    /// earlier attempt or an interrupted run: it got through before), invalid (refused before
    /// sending), refused (Amazon said no), failed (never got an answer that settles it; sending it
    /// again later may work).
    ///
    /// Events are read and sent as a stream; their lines are printed as they complete, not in
    /// input order. Ctrl-C (or SIGTERM) stops taking new events, lets those in flight finish (up to
    /// 10 s; a second Ctrl-C stops waiting), writes --failed and the journal, prints the summary,
    /// and exits 130 (143 for SIGTERM).
    #[command(after_help = EXIT_CODES)]
    Send(send::SendArgs),
    /// Send one template to every subscriber of its event in a SQLite subscription store.
    ///
    /// Each subscriber gets their own Unicast copy of TEMPLATE, sent to the region of their
    /// apiEndpoint, with a referenceId made from --event-key and their user id: the same on every
    /// run, so a run resumed with --journal, or repeated, sends nobody a second notification
    /// (Amazon answers 409, reported as already delivered). Subscribers are read a page at a time;
    /// memory stays flat however many there are. Outcomes, --failed, --journal, --restamp,
    /// --sandbox and the summary are those of `send`. An event nobody subscribes to is said so,
    /// and exits 0.
    #[command(
        after_help = EXIT_CODES,
        mut_arg("paths", |arg| arg
            .value_name("TEMPLATE")
            .num_args(1)
            .help("The envelope every subscriber gets (its audience and referenceId are replaced)"))
    )]
    Fanout(fanout::FanoutArgs),
    /// Apply recorded skill event requests to a SQLite subscription store, or count and list its
    /// subscribers.
    #[command(subcommand)]
    Subscriptions(subscriptions::SubscriptionsCommand),
    /// Put envelopes on an SQS queue, or run the worker that sends them (built with the `aws` feature).
    #[cfg(feature = "aws")]
    #[command(subcommand)]
    Queue(queue::QueueCommand),
    /// Check what makes events fail silently: the manifest, the credentials, the events.
    Doctor(doctor::DoctorArgs),
    /// Print the skill.json fragment for the events a skill publishes, or merge it into skill.json.
    Manifest {
        /// An event the skill publishes, such as `AMAZON.OrderStatus.Updated` (repeatable).
        #[arg(long = "event", value_name = "NAME", required = true)]
        events: Vec<String>,
        /// Where Alexa sends subscription changes: a Lambda ARN or an https URL.
        /// Required, unless --merge finds one in skill.json to keep.
        #[arg(long)]
        endpoint: Option<String>,
        /// Merge into this skill.json, keeping every other key, their order and numbers as they
        /// are (idempotent). The file is replaced atomically: a failed write leaves it as it was.
        /// A symbolic link is followed: its target is merged and replaced, in the target's directory.
        #[arg(long, value_name = "SKILL_JSON")]
        merge: Option<String>,
    },
    /// Print the JSON Schema of one event's payload, or list the event names.
    Schema {
        /// An event name, such as `AMAZON.WeatherAlert.Activated`.
        name: Option<String>,
    },
    /// Run the offline sandbox until interrupted, printing each request it answers.
    Sandbox {
        /// The loopback port to listen on; 0 picks a free one.
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// The fraction (0 to 1) of event requests to fail with 500/503 or a closed connection; each
        /// is decided by the event's referenceId and attempt number, so a run can be repeated.
        #[arg(long, default_value_t = 0.0)]
        fail_rate: f64,
        #[command(flatten)]
        alexa: alexa::AlexaArgs,
    },
    /// Print the completion script for a shell (bash, zsh, fish, elvish, powershell).
    ///
    /// For example, for bash: `proactive completions bash > ~/.local/share/bash-completion/completions/proactive`.
    Completions {
        /// The shell to complete in.
        shell: clap_complete::Shell,
    },
}

/// How results are printed.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Lines for a person.
    Text,
    /// JSON for a program: one document (validate) or one object per line (send).
    Json,
}

/// A warning `validate --allow` and `doctor --allow` leave out.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Allow {
    /// An event sent in (or a skill with) a locale Amazon does not document the
    /// schema for, such as `AMAZON.OrderStatus.Updated` in de-DE.
    LocaleSupport,
}

/// Exit status: everything fine.
const OK: u8 = 0;
/// Exit status: some event is invalid or was not delivered.
const INVALID: u8 = 1;
/// Exit status: usage or I/O error.
const USAGE: u8 = 2;

fn main() -> ExitCode {
    // clap prints help and usage errors itself, before `--color` is parsed: tell it first.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let mut matches = Cli::command().color(color::from_args(&args)).get_matches_from(args);
    let cli = Cli::from_arg_matches_mut(&mut matches).unwrap_or_else(|error| error.exit());
    color::init(cli.color);
    let code = match cli.command {
        Command::Validate { format, quiet, allow, paths } => validate::validate(format, quiet, &allow, &paths),
        Command::Preview { locale, path } => validate::preview(locale.as_deref(), &path),
        Command::Send(args) => send::run(args),
        Command::Fanout(args) => fanout::run(args),
        Command::Subscriptions(command) => subscriptions::run(command),
        #[cfg(feature = "aws")]
        Command::Queue(command) => queue::run(command),
        Command::Doctor(args) => doctor::run(args),
        Command::Manifest { events, endpoint, merge } => manifest(&events, endpoint.as_deref(), merge.as_deref()),
        Command::Schema { name } => schema(name.as_deref()),
        Command::Sandbox { port, fail_rate, alexa } => alexa::run(alexa).unwrap_or_else(|| sandbox(port, fail_rate)),
        Command::Completions { shell } => completions(shell),
    };
    ExitCode::from(code)
}

fn manifest(events: &[String], endpoint: Option<&str>, merge: Option<&str>) -> u8 {
    use proactive_core::manifest::{EventsEndpoint, EventsManifest};

    // The names first: a typo is worth knowing before the endpoint is asked for.
    let (names, unknown): (Vec<_>, Vec<_>) = events.iter().map(|name| hints::event_name(name)).partition(Result::is_ok);
    if !unknown.is_empty() {
        for message in unknown.into_iter().filter_map(Result::err) {
            error!("{message}");
        }
        return USAGE;
    }
    let names: Vec<EventName> = names.into_iter().filter_map(Result::ok).collect();
    let Ok((target, existing)) = merge_target(merge) else { return USAGE };
    // Without --endpoint, a merge keeps the endpoint skill.json already has.
    let current_uri = existing.as_deref().and_then(|text| {
        let value: serde_json::Value = serde_json::from_str(text).ok()?;
        value.pointer("/manifest/events/endpoint/uri")?.as_str().map(str::to_owned)
    });
    let Some(uri) = endpoint.map(str::to_owned).or(current_uri) else {
        error!(
            "an events endpoint is required: pass --endpoint with a Lambda ARN or an https:// URL{}",
            if merge.is_some() { " (the skill.json has none to keep)" } else { "" }
        );
        return USAGE;
    };
    let endpoint = match EventsEndpoint::new(&uri) {
        Ok(endpoint) => endpoint,
        Err(error) => {
            error!("{error}");
            return USAGE;
        }
    };
    // The lifecycle subscriptions too: without them `doctor` warns about the manifest this writes.
    let manifest = names.into_iter().fold(EventsManifest::new(endpoint).subscribe_lifecycle(), EventsManifest::publish);
    match (merge, existing) {
        (Some(path), Some(text)) => match manifest.merge_json(&text) {
            // Already merged (whatever its formatting): the file is left untouched.
            Ok(merged) if refuse_errors(path, &merged) => INVALID,
            Ok(merged) if merged == text || same_json(&merged, &text) => {
                out!("{path}: already up to date; nothing changed");
                OK
            }
            Ok(merged) => {
                match files::replace(target.as_deref().unwrap_or(std::path::Path::new(path)), merged.as_bytes()) {
                    Ok(()) => {
                        out!(
                            "{path}: merged the permission, {} publication(s), the subscription and lifecycle events, and \
                         the events endpoint",
                            events.len()
                        );
                        OK
                    }
                    Err(error) => {
                        error!("cannot write `{path}`: {error}");
                        USAGE
                    }
                }
            }
            Err(error) => {
                error!("{path}: {error}");
                USAGE
            }
        },
        _ => match manifest.fragment() {
            Ok(fragment) => {
                out!("{}", serde_json::to_string_pretty(&fragment).unwrap_or_default());
                OK
            }
            Err(error) => {
                error!("{error}");
                USAGE
            }
        },
    }
}

/// The file `--merge` reads and replaces (a symbolic link's target, which is
/// replaced in its own directory) and its text; `Err` once reported.
fn merge_target(merge: Option<&str>) -> Result<(Option<std::path::PathBuf>, Option<String>), ()> {
    let Some(path) = merge else { return Ok((None, None)) };
    let target = paths::writable("--merge", std::path::Path::new(path), true).map_err(|message| error!("{message}"))?;
    let text =
        std::fs::read_to_string(&target).map_err(|error| error!("cannot read `{}`: {error}", target.display()))?;
    Ok((Some(target), Some(text)))
}

/// Whether `proactive doctor` would call the merged manifest an error; if so,
/// says why, and nothing is written. Its warnings are printed either way.
fn refuse_errors(path: &str, merged: &str) -> bool {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(merged) else { return false };
    let findings = proactive_core::manifest::lint::lint(&value);
    let mut errors = 0;
    for finding in &findings {
        match finding.severity {
            proactive_core::Severity::Error => {
                errors += 1;
                error!("{path}: {}: {}", finding.path, finding.message);
            }
            _ => warning!("{path}: {}: {}", finding.path, finding.message),
        }
    }
    if errors > 0 {
        error!("`{path}` was not changed: fix the errors above first (`proactive doctor --manifest {path}`)");
    }
    errors > 0
}

/// Whether two JSON texts hold the same document.
fn same_json(a: &str, b: &str) -> bool {
    matches!(
        (serde_json::from_str::<serde_json::Value>(a), serde_json::from_str::<serde_json::Value>(b)),
        (Ok(a), Ok(b)) if a == b
    )
}

fn schema(name: Option<&str>) -> u8 {
    let Some(name) = name else {
        for name in EventName::ALL {
            out!("{name}");
        }
        return OK;
    };
    let event = match hints::event_name(name) {
        Ok(event) => event,
        Err(message) => {
            error!("{message}");
            return USAGE;
        }
    };
    out!("{}", serde_json::to_string_pretty(&event.json_schema()).unwrap_or_default());
    OK
}

fn sandbox(port: u16, fail_rate: f64) -> u8 {
    if !(0.0..=1.0).contains(&fail_rate) {
        error!("--fail-rate must be between 0 and 1");
        return USAGE;
    }
    let Some(runtime) = runtime(Threads::PerCore) else { return USAGE };
    runtime.block_on(async {
        let config = proactive_sandbox::SandboxConfig::new()
            .faults(proactive_sandbox::Faults::failing(fail_rate))
            .on_request(|log| out!("{:>3} {}  {}", log.status, log.request, log.detail));
        let sandbox = match proactive_sandbox::Sandbox::bind(config, port).await {
            Ok(sandbox) => sandbox,
            Err(error) => {
                error!("cannot listen on port {port}: {error}");
                return USAGE;
            }
        };
        out!("sandbox listening on {}", sandbox.base_url());
        out!("  events:        {}/v1/proactiveEvents[/stages/development]", sandbox.base_url());
        out!("  token:         {}", sandbox.token_url());
        out!("  client id:     {}", sandbox.client_id());
        out!("  client secret: {}  (the sandbox's public test secret)", sandbox.client_secret());
        out!("press Ctrl-C to stop");
        let _ = tokio::signal::ctrl_c().await;
        OK
    })
}

/// How many threads a command's async runtime runs its tasks on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Threads {
    /// One, the calling thread: for a command whose HTTP work is one loop of
    /// requests (`send`), where hand-offs between threads cost more than they give.
    One,
    /// One per core: for servers and mixed work.
    PerCore,
}

/// The async runtime for the commands that talk HTTP; `None` (reported) when the
/// system cannot start one.
fn runtime(threads: Threads) -> Option<tokio::runtime::Runtime> {
    let built = match threads {
        Threads::One => tokio::runtime::Builder::new_current_thread().enable_all().build(),
        Threads::PerCore => tokio::runtime::Runtime::new(),
    };
    match built {
        Ok(runtime) => Some(runtime),
        Err(error) => {
            error!("cannot start the async runtime: {error}");
            None
        }
    }
}

/// Writes the completion script for `shell` to standard output.
fn completions(shell: clap_complete::Shell) -> u8 {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "proactive", &mut script);
    out!("{}", String::from_utf8_lossy(&script).trim_end());
    OK
}
