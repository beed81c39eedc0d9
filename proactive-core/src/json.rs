//! Untyped JSON in: one envelope, exactly as it would be POSTed to Amazon, read
//! into the typed model with a report of every problem.
//!
//! The reader is lenient where the Decisions table says so (known misspellings,
//! the seed's placement of `relationshipToInvitee`, a Multicast without payload,
//! timestamps without an offset, a missing `localizedAttributes`): it normalizes
//! the value to Amazon's form and reports a warning. Everything else that is wrong
//! is an error with the JSON path and, where one is close, a suggestion.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value};

use crate::report::{Report, Rule};
use crate::schemas::table::{self, IntType, Kind};
use crate::schemas::{AnyEvent, AttributeKey, EventName, LOCALIZED_ATTRIBUTE_PREFIX, Violation};
use crate::suggest::did_you_mean;
use crate::{Audience, Envelope, Locale, LocalizedAttributes, ReferenceId, UserId};

const ENVELOPE_KEYS: [&str; 6] =
    ["timestamp", "referenceId", "expiryTime", "event", "localizedAttributes", "relevantAudience"];

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

struct Reader<'r> {
    report: &'r mut Report,
}

impl Reader<'_> {
    fn envelope(&mut self, value: Value) -> Option<Envelope> {
        let Value::Object(mut root) = value else {
            self.report.error(Rule::Json, "", format!("expected a JSON object (an envelope), found {}", kind(&value)));
            return None;
        };
        for key in root.keys() {
            if !ENVELOPE_KEYS.contains(&key.as_str()) {
                self.report.error(
                    Rule::UnknownField,
                    key.clone(),
                    format!("unknown envelope field `{key}`{}", did_you_mean(key, ENVELOPE_KEYS)),
                );
            }
        }
        let timestamp = self.time(root.remove("timestamp"), "timestamp", true);
        let reference_id = self.reference_id(root.remove("referenceId"));
        let expiry_time = self.time(root.remove("expiryTime"), "expiryTime", true);
        let (event, facts) = self.event(root.remove("event"));
        let localized = self.localized_attributes(root.remove("localizedAttributes"), &facts);
        let audience = self.audience(root.remove("relevantAudience"));

        match (timestamp, reference_id, expiry_time, event, localized, audience) {
            (Some(timestamp), Some(reference_id), Some(expiry_time), Some(event), Some(localized), Some(audience)) => {
                let envelope =
                    Envelope { timestamp, reference_id, expiry_time, event, localized_attributes: localized, audience };
                self.report.extend(envelope.validate());
                Some(envelope)
            }
            (timestamp, _, expiry_time, event, localized, _) => {
                // Report what can still be checked without a whole envelope.
                if let (Some(timestamp), Some(expiry_time)) = (timestamp, expiry_time) {
                    crate::validate::check_expiry_window(timestamp, expiry_time, self.report);
                }
                if event.is_none() {
                    for (path, violation) in facts.violations {
                        self.report.error(Rule::ArrayBounds, path, violation.to_string());
                    }
                }
                if let (Some(name), Some(localized)) = (facts.name, localized) {
                    let references: Vec<&AttributeKey> = facts.references.iter().collect();
                    crate::validate::check_localized_attributes(name, &localized, &references, self.report);
                }
                None
            }
        }
    }

    fn missing(&mut self, path: &str, what: &str) {
        self.report.error(Rule::MissingField, path, format!("`{path}` is missing; {what}"));
    }

    fn time(&mut self, value: Option<Value>, path: &str, required: bool) -> Option<DateTime<Utc>> {
        let Some(value) = value else {
            if required {
                self.missing(path, "Amazon requires an RFC 3339 date-time such as `2019-02-13T14:00:00Z`");
            }
            return None;
        };
        let Value::String(text) = &value else {
            self.report.error(
                Rule::InvalidValue,
                path,
                format!("expected an RFC 3339 date-time string such as `2019-02-13T14:00:00Z`, found {}", kind(&value)),
            );
            return None;
        };
        parse_time(text, path, self.report)
    }

    fn reference_id(&mut self, value: Option<Value>) -> Option<ReferenceId> {
        match value {
            None => {
                self.missing("referenceId", "Amazon requires 1 to 100 characters of A-Z, a-z, 0-9, `~` and `-`");
                None
            }
            Some(Value::String(id)) => match ReferenceId::new(&id) {
                Ok(id) => Some(id),
                Err(error) => {
                    self.report.error(Rule::ReferenceId, "referenceId", error.to_string());
                    None
                }
            },
            Some(other) => {
                self.report.error(
                    Rule::InvalidValue,
                    "referenceId",
                    format!("expected a string, found {}", kind(&other)),
                );
                None
            }
        }
    }

    fn event(&mut self, value: Option<Value>) -> (Option<AnyEvent>, Facts) {
        let mut facts = Facts::default();
        let Some(value) = value else {
            self.missing("event", "Amazon requires `{\"name\": ..., \"payload\": {...}}`");
            return (None, facts);
        };
        let Value::Object(mut event) = value else {
            self.report.error(Rule::InvalidValue, "event", format!("expected an object, found {}", kind(&value)));
            return (None, facts);
        };
        for key in event.keys() {
            if key != "name" && key != "payload" {
                self.report.error(
                    Rule::UnknownField,
                    format!("event.{key}"),
                    format!(
                        "unknown field `{key}`; an event has only `name` and `payload`{}",
                        did_you_mean(key, ["name", "payload"])
                    ),
                );
            }
        }
        let name = match event.remove("name") {
            None => {
                self.missing("event.name", "name one of Amazon's 8 schemas, such as `AMAZON.WeatherAlert.Activated`");
                None
            }
            Some(Value::String(name)) => match name.parse::<EventName>() {
                Ok(name) => Some(name),
                Err(_) => {
                    let hint = crate::suggest::event_name_hint(&name);
                    self.report.error(
                        Rule::UnknownEventName,
                        "event.name",
                        format!("unknown event name `{name}`; {hint}"),
                    );
                    None
                }
            },
            Some(other) => {
                self.report.error(
                    Rule::InvalidValue,
                    "event.name",
                    format!("expected a string, found {}", kind(&other)),
                );
                None
            }
        };
        facts.name = name;
        let payload = event.remove("payload");
        if payload.is_none() {
            self.missing("event.payload", "every event carries its schema's payload object");
        }
        let (Some(name), Some(payload)) = (name, payload) else { return (None, facts) };
        let errors_before = self.report.errors().count();
        let schema = name.schema();
        let normalized = self.object(payload, schema.fields, "event.payload", "", &mut facts);
        if self.report.errors().count() > errors_before {
            return (None, facts);
        }
        let wrapped = serde_json::json!({ "name": name.as_str(), "payload": normalized });
        match serde_json::from_value::<AnyEvent>(wrapped) {
            Ok(event) => (Some(event), facts),
            Err(error) => {
                // The checks above mirror the types, so this is not expected; report it rather than lose it.
                self.report.error(
                    Rule::InvalidValue,
                    "event.payload",
                    format!("the payload does not fit the schema: {error}"),
                );
                (None, facts)
            }
        }
    }

    /// Checks and normalizes one payload object against the table's fields.
    fn object(
        &mut self,
        value: Value,
        fields: &'static [table::Field],
        at: &str,
        rel: &str,
        facts: &mut Facts,
    ) -> Value {
        let Value::Object(input) = value else {
            self.report.error(Rule::InvalidValue, at, format!("expected an object, found {}", kind(&value)));
            return Value::Null;
        };
        let mut out = Map::with_capacity(input.len());
        let mut pending: Vec<(String, Value)> = input.into_iter().collect();
        // A field that untyped JSON may carry one level too deep (the seed's
        // `invite.inviter.relationshipToInvitee`) is pulled up to its place.
        for field in fields {
            for moved in field.moved_from {
                let rest = if rel.is_empty() {
                    Some(*moved)
                } else {
                    moved.strip_prefix(rel).and_then(|r| r.strip_prefix('.'))
                };
                let Some((child, leaf)) = rest.and_then(|r| r.split_once('.')) else { continue };
                if leaf.contains('.') {
                    continue;
                }
                let Some((_, Value::Object(child_object))) = pending.iter_mut().find(|(k, _)| k == child) else {
                    continue;
                };
                let Some(value) = child_object.remove(leaf) else { continue };
                self.report.warning(
                    Rule::KnownMistake,
                    format!("{at}.{child}.{leaf}"),
                    format!("`{leaf}` belongs at `{}`, not `{moved}`; moved", field.path),
                );
                if !pending.iter().any(|(k, _)| k == field.name) {
                    pending.push((field.name.to_owned(), value));
                }
            }
        }
        let mut path = format!("{at}.");
        for (key, value) in pending {
            let field = match table::Field::child(fields, &key) {
                Some(field) => field,
                None => match table::Field::child_by_alias(fields, &key) {
                    Some(field) => {
                        self.report.warning(
                            Rule::KnownMistake,
                            format!("{at}.{key}"),
                            format!("`{key}` is a known misspelling of `{}`; renamed", field.name),
                        );
                        if out.contains_key(field.name) {
                            continue;
                        }
                        field
                    }
                    None => {
                        self.report.error(
                            Rule::UnknownField,
                            format!("{at}.{key}"),
                            format!(
                                "unknown field `{key}`{}",
                                match crate::suggest::closest(&key, fields.iter().map(|f| f.name)) {
                                    Some(close) => format!("; did you mean `{close}`?"),
                                    None => format!(
                                        "; the fields here are {}",
                                        fields.iter().map(|f| format!("`{}`", f.name)).collect::<Vec<_>>().join(", ")
                                    ),
                                }
                            ),
                        );
                        continue;
                    }
                },
            };
            // One buffer for every field's path: `at.` then the name.
            path.truncate(at.len() + 1);
            path.push_str(field.name);
            let normalized = self.field(value, field, &path, facts);
            out.insert(field.name.to_owned(), normalized);
        }
        for field in fields {
            if field.required && !out.contains_key(field.name) {
                self.report.error(
                    Rule::MissingField,
                    format!("{at}.{}", field.name),
                    format!("`{}` is required by `{}`", field.name, field.path),
                );
            }
        }
        Value::Object(out)
    }

    fn field(&mut self, value: Value, field: &'static table::Field, path: &str, facts: &mut Facts) -> Value {
        match &field.kind {
            Kind::Object { .. } => self.object(value, field.children, path, field.path, facts),
            Kind::Text => {
                let Value::String(text) = &value else {
                    self.report.error(Rule::InvalidValue, path, format!("expected text, found {}", kind(&value)));
                    return value;
                };
                if field.localizable
                    && let Some(key) = text.strip_prefix(LOCALIZED_ATTRIBUTE_PREFIX)
                    && let Ok(key) = AttributeKey::new(key)
                {
                    facts.references.insert(key);
                }
                value
            }
            Kind::Integer { int_type, minimum } => {
                let number = value.as_i64();
                let fits = match int_type {
                    IntType::U32 => value.as_u64().is_some_and(|n| n <= u64::from(u32::MAX)),
                    IntType::I64 => number.is_some(),
                };
                if !fits {
                    match (number, minimum) {
                        (Some(n), Some(min)) if n < *min => self.report.error(
                            Rule::NumericBounds,
                            path,
                            Violation::BelowMinimum { min: *min, actual: n }.to_string(),
                        ),
                        _ => self.report.error(
                            Rule::InvalidValue,
                            path,
                            format!("expected a whole number{}, found {}", range_hint(*int_type), describe(&value)),
                        ),
                    }
                }
                value
            }
            Kind::DateTime => {
                let Value::String(text) = &value else {
                    self.report.error(
                        Rule::InvalidValue,
                        path,
                        format!("expected an RFC 3339 date-time string, found {}", kind(&value)),
                    );
                    return value;
                };
                match parse_time(text, path, self.report) {
                    Some(time) => serde_json::to_value(time).unwrap_or(value),
                    None => value,
                }
            }
            Kind::Enum { values, .. } => {
                self.enum_value(&value, values, path);
                value
            }
            Kind::EnumArray { values, min_items, max_items, unique, .. } => {
                let Value::Array(items) = &value else {
                    self.report.error(Rule::InvalidValue, path, format!("expected an array, found {}", kind(&value)));
                    return value;
                };
                for (i, item) in items.iter().enumerate() {
                    self.enum_value(item, values, &format!("{path}[{i}]"));
                }
                if items.len() < *min_items {
                    facts
                        .violations
                        .push((path.to_owned(), Violation::TooFewItems { min: *min_items, actual: items.len() }));
                }
                if items.len() > *max_items {
                    facts
                        .violations
                        .push((path.to_owned(), Violation::TooManyItems { max: *max_items, actual: items.len() }));
                }
                let texts: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                if *unique && let Some(index) = crate::schemas::__::first_duplicate(&texts) {
                    facts.violations.push((path.to_owned(), Violation::DuplicateItem { index }));
                }
                value
            }
        }
    }

    fn enum_value(&mut self, value: &Value, values: &'static [table::EnumValue], path: &str) {
        let wires = values.iter().map(|v| v.wire);
        match value {
            Value::String(text) if values.iter().any(|v| v.wire == text) => {}
            Value::String(text) => self.report.error(
                Rule::InvalidValue,
                path,
                format!(
                    "`{text}` is not a value of this field{}",
                    match crate::suggest::closest(text, wires.clone()) {
                        Some(close) => format!("; did you mean `{close}`?"),
                        None => format!("; use one of {}", wires.collect::<Vec<_>>().join(", ")),
                    }
                ),
            ),
            other => self.report.error(
                Rule::InvalidValue,
                path,
                format!("expected one of {}, found {}", wires.collect::<Vec<_>>().join(", "), kind(other)),
            ),
        }
    }

    fn localized_attributes(&mut self, value: Option<Value>, facts: &Facts) -> Option<LocalizedAttributes> {
        let Some(value) = value else {
            if facts.references.is_empty() {
                self.report.warning(
                    Rule::MissingLocalizedAttributes,
                    "localizedAttributes",
                    "`localizedAttributes` is missing; Amazon's model requires it: write `[]` when nothing is localized",
                );
            }
            // When the payload references keys, the localized-attribute check names each undefined one.
            return Some(LocalizedAttributes::new());
        };
        let Value::Array(items) = value else {
            self.report.error(
                Rule::InvalidValue,
                "localizedAttributes",
                format!("expected an array of objects, one per locale, found {}", kind(&value)),
            );
            return None;
        };
        let mut out = LocalizedAttributes::new();
        let mut ok = true;
        for (index, item) in items.into_iter().enumerate() {
            let at = format!("localizedAttributes[{index}]");
            let Value::Object(object) = item else {
                self.report.error(Rule::InvalidValue, &at, format!("expected an object, found {}", kind(&item)));
                ok = false;
                continue;
            };
            let locale = match object.get("locale") {
                None => {
                    self.missing(&format!("{at}.locale"), "each object names its locale, such as `en-US`");
                    None
                }
                Some(Value::String(text)) => match Locale::new(text) {
                    Ok(locale) if out.keys(&locale).is_some() => {
                        self.report.error(
                            Rule::DuplicateLocale,
                            format!("{at}.locale"),
                            format!("{locale} appears twice; merge its keys into one object"),
                        );
                        None
                    }
                    Ok(locale) => Some(locale),
                    Err(error) => {
                        self.report.error(Rule::Locale, format!("{at}.locale"), error.to_string());
                        None
                    }
                },
                Some(other) => {
                    self.report.error(
                        Rule::Locale,
                        format!("{at}.locale"),
                        format!("expected a string such as `en-US`, found {}", kind(other)),
                    );
                    None
                }
            };
            ok &= locale.is_some();
            let mut keys = Vec::new();
            for (key, text) in object {
                if key == "locale" {
                    continue;
                }
                let path = format!("{at}.{key}");
                let key = match AttributeKey::new(&key) {
                    Ok(key) => key,
                    Err(error) => {
                        self.report.error(Rule::AttributeKey, &path, error.to_string());
                        ok = false;
                        continue;
                    }
                };
                match text {
                    Value::String(text) => keys.push((key, text)),
                    other => {
                        self.report.error(Rule::InvalidValue, &path, format!("expected text, found {}", kind(&other)));
                        ok = false;
                    }
                }
            }
            if let Some(locale) = locale {
                out.add_locale(locale.clone());
                for (key, text) in keys {
                    out.insert_key(locale.clone(), key, text);
                }
            }
        }
        ok.then_some(out)
    }

    fn audience(&mut self, value: Option<Value>) -> Option<Audience> {
        const AT: &str = "relevantAudience";
        let Some(value) = value else {
            self.missing(AT, "write `{\"type\": \"Unicast\", \"payload\": {\"user\": ID}}` or `{\"type\": \"Multicast\", \"payload\": {}}`");
            return None;
        };
        let Value::Object(mut audience) = value else {
            self.report.error(Rule::Audience, AT, format!("expected an object, found {}", kind(&value)));
            return None;
        };
        for key in audience.keys() {
            if key != "type" && key != "payload" {
                self.report.error(
                    Rule::UnknownField,
                    format!("{AT}.{key}"),
                    format!(
                        "unknown field `{key}`; an audience has only `type` and `payload`{}",
                        did_you_mean(key, ["type", "payload"])
                    ),
                );
            }
        }
        let payload = audience.remove("payload");
        match audience.remove("type") {
            Some(Value::String(t)) if t == "Multicast" => match payload {
                None | Some(Value::Null) => {
                    self.report.warning(
                        Rule::Audience,
                        format!("{AT}.payload"),
                        "a Multicast audience's payload is missing; normalized to `{}`, which Amazon expects",
                    );
                    Some(Audience::Multicast)
                }
                Some(Value::Object(p)) if p.is_empty() => Some(Audience::Multicast),
                Some(Value::Object(p)) if p.contains_key("user") => {
                    self.report.error(
                        Rule::Audience,
                        format!("{AT}.payload.user"),
                        "a Multicast event goes to every subscribed user and names none; remove `user`, or use `Unicast` to send to this user",
                    );
                    None
                }
                Some(other) => {
                    self.report.error(
                        Rule::Audience,
                        format!("{AT}.payload"),
                        format!("a Multicast payload must be `{{}}`, found {}", describe(&other)),
                    );
                    None
                }
            },
            Some(Value::String(t)) if t == "Unicast" => {
                let user = match payload {
                    None | Some(Value::Null) => {
                        self.report.error(
                            Rule::Audience,
                            format!("{AT}.payload"),
                            "a Unicast audience needs `payload: {\"user\": ID}` with the user's id from `context.System.user.userId`",
                        );
                        return None;
                    }
                    Some(Value::Object(mut p)) => {
                        for key in p.keys() {
                            if key != "user" {
                                self.report.error(
                                    Rule::UnknownField,
                                    format!("{AT}.payload.{key}"),
                                    format!(
                                        "unknown field `{key}`; a Unicast payload has only `user`{}",
                                        did_you_mean(key, ["user"])
                                    ),
                                );
                            }
                        }
                        p.remove("user")
                    }
                    Some(other) => {
                        self.report.error(
                            Rule::Audience,
                            format!("{AT}.payload"),
                            format!("expected an object, found {}", kind(&other)),
                        );
                        return None;
                    }
                };
                match user {
                    Some(Value::String(user)) => match UserId::new(&user) {
                        Ok(user) => Some(Audience::Unicast(user)),
                        Err(error) => {
                            self.report.error(Rule::Audience, format!("{AT}.payload.user"), error.to_string());
                            None
                        }
                    },
                    None | Some(Value::Null) => {
                        self.report.error(
                            Rule::Audience,
                            format!("{AT}.payload.user"),
                            "a Unicast audience needs the user's id from `context.System.user.userId`",
                        );
                        None
                    }
                    Some(other) => {
                        self.report.error(
                            Rule::Audience,
                            format!("{AT}.payload.user"),
                            format!("expected a string, found {}", kind(&other)),
                        );
                        None
                    }
                }
            }
            Some(Value::String(other)) => {
                self.report.error(
                    Rule::Audience,
                    format!("{AT}.type"),
                    format!(
                        "unknown audience type `{other}`; use `Unicast` or `Multicast`{}",
                        did_you_mean(&other, ["Unicast", "Multicast"])
                    ),
                );
                None
            }
            None => {
                self.missing(&format!("{AT}.type"), "use `Unicast` or `Multicast`");
                None
            }
            Some(other) => {
                self.report.error(
                    Rule::Audience,
                    format!("{AT}.type"),
                    format!("expected `Unicast` or `Multicast`, found {}", kind(&other)),
                );
                None
            }
        }
    }
}

/// What the event reader learned besides the typed event.
#[derive(Default)]
struct Facts {
    name: Option<EventName>,
    /// The attribute keys the payload references.
    references: BTreeSet<AttributeKey>,
    /// Array-bound violations, reported only when the payload cannot be typed
    /// (otherwise the typed validation reports them).
    violations: Vec<(String, Violation)>,
}

/// Parses an RFC 3339 date-time; one without an offset is read as UTC with a warning.
fn parse_time(text: &str, path: &str, report: &mut Report) -> Option<DateTime<Utc>> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            report.warning(
                Rule::Timestamp,
                path,
                format!("`{text}` has no offset; read as UTC. Write `Z` or an offset (RFC 3339) to be explicit"),
            );
            return Some(naive.and_utc());
        }
    }
    report.error(
        Rule::InvalidValue,
        path,
        format!("`{text}` is not an RFC 3339 date-time; write it like `2019-02-13T14:00:00Z`"),
    );
    None
}

fn range_hint(int_type: IntType) -> &'static str {
    match int_type {
        IntType::U32 => " from 0 to 4294967295",
        IntType::I64 => "",
    }
}

/// `a string`, `an object`, ...: what a JSON value is, for error messages.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The kind and, for scalars, the value itself.
fn describe(value: &Value) -> String {
    match value {
        Value::Number(n) => format!("{n}"),
        Value::String(s) => format!("\"{s}\""),
        Value::Bool(b) => b.to_string(),
        other => kind(other).to_owned(),
    }
}
