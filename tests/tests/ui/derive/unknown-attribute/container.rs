use proactive_core::ProactiveEvent;

#[derive(ProactiveEvent)]
#[proactive(
    schema = "AMAZON.WeatherAlert.Activated",
    constants(path = "weatherAlert.alertType", value = "TORNADO"),
    rename_all = "camelCase"
)]
struct Alert {
    #[proactive(path = "weatherAlert.source")]
    source: String,
}

fn main() {}
