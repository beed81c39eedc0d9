//! Every schema's documented examples against the generated types: serde
//! round-trips, the builders, and the JSON Schema that schemars derives.

use chrono::{DateTime, Utc};
use proactive_core::schemas::{
    AnyEvent, EventName, EventPayload, LocalizedText, MediaContentAvailable, MessageAlertActivated, OccasionUpdated,
    OrderStatusUpdated, SocialGameInviteAvailable, SportsEventUpdated, TrashCollectionAlertActivated,
    WeatherAlertActivated, table,
};
use serde_json::{Value, json};

fn examples(name: EventName) -> Vec<Value> {
    name.schema().examples.iter().map(|text| serde_json::from_str(text).unwrap()).collect()
}

fn time(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// Reads `payload` as an event named `name`, writes it back, and asserts that
/// nothing changed.
fn round_trip(name: EventName, payload: &Value) -> AnyEvent {
    let wrapped = json!({"name": name.as_str(), "payload": payload});
    let any: AnyEvent = serde_json::from_value(wrapped.clone()).unwrap_or_else(|e| panic!("{name}: {e}\n{payload}"));
    assert_eq!(serde_json::to_value(&any).unwrap(), wrapped, "{name} does not round-trip");
    assert_eq!(any.name(), name);
    any
}

/// Every documented example deserializes, serializes back unchanged, and equals
/// the event its builder makes.
#[test]
fn every_example_round_trips_and_matches_its_builder() {
    for name in EventName::ALL {
        let examples = examples(name);
        let built = built_examples(name);
        assert_eq!(examples.len(), built.len(), "{name}: one builder per example");
        for (example, built) in examples.iter().zip(built) {
            assert_eq!(round_trip(name, example), built, "{name}: the example and the builder differ");
        }
    }
}

/// Amazon's examples for `name`, made with the builders, in the schema file's order.
fn built_examples(name: EventName) -> Vec<AnyEvent> {
    match name {
        EventName::WeatherAlertActivated => vec![weather_alert().into_any()],
        EventName::SportsEventUpdated => vec![sports_event().into_any()],
        EventName::MessageAlertActivated => vec![message_alert().into_any()],
        EventName::OrderStatusUpdated => order_status().map(EventPayload::into_any).into(),
        EventName::OccasionUpdated => vec![occasion().into_any()],
        EventName::TrashCollectionAlertActivated => vec![trash_collection().into_any()],
        EventName::MediaContentAvailable => vec![media_content().into_any()],
        EventName::SocialGameInviteAvailable => vec![social_game_invite().into_any()],
    }
}

fn weather_alert() -> WeatherAlertActivated {
    use proactive_core::schemas::weather_alert_activated::*;
    WeatherAlertActivated::builder()
        .weather_alert(
            WeatherAlert::builder()
                .alert_type(WeatherAlertType::Tornado)
                .source(LocalizedText::attribute("source"))
                .build(),
        )
        .build()
}

fn sports_event() -> SportsEventUpdated {
    use proactive_core::schemas::sports_event_updated::*;
    SportsEventUpdated::builder()
        .update(ScoreUpdate::builder().score_earned(1).team_name("Apples").build())
        .sports_event(
            SportsEvent::builder()
                .event_league(LocalizedText::attribute("eventLeagueName"))
                .home_team_statistic(TeamStatistic::builder().team("Oranges").score(1).build())
                .away_team_statistic(TeamStatistic::builder().team("Apples").score(2).build())
                .build(),
        )
        .build()
}

fn message_alert() -> MessageAlertActivated {
    use proactive_core::schemas::message_alert_activated::*;
    MessageAlertActivated::builder()
        .state(MessageState::builder().status(MessageStatus::Unread).freshness(MessageFreshness::New).build())
        .message_group(MessageGroup::builder().creator("Andy").count(5).urgency(MessageUrgency::Urgent).build())
        .build()
}

/// Shipped, then delivered.
fn order_status() -> [OrderStatusUpdated; 2] {
    use proactive_core::schemas::order_status_updated::*;
    let shipped = OrderStatusUpdated::builder()
        .state(
            OrderState::builder()
                .status(OrderStatus::OrderShipped)
                .delivery_details(DeliveryDetails::builder().expected_arrival(time("2018-12-14T23:32:00.463Z")).build())
                .build(),
        )
        .order(Order::builder().seller(LocalizedText::attribute("sellerName")).build())
        .build();
    let delivered = OrderStatusUpdated::builder()
        .state(
            OrderState::builder()
                .status(OrderStatus::OrderDelivered)
                .enter_timestamp(time("2018-09-16T03:00:00.463Z"))
                .build(),
        )
        .order(Order::builder().seller(LocalizedText::attribute("sellerName")).build())
        .build();
    [shipped, delivered]
}

fn occasion() -> OccasionUpdated {
    use proactive_core::schemas::occasion_updated::*;
    OccasionUpdated::builder()
        .state(OccasionState::builder().confirmation_status(ConfirmationStatus::Confirmed).build())
        .occasion(
            Occasion::builder()
                .occasion_type(OccasionType::Appointment)
                .subject(LocalizedText::attribute("subject"))
                .provider(LocalizedText::attribute("providerName"))
                .booking_time(time("2018-11-20T19:16:31Z"))
                .broker(LocalizedText::attribute("brokerName"))
                .build(),
        )
        .build()
}

fn trash_collection() -> TrashCollectionAlertActivated {
    use proactive_core::schemas::trash_collection_alert_activated::*;
    TrashCollectionAlertActivated::builder()
        .alert(
            TrashCollectionAlert::builder()
                .garbage_types([GarbageType::Compostable, GarbageType::RecyclablePlastics])
                .collection_day_of_week(DayOfWeek::Tuesday)
                .build(),
        )
        .build()
}

fn media_content() -> MediaContentAvailable {
    use proactive_core::schemas::media_content_available::*;
    MediaContentAvailable::builder()
        .availability(
            Availability::builder()
                .start_time(time("2018-11-20T21:00:00Z"))
                .provider(LocalizedText::attribute("providerName"))
                .method(AvailabilityMethod::Air)
                .build(),
        )
        .content(
            MediaContent::builder()
                .name(LocalizedText::attribute("contentName"))
                .content_type(ContentType::Book)
                .build(),
        )
        .build()
}

fn social_game_invite() -> SocialGameInviteAvailable {
    use proactive_core::schemas::social_game_invite_available::*;
    SocialGameInviteAvailable::builder()
        .invite(
            Invite::builder()
                .inviter("Max")
                .relationship_to_invitee(Relationship::Friend)
                .invite_type(InviteType::Challenge)
                .build(),
        )
        .game(Game::builder().offer(GameOffer::Match).name(LocalizedText::attribute("gameName")).build())
        .build()
}

/// The seed's placement of `relationshipToInvitee` (under `invite.inviter`) is not
/// Amazon's; the typed model rejects it, naming the field. (The untyped reader in
/// proactive-core moves it with a warning.)
#[test]
fn seed_placement_of_relationship_is_rejected_by_the_typed_model() {
    let seed = json!({
        "invite": {"inviter": {"name": "Max", "relationshipToInvitee": "FRIEND"}, "inviteType": "CHALLENGE"},
        "game": {"offer": "MATCH", "name": "localizedattribute:gameName"}
    });
    let error = serde_json::from_value::<SocialGameInviteAvailable>(seed).unwrap_err().to_string();
    assert!(error.contains("unknown field `relationshipToInvitee`"), "{error}");
}

#[test]
fn absent_optionals_are_omitted_and_unknown_fields_rejected() {
    use proactive_core::schemas::weather_alert_activated::*;
    let payload = WeatherAlertActivated::builder()
        .weather_alert(WeatherAlert::builder().alert_type(WeatherAlertType::SnowStorm).build())
        .build();
    assert_eq!(serde_json::to_value(&payload).unwrap(), json!({"weatherAlert": {"alertType": "SNOW_STORM"}}));
    let error = serde_json::from_value::<WeatherAlertActivated>(
        json!({"weatherAlert": {"alertType": "TORNADO", "sourc": "x"}}),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("unknown field `sourc`"), "{error}");
    let error = serde_json::from_value::<WeatherAlertActivated>(json!({"weatherAlert": {"alertType": "HAIL"}}))
        .unwrap_err()
        .to_string();
    assert!(error.contains("unknown variant `HAIL`"), "{error}");
}

/// A payload's date-times read as strictly as the untyped JSON reader reads
/// them: RFC 3339 only (not chrono's relaxed `FromStr`), normalized to UTC.
#[test]
fn payload_date_times_are_strict_rfc3339() {
    use proactive_core::schemas::order_status_updated::OrderState;
    let state =
        |time: &str| serde_json::from_value::<OrderState>(json!({"status": "ORDER_SHIPPED", "enterTimestamp": time}));
    let read = state("2026-03-01T10:00:00.5+02:00").unwrap();
    assert_eq!(read.enter_timestamp, Some(time("2026-03-01T08:00:00.5Z")));
    for relaxed in
        ["2026-03-01T08:00:00 +00:00", "2026-03-01T08:00:00+0000", "2026-03-01T08:00:00", " 2026-03-01T08:00:00Z"]
    {
        assert!(state(relaxed).is_err(), "{relaxed} was read");
        assert!(relaxed.parse::<DateTime<Utc>>().is_ok() || relaxed == "2026-03-01T08:00:00", "chrono reads {relaxed}");
    }
    let error = state("2026-03-01 08:00:00 +00:00").unwrap_err().to_string();
    assert!(error.contains("input contains invalid characters"), "{error}");
    // `null` stays `None`, as before, for optional date-times.
    let read =
        serde_json::from_value::<OrderState>(json!({"status": "ORDER_SHIPPED", "enterTimestamp": null})).unwrap();
    assert_eq!(read.enter_timestamp, None);
    let occasion = examples(EventName::OccasionUpdated).remove(0);
    let mut relaxed = occasion.clone();
    relaxed["occasion"]["bookingTime"] = json!("2018-11-20 19:16:31 +00:00");
    assert!(serde_json::from_value::<OccasionUpdated>(occasion).is_ok());
    assert!(serde_json::from_value::<OccasionUpdated>(relaxed).is_err());
}

#[test]
fn the_table_and_the_types_agree_on_every_name() {
    assert_eq!(table::SCHEMAS.len(), 8);
    for name in EventName::ALL {
        assert_eq!(name.schema().name, name.as_str());
        assert_eq!(name.as_str().parse::<EventName>().unwrap(), name);
    }
    let error = "AMAZON.Reminder.Created".parse::<EventName>().unwrap_err().to_string();
    assert!(error.starts_with("unknown event name `AMAZON.Reminder.Created`"), "{error}");
    assert!(error.contains("AMAZON.SocialGameInvite.Available"), "{error}");
}

/// The visitor reports localized references, plain text, and the constraints
/// that types cannot express.
#[test]
fn visit_reports_paths_and_violations() {
    use proactive_core::schemas::trash_collection_alert_activated::*;
    use proactive_core::schemas::{Violation, Visitor};

    #[derive(Default)]
    struct Collect(Vec<String>);
    impl Visitor<'_> for Collect {
        fn localized_text(&mut self, path: &'static str, value: &LocalizedText) {
            self.0.push(format!("localized {path} = {value}"));
        }
        fn text(&mut self, path: &'static str, value: &str) {
            self.0.push(format!("text {path} = {value}"));
        }
        fn violation(&mut self, path: &'static str, violation: Violation) {
            self.0.push(format!("violation {path}: {violation}"));
        }
    }

    let six = [
        GarbageType::Bottles,
        GarbageType::Cans,
        GarbageType::Glass,
        GarbageType::Bulky,
        GarbageType::Landfill,
        GarbageType::Cans,
    ];
    let payload = TrashCollectionAlertActivated::builder()
        .alert(TrashCollectionAlert::builder().garbage_types(six).collection_day_of_week(DayOfWeek::Monday).build())
        .build();
    let mut seen = Collect::default();
    payload.visit(&mut seen);
    assert_eq!(
        seen.0,
        [
            "violation alert.garbageTypes: 6 items, at most 5",
            "violation alert.garbageTypes: item 5 repeats an earlier item; items must be unique"
        ]
    );

    let mut seen = Collect::default();
    let payload = TrashCollectionAlertActivated::builder()
        .alert(TrashCollectionAlert::builder().garbage_types([]).collection_day_of_week(DayOfWeek::Monday).build())
        .build();
    payload.visit(&mut seen);
    assert_eq!(seen.0, ["violation alert.garbageTypes: 0 items, at least 1"]);

    let mut seen = Collect::default();
    let example: MessageAlertActivated =
        serde_json::from_value(examples(EventName::MessageAlertActivated)[0].clone()).unwrap();
    let mut zero = example.clone();
    zero.message_group.count = 0;
    zero.visit(&mut seen);
    assert_eq!(
        seen.0,
        ["text messageGroup.creator.name = Andy", "violation messageGroup.count: 0 is below the minimum 1"]
    );

    let mut seen = Collect::default();
    let occasion: OccasionUpdated = serde_json::from_value(examples(EventName::OccasionUpdated)[0].clone()).unwrap();
    occasion.visit(&mut seen);
    assert_eq!(
        seen.0,
        [
            "localized occasion.subject = localizedattribute:subject",
            "localized occasion.provider.name = localizedattribute:providerName",
            "localized occasion.broker.name = localizedattribute:brokerName"
        ]
    );
}

/// The JSON Schema that schemars derives for each payload type accepts Amazon's
/// example and rejects a copy without a required field and a copy with an
/// invalid enum value.
#[test]
fn derived_json_schemas_accept_examples_and_reject_broken_copies() {
    fn check<T: EventPayload + schemars::JsonSchema>() {
        let schema = serde_json::to_value(schemars::schema_for!(T)).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{}: {e}", T::NAME));
        let info = T::schema();
        for example in examples(T::NAME) {
            assert!(validator.is_valid(&example), "{} rejects its own example", T::NAME);

            let required = info.fields.iter().find(|f| f.required).unwrap();
            let mut missing = example.clone();
            missing.as_object_mut().unwrap().remove(required.name);
            assert!(!validator.is_valid(&missing), "{} accepts a payload without `{}`", T::NAME, required.path);

            // Sports has no enum field; its type check is on an integer instead.
            let (path, bad) = match first_enum_path(info.fields) {
                Some(path) => (path, json!("NOT_A_VALUE")),
                None => ("sportsEvent.homeTeamStatistic.score", json!("one")),
            };
            let mut broken = example.clone();
            let slot = path.split('.').fold(&mut broken, |value, key| &mut value[key]);
            assert!(!slot.is_null(), "{}: no value at `{path}`", T::NAME);
            *slot = bad;
            assert!(!validator.is_valid(&broken), "{} accepts a wrong value at `{path}`", T::NAME);
        }
    }

    fn first_enum_path(fields: &'static [table::Field]) -> Option<&'static str> {
        fields.iter().find_map(|f| match f.kind {
            table::Kind::Enum { .. } => Some(f.path),
            _ => first_enum_path(f.children),
        })
    }

    check::<WeatherAlertActivated>();
    check::<SportsEventUpdated>();
    check::<MessageAlertActivated>();
    check::<OrderStatusUpdated>();
    check::<OccasionUpdated>();
    check::<TrashCollectionAlertActivated>();
    check::<MediaContentAvailable>();
    check::<SocialGameInviteAvailable>();
}

/// The schema constraints reach the derived JSON Schema too.
#[test]
fn derived_json_schema_carries_array_bounds() {
    let schema = serde_json::to_value(schemars::schema_for!(TrashCollectionAlertActivated)).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let with = |types: Value| json!({"alert": {"garbageTypes": types, "collectionDayOfWeek": "MONDAY"}});
    assert!(validator.is_valid(&with(json!(["GLASS"]))));
    assert!(!validator.is_valid(&with(json!([]))));
    assert!(!validator.is_valid(&with(json!(["GLASS", "GLASS"]))));
    assert!(!validator.is_valid(&with(json!(["GLASS", "CANS", "BULKY", "BOTTLES", "LANDFILL", "BURNABLE"]))));
}
