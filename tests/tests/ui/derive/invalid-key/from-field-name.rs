use proactive_core::{PerLocale, ProactiveEvent};

#[derive(ProactiveEvent)]
#[proactive(
    schema = "AMAZON.WeatherAlert.Activated",
    constant(path = "weatherAlert.alertType", value = "TORNADO")
)]
struct Alert {
    #[proactive(path = "weatherAlert.source")]
    quelle_für_warnung: PerLocale,
}

fn main() {}
