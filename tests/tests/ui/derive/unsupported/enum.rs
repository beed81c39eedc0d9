use proactive_core::ProactiveEvent;

#[derive(ProactiveEvent)]
#[proactive(schema = "AMAZON.WeatherAlert.Activated")]
enum Alert {
    Tornado,
    Hurricane,
}

fn main() {}
