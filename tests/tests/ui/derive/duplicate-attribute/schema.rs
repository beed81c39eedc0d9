use proactive_core::ProactiveEvent;

#[derive(ProactiveEvent)]
#[proactive(schema = "AMAZON.WeatherAlert.Activated", schema = "AMAZON.OrderStatus.Updated")]
#[proactive(constant(path = "weatherAlert.alertType", value = "TORNADO"))]
struct Tornado;

fn main() {}
