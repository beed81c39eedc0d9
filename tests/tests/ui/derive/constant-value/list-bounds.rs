use proactive_core::ProactiveEvent;

#[derive(ProactiveEvent)]
#[proactive(
    schema = "AMAZON.TrashCollectionAlert.Activated",
    constant(path = "alert.collectionDayOfWeek", value = "MONDAY"),
    constant(path = "alert.garbageTypes", value = ["GLASS", "CANS", "BULKY", "BOTTLES", "LANDFILL", "GLASS"])
)]
struct Everything;

fn main() {}
