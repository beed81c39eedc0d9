//! The trait every payload type implements, and the visitor that walks a payload.

use std::collections::HashSet;
use std::fmt::Debug;
use std::hash::Hash;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{AnyEvent, EventName, LocalizedText, table};

/// A payload of one of Amazon's event schemas.
///
/// Implemented by the 8 generated payload types. The envelope code uses it to
/// name the event and to find every localized attribute reference and every
/// schema constraint without knowing which schema it holds.
pub trait EventPayload: Serialize + DeserializeOwned + Clone + Debug + PartialEq + Send + Sync + 'static {
    /// Amazon's name of the schema, such as `AMAZON.WeatherAlert.Activated`.
    const NAME: EventName;

    /// The schema's description, generated from the same file as the type.
    fn schema() -> &'static table::Schema {
        Self::NAME.schema()
    }

    /// Walks the payload: every text field, every localizable field, and every
    /// violation of a constraint the type system cannot express (array bounds,
    /// uniqueness, numeric minimums). Paths are relative to the payload, such as
    /// `alert.garbageTypes`.
    fn visit<'a>(&'a self, visitor: &mut dyn Visitor<'a>);

    /// Wraps the payload in the enum over all schemas.
    fn into_any(self) -> AnyEvent;
}

/// Receives what [`EventPayload::visit`] finds. Every method does nothing by default.
///
/// `'a` is the payload's lifetime: a visitor may keep references into it.
pub trait Visitor<'a> {
    /// A field that Amazon localizes, at `path`.
    fn localized_text(&mut self, path: &'static str, value: &'a LocalizedText) {
        let _ = (path, value);
    }

    /// A plain text field that Amazon does not localize, at `path`.
    fn text(&mut self, path: &'static str, value: &'a str) {
        let _ = (path, value);
    }

    /// A constraint of the schema that the value at `path` breaks.
    fn violation(&mut self, path: &'static str, violation: Violation) {
        let _ = (path, violation);
    }
}

/// A schema constraint that a typed payload can still break.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// An array has fewer items than the schema's `minItems`.
    TooFewItems {
        /// The schema's minimum.
        min: usize,
        /// The number of items.
        actual: usize,
    },
    /// An array has more items than the schema's `maxItems`.
    TooManyItems {
        /// The schema's maximum.
        max: usize,
        /// The number of items.
        actual: usize,
    },
    /// An array whose items must be unique repeats the item at `index`.
    DuplicateItem {
        /// The index of the first repeated item.
        index: usize,
    },
    /// A number is below the schema's `minimum`.
    BelowMinimum {
        /// The schema's minimum.
        min: i64,
        /// The value.
        actual: i64,
    },
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooFewItems { min, actual } => write!(f, "{actual} items, at least {min}"),
            Self::TooManyItems { max, actual } => write!(f, "{actual} items, at most {max}"),
            Self::DuplicateItem { index } => write!(f, "item {index} repeats an earlier item; items must be unique"),
            Self::BelowMinimum { min, actual } => write!(f, "{actual} is below the minimum {min}"),
        }
    }
}

/// The index of the first item that repeats an earlier one.
pub fn first_duplicate<T: Hash + Eq>(items: &[T]) -> Option<usize> {
    let mut seen = HashSet::with_capacity(items.len());
    items.iter().position(|item| !seen.insert(item))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_duplicate_finds_the_repeat() {
        assert_eq!(first_duplicate(&[1, 2, 3]), None);
        assert_eq!(first_duplicate(&[1, 2, 1, 2]), Some(2));
        assert_eq!(first_duplicate::<u8>(&[]), None);
    }
}

/// A name that is not one of Amazon's event schemas.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownEventName {
    name: String,
}

impl UnknownEventName {
    pub(crate) fn new(name: &str) -> Self {
        Self { name: name.to_owned() }
    }

    /// The name that was given.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl std::fmt::Display for UnknownEventName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unknown event name `{}`; Amazon's schemas are: ", self.name)?;
        for (i, name) in EventName::ALL.iter().enumerate() {
            write!(f, "{}{name}", if i == 0 { "" } else { ", " })?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownEventName {}
