use chrono::{DateTime, Utc};
use proactive_core::{PerLocale, ProactiveEvent};

#[derive(ProactiveEvent)]
#[proactive(
    schema = "AMAZON.MediaContent.Available",
    constant(path = "content.contentType", value = "EPISODE"),
    constant(path = "availability.method", value = "STREAM")
)]
struct Episode {
    #[proactive(path = "content.nme")]
    title: PerLocale,
    #[proactive(path = "availability.start_time")]
    airs: DateTime<Utc>,
}

fn main() {}
