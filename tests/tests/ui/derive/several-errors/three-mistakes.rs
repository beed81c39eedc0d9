use chrono::{DateTime, Utc};
use proactive_core::{PerLocale, ProactiveEvent};

// Three unrelated mistakes, all reported by one build: a misspelled path, a
// misspelled attribute key, and per-locale text on a path that takes an enum.
#[derive(ProactiveEvent)]
#[proactive(
    schema = "AMAZON.MediaContent.Available",
    constant(path = "availability.method", value = "STREAM")
)]
struct Episode {
    #[proactive(path = "content.nmae")]
    title: PerLocale,
    #[proactive(path = "availability.startTime")]
    airs: DateTime<Utc>,
    #[proactive(skip, reason = "internal")]
    id: u64,
    #[proactive(path = "content.contentType")]
    kind: PerLocale,
}

fn main() {}
