//! Standard output through one buffer: lines are written in batches, not one
//! system call each, and a closed pipe (`proactive ... | head`) ends the program
//! quietly, as Unix tools do.

use std::io::{self, BufWriter, StdoutLock, Write};

/// Buffered standard output; see the module docs.
pub(crate) struct Stdout {
    out: BufWriter<StdoutLock<'static>>,
}

impl Stdout {
    /// Takes standard output for the rest of the run.
    pub(crate) fn new() -> Self {
        Self { out: BufWriter::with_capacity(64 * 1024, io::stdout().lock()) }
    }

    /// Writes one line (buffered).
    pub(crate) fn line(&mut self, args: std::fmt::Arguments<'_>) {
        let written = self.out.write_fmt(args).and_then(|()| self.out.write_all(b"\n"));
        check(written);
    }

    /// Writes raw bytes (buffered).
    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        check(self.out.write_all(bytes));
    }

    /// Writes out what is buffered.
    pub(crate) fn flush(&mut self) {
        check(self.out.flush());
    }
}

impl Drop for Stdout {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Ends the program on a write error: quietly for a closed pipe, else with a message.
fn check(result: io::Result<()>) {
    if let Err(error) = result {
        if error.kind() == io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        error!("cannot write to standard output: {error}");
        std::process::exit(2);
    }
}
