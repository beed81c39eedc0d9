use proactive_core::schemas::weather_alert_activated::{WeatherAlert, WeatherAlertType};

fn main() {
    let _ = WeatherAlert::builder()
        .alert_type(WeatherAlertType::Tornado)
        .alert_type(WeatherAlertType::Hurricane)
        .build();
}
