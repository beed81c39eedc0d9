//! Issue 23: `proactive schema` prints user words, and `validate --allow` leaves
//! out the locale warning its message names.

use std::process::Command;

use assert_cmd::cargo::cargo_bin;

fn proactive(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(cargo_bin!("proactive"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .args(args)
        .output()
        .unwrap();
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap();
    (output.status.code().unwrap_or(-1), text(output.stdout), text(output.stderr))
}

#[test]
fn schema_prints_user_words_never_rustdoc_markup_or_internal_terms() {
    for name in proactive_core::schemas::EventName::ALL {
        let (code, stdout, _) = proactive(&["schema", name.as_str()]);
        assert_eq!(code, 0);
        for markup in
            ["[`", "`]", "](", "seed", "Jovo", "Alexa.NET", "ask-utils", "by decision", "catalog", "::builder"]
        {
            assert!(!stdout.contains(markup), "{name}: `{markup}` in\n{stdout}");
        }
    }
    let (_, stdout, _) = proactive(&["schema", "AMAZON.OrderStatus.Updated"]);
    assert!(stdout.contains("Amazon documents this event for en-US only"), "{stdout}");
}

#[test]
fn validate_allow_locale_support_leaves_out_the_warning_it_names() {
    let dir = std::env::temp_dir().join(format!("proactive-newcomer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let now = proactive_core::chrono::Utc::now();
    let event = serde_json::json!({
        "timestamp": now.to_rfc3339_opts(proactive_core::chrono::SecondsFormat::Millis, true),
        "referenceId": "order-1234",
        "expiryTime": (now + proactive_core::chrono::TimeDelta::hours(2)).to_rfc3339_opts(proactive_core::chrono::SecondsFormat::Millis, true),
        "event": {"name": "AMAZON.OrderStatus.Updated", "payload": {
            "state": {"status": "ORDER_SHIPPED"}, "order": {"seller": {"name": "localizedattribute:sellerName"}}}},
        "localizedAttributes": [{"locale": "en-US", "sellerName": "Delivery Owl"}, {"locale": "de-DE", "sellerName": "Lieferkauz"}],
        "relevantAudience": {"type": "Multicast", "payload": {}}
    });
    let path = dir.join("order-de.json");
    std::fs::write(&path, event.to_string()).unwrap();
    let path = path.to_str().unwrap();
    let (code, stdout, _) = proactive(&["validate", path]);
    assert_eq!(code, 0, "a warning only");
    assert!(stdout.contains("`proactive validate --allow locale-support` leaves it out"), "{stdout}");
    let (code, stdout, _) = proactive(&["validate", "--allow", "locale-support", path]);
    assert_eq!(code, 0);
    assert!(stdout.contains(": ok"), "{stdout}");
    assert!(!stdout.contains("warning:"), "{stdout}");
}
