use proactive_core::ProactiveEvent;

#[derive(ProactiveEvent)]
#[proactive(
    schema = "AMAZON.MessageAlert.Activated",
    constant(path = "state.status", value = 1),
    constant(path = "messageGroup.count", value = "five"),
    constant(path = "messageGroup.creator.name", value = ["Andy"])
)]
struct Inbox;

fn main() {}
