//! Send Amazon Alexa Proactive Events that Amazon will not reject.
//!
//! This crate re-exports the typed schemas ([`schemas`]); the envelope, the
//! validator and the client build on them.

pub use proactive_schemas as schemas;
