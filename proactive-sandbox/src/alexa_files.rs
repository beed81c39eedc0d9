//! The sandbox's Alexa on disk and on the wire: its CA kept in a directory
//! (which `proactive_verify::DirectorySource` serves), and a plain-HTTP POST to
//! an endpoint.

use std::io::Write as _;
use std::path::Path;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;

use crate::alexa::{AlexaError, Answer};

/// The CA certificate in an Alexa directory.
pub(crate) const CA_FILE: &str = proactive_verify::DirectorySource::CA_FILE;
/// The CA's private key in an Alexa directory.
pub(crate) const CA_KEY_FILE: &str = "ca-key.pem";
/// The RSA signing key in an Alexa directory.
pub(crate) const SIGNING_KEY_FILE: &str = "signing-key.pem";

/// The file's text, or `create()` written to it (owner-only) when it is missing.
pub(crate) fn read_or_create(
    path: &Path,
    create: impl FnOnce() -> Result<String, AlexaError>,
) -> Result<String, AlexaError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let text = create()?;
            write_atomic(path, text.as_bytes(), true)?;
            Ok(text)
        }
        Err(source) => Err(AlexaError::Io { path: path.to_owned(), source }),
    }
}

/// Writes `path` whole or not at all: a temporary file in the same directory,
/// synced, then renamed over it.
pub(crate) fn write_atomic(path: &Path, contents: &[u8], private: bool) -> Result<(), AlexaError> {
    let io = |source| AlexaError::Io { path: path.to_owned(), source };
    let temporary = path.with_extension(format!("tmp{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(&temporary).map_err(io)?;
    file.write_all(contents).and_then(|()| file.sync_all()).map_err(io)?;
    drop(file);
    std::fs::rename(&temporary, path).map_err(io)
}

/// POSTs `body` with `headers` to an `http://` URL over HTTP/1.1.
pub(crate) async fn post(url: &str, body: Bytes, headers: &[(&str, &str)]) -> Result<Answer, AlexaError> {
    let uri: hyper::Uri = url.parse().map_err(|_| AlexaError::EndpointUrl(url.to_owned()))?;
    if uri.scheme_str() != Some("http") {
        return Err(AlexaError::EndpointUrl(url.to_owned()));
    }
    let Some(authority) = uri.authority().cloned() else { return Err(AlexaError::EndpointUrl(url.to_owned())) };
    let failed = |reason: String| AlexaError::Post { url: url.to_owned(), reason };
    let address = format!("{}:{}", authority.host(), authority.port_u16().unwrap_or(80));
    let stream = tokio::net::TcpStream::connect(&address).await.map_err(|e| failed(e.to_string()))?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| failed(e.to_string()))?;
    let connection = tokio::spawn(connection);
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = Request::post(path)
        .header(hyper::header::HOST, authority.as_str())
        .header(hyper::header::CONTENT_TYPE, "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Full::new(body)).map_err(|e| failed(e.to_string()))?;
    let response = sender.send_request(request).await.map_err(|e| failed(e.to_string()))?;
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.map_err(|e| failed(e.to_string()))?.to_bytes();
    connection.abort();
    Ok(Answer { status, body: String::from_utf8_lossy(&body).into_owned() })
}
