//! Reads `#[proactive(...)]` on the struct and its fields.
//!
//! Nothing here returns a `Result`: a bad or repeated key is recorded in the
//! [`Ctxt`] and the parser moves on to the next key, so one derive reports every
//! attribute mistake at once.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::parse::ParseStream;
use syn::{Ident, LitInt, LitStr, Token};

use crate::ctxt::Ctxt;
use crate::symbol::{
    self, CONSTANT, CONSTANT_KEYS, CONTAINER_KEYS, CRATE, FIELD_KEYS, KEY, PATH, SCHEMA, SKIP, Symbol, VALUE,
};
use proactive_table::suggest;

/// One key's value, remembering that it was set so that a second one is reported.
struct Attr<'c, T> {
    cx: &'c Ctxt,
    name: Symbol,
    value: Option<T>,
}

impl<'c, T> Attr<'c, T> {
    fn none(cx: &'c Ctxt, name: Symbol) -> Self {
        Self { cx, name, value: None }
    }

    /// Sets the value; a second call reports ``duplicate proactive attribute `name` `` at `tokens`.
    fn set(&mut self, tokens: impl ToTokens, value: T) {
        if self.value.is_some() {
            self.cx.error_spanned_by(tokens, format!("duplicate proactive attribute `{}`", self.name));
        } else {
            self.value = Some(value);
        }
    }

    fn get(self) -> Option<T> {
        self.value
    }
}

/// The attribute on the struct.
pub(crate) struct Container {
    /// `schema = "AMAZON.MediaContent.Available"`.
    pub(crate) schema: Option<LitStr>,
    /// Every `constant(path = ..., value = ...)`, in order.
    pub(crate) constants: Vec<Constant>,
    /// `crate = "..."`: the path of `proactive_core` for a crate that renamed it.
    pub(crate) krate: Option<syn::Path>,
    /// Whether these attributes had a mistake: then what seems missing (the
    /// schema, a required path) may just be in the broken part, and is not
    /// reported as missing on top.
    pub(crate) broken: bool,
}

/// `constant(path = "content.contentType", value = "EPISODE")`.
pub(crate) struct Constant {
    /// The schema path.
    pub(crate) path: LitStr,
    /// The value, as written.
    pub(crate) value: ConstantValue,
}

/// A constant's value as written: checked against the path's type later.
pub(crate) enum ConstantValue {
    /// `"EPISODE"`, `"Example TV"`.
    Str(LitStr),
    /// `3` or `-3`.
    Int {
        /// The digits.
        lit: LitInt,
        /// Whether a `-` came first.
        negative: bool,
        /// The whole value, sign included.
        span: Span,
    },
    /// `["GLASS", "CANS"]`.
    List {
        /// The items.
        items: Vec<LitStr>,
        /// The brackets.
        span: Span,
    },
}

impl ConstantValue {
    /// Where the value was written.
    pub(crate) fn span(&self) -> Span {
        match self {
            Self::Str(lit) => lit.span(),
            Self::Int { span, .. } | Self::List { span, .. } => *span,
        }
    }
}

/// The attribute on a field.
pub(crate) struct Field {
    /// `path = "content.name"`.
    pub(crate) path: Option<LitStr>,
    /// `key = "title"`: the localized attribute key of per-locale text.
    pub(crate) key: Option<LitStr>,
    /// `skip`: the field is not part of the event.
    pub(crate) skip: Option<Ident>,
    /// Whether these attributes had a mistake (see [`Container::broken`]).
    pub(crate) broken: bool,
}

impl Container {
    /// Reads every `#[proactive(...)]` among `attrs`.
    pub(crate) fn from_ast(cx: &Ctxt, attrs: &[syn::Attribute]) -> Self {
        let errors_before = cx.error_count();
        let mut schema = Attr::none(cx, SCHEMA);
        let mut krate = Attr::none(cx, CRATE);
        let mut constants = Vec::new();
        for attr in attrs.iter().filter(|attr| attr.path() == &symbol::PROACTIVE) {
            let result = attr.parse_nested_meta(|meta| {
                if meta.path == SCHEMA {
                    // #[proactive(schema = "AMAZON.MediaContent.Available")]
                    if let Some(lit) = string_value(cx, &meta, "schema = \"AMAZON.MediaContent.Available\"") {
                        schema.set(&meta.path, lit);
                    }
                } else if meta.path == CONSTANT {
                    // #[proactive(constant(path = "content.contentType", value = "EPISODE"))]
                    if let Some(constant) = constant(cx, &meta) {
                        constants.push(constant);
                    }
                } else if meta.path == CRATE {
                    // #[proactive(crate = "renamed_proactive_core")]
                    let example = "crate = \"proactive_core\"";
                    if let Some(lit) = string_value(cx, &meta, example) {
                        match lit.parse::<syn::Path>() {
                            Ok(path) => krate.set(&meta.path, path),
                            Err(_) => cx.error_spanned_by(
                                &lit,
                                format!("expected the path of `proactive_core` in `crate`, like `{example}`"),
                            ),
                        }
                    }
                } else {
                    unknown_key(cx, &meta, "container", CONTAINER_KEYS);
                }
                Ok(())
            });
            if let Err(error) = result {
                cx.syn_error(error);
            }
        }
        let broken = cx.error_count() > errors_before;
        Self { schema: schema.get(), constants, krate: krate.get(), broken }
    }
}

/// Reads `constant(path = ..., value = ...)`; `None` after reporting what is missing.
fn constant(cx: &Ctxt, meta: &ParseNestedMeta) -> Option<Constant> {
    let keyword = meta.path.get_ident()?.clone();
    let example = "constant(path = \"content.contentType\", value = \"EPISODE\")";
    if !meta.input.peek(syn::token::Paren) {
        let rest = skip_rest(meta.input);
        cx.error_spanned_by(quote::quote!(#keyword #rest), format!("expected `{example}`"));
        return None;
    }
    let errors_before = cx.error_count();
    let mut path = Attr::none(cx, PATH);
    let mut value = Attr::none(cx, VALUE);
    let result = meta.parse_nested_meta(|inner| {
        if inner.path == PATH {
            if let Some(lit) = string_value(cx, &inner, "path = \"content.contentType\"") {
                path.set(&inner.path, lit);
            }
        } else if inner.path == VALUE {
            if let Some(parsed) = constant_value(cx, &inner) {
                value.set(&inner.path, parsed);
            }
        } else {
            unknown_key(cx, &inner, "constant", CONSTANT_KEYS);
        }
        Ok(())
    });
    if let Err(error) = result {
        cx.syn_error(error);
        return None;
    }
    match (path.get(), value.get()) {
        (Some(path), Some(value)) => Some(Constant { path, value }),
        // A misspelled or malformed key was reported already; it is probably the missing one.
        _ if cx.error_count() > errors_before => None,
        (path, value) => {
            let missing = match (path, value) {
                (None, None) => "`path` and `value`",
                (None, Some(_)) => "`path`",
                _ => "`value`",
            };
            cx.error_spanned_by(&keyword, format!("`constant` needs {missing}, like `{example}`"));
            None
        }
    }
}

/// Reads `value = "TEXT"`, `value = 3`, `value = -3` or `value = ["A", "B"]`.
fn constant_value(cx: &Ctxt, meta: &ParseNestedMeta) -> Option<ConstantValue> {
    let example = "like `value = \"EPISODE\"`, `value = 3` or `value = [\"GLASS\", \"CANS\"]`";
    let input = value_stream(cx, meta, example)?;
    let parsed = (|| -> syn::Result<ConstantValue> {
        if input.peek(LitStr) {
            Ok(ConstantValue::Str(input.parse()?))
        } else if input.peek(LitInt) || (input.peek(Token![-]) && input.peek2(LitInt)) {
            let minus: Option<Token![-]> = input.parse()?;
            let lit: LitInt = input.parse()?;
            let span = match &minus {
                Some(minus) => minus.span.join(lit.span()).unwrap_or(lit.span()),
                None => lit.span(),
            };
            Ok(ConstantValue::Int { lit, negative: minus.is_some(), span })
        } else if input.peek(syn::token::Bracket) {
            let content;
            let bracket = syn::bracketed!(content in input);
            let items = content.parse_terminated(|item: ParseStream| item.parse::<LitStr>(), Token![,])?;
            Ok(ConstantValue::List { items: items.into_iter().collect(), span: bracket.span.join() })
        } else {
            Err(input.error("not a constant"))
        }
    })();
    match parsed {
        Ok(value) if input.is_empty() || input.peek(Token![,]) => Some(value),
        _ => {
            let rest = skip_rest(input);
            let at = if rest.is_empty() { meta.path.to_token_stream() } else { rest };
            cx.error_spanned_by(at, format!("expected a string, an integer or a list of strings, {example}"));
            None
        }
    }
}

impl Field {
    /// Reads every `#[proactive(...)]` among a field's `attrs`.
    pub(crate) fn from_ast(cx: &Ctxt, attrs: &[syn::Attribute]) -> Self {
        let errors_before = cx.error_count();
        let mut path = Attr::none(cx, PATH);
        let mut key = Attr::none(cx, KEY);
        let mut skip = Attr::none(cx, SKIP);
        for attr in attrs.iter().filter(|attr| attr.path() == &symbol::PROACTIVE) {
            let result = attr.parse_nested_meta(|meta| {
                if meta.path == PATH {
                    // #[proactive(path = "content.name")]
                    if let Some(lit) = string_value(cx, &meta, "path = \"content.name\"") {
                        path.set(&meta.path, lit);
                    }
                } else if meta.path == KEY {
                    // #[proactive(path = "content.name", key = "title")]
                    if let Some(lit) = string_value(cx, &meta, "key = \"title\"") {
                        key.set(&meta.path, lit);
                    }
                } else if meta.path == SKIP {
                    // #[proactive(skip)]
                    if meta.input.is_empty() || meta.input.peek(Token![,]) {
                        if let Some(ident) = meta.path.get_ident() {
                            skip.set(&meta.path, ident.clone());
                        }
                    } else {
                        let rest = skip_rest(meta.input);
                        cx.error_spanned_by(rest, "`skip` takes no value; write `#[proactive(skip)]`");
                    }
                } else {
                    unknown_key(cx, &meta, "field", FIELD_KEYS);
                }
                Ok(())
            });
            if let Err(error) = result {
                cx.syn_error(error);
            }
        }
        let (path, key, skip) = (path.get(), key.get(), skip.get());
        if let Some(skip) = &skip
            && (path.is_some() || key.is_some())
        {
            cx.error_spanned_by(
                skip,
                "`skip` leaves the field out of the event, so it cannot have a `path` or `key`; remove one or the other",
            );
        }
        Self { path, key, skip, broken: cx.error_count() > errors_before }
    }
}

/// The stream after `key =`, or `None` after reporting a missing `=`.
fn value_stream<'a>(cx: &Ctxt, meta: &ParseNestedMeta<'a>, example: &str) -> Option<ParseStream<'a>> {
    if meta.input.peek(Token![=]) {
        meta.value().ok()
    } else {
        let rest = skip_rest(meta.input);
        let name = meta.path.to_token_stream();
        cx.error_spanned_by(quote::quote!(#name #rest), format!("`{name}` needs a value, {example}"));
        None
    }
}

/// Reads `key = "string"`; on anything else reports the expected form and skips the value.
fn string_value(cx: &Ctxt, meta: &ParseNestedMeta, example: &str) -> Option<LitStr> {
    let input = value_stream(cx, meta, &format!("like `{example}`"))?;
    if input.peek(LitStr) && (input.peek2(Token![,]) || is_last_token(input)) {
        return input.parse().ok();
    }
    let rest = skip_rest(input);
    let name = meta.path.to_token_stream();
    let at = if rest.is_empty() { name.clone() } else { rest };
    cx.error_spanned_by(at, format!("expected a string after `{name} =`, like `{example}`"));
    None
}

/// Whether exactly one token tree is left.
fn is_last_token(input: ParseStream) -> bool {
    let fork = input.fork();
    fork.parse::<TokenTree>().is_ok() && fork.is_empty()
}

/// Reports an unknown key, suggesting the closest known one, and skips its value.
fn unknown_key(cx: &Ctxt, meta: &ParseNestedMeta, place: &str, known: &[Symbol]) {
    skip_rest(meta.input);
    let name = meta.path.to_token_stream().to_string().replace(' ', "");
    let placement = match place {
        "field" if CONTAINER_KEYS.iter().any(|key| key.as_str() == name) => {
            format!("; `{name}` goes on the struct, not on a field")
        }
        "container" if name == PATH.as_str() => {
            "; `path` goes on a field, and a constant path is set with `constant(path = \"...\", value = ...)`"
                .to_owned()
        }
        _ => suggest::did_you_mean_or_list(&name, known.iter().map(|key| key.as_str()), "expected"),
    };
    let message = match place {
        "constant" => format!("unknown key `{name}` in `constant(...)`{placement}"),
        _ => format!("unknown proactive {place} attribute `{name}`{placement}"),
    };
    cx.error_spanned_by(&meta.path, message);
}

/// Consumes everything up to the next `,` at this level and returns it.
fn skip_rest(input: ParseStream) -> TokenStream {
    let mut skipped = TokenStream::new();
    while !input.is_empty() && !input.peek(Token![,]) {
        match input.parse::<TokenTree>() {
            Ok(tree) => skipped.extend([tree]),
            Err(_) => break,
        }
    }
    skipped
}
