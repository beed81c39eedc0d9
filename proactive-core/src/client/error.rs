//! What can go wrong, by stage: building the client, validating the envelope,
//! getting a token, dispatching the request, and Amazon's answer.
//!
//! Every error is a context struct with private fields and accessors, so fields
//! can be added without breaking anyone. `Display` is a phrase that says what
//! happened and, where it is known, the likely cause; it never prints the
//! underlying transport error, which is reachable through
//! [`source()`](std::error::Error::source) only. No error ever holds the client
//! secret or a token.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::{Problem, Report};

/// A boxed error from below (the transport or TLS library), reachable through
/// `source()` only, so no third-party type is part of this crate's API.
pub(crate) type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Why [`ClientBuilder::build`](super::ClientBuilder::build) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The client id or the client secret is empty.
    #[error(
        "the client id or client secret is empty: use the Alexa Skill Messaging client id and secret \
         from the skill's Permissions page in the developer console"
    )]
    MissingCredentials,
    /// The `apiEndpoint` given is not one of Amazon's three regional hosts.
    #[error(
        "`{endpoint}` is not an Alexa API endpoint: expected https://api.amazonalexa.com, \
         https://api.eu.amazonalexa.com or https://api.fe.amazonalexa.com"
    )]
    UnknownApiEndpoint {
        /// The endpoint as given.
        endpoint: String,
    },
    /// A base URL or token URL that cannot be used.
    #[error("the {which} `{url}` cannot be used: {reason}")]
    InvalidUrl {
        /// `base URL` or `token URL`.
        which: &'static str,
        /// The URL, without any user name or password it contained.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A plain `http://` URL whose host is not loopback: the token would travel
    /// unencrypted.
    #[error(
        "the {which} `{url}` uses plain http:// on a host that is not loopback; the token would travel \
         unencrypted: use https://, or http:// with 127.0.0.1, [::1] or localhost"
    )]
    InsecureUrl {
        /// `base URL` or `token URL`.
        which: &'static str,
        /// The URL, without any user name or password it contained.
        url: String,
    },
    /// A timeout of zero, which would fail every request.
    #[error("the {which} must be more than zero")]
    ZeroTimeout {
        /// Which timeout.
        which: &'static str,
    },
    /// The HTTP client (TLS configuration, system certificates) could not be set up.
    #[error("the HTTP client could not be set up")]
    Http(#[source] BoxError),
}

/// Why an event was not delivered: one variant per stage. Returned by
/// [`Client::send`](super::Client::send) and in each
/// [`BulkOutcome`](super::BulkOutcome).
///
/// `Display` is the context's own message (what happened, Amazon's message, the
/// likely cause); the transport error, if any, is the
/// [`source()`](std::error::Error::source).
///
/// ```no_run
/// use proactive_core::Envelope;
/// use proactive_core::client::{Client, SendError};
///
/// # async fn run(client: Client, envelope: Envelope) {
/// match client.send(&envelope).await {
///     Ok(accepted) => println!("accepted: {}", accepted.status()),
///     // Nothing was sent: each problem has its JSON path.
///     Err(SendError::Invalid(invalid)) => {
///         for problem in invalid.errors() {
///             eprintln!("{}: {}", problem.path, problem.message);
///         }
///     }
///     // Amazon said no: its status, code and message, and whether to try again.
///     Err(SendError::Api(api)) if api.is_retryable() => {
///         let wait = api.retry_after().unwrap_or(std::time::Duration::from_secs(60));
///         eprintln!("{api}; try again in {wait:?} with the same reference id");
///     }
///     Err(SendError::Api(api)) => eprintln!("refused, {} ({}): {}", api.kind().as_str(), api.status(), api.kind().hint()),
///     // The token, the connection or the response: the message says which.
///     Err(error) => eprintln!("{error} (retryable: {})", error.is_retryable()),
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// Validation found errors: nothing was sent.
    #[error(transparent)]
    Invalid(InvalidEnvelope),
    /// No access token could be had from Login with Amazon.
    #[error(transparent)]
    Token(TokenError),
    /// The request did not get an answer: a timeout, a refused or closed connection.
    #[error(transparent)]
    Dispatch(DispatchError),
    /// Amazon answered with an error status.
    #[error(transparent)]
    Api(ApiError),
    /// Amazon's answer was not one the API documents (a redirect, an informational status).
    #[error(transparent)]
    Response(ResponseError),
}

impl SendError {
    /// The HTTP status of the last answer, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Invalid(_) => None,
            Self::Token(e) => e.status(),
            Self::Dispatch(_) => None,
            Self::Api(e) => Some(e.status()),
            Self::Response(e) => Some(e.status()),
        }
    }

    /// Whether sending the same envelope again later may succeed: rate limits,
    /// server errors, timeouts, connection failures and an unavailable token
    /// endpoint. Invalid envelopes, rejected credentials, 400, 403 and 409 are not.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Invalid(_) => false,
            Self::Token(e) => e.is_retryable(),
            Self::Dispatch(_) => true,
            Self::Api(e) => e.is_retryable(),
            Self::Response(_) => false,
        }
    }

    /// How many times the event was POSTed (0 when it failed before the first
    /// request, as for an invalid envelope).
    pub fn attempts(&self) -> u32 {
        match self {
            Self::Invalid(_) => 0,
            Self::Token(e) => e.event_attempts,
            Self::Dispatch(e) => e.attempts(),
            Self::Api(e) => e.attempts(),
            Self::Response(e) => e.attempts(),
        }
    }

    /// Amazon's `x-amzn-requestid` of the last answer, for support requests.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Invalid(_) => None,
            Self::Token(e) => e.request_id(),
            Self::Dispatch(_) => None,
            Self::Api(e) => e.request_id(),
            Self::Response(e) => e.request_id(),
        }
    }

    /// The validation report, when validation refused the envelope.
    pub fn report(&self) -> Option<&Report> {
        match self {
            Self::Invalid(e) => Some(e.report()),
            Self::Token(_) | Self::Dispatch(_) | Self::Api(_) | Self::Response(_) => None,
        }
    }
}

/// Validation found errors in the envelope, so it was not sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidEnvelope {
    report: Report,
}

impl InvalidEnvelope {
    pub(crate) fn new(report: Report) -> Self {
        Self { report }
    }

    /// Every problem found, errors and warnings.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The errors: why it was refused.
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.report.errors()
    }
}

impl fmt::Display for InvalidEnvelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.report.errors().count();
        let plural = if count == 1 { "error" } else { "errors" };
        write!(f, "the envelope was not sent: validation found {count} {plural}")?;
        if let Some(first) = self.report.errors().next() {
            write!(f, ", the first: {first}")?;
        }
        Ok(())
    }
}

impl StdError for InvalidEnvelope {}

/// What kind of failure a [`TokenError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenErrorKind {
    /// LWA's `invalid_client`: the client id or secret is wrong.
    InvalidClient,
    /// LWA's `invalid_scope`: the skill may not send proactive events.
    InvalidScope,
    /// Another LWA error (`invalid_request`, `unauthorized_client`, ...).
    Rejected,
    /// The token endpoint answered 429 or 5xx on every attempt.
    Unavailable,
    /// The token request timed out on every attempt.
    Timeout,
    /// The token request could not connect, or the connection failed.
    Connection,
    /// A 2xx answer without a usable token, or an answer the endpoint never gives.
    InvalidResponse,
}

/// No access token could be had from Login with Amazon.
#[derive(Clone, Debug)]
pub struct TokenError {
    kind: TokenErrorKind,
    status: Option<u16>,
    error: Option<String>,
    description: Option<String>,
    request_id: Option<String>,
    attempts: u32,
    source: Option<Arc<dyn StdError + Send + Sync + 'static>>,
    /// Event requests made before this failure (set when it becomes a `SendError`).
    pub(crate) event_attempts: u32,
}

impl TokenError {
    pub(crate) fn new(kind: TokenErrorKind, attempts: u32) -> Self {
        Self {
            kind,
            status: None,
            error: None,
            description: None,
            request_id: None,
            attempts,
            source: None,
            event_attempts: 0,
        }
    }

    pub(crate) fn with_answer(
        mut self,
        status: u16,
        error: Option<String>,
        description: Option<String>,
        request_id: Option<String>,
    ) -> Self {
        self.status = Some(status);
        self.error = error;
        self.description = description;
        self.request_id = request_id;
        self
    }

    pub(crate) fn with_source(mut self, source: BoxError) -> Self {
        self.source = Some(Arc::from(source));
        self
    }

    /// What kind of failure.
    pub fn kind(&self) -> TokenErrorKind {
        self.kind
    }

    /// The token endpoint's HTTP status, if it answered.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// LWA's `error` code, such as `invalid_client`.
    pub fn error_code(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// LWA's `error_description`.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// The token endpoint's `x-amzn-requestid`.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// How many token requests were made.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Whether asking again later may succeed (the endpoint was unavailable or
    /// unreachable), as opposed to a refusal of the credentials or scope.
    pub fn is_retryable(&self) -> bool {
        match self.kind {
            TokenErrorKind::Unavailable | TokenErrorKind::Timeout | TokenErrorKind::Connection => true,
            TokenErrorKind::InvalidClient
            | TokenErrorKind::InvalidScope
            | TokenErrorKind::Rejected
            | TokenErrorKind::InvalidResponse => false,
        }
    }
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lwa = |f: &mut fmt::Formatter<'_>| -> fmt::Result {
            match (&self.error, &self.description) {
                (Some(error), Some(description)) => write!(f, " ({error}: {description})"),
                (Some(error), None) => write!(f, " ({error})"),
                (None, Some(description)) => write!(f, " ({description})"),
                (None, None) => Ok(()),
            }
        };
        match self.kind {
            TokenErrorKind::InvalidClient => {
                f.write_str("Login with Amazon rejected the client credentials")?;
                lwa(f)?;
                f.write_str(
                    ": the client id or secret is wrong; use the Alexa Skill Messaging client id and secret \
                     from the skill's Permissions page in the developer console",
                )
            }
            TokenErrorKind::InvalidScope => {
                f.write_str("Login with Amazon refused the scope `alexa::proactive_events`")?;
                lwa(f)?;
                f.write_str(
                    ": the skill manifest probably lacks the `alexa::devices:all:notifications:write` permission \
                     or `events.publications`; add them and deploy the skill",
                )
            }
            TokenErrorKind::Rejected => {
                f.write_str("Login with Amazon refused the token request")?;
                if let Some(status) = self.status {
                    write!(f, " with {status}")?;
                }
                lwa(f)
            }
            TokenErrorKind::Unavailable => {
                f.write_str("the token endpoint is unavailable")?;
                if let Some(status) = self.status {
                    write!(f, ": it answered {status}")?;
                }
                attempts(f, self.attempts)
            }
            TokenErrorKind::Timeout => {
                f.write_str("the token request timed out")?;
                attempts(f, self.attempts)
            }
            TokenErrorKind::Connection => {
                f.write_str("the token request failed to connect or lost its connection")?;
                attempts(f, self.attempts)
            }
            TokenErrorKind::InvalidResponse => {
                f.write_str("the token endpoint's answer has no usable access token")?;
                if let Some(status) = self.status {
                    write!(f, " (status {status})")?;
                }
                Ok(())
            }
        }
    }
}

impl StdError for TokenError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &self.source {
            Some(source) => Some(source.as_ref()),
            None => None,
        }
    }
}

/// Writes ` after N attempts` when there was more than one.
fn attempts(f: &mut fmt::Formatter<'_>, attempts: u32) -> fmt::Result {
    if attempts > 1 { write!(f, " after {attempts} attempts") } else { Ok(()) }
}

/// The request got no answer: a timeout, or a connection refused, reset or closed.
#[derive(Debug)]
pub struct DispatchError {
    timeout: Option<Duration>,
    connect: bool,
    attempts: u32,
    source: BoxError,
}

impl DispatchError {
    pub(crate) fn new(timeout: Option<Duration>, connect: bool, attempts: u32, source: BoxError) -> Self {
        Self { timeout, connect, attempts, source }
    }

    /// Whether the last attempt timed out.
    pub fn is_timeout(&self) -> bool {
        self.timeout.is_some()
    }

    /// Whether the last attempt could not connect.
    pub fn is_connect(&self) -> bool {
        self.connect
    }

    /// How many times the event was POSTed.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

impl fmt::Display for DispatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.timeout {
            Some(timeout) => write!(f, "the events endpoint did not answer within {timeout:?}")?,
            None if self.connect => f.write_str("could not connect to the events endpoint")?,
            None => f.write_str("the connection to the events endpoint failed before an answer")?,
        }
        attempts(f, self.attempts)
    }
}

impl StdError for DispatchError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(self.source.as_ref())
    }
}

/// Amazon answered with an error status (4xx or 5xx).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    status: u16,
    code: Option<String>,
    message: Option<String>,
    body: String,
    request_id: Option<String>,
    retry_after: Option<Duration>,
    attempts: u32,
}

impl ApiError {
    pub(crate) fn new(status: u16, body: &[u8], request_id: Option<String>, retry_after: Option<Duration>) -> Self {
        let (code, message) = parse_error_body(body);
        let body = truncate(String::from_utf8_lossy(body).into_owned(), 1024);
        Self { status, code, message, body, request_id, retry_after, attempts: 1 }
    }

    pub(crate) fn with_attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts;
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Amazon's `code` (a number in Amazon's model, kept as text), or the
    /// `type` of the other body shape, `{"type", "message"}`, if the body had one.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// Amazon's `message`, if the body had one.
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// The response body as text (at most 1 KiB), whatever its shape.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// Amazon's `x-amzn-requestid`.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The wait the `Retry-After` header asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// How many times the event was POSTed.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Whether the status is one that is retried: 429 or 5xx.
    pub fn is_retryable(&self) -> bool {
        super::http::retryable_status(self.status)
    }

    /// What kind of refusal this is, decided from the status and Amazon's
    /// message as the project's Decisions table says; [`ApiErrorKind::hint`]
    /// says what to do about it.
    ///
    /// ```
    /// # use proactive_core::client::ApiErrorKind;
    /// assert_eq!(ApiErrorKind::NotSubscribed.as_str(), "not_subscribed");
    /// assert!(ApiErrorKind::NotSubscribed.hint().contains("drop"));
    /// ```
    pub fn kind(&self) -> ApiErrorKind {
        let message = self.message.as_deref().unwrap_or_default();
        let code = self.code.as_deref().unwrap_or_default();
        let mentions_token = message.to_ascii_lowercase().contains("token");
        match self.status {
            400 | 403 if message.contains("Could not find any subscriptions") => ApiErrorKind::NotSubscribed,
            403 if message.contains("No enablement for clientId") => ApiErrorKind::NoEnablement,
            401 => ApiErrorKind::InvalidToken,
            403 if mentions_token || code.eq_ignore_ascii_case("INVALID_ACCESS_TOKEN") => ApiErrorKind::InvalidToken,
            400 => ApiErrorKind::InvalidRequest,
            409 => ApiErrorKind::Duplicate,
            429 => ApiErrorKind::RateLimited,
            500..=599 => ApiErrorKind::ServerError,
            _ => ApiErrorKind::Other,
        }
    }

    /// The likely cause of the status, when Amazon's body says nothing.
    fn hint(&self) -> Option<&'static str> {
        match self.kind() {
            ApiErrorKind::Other if self.status == 403 => Some(
                "the token is invalid or lacks access; for Unicast, the user may not have subscribed to this event",
            ),
            ApiErrorKind::Other => None,
            kind => Some(kind.hint()),
        }
    }
}

/// What kind of refusal an [`ApiError`] is: from [`ApiError::kind`].
///
/// `Display` and [`as_str`](Self::as_str) give the snake_case name
/// (`not_subscribed`), as the CLI writes it; [`hint`](Self::hint) what to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ApiErrorKind {
    /// 403 or 400 "Could not find any subscriptions for stage=…, skillId=…,
    /// topicId=…": the user is not subscribed to this event in this stage.
    NotSubscribed,
    /// 403 "No enablement for clientId: …, userId: …": the user has not enabled
    /// the skill (or disabled it), or the credentials belong to another skill.
    NoEnablement,
    /// 401, or a 403 about the access token, after the client's one retry with a
    /// new token.
    InvalidToken,
    /// 400: Amazon found the request malformed; its message has the detail.
    InvalidRequest,
    /// 429 after every attempt.
    RateLimited,
    /// 5xx after every attempt.
    ServerError,
    /// 409: an event with this referenceId was already sent to this audience.
    Duplicate,
    /// Any other refusal.
    Other,
}

impl ApiErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ApiErrorKind; 8] = [
        Self::NotSubscribed,
        Self::NoEnablement,
        Self::InvalidToken,
        Self::InvalidRequest,
        Self::RateLimited,
        Self::ServerError,
        Self::Duplicate,
        Self::Other,
    ];

    /// The snake_case name: `not_subscribed`, `no_enablement`, `invalid_token`,
    /// `invalid_request`, `rate_limited`, `server_error`, `duplicate`, `other`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NotSubscribed => "not_subscribed",
            Self::NoEnablement => "no_enablement",
            Self::InvalidToken => "invalid_token",
            Self::InvalidRequest => "invalid_request",
            Self::RateLimited => "rate_limited",
            Self::ServerError => "server_error",
            Self::Duplicate => "duplicate",
            Self::Other => "other",
        }
    }

    /// One line saying what to do about it.
    pub const fn hint(self) -> &'static str {
        match self {
            Self::NotSubscribed => {
                "the user is not subscribed to this event in this stage: drop the subscription and do not retry"
            }
            Self::NoEnablement => {
                "the user has not enabled this skill, or the client id belongs to another skill: check the Alexa \
                 Skill Messaging credentials, and drop the user if they disabled the skill"
            }
            Self::InvalidToken => {
                "the access token was refused even after a new one: check the skill's client id and secret, and \
                 that the manifest has the notifications permission and publications"
            }
            Self::InvalidRequest => {
                "Amazon found the request malformed: fix the envelope as its message says (`proactive validate` \
                 finds most causes); do not retry it unchanged"
            }
            Self::RateLimited => "too many calls: send more slowly (lower the concurrency) and retry later",
            Self::ServerError => "Amazon's service failed: retry later with the same referenceId",
            Self::Duplicate => {
                "an event with this referenceId was already sent to this audience: a new event needs a new referenceId"
            }
            Self::Other => "an answer the API does not document: see the status and message",
        }
    }
}

impl fmt::Display for ApiErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Amazon answered {}", self.status)?;
        match (&self.message, self.hint()) {
            (Some(message), _) => write!(f, ": {message}")?,
            (None, Some(hint)) => write!(f, ": {hint}")?,
            (None, None) => {}
        }
        attempts(f, self.attempts)
    }
}

impl StdError for ApiError {}

/// An answer the API never gives: a redirect or an informational status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseError {
    status: u16,
    request_id: Option<String>,
    attempts: u32,
}

impl ResponseError {
    pub(crate) fn new(status: u16, request_id: Option<String>, attempts: u32) -> Self {
        Self { status, request_id, attempts }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Amazon's `x-amzn-requestid`, if present.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// How many times the event was POSTed.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the events endpoint gave an unexpected answer: status {}", self.status)
    }
}

impl StdError for ResponseError {}

/// Reads Amazon's error body in either shape, `{"code", "message"}` (Amazon's
/// SDK model; the code a number or a string) or `{"type", "message"}` (seen in
/// practice); anything else gives nothing. The message is kept whole (up to
/// 1 KiB), escaped detail included.
fn parse_error_body(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(serde_json::Value::Object(object)) = serde_json::from_slice::<serde_json::Value>(body) else {
        return (None, None);
    };
    let code = match object.get("code").or_else(|| object.get("type")) {
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    let message = match object.get("message") {
        Some(serde_json::Value::String(s)) => Some(truncate(s.clone(), 1024)),
        _ => None,
    };
    (code, message)
}

/// Cuts `text` to at most `max` bytes, at a character boundary.
pub(crate) fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amazon_error_bodies_are_read() {
        let e = ApiError::new(400, br#"{"code": 400, "message": "Invalid expiryTime"}"#, Some("r-1".into()), None);
        assert_eq!((e.code(), e.message(), e.request_id()), (Some("400"), Some("Invalid expiryTime"), Some("r-1")));
        assert_eq!(e.to_string(), "Amazon answered 400: Invalid expiryTime");
        let e = ApiError::new(500, b"<html>oops</html>", None, None).with_attempts(3);
        assert_eq!((e.code(), e.message(), e.body()), (None, None, "<html>oops</html>"));
        assert_eq!(
            e.to_string(),
            "Amazon answered 500: Amazon's service failed: retry later with the same referenceId after 3 attempts"
        );
        let e = ApiError::new(403, br#"{"code":"FORBIDDEN"}"#, None, None);
        assert_eq!(e.code(), Some("FORBIDDEN"));
        assert!(e.to_string().contains("may not have subscribed"));
    }

    #[test]
    fn both_body_shapes_are_read() {
        let code = ApiError::new(400, br#"{"code":"INVALID_REQUEST","message":"a"}"#, None, None);
        let typed = ApiError::new(400, br#"{"type":"INVALID_REQUEST","message":"a"}"#, None, None);
        assert_eq!((code.code(), code.message()), (Some("INVALID_REQUEST"), Some("a")));
        assert_eq!((typed.code(), typed.message()), (Some("INVALID_REQUEST"), Some("a")));
        // Escaped detail in the message is kept whole.
        let e = ApiError::new(400, br#"{"type":"INVALID_REQUEST","message":"{\"field\":\"expiryTime\"}"}"#, None, None);
        assert_eq!(e.message(), Some(r#"{"field":"expiryTime"}"#));
    }

    #[test]
    fn refusals_are_classified_by_status_and_message() {
        let kind = |status, body: &str| ApiError::new(status, body.as_bytes(), None, None).kind();
        let not_subscribed = r#"{"type":"FORBIDDEN","message":"Could not find any subscriptions for stage=development, skillId=amzn1.ask.skill.x, topicId=AMAZON.OrderStatus.Updated"}"#;
        assert_eq!(kind(403, not_subscribed), ApiErrorKind::NotSubscribed);
        assert_eq!(kind(400, not_subscribed), ApiErrorKind::NotSubscribed);
        let no_enablement =
            r#"{"message":"No enablement for clientId: amzn1.ask.skill.x, userId: amzn1.ask.account.A"}"#;
        assert_eq!(kind(403, no_enablement), ApiErrorKind::NoEnablement);
        assert_eq!(
            kind(403, r#"{"code":403,"message":"the authentication token has expired"}"#),
            ApiErrorKind::InvalidToken
        );
        assert_eq!(kind(401, ""), ApiErrorKind::InvalidToken);
        assert_eq!(kind(403, r#"{"code":"FORBIDDEN"}"#), ApiErrorKind::Other);
        assert_eq!(
            kind(400, r#"{"code":"INVALID_REQUEST","message":"Invalid expiryTime"}"#),
            ApiErrorKind::InvalidRequest
        );
        assert_eq!(kind(409, ""), ApiErrorKind::Duplicate);
        assert_eq!(kind(429, ""), ApiErrorKind::RateLimited);
        assert_eq!(kind(503, "<html>"), ApiErrorKind::ServerError);
        assert_eq!(kind(418, ""), ApiErrorKind::Other);
        let names: Vec<&str> = ApiErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), 8);
        assert!(ApiErrorKind::ALL.iter().all(|k| !k.hint().is_empty() && k.to_string() == k.as_str()));
    }

    #[test]
    fn truncation_keeps_characters_whole() {
        assert_eq!(truncate("ééé".to_owned(), 3), "é…");
        assert_eq!(truncate("abc".to_owned(), 3), "abc");
    }

    #[test]
    fn token_errors_name_the_likely_cause() {
        let e = TokenError::new(TokenErrorKind::InvalidClient, 1).with_answer(
            401,
            Some("invalid_client".into()),
            Some("Client authentication failed".into()),
            None,
        );
        let text = e.to_string();
        assert!(text.contains("invalid_client: Client authentication failed") && text.contains("secret is wrong"));
        let e =
            TokenError::new(TokenErrorKind::InvalidScope, 1).with_answer(400, Some("invalid_scope".into()), None, None);
        assert!(e.to_string().contains("manifest"));
        assert!(!e.is_retryable());
        assert!(TokenError::new(TokenErrorKind::Unavailable, 3).is_retryable());
    }
}
