//! Where certificate chains come from: HTTPS with a size cap and a timeout in
//! production; anything else (the sandbox, a test) through the same trait.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;

use crate::url::CertUrl;

/// The largest certificate chain downloaded; Amazon's is about 6 KB.
pub const MAX_CHAIN_BYTES: usize = 64 * 1024;
/// How long a download may take.
pub const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a chain could not be downloaded.
#[derive(Debug, thiserror::Error)]
#[error("{problem}")]
pub struct DownloadError {
    problem: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl DownloadError {
    /// A download error that says what went wrong.
    pub fn new(problem: impl Into<String>) -> Self {
        Self { problem: problem.into(), source: None }
    }

    /// A download error caused by `source` (a transport error).
    pub fn with_source(
        problem: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self { problem: problem.into(), source: Some(source.into()) }
    }

    pub(crate) fn into_parts(self) -> (String, Option<Arc<dyn std::error::Error + Send + Sync>>) {
        (self.problem, self.source.map(Arc::from))
    }
}

/// Fetches the PEM chain a `SignatureCertChainUrl` names. The verifier calls
/// it only with URLs that passed Amazon's rules, at most once per URL at a
/// time and a few URLs at once, drops the future when no request awaits it any
/// more, and caches what verifies.
///
/// [`HttpsSource`] is the production one; the sandbox supplies its own so that
/// tests never leave the machine.
pub trait CertificateSource: Send + Sync + 'static {
    /// The bytes at `url`.
    fn fetch(&self, url: &CertUrl) -> BoxFuture<'static, Result<Bytes, DownloadError>>;
}

/// Downloads chains over HTTPS (rustls with ring and the platform's roots),
/// following no redirect, reading at most [`MAX_CHAIN_BYTES`] within
/// [`DOWNLOAD_TIMEOUT`].
#[derive(Clone, Debug)]
pub struct HttpsSource {
    http: reqwest::Client,
    max_bytes: usize,
}

impl HttpsSource {
    /// An HTTPS source with the default cap and timeout.
    pub fn new() -> Result<Self, DownloadError> {
        Self::with_limits(MAX_CHAIN_BYTES, DOWNLOAD_TIMEOUT)
    }

    /// An HTTPS source that reads at most `max_bytes` within `timeout`.
    pub fn with_limits(max_bytes: usize, timeout: Duration) -> Result<Self, DownloadError> {
        use rustls_platform_verifier::BuilderVerifierExt;

        let failed = |e: rustls::Error| DownloadError::with_source("cannot set up TLS", e);
        // rustls 0.23.48 deprecates this for lacking post-quantum key exchange, and
        // offers no other way to build the ring provider (its signature algorithms
        // are private): ring is kept on purpose (no CMake, no C++ build), so the
        // warning is allowed here, on this one call, and on every rustls 0.23.
        #[allow(deprecated, reason = "the ring provider, chosen on purpose; see above")]
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(failed)?
            .with_platform_verifier()
            .map_err(failed)?
            .with_no_client_auth();
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .build()
            .map_err(|e| DownloadError::with_source("cannot build the HTTP client", e))?;
        Ok(Self { http, max_bytes })
    }
}

impl CertificateSource for HttpsSource {
    fn fetch(&self, url: &CertUrl) -> BoxFuture<'static, Result<Bytes, DownloadError>> {
        let request = self.http.get(url.url().clone());
        let max = self.max_bytes;
        Box::pin(async move {
            let failed = |e: reqwest::Error| DownloadError::with_source("the request failed", e);
            let mut response = request.send().await.map_err(failed)?;
            if !response.status().is_success() {
                return Err(DownloadError::new(format!("the answer was HTTP {}", response.status().as_u16())));
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(failed)? {
                if body.len() + chunk.len() > max {
                    return Err(DownloadError::new(format!("the chain is larger than {max} bytes")));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Bytes::from(body))
        })
    }
}

/// Serves chains from a local directory, by the last segment of the
/// certificate URL, instead of downloading them: for testing an endpoint
/// offline against a test CA kept in that directory (the sandbox's
/// `Alexa::open` writes one). Only file names of letters, digits, `.`, `-` and
/// `_` (not starting with `.`) are looked up.
///
/// Trusting the directory's root is a separate, explicit step:
/// [`VerifierBuilder::trust_pem`](crate::VerifierBuilder::trust_pem) with
/// [`ca_pem`](Self::ca_pem).
#[derive(Clone, Debug)]
pub struct DirectorySource {
    dir: PathBuf,
}

impl DirectorySource {
    /// Serves chains from `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The name of the CA certificate in the directory.
    pub const CA_FILE: &str = "ca.pem";

    /// The CA certificate kept in the directory, `dir/ca.pem`.
    pub fn ca_pem(&self) -> std::io::Result<Vec<u8>> {
        std::fs::read(self.dir.join(Self::CA_FILE))
    }
}

impl CertificateSource for DirectorySource {
    fn fetch(&self, url: &CertUrl) -> BoxFuture<'static, Result<Bytes, DownloadError>> {
        let name = url.path().rsplit('/').next().unwrap_or_default();
        let safe = !name.is_empty()
            && !name.starts_with('.')
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        let answer = if safe {
            std::fs::read(self.dir.join(name))
                .map(Bytes::from)
                .map_err(|_| DownloadError::new("the directory has no such chain (HTTP 404)"))
        } else {
            Err(DownloadError::new("not a chain file name (HTTP 404)"))
        };
        Box::pin(std::future::ready(answer))
    }
}
