//! Runtime support for `#[derive(ProactiveEvent)]`: what its expansion calls.
//! Not a public API; it changes without notice.
//!
//! The expansion converts each field through one of the traits here, called as
//! `<FieldType as Trait>::method(&self.field)` with the field's type spans, so a
//! type that does not fit its schema path is reported on the field, in the
//! words of the trait's `on_unimplemented` message. The helpers that do the
//! work (`localize`, `check_locale_coverage`) are not generic, so a derived
//! struct adds little code of its own.

#![doc(hidden)]

use std::collections::BTreeSet;
use std::fmt::{self, Display};
use std::num::NonZeroU32;

use chrono::{DateTime, FixedOffset, Local, Utc};

use crate::report::{Report, Rule};
use crate::schemas::{AttributeKey, LocalizedText};
use crate::{Locale, LocalizedAttributes, PerLocale};

/// The value of a text path that Amazon does not localize.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot fill a text path: the field's type must be text",
    label = "expected `String`, `&str` or a type that implements `Display`",
    note = "a text path takes `String`, `&str` or any `T: Display`"
)]
pub trait Text {
    /// The text.
    fn text(&self) -> String;
}

impl<T: Display + ?Sized> Text for T {
    fn text(&self) -> String {
        self.to_string()
    }
}

/// The value of a text path that Amazon localizes: per-locale text, or the same
/// text in every locale.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot fill a localized text path: the field's type must be `PerLocale` or text",
    label = "expected `PerLocale`, `String`, `&str` or a type that implements `Display`",
    note = "a localized text path takes `PerLocale` (text per locale) or `String`, `&str` or any `T: Display` (the same text in every locale)"
)]
pub trait LocalizableText {
    /// The payload's value: `localizedattribute:KEY` for per-locale text, else
    /// the text as Amazon reads it (so text that spells `localizedattribute:X` is a
    /// reference, as it would be in JSON).
    fn localized_text(&self, key: &'static str) -> LocalizedText;

    /// The text per locale, if this is per-locale text.
    fn per_locale(&self) -> Option<&PerLocale> {
        None
    }
}

impl<T: Display + ?Sized> LocalizableText for T {
    fn localized_text(&self, _key: &'static str) -> LocalizedText {
        LocalizedText::from_wire(&self.to_string())
    }
}

impl LocalizableText for PerLocale {
    fn localized_text(&self, key: &'static str) -> LocalizedText {
        LocalizedText::Attribute(attribute_key(key))
    }

    fn per_locale(&self) -> Option<&PerLocale> {
        Some(self)
    }
}

impl LocalizableText for &PerLocale {
    fn localized_text(&self, key: &'static str) -> LocalizedText {
        (**self).localized_text(key)
    }

    fn per_locale(&self) -> Option<&PerLocale> {
        Some(self)
    }
}

/// The value of any other path: an integer, a date-time, an enum value, a list of
/// enum values, or a whole object. `Target` is the payload's type there.
///
/// Every impl but the identity is `do_not_recommend`: rustc would otherwise list
/// all of them (`i16: Fits<i64>`, ...) under an error about an enum path.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot fill a path of type `{Target}`: the field's type must be `{Target}` or convert into it",
    label = "expected `{Target}`",
    note = "change the field's type, or map the field to another path"
)]
pub trait Fits<Target> {
    /// The payload's value.
    fn fit(&self) -> Target;
}

/// The payload's own type.
impl<T: Clone> Fits<T> for T {
    fn fit(&self) -> T {
        self.clone()
    }
}

/// A reference to the payload's type.
#[diagnostic::do_not_recommend]
impl<T: Clone> Fits<T> for &T {
    fn fit(&self) -> T {
        (**self).clone()
    }
}

/// An array for a list.
#[diagnostic::do_not_recommend]
impl<T: Clone, const N: usize> Fits<Vec<T>> for [T; N] {
    fn fit(&self) -> Vec<T> {
        self.to_vec()
    }
}

/// A slice for a list.
#[diagnostic::do_not_recommend]
impl<T: Clone> Fits<Vec<T>> for &[T] {
    fn fit(&self) -> Vec<T> {
        self.to_vec()
    }
}

/// Implements `Fits<$target>` for integer types that convert without loss.
macro_rules! widen {
    ($target:ty: $($source:ty),*) => {$(
        #[diagnostic::do_not_recommend]
        impl Fits<$target> for $source {
            fn fit(&self) -> $target {
                <$target>::from(*self)
            }
        }
    )*};
}

widen!(u32: u8, u16, NonZeroU32);
widen!(i64: i8, i16, i32, u8, u16, u32);

#[diagnostic::do_not_recommend]
impl Fits<DateTime<Utc>> for DateTime<FixedOffset> {
    fn fit(&self) -> DateTime<Utc> {
        self.to_utc()
    }
}

#[diagnostic::do_not_recommend]
impl Fits<DateTime<Utc>> for DateTime<Local> {
    fn fit(&self) -> DateTime<Utc> {
        self.to_utc()
    }
}

/// A key the derive checked at compile time.
fn attribute_key(key: &'static str) -> AttributeKey {
    AttributeKey::new(key).unwrap_or_else(|error| panic!("`#[derive(ProactiveEvent)]` checks keys: {error}"))
}

/// Adds the text of a per-locale field (if it is one and is present) under `key`.
pub fn localize(attributes: &mut LocalizedAttributes, key: &'static str, text: Option<&PerLocale>) {
    let Some(text) = text else { return };
    let key = attribute_key(key);
    for (locale, text) in text.iter() {
        attributes.insert_key(locale.clone(), key.clone(), text);
    }
}

/// Reports each per-locale field that lacks a locale some other per-locale field
/// has. Each entry is (field name, schema path, the field's text if present).
pub fn check_locale_coverage(report: &mut Report, fields: &[(&'static str, &'static str, Option<&PerLocale>)]) {
    let present: Vec<(&str, &str, &PerLocale)> =
        fields.iter().filter_map(|&(name, path, text)| Some((name, path, text?))).collect();
    let all: BTreeSet<&Locale> = present.iter().flat_map(|(_, _, text)| text.locales()).collect();
    for &(name, path, text) in &present {
        let missing: Vec<&Locale> = all.iter().copied().filter(|locale| text.get(locale).is_none()).collect();
        if missing.is_empty() {
            continue;
        }
        let others: Vec<&str> = present
            .iter()
            .filter(|(other, _, other_text)| {
                *other != name && missing.iter().any(|locale| other_text.get(locale).is_some())
            })
            .map(|(other, _, _)| *other)
            .collect();
        report.error(
            Rule::LocaleCoverage,
            format!("event.payload.{path}"),
            format!(
                "per-locale field `{name}` has no text for {}, which {} {}; give every per-locale field the same locales",
                Listed(&missing),
                Listed(&others),
                if others.len() == 1 { "has" } else { "have" },
            ),
        );
    }
}

/// Warns when an optional object is left out of the payload (because a field it
/// requires is `None`) although other fields in it are set. `required` are the
/// `Option` fields it requires, `others` the rest, each as (path, description,
/// whether it is set).
pub fn check_partial_object(
    report: &mut Report,
    object: &'static str,
    required: &[(&'static str, &'static str, bool)],
    others: &[(&'static str, &'static str, bool)],
) {
    let unset: Vec<&(&str, &str, bool)> = required.iter().filter(|(_, _, set)| !set).collect();
    let set: Vec<&(&str, &str, bool)> = required.iter().chain(others).filter(|(_, _, set)| *set).collect();
    if unset.is_empty() || set.is_empty() {
        return;
    }
    let describe = |entries: &[&(&str, &str, bool)]| {
        entries.iter().map(|(path, by, _)| format!("{by} (`{path}`)")).collect::<Vec<_>>().join(", ")
    };
    report.warning(
        Rule::MissingField,
        format!("event.payload.{object}"),
        format!(
            "`{object}` is left out of the event because {} {} `None` while {} {} set; Amazon requires {} whenever `{object}` is present",
            describe(&unset),
            if unset.len() == 1 { "is" } else { "are" },
            describe(&set),
            if set.len() == 1 { "is" } else { "are" },
            unset.iter().map(|(path, _, _)| format!("`{path}`")).collect::<Vec<_>>().join(", "),
        ),
    );
}

/// `` `a`, `b` `` for names and locales in messages.
struct Listed<'a, T>(&'a [T]);

impl<T: Display> Display for Listed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, item) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "`{item}`")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(locales: &[&str]) -> PerLocale {
        locales.iter().fold(PerLocale::new(), |text, locale| text.with(locale, "x").unwrap())
    }

    #[test]
    fn locale_coverage_names_the_field_and_the_missing_locales() {
        let (title, network) = (text(&["en-US", "de-DE"]), text(&["en-US"]));
        let mut report = Report::new();
        check_locale_coverage(
            &mut report,
            &[("title", "content.name", Some(&title)), ("network", "availability.provider.name", Some(&network))],
        );
        let [problem] = report.problems() else { panic!("{report}") };
        assert_eq!(problem.rule, Rule::LocaleCoverage);
        assert_eq!(problem.path, "event.payload.availability.provider.name");
        assert_eq!(
            problem.message,
            "per-locale field `network` has no text for `de-DE`, which `title` has; give every per-locale field the same locales"
        );
    }

    #[test]
    fn absent_fields_and_equal_locales_pass() {
        let title = text(&["en-US", "de-DE"]);
        let mut report = Report::new();
        check_locale_coverage(&mut report, &[("title", "content.name", Some(&title)), ("network", "x", None)]);
        check_locale_coverage(&mut report, &[("a", "x", Some(&title)), ("b", "y", Some(&title))]);
        assert!(report.is_clean(), "{report}");
    }

    #[test]
    fn a_dropped_object_is_a_warning() {
        let mut report = Report::new();
        check_partial_object(
            &mut report,
            "update",
            &[("update.teamName", "field `team`", false)],
            &[("update.scoreEarned", "field `score`", true)],
        );
        let [problem] = report.problems() else { panic!("{report}") };
        assert_eq!(problem.path, "event.payload.update");
        assert!(
            problem.message.starts_with("`update` is left out of the event because field `team`"),
            "{}",
            problem.message
        );
        let mut report = Report::new();
        check_partial_object(&mut report, "update", &[("update.teamName", "field `team`", false)], &[]);
        assert!(report.is_clean());
    }
}
