//! Localized attribute keys: one per field on a path Amazon localizes.

use std::collections::BTreeMap;

use quote::ToTokens;

use super::{Checker, Source};
use crate::ast::Field;
use proactive_table::Kind;

impl Checker<'_, '_> {
    /// The localized attribute key of each field on a localized path: `key`, or
    /// the field's name in camelCase. Keys must be valid and distinct, since each
    /// becomes one entry of every locale's object.
    pub(super) fn keys(&self) -> BTreeMap<usize, String> {
        let mut keys = BTreeMap::new();
        let mut owners: BTreeMap<String, &Field> = BTreeMap::new();
        for claim in &self.claims {
            let Source::Field(index) = claim.source else { continue };
            let node = self.schema.field(claim.path);
            if !node.is_some_and(|node| matches!(node.kind, Kind::Text) && node.localizable) {
                continue;
            }
            let field = &self.input.fields[index];
            let key = match &field.attrs.key {
                Some(lit) => {
                    let key = lit.value();
                    if !valid_key(&key) {
                        self.cx.error_spanned_by(
                            lit,
                            format!(
                                "invalid localized attribute key `{key}`: use 1 to 100 ASCII letters, digits, `_` \
                                 or `-`, and not `locale`"
                            ),
                        );
                        continue;
                    }
                    key
                }
                None => {
                    let key = camel_case(&field.name());
                    if !valid_key(&key) {
                        self.cx.error_spanned_by(
                            field.member,
                            format!(
                                "the name of field `{}` is not a valid localized attribute key (ASCII letters, \
                                 digits, `_` or `-`); set one with `key = \"...\"`",
                                field.name()
                            ),
                        );
                        continue;
                    }
                    key
                }
            };
            if let Some(earlier) = owners.get(&key) {
                let at =
                    field.attrs.key.as_ref().map_or_else(|| field.member.to_token_stream(), ToTokens::to_token_stream);
                self.cx.error_spanned_by(
                    at,
                    format!(
                        "localized attribute key `{key}` is already used by field `{}`; give this field another \
                         `key = \"...\"`",
                        earlier.name()
                    ),
                );
                continue;
            }
            owners.insert(key.clone(), field);
            keys.insert(index, key);
        }
        keys
    }
}

/// The rule of `proactive_schemas::AttributeKey`, checked at compile time.
fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 100
        && key != "locale"
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `provider_name` → `providerName`, the style of Amazon's own keys.
fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for (i, word) in name.split('_').filter(|word| !word.is_empty()).enumerate() {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            if i == 0 {
                out.push(first);
            } else {
                out.extend(first.to_uppercase());
            }
            out.extend(chars);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_camel_case() {
        assert_eq!(camel_case("title"), "title");
        assert_eq!(camel_case("provider_name"), "providerName");
        assert_eq!(camel_case("_network__name_"), "networkName");
        assert_eq!(camel_case("episode_2"), "episode2");
    }

    #[test]
    fn keys_follow_amazons_rule() {
        assert!(valid_key("providerName"));
        assert!(valid_key("a-b_c"));
        assert!(!valid_key(""));
        assert!(!valid_key("locale"));
        assert!(!valid_key("a b"));
        assert!(!valid_key("título"));
        assert!(!valid_key(&"k".repeat(101)));
    }
}
