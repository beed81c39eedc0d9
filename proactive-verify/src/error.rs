//! Why a request is refused: one variant per verification step, each naming
//! what failed without echoing an attacker-sized value.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::url::CertUrlError;

/// A request that did not pass verification. Answer it with HTTP 400 and
/// change nothing.
///
/// Each variant is one step of Amazon's checks (amazon-api.md section 8), so a
/// log says which step refused the request. Values from the request are quoted
/// at most 100 characters long.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A signature header is missing.
    #[error("the `{header}` header is missing; Alexa signs every request to a web service")]
    MissingHeader {
        /// `SignatureCertChainUrl` or `Signature-256`.
        header: &'static str,
    },
    /// A signature header is present but is not visible ASCII text (see
    /// [`SignatureHeaders::try_from_http`](crate::SignatureHeaders::try_from_http)).
    #[error(
        "the `{header}` header is not ASCII text: it holds bytes outside visible ASCII; \
         Alexa sends a URL there (`SignatureCertChainUrl`) or base64 (`Signature-256`)"
    )]
    HeaderNotText {
        /// `SignatureCertChainUrl` or `Signature-256`.
        header: &'static str,
    },
    /// Only the legacy SHA-1 `Signature` header was sent.
    #[error("only the legacy SHA-1 `Signature` header was sent; `Signature-256` is required")]
    LegacySignatureOnly,
    /// `Signature-256` is not base64.
    #[error("the `Signature-256` header is not base64")]
    SignatureNotBase64,
    /// The certificate URL breaks Amazon's rules.
    #[error(transparent)]
    CertUrl(#[from] CertUrlError),
    /// The body is not an Alexa request (not JSON, or a field the checks need
    /// is missing or mistyped).
    #[error("the body is not an Alexa request: {problem}")]
    Body {
        /// What is wrong, with the JSON path.
        problem: String,
    },
    /// `request.timestamp` is too far from now.
    #[error(
        "`request.timestamp` {timestamp} is {} for `{request_type}`: more than {tolerance_secs} seconds {} now ({now})",
        if *.in_the_future { "in the future" } else { "too old" },
        if *.in_the_future { "after" } else { "before" }
    )]
    Timestamp {
        /// The request's timestamp.
        timestamp: DateTime<Utc>,
        /// The verifier's clock.
        now: DateTime<Utc>,
        /// The tolerance that applied, in seconds: 150 or 3600 (`AlexaSkillEvent.*`)
        /// for an old request, 60 for one from the future.
        tolerance_secs: i64,
        /// Whether the timestamp is ahead of now rather than behind it.
        in_the_future: bool,
        /// `request.type`, at most 100 characters.
        request_type: String,
    },
    /// The request is for a skill this endpoint does not serve.
    #[error("the request is for application `{found}`, not one of this endpoint's skill ids")]
    WrongApplication {
        /// The application id found, at most 100 characters.
        found: String,
    },
    /// The certificate chain could not be downloaded.
    #[error("the certificate chain could not be downloaded from `{url}`: {problem}")]
    Download {
        /// The normalised certificate URL, at most 100 characters.
        url: String,
        /// What went wrong (status, size, timeout, connection).
        problem: String,
        /// The transport error, if any.
        #[source]
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    },
    /// The certificate chain is not one Alexa signs with.
    #[error("the certificate chain from `{url}` is refused: {problem}")]
    Certificate {
        /// The normalised certificate URL, at most 100 characters.
        url: String,
        /// Which certificate check failed.
        problem: CertProblem,
    },
    /// The signature does not match the body.
    #[error("`Signature-256` does not verify over the body with the signing certificate's key")]
    Signature,
}

/// Which certificate check failed (amazon-api.md section 8, step 3).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertProblem {
    /// The download is not a PEM certificate chain.
    #[error("it is not a PEM certificate chain ({0})")]
    NotPem(String),
    /// The signing certificate's `notAfter` has passed.
    #[error("the signing certificate has expired")]
    Expired,
    /// The signing certificate's `notBefore` has not come yet.
    #[error("the signing certificate is not valid yet")]
    NotYetValid,
    /// The signing certificate is not for `echo-api.amazon.com`.
    #[error("the signing certificate's subject alternative names do not include `echo-api.amazon.com`")]
    WrongName,
    /// The chain does not lead to a trusted root.
    #[error("the chain does not lead to a trusted root")]
    UntrustedChain,
    /// Any other refusal of the certificate or chain.
    #[error("{0}")]
    Other(String),
}

impl VerifyError {
    pub(crate) fn body(problem: impl Into<String>) -> Self {
        Self::Body { problem: problem.into() }
    }
}

/// `text` cut to at most `max` characters, with `…` when cut.
pub(crate) fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}
