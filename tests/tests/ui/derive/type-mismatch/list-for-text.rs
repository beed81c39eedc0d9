use chrono::{DateTime, Utc};
use proactive_core::ProactiveEvent;

#[derive(ProactiveEvent)]
#[proactive(
    schema = "AMAZON.MediaContent.Available",
    constant(path = "content.contentType", value = "EPISODE"),
    constant(path = "availability.method", value = "STREAM")
)]
struct Episode {
    #[proactive(path = "content.name")]
    title: Vec<String>,
    #[proactive(path = "availability.startTime")]
    airs: DateTime<Utc>,
}

fn main() {}
