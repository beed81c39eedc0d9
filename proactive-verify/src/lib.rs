//! Verify that a request to an Alexa skill comes from Alexa.
//!
//! Amazon requires a skill hosted as an HTTPS web service to check every
//! request, and certification tests it. [`Verifier`] does every check of
//! Amazon's list, the cheap ones before any download:
//!
//! 1. the `SignatureCertChainUrl` and `Signature-256` headers are present
//!    (the SHA-1 `Signature` alone is refused);
//! 2. the certificate URL is `https://s3.amazonaws.com/echo.api/…` after dot
//!    segments are resolved ([`CertUrl`]);
//! 3. `request.timestamp` is at most 150 seconds old, or one hour for every
//!    `AlexaSkillEvent.*` request, `ProactiveSubscriptionChanged` included, and
//!    at most 60 seconds ahead (clock skew) ([`RequestPolicy`]);
//! 4. the application id is one of the skill's;
//! 5. the PEM chain (downloaded with a size cap and a timeout, once per URL at a
//!    time and at most [`DEFAULT_MAX_DOWNLOADS`] at once, cached until its
//!    `notAfter`, a failed URL refused from memory for [`DEFAULT_FAILURE_TTL`];
//!    downloads never push a verified chain out) is valid now, names
//!    `echo-api.amazon.com`, and leads to a trusted root (rustls-webpki);
//! 6. `Signature-256` verifies over the exact body bytes (RSA, SHA-256).
//!
//! Any failure is a [`VerifyError`] naming the step: answer HTTP 400 and change
//! nothing. [`VerifyLayer`] does that for any tower-based server. A skill on
//! AWS Lambda has no signature to check; [`RequestPolicy::check_value`] does
//! steps 3 and 4 there.
//!
//! ```no_run
//! use proactive_verify::{RequestPolicy, SignatureHeaders, Verifier};
//!
//! # async fn run(headers: http::HeaderMap, body: bytes::Bytes) -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = Verifier::builder(RequestPolicy::new(["amzn1.ask.skill.1234"])).build()?;
//! let checked = verifier.verify(SignatureHeaders::try_from_http(&headers)?, &body).await?;
//! println!("{} from Alexa at {}", checked.request_type(), checked.timestamp());
//! # Ok(())
//! # }
//! ```
//!
//! Tests never reach Amazon: the sandbox (`proactive-sandbox`) signs requests
//! with its own CA and hands the verifier that root and a certificate source.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod cache;
mod cert;
mod error;
#[cfg(feature = "tower")]
mod layer;
mod policy;
mod source;
mod url;
mod verifier;

pub use cache::{DEFAULT_CAPACITY, DEFAULT_FAILURE_TTL, DEFAULT_MAX_DOWNLOADS, QUEUE_WAIT};
pub use cert::SIGNING_NAME;
pub use error::{CertProblem, VerifyError};
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub use layer::{DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_BODY, VerifyLayer, VerifyService};
pub use policy::{Checked, MAX_FUTURE, RequestPolicy, SKILL_EVENT_TOLERANCE, TOLERANCE};
pub use source::{CertificateSource, DOWNLOAD_TIMEOUT, DirectorySource, DownloadError, HttpsSource, MAX_CHAIN_BYTES};
pub use url::{CertUrl, CertUrlError};
pub use verifier::{
    BuildError, CERT_CHAIN_URL_HEADER, LEGACY_SIGNATURE_HEADER, SIGNATURE_256_HEADER, SignatureHeaders, Verifier,
    VerifierBuilder,
};
