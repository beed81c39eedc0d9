use chrono::{DateTime, Utc};
use proactive_core::ProactiveEvent;

#[derive(ProactiveEvent)]
#[proactive(schema = "AMAZON.MediaContent.Availble")]
struct Episode {
    #[proactive(path = "availability.startTime")]
    airs: DateTime<Utc>,
}

fn main() {}
