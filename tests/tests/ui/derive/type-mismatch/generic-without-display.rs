use proactive_core::ProactiveEvent;

#[derive(ProactiveEvent)]
#[proactive(
    schema = "AMAZON.MessageAlert.Activated",
    constant(path = "state.status", value = "UNREAD")
)]
struct Inbox<T> {
    #[proactive(path = "messageGroup.creator.name")]
    sender: T,
    #[proactive(path = "messageGroup.count")]
    count: u32,
}

fn main() {}
