use proactive_core::schemas::weather_alert_activated::{WeatherAlert, WeatherAlertType};
use proactive_core::schemas::message_alert_activated::MessageStatus;

fn main() {
    // A string is not an enum value.
    let _ = WeatherAlert::builder().alert_type("TORNADO").build();
    // Nor is a value of another enum.
    let _ = WeatherAlert::builder().alert_type(MessageStatus::Unread).build();
    // And there is no such variant.
    let _ = WeatherAlertType::Hail;
}
