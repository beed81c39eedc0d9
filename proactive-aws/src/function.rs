//! The two Lambda functions of `deploy/template.yaml` (the `lambda` feature):
//! their settings from the environment, checked at start, and what each does
//! with one invocation. `src/bin` only calls [`events_endpoint`] and
//! [`sender`].
//!
//! | variable | function | what |
//! |---|---|---|
//! | `PROACTIVE_SKILL_ID` | endpoint | the skill id(s) to accept, comma-separated (required) |
//! | `PROACTIVE_TABLE` | endpoint | the DynamoDB table of subscriptions (required) |
//! | `ALEXA_CLIENT_ID` | sender | the Alexa Skill Messaging client id (required) |
//! | `ALEXA_CLIENT_SECRET_SSM` | sender | the name of the SSM `SecureString` parameter holding the client secret |
//! | `ALEXA_CLIENT_SECRET_SECRETSMANAGER` | sender | or the Secrets Manager secret holding it (exactly one of the two) |
//! | `PROACTIVE_DEAD_LETTER_URL` | sender | the queue that keeps refusals, with their reasons (required) |
//! | `PROACTIVE_STAGE` | sender | `development` (default) or `live` |
//! | `PROACTIVE_REGION` | sender | the default region of messages without one: `na` (default), `eu`, `fe` |
//! | `PROACTIVE_MAX_RECEIVES` | sender | receives before a retryable failure becomes a dead letter (default 5) |
//! | `PROACTIVE_MAX_ATTEMPTS` | sender | HTTP attempts per event, retries included (default 5) |
//! | `PROACTIVE_API_URL`, `PROACTIVE_TOKEN_URL` | sender | other Amazon endpoints (a test's sandbox) |
//! | `PROACTIVE_LOG_FORMAT` | both | `json` (default) or `text` |
//!
//! The client secret itself is never in the environment: only where to read
//! it, once per execution environment (cold start).

use std::sync::Arc;
use std::time::Instant;

use lambda_runtime::{LambdaEvent, service_fn};
use proactive_core::client::{Client, RetryPolicy, Stage};
use proactive_core::subscription::{Handled, SkillEvent, SubscriptionTracker};
use proactive_verify::RequestPolicy;
use serde_json::{Value, json};
use tracing::{info, warn};

use crate::observe::clip;
use crate::{Delivery, DynamoDbStore, SecretSource, SqsDeadLetters, SqsHandler};

/// The function cannot start: a setting is missing or wrong, or the secret
/// cannot be read. The message names the variable and the fix.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartError(String);

/// How the functions log: JSON lines (CloudWatch Logs Insights reads their
/// fields) or text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// tracing's human-readable lines.
    Text,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "json" => Ok(Self::Json),
            "text" => Ok(Self::Text),
            other => Err(format!("unknown log format `{}`: use `json` or `text`", clip(other, 40))),
        }
    }
}

/// Installs a tracing subscriber writing `format` to standard error, at info
/// level. Does nothing when one is installed already.
pub fn init_logs(format: LogFormat) {
    let builder = tracing_subscriber::fmt().with_writer(std::io::stderr).with_max_level(tracing::Level::INFO);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).try_init(),
        LogFormat::Text => builder.with_ansi(false).try_init(),
    };
}

/// Reads a variable through `env`; `Err` names it when it is missing or empty.
fn required(env: &impl Fn(&str) -> Option<String>, name: &str, what: &str) -> Result<String, StartError> {
    match env(name) {
        Some(value) if !value.trim().is_empty() => Ok(value.trim().to_owned()),
        _ => Err(StartError(format!("`{name}` is not set: set it to {what} (see deploy/template.yaml)"))),
    }
}

fn parsed<T: std::str::FromStr>(env: &impl Fn(&str) -> Option<String>, name: &str, default: T) -> Result<T, StartError>
where
    T::Err: std::fmt::Display,
{
    match env(name).filter(|v| !v.trim().is_empty()) {
        None => Ok(default),
        Some(value) => {
            value.trim().parse().map_err(|e| StartError(format!("`{name}` is `{}`: {e}", clip(value.trim(), 80))))
        }
    }
}

/// The log format from `PROACTIVE_LOG_FORMAT` (default JSON).
pub fn log_format(env: &impl Fn(&str) -> Option<String>) -> Result<LogFormat, StartError> {
    parsed(env, "PROACTIVE_LOG_FORMAT", LogFormat::Json)
}

/// The events endpoint's settings.
#[derive(Clone, Debug)]
pub struct EndpointSettings {
    /// The skill ids accepted.
    pub skill_ids: Vec<String>,
    /// The subscriptions table.
    pub table: String,
}

impl EndpointSettings {
    /// Reads the settings through `env` (`std::env::var(..).ok()` in a function).
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Self, StartError> {
        let skills = required(&env, "PROACTIVE_SKILL_ID", "the skill id, `amzn1.ask.skill.…`")?;
        let skill_ids: Vec<String> =
            skills.split(',').map(str::trim).filter(|id| !id.is_empty()).map(str::to_owned).collect();
        if let Some(bad) = skill_ids.iter().find(|id| !id.starts_with("amzn1.ask.skill.")) {
            return Err(StartError(format!(
                "`PROACTIVE_SKILL_ID` holds `{}`, which is not a skill id: skill ids start with `amzn1.ask.skill.`",
                clip(bad, 80)
            )));
        }
        let table = required(&env, "PROACTIVE_TABLE", "the name of the subscriptions table")?;
        Ok(Self { skill_ids, table })
    }
}

/// The events endpoint: checks each request (application id and timestamp),
/// then applies it with [`SubscriptionTracker::handle`], so that subscription
/// changes, a disabled skill and withdrawn permissions all reach the table.
#[derive(Debug)]
pub struct EventsEndpoint {
    policy: RequestPolicy,
    tracker: SubscriptionTracker<DynamoDbStore>,
}

impl EventsEndpoint {
    /// An endpoint checking with `policy` and applying with `tracker`.
    pub fn new(policy: RequestPolicy, tracker: SubscriptionTracker<DynamoDbStore>) -> Self {
        Self { policy, tracker }
    }

    /// One invocation: the request Alexa sent is the event. An error fails the
    /// invocation: Alexa retries a store failure, and a refused request
    /// changes nothing.
    pub async fn handle(&self, request: &Value) -> Result<Value, lambda_runtime::Diagnostic> {
        let started = Instant::now();
        let kind = request.pointer("/request/type").and_then(Value::as_str).unwrap_or("unknown");
        let request_id = clip(request.pointer("/request/requestId").and_then(Value::as_str).unwrap_or(""), 100);
        if let Err(error) = self.policy.check_value(request) {
            warn!(request_id, kind = clip(kind, 64), %error, "refused");
            crate::observe::skill_event("refused", kind, started.elapsed());
            return Err(diagnostic("Refused", &error));
        }
        let event = match SkillEvent::from_value(request) {
            Ok(event) => event,
            Err(error) => {
                warn!(request_id, kind = clip(kind, 64), %error, "refused");
                crate::observe::skill_event("refused", kind, started.elapsed());
                return Err(diagnostic("Refused", &error));
            }
        };
        let user_id = clip(event.user_id().as_str(), 100);
        match self.tracker.handle(&event).await {
            Ok(handled) => {
                let outcome = match handled {
                    Handled::Subscriptions(_) => "subscriptions",
                    Handled::UserRemoved { .. } => "user_removed",
                    _ => "no_change",
                };
                info!(request_id, user_id, kind, outcome, "applied");
                crate::observe::skill_event(outcome, kind, started.elapsed());
                Ok(json!({"version": "1.0", "response": {}}))
            }
            Err(error) => {
                let outcome = if error.is_refused() { "refused" } else { "failed" };
                warn!(request_id, user_id, kind, outcome, %error, "not applied");
                crate::observe::skill_event(outcome, kind, started.elapsed());
                Err(diagnostic(if error.is_refused() { "Refused" } else { "StoreFailed" }, &error))
            }
        }
    }
}

/// The answer of a failed invocation: a named type and the message, at most
/// 1,000 bytes (the runtime logs it, and a request may be megabytes).
fn diagnostic(error_type: &str, error: &dyn std::fmt::Display) -> lambda_runtime::Diagnostic {
    let message = error.to_string();
    lambda_runtime::Diagnostic { error_type: error_type.to_owned(), error_message: clip(&message, 1000).to_owned() }
}

/// Starts the events endpoint from the environment and serves invocations
/// until the execution environment ends.
pub async fn events_endpoint() -> Result<(), StartError> {
    let env = |name: &str| std::env::var(name).ok();
    init_logs(log_format(&env)?);
    let settings = EndpointSettings::from_env(env)?;
    let collector = emf("proactive-events-endpoint")?;
    let config = crate::sdk_config(None).await;
    let store = DynamoDbStore::new(aws_sdk_dynamodb::Client::new(&config), settings.table.clone());
    let endpoint =
        Arc::new(EventsEndpoint::new(RequestPolicy::new(settings.skill_ids), SubscriptionTracker::new(store)));
    info!(table = settings.table, "events endpoint started");
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let endpoint = Arc::clone(&endpoint);
        async move {
            let answer = endpoint.handle(&event.payload).await;
            flush(collector);
            answer
        }
    }))
    .await
    .map_err(|e| StartError(format!("the Lambda runtime stopped: {e}")))
}

/// The sender's settings.
#[derive(Clone, Debug)]
pub struct SenderSettings {
    client_id: String,
    secret: SecretSource,
    dead_letter_url: String,
    stage: Stage,
    region: proactive_core::Region,
    max_receives: u32,
    max_attempts: u32,
    api_url: Option<String>,
    token_url: Option<String>,
}

impl SenderSettings {
    /// Reads the settings through `env` (`std::env::var(..).ok()` in a function).
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Result<Self, StartError> {
        let client_id = required(&env, "ALEXA_CLIENT_ID", "the skill's Alexa Skill Messaging client id")?;
        let ssm = env("ALEXA_CLIENT_SECRET_SSM").filter(|v| !v.trim().is_empty());
        let manager = env("ALEXA_CLIENT_SECRET_SECRETSMANAGER").filter(|v| !v.trim().is_empty());
        let secret = match (ssm, manager) {
            (Some(name), None) => SecretSource::Ssm(name.trim().to_owned()),
            (None, Some(id)) => SecretSource::SecretsManager(id.trim().to_owned()),
            (None, None) => {
                return Err(StartError(
                    "the client secret has no source: set `ALEXA_CLIENT_SECRET_SSM` to the name of an SSM \
                     SecureString parameter holding it, or `ALEXA_CLIENT_SECRET_SECRETSMANAGER` to a secret's id \
                     (never the secret itself)"
                        .to_owned(),
                ));
            }
            (Some(_), Some(_)) => {
                return Err(StartError(
                    "both `ALEXA_CLIENT_SECRET_SSM` and `ALEXA_CLIENT_SECRET_SECRETSMANAGER` are set: keep one"
                        .to_owned(),
                ));
            }
        };
        if env("ALEXA_CLIENT_SECRET").is_some() {
            warn!("`ALEXA_CLIENT_SECRET` is ignored: a function reads the secret from SSM or Secrets Manager");
        }
        Ok(Self {
            client_id,
            secret,
            dead_letter_url: required(&env, "PROACTIVE_DEAD_LETTER_URL", "the URL of the dead-letter queue")?,
            stage: parsed(&env, "PROACTIVE_STAGE", Stage::Development)?,
            region: parsed(&env, "PROACTIVE_REGION", proactive_core::Region::NorthAmerica)?,
            max_receives: parsed(&env, "PROACTIVE_MAX_RECEIVES", 5)?,
            max_attempts: parsed(&env, "PROACTIVE_MAX_ATTEMPTS", 5)?,
            api_url: env("PROACTIVE_API_URL").filter(|v| !v.is_empty()),
            token_url: env("PROACTIVE_TOKEN_URL").filter(|v| !v.is_empty()),
        })
    }

    /// The client: reads the secret, then builds.
    async fn client(&self, config: &aws_config::SdkConfig) -> Result<Client, StartError> {
        let secret = self.secret.read(config).await.map_err(|e| StartError(e.to_string()))?;
        let mut builder = Client::builder(self.client_id.clone(), secret)
            .region(self.region)
            .stage(self.stage)
            .retry_policy(RetryPolicy::default().with_max_attempts(self.max_attempts));
        if let Some(url) = &self.api_url {
            builder = builder.base_url(url.clone());
        }
        if let Some(url) = &self.token_url {
            builder = builder.token_url(url.clone());
        }
        builder.build().map_err(|e| StartError(format!("cannot build the client: {e}")))
    }
}

/// Starts the sender from the environment (reading the client secret once)
/// and serves SQS batches until the execution environment ends.
pub async fn sender() -> Result<(), StartError> {
    let env = |name: &str| std::env::var(name).ok();
    init_logs(log_format(&env)?);
    let settings = SenderSettings::from_env(env)?;
    let collector = emf("proactive-sender")?;
    let config = crate::sdk_config(None).await;
    let client = settings.client(&config).await?;
    let dead_letters = SqsDeadLetters::new(aws_sdk_sqs::Client::new(&config), settings.dead_letter_url.clone());
    let handler = Arc::new(SqsHandler::new(Delivery::new(client).max_receives(settings.max_receives), dead_letters));
    info!(stage = ?settings.stage, "sender started");
    lambda_runtime::run(service_fn(move |event: LambdaEvent<aws_lambda_events::event::sqs::SqsEvent>| {
        let handler = Arc::clone(&handler);
        async move {
            let answer = handler.handle(event.payload).await;
            flush(collector);
            Ok::<_, lambda_runtime::Error>(answer)
        }
    }))
    .await
    .map_err(|e| StartError(format!("the Lambda runtime stopped: {e}")))
}

/// The EMF recorder, namespace `Proactive`, dimension `function`.
fn emf(function: &'static str) -> Result<&'static metrics_cloudwatch_embedded::Collector, StartError> {
    metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace("Proactive")
        .with_dimension("function", function)
        .init()
        .map_err(|e| StartError(format!("cannot install the metrics recorder: {e}")))
}

/// Writes what this invocation recorded, as EMF lines on standard output
/// (CloudWatch turns them into metrics).
fn flush(collector: &metrics_cloudwatch_embedded::Collector) {
    if let Err(error) = collector.flush(std::io::stdout().lock()) {
        warn!(%error, "could not write the metrics");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn the_endpoint_fails_at_start_without_a_skill_id_or_a_table() {
        let error = EndpointSettings::from_env(env(&[("PROACTIVE_TABLE", "t")])).unwrap_err().to_string();
        assert!(error.contains("`PROACTIVE_SKILL_ID` is not set"), "{error}");
        let error = EndpointSettings::from_env(env(&[("PROACTIVE_SKILL_ID", " , ")])).unwrap_err().to_string();
        assert!(error.contains("`PROACTIVE_TABLE` is not set"), "{error}");
        let error = EndpointSettings::from_env(env(&[("PROACTIVE_SKILL_ID", "skill"), ("PROACTIVE_TABLE", "t")]))
            .unwrap_err()
            .to_string();
        assert!(error.contains("not a skill id"), "{error}");
        let settings = EndpointSettings::from_env(env(&[
            ("PROACTIVE_SKILL_ID", "amzn1.ask.skill.a, amzn1.ask.skill.b"),
            ("PROACTIVE_TABLE", "t"),
        ]))
        .unwrap();
        assert_eq!(settings.skill_ids, ["amzn1.ask.skill.a", "amzn1.ask.skill.b"]);
    }

    #[test]
    fn the_sender_needs_exactly_one_secret_source_and_never_the_secret() {
        let base = [("ALEXA_CLIENT_ID", "id"), ("PROACTIVE_DEAD_LETTER_URL", "http://q")];
        let error = SenderSettings::from_env(env(&base)).unwrap_err().to_string();
        assert!(error.contains("`ALEXA_CLIENT_SECRET_SSM`"), "{error}");
        let both = [base[0], base[1], ("ALEXA_CLIENT_SECRET_SSM", "a"), ("ALEXA_CLIENT_SECRET_SECRETSMANAGER", "b")];
        assert!(SenderSettings::from_env(env(&both)).unwrap_err().to_string().contains("keep one"));
        let ok = [base[0], base[1], ("ALEXA_CLIENT_SECRET_SSM", "/p/secret"), ("PROACTIVE_STAGE", "live")];
        let settings = SenderSettings::from_env(env(&ok)).unwrap();
        assert_eq!(settings.secret, SecretSource::Ssm("/p/secret".to_owned()));
        assert_eq!(settings.stage, Stage::Live);
        let bad = [base[0], base[1], ("ALEXA_CLIENT_SECRET_SSM", "a"), ("PROACTIVE_REGION", "mars")];
        assert!(SenderSettings::from_env(env(&bad)).unwrap_err().to_string().contains("`PROACTIVE_REGION` is `mars`"));
    }
}
