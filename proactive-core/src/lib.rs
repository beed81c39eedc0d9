//! Send Amazon Alexa Proactive Events that Amazon will not reject.
//!
//! This crate re-exports the typed schemas ([`schemas`]) and adds the envelope
//! Amazon receives, its validation, and the vocabulary the client builds on.

mod audience;
mod envelope;
mod event;
mod ids;
pub mod json;
mod localized;
mod preview;
mod region;
mod report;
mod suggest;
mod validate;

pub use proactive_schemas as schemas;

pub use audience::Audience;
pub use envelope::{DEFAULT_EXPIRY, Envelope, EnvelopeBuilder, MAX_EXPIRY, MIN_EXPIRY};
pub use event::ProactiveEvent;
pub use ids::{InvalidLocale, InvalidReferenceId, InvalidUserId, Locale, ReferenceId, UserId};
pub use json::Parsed;
pub use localized::{LocalizedAttributes, PerLocale};
pub use preview::Preview;
pub use region::{Region, UnknownRegion};
pub use report::{Problem, Report, Rule, Severity};
