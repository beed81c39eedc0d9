use proactive_core::ProactiveEvent;

#[derive(ProactiveEvent)]
#[proactive(schema = "AMAZON.WeatherAlert.Activated", path = "weatherAlert.alertType")]
struct Alert {
    #[proactive(schema = "AMAZON.WeatherAlert.Activated", path = "weatherAlert.source")]
    source: String,
}

fn main() {}
