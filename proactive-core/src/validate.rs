//! Validation of a typed envelope: every rule of the Decisions table that a typed
//! value can still break. (What types rule out, such as a malformed reference id
//! or locale or a duplicate locale, is checked where untyped JSON is read.)
//!
//! Each check is a function of the part it checks, so that the untyped reader
//! runs the same checks on the parts it could read when the whole envelope
//! could not be typed: a report never depends on which problem is fixed first.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::report::{Report, Rule};
use crate::schemas::{AttributeKey, LocalizedText, Violation, Visitor};
use crate::schemas::{EventName, LOCALIZED_ATTRIBUTE_PREFIX};
use crate::{Audience, Envelope, MAX_EXPIRY, MIN_EXPIRY, UserId};

impl Envelope {
    /// Checks every rule and returns every problem, each with its JSON path.
    ///
    /// This does not read the clock; [`validate_at`](Self::validate_at) also
    /// checks that the event has not expired.
    ///
    /// ```
    /// # use proactive_core::schemas::WeatherAlertActivated;
    /// # use proactive_core::schemas::weather_alert_activated::{WeatherAlert, WeatherAlertType};
    /// use chrono::Duration;
    /// use proactive_core::{Audience, Envelope, Rule};
    ///
    /// # let alert = WeatherAlertActivated::builder()
    /// #     .weather_alert(WeatherAlert::builder().alert_type(WeatherAlertType::Tornado).build())
    /// #     .build();
    /// let envelope = Envelope::builder(&alert, Audience::Multicast).build();
    /// assert!(envelope.validate().is_clean());
    ///
    /// // Amazon wants the expiry 5 minutes to 24 hours after the timestamp.
    /// let late = Envelope { expiry_time: envelope.timestamp + Duration::hours(25), ..envelope };
    /// let report = late.validate();
    /// let error = report.errors().next().unwrap();
    /// assert_eq!((error.rule, error.path.as_str()), (Rule::ExpiryWindow, "expiryTime"));
    /// ```
    pub fn validate(&self) -> Report {
        let mut report = Report::new();
        check_expiry_window(self.timestamp, self.expiry_time, &mut report);
        let (references, intended) = self.check_payload(&mut report);
        let attributes = &self.localized_attributes;
        check_localized_attributes(
            self.event.name(),
            attributes.iter().enumerate().map(|(index, (locale, keys))| LocaleKeys {
                index,
                locale: locale.as_str(),
                first_valid: true,
                keys,
            }),
            attributes.is_empty(),
            &References { keys: &references, intended: &intended },
            &mut report,
        );
        check_audience(&self.audience, &mut report);
        report
    }

    /// [`validate`](Self::validate), plus what depends on the moment of
    /// sending, `now`: an expiry already past is [`Rule::Expired`]; one less
    /// than 5 minutes or more than 24 hours after `now` is [`Rule::NowWindow`]
    /// (Amazon answers 400 for both). The client refuses to send either.
    pub fn validate_at(&self, now: DateTime<Utc>) -> Report {
        let mut report = self.validate();
        check_sending_time(self.expiry_time, now, &mut report);
        report
    }

    /// Walks the payload; returns the attribute keys it references, sorted and
    /// distinct, and the keys its misspelled references meant.
    fn check_payload<'a>(&'a self, report: &mut Report) -> (Vec<&'a AttributeKey>, Vec<AttributeKey>) {
        let mut walker = PayloadWalker { report, references: Vec::new(), intended: Vec::new() };
        self.event.visit(&mut walker);
        let mut references = walker.references;
        references.sort_unstable();
        references.dedup();
        (references, walker.intended)
    }
}

/// A Unicast's user id without Amazon's prefix is a warning.
pub(crate) fn check_audience(audience: &Audience, report: &mut Report) {
    if let Audience::Unicast(user) = audience
        && !user.as_str().starts_with(UserId::PREFIX)
    {
        report.warning(
            Rule::UserId,
            "relevantAudience.payload.user",
            format!(
                "the user id does not start with `{}`; real ids come from `context.System.user.userId`",
                UserId::PREFIX
            ),
        );
    }
}

/// What depends on the moment of sending, `now`: an expiry already past is
/// [`Rule::Expired`]; one outside the now-window is [`Rule::NowWindow`].
pub(crate) fn check_sending_time(expiry_time: DateTime<Utc>, now: DateTime<Utc>, report: &mut Report) {
    if expiry_time <= now {
        report.error(
            Rule::Expired,
            "expiryTime",
            format!(
                "the event expired at {} (now is {}); set a later expiryTime or a fresh timestamp, \
                 or re-stamp it (`Envelope::restamp`, `proactive send --restamp`)",
                expiry_time.to_rfc3339(),
                now.to_rfc3339()
            ),
        );
    } else if let Err(outside) = crate::window::now_window(expiry_time, now) {
        report.error(Rule::NowWindow, "expiryTime", outside.to_string());
    }
}

/// `timestamp + 5 min <= expiryTime <= timestamp + 24 h`, both inclusive. The
/// message says by how much the window is missed, rounded for a person.
pub(crate) fn check_expiry_window(timestamp: DateTime<Utc>, expiry_time: DateTime<Utc>, report: &mut Report) {
    let window = expiry_time - timestamp;
    if (MIN_EXPIRY..=MAX_EXPIRY).contains(&window) {
        return;
    }
    let (earliest, latest) = ((timestamp + MIN_EXPIRY).to_rfc3339(), (timestamp + MAX_EXPIRY).to_rfc3339());
    let message = if window > MAX_EXPIRY {
        format!(
            "expiryTime is {} after the timestamp, {} more than the 24 hours allowed; set it at most 24 h after \
             the timestamp (at the latest {latest})",
            describe(window),
            describe(window - MAX_EXPIRY)
        )
    } else if window < chrono::Duration::zero() {
        format!(
            "expiryTime is {} before the timestamp; set it between 5 minutes and 24 hours after the timestamp \
             (between {earliest} and {latest})",
            describe(-window)
        )
    } else {
        format!(
            "expiryTime is only {} after the timestamp, {} less than the 5 minutes required; set it between \
             5 minutes and 24 hours after the timestamp (between {earliest} and {latest})",
            describe(window),
            describe(MIN_EXPIRY - window)
        )
    };
    report.error(Rule::ExpiryWindow, "expiryTime", message);
}

/// What the payload references: the keys of its `localizedattribute:KEY`
/// values, and the keys its misspelled references meant (reported already;
/// such a key is not "never referenced", and need not be defined).
pub(crate) struct References<'k> {
    pub(crate) keys: &'k [&'k AttributeKey],
    pub(crate) intended: &'k [AttributeKey],
}

/// One object of `localizedAttributes`, as its checks see it.
pub(crate) struct LocaleKeys<'a> {
    /// Its index in the array as written.
    pub(crate) index: usize,
    /// Its `locale`, as written (the untyped reader also checks the keys of an
    /// object whose locale is invalid or repeated, reported already).
    pub(crate) locale: &'a str,
    /// Whether the locale is valid and the first of its name: only such a
    /// locale is compared with the schema's documented locales.
    pub(crate) first_valid: bool,
    /// Its valid keys, with their text.
    pub(crate) keys: &'a BTreeMap<AttributeKey, String>,
}

/// Every referenced key defined in every locale; unreferenced keys, empty text
/// and locales the schema is not documented for are warnings. `attributes` are
/// the locale objects (the reader leaves out those it could not read);
/// `empty` says whether the array had no object at all.
pub(crate) fn check_localized_attributes<'a>(
    name: EventName,
    attributes: impl IntoIterator<Item = LocaleKeys<'a>>,
    empty: bool,
    references: &References<'_>,
    report: &mut Report,
) {
    let (intended, references) = (references.intended, references.keys);
    if empty && !references.is_empty() {
        report.error(
            Rule::UndefinedAttribute,
            "localizedAttributes",
            format!(
                "the payload references {} but localizedAttributes is empty; add one object per locale defining {}",
                list(references.iter().map(|k| format!("`localizedattribute:{k}`"))),
                list(references.iter().map(|k| format!("`{k}`")))
            ),
        );
        return;
    }
    let supported = name.schema().locales;
    for LocaleKeys { index, locale, first_valid, keys } in attributes {
        // Built only for a problem: a valid envelope costs no formatting.
        let at = |rest: &str| format!("localizedAttributes[{index}].{rest}");
        for key in references {
            if !keys.contains_key(*key) {
                let defined =
                    keys.keys().map(AttributeKey::as_str).filter(|k| !references.iter().any(|r| r.as_str() == *k));
                let hint = match crate::suggest::closest(key.as_str(), defined) {
                    Some(close) if close.eq_ignore_ascii_case(key.as_str()) => {
                        format!("; did you mean `{close}`, defined here? Keys are case-sensitive")
                    }
                    Some(close) => format!("; did you mean `{close}`, defined here?"),
                    None => "; add it to this object".to_owned(),
                };
                report.error(
                    Rule::UndefinedAttribute,
                    at(key.as_str()),
                    format!("`{key}` is referenced by the payload but not defined for {locale}{hint}"),
                );
            }
        }
        for (key, text) in keys {
            if !references.contains(&key) {
                if intended.contains(key) {
                    continue;
                }
                report.warning(
                    Rule::UnreferencedAttribute,
                    at(key.as_str()),
                    format!(
                        "`{key}` is defined for {locale} but the payload never references `localizedattribute:{key}`"
                    ),
                );
            } else if text.trim().is_empty() {
                report.warning(
                    Rule::EmptyText,
                    at(key.as_str()),
                    format!("`{key}` is empty for {locale}; Alexa would speak nothing there"),
                );
            }
        }
        if first_valid && !supported.is_empty() && !supported.contains(&locale) {
            report.warning(
                Rule::LocaleSupport,
                at("locale"),
                format!(
                    "Amazon documents `{}` for {} only; users in {locale} may not receive it (a gap in Amazon's \
                     documentation, not an error: `report.allow(Rule::LocaleSupport)` or `proactive validate --allow \
                     locale-support` leaves it out)",
                    name,
                    supported.join(", ")
                ),
            );
        }
    }
}

struct PayloadWalker<'r, 'a> {
    report: &'r mut Report,
    references: Vec<&'a AttributeKey>,
    intended: Vec<AttributeKey>,
}

impl<'a> Visitor<'a> for PayloadWalker<'_, 'a> {
    fn localized_text(&mut self, path: &'static str, value: &'a LocalizedText) {
        match value {
            LocalizedText::Attribute(key) => self.references.push(key),
            LocalizedText::Literal(text) => {
                if let Some(key) = check_literal(path, text, self.report) {
                    self.intended.push(key);
                }
            }
        }
    }

    fn text(&mut self, path: &'static str, value: &'a str) {
        check_text(path, value, self.report);
    }

    fn violation(&mut self, path: &'static str, violation: Violation) {
        check_violation(path, violation, self.report);
    }
}

/// Checks the text of a field Amazon localizes at `path` (from the payload)
/// that is not a valid reference; returns the key a misspelled reference meant.
pub(crate) fn check_literal(path: &str, text: &str, report: &mut Report) -> Option<AttributeKey> {
    if let Some(intended) = crate::reference::intended(text) {
        report.error(
            Rule::MisspelledReference,
            format!("event.payload.{path}"),
            format!(
                "`{text}` looks like a misspelled reference, and Alexa would read it aloud as it is: \
                 write `{intended}` (the prefix is `{LOCALIZED_ATTRIBUTE_PREFIX}`, lowercase, no spaces)"
            ),
        );
        return intended.strip_prefix(LOCALIZED_ATTRIBUTE_PREFIX).and_then(|key| AttributeKey::new(key).ok());
    }
    if has_reference_prefix(text) {
        report.error(
            Rule::AttributeKey,
            format!("event.payload.{path}"),
            format!(
                "`{text}` is not a valid reference: write `{LOCALIZED_ATTRIBUTE_PREFIX}KEY` (lowercase prefix) \
                 with a KEY of ASCII letters, digits, `_` or `-`"
            ),
        );
    } else {
        empty_text(path, text, report);
    }
    None
}

/// Checks the text of a field Amazon does not localize, at `path` (from the payload).
pub(crate) fn check_text(path: &str, value: &str, report: &mut Report) {
    if has_reference_prefix(value) {
        report.error(
            Rule::AttributeKey,
            format!("event.payload.{path}"),
            format!("Amazon does not localize `{path}`: write the text itself, not a `{LOCALIZED_ATTRIBUTE_PREFIX}` reference"),
        );
    }
    empty_text(path, value, report);
}

/// Reports a schema constraint the value at `path` (from the payload) breaks.
pub(crate) fn check_violation(path: &str, violation: Violation, report: &mut Report) {
    let rule = match violation {
        Violation::BelowMinimum { .. } => Rule::NumericBounds,
        _ => Rule::ArrayBounds,
    };
    report.error(rule, format!("event.payload.{path}"), violation.to_string());
}

fn empty_text(path: &str, value: &str, report: &mut Report) {
    if value.trim().is_empty() {
        report.warning(
            Rule::EmptyText,
            format!("event.payload.{path}"),
            "the text is empty; Alexa would speak nothing there".to_owned(),
        );
    }
}

/// Whether `text` starts with `localizedattribute:` in any case (without allocating).
fn has_reference_prefix(text: &str) -> bool {
    text.get(..LOCALIZED_ATTRIBUTE_PREFIX.len()).is_some_and(|p| p.eq_ignore_ascii_case(LOCALIZED_ATTRIBUTE_PREFIX))
}

/// `1 h 2 min`, `30 s`, `25 h 0.3 ms`, `just over 24 h`, `under 0.1 ms`: a
/// non-negative duration rounded for a person, in whole hours, minutes and
/// seconds, and the fraction of a second in milliseconds to one decimal; a
/// fraction too small for that is "just over" the rest (never "0 s", which
/// would read as no difference at all).
pub(crate) fn describe(duration: chrono::Duration) -> String {
    let secs = duration.num_seconds().unsigned_abs();
    let nanos = duration.subsec_nanos().unsigned_abs();
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut parts = Vec::new();
    for (value, unit) in [(h, "h"), (m, "min"), (s, "s")] {
        if value > 0 {
            parts.push(format!("{value} {unit}"));
        }
    }
    // Tenths of a millisecond, rounded to the nearest.
    let tenths = (nanos + 50_000) / 100_000;
    match (nanos, tenths) {
        (0, _) if parts.is_empty() => "0 s".to_owned(),
        (0, _) => parts.join(" "),
        (_, 0) if parts.is_empty() => "under 0.1 ms".to_owned(),
        (_, 0) => format!("just over {}", parts.join(" ")),
        (_, tenths) => {
            let ms = if tenths % 10 == 0 {
                format!("{} ms", tenths / 10)
            } else {
                format!("{}.{} ms", tenths / 10, tenths % 10)
            };
            parts.push(ms);
            parts.join(" ")
        }
    }
}

fn list(items: impl Iterator<Item = String>) -> String {
    items.collect::<Vec<_>>().join(", ")
}
