//! `AlexaSkillEvent.ProactiveSubscriptionChanged` requests in the shapes Alexa
//! sends them, and the errors for bodies that are not one.

use chrono::{DateTime, Utc};
use proactive_core::schemas::EventName;
use proactive_core::subscription::{RequestError, SubscribedEvent, SubscriptionChangedRequest};
use proactive_core::{Region, UserId};

/// A request as Alexa POSTs it to the events endpoint, with the fields Amazon's
/// model has and the ones real requests carry besides (`apiAccessToken`).
const WITH_SUBSCRIPTIONS: &str = r#"{
  "version": "1.0",
  "context": {
    "System": {
      "application": { "applicationId": "amzn1.ask.skill.0f4e2b3c-1111-2222-3333-444455556666" },
      "user": { "userId": "amzn1.ask.account.AGF7EXAMPLEUSERID" },
      "apiEndpoint": "https://api.eu.amazonalexa.com",
      "apiAccessToken": "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.example.signature"
    }
  },
  "request": {
    "type": "AlexaSkillEvent.ProactiveSubscriptionChanged",
    "requestId": "amzn1.echo-api.request.6c1f0a8e-7777-8888-9999-000011112222",
    "timestamp": "2024-05-01T12:00:00Z",
    "locale": "en-GB",
    "body": {
      "subscriptions": [
        { "eventName": "AMAZON.WeatherAlert.Activated" },
        { "eventName": "AMAZON.TrashCollectionAlert.Activated" }
      ]
    }
  }
}"#;

fn parse(body: &str) -> SubscriptionChangedRequest {
    SubscriptionChangedRequest::from_json(body).unwrap_or_else(|e| panic!("{e}\n{body}"))
}

fn error(body: &str) -> RequestError {
    match SubscriptionChangedRequest::from_json(body) {
        Ok(request) => panic!("expected an error, got {request:?}\n{body}"),
        Err(error) => error,
    }
}

/// `WITH_SUBSCRIPTIONS` with the text `from` replaced by `to`, which must occur.
fn edit(from: &str, to: &str) -> String {
    assert!(WITH_SUBSCRIPTIONS.contains(from), "{from}");
    WITH_SUBSCRIPTIONS.replacen(from, to, 1)
}

fn names(request: &SubscriptionChangedRequest) -> Vec<&str> {
    request.subscriptions().iter().map(SubscribedEvent::as_str).collect()
}

const BODY: &str = r#""body": {
      "subscriptions": [
        { "eventName": "AMAZON.WeatherAlert.Activated" },
        { "eventName": "AMAZON.TrashCollectionAlert.Activated" }
      ]
    }"#;

#[test]
fn a_request_with_subscriptions_is_read_whole() {
    let request = parse(WITH_SUBSCRIPTIONS);
    assert_eq!(request.version(), "1.0");
    assert_eq!(request.application_id(), "amzn1.ask.skill.0f4e2b3c-1111-2222-3333-444455556666");
    assert_eq!(request.user_id(), &UserId::new("amzn1.ask.account.AGF7EXAMPLEUSERID").unwrap());
    assert_eq!(request.api_endpoint(), "https://api.eu.amazonalexa.com");
    assert_eq!(request.region(), Some(Region::Europe));
    assert_eq!(request.request_id(), "amzn1.echo-api.request.6c1f0a8e-7777-8888-9999-000011112222");
    assert_eq!(request.timestamp(), "2024-05-01T12:00:00Z".parse::<DateTime<Utc>>().unwrap());
    assert_eq!(request.locale(), Some("en-GB"));
    // A set, sorted by name.
    assert_eq!(names(&request), ["AMAZON.TrashCollectionAlert.Activated", "AMAZON.WeatherAlert.Activated"]);
    let known: Vec<_> = request.subscriptions().iter().filter_map(SubscribedEvent::known).collect();
    assert_eq!(known, [EventName::TrashCollectionAlertActivated, EventName::WeatherAlertActivated]);
    assert!(request.ensure_application("amzn1.ask.skill.0f4e2b3c-1111-2222-3333-444455556666").is_ok());
}

#[test]
fn the_access_token_is_not_kept() {
    let request = parse(WITH_SUBSCRIPTIONS);
    assert!(!format!("{request:?}").contains("eyJ0eXAi"), "{request:?}");
}

#[test]
fn an_empty_list_means_subscribed_to_nothing() {
    let request = parse(&edit(BODY, r#""body": { "subscriptions": [] }"#));
    assert!(request.subscriptions().is_empty());
}

#[test]
fn a_body_without_subscriptions_means_subscribed_to_nothing() {
    for body in [r#""body": {}"#, r#""body": { "subscriptions": null }"#] {
        let request = parse(&edit(BODY, body));
        assert!(request.subscriptions().is_empty(), "{body}");
    }
}

#[test]
fn a_request_without_a_body_means_subscribed_to_nothing() {
    let request = parse(&edit(&format!(",\n    {BODY}"), ""));
    assert!(request.subscriptions().is_empty());
    let request = parse(&edit(BODY, r#""body": null"#));
    assert!(request.subscriptions().is_empty());
}

#[test]
fn epoch_millisecond_timestamps_are_read_as_utc() {
    let expected = "2024-05-01T12:00:00Z".parse::<DateTime<Utc>>().unwrap();
    let request = parse(&edit(r#""2024-05-01T12:00:00Z""#, "1714564800000"));
    assert_eq!(request.timestamp(), expected);
    let request = parse(&edit(r#""2024-05-01T12:00:00Z""#, r#""1714564800000""#));
    assert_eq!(request.timestamp(), expected);
    let request = parse(&edit(r#""2024-05-01T12:00:00Z""#, r#""2024-05-01T14:00:00.000+02:00""#));
    assert_eq!(request.timestamp(), expected);
}

#[test]
fn unknown_fields_are_ignored_everywhere() {
    let body = WITH_SUBSCRIPTIONS
        .replacen(r#""version": "1.0","#, r#""version": "1.0", "session": {"new": true},"#, 1)
        .replacen(
            r#""apiEndpoint""#,
            r#""device": {"deviceId": "amzn1.ask.device.X", "supportedInterfaces": {}},
      "person": {"personId": "amzn1.ask.person.P"},
      "apiEndpoint""#,
            1,
        )
        .replacen(
            r#""locale": "en-GB","#,
            r#""locale": "en-GB", "eventCreationTime": "2024-05-01T11:59:59Z", "eventPublishingTime": "2024-05-01T12:00:00Z","#,
            1,
        )
        .replacen(
            r#"{ "eventName": "AMAZON.WeatherAlert.Activated" }"#,
            r#"{ "eventName": "AMAZON.WeatherAlert.Activated", "subscribedAt": 17 }"#,
            1,
        );
    assert_ne!(body, WITH_SUBSCRIPTIONS);
    assert_eq!(parse(&body), parse(WITH_SUBSCRIPTIONS));
}

#[test]
fn an_event_name_outside_the_eight_is_kept() {
    let request = parse(&edit("AMAZON.TrashCollectionAlert.Activated", "AMAZON.FlightStatus.Updated"));
    assert_eq!(names(&request), ["AMAZON.FlightStatus.Updated", "AMAZON.WeatherAlert.Activated"]);
    let unknown = request.subscriptions().iter().find(|e| e.known().is_none()).unwrap();
    assert_eq!(unknown.as_str(), "AMAZON.FlightStatus.Updated");
}

#[test]
fn the_request_deserializes_with_serde_too() {
    let request: SubscriptionChangedRequest = serde_json::from_str(WITH_SUBSCRIPTIONS).unwrap();
    assert_eq!(request, parse(WITH_SUBSCRIPTIONS));
    let error = serde_json::from_str::<SubscriptionChangedRequest>(&edit(r#""version": "1.0","#, "")).unwrap_err();
    assert!(error.to_string().contains("`version` is missing"), "{error}");
}

#[test]
fn bad_json_says_where() {
    let error = error(&edit(r#""locale": "en-GB","#, r#""locale": "en-GB",,"#));
    let RequestError::NotJson { line, column, .. } = &error else { panic!("{error:?}") };
    assert_eq!((*line, *column), (15, 23));
    assert_eq!(
        error.to_string(),
        "the request body is not JSON (line 15, column 23): key must be a string; pass the body Alexa sent, unchanged"
    );
    let truncated = error_text(&WITH_SUBSCRIPTIONS[..WITH_SUBSCRIPTIONS.len() - 10]);
    assert!(truncated.contains("EOF while parsing"), "{truncated}");
    assert!(error_text("").starts_with("the request body is not JSON (line 1, column 0)"));
}

fn error_text(body: &str) -> String {
    error(body).to_string()
}

#[test]
fn a_request_of_another_type_is_named() {
    let launch = edit("AlexaSkillEvent.ProactiveSubscriptionChanged", "LaunchRequest");
    let error = error(&launch);
    assert!(matches!(&error, RequestError::WrongRequestType { found } if found == "LaunchRequest"), "{error:?}");
    assert_eq!(
        error.to_string(),
        "the request is `LaunchRequest`, not `AlexaSkillEvent.ProactiveSubscriptionChanged`; \
         route other request types to their own handler"
    );
    // The type is checked first, so a skill-enabled event without a body is
    // reported as the wrong type, not as a missing field.
    let enabled = r#"{"version":"1.0","context":{},"request":{"type":"AlexaSkillEvent.SkillEnabled"}}"#;
    assert!(error_text(enabled).starts_with("the request is `AlexaSkillEvent.SkillEnabled`"));
}

#[test]
fn each_missing_field_is_named_by_its_path() {
    for (field, path) in [
        (r#""version": "1.0","#, "version"),
        (r#""userId": "amzn1.ask.account.AGF7EXAMPLEUSERID""#, "context.System.user.userId"),
        (r#""apiEndpoint": "https://api.eu.amazonalexa.com","#, "context.System.apiEndpoint"),
        (
            r#""application": { "applicationId": "amzn1.ask.skill.0f4e2b3c-1111-2222-3333-444455556666" },"#,
            "context.System.application",
        ),
        (r#""requestId": "amzn1.echo-api.request.6c1f0a8e-7777-8888-9999-000011112222","#, "request.requestId"),
        (r#""timestamp": "2024-05-01T12:00:00Z","#, "request.timestamp"),
        (r#""type": "AlexaSkillEvent.ProactiveSubscriptionChanged","#, "request.type"),
    ] {
        let error = error(&edit(field, ""));
        assert!(matches!(&error, RequestError::MissingField { path: p, .. } if p == path), "{field}: {error:?}");
        assert_eq!(
            error.to_string(),
            format!("`{path}` is missing; every ProactiveSubscriptionChanged request from Alexa has it")
        );
    }
}

#[test]
fn each_mistyped_field_is_named_with_what_was_expected() {
    for (from, to, expected) in [
        (
            r#""amzn1.ask.account.AGF7EXAMPLEUSERID""#,
            "42",
            "`context.System.user.userId` is a number (42); expected a string",
        ),
        (
            r#""amzn1.ask.account.AGF7EXAMPLEUSERID""#,
            r#""""#,
            "`context.System.user.userId` is not a valid user id: the user id is empty; a Unicast event needs the user's id from `context.System.user.userId`",
        ),
        (
            r#""2024-05-01T12:00:00Z""#,
            r#""next tuesday""#,
            "`request.timestamp` is `next tuesday`; expected ISO 8601 such as `2024-05-01T12:00:00Z`, or epoch milliseconds such as `1714564800000`",
        ),
        (
            BODY,
            r#""body": { "subscriptions": "AMAZON.WeatherAlert.Activated" }"#,
            "`request.body.subscriptions` is a string (\"AMAZON.WeatherAlert.Activated\"); expected an array of `{\"eventName\": …}` objects",
        ),
        (
            r#"{ "eventName": "AMAZON.TrashCollectionAlert.Activated" }"#,
            r#""AMAZON.TrashCollectionAlert.Activated""#,
            "`request.body.subscriptions[1]` is a string (\"AMAZON.TrashCollectionAlert.Activated\"); expected an object such as `{\"eventName\": \"AMAZON.…\"}`",
        ),
        (
            r#""AMAZON.TrashCollectionAlert.Activated""#,
            "7",
            "`request.body.subscriptions[1].eventName` is a number (7); expected a string",
        ),
        (BODY, r#""body": []"#, "`request.body` is an array; expected an object"),
        (r#""en-GB""#, "true", "`request.locale` is a boolean (true); expected a string"),
    ] {
        let text = error_text(&edit(from, to));
        assert_eq!(text, expected, "{from} -> {to}");
    }
}

#[test]
fn a_request_for_another_skill_is_refused_on_request() {
    let request = parse(WITH_SUBSCRIPTIONS);
    let error = request.ensure_application("amzn1.ask.skill.mine").unwrap_err().to_string();
    assert_eq!(
        error,
        "the request is for skill `amzn1.ask.skill.0f4e2b3c-1111-2222-3333-444455556666`, not `amzn1.ask.skill.mine`; \
         check the skill id, or that the endpoint is not shared with another skill"
    );
}
