use proactive_core::{Audience, Envelope, PerLocale, ProactiveEvent};

// The attribute has a typo; the derive still implements the trait (with a stub),
// so the uses below compile and the typo is the only error.
#[derive(ProactiveEvent)]
#[proactive(
    schema = "AMAZON.WeatherAlert.Activated",
    constant(path = "weatherAlert.alertType", value = "TORNADO")
)]
struct Alert {
    #[proactive(path = "weatherAlert.sourse")]
    source: PerLocale,
}

fn send(event: &dyn ProactiveEvent) -> String {
    event.event_name().to_string()
}

fn main() {
    let alert = Alert { source: PerLocale::new() };
    let _ = send(&alert);
    let _ = Envelope::builder(&alert, Audience::Multicast).build();
}
