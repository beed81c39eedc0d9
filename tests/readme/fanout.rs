use futures_util::StreamExt;
use proactive_core::client::{BulkSummary, Client};
use proactive_core::fanout::FanOut;
use proactive_core::schemas::LocalizedText;
use proactive_core::schemas::order_status_updated::{Order, OrderState, OrderStatus, OrderStatusUpdated};
use proactive_core::subscription::{MemoryStore, SubscriptionChangedRequest, SubscriptionTracker};
use proactive_core::{Audience, Envelope, Locale};
use proactive_sandbox::Sandbox;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Who subscribed. In production the events endpoint fills a SqliteStore or a
    // DynamoDbStore from Alexa's requests; here, two of them.
    let tracker = SubscriptionTracker::new(MemoryStore::new());
    for (user, host) in [("ALICE", "https://api.eu.amazonalexa.com"), ("BOB", "https://api.amazonalexa.com")] {
        let request = serde_json::json!({
            "version": "1.0",
            "context": {"System": {
                "application": {"applicationId": "amzn1.ask.skill.example"},
                "user": {"userId": format!("amzn1.ask.account.{user}")},
                "apiEndpoint": host
            }},
            "request": {
                "type": "AlexaSkillEvent.ProactiveSubscriptionChanged",
                "requestId": format!("amzn1.echo-api.request.{user}"),
                "timestamp": chrono_now(),
                "body": {"subscriptions": [{"eventName": "AMAZON.OrderStatus.Updated"}]}
            }
        });
        tracker.apply(&SubscriptionChangedRequest::from_value(&request)?).await?;
    }

    // The template every subscriber gets; validated once.
    let payload = OrderStatusUpdated::builder()
        .state(OrderState::builder().status(OrderStatus::OrderShipped).build())
        .order(Order::builder().seller(LocalizedText::attribute("sellerName")).build())
        .build();
    let template = Envelope::builder(payload, Audience::Multicast)
        .localized(Locale::en_us(), "sellerName", "Delivery Owl")?
        .build();
    let fanout = FanOut::from_template("order-1234/shipped", template)?;

    // Amazon, offline. In production: Client::builder(client_id, client_secret).build()?
    let sandbox = Sandbox::start().await?;
    let client = Client::builder(sandbox.client_id().to_owned(), sandbox.client_secret().to_owned())
        .base_url(sandbox.base_url())
        .token_url(sandbox.token_url())
        .build()?;

    // A page of subscribers at a time, each user's event to their own region.
    let mut summary = BulkSummary::new();
    let mut pages = std::pin::pin!(tracker.subscriber_pages(fanout.event().clone(), None, 1_000));
    while let Some(page) = pages.next().await {
        let routed: Vec<_> = page?
            .subscribers
            .iter()
            .filter_map(|subscriber| Some((subscriber.region(), fanout.prepare_for(subscriber)?.ok()?)))
            .collect();
        let mut outcomes = client.send_routed_stream(futures_util::stream::iter(routed), 16);
        while let Some(outcome) = outcomes.next().await {
            summary.record(&outcome);
        }
    }
    println!("{summary}");
    assert_eq!(sandbox.records().accepted.len(), 2);
    Ok(())
}

/// Now, as Alexa writes request timestamps.
fn chrono_now() -> String {
    proactive_core::chrono::Utc::now().to_rfc3339()
}
