use proactive_core::{PerLocale, ProactiveEvent};

// Amazon speaks the sender's name as given: it is not localized.
#[derive(ProactiveEvent)]
#[proactive(
    schema = "AMAZON.MessageAlert.Activated",
    constant(path = "state.status", value = "UNREAD")
)]
struct Inbox {
    #[proactive(path = "messageGroup.creator.name")]
    sender: PerLocale,
    #[proactive(path = "messageGroup.count")]
    count: u32,
}

fn main() {}
