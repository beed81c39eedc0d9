//! Writes the `impl ProactiveEvent` of a checked struct.
//!
//! `to_event` builds the generated payload type as a nested struct literal, one
//! level per object of the schema, with each mapped field converted through a
//! helper trait of `proactive_core::derive_support`. Those calls are spanned on the
//! field's type, so a type that does not fit its path is reported there.
//!
//! Paths go through short aliases imported at the top of the `const _` block
//! (`__schema::Availability`, `__Option::Some`): the proc macro runs unoptimized
//! in debug builds and on every incremental rebuild, and its time grows with the
//! number of tokens it writes.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Type};

use crate::ast::Input;
use crate::attr::{Constant, ConstantValue};
use crate::check::{Plan, Source};
use proactive_table::{self as table, IntType, Kind, is_within};

use crate::schema;

/// The impl, inside `const _: () = { ... };` so that nothing leaks into the user's module.
pub(crate) fn expand(input: &Input, plan: &Plan) -> TokenStream {
    let krate = crate_path(input.attrs.krate.as_ref());
    let mut generator = Generator { input, plan, bindings: 0 };
    let ident = &input.original.ident;
    let (impl_generics, ty_generics, where_clause) = input.original.generics.split_for_impl();
    let module = Ident::new(plan.schema.module, Span::call_site());
    let payload_ty = generator.schema_type(plan.schema.type_name);
    let payload = generator.payload();
    let localized_attributes = generator.localized_attributes();
    let check = generator.check();
    // A skipped field is read here, so that leaving it out of the event does not
    // make it dead code the user has to `allow`.
    let skipped = input.fields.iter().filter(|field| field.attrs.skip.is_some()).map(|field| field.member);
    quote! {
        #[doc(hidden)]
        #[allow(unused_imports)]
        const _: () = {
            use #krate as __proactive;
            use __proactive::derive_support;
            use __proactive::schemas::#module as __schema;
            use ::core::option::Option as __Option;

            #[automatically_derived]
            impl #impl_generics __proactive::ProactiveEvent for #ident #ty_generics #where_clause {
                fn event_name(&self) -> __proactive::schemas::EventName {
                    <#payload_ty as __proactive::schemas::EventPayload>::NAME
                }

                fn to_event(&self) -> __proactive::schemas::AnyEvent {
                    #(let _ = &self.#skipped;)*
                    let payload: #payload_ty = #payload;
                    __proactive::schemas::EventPayload::into_any(payload)
                }

                #localized_attributes

                #check
            }
        };
    }
}

/// `proactive_core`, or the path `#[proactive(crate = "...")]` gives.
pub(crate) fn crate_path(krate: Option<&syn::Path>) -> TokenStream {
    match krate {
        Some(path) => quote!(#path),
        None => quote!(::proactive_core),
    }
}

/// A value of a schema field, as an expression.
enum Value {
    /// Always there: an expression of the field's type.
    Always(TokenStream),
    /// There or not: an expression of `Option<field's type>`.
    Maybe(TokenStream),
}

struct Generator<'g, 'a> {
    input: &'g Input<'a>,
    plan: &'g Plan,
    /// How many local bindings have been named so far.
    bindings: usize,
}

impl Generator<'_, '_> {
    /// The payload struct literal.
    fn payload(&mut self) -> TokenStream {
        let schema = self.plan.schema;
        match self.object(schema.type_name, schema.fields) {
            Value::Always(payload) => payload,
            // `check` refuses an `Option` field unless an optional path is on its way.
            Value::Maybe(_) => panic!("the payload of `{}` came out optional", schema.name),
        }
    }

    /// The value of one schema field: its source, or an object made of its children;
    /// `None` when nothing fills it (then it is optional, as `check` made sure).
    fn node(&mut self, field: &'static table::Field) -> Option<Value> {
        if let Some(source) = self.plan.sources.get(field.path) {
            return Some(self.source(field, *source));
        }
        let Kind::Object { type_name } = field.kind else { return None };
        let filled = self.plan.sources.keys().any(|path| is_within(path, field.path));
        (field.required || filled).then(|| self.object(type_name, field.children))
    }

    /// An object: present when every required child is, or, when it has only
    /// optional children, when any of them is.
    fn object(&mut self, type_name: &str, children: &'static [table::Field]) -> Value {
        let ty = self.schema_type(type_name);
        let (mut lets, mut inits) = (Vec::new(), Vec::new());
        let (mut required_maybe, mut optional_maybe, mut any_always) = (Vec::new(), Vec::new(), false);
        for child in children {
            let member = Ident::new(child.ident, Span::call_site());
            match self.node(child) {
                None => inits.push(quote!(#member: __Option::None)),
                Some(Value::Always(expr)) => {
                    any_always = true;
                    let expr = if child.required { expr } else { quote!(__Option::Some(#expr)) };
                    inits.push(quote!(#member: #expr));
                }
                Some(Value::Maybe(expr)) => {
                    let binding = self.binding();
                    lets.push(quote!(let #binding = #expr;));
                    inits.push(quote!(#member: #binding));
                    if child.required {
                        required_maybe.push(binding);
                    } else {
                        optional_maybe.push(binding);
                    }
                }
            }
        }
        let literal = quote!(#ty { #(#inits),* });
        if !required_maybe.is_empty() {
            // Each required binding is rebound to the value inside its `Option`.
            Value::Maybe(quote!({
                #(#lets)*
                match (#(#required_maybe,)*) {
                    (#(__Option::Some(#required_maybe),)*) => __Option::Some(#literal),
                    _ => __Option::None,
                }
            }))
        } else if any_always || optional_maybe.is_empty() {
            Value::Always(if lets.is_empty() { literal } else { quote!({ #(#lets)* #literal }) })
        } else {
            Value::Maybe(quote!({
                #(#lets)*
                if #(__Option::is_some(&#optional_maybe))||* {
                    __Option::Some(#literal)
                } else {
                    __Option::None
                }
            }))
        }
    }

    /// The value a field or constant gives `node`.
    fn source(&mut self, node: &'static table::Field, source: Source) -> Value {
        let index = match source {
            Source::Constant(index) => return Value::Always(self.constant(node, &self.input.attrs.constants[index])),
            Source::Field(index) => index,
        };
        let field = &self.input.fields[index];
        let member = field.member;
        if field.option_inner.is_some() {
            // A `match` rather than `Option::map` with a closure: no closure type and
            // no generic instantiation per field, which keeps derived structs cheap
            // to compile.
            let value = self.convert(node, index, quote!(value));
            Value::Maybe(quote! {
                match &self.#member {
                    __Option::Some(value) => __Option::Some(#value),
                    __Option::None => __Option::None,
                }
            })
        } else {
            Value::Always(self.convert(node, index, quote!(&self.#member)))
        }
    }

    /// Converts `arg` (a reference to the field's value) into the payload's type
    /// for `node`, through the helper trait of its kind. Spanned on the field's
    /// type: that is where a type that does not fit is reported.
    fn convert(&self, node: &table::Field, index: usize, arg: TokenStream) -> TokenStream {
        let ty: &Type = self.input.fields[index].value_ty();
        let span = ty.span();
        match &node.kind {
            Kind::Text if node.localizable => {
                let key = &self.plan.keys[&index];
                quote_spanned!(span=> <#ty as derive_support::LocalizableText>::localized_text(#arg, #key))
            }
            Kind::Text => quote_spanned!(span=> <#ty as derive_support::Text>::text(#arg)),
            _ => {
                let target = self.target_type(node);
                quote_spanned!(span=> <#ty as derive_support::Fits<#target>>::fit(#arg))
            }
        }
    }

    /// The payload's Rust type at `node` (not text: text goes through its own traits).
    fn target_type(&self, node: &table::Field) -> TokenStream {
        match &node.kind {
            Kind::Object { type_name } | Kind::Enum { type_name, .. } => self.schema_type(type_name),
            Kind::EnumArray { type_name, .. } => {
                let item = self.schema_type(type_name);
                quote!(::std::vec::Vec<#item>)
            }
            Kind::Integer { int_type, .. } => {
                let ty = Ident::new(int_type.rust_name(), Span::call_site());
                quote!(#ty)
            }
            Kind::DateTime => quote!(__proactive::chrono::DateTime<__proactive::chrono::Utc>),
            Kind::Text => panic!("text at `{}` has no `Fits` target", node.path),
        }
    }

    /// A constant's value, already checked against `node`.
    fn constant(&self, node: &table::Field, constant: &Constant) -> TokenStream {
        let variant = |type_name: &str, values: &[table::EnumValue], wire: &str| {
            let value = values.iter().find(|value| value.wire == wire).expect("checked against the table");
            let ty = self.schema_type(type_name);
            let variant = Ident::new(value.ident, Span::call_site());
            quote!(#ty::#variant)
        };
        match (&node.kind, &constant.value) {
            (Kind::Enum { type_name, values }, ConstantValue::Str(lit)) => variant(type_name, values, &lit.value()),
            (Kind::EnumArray { type_name, values, .. }, ConstantValue::List { items, .. }) => {
                let items = items.iter().map(|item| variant(type_name, values, &item.value()));
                quote!(::std::vec![#(#items),*])
            }
            (Kind::Text, ConstantValue::Str(lit)) if node.localizable => {
                quote!(__proactive::schemas::LocalizedText::from_wire(#lit))
            }
            (Kind::Text, ConstantValue::Str(lit)) => quote!(::std::string::String::from(#lit)),
            (Kind::Integer { int_type, .. }, ConstantValue::Int { lit, negative, .. }) => {
                let magnitude: i128 = lit.base10_parse().expect("checked as an integer");
                let value = if *negative { -magnitude } else { magnitude };
                let literal = match int_type {
                    IntType::U32 => Literal::u32_suffixed(u32::try_from(value).expect("checked in range")),
                    IntType::I64 => Literal::i64_suffixed(i64::try_from(value).expect("checked in range")),
                };
                quote!(#literal)
            }
            _ => panic!("the constant for `{}` passed the checks without fitting its kind", node.path),
        }
    }

    /// `localized_attributes()`: every per-locale field's text, under its key.
    fn localized_attributes(&self) -> TokenStream {
        if self.plan.keys.is_empty() {
            return TokenStream::new();
        }
        let entries = self.plan.keys.iter().map(|(index, key)| {
            let per_locale = self.per_locale(*index);
            quote!(derive_support::localize(&mut attributes, #key, #per_locale);)
        });
        quote! {
            fn localized_attributes(&self) -> __proactive::LocalizedAttributes {
                let mut attributes = __proactive::LocalizedAttributes::new();
                #(#entries)*
                attributes
            }
        }
    }

    /// `check()`: per-locale fields cover the same locales; an optional object is
    /// not silently dropped while some of its fields are set.
    fn check(&self) -> TokenStream {
        let mut checks = Vec::new();
        if self.plan.keys.len() > 1 {
            let fields = self.plan.keys.keys().map(|index| {
                let name = self.input.fields[*index].name();
                let path = self.path_of(*index);
                let per_locale = self.per_locale(*index);
                quote!((#name, #path, #per_locale))
            });
            checks.push(quote!(derive_support::check_locale_coverage(report, &[#(#fields),*]);));
        }
        for object in self.plan.schema.all_fields() {
            if let Some(check) = self.partial_object_check(object) {
                checks.push(check);
            }
        }
        if checks.is_empty() {
            return TokenStream::new();
        }
        quote! {
            fn check(&self, report: &mut __proactive::Report) {
                #(#checks)*
            }
        }
    }

    /// For an optional object that `Option` fields may leave out: a warning when it
    /// is left out although some of its fields are set.
    fn partial_object_check(&self, object: &'static table::Field) -> Option<TokenStream> {
        if object.required || object.children.is_empty() || self.plan.sources.contains_key(object.path) {
            return None;
        }
        let (mut required, mut others) = (Vec::new(), Vec::new());
        for (path, source) in &self.plan.sources {
            if !is_within(path, object.path) {
                continue;
            }
            let lineage = self.plan.schema.lineage(path).expect("checked path");
            let depth = object.path.split('.').count();
            let required_below = lineage[depth..].iter().all(|field| field.required);
            let (name, present, optional) = match source {
                Source::Field(index) => {
                    let field = &self.input.fields[*index];
                    let member = field.member;
                    let present = if field.option_inner.is_some() {
                        quote!(__Option::is_some(&self.#member))
                    } else {
                        quote!(true)
                    };
                    (format!("field `{}`", field.name()), present, field.option_inner.is_some())
                }
                Source::Constant(_) => ("a constant".to_owned(), quote!(true), false),
            };
            let entry = quote!((#path, #name, #present));
            if required_below && optional { required.push(entry) } else { others.push(entry) }
        }
        if required.is_empty() || required.len() + others.len() < 2 {
            return None;
        }
        let path = object.path;
        Some(quote!(derive_support::check_partial_object(report, #path, &[#(#required),*], &[#(#others),*]);))
    }

    /// An `Option<&PerLocale>` expression for a field on a localized path.
    fn per_locale(&self, index: usize) -> TokenStream {
        let field = &self.input.fields[index];
        let (member, ty) = (field.member, field.value_ty());
        let method = quote_spanned!(ty.span()=> <#ty as derive_support::LocalizableText>::per_locale);
        if field.option_inner.is_some() {
            quote! {
                match &self.#member {
                    __Option::Some(value) => #method(value),
                    __Option::None => __Option::None,
                }
            }
        } else {
            quote!(#method(&self.#member))
        }
    }

    /// The schema path a field maps.
    fn path_of(&self, index: usize) -> &'static str {
        self.plan
            .sources
            .iter()
            .find_map(|(path, source)| (*source == Source::Field(index)).then_some(*path))
            .expect("a keyed field maps a path")
    }

    /// `__schema::Availability` from a table type name (`media_content_available::Availability`
    /// or, for the payload, `MediaContentAvailable`): every type of a schema is in its module.
    fn schema_type(&self, type_name: &str) -> TokenStream {
        let name = Ident::new(schema::last_segment(type_name), Span::call_site());
        quote!(__schema::#name)
    }

    /// A fresh local name.
    fn binding(&mut self) -> Ident {
        self.bindings += 1;
        format_ident!("__value{}", self.bindings)
    }
}
