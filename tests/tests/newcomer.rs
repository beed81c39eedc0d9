//! Issue 23, a newcomer's first hour: each rough edge they met, with the test
//! that shows it is gone.

use std::path::Path;

use chrono::{TimeDelta, TimeZone, Utc};
use proactive_core::client::PreparedEnvelope;
use proactive_core::schemas::LocalizedText;
use proactive_core::schemas::media_content_available::{
    Availability, AvailabilityMethod, ContentType, MediaContent, MediaContentAvailable,
};
use proactive_core::schemas::order_status_updated::{Order, OrderState, OrderStatus, OrderStatusUpdated};
use proactive_core::subscription::{SkillEvent, SubscriptionChangedRequest};
use proactive_core::{Audience, Envelope, Locale, Report, Rule};

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).unwrap()
}

fn episode(airs: chrono::DateTime<Utc>) -> MediaContentAvailable {
    MediaContentAvailable::builder()
        .availability(Availability::builder().start_time(airs).method(AvailabilityMethod::Stream).build())
        .content(MediaContent::builder().name("The Night Manager").content_type(ContentType::Episode).build())
        .build()
}

/// `expires_after(std::time::Duration)` compiled only with a `TimeDelta` before.
#[test]
fn expires_after_takes_std_and_chrono_durations() {
    let payload = episode(Utc::now());
    let std = Envelope::builder(payload.clone(), Audience::Multicast)
        .expires_after(std::time::Duration::from_secs(3 * 3600))
        .build();
    let chrono = Envelope::builder(payload, Audience::Multicast).expires_after(TimeDelta::hours(3)).build();
    assert_eq!(std.expiry_time - std.timestamp, TimeDelta::hours(3));
    assert_eq!(chrono.expiry_time - chrono.timestamp, TimeDelta::hours(3));
    // A duration longer than any date-time: refused by validation, no panic.
    let (_, report) = Envelope::builder(episode(Utc::now()), Audience::Multicast)
        .expires_after(std::time::Duration::MAX)
        .build_validated();
    assert!(report.has(Rule::ExpiryWindow, "expiryTime"), "{report}");
}

/// A payload date-time with nanoseconds was written `…41.612047472Z`; the
/// timestamp has milliseconds, and now so does every date-time.
#[test]
fn payload_date_times_are_written_in_milliseconds_like_the_timestamp() {
    let airs = Utc.with_ymd_and_hms(2026, 5, 1, 20, 0, 41).unwrap() + TimeDelta::nanoseconds(612_047_472);
    let json = Envelope::builder(episode(airs), Audience::Multicast)
        .timestamp(Utc.with_ymd_and_hms(2026, 5, 1, 8, 0, 0).unwrap() + TimeDelta::milliseconds(250))
        .build()
        .to_json();
    assert!(json.contains(r#""startTime":"2026-05-01T20:00:41.612Z""#), "{json}");
    assert!(json.contains(r#""timestamp":"2026-05-01T08:00:00.250Z""#), "{json}");
}

/// `from_json` takes text and `from_slice` bytes, on every type that reads JSON:
/// a `String` body compiles with each `from_json`, a `Vec<u8>` with each `from_slice`.
#[test]
fn every_from_json_takes_str_and_every_from_slice_takes_bytes() {
    let request = r#"{"version": "1.0",
      "context": {"System": {"application": {"applicationId": "amzn1.ask.skill.1"},
        "user": {"userId": "amzn1.ask.account.A"}, "apiEndpoint": "https://api.amazonalexa.com"}},
      "request": {"type": "AlexaSkillEvent.ProactiveSubscriptionChanged", "requestId": "r1",
        "timestamp": "2026-05-01T12:00:00Z"}}"#
        .to_owned();
    let bytes = request.clone().into_bytes();
    assert_eq!(
        SubscriptionChangedRequest::from_json(&request).unwrap(),
        SubscriptionChangedRequest::from_slice(&bytes).unwrap()
    );
    assert_eq!(SkillEvent::from_json(&request).unwrap(), SkillEvent::from_slice(&bytes).unwrap());

    let envelope = Envelope::builder(episode(Utc::now()), Audience::Multicast).build().to_json();
    let envelope_bytes = envelope.clone().into_bytes();
    assert_eq!(Envelope::from_json(&envelope).unwrap().0, Envelope::from_slice(&envelope_bytes).unwrap().0);
    let (text, slice) =
        (PreparedEnvelope::from_json(&envelope).unwrap(), PreparedEnvelope::from_slice(&envelope_bytes).unwrap());
    assert_eq!(text.body(), slice.body());
    assert_eq!(PreparedEnvelope::from_bytes(envelope_bytes).unwrap().body(), envelope.as_bytes());
}

/// Order status in de-DE warns (Amazon documents it for en-US only); the
/// warning says so in plain words, and `Report::allow` leaves it out.
#[test]
fn the_locale_warning_is_plain_and_can_be_allowed() {
    let payload = OrderStatusUpdated::builder()
        .state(OrderState::builder().status(OrderStatus::OrderShipped).build())
        .order(Order::builder().seller(LocalizedText::attribute("sellerName")).build())
        .build();
    let (_, report) = Envelope::builder(payload, Audience::Multicast)
        .localized(Locale::en_us(), "sellerName", "Delivery Owl")
        .unwrap()
        .localized(Locale::new("de-DE").unwrap(), "sellerName", "Lieferkauz")
        .unwrap()
        .build_validated();
    let warning = report.warnings().next().unwrap();
    assert_eq!(warning.rule, Rule::LocaleSupport);
    assert!(warning.message.contains("report.allow(Rule::LocaleSupport)"), "{}", warning.message);
    assert!(!warning.message.contains("catalog"), "{}", warning.message);
    assert!(report.clone().allow(Rule::LocaleSupport).is_clean(), "{report}");
    assert_eq!(Report::new().allow(Rule::LocaleSupport), Report::new());
}

/// The README's preview comment is what the code prints.
#[test]
fn the_readme_preview_is_what_preview_prints() {
    let payload = OrderStatusUpdated::builder()
        .state(OrderState::builder().status(OrderStatus::OrderShipped).build())
        .order(Order::builder().seller(LocalizedText::attribute("sellerName")).build())
        .build();
    let envelope = Envelope::builder(payload, Audience::Multicast)
        .localized(Locale::en_us(), "sellerName", "Delivery Owl")
        .unwrap()
        .build();
    let text = envelope.preview(&Locale::en_us()).text;
    assert!(
        readme().contains(&format!("println!(\"{{}}\", envelope.preview(&Locale::en_us()).text); // {text}")),
        "{text}"
    );
}

/// The README said "a 401/403 is retried once … 400, 403 and 409 are final".
#[test]
fn the_readme_says_what_the_client_does_with_401_and_403() {
    let readme = readme().split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(!readme.contains("400, 403 and 409 are final"));
    assert!(readme.contains("A 401 or 403 gets one more attempt with a new token"));
}

/// No compile error names a `__` path (`proactive_schemas::__::Unset` was one).
#[test]
fn no_compile_error_names_a_double_underscore_path() {
    let mut stack = vec![root().join("tests/tests/ui")];
    let mut seen = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "stderr") {
                seen += 1;
                let text = std::fs::read_to_string(&path).unwrap();
                assert!(!text.contains("__"), "{} names a `__` path:\n{text}", path.display());
            }
        }
    }
    assert!(seen > 10, "found only {seen} .stderr files");
}

/// The derive paths are listed where a user looks, generated (`cargo xtask regen`).
#[test]
fn the_readme_links_the_derive_paths_table() {
    assert!(readme().contains("(proactive-schemas/PATHS.md)"));
    let paths = std::fs::read_to_string(root().join("proactive-schemas/PATHS.md")).unwrap();
    assert!(paths.contains("| `order.seller.name` | text | yes | yes |"), "{paths}");
    assert!(paths.contains("Amazon documents it for en-US only"), "{paths}");
}
