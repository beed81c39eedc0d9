use proactive_core::ProactiveEvent;

#[derive(ProactiveEvent)]
#[proactive(
    schema = "AMAZON.MessageAlert.Activated",
    constant(path = "state.status", value = "UNREAD")
)]
struct Inbox {
    #[proactive(path = "messageGroup.creator.name")]
    sender: String,
    #[proactive(path = "messageGroup.count")]
    count: u64,
}

fn main() {}
