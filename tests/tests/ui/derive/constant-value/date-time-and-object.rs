use proactive_core::ProactiveEvent;

#[derive(ProactiveEvent)]
#[proactive(
    schema = "AMAZON.Occasion.Updated",
    constant(path = "state", value = "CONFIRMED"),
    constant(path = "occasion.occasionType", value = "APPOINTMENT"),
    constant(path = "occasion.subject", value = "a check-up"),
    constant(path = "occasion.provider.name", value = "Dental XYZ"),
    constant(path = "occasion.bookingTime", value = "2026-05-10T09:00:00Z")
)]
struct CheckUp;

fn main() {}
