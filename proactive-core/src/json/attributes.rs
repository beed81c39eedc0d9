//! `localizedAttributes`: one object per locale, each with its attribute texts.

use serde_json::{Map, Value};

use super::Reader;
use super::payload::Facts;
use crate::json_kind::kind;
use crate::report::Rule;
use crate::schemas::AttributeKey;
use crate::{Locale, LocalizedAttributes};

impl Reader<'_> {
    /// Reads `localizedAttributes`; `facts` says whether the payload references
    /// any key (a missing array is then left to the reference check).
    pub(super) fn localized_attributes(&mut self, value: Option<Value>, facts: &Facts) -> Option<LocalizedAttributes> {
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
            ok &= self.locale_object(item, index, &mut out);
        }
        ok.then_some(out)
    }

    /// Reads the `index`th object of `localizedAttributes` into `out`; returns
    /// whether it was without error.
    fn locale_object(&mut self, item: Value, index: usize, out: &mut LocalizedAttributes) -> bool {
        let at = format!("localizedAttributes[{index}]");
        let Value::Object(object) = item else {
            self.report.error(Rule::InvalidValue, &at, format!("expected an object, found {}", kind(&item)));
            return false;
        };
        let locale = self.locale(object.get("locale"), &at, out);
        let (keys, keys_ok) = self.attribute_texts(object, &at);
        let ok = locale.is_some() && keys_ok;
        if let Some(locale) = locale {
            out.add_locale(locale.clone());
            for (key, text) in keys {
                out.insert_key(locale.clone(), key, text);
            }
        }
        ok
    }

    /// The `locale` of one object, unless it is missing, invalid, or already
    /// had an object in `out`.
    fn locale(&mut self, value: Option<&Value>, at: &str, out: &LocalizedAttributes) -> Option<Locale> {
        match value {
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
        }
    }

    /// The attribute keys and texts of one object (all but `locale`), and
    /// whether every one was valid.
    fn attribute_texts(&mut self, object: Map<String, Value>, at: &str) -> (Vec<(AttributeKey, String)>, bool) {
        let mut keys = Vec::new();
        let mut ok = true;
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
        (keys, ok)
    }
}
