use chrono::{DateTime, Utc};
use proactive_core::{PerLocale, ProactiveEvent};

#[derive(ProactiveEvent)]
#[proactive(
    schema = "AMAZON.MediaContent.Available",
    constant(path = "availability.method", value = "STREAM")
)]
struct Episode {
    #[proactive(path = "content.name")]
    title: PerLocale,
    #[proactive(path = "content.contentType")]
    kind: PerLocale,
    #[proactive(path = "availability.startTime")]
    airs: DateTime<Utc>,
}

fn main() {}
