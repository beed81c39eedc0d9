use chrono::{DateTime, Utc};
use proactive_core::{PerLocale, ProactiveEvent};

#[derive(ProactiveEvent)]
#[proactive(
    schema = "AMAZON.MediaContent.Available",
    constant(path = "content.contentType", value = "EPISODE")
)]
struct Episode {
    #[proactive(path = "content.name")]
    title: PerLocale,
    #[proactive(path = "availability.startTime")]
    airs: DateTime<Utc>,
}

fn main() {}
