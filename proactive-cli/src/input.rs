//! Reading envelopes from files: one JSON envelope per `.json` file, one per
//! line in a `.jsonl` file, JSONL on standard input for `-`.
//!
//! A line written by `proactive send --failed` (`{"source", "error", "envelope"}`)
//! is read as its envelope, so a file of failed events can be sent again as is.

use std::io::Read;
use std::path::Path;

use proactive_core::Parsed;
use proactive_core::json::{parse_str, parse_value};
use serde_json::Value;

/// One envelope read from an input, with where it came from.
pub(crate) struct Item {
    /// The path as given (`-` for standard input).
    pub(crate) file: String,
    /// The 1-based line, for JSONL input.
    pub(crate) line: Option<usize>,
    /// The envelope as JSON, or the raw text when it is not JSON.
    pub(crate) value: Value,
    /// The parse result and its report.
    pub(crate) parsed: Parsed,
}

impl Item {
    /// `file` or `file:line`.
    pub(crate) fn location(&self) -> String {
        match self.line {
            Some(line) => format!("{}:{line}", self.file),
            None => self.file.clone(),
        }
    }

    fn new(file: &str, line: Option<usize>, text: &str) -> Self {
        let (value, parsed) = match serde_json::from_str::<Value>(text) {
            // Not JSON: the reader's report gives the line and column.
            Err(_) => (Value::String(text.to_owned()), parse_str(text)),
            Ok(Value::Object(mut failed)) if is_failed_line(&failed) => {
                let envelope = failed.remove("envelope").unwrap_or(Value::Null);
                (envelope.clone(), parse_value(envelope))
            }
            Ok(value) => (value.clone(), parse_value(value)),
        };
        Self { file: file.to_owned(), line, value, parsed }
    }
}

/// A line of `proactive send --failed` output.
fn is_failed_line(object: &serde_json::Map<String, Value>) -> bool {
    object.len() == 3
        && object.contains_key("source")
        && object.contains_key("error")
        && object.contains_key("envelope")
}

/// Reads every envelope from `path`; an I/O error is returned as a message.
pub(crate) fn read(path: &str) -> Result<Vec<Item>, String> {
    if path == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| format!("cannot read standard input: {e}"))?;
        return Ok(lines("-", &text));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read `{path}`: {e}"))?;
    if Path::new(path).extension().is_some_and(|ext| ext == "jsonl" || ext == "ndjson") {
        Ok(lines(path, &text))
    } else {
        Ok(vec![Item::new(path, None, &text)])
    }
}

/// One item per non-blank line.
fn lines(file: &str, text: &str) -> Vec<Item> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| Item::new(file, Some(i + 1), line))
        .collect()
}
