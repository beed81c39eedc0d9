//! The `permissions` and `events` parts of `skill.json`, alone and merged into
//! a realistic skill manifest.

use proactive_core::manifest::{EventsEndpoint, EventsManifest, ManifestError, SslCertificateType};
use proactive_core::schemas::weather_alert_activated::{WeatherAlert, WeatherAlertType};
use proactive_core::schemas::{EventName, LocalizedText, OrderStatusUpdated, WeatherAlertActivated};
use serde_json::{Value, json};

const LAMBDA: &str = "arn:aws:lambda:us-east-1:123456789012:function:delivery-owl-events";

fn manifest() -> EventsManifest {
    let weather = WeatherAlertActivated::builder()
        .weather_alert(
            WeatherAlert::builder()
                .alert_type(WeatherAlertType::Tornado)
                .source(LocalizedText::attribute("source"))
                .build(),
        )
        .build();
    EventsManifest::new(EventsEndpoint::new(LAMBDA).unwrap())
        // The same event from three sources counts once.
        .publish_payload::<OrderStatusUpdated>()
        .publish_event(&weather)
        .publish(EventName::WeatherAlertActivated)
        .publish_name("AMAZON.MediaContent.Available")
        .unwrap()
}

/// A skill.json as the ASK CLI keeps it (`skill-package/skill.json`), for a
/// skill that already has other permissions and skill events.
const SKILL_JSON: &str = r#"{
  "manifest": {
    "publishingInformation": {
      "locales": {
        "en-US": {
          "summary": "Tracks your Delivery Owl orders",
          "examplePhrases": ["Alexa, open delivery owl", "Alexa, ask delivery owl where my order is"],
          "keywords": ["orders", "delivery", "parcel"],
          "name": "Delivery Owl",
          "description": "Delivery Owl tells you where your order is and when it will arrive.",
          "smallIconUri": "https://example.com/owl-108.png",
          "largeIconUri": "https://example.com/owl-512.png"
        }
      },
      "isAvailableWorldwide": false,
      "testingInstructions": "Enable notifications for the skill in the Alexa app, then place an order.",
      "category": "SHOPPING",
      "distributionCountries": ["US", "GB"],
      "automaticDistribution": { "isActive": false }
    },
    "apis": {
      "custom": {
        "endpoint": { "uri": "arn:aws:lambda:us-east-1:123456789012:function:delivery-owl" },
        "regions": {
          "EU": { "endpoint": { "uri": "arn:aws:lambda:eu-west-1:123456789012:function:delivery-owl" } }
        },
        "interfaces": []
      }
    },
    "manifestVersion": "1.0",
    "permissions": [
      { "name": "alexa::profile:email:read" },
      { "name": "alexa::devices:all:address:country_and_postal_code:read" }
    ],
    "privacyAndCompliance": {
      "allowsPurchases": false,
      "usesPersonalInfo": true,
      "isChildDirected": false,
      "isExportCompliant": true,
      "containsAds": false,
      "locales": { "en-US": { "privacyPolicyUrl": "https://example.com/privacy" } }
    },
    "events": {
      "publications": [{ "eventName": "AMAZON.OrderStatus.Updated" }],
      "endpoint": { "uri": "arn:aws:lambda:us-east-1:123456789012:function:old-events" },
      "subscriptions": [{ "eventName": "SKILL_ENABLED" }, { "eventName": "SKILL_DISABLED" }],
      "regions": {
        "EU": { "endpoint": { "uri": "arn:aws:lambda:eu-west-1:123456789012:function:delivery-owl-events" } }
      }
    }
  }
}
"#;

#[test]
fn the_fragment_for_a_set_of_events() {
    let fragment = manifest().fragment().unwrap();
    let expected = json!({
        "permissions": [{"name": "alexa::devices:all:notifications:write"}],
        "events": {
            "publications": [
                {"eventName": "AMAZON.MediaContent.Available"},
                {"eventName": "AMAZON.OrderStatus.Updated"},
                {"eventName": "AMAZON.WeatherAlert.Activated"}
            ],
            "endpoint": {"uri": LAMBDA},
            "subscriptions": [{"eventName": "SKILL_PROACTIVE_SUBSCRIPTION_CHANGED"}]
        }
    });
    assert_eq!(fragment, expected);
    // Keys come out in the order shown, as the ASK CLI writes them.
    let keys: Vec<_> = fragment["events"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["publications", "endpoint", "subscriptions"]);
}

#[test]
fn an_https_endpoint_carries_its_certificate_type() {
    let endpoint = EventsEndpoint::new("https://owl.example.com/alexa/events")
        .unwrap()
        .with_ssl_certificate_type(SslCertificateType::Wildcard)
        .unwrap();
    let fragment = EventsManifest::new(endpoint).publish(EventName::OrderStatusUpdated).fragment().unwrap();
    assert_eq!(
        fragment["events"]["endpoint"],
        json!({"uri": "https://owl.example.com/alexa/events", "sslCertificateType": "Wildcard"})
    );
}

#[test]
fn an_unknown_name_lists_the_valid_ones() {
    let error = EventsManifest::new(EventsEndpoint::new(LAMBDA).unwrap())
        .publish_name("AMAZON.WeatherAlert.Activate")
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("unknown event name `AMAZON.WeatherAlert.Activate`; Amazon's schemas are: "), "{error}");
    assert!(error.contains("AMAZON.WeatherAlert.Activated"), "{error}");
}

/// Every key and array entry of `original` is in `merged` with the same value,
/// except the paths in `replaced`; arrays may have gained entries at the end.
fn assert_kept(original: &Value, merged: &Value, path: &str, replaced: &[&str]) {
    if replaced.contains(&path) {
        return;
    }
    match (original, merged) {
        (Value::Object(before), Value::Object(after)) => {
            let before_keys: Vec<_> = before.keys().collect();
            let after_keys: Vec<_> = after.keys().take(before_keys.len()).collect();
            assert_eq!(before_keys, after_keys, "the keys of `{path}` kept their order");
            for (key, value) in before {
                assert_kept(value, &after[key], &format!("{path}.{key}"), replaced);
            }
        }
        (Value::Array(before), Value::Array(after)) => {
            assert!(after.len() >= before.len(), "`{path}` lost entries");
            for (i, value) in before.iter().enumerate() {
                assert_kept(value, &after[i], &format!("{path}[{i}]"), replaced);
            }
        }
        _ => assert_eq!(original, merged, "`{path}` changed"),
    }
}

#[test]
fn merging_keeps_every_other_key_and_adds_what_is_missing() {
    let merged_text = manifest().merge_json(SKILL_JSON).unwrap();
    let original: Value = serde_json::from_str(SKILL_JSON).unwrap();
    let merged: Value = serde_json::from_str(&merged_text).unwrap();
    assert_kept(&original, &merged, "$", &["$.manifest.events.endpoint.uri"]);

    let manifest = &merged["manifest"];
    assert_eq!(
        manifest["permissions"],
        json!([
            {"name": "alexa::profile:email:read"},
            {"name": "alexa::devices:all:address:country_and_postal_code:read"},
            {"name": "alexa::devices:all:notifications:write"}
        ])
    );
    assert_eq!(
        manifest["events"]["publications"],
        json!([
            {"eventName": "AMAZON.OrderStatus.Updated"},
            {"eventName": "AMAZON.MediaContent.Available"},
            {"eventName": "AMAZON.WeatherAlert.Activated"}
        ])
    );
    assert_eq!(manifest["events"]["endpoint"], json!({"uri": LAMBDA}));
    assert_eq!(
        manifest["events"]["subscriptions"],
        json!([
            {"eventName": "SKILL_ENABLED"},
            {"eventName": "SKILL_DISABLED"},
            {"eventName": "SKILL_PROACTIVE_SUBSCRIPTION_CHANGED"}
        ])
    );
    // Nothing else was added anywhere.
    let mut without_additions = merged.clone();
    let events = &mut without_additions["manifest"]["events"];
    events["endpoint"]["uri"] = original["manifest"]["events"]["endpoint"]["uri"].clone();
    events["publications"].as_array_mut().unwrap().truncate(1);
    events["subscriptions"].as_array_mut().unwrap().truncate(2);
    without_additions["manifest"]["permissions"].as_array_mut().unwrap().truncate(2);
    assert_eq!(without_additions, original);
    assert!(merged_text.ends_with("}\n"), "a final newline is kept");
}

#[test]
fn merging_twice_changes_nothing() {
    let manifest = manifest();
    let once = manifest.merge_json(SKILL_JSON).unwrap();
    let twice = manifest.merge_json(&once).unwrap();
    assert_eq!(once, twice);

    let mut value: Value = serde_json::from_str(SKILL_JSON).unwrap();
    manifest.merge_into(&mut value).unwrap();
    let after_one = value.clone();
    manifest.merge_into(&mut value).unwrap();
    assert_eq!(value, after_one);
}

#[test]
fn merging_into_a_manifest_without_events_adds_the_whole_fragment() {
    let mut skill = json!({"manifest": {"manifestVersion": "1.0", "apis": {"custom": {}}}});
    let manifest = manifest();
    manifest.merge_into(&mut skill).unwrap();
    let fragment = manifest.fragment().unwrap();
    assert_eq!(skill["manifest"]["permissions"], fragment["permissions"]);
    assert_eq!(skill["manifest"]["events"], fragment["events"]);
    assert_eq!(skill["manifest"]["manifestVersion"], "1.0");
}

#[test]
fn a_certificate_type_is_removed_for_a_lambda_and_kept_for_https() {
    let skill = r#"{"manifest": {"events": {"endpoint": {"uri": "https://old.example.com", "sslCertificateType": "Trusted"}}}}"#;
    let merged: Value = serde_json::from_str(&manifest().merge_json(skill).unwrap()).unwrap();
    assert_eq!(merged["manifest"]["events"]["endpoint"], json!({"uri": LAMBDA}));

    let https = EventsManifest::new(EventsEndpoint::new("https://new.example.com").unwrap())
        .publish(EventName::OrderStatusUpdated);
    let merged: Value = serde_json::from_str(&https.merge_json(skill).unwrap()).unwrap();
    assert_eq!(
        merged["manifest"]["events"]["endpoint"],
        json!({"uri": "https://new.example.com", "sslCertificateType": "Trusted"})
    );
}

#[test]
fn a_document_that_is_not_a_skill_manifest_is_refused() {
    let manifest = manifest();
    assert!(matches!(manifest.merge_json("[]"), Err(ManifestError::NoManifest)));
    let error = manifest.merge_json(r#"{"publishingInformation": {}}"#).unwrap_err().to_string();
    assert!(error.starts_with("the skill.json has no `manifest` object"), "{error}");
    let error = manifest.merge_json(r#"{"manifest": {"permissions": {}}}"#).unwrap_err().to_string();
    assert_eq!(
        error,
        "`manifest.permissions` is an object; expected an array; fix it by hand, merging will not overwrite it"
    );
    let error = manifest.merge_json(r#"{"manifest": []}"#).unwrap_err().to_string();
    assert!(error.starts_with("`manifest` is an array; expected an object"), "{error}");
}
