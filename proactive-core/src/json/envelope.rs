//! The envelope's own fields (`timestamp`, `referenceId`, `expiryTime`) and the
//! envelope put together from every part the reader read.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

use super::Reader;
use super::attributes::ReadAttributes;
use super::payload::Facts;
use crate::json_kind::kind;
use crate::report::{Report, Rule};
use crate::schemas::AttributeKey;
use crate::suggest::did_you_mean;
use crate::validate::{References, check_audience, check_expiry_window, check_localized_attributes};
use crate::{Audience, Envelope, ReferenceId};

const ENVELOPE_KEYS: [&str; 6] =
    ["timestamp", "referenceId", "expiryTime", "event", "localizedAttributes", "relevantAudience"];

impl Reader<'_> {
    pub(super) fn envelope(&mut self, value: Value) -> Option<Envelope> {
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
            (Some(timestamp), Some(reference_id), Some(expiry_time), Some(event), Some(localized), Some(audience))
                if localized.complete =>
            {
                let localized_attributes = localized.into_attributes();
                let envelope = Envelope { timestamp, reference_id, expiry_time, event, localized_attributes, audience };
                self.report.extend(envelope.validate());
                Some(envelope)
            }
            (timestamp, _, expiry_time, _, localized, audience) => {
                self.check_parts(timestamp.zip(expiry_time), facts, localized, audience);
                None
            }
        }
    }

    /// Checks what [`Envelope::validate`] would, on the parts read of an
    /// envelope that could not be typed whole: the expiry window, the payload
    /// (as walked untyped), each locale object that could be read, and the
    /// audience. The report is then the same whichever problem is fixed first.
    fn check_parts(
        &mut self,
        times: Option<(DateTime<Utc>, DateTime<Utc>)>,
        facts: Facts,
        localized: Option<ReadAttributes>,
        audience: Option<Audience>,
    ) {
        if let Some((timestamp, expiry_time)) = times {
            check_expiry_window(timestamp, expiry_time, self.report);
        }
        self.report.extend(facts.walk);
        if let (Some(name), true, Some(read)) = (facts.name, facts.walked, localized) {
            let references: Vec<&AttributeKey> = facts.references.iter().collect();
            let references = References { keys: &references, intended: &facts.intended };
            check_localized_attributes(name, read.checked(), read.empty, &references, self.report);
        }
        if let Some(audience) = &audience {
            check_audience(audience, self.report);
        }
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
}

/// Parses an RFC 3339 date-time; one without an offset is read as UTC with a warning.
pub(super) fn parse_time(text: &str, path: &str, report: &mut Report) -> Option<DateTime<Utc>> {
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
