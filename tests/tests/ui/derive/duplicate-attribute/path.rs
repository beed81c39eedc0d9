use proactive_core::ProactiveEvent;

#[derive(ProactiveEvent)]
#[proactive(
    schema = "AMAZON.WeatherAlert.Activated",
    constant(path = "weatherAlert.alertType", value = "TORNADO")
)]
struct Alert {
    #[proactive(path = "weatherAlert.source")]
    #[proactive(path = "weatherAlert.source")]
    source: String,
}

fn main() {}
