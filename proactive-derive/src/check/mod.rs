//! Checks the user's mapping against the schema: every rule that needs the schema
//! table or more than one attribute at a time. Each rule is a small method with a
//! comment saying why it exists. Every problem is recorded in the [`Ctxt`]; the
//! [`Plan`] comes back only when there is none.

use std::collections::{BTreeMap, BTreeSet};

use syn::LitStr;

use crate::ast::{Field, Input};
use crate::ctxt::Ctxt;
use proactive_table::{self as table, Kind, PathHint, Schema, is_within, suggest};

use crate::schema::describe;

mod constant;
mod keys;

/// What maps a schema path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// The field at this index of [`Input::fields`].
    Field(usize),
    /// The constant at this index of the container's constants.
    Constant(usize),
}

/// A checked mapping, ready to expand.
pub(crate) struct Plan {
    /// The schema.
    pub(crate) schema: &'static Schema,
    /// What maps each mapped path.
    pub(crate) sources: BTreeMap<&'static str, Source>,
    /// The localized attribute key of each field on a path Amazon localizes, by field index.
    pub(crate) keys: BTreeMap<usize, String>,
}

/// Runs every check; the plan when all pass, `None` after recording the problems.
pub(crate) fn check(cx: &Ctxt, input: &Input) -> Option<Plan> {
    let Some(lit) = &input.attrs.schema else {
        if input.attrs.broken {
            // The schema may be in the part that was reported as broken.
            unmapped_fields(cx, input);
            return None;
        }
        cx.error_spanned_by(
            &input.original.ident,
            format!(
                "missing `#[proactive(schema = \"...\")]` on `{}`: name the event's schema, one of {}",
                input.original.ident,
                suggest::list_or(table::schema_names())
            ),
        );
        unmapped_fields(cx, input);
        return None;
    };
    let Some(schema) = table::find_schema(&lit.value()) else {
        let name = lit.value();
        let hint = match table::closest_schema(&name) {
            Some(close) => format!("did you mean `{close}`?"),
            None => format!("Amazon's schemas are {}", suggest::list(table::schema_names())),
        };
        cx.error_spanned_by(lit, format!("unknown schema `{name}`; {hint}"));
        unmapped_fields(cx, input);
        return None;
    };
    let mut checker = Checker { cx, input, schema, schema_lit: lit, claims: Vec::new(), suggested: BTreeSet::new() };
    checker.fields();
    checker.constants();
    checker.required();
    let keys = checker.keys();
    let sources = checker.claims.iter().map(|claim| (claim.path, claim.source)).collect();
    let errors = cx.error_count();
    (errors == 0).then_some(Plan { schema, sources, keys })
}

/// Every field needs a path or `skip`: a field the derive silently ignored would be
/// data the user believes is sent.
fn unmapped_fields(cx: &Ctxt, input: &Input) {
    for field in &input.fields {
        // A field whose attribute is broken (`pth = "..."`) was reported already.
        if field.attrs.path.is_none() && field.attrs.skip.is_none() && !field.attrs.broken {
            cx.error_spanned_by(
                field.member,
                format!(
                    "field `{}` is not mapped to the schema: add `#[proactive(path = \"...\")]`, or \
                     `#[proactive(skip)]` to leave it out of the event",
                    field.name()
                ),
            );
        }
    }
}

/// One path claimed by a field or a constant.
struct Claim<'a> {
    path: &'static str,
    source: Source,
    /// The `path = "..."` literal, for errors.
    lit: &'a LitStr,
}

struct Checker<'c, 'a> {
    cx: &'c Ctxt,
    input: &'c Input<'a>,
    schema: &'static Schema,
    schema_lit: &'c LitStr,
    claims: Vec<Claim<'c>>,
    /// Paths offered as "did you mean" for an unknown path: not also reported as missing.
    suggested: BTreeSet<&'static str>,
}

impl<'c> Checker<'c, '_> {
    /// Resolves each field's path and checks that its type can sit there.
    fn fields(&mut self) {
        unmapped_fields(self.cx, self.input);
        for (index, field) in self.input.fields.iter().enumerate() {
            let Some(lit) = &field.attrs.path else { continue };
            let Some(lineage) = self.resolve(lit) else { continue };
            let node = *lineage.last().expect("a lineage is never empty");
            self.per_locale(field, node);
            self.key_placement(field, node);
            self.option(field, &lineage);
            self.claim(node.path, Source::Field(index), lit);
        }
    }

    /// Resolves each constant's path and checks its value against the path's type.
    fn constants(&mut self) {
        for (index, constant) in self.input.attrs.constants.iter().enumerate() {
            let Some(lineage) = self.resolve(&constant.path) else { continue };
            let node = *lineage.last().expect("a lineage is never empty");
            self.constant_value(constant, node);
            self.claim(node.path, Source::Constant(index), &constant.path);
        }
    }

    /// A path must exist in the schema. The suggestion covers typos and the
    /// spellings other SDKs' docs use (`state.enterTimeStamp`).
    fn resolve(&mut self, lit: &LitStr) -> Option<Vec<&'static table::Field>> {
        let path = lit.value();
        if let Some(lineage) = self.schema.lineage(&path) {
            return Some(lineage);
        }
        let name = self.schema.name;
        let message = if let Some(known) = self.schema.known_mistake(&path) {
            self.suggested.insert(known);
            format!(
                "unknown path `{path}` in `{name}`; did you mean `{known}`? (`{path}` is a spelling seen in other \
                 SDKs' docs, not Amazon's)"
            )
        } else {
            match self.schema.hint_for_path(&path) {
                PathHint::Closest(close) => {
                    self.suggested.insert(close);
                    format!("unknown path `{path}` in `{name}`; did you mean `{close}`?")
                }
                PathHint::Within(parent) => {
                    let below = parent.descendants();
                    let leaves = below.iter().filter(|field| field.children.is_empty()).map(|field| field.path);
                    format!("unknown path `{path}` in `{name}`; `{}` has {}", parent.path, suggest::list(leaves))
                }
                PathHint::Leaves(leaves) => {
                    format!("unknown path `{path}` in `{name}`; its paths are {}", suggest::list(leaves))
                }
            }
        };
        self.cx.error_spanned_by(lit, message);
        None
    }

    /// A path is mapped once: two sources for one value would leave the user
    /// guessing which one is sent. An object and a path inside it overlap too.
    fn claim(&mut self, path: &'static str, source: Source, lit: &'c LitStr) {
        for earlier in &self.claims {
            let by = self.describe_source(earlier.source);
            let message = if earlier.path == path {
                format!("path `{path}` is mapped twice: remove this mapping or the one of {by}")
            } else if is_within(path, earlier.path) {
                format!(
                    "path `{path}` is inside `{}`, which {by} already maps; map the object or its fields, not both",
                    earlier.path
                )
            } else if is_within(earlier.path, path) {
                format!(
                    "path `{path}` contains `{}`, which {by} already maps; map the object or its fields, not both",
                    earlier.path
                )
            } else {
                continue;
            };
            self.cx.error_spanned_by(lit, message);
            return;
        }
        self.claims.push(Claim { path, source, lit });
    }

    /// Per-locale text needs a path Amazon localizes: anywhere else Amazon would
    /// speak `localizedattribute:KEY` literally.
    fn per_locale(&self, field: &Field, node: &table::Field) {
        if !field.per_locale || (matches!(node.kind, Kind::Text) && node.localizable) {
            return;
        }
        let path = node.path;
        let message = if matches!(node.kind, Kind::Text) {
            format!(
                "per-locale text on `{path}`, which Amazon does not localize; use `String` for the same text in \
                 every locale{}",
                self.localizable_hint()
            )
        } else {
            format!("per-locale text on `{path}`, which takes {}; change the field's type", describe(node))
        };
        self.cx.error_spanned_by(field.value_ty(), message);
    }

    /// `key` names a localized attribute, which only a localized path has.
    fn key_placement(&self, field: &Field, node: &table::Field) {
        let Some(key) = &field.attrs.key else { return };
        if !(matches!(node.kind, Kind::Text) && node.localizable) {
            self.cx.error_spanned_by(
                key,
                format!(
                    "`key` names the localized attribute of per-locale text, but Amazon does not localize `{}`; \
                     remove `key`",
                    node.path
                ),
            );
        }
    }

    /// An `Option` field may leave its value out only where Amazon allows the
    /// path (or an object around it) to be absent.
    fn option(&self, field: &Field, lineage: &[&table::Field]) {
        if field.option_inner.is_none() || lineage.iter().any(|node| !node.required) {
            return;
        }
        let path = lineage.last().expect("a lineage is never empty").path;
        self.cx.error_spanned_by(
            field.ty(),
            format!(
                "`{path}` is required, so its field cannot be an `Option`: remove the `Option`, or map a path that \
                 Amazon lets you leave out"
            ),
        );
    }

    /// Every path Amazon requires must be mapped; an optional object that some
    /// field fills in is present, so the paths it requires must be mapped too.
    /// A path already offered as "did you mean" is not repeated here.
    fn required(&self) {
        // A broken attribute may hold the path that seems missing.
        if self.input.attrs.broken
            || self.input.fields.iter().any(|field| {
                let attrs = &field.attrs;
                attrs.broken && attrs.path.is_none() && attrs.skip.is_none()
            })
        {
            return;
        }
        let mut missing = Vec::new();
        self.walk(self.schema.fields, None, &mut missing);
        missing.retain(|(_, path)| !self.suggested.contains(path));
        let top: Vec<&str> = missing.iter().filter(|(anchor, _)| anchor.is_none()).map(|(_, path)| *path).collect();
        let name = self.schema.name;
        match top.as_slice() {
            [] => {}
            [path] => self.cx.error_spanned_by(
                self.schema_lit,
                format!(
                    "missing required path `{path}` of `{name}`: map it with `#[proactive(path = \"{path}\")]` on a \
                     field, or with `constant(path = \"{path}\", value = ...)`"
                ),
            ),
            paths => self.cx.error_spanned_by(
                self.schema_lit,
                format!(
                    "missing required paths of `{name}`: {}; map each with `#[proactive(path = \"...\")]` on a \
                     field, or with `constant(path = \"...\", value = ...)`",
                    suggest::list(paths.iter().copied())
                ),
            ),
        }
        let mut by_anchor: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (anchor, path) in &missing {
            if let Some(anchor) = anchor {
                by_anchor.entry(anchor).or_default().push(path);
            }
        }
        for (anchor, paths) in by_anchor {
            let claim = self
                .claims
                .iter()
                .find(|claim| is_within(claim.path, anchor))
                .expect("a present object has a mapped path");
            self.cx.error_spanned_by(
                claim.lit,
                format!(
                    "missing {}: `{anchor}` is present because {} maps `{}`, and Amazon requires {} whenever \
                     `{anchor}` is present",
                    suggest::list(paths.iter().copied()),
                    self.describe_source(claim.source),
                    claim.path,
                    if paths.len() == 1 { "it" } else { "them" },
                ),
            );
        }
    }

    /// Collects the required paths under `fields` that nothing maps, each with the
    /// optional object whose presence makes it required (`None`: always required).
    fn walk(
        &self,
        fields: &'static [table::Field],
        anchor: Option<&'static str>,
        missing: &mut Vec<(Option<&'static str>, &'static str)>,
    ) {
        for field in fields {
            if self.claims.iter().any(|claim| claim.path == field.path) {
                continue;
            }
            let filled = self.claims.iter().any(|claim| is_within(claim.path, field.path));
            if !field.children.is_empty() && (field.required || filled) {
                let anchor = if field.required { anchor } else { Some(field.path) };
                self.walk(field.children, anchor, missing);
            } else if field.required {
                missing.push((anchor, field.path));
            }
        }
    }

    /// ``field `title` `` or `a constant`.
    fn describe_source(&self, source: Source) -> String {
        match source {
            Source::Field(index) => format!("field `{}`", self.input.fields[index].name()),
            Source::Constant(_) => "a constant".to_owned(),
        }
    }

    /// `; Amazon localizes `a` and `b`` for the schema, or nothing when it localizes no path.
    fn localizable_hint(&self) -> String {
        let localizable: Vec<&str> =
            self.schema.all_fields().into_iter().filter(|field| field.localizable).map(|field| field.path).collect();
        match localizable.as_slice() {
            [] => format!(" (`{}` has no localized path)", self.schema.name),
            paths => format!(" (`{}` localizes {})", self.schema.name, suggest::list(paths.iter().copied())),
        }
    }
}

/// The cheap layer below the trybuild cases (darling's `accrue_errors` tests):
/// which errors, and how many, a struct gets.
#[cfg(test)]
mod tests {
    use syn::DeriveInput;

    use super::*;

    /// Every error message for `input`, in order.
    fn errors_of(input: DeriveInput) -> Vec<String> {
        let cx = Ctxt::new();
        if let Some(input) = Input::from_ast(&cx, &input) {
            let plan = check(&cx, &input);
            assert_eq!(plan.is_some(), cx.error_count() == 0);
        }
        match cx.check() {
            Ok(()) => Vec::new(),
            Err(error) => error.into_iter().map(|error| error.to_string()).collect(),
        }
    }

    #[test]
    fn a_complete_mapping_has_no_error() {
        let errors = errors_of(syn::parse_quote! {
            #[proactive(schema = "AMAZON.MediaContent.Available", constant(path = "content.contentType", value = "EPISODE"))]
            struct Episode<'a, T> {
                #[proactive(path = "content.name")] title: PerLocale,
                #[proactive(path = "availability.startTime")] airs: DateTime<Utc>,
                #[proactive(path = "availability.method")] method: AvailabilityMethod,
                #[proactive(path = "availability.provider.name", key = "network")] network: Option<&'a T>,
                #[proactive(skip)] id: u64,
            }
        });
        assert_eq!(errors, Vec::<String>::new());
    }

    #[test]
    fn every_mistake_is_reported_once() {
        let errors = errors_of(syn::parse_quote! {
            #[proactive(schema = "AMAZON.MediaContent.Available", constant(path = "availability.method", value = "STREM"))]
            struct Episode {
                #[proactive(path = "content.nmae")] title: PerLocale,
                #[proactive(path = "content.contentType")] kind: PerLocale,
                #[proactive(path = "availability.startTime")] airs: Option<DateTime<Utc>>,
                unmapped: u8,
            }
        });
        assert_eq!(errors.len(), 5, "{errors:#?}");
        assert!(errors[0].starts_with("field `unmapped` is not mapped"), "{}", errors[0]);
        assert!(errors[1].contains("did you mean `content.name`?"), "{}", errors[1]);
        assert!(errors[2].starts_with("per-locale text on `content.contentType`"), "{}", errors[2]);
        assert!(errors[3].starts_with("`availability.startTime` is required, so its field cannot be an `Option`"));
        assert!(errors[4].contains("did you mean `STREAM`?"), "{}", errors[4]);
    }

    /// What seems missing may be in a broken attribute: it is not reported on top.
    #[test]
    fn broken_attributes_do_not_cascade() {
        let errors = errors_of(syn::parse_quote! {
            #[proactive(schema = "AMAZON.WeatherAlert.Activated")]
            struct Alert {
                #[proactive(pth = "weatherAlert.alertType")] kind: WeatherAlertType,
            }
        });
        assert_eq!(errors, ["unknown proactive field attribute `pth`; did you mean `path`?"]);
        let errors = errors_of(syn::parse_quote! {
            #[proactive(schem = "AMAZON.WeatherAlert.Activated")]
            struct Alert {
                #[proactive(path = "weatherAlert.alertType")] kind: WeatherAlertType,
            }
        });
        assert_eq!(errors, ["unknown proactive container attribute `schem`; did you mean `schema`?"]);
    }

    #[test]
    fn an_optional_object_that_a_field_fills_needs_its_required_paths() {
        let errors = errors_of(syn::parse_quote! {
            #[proactive(
                schema = "AMAZON.Occasion.Updated",
                constant(path = "state.confirmationStatus", value = "CONFIRMED"),
                constant(path = "occasion.occasionType", value = "APPOINTMENT"),
            )]
            struct Appointment {
                #[proactive(path = "occasion.subject")] subject: String,
                #[proactive(path = "occasion.provider.name")] provider: String,
                #[proactive(path = "occasion.bookingTime")] at: DateTime<Utc>,
            }
        });
        assert_eq!(errors, Vec::<String>::new());
        let errors = errors_of(syn::parse_quote! {
            #[proactive(schema = "AMAZON.SportsEvent.Updated")]
            struct Score {
                #[proactive(path = "update.scoreEarned")] points: Option<u32>,
            }
        });
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(
            errors[0]
                .starts_with("missing required paths of `AMAZON.SportsEvent.Updated`: `sportsEvent.eventLeague.name`")
        );
        assert!(errors[1].starts_with("missing `update.teamName`: `update` is present because field `points`"));
    }
}
