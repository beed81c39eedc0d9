use chrono::{DateTime, Utc};
use proactive_core::schemas::order_status_updated::OrderStatus;
use proactive_core::{PerLocale, ProactiveEvent};

// Some SDKs' docs spell it `enterTimeStamp`; Amazon's example says `enterTimestamp`.
#[derive(ProactiveEvent)]
#[proactive(schema = "AMAZON.OrderStatus.Updated")]
struct Delivered {
    #[proactive(path = "order.seller.name")]
    seller: PerLocale,
    #[proactive(path = "state.status")]
    status: OrderStatus,
    #[proactive(path = "state.enterTimeStamp")]
    delivered_at: DateTime<Utc>,
}

fn main() {}
