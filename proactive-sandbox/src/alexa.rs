//! The sandbox playing Alexa: a CA of its own, a signing certificate for
//! `echo-api.amazon.com` under it, signed skill events POSTed to an endpoint,
//! and what a verifier needs to trust exactly that CA.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use futures_util::future::BoxFuture;
use proactive_verify::{CertUrl, CertificateSource, DownloadError, RequestPolicy, Verifier};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_RSA_SHA256,
};

use crate::alexa_files::{CA_FILE, CA_KEY_FILE, SIGNING_KEY_FILE, read_or_create, write_atomic};

/// The common name of every sandbox CA.
const CA_NAME: &str = "proactive sandbox Alexa CA (tests only)";

/// What went wrong making, loading or using the sandbox's Alexa.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AlexaError {
    /// A key or certificate could not be made.
    #[error("cannot make the sandbox's certificates: {0}")]
    Certificate(String),
    /// The directory holding the CA could not be read or written.
    #[error("cannot use `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The directory can be written by users other than its owner.
    #[error(
        "`{path}` can be written by other users (mode {mode:04o}): the sandbox's Alexa keys are not kept there; \
         run `chmod go-w` on it or choose another directory"
    )]
    SharedDirectory {
        /// The directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The endpoint URL is not `http://host[:port]/path`.
    #[error("`{0}` is not an http:// URL; the sandbox POSTs to local endpoints over plain HTTP")]
    EndpointUrl(String),
    /// The POST failed before an answer came.
    #[error("the POST to `{url}` failed: {reason}")]
    Post {
        /// The endpoint.
        url: String,
        /// What failed.
        reason: String,
    },
}

/// How the signing certificate is made; the defaults are what Alexa's is like.
/// Tests change one thing at a time to watch a verifier refuse it.
#[derive(Clone, Debug)]
pub struct AlexaOptions {
    /// The subject alternative name (default `echo-api.amazon.com`).
    pub signing_name: String,
    /// The start of validity (default: a minute ago).
    pub not_before: DateTime<Utc>,
    /// The end of validity (default: in 7 days).
    pub not_after: DateTime<Utc>,
}

impl Default for AlexaOptions {
    fn default() -> Self {
        let now = Utc::now();
        Self {
            signing_name: proactive_verify::SIGNING_NAME.to_owned(),
            not_before: now - Duration::minutes(1),
            not_after: now + Duration::days(7),
        }
    }
}

/// The sandbox's Alexa: signs requests the way Alexa does, with a test CA.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use proactive_sandbox::{Alexa, skill_event};
/// use proactive_verify::RequestPolicy;
///
/// let alexa = Alexa::new()?;
/// // The endpoint under test trusts this CA, and no other:
/// let verifier = alexa.verifier(RequestPolicy::new(["amzn1.ask.skill.test"]))?;
/// // Alexa's side: a signed SkillDisabled to the endpoint.
/// let event = skill_event::skill_disabled("amzn1.ask.skill.test", "amzn1.ask.account.A");
/// let answer = alexa.post("http://127.0.0.1:3000/alexa/events", &event).await?;
/// assert_eq!(answer.status, 200);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Alexa {
    inner: Arc<Inner>,
}

struct Inner {
    ca_pem: String,
    chain_pem: String,
    chain_url: String,
    signing: ring::signature::RsaKeyPair,
    fetches: Arc<AtomicU64>,
}

impl fmt::Debug for Alexa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Alexa").field("chain_url", &self.inner.chain_url).finish_non_exhaustive()
    }
}

/// The headers Alexa adds to a request it signs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// `SignatureCertChainUrl`.
    pub cert_chain_url: String,
    /// `Signature-256`: base64 of RSA PKCS#1 v1.5 with SHA-256 over the body.
    pub signature_256: String,
}

/// An endpoint's answer to a POST.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body, as text (lossy).
    pub body: String,
}

impl Alexa {
    /// A new CA and signing key, kept in memory only.
    pub fn new() -> Result<Self, AlexaError> {
        Self::with_options(AlexaOptions::default())
    }

    /// A new CA and signing key, with the signing certificate made as `options` says.
    pub fn with_options(options: AlexaOptions) -> Result<Self, AlexaError> {
        let ca_key = KeyPair::generate().map_err(certificate)?;
        let signing_key = new_signing_key()?;
        Self::assemble(ca_key, signing_key, &options)
    }

    /// The CA and signing key kept in `dir` (made on first use; the keys are
    /// written readable by the owner only), with a fresh signing certificate.
    /// Also writes `dir/ca.pem` and the chain under the name its URL ends
    /// with, which [`DirectorySource`](proactive_verify::DirectorySource) serves: so an endpoint in another
    /// process can trust this sandbox's CA (see the `subscriptions` example).
    ///
    /// Every file is written through a new temporary file (`create_new`: never
    /// through a link planted at its name; keys at mode 0600) renamed over the
    /// old one. A directory that users other than its owner can write to
    /// (group or other `w` bit, sticky or not) is refused; a directory it
    /// makes is made at mode 0700.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, AlexaError> {
        let dir = dir.as_ref();
        crate::alexa_files::create_private_dir(dir)?;
        crate::alexa_files::check_private_dir(dir)?;
        let ca_key =
            read_or_create(&dir.join(CA_KEY_FILE), || Ok(KeyPair::generate().map_err(certificate)?.serialize_pem()))?;
        let ca_key = KeyPair::from_pem(&ca_key).map_err(certificate)?;
        let signing = read_or_create(&dir.join(SIGNING_KEY_FILE), || Ok(new_signing_key()?.serialize_pem()))?;
        let signing = KeyPair::from_pem_and_sign_algo(&signing, &PKCS_RSA_SHA256).map_err(certificate)?;
        let alexa = Self::assemble(ca_key, signing, &AlexaOptions::default())?;
        write_atomic(&dir.join(CA_FILE), alexa.ca_pem().as_bytes(), false)?;
        let name = alexa.inner.chain_url.rsplit('/').next().unwrap_or_default();
        write_atomic(&dir.join(name), alexa.chain_pem().as_bytes(), false)?;
        Ok(alexa)
    }

    fn assemble(ca_key: KeyPair, signing_key: KeyPair, options: &AlexaOptions) -> Result<Self, AlexaError> {
        let ca_params = ca_params()?;
        let ca = ca_params.self_signed(&ca_key).map_err(certificate)?;
        let issuer = Issuer::new(ca_params, ca_key);
        let mut params = CertificateParams::new(vec![options.signing_name.clone()]).map_err(certificate)?;
        params.distinguished_name.push(DnType::CommonName, options.signing_name.as_str());
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        params.not_before = to_time(options.not_before)?;
        params.not_after = to_time(options.not_after)?;
        let leaf = params.signed_by(&signing_key, &issuer).map_err(certificate)?;
        let signing = ring::signature::RsaKeyPair::from_pkcs8(&signing_key.serialize_der())
            .map_err(|e| AlexaError::Certificate(e.to_string()))?;
        // The file name identifies the CA, so chains of two sandboxes never collide.
        let digest = ring::digest::digest(&ring::digest::SHA256, ca.der());
        let id: String = digest.as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self {
            inner: Arc::new(Inner {
                ca_pem: ca.pem(),
                chain_pem: format!("{}{}", leaf.pem(), ca.pem()),
                chain_url: format!("https://s3.amazonaws.com/echo.api/sandbox-{id}.pem"),
                signing,
                fetches: Arc::default(),
            }),
        })
    }

    /// The CA certificate (PEM): the only root an endpoint under test should trust.
    pub fn ca_pem(&self) -> &str {
        &self.inner.ca_pem
    }

    /// The chain served for [`cert_chain_url`](Self::cert_chain_url): the
    /// signing certificate, then the CA.
    pub fn chain_pem(&self) -> &str {
        &self.inner.chain_pem
    }

    /// The `SignatureCertChainUrl` this Alexa sends: an Amazon-shaped URL that
    /// only [`certificate_source`](Self::certificate_source) (or
    /// [`DirectorySource`](proactive_verify::DirectorySource)) answers; nothing is ever fetched from Amazon.
    pub fn cert_chain_url(&self) -> &str {
        &self.inner.chain_url
    }

    /// A certificate source that serves this Alexa's chain from memory.
    pub fn certificate_source(&self) -> impl CertificateSource + use<> {
        MemoryCertificates { inner: Arc::clone(&self.inner) }
    }

    /// How many times the chain was fetched from [`certificate_source`](Self::certificate_source).
    pub fn fetches(&self) -> u64 {
        self.inner.fetches.load(Ordering::Relaxed)
    }

    /// A verifier with `policy` that trusts this CA only and fetches from memory.
    pub fn verifier(&self, policy: RequestPolicy) -> Result<Verifier, proactive_verify::BuildError> {
        Verifier::builder(policy)
            .trust_pem(self.ca_pem().as_bytes())?
            .certificate_source(self.certificate_source())
            .build()
    }

    /// Signs `body` as Alexa does.
    pub fn sign(&self, body: &[u8]) -> Signature {
        let key = &self.inner.signing;
        let mut signature = vec![0; key.public().modulus_len()];
        // Signing with a valid key into a buffer of the modulus size cannot fail.
        let _ = key.sign(&ring::signature::RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), body, &mut signature);
        Signature {
            cert_chain_url: self.inner.chain_url.clone(),
            signature_256: base64::engine::general_purpose::STANDARD.encode(signature),
        }
    }

    /// POSTs `event` (serialised once) to `url`, signed.
    pub async fn post(&self, url: &str, event: &serde_json::Value) -> Result<Answer, AlexaError> {
        let body = Bytes::from(event.to_string());
        let signature = self.sign(&body);
        crate::alexa_files::post(
            url,
            body,
            &[("SignatureCertChainUrl", &signature.cert_chain_url), ("Signature-256", &signature.signature_256)],
        )
        .await
    }
}

/// Serves one Alexa's chain from memory, and counts the fetches.
struct MemoryCertificates {
    inner: Arc<Inner>,
}

impl CertificateSource for MemoryCertificates {
    fn fetch(&self, url: &CertUrl) -> BoxFuture<'static, Result<Bytes, DownloadError>> {
        self.inner.fetches.fetch_add(1, Ordering::Relaxed);
        let answer = if url.as_str() == self.inner.chain_url {
            Ok(Bytes::from(self.inner.chain_pem.clone()))
        } else {
            Err(DownloadError::new("the sandbox has no certificate at that URL (HTTP 404)"))
        };
        Box::pin(std::future::ready(answer))
    }
}

fn ca_params() -> Result<CertificateParams, AlexaError> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(certificate)?;
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, CA_NAME);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = to_time(Utc::now() - Duration::days(1))?;
    params.not_after = to_time(Utc::now() + Duration::days(3650))?;
    Ok(params)
}

/// A 2048-bit RSA key: Alexa signs with RSA, and ring cannot make RSA keys.
fn new_signing_key() -> Result<KeyPair, AlexaError> {
    use rsa::pkcs8::EncodePrivateKey as _;
    use rsa::{Generate as _, PrivateKey};

    let key = PrivateKey::generate();
    let der = key.to_pkcs8_der().map_err(|e| AlexaError::Certificate(e.to_string()))?;
    let der = rustls_pki_types::PrivatePkcs8KeyDer::from(der.as_bytes());
    KeyPair::from_pkcs8_der_and_sign_algo(&der, &PKCS_RSA_SHA256).map_err(certificate)
}

fn to_time(time: DateTime<Utc>) -> Result<time::OffsetDateTime, AlexaError> {
    time::OffsetDateTime::from_unix_timestamp(time.timestamp()).map_err(|e| AlexaError::Certificate(e.to_string()))
}

fn certificate(error: rcgen::Error) -> AlexaError {
    AlexaError::Certificate(error.to_string())
}
