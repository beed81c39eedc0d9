use chrono::{DateTime, Utc};
use proactive_core::{PerLocale, ProactiveEvent};

#[derive(ProactiveEvent)]
#[proactive(
    schema = "AMAZON.MediaContent.Available",
    constant(path = "content.contentType", value = "EPISODE"),
    constant(path = "availability.method", value = "STREAM")
)]
struct Episode {
    #[proactive(path = "content.name", key = "name")]
    title: PerLocale,
    #[proactive(path = "availability.provider.name", key = "name")]
    network: PerLocale,
    #[proactive(path = "availability.startTime")]
    airs: DateTime<Utc>,
}

fn main() {}
