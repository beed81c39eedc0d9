//! The envelope: JSON in and out, and one failing and one passing case per
//! validation rule. Each failing case breaks only that rule, and the report names
//! the rule's path.

use chrono::{DateTime, Duration, Utc};
use proactive_core::json::parse_str;
use proactive_core::schemas::{EventName, LocalizedText};
use proactive_core::{Audience, Envelope, Locale, Report, Rule, Severity};
use serde_json::{Value, json};

/// The seed's envelope: a WeatherAlert with a localized source, sent Unicast.
fn seed() -> Value {
    json!({
        "timestamp": "2019-02-13T14:00:00.00Z",
        "referenceId": "test-0001",
        "expiryTime": "2019-02-14T13:00:00.00Z",
        "event": {
            "name": "AMAZON.WeatherAlert.Activated",
            "payload": {"weatherAlert": {"source": "localizedattribute:source", "alertType": "TORNADO"}}
        },
        "localizedAttributes": [{"locale": "en-US", "source": "English Weather Channel"}],
        "relevantAudience": {"type": "Unicast", "payload": {"user": "amzn1.ask.account.AAAA"}}
    })
}

/// An envelope around `payload` of schema `name`, valid in every other respect.
fn envelope_with(name: &str, payload: Value, localized: Value) -> Value {
    let mut v = seed();
    v["event"] = json!({"name": name, "payload": payload});
    v["localizedAttributes"] = localized;
    v
}

fn report_of(value: &Value) -> Report {
    parse_str(&value.to_string()).report
}

/// Asserts that `value` has exactly the problems `expected` (rule, path, severity).
#[track_caller]
fn assert_problems(value: &Value, expected: &[(Rule, &str, Severity)]) {
    let report = report_of(value);
    let got: Vec<(Rule, &str, Severity)> =
        report.problems().iter().map(|p| (p.rule, p.path.as_str(), p.severity)).collect();
    assert_eq!(got, expected, "\nreport:\n{report}");
}

#[track_caller]
fn assert_clean(value: &Value) {
    assert_problems(value, &[]);
}

fn set(value: &mut Value, pointer: &str, new: Value) {
    *value.pointer_mut(pointer).unwrap_or_else(|| panic!("no {pointer}")) = new;
}

use Severity::{Error, Warning};

#[test]
fn the_seed_envelope_is_clean_and_round_trips() {
    let text = seed().to_string();
    let (envelope, warnings) = Envelope::from_json(&text).unwrap();
    assert!(warnings.is_clean(), "{warnings}");
    let again = Envelope::from_json(&envelope.to_json()).unwrap().0;
    assert_eq!(again, envelope);
    assert_eq!(envelope.event.name(), EventName::WeatherAlertActivated);
}

#[test]
fn json_out_has_all_six_keys_empty_array_and_multicast_object() {
    use proactive_core::schemas::message_alert_activated::*;
    let payload = MessageAlertActivated::builder()
        .state(MessageState::builder().status(MessageStatus::Unread).build())
        .message_group(MessageGroup::builder().creator("Andy").count(2).build())
        .build();
    let timestamp: DateTime<Utc> = "2019-02-13T14:00:00Z".parse().unwrap();
    let envelope = Envelope::builder(&payload, Audience::Multicast)
        .timestamp(timestamp)
        .reference_id("msg-1".parse().unwrap())
        .build();
    let json: Value = serde_json::from_str(&envelope.to_json()).unwrap();
    assert_eq!(
        json,
        json!({
            "timestamp": "2019-02-13T14:00:00Z",
            "referenceId": "msg-1",
            "expiryTime": "2019-02-14T13:00:00Z",
            "event": {
                "name": "AMAZON.MessageAlert.Activated",
                "payload": {"state": {"status": "UNREAD"}, "messageGroup": {"creator": {"name": "Andy"}, "count": 2}}
            },
            "localizedAttributes": [],
            "relevantAudience": {"type": "Multicast", "payload": {}}
        })
    );
    let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["timestamp", "referenceId", "expiryTime", "event", "localizedAttributes", "relevantAudience"]);
}

#[test]
fn default_expiry_is_23_hours_and_helpers_set_it() {
    let payload: proactive_core::schemas::WeatherAlertActivated =
        serde_json::from_value(seed()["event"]["payload"].clone()).unwrap();
    let t: DateTime<Utc> = "2020-01-01T00:00:00Z".parse().unwrap();
    let base = || Envelope::builder(&payload, Audience::Multicast).timestamp(t);
    assert_eq!(base().build().expiry_time, t + Duration::hours(23));
    assert_eq!(base().expires_after(Duration::minutes(30)).build().expiry_time, t + Duration::minutes(30));
    assert_eq!(base().expiry_time(t + Duration::hours(2)).build().expiry_time, t + Duration::hours(2));
}

// referenceId

#[test]
fn reference_id_rule() {
    let mut v = seed();
    set(&mut v, "/referenceId", json!("order_42"));
    assert_problems(&v, &[(Rule::ReferenceId, "referenceId", Error)]);
    let message = report_of(&v).problems()[0].message.clone();
    assert!(message.contains("A-Z, a-z, 0-9, `~` and `-`"), "{message}");
    set(&mut v, "/referenceId", json!("x".repeat(101)));
    assert_problems(&v, &[(Rule::ReferenceId, "referenceId", Error)]);
    set(&mut v, "/referenceId", json!("unique-id-of-this-instance~2"));
    assert_clean(&v);
}

// expiryTime: timestamp + 5 min ..= timestamp + 24 h, both inclusive

#[test]
fn expiry_window_rule_has_inclusive_bounds() {
    let mut v = seed();
    set(&mut v, "/timestamp", json!("2019-02-13T14:00:00Z"));
    for (expiry, ok) in [
        ("2019-02-13T14:04:59Z", false),
        ("2019-02-13T14:05:00Z", true),
        ("2019-02-14T14:00:00Z", true),
        ("2019-02-14T14:00:01Z", false),
        ("2019-02-13T13:00:00Z", false),
    ] {
        set(&mut v, "/expiryTime", json!(expiry));
        if ok {
            assert_clean(&v);
        } else {
            assert_problems(&v, &[(Rule::ExpiryWindow, "expiryTime", Error)]);
        }
    }
}

#[test]
fn expired_events_are_refused_at_send_time() {
    let (envelope, _) = Envelope::from_json(&seed().to_string()).unwrap();
    let before: DateTime<Utc> = "2019-02-13T15:00:00Z".parse().unwrap();
    assert!(envelope.validate_at(before).is_clean());
    let after: DateTime<Utc> = "2019-02-14T13:00:00Z".parse().unwrap();
    let report = envelope.validate_at(after);
    assert!(report.has(Rule::Expired, "expiryTime"), "{report}");
    assert_eq!(report.problems().len(), 1);
}

// Locales

#[test]
fn locale_syntax_rule() {
    let mut v = seed();
    set(&mut v, "/localizedAttributes/0/locale", json!("en_US"));
    let report = report_of(&v);
    assert!(report.has(Rule::Locale, "localizedAttributes[0].locale"), "{report}");
    assert!(report.problems()[0].message.contains("`xx-YY`"), "{report}");
    set(&mut v, "/localizedAttributes/0/locale", json!("en-GB"));
    assert_clean(&v);
}

#[test]
fn duplicate_locale_rule() {
    let mut v = seed();
    v["localizedAttributes"] = json!([{"locale": "en-US", "source": "A"}, {"locale": "en-US", "source": "B"}]);
    assert_problems(&v, &[(Rule::DuplicateLocale, "localizedAttributes[1].locale", Error)]);
    v["localizedAttributes"] = json!([{"locale": "en-US", "source": "A"}, {"locale": "en-GB", "source": "B"}]);
    assert_clean(&v);
}

#[test]
fn every_reference_defined_in_every_locale() {
    let mut v = seed();
    v["localizedAttributes"] = json!([{"locale": "en-US", "source": "A"}, {"locale": "de-DE"}]);
    assert_problems(&v, &[(Rule::UndefinedAttribute, "localizedAttributes[1].source", Error)]);
    v["localizedAttributes"] = json!([]);
    assert_problems(&v, &[(Rule::UndefinedAttribute, "localizedAttributes", Error)]);
    v["localizedAttributes"] = json!([{"locale": "en-US", "source": "A"}, {"locale": "de-DE", "source": "B"}]);
    assert_clean(&v);
}

#[test]
fn unreferenced_keys_are_warnings() {
    let mut v = seed();
    v["localizedAttributes"][0]["sellerName"] = json!("Delivery Owl");
    assert_problems(&v, &[(Rule::UnreferencedAttribute, "localizedAttributes[0].sellerName", Warning)]);
}

#[test]
fn missing_localized_attributes_is_a_warning_or_an_error() {
    let mut v = seed();
    v.as_object_mut().unwrap().remove("localizedAttributes");
    let report = report_of(&v);
    assert_problems(&v, &[(Rule::UndefinedAttribute, "localizedAttributes", Error)]);
    assert!(report.problems()[0].message.contains("`source`"), "{report}");

    let mut v = envelope_with(
        "AMAZON.TrashCollectionAlert.Activated",
        json!({"alert": {"garbageTypes": ["GLASS"], "collectionDayOfWeek": "TUESDAY"}}),
        json!([]),
    );
    assert_clean(&v);
    v.as_object_mut().unwrap().remove("localizedAttributes");
    assert_problems(&v, &[(Rule::MissingLocalizedAttributes, "localizedAttributes", Warning)]);
}

#[test]
fn order_status_outside_en_us_is_a_warning() {
    let payload =
        json!({"state": {"status": "ORDER_RECEIVED"}, "order": {"seller": {"name": "localizedattribute:seller"}}});
    let v = envelope_with(
        "AMAZON.OrderStatus.Updated",
        payload.clone(),
        json!([{"locale": "en-US", "seller": "Delivery Owl"}, {"locale": "de-DE", "seller": "Lieferkauz"}]),
    );
    assert_problems(&v, &[(Rule::LocaleSupport, "localizedAttributes[1].locale", Warning)]);
    let v =
        envelope_with("AMAZON.OrderStatus.Updated", payload, json!([{"locale": "en-US", "seller": "Delivery Owl"}]));
    assert_clean(&v);
}

// Audience

#[test]
fn unicast_needs_a_user() {
    let mut v = seed();
    set(&mut v, "/relevantAudience/payload", json!({}));
    assert_problems(&v, &[(Rule::Audience, "relevantAudience.payload.user", Error)]);
    set(&mut v, "/relevantAudience/payload", json!({"user": ""}));
    assert_problems(&v, &[(Rule::Audience, "relevantAudience.payload.user", Error)]);
    set(&mut v, "/relevantAudience/payload", Value::Null);
    assert_problems(&v, &[(Rule::Audience, "relevantAudience.payload", Error)]);
    set(&mut v, "/relevantAudience/payload", json!({"user": "u".repeat(256)}));
    assert_problems(&v, &[(Rule::Audience, "relevantAudience.payload.user", Error)]);
}

#[test]
fn multicast_payload_is_empty_and_normalized() {
    let mut v = seed();
    v["relevantAudience"] = json!({"type": "Multicast", "payload": {"user": "amzn1.ask.account.A"}});
    assert_problems(&v, &[(Rule::Audience, "relevantAudience.payload.user", Error)]);
    v["relevantAudience"] = json!({"type": "Multicast"});
    assert_problems(&v, &[(Rule::Audience, "relevantAudience.payload", Warning)]);
    let (envelope, _) = Envelope::from_json(&v.to_string()).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&envelope.to_json()).unwrap()["relevantAudience"],
        json!({"type": "Multicast", "payload": {}})
    );
    v["relevantAudience"] = json!({"type": "Multicast", "payload": {}});
    assert_clean(&v);
}

#[test]
fn audience_type_suggests_the_right_spelling() {
    let mut v = seed();
    set(&mut v, "/relevantAudience/type", json!("unicast"));
    let report = report_of(&v);
    assert!(report.has(Rule::Audience, "relevantAudience.type"), "{report}");
    assert!(report.problems()[0].message.contains("did you mean `Unicast`?"), "{report}");
}

#[test]
fn user_id_without_amazon_prefix_is_a_warning() {
    let mut v = seed();
    set(&mut v, "/relevantAudience/payload/user", json!("<user-id>"));
    assert_problems(&v, &[(Rule::UserId, "relevantAudience.payload.user", Warning)]);
}

// Payload constraints

fn trash(types: Value) -> Value {
    envelope_with(
        "AMAZON.TrashCollectionAlert.Activated",
        json!({"alert": {"garbageTypes": types, "collectionDayOfWeek": "TUESDAY"}}),
        json!([]),
    )
}

#[test]
fn garbage_types_hold_one_to_five_unique_items() {
    let path = "event.payload.alert.garbageTypes";
    assert_problems(
        &trash(json!(["GLASS", "CANS", "BULKY", "BOTTLES", "LANDFILL", "BURNABLE"])),
        &[(Rule::ArrayBounds, path, Error)],
    );
    assert_problems(&trash(json!([])), &[(Rule::ArrayBounds, path, Error)]);
    assert_problems(&trash(json!(["GLASS", "GLASS"])), &[(Rule::ArrayBounds, path, Error)]);
    assert_clean(&trash(json!(["GLASS", "CANS", "BULKY", "BOTTLES", "LANDFILL"])));
    let message = report_of(&trash(json!(["GLASS", "CANS", "BULKY", "BOTTLES", "LANDFILL", "BURNABLE"]))).problems()[0]
        .message
        .clone();
    assert_eq!(message, "6 items, at most 5");
}

fn message_alert(count: Value, creator: &str) -> Value {
    envelope_with(
        "AMAZON.MessageAlert.Activated",
        json!({"state": {"status": "UNREAD"}, "messageGroup": {"creator": {"name": creator}, "count": count}}),
        json!([]),
    )
}

#[test]
fn numeric_bounds() {
    assert_problems(
        &message_alert(json!(0), "Andy"),
        &[(Rule::NumericBounds, "event.payload.messageGroup.count", Error)],
    );
    assert_problems(
        &message_alert(json!(-3), "Andy"),
        &[(Rule::NumericBounds, "event.payload.messageGroup.count", Error)],
    );
    assert_problems(
        &message_alert(json!(2.5), "Andy"),
        &[(Rule::InvalidValue, "event.payload.messageGroup.count", Error)],
    );
    assert_clean(&message_alert(json!(1), "Andy"));
}

#[test]
fn empty_spoken_text_is_a_warning() {
    assert_problems(
        &message_alert(json!(1), ""),
        &[(Rule::EmptyText, "event.payload.messageGroup.creator.name", Warning)],
    );
    let mut v = seed();
    set(&mut v, "/localizedAttributes/0/source", json!(" "));
    assert_problems(&v, &[(Rule::EmptyText, "localizedAttributes[0].source", Warning)]);
}

#[test]
fn references_only_where_amazon_localizes() {
    assert_problems(
        &message_alert(json!(1), "localizedattribute:sender"),
        &[(Rule::AttributeKey, "event.payload.messageGroup.creator.name", Error)],
    );
    let mut v = seed();
    set(&mut v, "/event/payload/weatherAlert/source", json!("localizedAttribute:source"));
    set(&mut v, "/localizedAttributes", json!([]));
    assert_problems(&v, &[(Rule::MisspelledReference, "event.payload.weatherAlert.source", Error)]);
    // A valid prefix with an invalid key is still an invalid reference.
    set(&mut v, "/event/payload/weatherAlert/source", json!("localizedattribute:bad key"));
    assert_problems(&v, &[(Rule::AttributeKey, "event.payload.weatherAlert.source", Error)]);
}

#[test]
fn a_misspelled_reference_prefix_names_the_corrected_reference() {
    for (text, corrected) in [
        ("localized:source", "localizedattribute:source"),
        ("LocalizedAttribute:source", "localizedattribute:source"),
        ("localizedattribute : source", "localizedattribute:source"),
    ] {
        let mut v = seed();
        set(&mut v, "/event/payload/weatherAlert/source", json!(text));
        let report = report_of(&v);
        let first = report.errors().next().unwrap_or_else(|| panic!("{text}: no error"));
        assert_eq!((first.rule, first.path.as_str()), (Rule::MisspelledReference, "event.payload.weatherAlert.source"));
        assert_eq!(
            first.message,
            format!(
                "`{text}` looks like a misspelled reference, and Alexa would read it aloud as it is: write \
                 `{corrected}` (the prefix is `localizedattribute:`, lowercase, no spaces)"
            )
        );
    }
    // Ordinary text with a colon is text.
    let mut v = seed();
    set(&mut v, "/event/payload/weatherAlert/source", json!("Weather: the channel"));
    set(&mut v, "/localizedAttributes", json!([]));
    assert_clean(&v);
}

#[test]
fn an_undefined_key_close_to_a_defined_one_gets_a_did_you_mean() {
    let mut v = seed();
    set(&mut v, "/localizedAttributes/0", json!({"locale": "en-US", "Source": "English Weather Channel"}));
    let report = report_of(&v);
    let first = report.errors().next().unwrap();
    assert_eq!(
        first.to_string(),
        "error: localizedAttributes[0].source: `source` is referenced by the payload but not defined for en-US; \
         did you mean `Source`, defined here? Keys are case-sensitive"
    );
    set(&mut v, "/localizedAttributes/0", json!({"locale": "en-US", "sourc": "English Weather Channel"}));
    assert!(report_of(&v).errors().next().unwrap().message.ends_with("did you mean `sourc`, defined here?"));
    set(&mut v, "/localizedAttributes/0", json!({"locale": "en-US", "provider": "English Weather Channel"}));
    assert!(report_of(&v).errors().next().unwrap().message.ends_with("not defined for en-US; add it to this object"));
}

#[test]
fn an_expiry_over_the_bound_by_a_microsecond_says_so() {
    let mut v = seed();
    set(&mut v, "/expiryTime", json!("2019-02-14T14:00:00.000001Z"));
    let report = report_of(&v);
    assert_eq!(
        report.to_string(),
        "error: expiryTime: expiryTime is just over 24 h after the timestamp, under 0.1 ms more than the 24 hours \
         allowed; set it at most 24 h after the timestamp (at the latest 2019-02-14T14:00:00+00:00)"
    );
    // Rounded for a person: never "25 h 275310 ns".
    set(&mut v, "/expiryTime", json!("2019-02-14T15:00:00.000275310Z"));
    assert!(
        report_of(&v).to_string().contains("expiryTime is 25 h 0.3 ms after the timestamp, 1 h 0.3 ms more than"),
        "{}",
        report_of(&v)
    );
    set(&mut v, "/expiryTime", json!("2019-02-13T14:04:59.5Z"));
    assert!(
        report_of(&v)
            .to_string()
            .contains("is only 4 min 59 s 500 ms after the timestamp, 500 ms less than the 5 minutes required"),
        "{}",
        report_of(&v)
    );
}

// Untyped JSON: names, fields, values, known mistakes

#[test]
fn unknown_event_name_suggests_the_closest() {
    let mut v = seed();
    set(&mut v, "/event/name", json!("AMAZON.WeatherAlert.Activate"));
    let report = report_of(&v);
    assert!(report.has(Rule::UnknownEventName, "event.name"), "{report}");
    assert!(report.problems()[0].message.contains("did you mean `AMAZON.WeatherAlert.Activated`?"), "{report}");
    set(&mut v, "/event/name", json!("AMAZON.Reminder.Created"));
    let report = report_of(&v);
    assert!(report.problems()[0].message.contains("AMAZON.SocialGameInvite.Available"), "{report}");
}

#[test]
fn unknown_fields_are_errors_with_suggestions() {
    let v = trash(json!(["GLASS"]));
    let mut broken = v.clone();
    let alert = broken.pointer_mut("/event/payload/alert").unwrap().as_object_mut().unwrap();
    let types = alert.remove("garbageTypes").unwrap();
    alert.insert("garbageTypez".into(), types);
    let report = report_of(&broken);
    assert!(report.has(Rule::UnknownField, "event.payload.alert.garbageTypez"), "{report}");
    assert!(report.has(Rule::MissingField, "event.payload.alert.garbageTypes"), "{report}");
    assert!(report.to_string().contains("did you mean `garbageTypes`?"), "{report}");

    let mut v = seed();
    v["refrenceId"] = json!("x");
    let report = report_of(&v);
    assert!(report.has(Rule::UnknownField, "refrenceId"), "{report}");
    assert!(report.to_string().contains("did you mean `referenceId`?"), "{report}");
}

#[test]
fn invalid_enum_values_are_errors_with_suggestions() {
    let mut v = seed();
    set(&mut v, "/event/payload/weatherAlert/alertType", json!("TORNADOE"));
    assert_problems(&v, &[(Rule::InvalidValue, "event.payload.weatherAlert.alertType", Error)]);
    assert!(report_of(&v).to_string().contains("did you mean `TORNADO`?"));
    set(&mut v, "/event/payload/weatherAlert/alertType", json!("HAIL"));
    assert!(report_of(&v).to_string().contains("use one of TORNADO, HURRICANE, SNOW_STORM, THUNDER_STORM"));
}

#[test]
fn missing_required_payload_fields_are_named() {
    let mut v = seed();
    v["event"]["payload"]["weatherAlert"].as_object_mut().unwrap().remove("alertType");
    assert_problems(&v, &[(Rule::MissingField, "event.payload.weatherAlert.alertType", Error)]);
}

#[test]
fn known_misspellings_are_accepted_normalized_and_warned() {
    // garbageType -> garbageTypes
    let mut v = trash(json!(["GLASS"]));
    let alert = v.pointer_mut("/event/payload/alert").unwrap().as_object_mut().unwrap();
    let types = alert.remove("garbageTypes").unwrap();
    alert.insert("garbageType".into(), types);
    assert_problems(&v, &[(Rule::KnownMistake, "event.payload.alert.garbageType", Warning)]);
    let (envelope, _) = Envelope::from_json(&v.to_string()).unwrap();
    assert!(envelope.to_json().contains(r#""garbageTypes":["GLASS"]"#));

    // enterTimeStamp -> enterTimestamp
    let v = envelope_with(
        "AMAZON.OrderStatus.Updated",
        json!({"state": {"status": "ORDER_DELIVERED", "enterTimeStamp": "2018-09-16T03:00:00.463Z"},
               "order": {"seller": {"name": "Delivery Owl"}}}),
        json!([]),
    );
    assert_problems(&v, &[(Rule::KnownMistake, "event.payload.state.enterTimeStamp", Warning)]);
    assert!(
        Envelope::from_json(&v.to_string())
            .unwrap()
            .0
            .to_json()
            .contains(r#""enterTimestamp":"2018-09-16T03:00:00.463Z""#)
    );

    // ScoreEarned -> scoreEarned
    let v = envelope_with(
        "AMAZON.SportsEvent.Updated",
        json!({"update": {"ScoreEarned": 1, "teamName": "Apples"},
               "sportsEvent": {"eventLeague": {"name": "TreeFruit League"},
                               "homeTeamStatistic": {"team": {"name": "Oranges"}, "score": 1},
                               "awayTeamStatistic": {"team": {"name": "Apples"}, "score": 2}}}),
        json!([]),
    );
    assert_problems(&v, &[(Rule::KnownMistake, "event.payload.update.ScoreEarned", Warning)]);

    // The seed's relationshipToInvitee under invite.inviter -> invite.relationshipToInvitee
    let v = envelope_with(
        "AMAZON.SocialGameInvite.Available",
        json!({"invite": {"inviter": {"name": "Max", "relationshipToInvitee": "FRIEND"}, "inviteType": "CHALLENGE"},
               "game": {"offer": "MATCH", "name": "localizedattribute:gameName"}}),
        json!([{"locale": "en-US", "gameName": "Chess"}]),
    );
    assert_problems(&v, &[(Rule::KnownMistake, "event.payload.invite.inviter.relationshipToInvitee", Warning)]);
    let (envelope, _) = Envelope::from_json(&v.to_string()).unwrap();
    let out: Value = serde_json::from_str(&envelope.to_json()).unwrap();
    assert_eq!(
        out["event"]["payload"]["invite"],
        json!({"inviter": {"name": "Max"}, "relationshipToInvitee": "FRIEND", "inviteType": "CHALLENGE"})
    );
}

#[test]
fn timestamps_without_offset_are_read_as_utc_with_a_warning() {
    let mut v = seed();
    set(&mut v, "/timestamp", json!("2019-02-13T14:00:00.000123"));
    assert_problems(&v, &[(Rule::Timestamp, "timestamp", Warning)]);
    let (envelope, _) = Envelope::from_json(&v.to_string()).unwrap();
    assert_eq!(envelope.timestamp, "2019-02-13T14:00:00.000123Z".parse::<DateTime<Utc>>().unwrap());
    set(&mut v, "/timestamp", json!("13/02/2019"));
    assert_problems(&v, &[(Rule::InvalidValue, "timestamp", Error)]);
}

#[test]
fn malformed_json_gives_line_and_column() {
    let report = parse_str("{\n  \"timestamp\": \"2019-02-13T14:00:00Z\",\n  \"referenceId\": test\n}").report;
    assert_eq!(report.problems().len(), 1);
    let problem = &report.problems()[0];
    assert_eq!(problem.rule, Rule::Json);
    assert!(problem.message.starts_with("invalid JSON at line 3 column"), "{problem}");
    let report = parse_str("{\"timestamp\": ").report;
    assert!(report.problems()[0].message.starts_with("the JSON ends early at line 1"), "{report}");
    let report = parse_str("[1, 2]").report;
    assert!(report.problems()[0].message.contains("expected a JSON object"), "{report}");
}

#[test]
fn a_broken_envelope_still_reports_every_problem() {
    let v = json!({
        "timestamp": "2019-02-13T14:00:00Z",
        "referenceId": "bad id",
        "expiryTime": "2019-02-13T14:01:00Z",
        "event": {"name": "AMAZON.TrashCollectionAlert.Activated",
                  "payload": {"alert": {"garbageTypes": ["GLASS", "GLASS", "CANS", "BULKY", "BOTTLES", "LANDFILL"],
                                        "collectionDayOfWeek": "TUESDAI"}}},
        "localizedAttributes": [{"locale": "en-US"}, {"locale": "en-US"}],
        "relevantAudience": {"type": "Unicast", "payload": {}}
    });
    let report = report_of(&v);
    for (rule, path) in [
        (Rule::ReferenceId, "referenceId"),
        (Rule::ExpiryWindow, "expiryTime"),
        (Rule::InvalidValue, "event.payload.alert.collectionDayOfWeek"),
        (Rule::ArrayBounds, "event.payload.alert.garbageTypes"),
        (Rule::DuplicateLocale, "localizedAttributes[1].locale"),
        (Rule::Audience, "relevantAudience.payload.user"),
    ] {
        assert!(report.has(rule, path), "missing {rule:?} at {path}:\n{report}");
    }
    assert!(parse_str(&v.to_string()).envelope.is_none());
}

// Examples

/// Every schema's documented example, in an envelope that defines the keys it
/// references, in en-US (and de-DE where Amazon documents more than en-US).
#[test]
fn every_documented_example_parses_clean_and_round_trips() {
    for name in EventName::ALL {
        for text in name.schema().examples {
            let payload: Value = serde_json::from_str(text).unwrap();
            let keys: Vec<String> =
                text.split("localizedattribute:").skip(1).map(|s| s.split('"').next().unwrap().to_owned()).collect();
            let locales: &[&str] = if name.schema().locales.is_empty() { &["en-US", "de-DE"] } else { &["en-US"] };
            let localized: Vec<Value> = locales
                .iter()
                .map(|l| {
                    let mut o = serde_json::Map::new();
                    o.insert("locale".into(), json!(l));
                    for k in &keys {
                        o.insert(k.clone(), json!(format!("{k} in {l}")));
                    }
                    Value::Object(o)
                })
                .collect();
            let v = envelope_with(name.as_str(), payload, Value::Array(localized));
            assert_clean(&v);
            let (first, _) = Envelope::from_json(&v.to_string()).unwrap();
            let (second, _) = Envelope::from_json(&first.to_json()).unwrap();
            assert_eq!(first, second, "{name}");
        }
    }
}

#[test]
fn builder_validated_reports_typed_problems() {
    use proactive_core::schemas::weather_alert_activated::*;
    let alert = WeatherAlertActivated::builder()
        .weather_alert(
            WeatherAlert::builder()
                .alert_type(WeatherAlertType::Hurricane)
                .source(LocalizedText::attribute("src"))
                .build(),
        )
        .build();
    let (_, report) = Envelope::builder(&alert, Audience::unicast("amzn1.ask.account.X").unwrap())
        .localized(Locale::en_us(), "src", "Example Weather Corp")
        .unwrap()
        .localized("de-DE".parse().unwrap(), "other", "x")
        .unwrap()
        .build_validated();
    assert!(report.has(Rule::UndefinedAttribute, "localizedAttributes[1].src"), "{report}");
    assert!(report.has(Rule::UnreferencedAttribute, "localizedAttributes[1].other"), "{report}");
}
