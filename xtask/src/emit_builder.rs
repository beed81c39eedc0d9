//! Emits one struct's typestate builder, in named steps as bon splits its own
//! generator (`state_mod`, setters, `finish_fn`): the `builder()` constructor,
//! the state module (state trait, `Empty`, one transition per required field, the
//! `IsSet`/`IsUnset` markers with their messages), the builder struct, the
//! setters, and `build()`. A struct without required fields gets a plain builder.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use crate::emit_payload::{ident, setter_input, value_type};
use crate::model::{Field, Schema, Struct, camel_ident, snake_ident};

/// The builder for `s`.
pub(crate) fn emit_builder(schema: &Schema, s: &Struct) -> TokenStream {
    let names = Names::new(s);
    let optional_setters = optional_setters(schema, &names);
    if names.required.is_empty() {
        return plain_builder(&names, &optional_setters);
    }
    let constructor = constructor(&names);
    let state_mod = state_mod(&names);
    let builder_struct = builder_struct(&names);
    let required_setters = required_setters(schema, &names);
    let finish_fn = finish_fn(&names);
    let (builder, states) = (&names.builder, &names.states);
    quote! {
        #constructor
        #state_mod
        #builder_struct

        impl<S: #states::State> #builder<S> {
            #(#required_setters)*
            #(#optional_setters)*
            #finish_fn
        }
    }
}

/// Every name the steps share, computed once.
struct Names<'a> {
    s: &'a Struct,
    /// The struct (`Availability`).
    name: Ident,
    /// The builder (`AvailabilityBuilder`).
    builder: Ident,
    /// The state module (`availability_builder`).
    states: Ident,
    required: Vec<&'a Field>,
    optional: Vec<&'a Field>,
    /// Required fields: Rust names, state type names, transition and marker names, value types.
    req_idents: Vec<Ident>,
    req_camel: Vec<Ident>,
    set_states: Vec<Ident>,
    is_set: Vec<Ident>,
    is_unset: Vec<Ident>,
    req_types: Vec<TokenStream>,
    /// Optional fields: Rust names and value types.
    opt_idents: Vec<Ident>,
    opt_types: Vec<TokenStream>,
}

impl<'a> Names<'a> {
    fn new(s: &'a Struct) -> Self {
        let required: Vec<&Field> = s.fields.iter().filter(|f| f.required).collect();
        let optional: Vec<&Field> = s.fields.iter().filter(|f| !f.required).collect();
        let camel = |f: &&Field, pattern: fn(&str) -> String| format_ident!("{}", pattern(&camel_ident(&f.json)));
        Names {
            s,
            name: ident(&s.name),
            builder: format_ident!("{}Builder", s.name),
            states: format_ident!("{}_builder", snake_ident(&s.name)),
            req_idents: required.iter().map(|f| ident(&f.ident)).collect(),
            req_camel: required.iter().map(|f| camel(f, |c| c.to_owned())).collect(),
            set_states: required.iter().map(|f| camel(f, |c| format!("Set{c}"))).collect(),
            is_set: required.iter().map(|f| camel(f, |c| format!("{c}IsSet"))).collect(),
            is_unset: required.iter().map(|f| camel(f, |c| format!("{c}IsUnset"))).collect(),
            req_types: required.iter().map(|f| value_type(f)).collect(),
            opt_idents: optional.iter().map(|f| ident(&f.ident)).collect(),
            opt_types: optional.iter().map(|f| value_type(f)).collect(),
            required,
            optional,
        }
    }

    fn builder_doc(&self) -> String {
        format!(
            " Builds a [`{0}`]. `build()` exists once every required field is set; see [`{0}::builder`].",
            self.s.name
        )
    }

    fn ctor_doc(&self) -> String {
        format!(" Starts a builder for [`{}`].", self.s.name)
    }

    fn must_use(&self) -> String {
        format!("a `{}` does nothing until `.build()` is called", self.builder)
    }
}

/// `fn name(value)` and `fn maybe_name(Option<value>)` for each optional field:
/// they keep the builder's state, so they may be called in any order, again.
fn optional_setters(schema: &Schema, names: &Names<'_>) -> Vec<TokenStream> {
    names
        .optional
        .iter()
        .map(|f| {
            let fident = ident(&f.ident);
            let maybe = format_ident!("maybe_{}", f.ident);
            let ty = value_type(f);
            let (input, convert) = setter_input(schema, f);
            let doc = format!(" Sets the optional `{}`. Calling it again replaces the value.", f.json);
            let maybe_doc = format!(" Sets or clears the optional `{}`.", f.json);
            quote! {
                #[doc = #doc]
                pub fn #fident(mut self, value: #input) -> Self {
                    self.#fident = ::std::option::Option::Some(#convert);
                    self
                }
                #[doc = #maybe_doc]
                pub fn #maybe(mut self, value: ::std::option::Option<#ty>) -> Self {
                    self.#fident = value;
                    self
                }
            }
        })
        .collect()
}

/// The whole builder of a struct whose fields are all optional: no states.
fn plain_builder(names: &Names<'_>, optional_setters: &[TokenStream]) -> TokenStream {
    let Names { name, builder, opt_idents, opt_types, .. } = names;
    let (ctor_doc, builder_doc, must_use) = (names.ctor_doc(), names.builder_doc(), names.must_use());
    quote! {
        impl #name {
            #[doc = #ctor_doc]
            pub fn builder() -> #builder {
                #builder { #(#opt_idents: ::std::option::Option::None,)* }
            }
        }
        #[doc = #builder_doc]
        #[must_use = #must_use]
        #[derive(Debug)]
        pub struct #builder { #(#opt_idents: ::std::option::Option<#opt_types>,)* }
        impl #builder {
            #(#optional_setters)*
            #[doc = " Finishes the value."]
            pub fn build(self) -> #name {
                #name { #(#opt_idents: self.#opt_idents,)* }
            }
        }
    }
}

/// `Struct::builder()`, starting from the `Empty` state.
fn constructor(names: &Names<'_>) -> TokenStream {
    let Names { name, builder, req_idents, opt_idents, .. } = names;
    let ctor_doc = names.ctor_doc();
    quote! {
        impl #name {
            #[doc = #ctor_doc]
            pub fn builder() -> #builder {
                #builder {
                    #(#req_idents: crate::builder_support::Unset,)*
                    #(#opt_idents: ::std::option::Option::None,)*
                    _state: ::std::marker::PhantomData,
                }
            }
        }
    }
}

/// The state module: the `State` trait, `Empty`, the transitions and the markers.
fn state_mod(names: &Names<'_>) -> TokenStream {
    let Names { name, builder, states, req_camel, .. } = names;
    let states_doc =
        format!(" The type states of [`{builder}`]: which required fields are set. Named in signatures only.");
    let state_doc = format!(" Which required fields of [`{name}`] a builder has set.");
    let empty_assoc = req_camel.iter().map(|a| quote!(type #a = crate::builder_support::Unset;));
    let state_assoc = req_camel.iter().map(|a| quote!(#[doc(hidden)] type #a;));
    let transitions = transitions(names);
    let markers = markers(names);
    quote! {
        #[doc = #states_doc]
        pub mod #states {
            #[allow(unused_imports)]
            use super::*;

            #[doc = #state_doc]
            pub trait State: crate::builder_support::Sealed { #(#state_assoc)* }

            #[doc = " No required field is set."]
            pub struct Empty(());
            impl crate::builder_support::Sealed for Empty {}
            impl State for Empty { #(#empty_assoc)* }

            #(#transitions)*
            #(#markers)*
        }
    }
}

/// One transition state per required field: the field's storage becomes
/// `Set<T>`, every other field keeps the storage of the previous state.
fn transitions(names: &Names<'_>) -> Vec<TokenStream> {
    let Names { required, set_states, req_camel, req_types, .. } = names;
    required
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let set_state = &set_states[i];
            let doc = format!(" The state after `{}` is set on top of `S`.", f.json);
            let assoc = req_camel.iter().zip(req_types).enumerate().map(|(j, (a, t))| {
                if i == j { quote!(type #a = crate::builder_support::Set<#t>;) } else { quote!(type #a = S::#a;) }
            });
            quote! {
                #[doc = #doc]
                pub struct #set_state<S>(::std::marker::PhantomData<fn() -> S>);
                impl<S: State> crate::builder_support::Sealed for #set_state<S> {}
                impl<S: State> State for #set_state<S> { #(#assoc)* }
            }
        })
        .collect()
}

/// The `IsSet`/`IsUnset` markers, whose `on_unimplemented` messages are what a
/// user sees for a missing field or a field set twice.
fn markers(names: &Names<'_>) -> Vec<TokenStream> {
    let struct_name = &names.s.name;
    names
        .required
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let (set, unset, ty, setter) = (&names.is_set[i], &names.is_unset[i], &names.req_types[i], &f.ident);
            let missing = format!(
                "`{struct_name}` is missing its required field `{}`: call `.{setter}(..)` before `.build()`",
                f.json
            );
            let missing_label = format!("`{}` is not set", f.json);
            let twice = format!("`{}` is set twice on the `{struct_name}` builder: call `.{setter}(..)` once", f.json);
            let twice_label = format!("`{}` was already set", f.json);
            let set_doc = format!(" Implemented when `{}` is set.", f.json);
            let unset_doc = format!(" Implemented while `{}` is not set.", f.json);
            quote! {
                #[doc = #set_doc]
                #[diagnostic::on_unimplemented(message = #missing, label = #missing_label)]
                pub trait #set: crate::builder_support::Sealed {
                    #[doc(hidden)]
                    fn into_value(self) -> #ty;
                }
                impl #set for crate::builder_support::Set<#ty> {
                    fn into_value(self) -> #ty { self.0 }
                }
                #[doc = #unset_doc]
                #[diagnostic::on_unimplemented(message = #twice, label = #twice_label)]
                pub trait #unset: crate::builder_support::Sealed {}
                impl #unset for crate::builder_support::Unset {}
            }
        })
        .collect()
}

/// The builder struct: one storage per required field (its state's type), an
/// `Option` per optional field.
fn builder_struct(names: &Names<'_>) -> TokenStream {
    let Names { builder, states, req_idents, req_camel, opt_idents, opt_types, .. } = names;
    let (builder_doc, must_use) = (names.builder_doc(), names.must_use());
    quote! {
        #[doc = #builder_doc]
        #[must_use = #must_use]
        pub struct #builder<S: #states::State = #states::Empty> {
            #(#req_idents: S::#req_camel,)*
            #(#opt_idents: ::std::option::Option<#opt_types>,)*
            _state: ::std::marker::PhantomData<fn() -> S>,
        }
    }
}

/// One setter per required field, callable only while the field is unset; it
/// moves the builder to the field's transition state.
fn required_setters(schema: &Schema, names: &Names<'_>) -> Vec<TokenStream> {
    let Names { builder, states, req_idents, opt_idents, .. } = names;
    names
        .required
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let fident = &req_idents[i];
            let (set_state, unset, camel) = (&names.set_states[i], &names.is_unset[i], &names.req_camel[i]);
            let (input, convert) = setter_input(schema, f);
            let doc = format!(" Sets the required `{}`.", f.json);
            let others = req_idents.iter().enumerate().map(|(j, other)| {
                if i == j {
                    quote!(#other: crate::builder_support::Set(#convert),)
                } else {
                    quote!(#other: self.#other,)
                }
            });
            quote! {
                #[doc = #doc]
                pub fn #fident(self, value: #input) -> #builder<#states::#set_state<S>>
                where S::#camel: #states::#unset
                {
                    #builder {
                        #(#others)*
                        #(#opt_idents: self.#opt_idents,)*
                        _state: ::std::marker::PhantomData,
                    }
                }
            }
        })
        .collect()
}

/// `build()`, which exists once every required field's state is set.
fn finish_fn(names: &Names<'_>) -> TokenStream {
    let Names { name, states, req_idents, req_camel, is_set, opt_idents, .. } = names;
    quote! {
        #[doc = " Finishes the value. Exists once every required field is set."]
        pub fn build(self) -> #name
        where #(S::#req_camel: #states::#is_set,)*
        {
            #name {
                #(#req_idents: #states::#is_set::into_value(self.#req_idents),)*
                #(#opt_idents: self.#opt_idents,)*
            }
        }
    }
}
