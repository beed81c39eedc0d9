use chrono::{DateTime, Utc};
use proactive_core::ProactiveEvent;

#[derive(ProactiveEvent)]
#[proactive(
    schema = "AMAZON.MediaContent.Available",
    constant(path = "availability.method", value = "STREAM")
)]
struct Episode {
    #[proactive(path = "content.name")]
    title: String,
    #[proactive(path = "content.contentType")]
    kind: String,
    #[proactive(path = "availability.startTime")]
    airs: DateTime<Utc>,
}

fn main() {}
