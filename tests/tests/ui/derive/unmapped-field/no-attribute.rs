use proactive_core::schemas::weather_alert_activated::WeatherAlertType;
use proactive_core::ProactiveEvent;

#[derive(ProactiveEvent)]
#[proactive(schema = "AMAZON.WeatherAlert.Activated")]
struct Alert {
    #[proactive(path = "weatherAlert.alertType")]
    kind: WeatherAlertType,
    received_at: u64,
}

fn main() {}
