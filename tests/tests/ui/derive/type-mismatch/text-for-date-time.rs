use proactive_core::ProactiveEvent;

#[derive(ProactiveEvent)]
#[proactive(
    schema = "AMAZON.MediaContent.Available",
    constant(path = "content.contentType", value = "EPISODE"),
    constant(path = "availability.method", value = "STREAM")
)]
struct Episode<'a> {
    #[proactive(path = "content.name")]
    title: &'a str,
    #[proactive(path = "availability.startTime")]
    airs: &'a str,
}

fn main() {}
