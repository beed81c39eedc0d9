use proactive_core::ProactiveEvent;

#[derive(ProactiveEvent)]
#[proactive(
    schema = "AMAZON.MessageAlert.Activated",
    constant(path = "state.status", value = "UNREAD"),
    constant(path = "messageGroup.creator.name", value = "Andy"),
    constant(path = "messageGroup.count", value = 0)
)]
struct NoMessages;

fn main() {}
