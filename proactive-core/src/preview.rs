//! The sentence Alexa is expected to speak for an envelope, per locale.
//!
//! Built from the schema's English template (`x-utterances` in the schema file)
//! with the event's values and that locale's localized attributes. Amazon
//! publishes templates in English only, so for other locales the sentence is the
//! English template with that locale's text: an approximation, and the API says so.

use std::fmt;

use serde_json::Value;

use crate::schemas::table::{self, Kind};
use crate::schemas::{AttributeKey, LOCALIZED_ATTRIBUTE_PREFIX};
use crate::{Envelope, Locale};

/// An expected utterance. Always an approximation of what Alexa says: templates
/// are Amazon's English examples or third-party transcriptions, date-times are
/// spoken in the user's time zone (shown here in UTC), and numbers are spoken as
/// words.
///
/// ```
/// # use proactive_core::schemas::WeatherAlertActivated;
/// # use proactive_core::schemas::weather_alert_activated::{WeatherAlert, WeatherAlertType};
/// # let alert = WeatherAlertActivated::builder()
/// #     .weather_alert(WeatherAlert::builder().alert_type(WeatherAlertType::Tornado).build())
/// #     .build();
/// use proactive_core::{Audience, Envelope, Locale};
///
/// let preview = Envelope::builder(&alert, Audience::Multicast).build().preview(&Locale::en_us());
/// assert!(preview.text.contains("tornado"), "{preview}");
/// assert!(preview.missing.is_empty());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preview {
    /// The locale whose localized attributes filled the template.
    pub locale: Locale,
    /// The sentence.
    pub text: String,
    /// Attribute keys the payload references but this locale does not define;
    /// they appear as `<KEY?>` in the text.
    pub missing: Vec<String>,
    /// Whether the sentence is the English template with this locale's text,
    /// because the locale is not English and no template in its language is
    /// known: Alexa's actual sentence is in the locale's language. `Display`
    /// says so.
    pub english_template: bool,
}

impl fmt::Display for Preview {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.locale, self.text)?;
        if self.english_template {
            write!(f, " [English sentence; Alexa speaks {} in its own words]", self.locale)?;
        }
        Ok(())
    }
}

impl Envelope {
    /// The sentence Alexa is expected to speak to a user in `locale`. Amazon's
    /// templates are English: for another language the sentence is the English
    /// one with that locale's text, and [`Preview::english_template`] says so.
    ///
    /// ```
    /// # use proactive_core::{Audience, Envelope, Locale};
    /// # use proactive_core::schemas::{LocalizedText, WeatherAlertActivated};
    /// # use proactive_core::schemas::weather_alert_activated::{WeatherAlert, WeatherAlertType};
    /// let alert = WeatherAlertActivated::builder()
    ///     .weather_alert(
    ///         WeatherAlert::builder()
    ///             .alert_type(WeatherAlertType::Tornado)
    ///             .source(LocalizedText::attribute("source"))
    ///             .build(),
    ///     )
    ///     .build();
    /// let envelope = Envelope::builder(&alert, Audience::Multicast)
    ///     .localized(Locale::en_us(), "source", "English Weather Channel")?
    ///     .build();
    /// assert_eq!(
    ///     envelope.preview(&Locale::en_us()).text,
    ///     "There is a tornado alert for your area. Provided by English Weather Channel."
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn preview(&self, locale: &Locale) -> Preview {
        let payload = match serde_json::to_value(&self.event) {
            Ok(Value::Object(mut event)) => event.remove("payload").unwrap_or(Value::Null),
            _ => Value::Null,
        };
        let schema = self.event.name().schema();
        let utterance = schema
            .utterances
            .iter()
            .find(|u| {
                u.when.iter().all(|(path, wanted)| lookup(&payload, path).and_then(Value::as_str) == Some(*wanted))
                    && u.when_present.iter().all(|path| lookup(&payload, path).is_some())
            })
            .unwrap_or(&schema.utterances[schema.utterances.len() - 1]);
        let mut ctx = Render { payload: &payload, schema, envelope: self, locale, missing: Vec::new() };
        let text = collapse_spaces(&ctx.template(utterance.template));
        let english_template = !locale.as_str().starts_with("en-");
        Preview { locale: locale.clone(), text, missing: ctx.missing, english_template }
    }

    /// One preview per locale of `localizedAttributes` (in order), or en-US alone
    /// when the envelope has none.
    pub fn previews(&self) -> Vec<Preview> {
        if self.localized_attributes.is_empty() {
            return vec![self.preview(&Locale::en_us())];
        }
        self.localized_attributes.locales().map(|locale| self.preview(locale)).collect()
    }
}

struct Render<'a> {
    payload: &'a Value,
    schema: &'static table::Schema,
    envelope: &'a Envelope,
    locale: &'a Locale,
    missing: Vec<String>,
}

impl Render<'_> {
    /// Renders a template: `{path}`, `{path|plural:one:many}`, and optional `[...]`
    /// groups dropped unless every path in them is present.
    fn template(&mut self, template: &str) -> String {
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find(['[', '{']) {
            out.push_str(&rest[..start]);
            let (open, close) = if rest[start..].starts_with('[') { ('[', ']') } else { ('{', '}') };
            let Some(len) = rest[start..].find(close) else { break };
            let inner = &rest[start + 1..start + len];
            if open == '[' {
                if placeholders(inner).all(|p| lookup(self.payload, p.split('|').next().unwrap_or(p)).is_some()) {
                    let rendered = self.template(inner);
                    out.push_str(&rendered);
                }
            } else {
                let rendered = self.placeholder(inner);
                out.push_str(&rendered);
            }
            rest = &rest[start + len + 1..];
        }
        out.push_str(rest);
        out
    }

    fn placeholder(&mut self, spec: &str) -> String {
        let (path, filter) = spec.split_once('|').unwrap_or((spec, ""));
        let Some(value) = lookup(self.payload, path) else { return String::new() };
        if let Some(words) = filter.strip_prefix("plural:") {
            let (one, many) = words.split_once(':').unwrap_or((words, words));
            return if value.as_i64() == Some(1) { one } else { many }.to_owned();
        }
        match self.schema.field(path).map(|f| &f.kind) {
            Some(Kind::Enum { values, .. }) => spoken(values, value),
            Some(Kind::EnumArray { values, .. }) => {
                let items: Vec<String> =
                    value.as_array().map(|a| a.iter().map(|v| spoken(values, v)).collect()).unwrap_or_default();
                join_and(&items)
            }
            Some(Kind::DateTime) => value
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&chrono::Utc).format("%B %-d, %Y at %-I:%M %p UTC").to_string())
                .unwrap_or_default(),
            _ => match value {
                Value::String(text) => self.text(text),
                other => other.to_string(),
            },
        }
    }

    fn text(&mut self, text: &str) -> String {
        let Some(key) = text.strip_prefix(LOCALIZED_ATTRIBUTE_PREFIX).and_then(|k| AttributeKey::new(k).ok()) else {
            return text.to_owned();
        };
        match self.envelope.localized_attributes.get(self.locale, &key) {
            Some(text) => text.to_owned(),
            None => {
                self.missing.push(key.as_str().to_owned());
                format!("<{key}?>")
            }
        }
    }
}

fn placeholders(template: &str) -> impl Iterator<Item = &str> {
    template.split('{').skip(1).filter_map(|s| s.split_once('}').map(|(p, _)| p))
}

fn lookup<'v>(payload: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(payload, |value, key| value.get(key)).filter(|v| !v.is_null())
}

fn spoken(values: &[table::EnumValue], value: &Value) -> String {
    let wire = value.as_str().unwrap_or_default();
    values.iter().find(|v| v.wire == wire).map_or(wire, |v| v.spoken).to_owned()
}

fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn collapse_spaces(text: &str) -> String {
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    joined.replace(" ,", ",").replace(" .", ".")
}
