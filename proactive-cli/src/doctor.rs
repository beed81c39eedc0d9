//! `proactive doctor`: what makes proactive events fail, often silently, each
//! finding an error or a warning with the fix: the skill manifest, the
//! credentials and their scope, the region, and the events to send.
//!
//! Exit codes: 0 when nothing (or only warnings) was found, 1 on an error,
//! 2 when a check could not run.

use proactive_core::chrono::Utc;
use proactive_core::client::{Client, TokenErrorKind};
use proactive_core::manifest::lint::{self, Finding};
use proactive_core::{Region, Severity};
use serde_json::{Value, json};

use crate::color::{Prefix, Stream};
use crate::{Allow, Format, INVALID, OK, USAGE};

/// Every option of `proactive doctor`.
#[derive(clap::Args)]
pub(crate) struct DoctorArgs {
    /// The skill's skill.json (as the ASK CLI writes it).
    #[arg(long, value_name = "SKILL_JSON")]
    manifest: Option<String>,
    /// Envelopes to check against the manifest and the now-window (.json or .jsonl).
    #[arg(long, value_name = "FILE")]
    events: Vec<String>,
    /// The region events are sent to: na, eu or fe (checked against the skill's locales).
    #[arg(long)]
    region: Option<Region>,
    /// The skill's Alexa Skill Messaging client id [env: ALEXA_CLIENT_ID]: with the
    /// secret, a real token request checks the credentials and the scope.
    #[arg(long)]
    client_id: Option<String>,
    /// The skill's Alexa Skill Messaging client secret [env: ALEXA_CLIENT_SECRET].
    /// Visible to other users of the machine (`ps`, /proc): prefer --client-secret-file or the variable.
    #[arg(long, value_name = "SECRET", conflicts_with = "client_secret_file")]
    client_secret: Option<String>,
    /// Read the client secret from this file (`-`: from standard input), out of other users' sight.
    #[arg(long, value_name = "PATH")]
    client_secret_file: Option<String>,
    /// Get the token from this URL instead of Login with Amazon.
    #[arg(long)]
    token_url: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Leave out a warning you have checked and accept (repeatable).
    #[arg(long, value_enum, value_name = "WARNING")]
    allow: Vec<Allow>,
}

/// One finding, from any check.
struct Line {
    severity: Severity,
    check: String,
    path: String,
    message: String,
}

impl From<Finding> for Line {
    fn from(finding: Finding) -> Self {
        let check = serde_json::to_value(finding.check).ok().and_then(|v| v.as_str().map(str::to_owned));
        Line {
            severity: finding.severity,
            check: check.unwrap_or_default(),
            path: finding.path,
            message: finding.message,
        }
    }
}

pub(crate) fn run(args: DoctorArgs) -> u8 {
    let credentials = match credentials(&args) {
        Ok(credentials) => credentials,
        Err(message) => {
            error!("{message}");
            return USAGE;
        }
    };
    if args.manifest.is_none() && args.events.is_empty() && credentials.is_none() {
        error!(
            "nothing to check: pass --manifest skill.json, --events FILE, or credentials \
             (--client-id and --client-secret, or ALEXA_CLIENT_ID and ALEXA_CLIENT_SECRET)"
        );
        return USAGE;
    }
    let mut lines: Vec<Line> = Vec::new();
    let mut skill = None;
    if let Some(path) = &args.manifest {
        match read_manifest(path) {
            Ok(value) => {
                let findings = match args.region {
                    Some(region) => lint::lint_for_region(&value, region),
                    None => lint::lint(&value),
                };
                lines.extend(findings.into_iter().map(Line::from));
                skill = Some(value);
            }
            Err(message) => {
                error!("{message}");
                return USAGE;
            }
        }
    }
    if let Some((id, secret)) = credentials {
        match token_check(&args, id, secret) {
            Ok(line) => lines.extend(line),
            Err(message) => {
                error!("{message}");
                return USAGE;
            }
        }
    }
    for path in &args.events {
        match events(path, skill.as_ref()) {
            Ok(found) => lines.extend(found),
            Err(message) => {
                error!("{message}");
                return USAGE;
            }
        }
    }
    if args.allow.contains(&Allow::LocaleSupport) {
        lines.retain(|line| line.severity == Severity::Error || line.check != "locale-support");
    }
    lines.sort_by_key(|line| line.severity);
    report(&lines, args.format)
}

/// The credentials, when both the id and the secret are given.
fn credentials(args: &DoctorArgs) -> Result<Option<(String, String)>, String> {
    let id = args.client_id.clone().or_else(|| std::env::var("ALEXA_CLIENT_ID").ok());
    let secret =
        crate::secret::resolve(args.client_secret.as_deref(), args.client_secret_file.as_deref(), &args.events)?;
    Ok(id.zip(secret))
}

fn read_manifest(path: &str) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read `{path}`: {e}"))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("`{path}` is not JSON (line {}, column {}): {e}", e.line(), e.column()))
}

/// A real token request for the `alexa::proactive_events` scope; `Err` when it
/// could not be made (the endpoint unreachable or unavailable).
fn token_check(args: &DoctorArgs, id: String, secret: String) -> Result<Option<Line>, String> {
    let mut builder = Client::builder(id, secret);
    if let Some(url) = &args.token_url {
        builder = builder.token_url(url.clone());
    }
    let client = builder.build().map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    let Err(error) = runtime.block_on(client.check_token()) else { return Ok(None) };
    if error.is_retryable() {
        return Err(format!("could not check the credentials: {error}"));
    }
    let check = match error.kind() {
        TokenErrorKind::InvalidScope => "invalid-scope",
        TokenErrorKind::InvalidClient => "invalid-client",
        _ => "token",
    };
    Ok(Some(Line {
        severity: Severity::Error,
        check: check.to_owned(),
        path: "credentials".to_owned(),
        message: error.to_string(),
    }))
}

/// The events of `path`: their validation errors, the now-window, and the
/// skill's locales they lack.
fn events(path: &str, skill: Option<&Value>) -> Result<Vec<Line>, String> {
    let skill_locales = skill.map(|s| lint::skill_locales(&s["manifest"])).unwrap_or_default();
    let now = Utc::now();
    let mut lines = Vec::new();
    for item in crate::input::Input::open(path)? {
        let item = item?;
        let at = item.location();
        for problem in item.parsed.report.errors() {
            let check = serde_json::to_value(problem.rule).ok().and_then(|v| v.as_str().map(str::to_owned));
            lines.push(Line {
                severity: Severity::Error,
                check: check.unwrap_or_default(),
                path: format!("{at}: {}", problem.path),
                message: problem.message.clone(),
            });
        }
        let Some(envelope) = &item.parsed.envelope else { continue };
        if let Err(outside) = envelope.check_now_window(now) {
            lines.push(Line {
                severity: Severity::Warning,
                check: "now-window".to_owned(),
                path: format!("{at}: expiryTime"),
                message: outside.to_string(),
            });
        }
        if envelope.localized_attributes.is_empty() {
            continue;
        }
        for locale in &skill_locales {
            if !envelope.localized_attributes.locales().any(|l| l.as_str() == locale) {
                lines.push(Line {
                    severity: Severity::Warning,
                    check: "locale-coverage".to_owned(),
                    path: format!("{at}: localizedAttributes"),
                    message: format!(
                        "no text for {locale}, a locale of the skill: users in {locale} would be notified without \
                         the content; add a localizedAttributes object for {locale}"
                    ),
                });
            }
        }
    }
    Ok(lines)
}

fn report(lines: &[Line], format: Format) -> u8 {
    let errors = lines.iter().filter(|l| l.severity == Severity::Error).count();
    let warnings = lines.len() - errors;
    match format {
        Format::Text => {
            for line in lines {
                let prefix = match line.severity {
                    Severity::Error => Prefix::error(Stream::Stdout),
                    _ => Prefix::warning(Stream::Stdout),
                };
                out!("{prefix} {}: {}", line.path, line.message);
            }
            if lines.is_empty() {
                out!("doctor: no problem found");
            } else {
                out!("doctor: {errors} error(s), {warnings} warning(s)");
            }
        }
        Format::Json => {
            let findings: Vec<Value> = lines
                .iter()
                .map(|l| json!({"severity": l.severity, "check": l.check, "path": l.path, "message": l.message}))
                .collect();
            out!("{}", json!({"errors": errors, "warnings": warnings, "findings": findings}));
        }
    }
    if errors > 0 { INVALID } else { OK }
}
