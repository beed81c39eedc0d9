//! Utterance previews: the schema's English template filled with the event's
//! values and each locale's localized attributes.

use proactive_core::{Envelope, Locale};
use serde_json::{Value, json};

fn envelope(name: &str, payload: Value, localized: Value) -> Envelope {
    let v = json!({
        "timestamp": "2019-02-13T14:00:00Z",
        "referenceId": "preview-1",
        "expiryTime": "2019-02-14T13:00:00Z",
        "event": {"name": name, "payload": payload},
        "localizedAttributes": localized,
        "relevantAudience": {"type": "Multicast", "payload": {}}
    });
    Envelope::from_json(&v.to_string()).unwrap_or_else(|r| panic!("{r}")).0
}

fn en(envelope: &Envelope) -> String {
    envelope.preview(&Locale::en_us()).text
}

#[test]
fn weather_alert_with_and_without_source() {
    let with = envelope(
        "AMAZON.WeatherAlert.Activated",
        json!({"weatherAlert": {"source": "localizedattribute:source", "alertType": "TORNADO"}}),
        json!([{"locale": "en-US", "source": "English Weather Channel"}, {"locale": "de-DE", "source": "Deutscher Wetterdienst"}]),
    );
    assert_eq!(en(&with), "There is a tornado alert for your area. Provided by English Weather Channel.");
    let previews: Vec<String> = with.previews().iter().map(ToString::to_string).collect();
    assert_eq!(
        previews,
        [
            "en-US: There is a tornado alert for your area. Provided by English Weather Channel.",
            "de-DE: There is a tornado alert for your area. Provided by Deutscher Wetterdienst. [English sentence; \
             Alexa speaks de-DE in its own words]"
        ]
    );
    let previews = with.previews();
    assert_eq!((previews[0].english_template, previews[1].english_template), (false, true));
    assert!(!with.preview(&"en-GB".parse().unwrap()).english_template, "English locales have their own template");
    let without =
        envelope("AMAZON.WeatherAlert.Activated", json!({"weatherAlert": {"alertType": "SNOW_STORM"}}), json!([]));
    assert_eq!(en(&without), "There is a snow storm alert for your area.");
}

#[test]
fn sports_event() {
    let e = envelope(
        "AMAZON.SportsEvent.Updated",
        json!({"update": {"scoreEarned": 1, "teamName": "Apples"},
               "sportsEvent": {"eventLeague": {"name": "localizedattribute:league"},
                               "homeTeamStatistic": {"team": {"name": "Oranges"}, "score": 1},
                               "awayTeamStatistic": {"team": {"name": "Apples"}, "score": 2}}}),
        json!([{"locale": "en-US", "league": "TreeFruit League"}]),
    );
    assert_eq!(en(&e), "TreeFruit League match update, Apples scored! Oranges 1, Apples 2.");
}

#[test]
fn message_alert_pluralizes() {
    let payload = |count: u32| {
        json!({"state": {"status": "UNREAD", "freshness": "NEW"},
               "messageGroup": {"creator": {"name": "Jane Doe"}, "count": count, "urgency": "URGENT"}})
    };
    let many = envelope("AMAZON.MessageAlert.Activated", payload(3), json!([]));
    assert_eq!(en(&many), "You have 3 new unread urgent messages from Jane Doe.");
    let one = envelope("AMAZON.MessageAlert.Activated", payload(1), json!([]));
    assert_eq!(en(&one), "You have 1 new unread urgent message from Jane Doe.");
}

#[test]
fn order_status_picks_the_template_by_status_and_date() {
    let seller = json!([{"locale": "en-US", "seller": "Delivery Owl"}]);
    let order = |state: Value| {
        envelope(
            "AMAZON.OrderStatus.Updated",
            json!({"state": state, "order": {"seller": {"name": "localizedattribute:seller"}}}),
            seller.clone(),
        )
    };
    assert_eq!(
        en(&order(json!({"status": "PREORDER_RECEIVED"}))),
        "Your preorder from Delivery Owl has been received."
    );
    assert_eq!(
        en(&order(json!({"status": "ORDER_SHIPPED", "deliveryDetails": {"expectedArrival": "2018-12-14T17:30:00Z"}}))),
        "Your order from Delivery Owl has been shipped and will arrive by December 14, 2018 at 5:30 PM UTC."
    );
    assert_eq!(en(&order(json!({"status": "ORDER_SHIPPED"}))), "Your order from Delivery Owl has been shipped.");
    assert_eq!(
        en(&order(json!({"status": "ORDER_DELIVERED", "enterTimestamp": "2018-09-16T03:00:00Z"}))),
        "Your order from Delivery Owl was delivered on September 16, 2018 at 3:00 AM UTC."
    );
    assert_eq!(en(&order(json!({"status": "ORDER_DELIVERED"}))), "Your order from Delivery Owl has been delivered.");
}

#[test]
fn occasion_trash_media_and_game() {
    let occasion = envelope(
        "AMAZON.Occasion.Updated",
        json!({"state": {"confirmationStatus": "CONFIRMED"},
               "occasion": {"occasionType": "APPOINTMENT", "subject": "localizedattribute:subject",
                            "provider": {"name": "Dental XYZ"}, "bookingTime": "2019-05-10T10:00:00Z"}}),
        json!([{"locale": "en-US", "subject": "a root canal"}]),
    );
    assert_eq!(
        en(&occasion),
        "Your appointment at Dental XYZ for a root canal on May 10, 2019 at 10:00 AM UTC has been confirmed."
    );

    let trash = envelope(
        "AMAZON.TrashCollectionAlert.Activated",
        json!({"alert": {"garbageTypes": ["GLASS", "PET_BOTTLES", "WASTE_PAPER"], "collectionDayOfWeek": "TUESDAY"}}),
        json!([]),
    );
    assert_eq!(en(&trash), "This coming Tuesday is glass, PET bottles and waste paper collection day.");

    let media = envelope(
        "AMAZON.MediaContent.Available",
        json!({"availability": {"startTime": "2019-11-20T21:00:00Z", "provider": {"name": "localizedattribute:provider"}, "method": "AIR"},
               "content": {"name": "localizedattribute:title", "contentType": "EPISODE"}}),
        json!([{"locale": "en-US", "provider": "Example TV", "title": "The Night Manager"},
               {"locale": "de-DE", "provider": "Beispiel TV", "title": "Der Nachtmanager"}]),
    );
    assert_eq!(en(&media), "The Night Manager will air on November 20, 2019 at 9:00 PM UTC on Example TV.");
    assert_eq!(
        media.preview(&"de-DE".parse().unwrap()).text,
        "Der Nachtmanager will air on November 20, 2019 at 9:00 PM UTC on Beispiel TV."
    );

    let game = envelope(
        "AMAZON.SocialGameInvite.Available",
        json!({"invite": {"inviter": {"name": "Max"}, "relationshipToInvitee": "FRIEND", "inviteType": "CHALLENGE"},
               "game": {"offer": "MATCH", "name": "localizedattribute:game"}}),
        json!([{"locale": "en-US", "game": "Chess"}]),
    );
    assert_eq!(en(&game), "Your friend Max has challenged you to a match of Chess.");
}

#[test]
fn a_locale_without_the_key_shows_it_missing() {
    let e = envelope(
        "AMAZON.WeatherAlert.Activated",
        json!({"weatherAlert": {"source": "localizedattribute:source", "alertType": "HURRICANE"}}),
        json!([{"locale": "en-US", "source": "NOAA"}]),
    );
    let preview = e.preview(&"fr-FR".parse().unwrap());
    assert_eq!(preview.text, "There is a hurricane alert for your area. Provided by <source?>.");
    assert_eq!(preview.missing, ["source"]);
}
