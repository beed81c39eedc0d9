use proactive_core::{PerLocale, ProactiveEvent};

#[derive(ProactiveEvent)]
#[proactive(
    schema = "AMAZON.WeatherAlert.Activated",
    constant(path = "weatherAlert.alertType", value = "TORNADO")
)]
struct Alert {
    #[proactive(path = "weatherAlert.source", key = "weather service")]
    source: PerLocale,
}

fn main() {}
