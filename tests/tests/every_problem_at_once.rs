//! Validation never stops early: an envelope with several independent defects
//! gets, in one report, exactly the problems each defect gets alone, whichever
//! of them keeps the payload (or the whole envelope) from being typed.

use std::collections::BTreeSet;

use proactive_core::json::parse_str;
use proactive_core::{Report, Rule, Severity};
use proptest::prelude::*;
use proptest::sample::{Index, subsequence};
use serde_json::{Value, json};

/// A problem as the property compares it: severity, rule and path.
type Key = (Severity, String, String);

fn keys(report: &Report) -> BTreeSet<Key> {
    report.problems().iter().map(|p| (p.severity, format!("{:?}", p.rule), p.path.clone())).collect()
}

fn report_of(value: &Value) -> Report {
    parse_str(&value.to_string()).report
}

fn set(value: &mut Value, pointer: &str, new: Value) {
    *value.pointer_mut(pointer).unwrap_or_else(|| panic!("no {pointer}")) = new;
}

fn remove(value: &mut Value, pointer: &str, key: &str) {
    let object = value.pointer_mut(pointer).and_then(Value::as_object_mut).unwrap_or_else(|| panic!("no {pointer}"));
    object.remove(key).unwrap_or_else(|| panic!("no {pointer}/{key}"));
}

/// A valid envelope around `event`, sent Unicast, with `localized` attributes.
fn envelope(event: Value, localized: Value) -> Value {
    json!({
        "timestamp": "2026-03-01T08:00:00Z",
        "referenceId": "event-0001",
        "expiryTime": "2026-03-01T20:00:00Z",
        "event": event,
        "localizedAttributes": localized,
        "relevantAudience": {"type": "Unicast", "payload": {"user": "amzn1.ask.account.AAAA"}}
    })
}

/// A MediaContent event with both of its localizable fields referenced, in
/// four locales (one per locale defect, so that they stay independent).
fn media() -> Value {
    let locale = |locale: &str| json!({"locale": locale, "providerName": "Example TV", "contentName": "Luther"});
    envelope(
        json!({"name": "AMAZON.MediaContent.Available", "payload": {
            "availability": {
                "startTime": "2026-03-02T21:00:00Z",
                "provider": {"name": "localizedattribute:providerName"},
                "method": "AIR"
            },
            "content": {"name": "localizedattribute:contentName", "contentType": "BOOK"}
        }}),
        json!([locale("en-US"), locale("en-GB"), locale("de-DE"), locale("fr-FR")]),
    )
}

/// A MessageAlert: a numeric bound and a text field Amazon does not localize.
fn message() -> Value {
    envelope(
        json!({"name": "AMAZON.MessageAlert.Activated", "payload": {
            "state": {"status": "UNREAD", "freshness": "NEW"},
            "messageGroup": {"creator": {"name": "Andy"}, "count": 5, "urgency": "URGENT"}
        }}),
        json!([]),
    )
}

/// A TrashCollectionAlert: an array with bounds and unique items.
fn trash() -> Value {
    envelope(
        json!({"name": "AMAZON.TrashCollectionAlert.Activated", "payload": {
            "alert": {"garbageTypes": ["COMPOSTABLE", "RECYCLABLE_PLASTICS"], "collectionDayOfWeek": "TUESDAY"}
        }}),
        json!([]),
    )
}

/// One kind of defect: its name and how it breaks a valid envelope.
type Defect = (&'static str, fn(&mut Value));

/// Defects of the envelope's own fields, one slot each (the defects of a slot
/// change the same value, so at most one of them is applied).
fn envelope_slots() -> Vec<Vec<Defect>> {
    vec![
        vec![
            ("referenceId with a bad character", |v| set(v, "/referenceId", json!("event 0001"))),
            ("referenceId too long", |v| set(v, "/referenceId", json!("a".repeat(101)))),
        ],
        vec![
            ("expiry too short", |v| set(v, "/expiryTime", json!("2026-03-01T08:01:00Z"))),
            ("expiry too long", |v| set(v, "/expiryTime", json!("2026-03-02T09:00:00Z"))),
            ("expiry before the timestamp", |v| set(v, "/expiryTime", json!("2026-03-01T07:00:00Z"))),
        ],
        vec![("timestamp without an offset", |v| set(v, "/timestamp", json!("2026-03-01T08:00:00")))],
        vec![
            ("Unicast to an empty user", |v| set(v, "/relevantAudience/payload/user", json!(""))),
            ("Unicast without a user", |v| set(v, "/relevantAudience/payload", json!({}))),
            ("Multicast naming a user", |v| set(v, "/relevantAudience/type", json!("Multicast"))),
            ("user id without Amazon's prefix", |v| set(v, "/relevantAudience/payload/user", json!("someone"))),
        ],
        vec![("unknown envelope field", |v| v["refrenceId"] = json!("x"))],
    ]
}

fn media_slots() -> Vec<Vec<Defect>> {
    vec![
        vec![("bad enum value", |v| set(v, "/event/payload/content/contentType", json!("AUDIOBOOK")))],
        vec![("bad enum value (method)", |v| set(v, "/event/payload/availability/method", json!("SHOUT")))],
        vec![
            ("misspelled localized prefix", |v| set(v, "/event/payload/content/name", json!("localized:contentName"))),
            ("invalid reference key", |v| set(v, "/event/payload/content/name", json!("localizedattribute:bad key"))),
        ],
        vec![("unknown payload field", |v| v["event"]["payload"]["content"]["title"] = json!("Luther"))],
        vec![
            ("date-time that is not one", |v| set(v, "/event/payload/availability/startTime", json!("next tuesday"))),
            ("missing required field", |v| remove(v, "/event/payload/availability", "startTime")),
        ],
        vec![("key undefined in one locale", |v| remove(v, "/localizedAttributes/0", "providerName"))],
        vec![("bad locale syntax", |v| set(v, "/localizedAttributes/1/locale", json!("en_GB")))],
        vec![("duplicate locale", |v| set(v, "/localizedAttributes/2/locale", json!("en-US")))],
        vec![
            ("unreferenced key", |v| v["localizedAttributes"][3]["extra"] = json!("x")),
            ("invalid attribute key", |v| v["localizedAttributes"][3]["bad key"] = json!("x")),
            ("empty localized text", |v| set(v, "/localizedAttributes/3/providerName", json!(" "))),
            ("localized text not a string", |v| v["localizedAttributes"][3]["other"] = json!(5)),
        ],
    ]
}

fn message_slots() -> Vec<Vec<Defect>> {
    vec![
        vec![("bad enum value", |v| set(v, "/event/payload/state/status", json!("READ")))],
        vec![
            ("number below its minimum", |v| set(v, "/event/payload/messageGroup/count", json!(0))),
            ("negative count", |v| set(v, "/event/payload/messageGroup/count", json!(-1))),
            ("count out of range", |v| set(v, "/event/payload/messageGroup/count", json!(5_000_000_000_u64))),
        ],
        vec![
            ("reference where Amazon does not localize", |v| {
                set(v, "/event/payload/messageGroup/creator/name", json!("localizedattribute:sender"))
            }),
            ("empty spoken text", |v| set(v, "/event/payload/messageGroup/creator/name", json!(""))),
        ],
        vec![("unknown payload field", |v| v["event"]["payload"]["state"]["fresh"] = json!("NEW"))],
    ]
}

fn trash_slots() -> Vec<Vec<Defect>> {
    vec![
        vec![
            ("garbageTypes over 5 items", |v| {
                let six = ["BOTTLES", "BULKY", "BURNABLE", "CANS", "CARDBOARD", "CHEMICALS"];
                set(v, "/event/payload/alert/garbageTypes", json!(six))
            }),
            ("garbageTypes empty", |v| set(v, "/event/payload/alert/garbageTypes", json!([]))),
            ("garbageTypes repeated", |v| set(v, "/event/payload/alert/garbageTypes", json!(["CANS", "CANS"]))),
        ],
        vec![("bad enum value", |v| set(v, "/event/payload/alert/collectionDayOfWeek", json!("TUESDAYS")))],
    ]
}

/// A valid envelope, and its slots of defects.
type Base = (fn() -> Value, Vec<Vec<Defect>>);

/// Each base envelope with its slots of defects.
fn bases() -> Vec<Base> {
    let with_envelope = |slots: Vec<Vec<Defect>>| envelope_slots().into_iter().chain(slots).collect::<Vec<_>>();
    vec![
        (media, with_envelope(media_slots())),
        (message, with_envelope(message_slots())),
        (trash, with_envelope(trash_slots())),
    ]
}

fn broken(base: fn() -> Value, defects: &[Defect]) -> Value {
    let mut value = base();
    for (_, apply) in defects {
        apply(&mut value);
    }
    value
}

#[test]
fn every_base_is_clean_and_every_defect_alone_is_reported() {
    let mut kinds = BTreeSet::new();
    for (base, slots) in bases() {
        assert!(report_of(&base()).is_clean(), "{}", report_of(&base()));
        for defect in slots.iter().flatten() {
            let report = report_of(&broken(base, &[*defect]));
            assert!(!report.is_clean(), "{}: nothing reported", defect.0);
            kinds.insert(defect.0);
        }
    }
    assert!(kinds.len() >= 12, "{} kinds of defect", kinds.len());
}

/// The problems of `defects` together, and the union of each one's alone.
fn together_and_apart(base: fn() -> Value, defects: &[Defect]) -> (BTreeSet<Key>, BTreeSet<Key>, Report) {
    let mut union = BTreeSet::new();
    for defect in defects {
        union.extend(keys(&report_of(&broken(base, &[*defect]))));
    }
    let combined = report_of(&broken(base, defects));
    (keys(&combined), union, combined)
}

/// Every pair of defects, exhaustively (a few hundred envelopes).
#[test]
fn every_pair_of_defects_reports_the_union_of_each_alone() {
    let mut pairs = 0;
    for (base, slots) in bases() {
        for (i, first) in slots.iter().enumerate() {
            for second in &slots[i + 1..] {
                for pair in first.iter().flat_map(|a| second.iter().map(move |b| [*a, *b])) {
                    let (together, apart, report) = together_and_apart(base, &pair);
                    assert_eq!(together, apart, "{} + {}\n{report}", pair[0].0, pair[1].0);
                    pairs += 1;
                }
            }
        }
    }
    assert!(pairs > 300, "{pairs} pairs");
}

/// Picks a base, 2 to 4 of its slots, and one defect in each.
fn combination() -> impl Strategy<Value = (usize, Vec<(usize, Index)>)> {
    (0..bases().len()).prop_flat_map(|b| {
        let slots = bases()[b].1.len();
        (Just(b), subsequence((0..slots).collect::<Vec<_>>(), 2..=4), proptest::collection::vec(any::<Index>(), 4))
            .prop_map(|(b, chosen, picks)| (b, chosen.into_iter().zip(picks).collect()))
    })
}

proptest! {
    // A fixed seed: the same 256 combinations on every run.
    #![proptest_config(ProptestConfig {
        cases: 256,
        rng_seed: proptest::test_runner::RngSeed::Fixed(22),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// 2 to 4 defects, from more than 12 kinds.
    #[test]
    fn a_combination_of_defects_reports_the_union_of_each_alone((b, chosen) in combination()) {
        let (base, slots) = &bases()[b];
        let defects: Vec<Defect> = chosen.iter().map(|(slot, pick)| *pick.get(&slots[*slot])).collect();
        let (together, apart, report) = together_and_apart(*base, &defects);
        let names: Vec<&str> = defects.iter().map(|d| d.0).collect();
        prop_assert_eq!(together, apart, "{:?}\n{}", names, report);
    }
}

/// The case: a wrong enum value and a misspelled reference prefix, in
/// one report, with no warning that the misspelled reference's key is unused.
#[test]
fn a_bad_enum_does_not_hide_a_misspelled_reference() {
    let mut v = media();
    set(&mut v, "/event/payload/content/contentType", json!("AUDIOBOOK"));
    set(&mut v, "/event/payload/content/name", json!("localized:title"));
    v["localizedAttributes"] = json!([{"locale": "en-US", "providerName": "Example TV", "title": "Luther"}]);
    let report = report_of(&v);
    let got: Vec<(Rule, &str, Severity)> =
        report.problems().iter().map(|p| (p.rule, p.path.as_str(), p.severity)).collect();
    assert_eq!(
        got,
        [
            (Rule::InvalidValue, "event.payload.content.contentType", Severity::Error),
            (Rule::MisspelledReference, "event.payload.content.name", Severity::Error),
        ],
        "\n{report}"
    );
    // Fixing the enum leaves exactly the other error; fixing the prefix, exactly the first.
    set(&mut v, "/event/payload/content/contentType", json!("BOOK"));
    let rest = report_of(&v);
    assert_eq!(
        keys(&rest),
        BTreeSet::from([(Severity::Error, "MisspelledReference".to_owned(), "event.payload.content.name".to_owned())]),
        "{rest}"
    );
    set(&mut v, "/event/payload/content/name", json!("localizedattribute:title"));
    assert!(report_of(&v).is_clean(), "{}", report_of(&v));
}
