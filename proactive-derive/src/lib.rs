//! `#[derive(ProactiveEvent)]`, re-exported by `proactive-core` as
//! `proactive_core::ProactiveEvent`: see the derive's documentation there.
//!
//! The derive knows Amazon's schemas through the table that `cargo xtask regen`
//! generates from `proactive-schemas/schemas/*.json` into `proactive-table`,
//! the crate the runtime reads too, so it never keeps a second copy of them or
//! of the queries and suggestions over them. It works in stages: `attr` and `ast`
//! read the struct, `check` compares it with the schema, `expand` writes the
//! impl; every error of every stage is collected in a `ctxt::Ctxt` and reported
//! at once, together with a `fallback` impl.

mod ast;
mod attr;
mod check;
mod ctxt;
mod expand;
mod fallback;
mod schema;
mod symbol;

use std::panic::{self, AssertUnwindSafe};

use proc_macro2::{Span, TokenStream};
use syn::DeriveInput;

use crate::ctxt::Ctxt;

/// Implements `proactive_core::ProactiveEvent` for a struct by mapping its fields
/// onto the paths of one of Amazon's event schemas.
///
/// ```
/// use proactive_core::chrono::{DateTime, Utc};
/// use proactive_core::{Audience, Envelope, PerLocale, ProactiveEvent};
///
/// #[derive(ProactiveEvent)]
/// #[proactive(
///     schema = "AMAZON.MediaContent.Available",
///     constant(path = "content.contentType", value = "EPISODE"),
///     constant(path = "availability.method", value = "STREAM"),
/// )]
/// struct Episode {
///     /// Localized: the payload says `localizedattribute:title`, and each
///     /// locale's `localizedAttributes` object gives the text.
///     #[proactive(path = "content.name")]
///     title: PerLocale,
///     #[proactive(path = "availability.startTime")]
///     airs: DateTime<Utc>,
///     /// A plain string on a localizable path is the same text in every locale;
///     /// `None` leaves the optional `availability.provider` out.
///     #[proactive(path = "availability.provider.name")]
///     network: Option<String>,
///     #[proactive(skip)]
///     internal_id: u64,
/// }
///
/// let episode = Episode {
///     title: PerLocale::new().with("en-US", "The Night Manager")?.with("de-DE", "Der Nachtmanager")?,
///     airs: "2026-05-01T20:00:00Z".parse()?,
///     network: Some("Example TV".to_owned()),
///     internal_id: 7,
/// };
/// let envelope = Envelope::builder(&episode, Audience::Multicast).build();
/// assert!(envelope.validate().is_clean());
/// assert!(envelope.to_json().contains(r#""content":{"name":"localizedattribute:title","contentType":"EPISODE"}"#));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Attributes
///
/// On the struct, `#[proactive(...)]` takes:
///
/// - `schema = "AMAZON.MediaContent.Available"` (required): Amazon's name of
///   the schema, one of the 8.
/// - `constant(path = "content.contentType", value = "EPISODE")`, any number of
///   times: a value that is the same for every event. `value` is an enum value
///   (checked against the schema) or text as a string, an integer, or a list of
///   enum values for an array (`value = ["GLASS", "CANS"]`). Date-times and
///   objects cannot be constants.
/// - `crate = "path::to::proactive_core"`: where `proactive_core` is, for a
///   crate that renamed the dependency.
///
/// On each field, `#[proactive(...)]` takes:
///
/// - `path = "content.name"`: the JSON path in the payload that the field fills.
///   A path may name an object (`availability.provider`) when the field holds
///   the generated type of that object.
/// - `key = "title"`: the localized attribute key of a per-locale field; by
///   default the field's name in camelCase (`provider_name` → `providerName`).
/// - `skip`: the field is not part of the event.
///
/// Every field needs `path` or `skip`, and every path the schema requires needs
/// a field or a constant.
///
/// # Field types
///
/// - Text that Amazon localizes (`content.name`): `PerLocale` for text per
///   locale (the payload then says `localizedattribute:KEY` and
///   `localized_attributes()` gives each locale's text), or `String`, `&str` or
///   any `T: Display` for the same text in every locale.
/// - Other text: `String`, `&str` or any `T: Display`.
/// - Integers: the schema's type (`u32`), or a smaller integer type.
/// - Date-times: `DateTime<Utc>`, `DateTime<FixedOffset>` or `DateTime<Local>`.
/// - Enums and objects: the generated type from `proactive_core::schemas`;
///   arrays also take `[T; N]` and `&[T]`.
/// - `Option<T>` for a path Amazon lets you leave out, or one inside an optional
///   object: `None` leaves the value out, and an optional object is present only
///   when the fields it requires are (`check()` warns when set fields are
///   dropped that way).
///
/// Generic parameters and lifetimes are carried over to the impl as written: a
/// `T: Display` field can fill a text path, a `&'a str` field any text path.
///
/// # Checks
///
/// At compile time, each reported at the offending token and all at once: an
/// unknown schema or path (with "did you mean"), a required path that nothing
/// maps, a path mapped twice, per-locale text on a path Amazon does not
/// localize, a field type that does not fit its path, an invalid or repeated
/// localized attribute key, a constant that is not a value of its path, and
/// unknown or malformed attributes.
///
/// At run time, `check()` (which `Envelope::builder` runs) reports per-locale
/// fields that do not all cover the same locales, naming the fields and the
/// missing locales.
#[proc_macro_derive(ProactiveEvent, attributes(proactive))]
pub fn derive_proactive_event(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let input = syn::parse_macro_input!(input as DeriveInput);
    guarded(&input, || derive(&input)).into()
}

/// Runs `derive`; a panic in it is a bug in this crate, reported as such (with a
/// fallback impl) instead of rustc's "proc macro panicked".
fn guarded(input: &DeriveInput, derive: impl FnOnce() -> TokenStream) -> TokenStream {
    panic::catch_unwind(AssertUnwindSafe(derive)).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("no message");
        let error = syn::Error::new(
            Span::call_site(),
            format!(
                "`#[derive(ProactiveEvent)]` panicked ({message}); this is a bug in proactive-derive, please report \
                 it with the struct that triggered it at https://github.com/proactive-rs/proactive/issues"
            ),
        );
        fallback::expand(input, &expand::crate_path(None), error)
    })
}

/// Parse, check, expand; on any error, every error and a fallback impl.
fn derive(input: &DeriveInput) -> TokenStream {
    let cx = Ctxt::new();
    let parsed = ast::Input::from_ast(&cx, input);
    let plan = parsed.as_ref().and_then(|parsed| check::check(&cx, parsed));
    let krate = expand::crate_path(parsed.as_ref().and_then(|parsed| parsed.attrs.krate.as_ref()));
    match (cx.check(), parsed, plan) {
        (Ok(()), Some(parsed), Some(plan)) => expand::expand(&parsed, &plan),
        (Err(error), _, _) => fallback::expand(input, &krate, error),
        (Ok(()), _, _) => panic!("the checks failed without reporting an error"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_please_report_error_and_a_fallback_impl() {
        let input: DeriveInput = syn::parse_quote!(
            struct Episode;
        );
        let output = guarded(&input, || panic!("boom")).to_string();
        assert!(output.contains("compile_error"), "{output}");
        assert!(output.contains("panicked (boom)") && output.contains("please report"), "{output}");
        assert!(output.contains("impl :: proactive_core :: ProactiveEvent for Episode"), "{output}");
    }

    #[test]
    #[should_panic(expected = "forgot to check for errors")]
    fn an_unchecked_context_is_a_bug() {
        let cx = Ctxt::new();
        cx.error_at(Span::call_site(), "lost");
    }
}
