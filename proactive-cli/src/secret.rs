//! The client secret of `proactive send`, from (in this order)
//! `--client-secret-file PATH` (`-` reads standard input), `--client-secret`, or
//! `ALEXA_CLIENT_SECRET`.
//!
//! The flag form is visible to every user of the machine (`ps`,
//! `/proc/PID/cmdline`); the file and the environment are not. Whatever the
//! source, the secret is never part of a message: errors name the source only
//! (not even the path, which may be a secret typed after the wrong flag).

use std::io::Read;

/// The environment variable that holds the secret.
pub(crate) const ENV: &str = "ALEXA_CLIENT_SECRET";

/// A secret file larger than this is not a client secret (Amazon's are under 100
/// bytes): refuse it rather than read a wrong file whole.
const MAX_LEN: u64 = 4096;

/// The secret from the first source given, `None` when there is none.
///
/// `event_paths` are the inputs of `send`: standard input cannot hold both the
/// events (`-`) and the secret (`--client-secret-file -`).
pub(crate) fn resolve(
    flag: Option<&str>,
    file: Option<&str>,
    event_paths: &[String],
) -> Result<Option<String>, String> {
    match (file, flag) {
        (Some("-"), _) if event_paths.iter().any(|path| path == "-") => {
            Err("standard input cannot hold both the events (`-`) and the client secret (`--client-secret-file -`): \
             put one of them in a file, or set ALEXA_CLIENT_SECRET"
                .to_owned())
        }
        (Some("-"), _) => read(std::io::stdin().lock(), "standard input").map(Some),
        // The path is not repeated: someone who mixed up the flags typed the secret there.
        (Some(path), _) => {
            let file = std::fs::File::open(path)
                .map_err(|error| format!("cannot read the client secret from --client-secret-file: {error}"))?;
            read(file, "--client-secret-file").map(Some)
        }
        (None, Some(secret)) => Ok(Some(secret.to_owned())),
        (None, None) => Ok(std::env::var(ENV).ok()),
    }
}

/// Reads one secret from `source`, without the white space around it (a file
/// written by `echo` ends with a newline).
fn read(source: impl Read, name: &str) -> Result<String, String> {
    let mut text = String::new();
    source
        .take(MAX_LEN + 1)
        .read_to_string(&mut text)
        .map_err(|error| format!("cannot read the client secret from {name}: {error}"))?;
    if text.len() as u64 > MAX_LEN {
        return Err(format!("{name} is larger than {MAX_LEN} bytes: not a client secret"));
    }
    let secret = text.trim();
    if secret.is_empty() {
        return Err(format!("the client secret in {name} is empty"));
    }
    if secret.contains(['\n', '\r']) {
        return Err(format!("{name} holds more than one line: write the client secret alone"));
    }
    Ok(secret.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_read_without_surrounding_white_space() {
        assert_eq!(read("s3cret\n".as_bytes(), "x").unwrap(), "s3cret");
        assert_eq!(read("  s3cret\r\n".as_bytes(), "x").unwrap(), "s3cret");
    }

    #[test]
    fn bad_secret_files_are_refused_without_showing_their_content() {
        for (text, expected) in
            [("\n", "the client secret in `f` is empty"), ("s3cret\nother\n", "`f` holds more than one line")]
        {
            let error = read(text.as_bytes(), "`f`").unwrap_err();
            assert!(error.starts_with(expected), "{error}");
            assert!(!error.contains("s3cret"), "{error}");
        }
        let huge = "s3cret".repeat(1000);
        let error = read(huge.as_bytes(), "`f`").unwrap_err();
        assert_eq!(error, "`f` is larger than 4096 bytes: not a client secret");
    }

    #[test]
    fn standard_input_holds_the_events_or_the_secret_not_both() {
        let error = resolve(None, Some("-"), &["a.json".to_owned(), "-".to_owned()]).unwrap_err();
        assert!(error.starts_with("standard input cannot hold both"), "{error}");
        assert_eq!(resolve(Some("flag"), None, &[]).unwrap().as_deref(), Some("flag"));
    }
}
