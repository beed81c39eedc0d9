//! `event`: its name, and its payload walked over the schema table, checked and
//! normalized field by field before it is typed.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::Reader;
use super::envelope::parse_time;
use crate::json_kind::{describe, kind};
use crate::report::{Report, Rule};
use crate::schemas::table::{self, IntType, Kind};
use crate::schemas::{AnyEvent, AttributeKey, EventName, LOCALIZED_ATTRIBUTE_PREFIX, Violation};
use crate::validate::{check_literal, check_text, check_violation};

impl Reader<'_> {
    pub(super) fn event(&mut self, value: Option<Value>) -> (Option<AnyEvent>, Facts) {
        let mut facts = Facts::default();
        let Some(value) = value else {
            self.missing("event", "Amazon requires `{\"name\": ..., \"payload\": {...}}`");
            return (None, facts);
        };
        let Value::Object(mut event) = value else {
            self.report.error(Rule::InvalidValue, "event", format!("expected an object, found {}", kind(&value)));
            return (None, facts);
        };
        self.only_fields(&event, "event", "an event", &["name", "payload"]);
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
        facts.walked = payload.is_object();
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
        self.pull_up_moved(&mut pending, fields, at, rel);
        let mut path = format!("{at}.");
        for (key, value) in pending {
            let Some(field) = self.known_field(fields, &key, at, &out) else { continue };
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

    /// Pulls up, with a warning, a field that untyped JSON may carry one level
    /// too deep (the seed's `invite.inviter.relationshipToInvitee`) to its place
    /// among the `pending` fields of the object at `at` (`rel` in the table).
    fn pull_up_moved(
        &mut self,
        pending: &mut Vec<(String, Value)>,
        fields: &'static [table::Field],
        at: &str,
        rel: &str,
    ) {
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
    }

    /// The field `key` names among `fields`, directly or by a known misspelling
    /// (renamed with a warning); `None`, after reporting, when it names none or
    /// when its correct spelling is already in `out`.
    fn known_field(
        &mut self,
        fields: &'static [table::Field],
        key: &str,
        at: &str,
        out: &Map<String, Value>,
    ) -> Option<&'static table::Field> {
        if let Some(field) = table::Field::child(fields, key) {
            return Some(field);
        }
        if let Some(field) = table::Field::child_by_alias(fields, key) {
            self.report.warning(
                Rule::KnownMistake,
                format!("{at}.{key}"),
                format!("`{key}` is a known misspelling of `{}`; renamed", field.name),
            );
            return (!out.contains_key(field.name)).then_some(field);
        }
        let hint = match crate::suggest::closest(key, fields.iter().map(|f| f.name)) {
            Some(close) => format!("; did you mean `{close}`?"),
            None => format!(
                "; the fields here are {}",
                fields.iter().map(|f| format!("`{}`", f.name)).collect::<Vec<_>>().join(", ")
            ),
        };
        self.report.error(Rule::UnknownField, format!("{at}.{key}"), format!("unknown field `{key}`{hint}"));
        None
    }

    /// Checks and normalizes one field's value by the kind the table gives it.
    fn field(&mut self, value: Value, field: &'static table::Field, path: &str, facts: &mut Facts) -> Value {
        match &field.kind {
            Kind::Object { .. } => self.object(value, field.children, path, field.path, facts),
            Kind::Text => {
                let Value::String(text) = &value else {
                    self.report.error(Rule::InvalidValue, path, format!("expected text, found {}", kind(&value)));
                    return value;
                };
                // The checks the typed payload's walk makes, made here too, for
                // when the payload cannot be typed.
                if !field.localizable {
                    check_text(field.path, text, &mut facts.walk);
                } else if let Some(key) = text.strip_prefix(LOCALIZED_ATTRIBUTE_PREFIX)
                    && let Ok(key) = AttributeKey::new(key)
                {
                    facts.references.insert(key);
                } else if let Some(key) = check_literal(field.path, text, &mut facts.walk) {
                    facts.intended.push(key);
                }
                value
            }
            Kind::Integer { int_type, minimum } => {
                if self.integer(&value, *int_type, *minimum, path)
                    && let (Some(actual), Some(min)) = (value.as_i64(), *minimum)
                    && actual < min
                {
                    check_violation(field.path, Violation::BelowMinimum { min, actual }, &mut facts.walk);
                }
                value
            }
            Kind::DateTime => self.date_time(value, path),
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
                facts.array_bounds(items, *min_items, *max_items, *unique, field.path);
                value
            }
        }
    }

    /// Checks that `value` is a whole number that fits `int_type`; returns
    /// whether it does. One that does not and is below `minimum` is reported as such.
    fn integer(&mut self, value: &Value, int_type: IntType, minimum: Option<i64>, path: &str) -> bool {
        let number = value.as_i64();
        let fits = match int_type {
            IntType::U32 => value.as_u64().is_some_and(|n| n <= u64::from(u32::MAX)),
            IntType::I64 => number.is_some(),
        };
        if fits {
            return true;
        }
        match (number, minimum) {
            (Some(n), Some(min)) if n < min => {
                self.report.error(Rule::NumericBounds, path, Violation::BelowMinimum { min, actual: n }.to_string())
            }
            _ => self.report.error(
                Rule::InvalidValue,
                path,
                format!("expected a whole number{}, found {}", range_hint(int_type), describe(value)),
            ),
        }
        false
    }

    /// Checks an RFC 3339 date-time and normalizes it to UTC.
    fn date_time(&mut self, value: Value, path: &str) -> Value {
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
}

/// What the event reader learned besides the typed event.
#[derive(Default)]
pub(super) struct Facts {
    pub(super) name: Option<EventName>,
    /// Whether the payload was an object, walked field by field.
    pub(super) walked: bool,
    /// The attribute keys the payload references.
    pub(super) references: BTreeSet<AttributeKey>,
    /// The keys that misspelled references meant.
    pub(super) intended: Vec<AttributeKey>,
    /// What the typed payload's walk reports (`Envelope::validate`), found on
    /// the untyped payload: reported only when the envelope cannot be typed.
    pub(super) walk: Report,
}

impl Facts {
    /// Notes the array-bound violations of `items` at `path` (from the payload).
    fn array_bounds(&mut self, items: &[Value], min_items: usize, max_items: usize, unique: bool, path: &str) {
        if items.len() < min_items {
            check_violation(path, Violation::TooFewItems { min: min_items, actual: items.len() }, &mut self.walk);
        }
        if items.len() > max_items {
            check_violation(path, Violation::TooManyItems { max: max_items, actual: items.len() }, &mut self.walk);
        }
        let texts: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
        if unique && let Some(index) = crate::schemas::builder_support::first_duplicate(&texts) {
            check_violation(path, Violation::DuplicateItem { index }, &mut self.walk);
        }
    }
}

fn range_hint(int_type: IntType) -> &'static str {
    match int_type {
        IntType::U32 => " from 0 to 4294967295",
        IntType::I64 => "",
    }
}
