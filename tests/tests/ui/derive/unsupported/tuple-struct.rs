use proactive_core::ProactiveEvent;

#[derive(ProactiveEvent)]
#[proactive(schema = "AMAZON.WeatherAlert.Activated")]
struct Alert(String);

fn main() {}
