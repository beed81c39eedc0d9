//! The `SignatureCertChainUrl` rules: where Alexa's signing certificate may be
//! downloaded from (amazon-api.md section 8, step 2).

use std::fmt;

use reqwest::Url;

use crate::error::clip;

/// The host the certificate chain must come from (any case).
const HOST: &str = "s3.amazonaws.com";
/// The path prefix the certificate chain must have (case-sensitive).
const PATH_PREFIX: &str = "/echo.api/";

/// A `SignatureCertChainUrl` that passed Amazon's rules: `https` (any case),
/// host `s3.amazonaws.com` (any case), port 443 if any, and a path that starts
/// with `/echo.api/` once its dot segments are resolved, and no query or
/// fragment.
///
/// ```
/// use proactive_verify::CertUrl;
///
/// let url = CertUrl::parse("https://S3.AMAZONAWS.COM/echo.api/../echo.api/echo-api-cert.pem")?;
/// assert_eq!(url.as_str(), "https://s3.amazonaws.com/echo.api/echo-api-cert.pem");
/// assert!(CertUrl::parse("https://s3.amazonaws.com/EcHo.aPi/echo-api-cert.pem").is_err());
/// # Ok::<(), proactive_verify::CertUrlError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CertUrl(Url);

/// Why a `SignatureCertChainUrl` is refused. The URL is quoted at most 100
/// characters long.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`SignatureCertChainUrl` `{url}` {problem}")]
pub struct CertUrlError {
    url: String,
    problem: &'static str,
}

impl CertUrlError {
    fn new(url: &str, problem: &'static str) -> Self {
        Self { url: clip(url, 100), problem }
    }

    /// Which rule the URL breaks.
    pub fn problem(&self) -> &str {
        self.problem
    }
}

impl CertUrl {
    /// Checks `text` against the rules and normalises it (case of scheme and
    /// host, dot segments, the default port).
    pub fn parse(text: &str) -> Result<Self, CertUrlError> {
        // The URL parser resolves `.` and `..` (also percent-encoded ones),
        // lowercases the scheme and host, and drops a default port.
        let url = Url::parse(text.trim()).map_err(|_| CertUrlError::new(text, "is not a URL"))?;
        if url.scheme() != "https" {
            return Err(CertUrlError::new(text, "must use `https`"));
        }
        if url.host_str() != Some(HOST) {
            return Err(CertUrlError::new(text, "must be on host `s3.amazonaws.com`"));
        }
        if url.port().is_some() {
            // `Url` drops `:443` for https, so any port left is another one.
            return Err(CertUrlError::new(text, "must use port 443"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(CertUrlError::new(text, "must not carry a user name or password"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            // Each query would be another URL to download: Amazon's have none.
            return Err(CertUrlError::new(text, "must not have a query (`?`) or a fragment (`#`)"));
        }
        if !url.path().starts_with(PATH_PREFIX) {
            return Err(CertUrlError::new(text, "must have a path starting with `/echo.api/` (case-sensitive)"));
        }
        Ok(Self(url))
    }

    /// The normalised URL.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The normalised URL's path, such as `/echo.api/echo-api-cert-12.pem`.
    pub fn path(&self) -> &str {
        self.0.path()
    }

    /// The URL for reqwest.
    pub(crate) fn url(&self) -> &Url {
        &self.0
    }
}

impl fmt::Debug for CertUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CertUrl").field(&self.as_str()).finish()
    }
}

impl fmt::Display for CertUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every example of amazon-api.md section 8, and a few more.
    #[test]
    fn amazons_examples() {
        for passes in [
            "https://s3.amazonaws.com/echo.api/echo-api-cert.pem",
            "https://S3.AMAZONAWS.COM/echo.api/echo-api-cert.pem",
            "https://s3.amazonaws.com:443/echo.api/echo-api-cert.pem",
            "https://s3.amazonaws.com/echo.api/../echo.api/echo-api-cert.pem",
            "HTTPS://s3.amazonaws.com/echo.api/echo-api-cert.pem",
        ] {
            let url = CertUrl::parse(passes).unwrap_or_else(|e| panic!("{passes}: {e}"));
            assert_eq!(url.as_str(), "https://s3.amazonaws.com/echo.api/echo-api-cert.pem", "{passes}");
        }
        for (fails, problem) in [
            ("http://s3.amazonaws.com/echo.api/echo-api-cert.pem", "must use `https`"),
            ("https://notamazon.com/echo.api/echo-api-cert.pem", "must be on host `s3.amazonaws.com`"),
            ("https://s3.amazonaws.com/EcHo.aPi/echo-api-cert.pem", "must have a path starting with"),
            ("https://s3.amazonaws.com/invalid.path/echo-api-cert.pem", "must have a path starting with"),
            ("https://s3.amazonaws.com:563/echo.api/echo-api-cert.pem", "must use port 443"),
            ("https://s3.amazonaws.com/echo.api/../invalid.path/echo-api-cert.pem", "must have a path starting with"),
            ("https://s3.amazonaws.com/echo.api/%2e%2e/x/echo-api-cert.pem", "must have a path starting with"),
            ("https://s3.amazonaws.com.evil.example/echo.api/echo-api-cert.pem", "must be on host"),
            ("https://evil@s3.amazonaws.com/echo.api/echo-api-cert.pem", "user name"),
            ("https://s3.amazonaws.com/echo.api/echo-api-cert.pem?n=1", "must not have a query"),
            ("https://s3.amazonaws.com/echo.api/echo-api-cert.pem?", "must not have a query"),
            ("https://s3.amazonaws.com/echo.api/echo-api-cert.pem#1", "or a fragment"),
            ("not a url", "is not a URL"),
        ] {
            let error = CertUrl::parse(fails).expect_err(fails);
            assert!(error.to_string().contains(problem), "{fails}: {error}");
        }
    }

    #[test]
    fn long_urls_are_clipped_in_messages() {
        let long = format!("https://notamazon.com/{}", "a".repeat(10_000));
        let message = CertUrl::parse(&long).unwrap_err().to_string();
        assert!(message.len() < 250, "{message}");
    }
}
