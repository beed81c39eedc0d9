use proactive_core::ProactiveEvent;

#[derive(ProactiveEvent)]
struct Episode {
    #[proactive(path = "content.name")]
    title: String,
}

fn main() {}
