//! Send Amazon Alexa Proactive Events that Amazon will not reject.
//!
//! Every one of Amazon's 8 event schemas is a Rust type with a compile-time
//! checked builder ([`schemas`]); an [`Envelope`] wraps an event in the request
//! body Amazon receives; [`Envelope::validate`] finds every problem the types
//! cannot rule out, each with its JSON path; [`Envelope::to_json`] writes exactly
//! Amazon's JSON; [`Envelope::preview`] shows what Alexa is expected to say.
//!
//! ```
//! use chrono::{Duration, Utc};
//! use proactive_core::schemas::LocalizedText;
//! use proactive_core::schemas::media_content_available::{
//!     Availability, AvailabilityMethod, ContentType, MediaContent, MediaContentAvailable,
//! };
//! use proactive_core::{Audience, Envelope, Locale};
//!
//! // The payload: a compile error if a required field is missing.
//! let episode = MediaContentAvailable::builder()
//!     .availability(
//!         Availability::builder()
//!             .start_time(Utc::now() + Duration::days(1))
//!             .method(AvailabilityMethod::Stream)
//!             .provider(LocalizedText::attribute("provider"))
//!             .build(),
//!     )
//!     .content(
//!         MediaContent::builder()
//!             .name(LocalizedText::attribute("title"))
//!             .content_type(ContentType::Episode)
//!             .build(),
//!     )
//!     .build();
//!
//! // The envelope: timestamp now, a random reference id, expiry in 23 hours.
//! let (envelope, report) = Envelope::builder(episode, Audience::Multicast)
//!     .localized(Locale::en_us(), "title", "The Night Manager")?
//!     .localized(Locale::en_us(), "provider", "Example TV")?
//!     .localized("de-DE".parse()?, "title", "Der Nachtmanager")?
//!     .build_validated();
//!
//! // de-DE lacks `provider`: validation names the path and what to do.
//! assert!(report.has_errors());
//! assert_eq!(report.errors().next().unwrap().path, "localizedAttributes[1].provider");
//!
//! let envelope = Envelope { localized_attributes: {
//!     let mut fixed = envelope.localized_attributes.clone();
//!     fixed.insert("de-DE".parse()?, "provider", "Beispiel TV")?;
//!     fixed
//! }, ..envelope };
//! assert!(envelope.validate().is_clean());
//!
//! // Exactly the body Amazon receives.
//! let json = envelope.to_json();
//! assert!(json.contains(r#""relevantAudience":{"type":"Multicast","payload":{}}"#));
//! println!("{}", envelope.preview(&Locale::en_us()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Reading untyped JSON (a file, a queue message) gives the same report, with
//! "did you mean" suggestions and the known mistakes of other SDKs' docs
//! normalized: see [`Envelope::from_json`] and [`json`].
//!
//! `impl Envelope` is split by concern, one file per question asked of an envelope:
//!
//! | file | methods |
//! | --- | --- |
//! | `envelope.rs` | the type, [`Envelope::builder`], [`Envelope::to_json`], [`Envelope::to_vec`] and [`EnvelopeBuilder`] |
//! | `validate.rs` | [`Envelope::validate`], [`Envelope::validate_at`] and the checks behind them |
//! | `json/` | [`Envelope::from_json`], with [`json::parse_str`] and friends for untyped JSON |
//! | `preview.rs` | [`Envelope::preview`], [`Envelope::previews`] |
//!
//! The schema table that validation, untyped JSON and previews read is the
//! `proactive-table` crate, re-exported as [`schemas::table`]; the derive reads
//! the same table at compile time.
//!
//! Date-times are [`chrono::DateTime<Utc>`](chrono::DateTime): chrono is the most
//! widely used date-time crate, has first-class `serde` and `schemars` support,
//! and parses and writes RFC 3339 as Amazon expects.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod audience;
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub mod client;
pub mod derive_support;
mod envelope;
mod event;
pub mod fanout;
mod ids;
pub mod json;
mod json_kind;
mod localized_attributes;
pub mod manifest;
mod numbers;
mod preview;
mod reference;
mod region;
mod report;
mod strict;
pub mod subscription;
pub mod suggest;
mod validate;
mod window;

pub use chrono;
/// The 8 payload types, their builders and [`EventName`](schemas::EventName):
/// the [`proactive-schemas`](proactive_schemas) crate, documented here so that
/// links to it resolve in `cargo doc -p proactive-core`.
#[doc(inline)]
pub use proactive_schemas as schemas;
/// Checking that a request to the skill comes from Alexa: the
/// [`proactive-verify`](proactive_verify) crate, with the `verify` feature.
#[cfg(feature = "verify")]
#[cfg_attr(docsrs, doc(cfg(feature = "verify")))]
pub use proactive_verify as verify;

pub use audience::Audience;
#[cfg(feature = "client")]
#[cfg_attr(docsrs, doc(cfg(feature = "client")))]
pub use client::Client;
pub use envelope::{DEFAULT_EXPIRY, Envelope, EnvelopeBuilder, ExpiryDuration, MAX_BODY_BYTES, MAX_EXPIRY, MIN_EXPIRY};
pub use event::ProactiveEvent;
pub use ids::{InvalidLocale, InvalidReferenceId, InvalidUserId, Locale, ReferenceId, UserId};
pub use json::Parsed;
pub use localized_attributes::{LocalizedAttributes, PerLocale};
pub use preview::Preview;
pub use proactive_derive::ProactiveEvent;
pub use region::{Region, UnknownRegion};
pub use report::{Problem, Report, Rule, Severity};
pub use window::{MAX_RESTAMP_WINDOW, MIN_RESTAMP_WINDOW, OutsideNowWindow};
