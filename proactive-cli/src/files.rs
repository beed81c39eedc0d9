//! Files the CLI writes: never in place. A file is replaced by writing a
//! temporary file in the same directory, syncing it and renaming it over the
//! old one, so a full disk, a size limit or a kill leaves the old file whole.
//! What may be written at all is [`crate::paths`]'s to say; right before the
//! rename, the path is checked again to still be a regular file (or absent).

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Replaces `path` with `bytes` atomically; see the module docs.
pub(crate) fn replace(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = Replacement::new(path)?;
    file.write_all(bytes)?;
    file.commit()
}

/// A file being written that replaces `path` only when [`commit`](Self::commit)ted;
/// dropped without a commit, it is removed and `path` is untouched.
pub(crate) struct Replacement {
    temp: tempfile::NamedTempFile,
    path: PathBuf,
}

impl Replacement {
    /// Starts the temporary file next to `path`, keeping its permissions when it exists.
    pub(crate) fn new(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let temp = tempfile::Builder::new().prefix(&format!(".{name}.")).suffix(".tmp").tempfile_in(dir)?;
        if let Ok(metadata) = std::fs::metadata(&path) {
            temp.as_file().set_permissions(metadata.permissions())?;
        }
        Ok(Self { temp, path })
    }

    /// The temporary file.
    pub(crate) fn file(&mut self) -> &mut File {
        self.temp.as_file_mut()
    }

    /// Syncs the temporary file and renames it over the path (then syncs the directory).
    pub(crate) fn commit(self) -> io::Result<()> {
        self.temp.as_file().sync_all()?;
        crate::paths::still_writable(&self.path)?;
        let Self { temp, path } = self;
        temp.persist(&path).map_err(|error| error.error)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(dir) = File::open(dir)
        {
            // Makes the rename itself durable; not every file system allows it.
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

impl Write for Replacement {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.temp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.temp.flush()
    }
}
