//! A `#[proactive(skip)]` field that nothing else reads is not dead code: the
//! derive reads it, so it needs no `#[allow(dead_code)]` (issue 23).

#![deny(warnings)]

use proactive_core::{PerLocale, ProactiveEvent};

#[derive(ProactiveEvent)]
#[proactive(
    schema = "AMAZON.MediaContent.Available",
    constant(path = "content.contentType", value = "EPISODE"),
    constant(path = "availability.method", value = "STREAM")
)]
struct Episode {
    #[proactive(path = "content.name")]
    title: PerLocale,
    #[proactive(path = "availability.startTime")]
    airs: chrono::DateTime<chrono::Utc>,
    #[proactive(skip)]
    catalog_id: u64,
}

fn main() {
    let episode = Episode { title: PerLocale::new(), airs: chrono::Utc::now(), catalog_id: 48_213 };
    let _ = episode.to_event();
}
