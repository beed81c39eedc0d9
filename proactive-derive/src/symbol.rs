//! The words of `#[proactive(...)]`, as constants, so the parser compares against
//! one spelling and the messages list the same words.

use std::fmt;

use syn::{Ident, Path};

/// One attribute keyword.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Symbol(&'static str);

/// The attribute itself: `#[proactive(...)]`.
pub(crate) const PROACTIVE: Symbol = Symbol("proactive");

// Container keys.
/// `schema = "AMAZON.MediaContent.Available"`.
pub(crate) const SCHEMA: Symbol = Symbol("schema");
/// `constant(path = "...", value = ...)`.
pub(crate) const CONSTANT: Symbol = Symbol("constant");
/// `crate = "path::to::proactive_core"`.
pub(crate) const CRATE: Symbol = Symbol("crate");

// Field keys (`path` is also a key of `constant`).
/// `path = "content.name"`.
pub(crate) const PATH: Symbol = Symbol("path");
/// `key = "title"`.
pub(crate) const KEY: Symbol = Symbol("key");
/// `skip`.
pub(crate) const SKIP: Symbol = Symbol("skip");

// Keys of `constant(...)`.
/// `value = "EPISODE"`, `value = 3` or `value = ["GLASS", "CANS"]`.
pub(crate) const VALUE: Symbol = Symbol("value");

/// The keys a container attribute accepts.
pub(crate) const CONTAINER_KEYS: &[Symbol] = &[SCHEMA, CONSTANT, CRATE];
/// The keys a field attribute accepts.
pub(crate) const FIELD_KEYS: &[Symbol] = &[PATH, KEY, SKIP];
/// The keys `constant(...)` accepts.
pub(crate) const CONSTANT_KEYS: &[Symbol] = &[PATH, VALUE];

impl Symbol {
    /// The keyword as written.
    pub(crate) fn as_str(self) -> &'static str {
        self.0
    }
}

impl PartialEq<Symbol> for Ident {
    fn eq(&self, word: &Symbol) -> bool {
        self == word.0
    }
}

impl PartialEq<Symbol> for Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}
