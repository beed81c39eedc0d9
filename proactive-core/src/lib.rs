//! Send Amazon Alexa Proactive Events that Amazon will not reject.
//!
//! This crate re-exports the typed schemas ([`schemas`]) and adds the envelope
//! Amazon receives, its validation, and the vocabulary the client builds on.

pub mod __private;
mod audience;
mod envelope;
mod event;
mod ids;
mod localized;
mod region;
mod report;
mod validate;

pub use chrono;
pub use proactive_schemas as schemas;

pub use audience::Audience;
pub use envelope::{DEFAULT_EXPIRY, Envelope, EnvelopeBuilder, MAX_EXPIRY, MIN_EXPIRY};
pub use event::ProactiveEvent;
pub use ids::{InvalidLocale, InvalidReferenceId, InvalidUserId, Locale, ReferenceId, UserId};
pub use localized::{LocalizedAttributes, PerLocale};
pub use proactive_derive::ProactiveEvent;
pub use region::{Region, UnknownRegion};
pub use report::{Problem, Report, Rule, Severity};
