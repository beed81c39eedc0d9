use proactive_core::schemas::weather_alert_activated::{WeatherAlert, WeatherAlertType};
use proactive_core::ProactiveEvent;

#[derive(ProactiveEvent)]
#[proactive(schema = "AMAZON.WeatherAlert.Activated")]
struct Alert {
    #[proactive(path = "weatherAlert")]
    alert: WeatherAlert,
    #[proactive(path = "weatherAlert.alertType")]
    kind: WeatherAlertType,
}

fn main() {}
