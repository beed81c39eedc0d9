//! The user's struct as the derive sees it: its attributes parsed, each field's
//! type classified, and the syn nodes kept (`original`) so that every later error
//! can point at the user's tokens.

use syn::{Data, DeriveInput, Fields, GenericArgument, Ident, PathArguments, Type};

use crate::attr;
use crate::ctxt::Ctxt;

/// The struct that derives `ProactiveEvent`.
pub(crate) struct Input<'a> {
    /// The whole input: its name and generics are carried over to the impl.
    pub(crate) original: &'a DeriveInput,
    /// `#[proactive(...)]` on the struct.
    pub(crate) attrs: attr::Container,
    /// Its fields, in order.
    pub(crate) fields: Vec<Field<'a>>,
}

/// One field of the struct.
pub(crate) struct Field<'a> {
    /// The field as written.
    pub(crate) original: &'a syn::Field,
    /// Its name.
    pub(crate) member: &'a Ident,
    /// `#[proactive(...)]` on the field.
    pub(crate) attrs: attr::Field,
    /// The `T` of a field written `Option<T>`: the field may leave its path out.
    pub(crate) option_inner: Option<&'a Type>,
    /// Whether the value type (inside any `Option` or reference) is named
    /// `PerLocale`. This is a guess from the tokens, used only for early, precise
    /// messages; the expansion decides by the type itself.
    pub(crate) per_locale: bool,
}

impl<'a> Input<'a> {
    /// Reads a struct with named fields, or a unit struct (whose values are all
    /// constants); anything else is reported and gives `None`.
    pub(crate) fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Option<Self> {
        let attrs = attr::Container::from_ast(cx, &input.attrs);
        let fields = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(fields) => fields.named.iter().map(|field| Field::from_ast(cx, field)).collect(),
                Fields::Unit => Vec::new(),
                Fields::Unnamed(fields) => {
                    cx.error_spanned_by(
                        fields,
                        "`#[derive(ProactiveEvent)]` needs named fields: their names are the default localized \
                         attribute keys; write `struct Name { field: Type }`",
                    );
                    return None;
                }
            },
            Data::Enum(data) => {
                cx.error_spanned_by(
                    data.enum_token,
                    "`#[derive(ProactiveEvent)]` works on structs only; write one struct per event, or convert \
                     this enum into a derived struct",
                );
                return None;
            }
            Data::Union(data) => {
                cx.error_spanned_by(data.union_token, "`#[derive(ProactiveEvent)]` works on structs only");
                return None;
            }
        };
        Some(Self { original: input, attrs, fields })
    }
}

impl<'a> Field<'a> {
    fn from_ast(cx: &Ctxt, field: &'a syn::Field) -> Self {
        let member = field.ident.as_ref().expect("named fields have names");
        let option_inner = option_inner(&field.ty);
        Self {
            original: field,
            member,
            attrs: attr::Field::from_ast(cx, &field.attrs),
            option_inner,
            per_locale: is_per_locale(option_inner.unwrap_or(&field.ty)),
        }
    }

    /// The field's type as written.
    pub(crate) fn ty(&self) -> &'a Type {
        &self.original.ty
    }

    /// The type of the value: the `T` of an `Option<T>` field, else the field's type.
    pub(crate) fn value_ty(&self) -> &'a Type {
        self.option_inner.unwrap_or(&self.original.ty)
    }

    /// The field's name as the user reads it (`type` for `r#type`).
    pub(crate) fn name(&self) -> String {
        let name = self.member.to_string();
        name.strip_prefix("r#").map(str::to_owned).unwrap_or(name)
    }
}

/// Looks through invisible groups and parentheses.
fn ungroup(mut ty: &Type) -> &Type {
    loop {
        ty = match ty {
            Type::Group(group) => &group.elem,
            Type::Paren(paren) => &paren.elem,
            _ => return ty,
        };
    }
}

/// The `T` of `Option<T>`, `std::option::Option<T>` or `core::option::Option<T>`.
///
/// Like serde, the derive recognizes `Option` by name: a type alias of `Option`
/// is an ordinary type to it.
fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ungroup(ty) else { return None };
    if path.qself.is_some() {
        return None;
    }
    let last = path.path.segments.last()?;
    let PathArguments::AngleBracketed(arguments) = &last.arguments else { return None };
    match (last.ident == "Option", arguments.args.len(), arguments.args.first()) {
        (true, 1, Some(GenericArgument::Type(inner))) => Some(inner),
        _ => None,
    }
}

/// Whether `ty` is written `PerLocale`, `proactive_core::PerLocale` or a reference to one.
fn is_per_locale(ty: &Type) -> bool {
    match ungroup(ty) {
        Type::Reference(reference) => is_per_locale(&reference.elem),
        Type::Path(path) => {
            path.qself.is_none()
                && path.path.segments.last().is_some_and(|last| last.ident == "PerLocale" && last.arguments.is_none())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(text: &str) -> Type {
        syn::parse_str(text).unwrap()
    }

    #[test]
    fn options_are_recognized_by_name() {
        assert!(option_inner(&ty("Option<String>")).is_some());
        assert!(option_inner(&ty("std::option::Option<&'a str>")).is_some());
        assert!(option_inner(&ty("String")).is_none());
        assert!(option_inner(&ty("Vec<String>")).is_none());
        assert!(option_inner(&ty("<T as Tr>::Option")).is_none());
    }

    #[test]
    fn per_locale_is_recognized_through_references() {
        assert!(is_per_locale(&ty("PerLocale")));
        assert!(is_per_locale(&ty("&'a proactive_core::PerLocale")));
        assert!(!is_per_locale(&ty("String")));
        assert!(!is_per_locale(&ty("PerLocale<T>")));
    }
}
