//! The downloaded chain: PEM parsing, the checks of amazon-api.md section 8
//! step 3 with rustls-webpki, and the moment the verdict stops holding.

use chrono::{DateTime, Utc};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};
use webpki::{EndEntityCert, KeyUsage};

use crate::error::CertProblem;

/// The name Alexa's signing certificate must carry.
pub const SIGNING_NAME: &str = "echo-api.amazon.com";

/// A chain that passed every check at some moment, and until when that holds:
/// the earliest `notAfter` in the chain.
#[derive(Debug)]
pub(crate) struct VerifiedChain {
    signing: CertificateDer<'static>,
    pub(crate) not_after: DateTime<Utc>,
}

impl VerifiedChain {
    /// Checks the chain in `pem` at `now`: the first certificate signs, the
    /// rest are intermediates.
    pub(crate) fn check(pem: &[u8], roots: &[TrustAnchor<'static>], now: DateTime<Utc>) -> Result<Self, CertProblem> {
        let certificates = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| CertProblem::NotPem(error.to_string()))?;
        let Some((signing, intermediates)) = certificates.split_first() else {
            return Err(CertProblem::NotPem("no certificate in it".to_owned()));
        };
        let end_entity = EndEntityCert::try_from(signing).map_err(problem)?;
        let seconds = u64::try_from(now.timestamp()).unwrap_or(0);
        let time = UnixTime::since_unix_epoch(std::time::Duration::from_secs(seconds));
        end_entity
            .verify_for_usage(
                webpki::ALL_VERIFICATION_ALGS,
                roots,
                intermediates,
                time,
                KeyUsage::server_auth(),
                None,
                None,
            )
            .map_err(problem)?;
        let name = ServerName::try_from(SIGNING_NAME).map_err(|e| CertProblem::Other(e.to_string()))?;
        end_entity.verify_is_valid_for_subject_name(&name).map_err(problem)?;
        // A chain whose dates cannot be read is used for this request only.
        let not_after = certificates.iter().filter_map(not_after).min().unwrap_or(now);
        Ok(Self { signing: signing.clone().into_owned(), not_after })
    }

    /// Whether the verdict still holds at `now`.
    pub(crate) fn valid_at(&self, now: DateTime<Utc>) -> bool {
        now < self.not_after
    }

    /// Checks `signature` (RSA PKCS#1 v1.5, SHA-256) over `body` with the
    /// signing certificate's key.
    pub(crate) fn verify_signature(&self, body: &[u8], signature: &[u8]) -> bool {
        EndEntityCert::try_from(&self.signing)
            .and_then(|cert| cert.verify_signature(webpki::ring::RSA_PKCS1_2048_8192_SHA256, body, signature))
            .is_ok()
    }
}

/// A certificate's `notAfter`; `None` when x509-parser cannot read it (then
/// webpki has already refused the chain, or it is an unused extra).
fn not_after(certificate: &CertificateDer<'_>) -> Option<DateTime<Utc>> {
    let (_, parsed) = x509_parser::parse_x509_certificate(certificate.as_ref()).ok()?;
    DateTime::from_timestamp(parsed.validity().not_after.timestamp(), 0)
}

fn problem(error: webpki::Error) -> CertProblem {
    match error {
        webpki::Error::CertExpired { .. } => CertProblem::Expired,
        webpki::Error::CertNotValidYet { .. } => CertProblem::NotYetValid,
        webpki::Error::CertNotValidForName(_) => CertProblem::WrongName,
        // No issuer found, or one with a trusted root's name whose key did not
        // sign the chain (a CA impersonating a root's name): not trusted.
        webpki::Error::UnknownIssuer | webpki::Error::InvalidSignatureForPublicKey => CertProblem::UntrustedChain,
        other => CertProblem::Other(other.to_string()),
    }
}

/// Trust anchors from PEM root certificates.
pub(crate) fn anchors_from_pem(pem: &[u8]) -> Result<Vec<TrustAnchor<'static>>, String> {
    let mut anchors = Vec::new();
    for certificate in CertificateDer::pem_slice_iter(pem) {
        let certificate = certificate.map_err(|error| format!("not PEM: {error}"))?;
        let anchor = webpki::anchor_from_trusted_cert(&certificate).map_err(|error| error.to_string())?;
        anchors.push(anchor.to_owned());
    }
    if anchors.is_empty() {
        return Err("no certificate in it".to_owned());
    }
    Ok(anchors)
}
