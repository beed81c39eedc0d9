use proactive_core::ProactiveEvent;

#[derive(ProactiveEvent)]
#[proactive(
    schema = "AMAZON.WeatherAlert.Activated",
    constant(path = "weatherAlert.alertType", valeu = "TORNADO")
)]
struct Tornado;

fn main() {}
