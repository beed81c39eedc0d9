use proactive_core::schemas::weather_alert_activated::WeatherAlert;

fn main() {
    // `alertType` is required.
    let _ = WeatherAlert::builder().source("Example Weather Corp").build();
}
