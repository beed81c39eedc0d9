//! `proactive send`: validate, preview and send envelopes, with a summary and a
//! file of everything that was not accepted.

use std::io::{IsTerminal, Write};
use std::time::Instant;

use proactive_core::client::{BulkSummary, Client, SendError, Stage};
use proactive_core::{Envelope, Locale, Region};
use proactive_sandbox::{Faults, Sandbox, SandboxConfig};
use serde_json::{Value, json};

use crate::input::{self, Item};
use crate::outcome::{self, KindCounts};
use crate::{Format, INVALID, OK, USAGE};

/// Every option of `proactive send`.
#[derive(clap::Args)]
pub(crate) struct SendArgs {
    /// Files holding one envelope (`.json`) or one per line (`.jsonl`); `-` reads JSONL from stdin.
    #[arg(required = true)]
    paths: Vec<String>,
    /// The skill's Alexa Skill Messaging client id [env: ALEXA_CLIENT_ID].
    #[arg(long)]
    client_id: Option<String>,
    /// The skill's Alexa Skill Messaging client secret [env: ALEXA_CLIENT_SECRET].
    /// Visible to other users of the machine (`ps`, /proc): prefer --client-secret-file or the variable.
    #[arg(long, value_name = "SECRET", conflicts_with = "client_secret_file")]
    client_secret: Option<String>,
    /// Read the client secret from this file (`-`: from standard input), out of other users' sight.
    #[arg(long, value_name = "PATH")]
    client_secret_file: Option<String>,
    /// The region of the users: na, eu or fe.
    #[arg(long, default_value = "na")]
    region: Region,
    /// development (testers subscribed in the Alexa app) or live (after certification).
    #[arg(long, default_value = "development")]
    stage: Stage,
    /// Send to this base URL instead of the region's host.
    #[arg(long)]
    endpoint: Option<String>,
    /// Get tokens from this URL instead of Login with Amazon.
    #[arg(long)]
    token_url: Option<String>,
    /// How many events are in flight at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=1024))]
    concurrency: u16,
    /// Attempts per event, retries included (429, 5xx, timeouts, dropped connections).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=20))]
    max_attempts: u32,
    /// Write every event that was not accepted to this file, as JSONL with its error
    /// (the file can be sent again as is).
    #[arg(long, value_name = "PATH")]
    failed: Option<String>,
    /// Start an embedded sandbox and send to it: no credentials needed.
    #[arg(long)]
    sandbox: bool,
    /// With --sandbox: the fraction (0 to 1) of requests it fails (500/503 or a closed connection).
    #[arg(long, default_value_t = 0.0, requires = "sandbox")]
    sandbox_fail_rate: f64,
    /// Re-stamp every envelope before sending: timestamp = now, expiryTime = now +
    /// its own window (clamped to 5 min..23 h). For envelopes written earlier,
    /// which Amazon refuses once their expiry is less than 5 min or more than 24 h away.
    #[arg(long)]
    restamp: bool,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Per-event lines are printed for small inputs; larger ones print only problems.
const VERBOSE_UP_TO: usize = 20;

pub(crate) fn run(args: SendArgs) -> u8 {
    let mut items = Vec::new();
    for path in &args.paths {
        match input::read(path) {
            Ok(read) => items.extend(read),
            Err(message) => {
                eprintln!("error: {message}");
                return USAGE;
            }
        }
    }
    if items.is_empty() {
        eprintln!("error: no events in the input");
        return USAGE;
    }
    if !(0.0..=1.0).contains(&args.sandbox_fail_rate) {
        eprintln!("error: --sandbox-fail-rate must be between 0 and 1");
        return USAGE;
    }
    let Some(runtime) = crate::runtime() else { return USAGE };
    runtime.block_on(send(args, items))
}

async fn send(args: SendArgs, items: Vec<Item>) -> u8 {
    let started = Instant::now();
    // The embedded sandbox lives as long as this function.
    let sandbox = if args.sandbox {
        let config = SandboxConfig::new().faults(Faults::failing(args.sandbox_fail_rate));
        match Sandbox::start_with(config).await {
            Ok(sandbox) => Some(sandbox),
            Err(error) => {
                eprintln!("error: cannot start the sandbox: {error}");
                return USAGE;
            }
        }
    } else {
        None
    };
    let client = match client(&args, sandbox.as_ref()) {
        Ok(client) => client,
        Err(message) => {
            eprintln!("error: {message}");
            return USAGE;
        }
    };

    let verbose = args.format == Format::Text && items.len() <= VERBOSE_UP_TO;
    let mut failed_file = match args.failed.as_deref().map(std::fs::File::create).transpose() {
        Ok(file) => file.map(std::io::BufWriter::new),
        Err(error) => {
            eprintln!("error: cannot create `{}`: {error}", args.failed.as_deref().unwrap_or_default());
            return USAGE;
        }
    };
    let mut not_accepted = |item: &Item, error: Value| {
        if let Some(file) = failed_file.as_mut() {
            let line = json!({"source": item.location(), "error": error, "envelope": item.value});
            if writeln!(file, "{line}").is_err() {
                eprintln!("error: cannot write to the --failed file");
            }
        }
    };

    // Invalid events are never sent: they count as rejected and go to --failed.
    let mut rejected_invalid = 0u64;
    let mut kinds = KindCounts::default();
    let mut not_accepted_json = Vec::new();
    let mut to_send: Vec<(usize, Envelope)> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        match (&item.parsed.envelope, item.parsed.report.has_errors()) {
            (Some(envelope), false) => {
                let mut envelope = envelope.clone();
                if args.restamp {
                    envelope.restamp();
                }
                to_send.push((index, envelope));
            }
            _ => {
                rejected_invalid += 1;
                let problems: Vec<String> = item.parsed.report.errors().map(ToString::to_string).collect();
                if args.format == Format::Text {
                    out!("{}: not sent, invalid:", item.location());
                    for problem in &problems {
                        out!("  {problem}");
                    }
                }
                let hint = outcome::invalid_hint(&item.parsed.report);
                kinds.add(outcome::INVALID);
                let mut error = outcome::fields(outcome::INVALID, hint);
                error.insert("stage".to_owned(), json!("validation"));
                error.insert("problems".to_owned(), json!(problems));
                if args.format == Format::Json {
                    not_accepted_json.push(json!({"source": item.location(), "error": error}));
                }
                not_accepted(item, Value::Object(error));
            }
        }
    }

    let progress = (args.format == Format::Text && std::io::stdout().is_terminal() && to_send.len() > 1).then(|| {
        let bar = indicatif::ProgressBar::new(to_send.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} sent, {per_sec}, eta {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });

    let positions: Vec<usize> = to_send.iter().map(|(index, _)| *index).collect();
    let envelopes: Vec<Envelope> = to_send.into_iter().map(|(_, envelope)| envelope).collect();
    let mut outcomes = client.send_all(envelopes, usize::from(args.concurrency));
    let mut summary = BulkSummary::new();
    while let Some(outcome) = outcomes.next().await {
        summary.record(&outcome);
        let item = &items[positions[outcome.index]];
        let line = match &outcome.result {
            Ok(accepted) => {
                let mut line = format!(
                    "{}: accepted ({}{})",
                    item.location(),
                    accepted.status(),
                    accepted.request_id().map(|id| format!(", request {id}")).unwrap_or_default()
                );
                if accepted.by_earlier_attempt() {
                    line.push_str(", confirmed by a 409 after a lost answer");
                }
                verbose.then_some(line)
            }
            Err(error) => {
                let (kind, hint) = outcome::classify(error);
                kinds.add(kind);
                let error_json = error_json(error);
                if args.format == Format::Json {
                    not_accepted_json.push(json!({"source": item.location(), "error": error_json}));
                }
                not_accepted(item, error_json);
                Some(format!("{}: not accepted: {error}\n  {kind}: {hint}", item.location()))
            }
        };
        if let Some(line) = line {
            match &progress {
                Some(bar) => bar.println(line),
                None if args.format == Format::Text => out!("{line}"),
                None => {}
            }
        }
        if verbose && let Some(envelope) = &item.parsed.envelope {
            let locale = envelope.localized_attributes.locales().next().cloned().unwrap_or_else(Locale::en_us);
            let preview = envelope.preview(&locale);
            out!("  {preview}");
        }
        if let Some(bar) = &progress {
            bar.inc(1);
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    if let Some(mut file) = failed_file
        && let Err(error) = file.flush()
    {
        eprintln!("error: cannot write the --failed file: {error}");
    }

    let total = items.len() as u64;
    let rejected = rejected_invalid + summary.invalid + summary.rejected;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    match args.format {
        Format::Json => out!(
            "{}",
            json!({
                "total": total,
                "accepted": summary.accepted,
                "rejected": rejected,
                "failed": summary.failed,
                "retries": summary.retries,
                "token_requests": client.token_requests(),
                "elapsed_ms": elapsed_ms,
                "kinds": kinds.to_json(),
                "not_accepted": not_accepted_json,
            })
        ),
        Format::Text => {
            out!(
                "{total} event{}: {} accepted, {rejected} rejected, {} failed; {} retries, {} token request(s), {elapsed_ms} ms{}",
                if total == 1 { "" } else { "s" },
                summary.accepted,
                summary.failed,
                summary.retries,
                client.token_requests(),
                if args.sandbox { " (sandbox)" } else { "" }
            );
            if !kinds.is_empty() {
                out!("not accepted, by kind: {}", kinds.to_text());
            }
            if let Some(path) = &args.failed
                && summary.accepted < total
            {
                out!("events not accepted were written to {path}");
            }
        }
    }
    if summary.accepted == total { OK } else { INVALID }
}

/// The client for the flags: the sandbox's, or Amazon's with credentials.
fn client(args: &SendArgs, sandbox: Option<&Sandbox>) -> Result<Client, String> {
    let mut builder = match sandbox {
        Some(sandbox) => Client::builder(sandbox.client_id().to_owned(), sandbox.client_secret().to_owned())
            .base_url(sandbox.base_url())
            .token_url(sandbox.token_url()),
        None => {
            let id = args.client_id.clone().or_else(|| std::env::var("ALEXA_CLIENT_ID").ok());
            let secret =
                crate::secret::resolve(args.client_secret.as_deref(), args.client_secret_file.as_deref(), &args.paths)?;
            let (Some(id), Some(secret)) = (id, secret) else {
                return Err("credentials are required: pass --client-id and --client-secret-file, or set \
                            ALEXA_CLIENT_ID and ALEXA_CLIENT_SECRET (the Alexa Skill Messaging credentials \
                            from the skill's Permissions page); or use --sandbox"
                    .to_owned());
            };
            Client::builder(id, secret).region(args.region)
        }
    };
    builder = builder
        .stage(args.stage)
        .retry_policy(proactive_core::client::RetryPolicy::default().with_max_attempts(args.max_attempts));
    if sandbox.is_none() {
        if let Some(endpoint) = &args.endpoint {
            builder = builder.base_url(endpoint.clone());
        }
        if let Some(token_url) = &args.token_url {
            builder = builder.token_url(token_url.clone());
        }
    }
    builder.build().map_err(|error| error.to_string())
}

/// The error as written to `--failed` and `--format json`: its kind and what to
/// do, the status and Amazon's words.
fn error_json(error: &SendError) -> Value {
    let (kind, hint) = outcome::classify(error);
    let mut fields = outcome::fields(kind, hint);
    fields.insert("message".to_owned(), json!(error.to_string()));
    fields.insert("status".to_owned(), json!(error.status()));
    fields.insert("request_id".to_owned(), json!(error.request_id()));
    fields.insert("attempts".to_owned(), json!(error.attempts()));
    fields.insert("retryable".to_owned(), json!(error.is_retryable()));
    Value::Object(fields)
}
