//! Colour for the `error:` and `warning:` prefixes, as cargo and ripgrep do: on a
//! terminal only, never with `NO_COLOR` set, and as `--color never|auto|always`
//! says (which wins over the environment).
//!
//! The decision is anstream's (the crate clap uses for its own help), made once
//! per stream. Everything else is printed plain.

use std::fmt;
use std::sync::OnceLock;

use anstyle::{AnsiColor, Style};
use proactive_core::{Problem, Severity};

/// `error:` in bold red.
const ERROR: Style = AnsiColor::Red.on_default().bold();
/// `warning:` in bold yellow.
const WARNING: Style = AnsiColor::Yellow.on_default().bold();

/// Prints `error: <message>` to standard error, the prefix coloured when
/// standard error takes colour.
macro_rules! error {
    ($($arg:tt)*) => {
        eprintln!("{} {}", $crate::color::Prefix::error($crate::color::Stream::Stderr), format_args!($($arg)*))
    };
}

/// Prints `warning: <message>` to standard error, the prefix coloured when
/// standard error takes colour.
macro_rules! warning {
    ($($arg:tt)*) => {
        eprintln!("{} {}", $crate::color::Prefix::warning($crate::color::Stream::Stderr), format_args!($($arg)*))
    };
}

/// Applies `--color` for the whole process; call it before printing anything.
pub(crate) fn init(choice: clap::ColorChoice) {
    let choice = match choice {
        clap::ColorChoice::Auto => anstream::ColorChoice::Auto,
        clap::ColorChoice::Always => anstream::ColorChoice::Always,
        clap::ColorChoice::Never => anstream::ColorChoice::Never,
    };
    choice.write_global();
}

/// The `--color` of a command line not parsed yet (the last one given, before any
/// `--`), for clap's own help and errors; `auto` when there is none.
pub(crate) fn from_args(args: &[std::ffi::OsString]) -> clap::ColorChoice {
    use clap::ValueEnum as _;
    let mut choice = clap::ColorChoice::Auto;
    let mut args = args.iter().map(|arg| arg.to_str().unwrap_or_default());
    while let Some(arg) = args.next() {
        let value = match arg {
            "--" => break,
            "--color" => args.next(),
            _ => arg.strip_prefix("--color="),
        };
        if let Some(parsed) = value.and_then(|value| clap::ColorChoice::from_str(value, false).ok()) {
            choice = parsed;
        }
    }
    choice
}

/// Where a prefix is printed: each stream is a terminal or not on its own.
#[derive(Clone, Copy)]
pub(crate) enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

impl Stream {
    /// Whether this stream takes colour, decided on first use.
    fn colored(self) -> bool {
        fn takes_color(choice: anstream::ColorChoice) -> bool {
            choice != anstream::ColorChoice::Never
        }
        static STDOUT: OnceLock<bool> = OnceLock::new();
        static STDERR: OnceLock<bool> = OnceLock::new();
        match self {
            Self::Stdout => *STDOUT.get_or_init(|| takes_color(anstream::AutoStream::choice(&std::io::stdout()))),
            Self::Stderr => *STDERR.get_or_init(|| takes_color(anstream::AutoStream::choice(&std::io::stderr()))),
        }
    }
}

/// `error:` or `warning:`, styled when its stream takes colour.
pub(crate) struct Prefix {
    word: &'static str,
    style: Style,
    colored: bool,
}

impl Prefix {
    /// `error:` for `stream`.
    pub(crate) fn error(stream: Stream) -> Self {
        Self { word: "error", style: ERROR, colored: stream.colored() }
    }

    /// `warning:` for `stream`.
    pub(crate) fn warning(stream: Stream) -> Self {
        Self { word: "warning", style: WARNING, colored: stream.colored() }
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.colored {
            write!(f, "{}{}:{}", self.style.render(), self.word, self.style.render_reset())
        } else {
            write!(f, "{}:", self.word)
        }
    }
}

/// A validation problem as [`Problem`]'s `Display` writes it (`error: path:
/// message`), its prefix coloured when standard output takes colour.
pub(crate) fn problem(problem: &Problem) -> String {
    let text = problem.to_string();
    let prefix = match problem.severity {
        Severity::Error => Prefix::error(Stream::Stdout),
        Severity::Warning => Prefix::warning(Stream::Stdout),
    };
    match text.split_once(':') {
        Some((_, rest)) if prefix.colored => format!("{prefix}{rest}"),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_color_flag_is_found_before_parsing() {
        let choice = |args: &[&str]| from_args(&args.iter().map(Into::into).collect::<Vec<_>>());
        assert_eq!(choice(&["proactive", "--help"]), clap::ColorChoice::Auto);
        assert_eq!(choice(&["proactive", "--color", "never", "--help"]), clap::ColorChoice::Never);
        assert_eq!(choice(&["proactive", "send", "--color=always", "-h"]), clap::ColorChoice::Always);
        assert_eq!(choice(&["proactive", "--color=never", "--color", "always"]), clap::ColorChoice::Always);
        assert_eq!(choice(&["proactive", "--color", "sometimes"]), clap::ColorChoice::Auto);
        assert_eq!(choice(&["proactive", "send", "--", "--color=never"]), clap::ColorChoice::Auto);
    }
}
