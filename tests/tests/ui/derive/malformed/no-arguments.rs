use proactive_core::ProactiveEvent;

#[derive(ProactiveEvent)]
#[proactive]
struct Tornado;

fn main() {}
