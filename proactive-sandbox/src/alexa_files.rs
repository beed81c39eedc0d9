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
/// made with `create_new` (never an existing file, nor through a symlink) at
/// mode 0600 for a private key (0644 otherwise), synced, then renamed over it.
/// A name already taken (a leftover, or something planted) is skipped for the
/// next one, and left alone.
pub(crate) fn write_atomic(path: &Path, contents: &[u8], private: bool) -> Result<(), AlexaError> {
    let io = |source| AlexaError::Io { path: path.to_owned(), source };
    let (temporary, mut file) = create_temporary(path, private).map_err(io)?;
    let written = file.write_all(contents).and_then(|()| file.sync_all());
    drop(file);
    match written.and_then(|()| std::fs::rename(&temporary, path)) {
        Ok(()) => Ok(()),
        Err(error) => {
            let _ = std::fs::remove_file(&temporary);
            Err(io(error))
        }
    }
}

/// A new temporary file next to `path`: `NAME.tmpPID`, else `NAME.tmpPID.1`, ….
fn create_temporary(path: &Path, private: bool) -> std::io::Result<(std::path::PathBuf, std::fs::File)> {
    let base = path.with_extension(format!("tmp{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut last = None;
    for attempt in 0..100u32 {
        let temporary = if attempt == 0 {
            base.clone()
        } else {
            base.with_extension(format!("tmp{}.{attempt}", std::process::id()))
        };
        match options.open(&temporary) {
            Ok(file) => return Ok((temporary, file)),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => last = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free temporary name")))
}

/// Creates `dir` (and its missing parents) readable by the owner only, so that
/// a umask such as 002 does not make a new directory shared.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), AlexaError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| AlexaError::Io { path: dir.to_owned(), source })
}

/// Refuses a directory that users other than its owner can write to: they
/// could swap the keys, or plant links where the keys are written.
pub(crate) fn check_private_dir(dir: &Path) -> Result<(), AlexaError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let metadata = std::fs::metadata(dir).map_err(|source| AlexaError::Io { path: dir.to_owned(), source })?;
        let mode = metadata.permissions().mode() & 0o7777;
        if mode & 0o022 != 0 {
            return Err(AlexaError::SharedDirectory { path: dir.to_owned(), mode });
        }
    }
    Ok(())
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
