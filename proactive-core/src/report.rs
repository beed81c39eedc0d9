//! What validation finds: every problem, each with its JSON path.

use std::fmt;

/// How bad a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Amazon would reject the event, or it would reach no one: sending refuses it.
    Error,
    /// The event is sent, but something is probably not what was meant.
    Warning,
}

impl fmt::Display for Severity {
    /// `error` or `warning`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// Which rule a problem breaks. Stable, so tests and tools can match on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Rule {
    /// The input is not JSON, or not the shape of an envelope.
    Json,
    /// A required field is missing.
    MissingField,
    /// A field the schema does not have.
    UnknownField,
    /// A value of the wrong type or outside its enum.
    InvalidValue,
    /// A known misspelling or misplacement, accepted and normalized.
    KnownMistake,
    /// `event.name` is not one of the 8 schemas.
    UnknownEventName,
    /// `referenceId` breaks Amazon's charset or length.
    ReferenceId,
    /// A timestamp without an offset, read as UTC.
    Timestamp,
    /// `expiryTime` is outside `timestamp + 5 min ..= timestamp + 24 h`.
    ExpiryWindow,
    /// `expiryTime` is already past.
    Expired,
    /// `expiryTime` is outside `now + 5 min ..= now + 24 h` at the moment of
    /// sending (Amazon answers 400); an error when sending, a warning offline.
    NowWindow,
    /// Text that looks like a misspelled `localizedattribute:KEY` reference:
    /// Alexa would read it aloud.
    MisspelledReference,
    /// A locale is not `xx-YY`.
    Locale,
    /// The same locale appears twice in `localizedAttributes`.
    DuplicateLocale,
    /// A `localizedattribute:KEY` is not defined in some locale's object.
    UndefinedAttribute,
    /// A key in `localizedAttributes` that the payload never references.
    UnreferencedAttribute,
    /// A localized attribute reference with an invalid key.
    AttributeKey,
    /// `localizedAttributes` is missing from untyped JSON.
    MissingLocalizedAttributes,
    /// A schema that Amazon documents for fewer locales than the event names.
    LocaleSupport,
    /// Per-locale fields of a derived event that do not cover the same locales.
    LocaleCoverage,
    /// `relevantAudience` breaks Unicast/Multicast rules.
    Audience,
    /// A user id without Amazon's `amzn1.ask.account.` prefix.
    UserId,
    /// An array with too few or too many items, or repeated items.
    ArrayBounds,
    /// A number below its minimum.
    NumericBounds,
    /// Empty text where Alexa speaks a value.
    EmptyText,
    /// The request body would be over [`MAX_BODY_BYTES`](crate::MAX_BODY_BYTES).
    BodySize,
}

/// One problem, with the JSON path of the value it concerns.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// Which rule.
    pub rule: Rule,
    /// Where, as a JSON path from the envelope root, such as
    /// `event.payload.alert.garbageTypes` or `localizedAttributes[1].sellerName`.
    pub path: String,
    /// What is wrong and what to change.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}", self.severity, self.message)
        } else {
            write!(f, "{}: {}: {}", self.severity, self.path, self.message)
        }
    }
}

/// Every problem validation found, errors and warnings apart.
///
/// ```
/// use proactive_core::{Envelope, Severity};
///
/// let report = Envelope::from_json(r#"{"referenceId": "x"}"#).unwrap_err();
/// assert!(report.has_errors());
/// for problem in report.errors() {
///     assert_eq!(problem.severity, Severity::Error);
///     println!("{}: {}", problem.path, problem.message); // such as "timestamp: `timestamp` is missing; ..."
/// }
/// // `Display` lists every problem, one per line.
/// assert!(report.to_string().contains("timestamp"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    problems: Vec<Problem>,
}

impl Report {
    /// No problems.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an error.
    pub fn error(&mut self, rule: Rule, path: impl Into<String>, message: impl Into<String>) {
        self.push(Severity::Error, rule, path.into(), message.into());
    }

    /// Adds a warning.
    pub fn warning(&mut self, rule: Rule, path: impl Into<String>, message: impl Into<String>) {
        self.push(Severity::Warning, rule, path.into(), message.into());
    }

    fn push(&mut self, severity: Severity, rule: Rule, path: String, message: String) {
        // A problem quotes what it is about; a huge bad value must not make a huge line.
        let (path, message) = (bound(path), bound(message));
        self.problems.push(Problem { severity, rule, path, message });
    }

    /// Appends another report's problems.
    pub fn extend(&mut self, other: Report) {
        self.problems.extend(other.problems);
    }

    /// Every problem, in the order found.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// The errors.
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(|p| p.severity == Severity::Error)
    }

    /// The warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(|p| p.severity == Severity::Warning)
    }

    /// The warnings, taken out.
    pub(crate) fn into_warnings(self) -> Vec<Problem> {
        let mut problems = self.problems;
        problems.retain(|p| p.severity == Severity::Warning);
        problems
    }

    /// Whether any problem is an error.
    pub fn has_errors(&self) -> bool {
        self.errors().next().is_some()
    }

    /// Whether there is no problem at all.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// Adds an error when a request body of `len` bytes is over
    /// [`MAX_BODY_BYTES`](crate::MAX_BODY_BYTES); returns whether it is within.
    ///
    /// ```
    /// use proactive_core::{MAX_BODY_BYTES, Report, Rule};
    ///
    /// let mut report = Report::new();
    /// assert!(report.check_body_size(MAX_BODY_BYTES));
    /// assert!(!report.check_body_size(MAX_BODY_BYTES + 1));
    /// assert!(report.has(Rule::BodySize, ""));
    /// ```
    pub fn check_body_size(&mut self, len: usize) -> bool {
        let within = len <= crate::MAX_BODY_BYTES;
        if !within {
            self.error(
                Rule::BodySize,
                "",
                format!(
                    "the request body would be {len} bytes, over the limit of {} bytes (1 MiB); \
                     send less text, or split the event",
                    crate::MAX_BODY_BYTES
                ),
            );
        }
        within
    }

    /// The report without the warnings of `rule`: for a warning you have
    /// checked and accept, such as [`Rule::LocaleSupport`] for an event Amazon
    /// documents for en-US only, sent in de-DE. Errors are never left out.
    ///
    /// ```
    /// use proactive_core::{Report, Rule};
    ///
    /// let mut report = Report::new();
    /// report.warning(Rule::LocaleSupport, "localizedAttributes[1].locale", "documented for en-US only");
    /// assert!(!report.is_clean());
    /// assert!(report.allow(Rule::LocaleSupport).is_clean());
    /// ```
    #[must_use]
    pub fn allow(mut self, rule: Rule) -> Self {
        self.problems.retain(|p| p.severity == Severity::Error || p.rule != rule);
        self
    }

    /// Whether some problem breaks `rule` at `path`.
    pub fn has(&self, rule: Rule, path: &str) -> bool {
        self.problems.iter().any(|p| p.rule == rule && p.path == path)
    }
}

/// The longest quoted value a problem shows whole.
const QUOTE_LIMIT: usize = 64;
/// The longest path or message a problem keeps whole.
const MESSAGE_LIMIT: usize = 480;

/// `text`, or its first [`QUOTE_LIMIT`] characters and how much was left out:
/// for quoting a value of unknown size in a message.
pub(crate) fn clip(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(QUOTE_LIMIT) {
        None => std::borrow::Cow::Borrowed(text),
        Some((end, _)) => format!("{}… ({} bytes in all)", &text[..end], text.len()).into(),
    }
}

/// `text` with any `quoted` part over [`QUOTE_LIMIT`] characters clipped, and
/// the whole kept under [`MESSAGE_LIMIT`] bytes by leaving out its middle (the
/// end usually says what to do).
fn bound(text: String) -> String {
    if text.len() <= MESSAGE_LIMIT {
        return text;
    }
    let mut out = String::with_capacity(MESSAGE_LIMIT + 64);
    for (i, part) in text.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        out.push_str(if i % 2 == 1 { clip(part) } else { part.into() }.as_ref());
    }
    if out.len() <= MESSAGE_LIMIT {
        return out;
    }
    let boundary = |mut at: usize| {
        while !out.is_char_boundary(at) {
            at += 1;
        }
        at
    };
    let head = boundary(MESSAGE_LIMIT * 2 / 3);
    let tail = boundary(out.len() - MESSAGE_LIMIT / 3).max(head);
    format!("{} … ({} bytes left out) … {}", &out[..head], tail - head, &out[tail..])
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.problems.is_empty() {
            return f.write_str("ok");
        }
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl IntoIterator for Report {
    type Item = Problem;
    type IntoIter = std::vec::IntoIter<Problem>;

    fn into_iter(self) -> Self::IntoIter {
        self.problems.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_quoted_value_is_clipped() {
        let mut report = Report::new();
        let huge = "x".repeat(10_000_000);
        report.error(Rule::InvalidValue, "a", format!("`{huge}` is not a value of this field; use `A` or `B`"));
        let message = &report.problems()[0].message;
        assert!(message.len() < MESSAGE_LIMIT, "{}", message.len());
        assert!(message.starts_with(&format!("`{}… (10000000 bytes in all)`", "x".repeat(QUOTE_LIMIT))), "{message}");
        assert!(message.ends_with("use `A` or `B`"), "{message}");
    }

    #[test]
    fn a_huge_unquoted_message_keeps_its_start_and_end() {
        let mut report = Report::new();
        let long = format!("start {} end", "é ".repeat(10_000));
        report.error(Rule::InvalidValue, "p".repeat(5000), long);
        let problem = &report.problems()[0];
        assert!(problem.message.starts_with("start é") && problem.message.ends_with(" end"), "{}", problem.message);
        assert!(problem.message.contains("bytes left out") && problem.message.len() < 2 * MESSAGE_LIMIT);
        assert!(problem.path.len() < 2 * MESSAGE_LIMIT);
    }

    #[test]
    fn short_messages_are_kept_whole() {
        let mut report = Report::new();
        report.error(Rule::InvalidValue, "a.b", "`x` is not a value");
        assert_eq!(report.problems()[0].message, "`x` is not a value");
    }
}
