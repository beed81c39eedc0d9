use proactive_core::ProactiveEvent;

// Reminders are a separate API, not a Proactive Events schema.
#[derive(ProactiveEvent)]
#[proactive(schema = "AMAZON.Reminder.Created")]
struct Reminder {
    #[proactive(path = "reminder.text")]
    text: String,
}

fn main() {}
