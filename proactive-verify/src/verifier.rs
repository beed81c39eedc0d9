//! The verifier: every check of amazon-api.md section 8, the cheap ones first.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use rustls_pki_types::TrustAnchor;

use crate::cache::{Cache, DEFAULT_CAPACITY, DEFAULT_FAILURE_TTL, DEFAULT_MAX_DOWNLOADS};
use crate::cert::{VerifiedChain, anchors_from_pem};
use crate::error::{VerifyError, clip};
use crate::policy::{Checked, RequestPolicy};
use crate::source::{CertificateSource, DownloadError, HttpsSource};
use crate::url::CertUrl;

/// The header naming where the signing certificate chain is.
pub const CERT_CHAIN_URL_HEADER: &str = "SignatureCertChainUrl";
/// The header holding the base64 RSA-SHA256 signature of the body.
pub const SIGNATURE_256_HEADER: &str = "Signature-256";
/// The legacy SHA-1 signature header, not accepted.
pub const LEGACY_SIGNATURE_HEADER: &str = "Signature";

/// The signature headers of a request, as any HTTP library hands them over.
#[derive(Clone, Copy, Debug, Default)]
pub struct SignatureHeaders<'a> {
    /// `SignatureCertChainUrl`.
    pub cert_chain_url: Option<&'a str>,
    /// `Signature-256`.
    pub signature_256: Option<&'a str>,
    /// `Signature` (legacy SHA-1; only used to say why a request is refused).
    pub signature: Option<&'a str>,
}

impl<'a> SignatureHeaders<'a> {
    /// The headers from an `http` header map (hyper, axum, tower, Lambda
    /// function URLs). A header that is not visible ASCII counts as missing;
    /// [`try_from_http`](Self::try_from_http) says so instead.
    pub fn from_http(headers: &'a http::HeaderMap) -> Self {
        let get = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
        Self {
            cert_chain_url: get(CERT_CHAIN_URL_HEADER),
            signature_256: get(SIGNATURE_256_HEADER),
            signature: get(LEGACY_SIGNATURE_HEADER),
        }
    }

    /// [`from_http`](Self::from_http), refusing a `SignatureCertChainUrl` or
    /// `Signature-256` header that is present but not visible ASCII text, as
    /// [`VerifyError::HeaderNotText`], rather than reporting it missing.
    /// ([`VerifyLayer`](crate::VerifyLayer) reads the headers this way.)
    pub fn try_from_http(headers: &'a http::HeaderMap) -> Result<Self, VerifyError> {
        for header in [CERT_CHAIN_URL_HEADER, SIGNATURE_256_HEADER] {
            if headers.get(header).is_some_and(|value| value.to_str().is_err()) {
                return Err(VerifyError::HeaderNotText { header });
            }
        }
        Ok(Self::from_http(headers))
    }
}

/// Verifies that an HTTPS request to a skill comes from Alexa.
///
/// Cheap checks run first, so most forged requests are refused without a
/// download: the headers, the certificate URL's rules, `request.timestamp`
/// and the application id ([`RequestPolicy`]); then the certificate chain
/// (downloaded once per URL at a time, at most 4 downloads at once, cached
/// until its `notAfter`; a failed URL is refused from memory for 30 s) and the
/// signature over the exact body. Cloning shares the cache.
///
/// Production trusts the well-known roots (`webpki-roots`); tests and the
/// sandbox pass their own root with [`VerifierBuilder::trust_pem`], which then
/// replaces them.
///
/// ```no_run
/// use proactive_verify::{RequestPolicy, SignatureHeaders, Verifier};
///
/// # async fn handle(headers: &http::HeaderMap, body: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
/// let verifier = Verifier::builder(RequestPolicy::new(["amzn1.ask.skill.1234"])).build()?;
/// match verifier.verify(SignatureHeaders::from_http(headers), body).await {
///     Ok(verified) => println!("a {} from Alexa", verified.request_type()),
///     Err(refused) => println!("answer 400: {refused}"),
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    policy: RequestPolicy,
    roots: Arc<[TrustAnchor<'static>]>,
    source: Arc<dyn CertificateSource>,
    cache: Cache,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("policy", &self.inner.policy)
            .field("roots", &self.inner.roots.len())
            .field("downloads", &self.inner.cache.downloads())
            .finish_non_exhaustive()
    }
}

/// Configures a [`Verifier`].
pub struct VerifierBuilder {
    policy: RequestPolicy,
    roots: Option<Vec<TrustAnchor<'static>>>,
    source: Option<Arc<dyn CertificateSource>>,
    capacity: usize,
    max_downloads: usize,
    failure_ttl: std::time::Duration,
}

/// A verifier could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The policy names no skill, so every request would be refused.
    #[error("no application id is configured; pass the skill id (`amzn1.ask.skill.…`) to `RequestPolicy::new`")]
    NoApplicationId,
    /// The trusted roots passed are not PEM certificates.
    #[error("the trusted roots are not usable: {0}")]
    Roots(String),
    /// The HTTPS client could not be built.
    #[error("the HTTPS client for certificate downloads could not be built")]
    Http(#[source] DownloadError),
}

impl VerifierBuilder {
    /// Trusts only the root certificates in `pem` instead of the well-known
    /// roots: for tests and the sandbox's CA, never for production.
    pub fn trust_pem(mut self, pem: &[u8]) -> Result<Self, BuildError> {
        self.roots = Some(anchors_from_pem(pem).map_err(BuildError::Roots)?);
        Ok(self)
    }

    /// Fetches chains from `source` instead of over HTTPS.
    pub fn certificate_source(mut self, source: impl CertificateSource) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// Keeps at most `capacity` verified chains (default 16). Downloads in
    /// flight and failures are kept apart and never push a verified chain out.
    pub fn cache_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// Runs at most `max` certificate downloads at once (default
    /// [`DEFAULT_MAX_DOWNLOADS`], 4; at least 1). Further downloads wait for a
    /// turn, at most [`QUEUE_WAIT`](crate::QUEUE_WAIT), then fail (a Tokio
    /// timer, which the HTTPS source needs too).
    pub fn max_downloads(mut self, max: usize) -> Self {
        self.max_downloads = max;
        self
    }

    /// Refuses a URL whose download or chain failed for `ttl` (default
    /// [`DEFAULT_FAILURE_TTL`], 30 s) without downloading it again.
    pub fn failure_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.failure_ttl = ttl;
        self
    }

    /// The verifier.
    pub fn build(self) -> Result<Verifier, BuildError> {
        if self.policy.application_ids().next().is_none() {
            return Err(BuildError::NoApplicationId);
        }
        let roots = self.roots.unwrap_or_else(|| webpki_roots::TLS_SERVER_ROOTS.to_vec());
        let source = match self.source {
            Some(source) => source,
            None => Arc::new(HttpsSource::new().map_err(BuildError::Http)?),
        };
        let cache = Cache::new(self.capacity, self.max_downloads, self.failure_ttl);
        let inner = Inner { policy: self.policy, roots: roots.into(), source, cache };
        Ok(Verifier { inner: Arc::new(inner) })
    }
}

impl Verifier {
    /// A builder for a verifier with `policy`'s skill ids, tolerances and clock.
    pub fn builder(policy: RequestPolicy) -> VerifierBuilder {
        VerifierBuilder {
            policy,
            roots: None,
            source: None,
            capacity: DEFAULT_CAPACITY,
            max_downloads: DEFAULT_MAX_DOWNLOADS,
            failure_ttl: DEFAULT_FAILURE_TTL,
        }
    }

    /// The policy: skill ids, tolerances, clock.
    pub fn policy(&self) -> &RequestPolicy {
        &self.inner.policy
    }

    /// How many certificate downloads were started so far.
    pub fn downloads(&self) -> u64 {
        self.inner.cache.downloads()
    }

    /// Verifies a request: `headers` and the exact `body` bytes received.
    pub async fn verify(&self, headers: SignatureHeaders<'_>, body: &[u8]) -> Result<Checked, VerifyError> {
        let Some(url) = headers.cert_chain_url else {
            return Err(VerifyError::MissingHeader { header: CERT_CHAIN_URL_HEADER });
        };
        let signature = match headers.signature_256 {
            Some(signature) => signature,
            None if headers.signature.is_some() => return Err(VerifyError::LegacySignatureOnly),
            None => return Err(VerifyError::MissingHeader { header: SIGNATURE_256_HEADER }),
        };
        let signature = base64::engine::general_purpose::STANDARD
            .decode(signature.trim())
            .map_err(|_| VerifyError::SignatureNotBase64)?;
        let url = CertUrl::parse(url)?;
        let checked = self.inner.policy.check(body)?;
        let chain = self.chain(&url).await?;
        if chain.verify_signature(body, &signature) { Ok(checked) } else { Err(VerifyError::Signature) }
    }

    /// The verified chain for `url`, from the cache or a download.
    async fn chain(&self, url: &CertUrl) -> Result<Arc<VerifiedChain>, VerifyError> {
        let now = self.inner.policy.now();
        // The download holds the source and the roots, not the verifier: the
        // cache stores the download, and must not keep the verifier alive.
        let source = Arc::clone(&self.inner.source);
        let roots = Arc::clone(&self.inner.roots);
        let owned = url.clone();
        let start = move || -> futures_util::future::BoxFuture<'static, _> {
            Box::pin(async move {
                let pem = source.fetch(&owned).await.map_err(|error| {
                    let (problem, source) = error.into_parts();
                    VerifyError::Download { url: clip(owned.as_str(), 100), problem, source }
                })?;
                VerifiedChain::check(&pem, &roots, now)
                    .map(Arc::new)
                    .map_err(|problem| VerifyError::Certificate { url: clip(owned.as_str(), 100), problem })
            })
        };
        self.inner.cache.get(url, now, start).await
    }
}
