use proactive_core::schemas::weather_alert_activated::WeatherAlertType;
use proactive_core::ProactiveEvent;

#[derive(ProactiveEvent)]
#[proactive(
    schema = "AMAZON.WeatherAlert.Activated",
    constant(path = "weatherAlert.alertType", value = "TORNADO")
)]
struct Alert {
    #[proactive(path = "weatherAlert.alertType")]
    kind: WeatherAlertType,
}

fn main() {}
