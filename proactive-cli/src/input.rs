//! Reading envelopes as a stream: one JSON envelope per `.json` file, one per
//! line in a `.jsonl` file, JSONL on standard input for `-`.
//!
//! Input is read through a bounded buffer, one line at a time, so memory does
//! not grow with the file. Every problem is the problem of one line, which is
//! then an invalid event; the rest of the file is still read: a line over
//! [`MAX_LINE_BYTES`] (skipped without being held), invalid UTF-8 (with its byte
//! offset), malformed JSON, a repeated key. A UTF-8 byte order mark at the start
//! is skipped with a warning.
//!
//! A line written by `proactive send --failed` (`{"source", "error", "envelope"}`)
//! is read as its envelope, so a file of failed events can be sent again as is.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use proactive_core::client::PreparedEnvelope;
use proactive_core::json::{parse_slice, parse_str};
use proactive_core::{MAX_BODY_BYTES, Parsed, Report, Rule};
use serde_json::value::RawValue;

/// The longest input line (or `.json` file) read: the body limit, plus room for
/// the wrapper of a `--failed` line and for whitespace. An envelope that is over
/// the body limit once written compactly is reported by validation.
pub(crate) const MAX_LINE_BYTES: usize = MAX_BODY_BYTES + 64 * 1024;

/// The read buffer: large enough for a typical line many times over, small
/// enough not to matter.
const BUFFER_BYTES: usize = 256 * 1024;

/// One envelope read from an input, with where it came from.
pub(crate) struct Item {
    /// The path as given (`-` for standard input).
    pub(crate) file: Arc<str>,
    /// The 1-based line, for JSONL input.
    pub(crate) line: Option<usize>,
    /// The envelope's JSON text as read (for `--failed`), `None` when it could not be kept
    /// (a line over the limit, invalid UTF-8).
    pub(crate) text: Option<Box<str>>,
    /// The parse result and its report.
    pub(crate) parsed: Parsed,
}

impl Item {
    /// `file` or `file:line`.
    pub(crate) fn location(&self) -> String {
        match self.line {
            Some(line) => format!("{}:{line}", self.file),
            None => self.file.to_string(),
        }
    }

    /// Whether the envelope may be sent: read, and no error.
    pub(crate) fn is_valid(&self) -> bool {
        self.parsed.envelope.is_some() && !self.parsed.report.has_errors()
    }

    /// Parses `text`; keeps it (for `--failed`) when `keep` says so.
    fn new(file: &Arc<str>, line: Option<usize>, text: String, keep: bool) -> Self {
        let (parsed, len, kept) = match failed_line(&text) {
            Some(envelope) => (parse_str(envelope), envelope.len(), keep.then(|| envelope.into())),
            None => (parse_str(&text), text.len(), keep.then(|| text.into_boxed_str())),
        };
        Self::parsed(file, line, parsed, len, kept)
    }

    /// The item of an envelope `len` bytes long, read into `parsed`.
    fn parsed(file: &Arc<str>, line: Option<usize>, mut parsed: Parsed, len: usize, kept: Option<Box<str>>) -> Self {
        if let Some(envelope) = &parsed.envelope
            && len > MAX_BODY_BYTES / 2
        {
            // Only a large input can make a large body: serialize to know exactly.
            parsed.report.check_body_size(envelope.to_vec().len());
        }
        Self { file: Arc::clone(file), line, text: kept, parsed }
    }

    /// An item that could not even be parsed: `message` says why.
    fn unreadable(file: &Arc<str>, line: Option<usize>, rule: Rule, message: String) -> Self {
        let mut report = Report::new();
        report.error(rule, "", message);
        Self { file: Arc::clone(file), line, text: None, parsed: Parsed { envelope: None, report } }
    }
}

/// How a line of `proactive send --failed` output starts.
const FAILED_PREFIX: &str = r#"{"source":"#;

/// The envelope of a line of `proactive send --failed` output, or `None` for any other line.
fn failed_line(text: &str) -> Option<&str> {
    if !text.starts_with(FAILED_PREFIX) {
        return None;
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Failed<'a> {
        source: serde::de::IgnoredAny,
        error: serde::de::IgnoredAny,
        #[serde(borrow)]
        envelope: &'a RawValue,
    }
    serde_json::from_str::<Failed<'_>>(text).ok().map(|failed| failed.envelope.get())
}

/// A stream of items from one path; a warning (the byte order mark) goes to standard error.
pub(crate) struct Input {
    file: Arc<str>,
    reader: Box<dyn BufRead + Send>,
    jsonl: bool,
    line: usize,
    buffer: Vec<u8>,
    done: bool,
    /// How many items were yielded.
    pub(crate) items: usize,
}

impl Input {
    /// Opens `path` (`-`: standard input); the error is a message naming the path.
    pub(crate) fn open(path: &str) -> Result<Self, String> {
        let (reader, jsonl): (Box<dyn BufRead + Send>, bool) = if path == "-" {
            (Box::new(BufReader::with_capacity(BUFFER_BYTES, io::stdin())), true)
        } else {
            let file = File::open(path).map_err(|e| format!("cannot read `{path}`: {e}"))?;
            if file.metadata().is_ok_and(|m| m.is_dir()) {
                return Err(format!("cannot read `{path}`: it is a directory"));
            }
            let jsonl = Path::new(path).extension().is_some_and(|ext| ext == "jsonl" || ext == "ndjson");
            (Box::new(BufReader::with_capacity(BUFFER_BYTES, file)), jsonl)
        };
        Ok(Self { file: path.into(), reader, jsonl, line: 0, buffer: Vec::new(), done: false, items: 0 })
    }

    /// The path as given.
    pub(crate) fn file(&self) -> &str {
        &self.file
    }

    /// The next item, `Ok(None)` at the end, or an I/O error as a message.
    pub(crate) fn next_item(&mut self) -> Result<Option<Item>, String> {
        Ok(self.next_raw()?.map(|raw| raw.parse(true)))
    }

    /// The next line (or file) as read, not parsed yet: parsing can happen on
    /// another thread. `Ok(None)` at the end, or an I/O error as a message.
    pub(crate) fn next_raw(&mut self) -> Result<Option<Raw>, String> {
        while !self.done {
            self.line += 1;
            let read = read_line(&mut self.reader, &mut self.buffer, self.jsonl.then_some(b'\n'))
                .map_err(|e| format!("cannot read `{}`: {e}", self.file))?;
            let line = self.jsonl.then_some(self.line);
            let raw = |content| Raw { file: Arc::clone(&self.file), line, content };
            let bytes = match read {
                Line::End => break,
                Line::Last => {
                    self.done = true;
                    self.buffer.as_slice()
                }
                Line::Ended => self.buffer.as_slice(),
                Line::TooLong(len) => {
                    self.done |= !self.jsonl;
                    self.items += 1;
                    return Ok(Some(raw(Content::TooLong(len))));
                }
            };
            let bytes = if self.line == 1 && bytes.starts_with(BOM) {
                warning!("`{}` starts with a UTF-8 byte order mark; skipped it", self.file);
                &bytes[BOM.len()..]
            } else {
                bytes
            };
            if bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            self.items += 1;
            return Ok(Some(raw(Content::Bytes(bytes.to_vec()))));
        }
        self.done = true;
        Ok(None)
    }
}

/// One line (or file) as read; [`parse`](Self::parse) makes it an [`Item`].
pub(crate) struct Raw {
    file: Arc<str>,
    line: Option<usize>,
    content: Content,
}

enum Content {
    Bytes(Vec<u8>),
    TooLong(usize),
}

/// A line (or file) prepared for sending straight from the bytes read.
pub(crate) struct Ready {
    pub(crate) file: Arc<str>,
    pub(crate) line: Option<usize>,
    /// The bytes read (valid UTF-8): the body itself, or what it was written from.
    pub(crate) text: Bytes,
    pub(crate) prepared: PreparedEnvelope,
}

impl Ready {
    /// The line as read, for [`Raw::parse`] to make an [`Item`] of.
    pub(crate) fn into_raw(self) -> Raw {
        let Self { file, line, text, prepared } = self;
        // The last other holder of the bytes: the conversion then copies nothing.
        drop(prepared);
        Raw { file, line, content: Content::Bytes(Vec::from(text)) }
    }
}

impl Raw {
    /// The envelope prepared for sending straight from the bytes read, with one
    /// parse ([`PreparedEnvelope::from_bytes`]: a line that says exactly what its
    /// envelope says is the body as it is); or the line back when it is not a
    /// valid envelope, or is a `--failed` line, for [`parse`](Self::parse).
    pub(crate) fn prepare(self) -> Result<Ready, Raw> {
        let Self { file, line, content } = self;
        let bytes = match content {
            Content::Bytes(bytes) if !bytes.starts_with(FAILED_PREFIX.as_bytes()) => Bytes::from(bytes),
            content => return Err(Self { file, line, content }),
        };
        match PreparedEnvelope::from_bytes(bytes.clone()) {
            Ok(prepared) => Ok(Ready { file, line, text: bytes, prepared }),
            // The other holder is gone: the conversion copies nothing.
            Err(_) => Err(Self { file, line, content: Content::Bytes(Vec::from(bytes)) }),
        }
    }

    /// Parses and validates the envelope; [`Item::text`] is kept when `keep_text` says so.
    pub(crate) fn parse(self, keep_text: bool) -> Item {
        let Self { file, line, content } = self;
        let what = if line.is_some() { "line" } else { "file" };
        let bytes = match content {
            Content::Bytes(bytes) => bytes,
            Content::TooLong(len) => {
                return Item::unreadable(
                    &file,
                    line,
                    Rule::BodySize,
                    format!(
                        "the {what} is {len} bytes or more, over the limit of {MAX_LINE_BYTES} bytes \
                         (the request body limit is {MAX_BODY_BYTES}); skipped"
                    ),
                );
            }
        };
        if !keep_text && !bytes.starts_with(FAILED_PREFIX.as_bytes()) {
            // The JSON reader checks UTF-8 as it reads: a line it reads into an
            // envelope is valid UTF-8, so only one it cannot read is checked
            // again, for the clearer message below.
            let parsed = parse_slice(&bytes);
            if parsed.envelope.is_some() || std::str::from_utf8(&bytes).is_ok() {
                return Item::parsed(&file, line, parsed, bytes.len(), None);
            }
        }
        match String::from_utf8(bytes) {
            Ok(text) => Item::new(&file, line, text, keep_text),
            Err(error) => Item::unreadable(
                &file,
                line,
                Rule::Json,
                format!("invalid UTF-8 at byte {} of the {what}; JSON must be UTF-8", error.utf8_error().valid_up_to()),
            ),
        }
    }
}

impl Iterator for Input {
    type Item = Result<Item, String>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_item().transpose()
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// What [`read_line`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line {
    /// A line ended by the delimiter (not included) is in the buffer.
    Ended,
    /// The last line, without a delimiter, is in the buffer.
    Last,
    /// Nothing more.
    End,
    /// A line over [`MAX_LINE_BYTES`]: skipped up to its delimiter, not kept; the length read.
    TooLong(usize),
}

/// Reads up to `delimiter` (or to the end, for `None`) into `buffer`, never
/// holding more than [`MAX_LINE_BYTES`]: a longer line is read to its end and dropped.
pub(crate) fn read_line(reader: &mut dyn BufRead, buffer: &mut Vec<u8>, delimiter: Option<u8>) -> io::Result<Line> {
    buffer.clear();
    let mut skipped: Option<usize> = None;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if available.is_empty() {
            return Ok(match skipped {
                Some(len) => Line::TooLong(len),
                None if buffer.is_empty() => Line::End,
                None => Line::Last,
            });
        }
        let (chunk, found) = match delimiter.and_then(|delimiter| memchr::memchr(delimiter, available)) {
            Some(at) => (&available[..at], true),
            None => (available, false),
        };
        let used = chunk.len() + usize::from(found);
        match &mut skipped {
            Some(len) => *len += chunk.len(),
            None if buffer.len() + chunk.len() > MAX_LINE_BYTES => {
                skipped = Some(buffer.len() + chunk.len());
                buffer.clear();
                buffer.shrink_to(BUFFER_BYTES);
            }
            None => buffer.extend_from_slice(chunk),
        }
        reader.consume(used);
        if found {
            return Ok(match skipped {
                Some(len) => Line::TooLong(len),
                None => Line::Ended,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[u8], capacity: usize) -> Vec<Line> {
        let mut reader = BufReader::with_capacity(capacity, text);
        let mut buffer = Vec::new();
        let mut out = Vec::new();
        loop {
            let line = read_line(&mut reader, &mut buffer, Some(b'\n')).unwrap();
            if line == Line::End {
                return out;
            }
            out.push(line);
        }
    }

    #[test]
    fn lines_are_split_at_newlines_whatever_the_buffer() {
        for capacity in [1, 3, 64] {
            assert_eq!(lines(b"a\nbc\n\nd", capacity), [Line::Ended, Line::Ended, Line::Ended, Line::Last]);
        }
    }

    #[test]
    fn a_line_over_the_limit_is_skipped_and_the_next_read() {
        let mut text = vec![b'x'; MAX_LINE_BYTES + 10];
        text.extend_from_slice(b"\n{}\n");
        let mut reader = BufReader::with_capacity(4096, text.as_slice());
        let mut buffer = Vec::new();
        assert_eq!(read_line(&mut reader, &mut buffer, Some(b'\n')).unwrap(), Line::TooLong(MAX_LINE_BYTES + 10));
        assert!(buffer.capacity() <= MAX_LINE_BYTES + 4096, "the long line was not kept");
        assert_eq!(read_line(&mut reader, &mut buffer, Some(b'\n')).unwrap(), Line::Ended);
        assert_eq!(buffer, b"{}");
    }

    #[test]
    fn a_failed_line_is_read_as_its_envelope() {
        let line = r#"{"source":"a.jsonl:3","error":{"message":"x"},"envelope":{"referenceId":"r"}}"#;
        assert_eq!(failed_line(line), Some(r#"{"referenceId":"r"}"#));
        assert_eq!(failed_line(r#"{"source":"a","error":1,"envelope":{},"more":2}"#), None);
        assert_eq!(failed_line(r#"{"referenceId":"r"}"#), None);
    }
}
