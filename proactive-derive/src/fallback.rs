//! What the derive emits when it reports an error: the errors, plus an impl whose
//! methods are never run. The impl keeps one mistake in the attributes from
//! turning every use of the struct as an event into a second, misleading error
//! (thiserror does the same).

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

/// `compile_error!`s for `error`, and a stub `impl ProactiveEvent`.
pub(crate) fn expand(input: &DeriveInput, krate: &TokenStream, error: syn::Error) -> TokenStream {
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let error = error.into_compile_error();
    quote! {
        #error

        #[doc(hidden)]
        const _: () = {
            #[automatically_derived]
            impl #impl_generics #krate::ProactiveEvent for #ident #ty_generics #where_clause {
                fn event_name(&self) -> #krate::schemas::EventName {
                    ::core::unreachable!("`#[derive(ProactiveEvent)]` failed to compile")
                }

                fn to_event(&self) -> #krate::schemas::AnyEvent {
                    ::core::unreachable!("`#[derive(ProactiveEvent)]` failed to compile")
                }
            }
        };
    }
}
