//! Reading envelopes from files: one JSON envelope per `.json` file, one per
//! line in a `.jsonl` file, JSONL on standard input for `-`.

use std::io::Read;
use std::path::Path;

use proactive_core::Parsed;
use proactive_core::json::parse_str;

/// One envelope read from an input, with where it came from.
pub(crate) struct Item {
    /// The path as given (`-` for standard input).
    pub(crate) file: String,
    /// The 1-based line, for JSONL input.
    pub(crate) line: Option<usize>,
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
        let parsed = parse_str(&text);
        Ok(vec![Item { file: path.to_owned(), line: None, parsed }])
    }
}

/// One item per non-blank line.
fn lines(file: &str, text: &str) -> Vec<Item> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| Item { file: file.to_owned(), line: Some(i + 1), parsed: parse_str(line) })
        .collect()
}
