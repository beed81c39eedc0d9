use proactive_core::ProactiveEvent;

#[derive(ProactiveEvent)]
#[proactive(schema = "AMAZON.Occasion.Updated")]
struct Appointment {
    #[proactive(skip)]
    id: u64,
}

fn main() {}
