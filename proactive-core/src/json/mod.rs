//! Untyped JSON in: one envelope, exactly as it would be POSTed to Amazon, read
//! into the typed model with a report of every problem.
//!
//! The reader is lenient where the Decisions table says so (known misspellings,
//! the seed's placement of `relationshipToInvitee`, a Multicast without payload,
//! timestamps without an offset, a missing `localizedAttributes`): it normalizes
//! the value to Amazon's form and reports a warning. Everything else that is wrong
//! is an error with the JSON path and, where one is close, a suggestion.
//!
//! Where each part lives: this file has the entry points and [`Parsed`];
//! `envelope.rs` reads the envelope's own fields (times, `referenceId`) and puts
//! the envelope together; `payload.rs` walks `event.payload` over the schema
//! table; `attributes.rs` reads `localizedAttributes`; `audience.rs` reads
//! `relevantAudience`. Malformed JSON and duplicate keys are caught before any
//! of them, by the strict parser (`crate::strict`). `fast.rs` is the fast path
//! tried first: a valid envelope read straight into the typed model, leaving
//! everything else to the reader above.

use serde_json::{Map, Value};

use crate::Envelope;
use crate::report::{Report, Rule};
use crate::suggest::did_you_mean;

mod attributes;
mod audience;
mod envelope;
mod fast;
mod payload;

/// What reading untyped JSON gave: the typed envelope when the input could be
/// read into one, and every problem found.
///
/// ```
/// use proactive_core::json::parse_str;
///
/// // The envelope is kept when there are only warnings; `into_result` says which.
/// let parsed = parse_str(r#"{"event": {"name": "AMAZON.Pizza.Delivered", "payload": {}}}"#);
/// assert!(parsed.envelope.is_none());
/// let report = parsed.into_result().unwrap_err();
/// assert!(report.errors().any(|problem| problem.path == "event.name"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// The envelope, normalized to Amazon's form; `None` when the input is too
    /// broken to make one (the report says why).
    pub envelope: Option<Envelope>,
    /// Every error and warning, each with its JSON path.
    pub report: Report,
}

impl Parsed {
    /// The envelope and its warnings, or the report when anything is an error.
    pub fn into_result(self) -> Result<(Envelope, Report), Report> {
        match self.envelope {
            Some(envelope) if !self.report.has_errors() => Ok((envelope, self.report)),
            _ => Err(self.report),
        }
    }
}

impl Envelope {
    /// Reads one envelope from JSON text and validates it: the typed envelope
    /// with its warnings, or a report of every problem when anything is an error.
    ///
    /// Malformed JSON is reported with its line and column. No input panics.
    ///
    /// ```
    /// use proactive_core::{Envelope, Rule};
    ///
    /// let text = r#"{
    ///     "timestamp": "2026-03-01T08:00:00Z",
    ///     "referenceId": "order-1234",
    ///     "expiryTime": "2026-03-01T20:00:00Z",
    ///     "event": {
    ///         "name": "AMAZON.WeatherAlert.Activated",
    ///         "payload": {"weatherAlert": {"alertType": "TORNADO"}}
    ///     },
    ///     "localizedAttributes": [],
    ///     "relevantAudience": {"type": "Multicast", "payload": {}}
    /// }"#;
    /// let (envelope, warnings) = Envelope::from_json(text).expect("a valid envelope");
    /// assert!(warnings.is_clean());
    /// assert_eq!(envelope.reference_id.as_str(), "order-1234");
    ///
    /// // A typo is an error with its JSON path and a suggestion.
    /// let report = Envelope::from_json(&text.replace("alertType", "alertTyp")).unwrap_err();
    /// let error = report.errors().next().unwrap();
    /// assert_eq!(error.rule, Rule::UnknownField);
    /// assert_eq!(error.path, "event.payload.weatherAlert.alertTyp");
    /// assert!(error.message.contains("did you mean `alertType`?"), "{}", error.message);
    /// ```
    pub fn from_json(text: &str) -> Result<(Envelope, Report), Report> {
        parse_str(text).into_result()
    }

    /// [`from_json`](Self::from_json) for bytes (a line of a file, an HTTP
    /// body); invalid UTF-8 is an error with its byte offset.
    ///
    /// ```
    /// use proactive_core::Envelope;
    ///
    /// let report = Envelope::from_slice(b"{\"timestamp\": \"\xff\"}").unwrap_err();
    /// assert!(report.has_errors());
    /// ```
    pub fn from_slice(bytes: &[u8]) -> Result<(Envelope, Report), Report> {
        parse_slice(bytes).into_result()
    }
}

/// Reads one envelope from JSON text; see [`Parsed`].
///
/// ```
/// use proactive_core::json::parse_str;
///
/// // Too broken for an envelope, but every problem is reported, with its path.
/// let parsed = parse_str(r#"{"timestamp": "yesterday"}"#);
/// assert!(parsed.envelope.is_none());
/// assert!(parsed.report.errors().any(|problem| problem.path == "timestamp"));
/// ```
pub fn parse_str(text: &str) -> Parsed {
    parse_slice(text.as_bytes())
}

/// Reads one envelope from JSON bytes (which must be UTF-8); see [`Parsed`].
/// An object with the same key twice is an error naming the key.
pub fn parse_slice(bytes: &[u8]) -> Parsed {
    // A valid envelope goes straight into the typed model; anything else is
    // read, and reported on, by the untyped reader.
    fast::parse(bytes).unwrap_or_else(|| parse_slice_untyped(bytes))
}

/// Reads `bytes` on the fast path only: the envelope and its warnings when it
/// is a valid envelope written exactly as the typed model reads it (every field
/// Amazon's and present, nothing misspelled or moved, every time with its
/// offset, no `null`, no duplicate key), so that the bytes say exactly what the
/// envelope says; `None` for anything else.
pub(crate) fn parse_exact(bytes: &[u8]) -> Option<Parsed> {
    fast::parse(bytes)
}

/// [`parse_slice`] without its fast path: the untyped reader alone. Not a
/// public API; the tests compare the two.
#[doc(hidden)]
pub fn parse_slice_untyped(bytes: &[u8]) -> Parsed {
    match crate::strict::from_slice(bytes) {
        Ok(value) => parse_value(value),
        Err(error) => {
            let mut report = Report::new();
            let what = match error.classify() {
                serde_json::error::Category::Eof => "the JSON ends early",
                _ => "invalid JSON",
            };
            let detail = error.to_string();
            let detail = detail.split(" at line ").next().unwrap_or(&detail);
            report.error(
                Rule::Json,
                "",
                format!("{what} at line {} column {}: {detail}", error.line(), error.column()),
            );
            Parsed { envelope: None, report }
        }
    }
}

/// Reads one envelope from an already parsed JSON value; see [`Parsed`].
pub fn parse_value(value: Value) -> Parsed {
    let mut report = Report::new();
    let envelope = Reader { report: &mut report }.envelope(value);
    Parsed { envelope, report }
}

/// Reads one envelope out of a JSON value, reporting into `report`. Its methods
/// are spread over this module's files, one concern each.
struct Reader<'r> {
    report: &'r mut Report,
}

impl Reader<'_> {
    /// Reports every key of `object` (at `at`) but the `allowed` ones, which are
    /// all that `what` has.
    pub(super) fn only_fields(&mut self, object: &Map<String, Value>, at: &str, what: &str, allowed: &[&str]) {
        for key in object.keys() {
            if !allowed.contains(&key.as_str()) {
                let only = allowed.iter().map(|field| format!("`{field}`")).collect::<Vec<_>>().join(" and ");
                self.report.error(
                    Rule::UnknownField,
                    format!("{at}.{key}"),
                    format!(
                        "unknown field `{key}`; {what} has only {only}{}",
                        did_you_mean(key, allowed.iter().copied())
                    ),
                );
            }
        }
    }

    /// Reports that `path` is missing; `what` says what Amazon expects there.
    pub(super) fn missing(&mut self, path: &str, what: &str) {
        self.report.error(Rule::MissingField, path, format!("`{path}` is missing; {what}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message of the error at `path`.
    fn error_at(value: Value, path: &str) -> String {
        let parsed = parse_value(value);
        let error = parsed.report.errors().find(|problem| problem.path == path);
        error.unwrap_or_else(|| panic!("no error at `{path}`: {:?}", parsed.report)).message.clone()
    }

    #[test]
    fn unknown_fields_name_the_fields_there_are() {
        let value = serde_json::json!({
            "event": {"name": "AMAZON.WeatherAlert.Activated", "payload": {}, "nmae": 1},
            "relevantAudience": {"type": "Unicast", "payload": {"usr": "x"}, "typ": 1},
        });
        assert_eq!(
            error_at(value.clone(), "event.nmae"),
            "unknown field `nmae`; an event has only `name` and `payload`; did you mean `name`?"
        );
        assert_eq!(
            error_at(value.clone(), "relevantAudience.typ"),
            "unknown field `typ`; an audience has only `type` and `payload`; did you mean `type`?"
        );
        assert_eq!(
            error_at(value, "relevantAudience.payload.usr"),
            "unknown field `usr`; a Unicast payload has only `user`; did you mean `user`?"
        );
        let far = serde_json::json!({"relevantAudience": {"type": "Multicast", "payload": {}, "zzzzzz": 1}});
        assert_eq!(
            error_at(far, "relevantAudience.zzzzzz"),
            "unknown field `zzzzzz`; an audience has only `type` and `payload`"
        );
    }
}
