//! The output path guard: every file the CLI writes goes through here first.
//!
//! - An output is written only if it is a regular file or does not exist yet:
//!   a directory, a device (`/dev/null`), a FIFO or a socket is refused, and so
//!   is a symbolic link, except where a command documents that it follows one
//!   (`manifest --merge` writes the link's target, in the target's directory).
//! - No output may be the same file as an input, the `--client-secret-file` or
//!   another output: the same device and inode when the file exists, the same
//!   canonical directory and name when it does not yet (`j` and `./j`).
//!
//! Commands call [`check`] before they read, send or write anything; the
//! writers check again right before they replace or open a file
//! ([`still_writable`], [`check_opened`]), so a file swapped in meanwhile is
//! refused too.

use std::fs::{File, Metadata};
use std::io;
use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _};
use std::path::{Path, PathBuf};

/// A file a command reads: refused as an output.
pub(crate) enum Input<'a> {
    /// An input file, named in messages (`-`, standard input, is skipped).
    File(&'a str),
    /// A secret file: its path is never repeated, only the flag that named it.
    Secret(&'a str),
}

/// A file a command writes.
pub(crate) struct Output<'a> {
    /// The flag that named it, such as `--failed`.
    pub(crate) flag: &'a str,
    /// The path as given.
    pub(crate) path: &'a str,
}

/// Refuses any output that is not a regular file (or new), or that is the same
/// file as an input, the secret or another output. Symbolic links are refused.
pub(crate) fn check(inputs: &[Input<'_>], outputs: &[Output<'_>]) -> Result<(), String> {
    let mut seen: Vec<(&Output<'_>, Identity)> = Vec::with_capacity(outputs.len());
    for output in outputs {
        writable(output.flag, Path::new(output.path), false)?;
        let Some(id) = identity(Path::new(output.path)) else { continue };
        for input in inputs {
            match input {
                Input::File(path) if *path != "-" && identity(Path::new(path)).as_ref() == Some(&id) => {
                    return Err(format!(
                        "{} `{}` is the input `{path}`: it would be overwritten; write it to another file",
                        output.flag, output.path
                    ));
                }
                Input::Secret(path) if *path != "-" && identity(Path::new(path)).as_ref() == Some(&id) => {
                    return Err(format!(
                        "{} is the file given to --client-secret-file: the secret would be overwritten; write it to \
                         another file",
                        output.flag
                    ));
                }
                _ => {}
            }
        }
        if let Some((other, _)) = seen.iter().find(|(_, seen)| *seen == id) {
            return Err(format!(
                "{} and {} are the same file `{}`; give each its own",
                other.flag, output.flag, output.path
            ));
        }
        seen.push((output, id));
    }
    Ok(())
}

/// The path to write for `flag`'s `path`: itself when it is a regular file or
/// does not exist; with `follow_link`, the target of a symbolic link to a
/// regular file. Anything else is refused, with what it is.
pub(crate) fn writable(flag: &str, path: &Path, follow_link: bool) -> Result<PathBuf, String> {
    let shown = path.display();
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(path.to_owned()),
        Err(error) => return Err(format!("cannot use {flag} `{shown}`: {error}")),
    };
    if metadata.file_type().is_symlink() {
        if !follow_link {
            return Err(format!(
                "{flag} `{shown}` is a symbolic link, which is not followed: give the path of a regular file, or of \
                 a new one"
            ));
        }
        let target = std::fs::canonicalize(path)
            .map_err(|error| format!("{flag} `{shown}` is a symbolic link that cannot be followed: {error}"))?;
        let target_metadata =
            std::fs::metadata(&target).map_err(|error| format!("cannot use {flag} `{}`: {error}", target.display()))?;
        if !target_metadata.is_file() {
            return Err(format!(
                "{flag} `{shown}` leads to `{}`, which is {}, not a regular file: nothing was written",
                target.display(),
                kind(&target_metadata)
            ));
        }
        return Ok(target);
    }
    if metadata.is_file() {
        return Ok(path.to_owned());
    }
    Err(format!(
        "{flag} `{shown}` is {}, not a regular file: it is only written to a regular file, or a new one",
        kind(&metadata)
    ))
}

/// Right before `path` is replaced: it is still a regular file or absent.
pub(crate) fn still_writable(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(metadata) if metadata.is_file() => Ok(()),
        Ok(metadata) => Err(io::Error::other(format!(
            "`{}` became {} meanwhile; it was not replaced",
            path.display(),
            kind(&metadata)
        ))),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(error),
    }
}

/// After `file` was opened at `path` (which may follow a link or meet a swapped
/// file): it is a regular file, and the one at `path` itself.
pub(crate) fn check_opened(flag: &str, path: &Path, file: &File) -> Result<(), String> {
    let shown = path.display();
    let opened = file.metadata().map_err(|error| format!("cannot use {flag} `{shown}`: {error}"))?;
    let named = std::fs::symlink_metadata(path).map_err(|error| format!("cannot use {flag} `{shown}`: {error}"))?;
    if !opened.is_file() {
        return Err(format!("{flag} `{shown}` is {}, not a regular file", kind(&opened)));
    }
    if !named.is_file() || (named.dev(), named.ino()) != (opened.dev(), opened.ino()) {
        return Err(format!(
            "{flag} `{shown}` was replaced while it was opened (by {}); nothing was written",
            kind(&named)
        ));
    }
    Ok(())
}

/// Which file a path names: its device and inode when it exists, else its
/// canonical directory and name.
#[derive(PartialEq, Eq)]
enum Identity {
    Inode(u64, u64),
    New(PathBuf),
}

fn identity(path: &Path) -> Option<Identity> {
    match std::fs::metadata(path) {
        Ok(metadata) => Some(Identity::Inode(metadata.dev(), metadata.ino())),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            let name = path.file_name()?;
            let dir = match path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir,
                _ => Path::new("."),
            };
            Some(Identity::New(std::fs::canonicalize(dir).ok()?.join(name)))
        }
        Err(_) => None,
    }
}

/// What a file that is not a regular file is, for messages.
fn kind(metadata: &Metadata) -> &'static str {
    let file_type = metadata.file_type();
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else if file_type.is_fifo() {
        "a named pipe"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_new_file_spelled_two_ways_is_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("j");
        let b = dir.path().join(".").join("j");
        let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
        let outputs = [Output { flag: "--journal", path: a }, Output { flag: "--failed", path: b }];
        let error = check(&[], &outputs).unwrap_err();
        assert!(error.contains("--journal and --failed are the same file"), "{error}");
        assert!(!Path::new(a).exists());
    }
}
