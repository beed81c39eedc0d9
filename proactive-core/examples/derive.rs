//! A user's own struct as an Alexa event: `#[derive(ProactiveEvent)]` maps its
//! fields onto `AMAZON.MediaContent.Available`, with the title and the network in
//! three locales.
//!
//! Run with `cargo run -p proactive-core --example derive`; it prints the request
//! body Amazon would receive and the English sentence Alexa is expected to say.

use chrono::{DateTime, Duration, TimeZone, Utc};
use proactive_core::{Audience, Envelope, Locale, PerLocale, ProactiveEvent, ReferenceId};

/// An episode as the application keeps it.
#[derive(ProactiveEvent)]
#[proactive(
    schema = "AMAZON.MediaContent.Available",
    constant(path = "content.contentType", value = "EPISODE"),
    constant(path = "availability.method", value = "AIR")
)]
struct Episode {
    /// Spoken in the user's language: `localizedattribute:title` in the payload.
    #[proactive(path = "content.name")]
    title: PerLocale,
    #[proactive(path = "availability.startTime")]
    airs: DateTime<Utc>,
    /// Optional in the schema: `None` would leave `availability.provider` out.
    #[proactive(path = "availability.provider.name", key = "network")]
    channel: Option<PerLocale>,
    /// The application's own bookkeeping, not part of the event.
    #[proactive(skip)]
    catalog_id: u64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let episode = Episode {
        title: PerLocale::new()
            .with("en-US", "The Night Manager, episode 3")?
            .with("de-DE", "Der Nachtmanager, Folge 3")?
            .with("fr-FR", "Le Directeur de nuit, épisode 3")?,
        airs: Utc.with_ymd_and_hms(2026, 5, 1, 20, 0, 0).unwrap(),
        channel: Some(
            PerLocale::new()
                .with("en-US", "Example TV")?
                .with("de-DE", "Beispiel TV")?
                .with("fr-FR", "Télé Exemple")?,
        ),
        catalog_id: 48_213,
    };

    let (envelope, report) = Envelope::builder(&episode, Audience::Multicast)
        .timestamp(Utc.with_ymd_and_hms(2026, 5, 1, 8, 0, 0).unwrap())
        .reference_id(ReferenceId::new("night-manager-s01e03")?)
        .expires_after(Duration::hours(12))
        .build_validated();
    if report.has_errors() {
        return Err(format!("the event would be rejected:\n{report}").into());
    }

    println!("{}", serde_json::to_string_pretty(&envelope)?);
    println!("\n{}", envelope.preview(&Locale::en_us()));
    Ok(())
}
