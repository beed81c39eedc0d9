//! Constants (`constant(path = ..., value = ...)`): each value must be one the
//! path takes, since it is written into every event as is.

use std::collections::BTreeSet;

use syn::LitStr;

use super::Checker;
use crate::attr::{Constant, ConstantValue};
use proactive_table::{self as table, IntType, Kind, suggest};

use crate::schema::last_segment;

impl Checker<'_, '_> {
    /// A constant must be a value the path takes, known at compile time.
    pub(super) fn constant_value(&self, constant: &Constant, node: &table::Field) {
        let path = node.path;
        let error = |message: String| self.cx.error_at(constant.value.span(), message);
        match (&node.kind, &constant.value) {
            (Kind::Enum { values, .. }, ConstantValue::Str(lit)) => self.enum_value(lit, path, values),
            (Kind::Enum { values, .. }, _) => error(format!(
                "`{path}` takes one of {} as a string, like `value = \"{}\"`",
                suggest::list_or(values.iter().map(|value| value.wire)),
                values[0].wire
            )),
            (Kind::EnumArray { values, min_items, max_items, unique, .. }, ConstantValue::List { items, .. }) => {
                for item in items {
                    self.enum_value(item, path, values);
                }
                let count = items.len();
                if count < *min_items || count > *max_items {
                    error(format!("`{path}` takes {min_items} to {max_items} values, not {count}"));
                }
                if *unique {
                    let mut seen = BTreeSet::new();
                    for item in items {
                        if !seen.insert(item.value()) {
                            self.cx.error_spanned_by(
                                item,
                                format!("`{}` is listed twice; the values of `{path}` must be distinct", item.value()),
                            );
                        }
                    }
                }
            }
            (Kind::EnumArray { values, .. }, _) => {
                error(format!("`{path}` takes a list of its values, like `value = [\"{}\"]`", values[0].wire))
            }
            (Kind::Text, ConstantValue::Str(_)) => {}
            (Kind::Text, _) => error(format!("`{path}` takes text, like `value = \"...\"`")),
            (Kind::Integer { int_type, minimum }, ConstantValue::Int { lit, negative, .. }) => {
                self.integer(lit, *negative, path, *int_type, *minimum);
            }
            (Kind::Integer { .. }, _) => error(format!("`{path}` takes an integer, like `value = 1`")),
            (Kind::DateTime, _) => error(format!(
                "`{path}` is a date-time, which cannot be a constant; map it from a `DateTime<Utc>` field"
            )),
            (Kind::Object { type_name }, _) => error(format!(
                "`{path}` is an object (`{}`), which cannot be a constant; set its fields ({}) with constants or \
                 fields, or map it from a field",
                last_segment(type_name),
                suggest::list(node.children.iter().map(|child| child.path))
            )),
        }
    }

    fn enum_value(&self, lit: &LitStr, path: &str, values: &[table::EnumValue]) {
        let value = lit.value();
        if values.iter().any(|known| known.wire == value) {
            return;
        }
        let hint = suggest::did_you_mean_or_list(&value, values.iter().map(|known| known.wire), "expected one of");
        self.cx.error_spanned_by(lit, format!("unknown value `{value}` for `{path}`{hint}"));
    }

    fn integer(&self, lit: &syn::LitInt, negative: bool, path: &str, int_type: IntType, minimum: Option<i64>) {
        let type_name = int_type.rust_name();
        if !lit.suffix().is_empty() {
            self.cx.error_spanned_by(lit, format!("write the integer without a suffix: `{path}` is `{type_name}`"));
            return;
        }
        let parsed = lit.base10_parse::<i128>().map(|value| if negative { -value } else { value });
        let (low, high) = int_type.bounds();
        match parsed {
            Ok(value) if minimum.is_some_and(|minimum| value < i128::from(minimum)) => self.cx.error_spanned_by(
                lit,
                format!("`{path}` takes at least {}, not `{value}`", minimum.unwrap_or_default()),
            ),
            Ok(value) if !(low..=high).contains(&value) => self.cx.error_spanned_by(
                lit,
                format!("`{value}` does not fit `{path}`, which is `{type_name}` ({low} to {high})"),
            ),
            Ok(_) => {}
            Err(error) => self.cx.syn_error(error),
        }
    }
}
