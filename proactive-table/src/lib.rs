//! The table of Amazon's Alexa Proactive Events schemas, and the questions asked of it.
//!
//! One home for one fact: `cargo xtask regen` generates [`SCHEMAS`] from
//! `proactive-schemas/schemas/*.json`, and both `proactive-derive` (at compile
//! time) and `proactive-core` (at run time) read it here, through the same
//! queries ([`Schema::field`], [`Schema::lineage`], [`Schema::all_fields`],
//! [`Schema::hint_for_path`], [`find_schema`], [`closest_schema`]) and the same
//! "did you mean" engine ([`suggest::closest`]), so a typo gets the same hint in
//! a `#[derive(ProactiveEvent)]` and in untyped JSON.
//!
//! The crate holds data and plain functions only: it depends on neither serde nor
//! a proc-macro crate, so the derive stays lean and the runtime does not build
//! `syn`.
//!
//! ```
//! let schema = proactive_table::find_schema("AMAZON.MediaContent.Available").unwrap();
//! let lineage = schema.lineage("availability.provider.name").unwrap();
//! let required: Vec<bool> = lineage.iter().map(|field| field.required).collect();
//! assert_eq!(required, [true, false, true], "`provider` is optional, its `name` is not");
//! assert_eq!(proactive_table::suggest::closest("availability.start_time", schema.paths()), Some("availability.startTime"));
//! ```

mod query;
pub mod suggest;

#[rustfmt::skip]
mod generated {
    pub(crate) mod table;
}

pub use generated::table::SCHEMAS;
pub use query::{PathHint, closest_schema, find_schema, is_within, schema_names};

/// One event schema.
#[derive(Debug)]
pub struct Schema {
    /// Amazon's event name.
    pub name: &'static str,
    /// The payload type's name.
    pub type_name: &'static str,
    /// The module of `proactive-schemas` that holds the payload's types.
    pub module: &'static str,
    /// The schema description file, in `proactive-schemas/schemas/`.
    pub file: &'static str,
    /// What the event is for.
    pub description: &'static str,
    /// The only locales Amazon documents for this schema; empty when it names none.
    pub locales: &'static [&'static str],
    /// English utterance templates; the first whose conditions hold applies.
    pub utterances: &'static [Utterance],
    /// Amazon's example payloads, as JSON text.
    pub examples: &'static [&'static str],
    /// The payload's top-level fields.
    pub fields: &'static [Field],
}

/// One utterance template.
#[derive(Debug)]
pub struct Utterance {
    /// Paths that must hold these enum values.
    pub when: &'static [(&'static str, &'static str)],
    /// Paths that must be present.
    pub when_present: &'static [&'static str],
    /// `{path}` is replaced by the value, `[...]` is dropped unless every path in it is present,
    /// `{path|plural:one:many}` picks a word by a number.
    pub template: &'static str,
}

/// One field of a payload.
#[derive(Debug)]
pub struct Field {
    /// The JSON property name.
    pub name: &'static str,
    /// The JSON path from the payload root, such as `alert.garbageTypes`.
    pub path: &'static str,
    /// The Rust field name.
    pub ident: &'static str,
    /// Whether the field must be present when its parent object is.
    pub required: bool,
    /// Whether the value may be a `localizedattribute:` reference.
    pub localizable: bool,
    /// The value's type.
    pub kind: Kind,
    /// Misspellings accepted in untyped JSON with a warning.
    pub aliases: &'static [&'static str],
    /// Other paths where untyped JSON may carry this field (moved here with a warning).
    pub moved_from: &'static [&'static str],
    /// The fields of an object; empty otherwise.
    pub children: &'static [Field],
}

/// The type of a field.
#[derive(Debug)]
pub enum Kind {
    /// An object, of the named type (relative to `proactive_schemas`).
    Object {
        /// The Rust type.
        type_name: &'static str,
    },
    /// Text (`String`, or `LocalizedText` when localizable).
    Text,
    /// An integer.
    Integer {
        /// The Rust type.
        int_type: IntType,
        /// The smallest allowed value.
        minimum: Option<i64>,
    },
    /// An RFC 3339 date-time, `chrono::DateTime<Utc>`.
    DateTime,
    /// One value of an enum.
    Enum {
        /// The Rust type.
        type_name: &'static str,
        /// The values.
        values: &'static [EnumValue],
    },
    /// An array of enum values.
    EnumArray {
        /// The item's Rust type.
        type_name: &'static str,
        /// The values.
        values: &'static [EnumValue],
        /// The fewest items allowed.
        min_items: usize,
        /// The most items allowed.
        max_items: usize,
        /// Whether items must be distinct.
        unique: bool,
    },
}

/// The Rust type of an integer field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntType {
    /// `u32`: a count or a score, never negative.
    U32,
    /// `i64`: any whole number.
    I64,
}

impl IntType {
    /// The type's Rust name, `u32` or `i64`.
    pub const fn rust_name(self) -> &'static str {
        match self {
            IntType::U32 => "u32",
            IntType::I64 => "i64",
        }
    }

    /// The smallest and largest value the type holds.
    pub fn bounds(self) -> (i128, i128) {
        match self {
            IntType::U32 => (0, i128::from(u32::MAX)),
            IntType::I64 => (i128::from(i64::MIN), i128::from(i64::MAX)),
        }
    }
}

/// One value of an enum.
#[derive(Debug)]
pub struct EnumValue {
    /// Amazon's spelling.
    pub wire: &'static str,
    /// The Rust variant name.
    pub ident: &'static str,
    /// How Alexa is expected to speak it in English.
    pub spoken: &'static str,
}
