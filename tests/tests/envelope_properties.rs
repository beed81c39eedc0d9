//! Properties of the envelope reader: valid envelopes survive serialize → parse
//! unchanged, and no input, however broken, makes the reader panic.

use chrono::{DateTime, Duration, TimeZone, Utc};
use proactive_core::client::PreparedEnvelope;
use proactive_core::json::{parse_slice, parse_value};
use proactive_core::schemas::{AnyEvent, EventName};
use proactive_core::{Audience, Envelope, Locale, LocalizedAttributes, ReferenceId, UserId};
use proptest::prelude::*;
use serde_json::Value;

const LOCALES: [&str; 6] = ["en-US", "en-GB", "de-DE", "fr-FR", "ja-JP", "es-MX"];

/// An example payload of a random schema, with the keys it references.
fn event() -> impl Strategy<Value = (AnyEvent, Vec<String>)> {
    let examples: Vec<(EventName, &'static str)> =
        EventName::ALL.iter().flat_map(|&n| n.schema().examples.iter().map(move |e| (n, *e))).collect();
    proptest::sample::select(examples).prop_map(|(name, text)| {
        let payload: Value = serde_json::from_str(text).unwrap();
        let event = serde_json::from_value(serde_json::json!({"name": name.as_str(), "payload": payload})).unwrap();
        let keys = text.split("localizedattribute:").skip(1).map(|s| s.split('"').next().unwrap().to_owned()).collect();
        (event, keys)
    })
}

fn envelope() -> impl Strategy<Value = Envelope> {
    (
        event(),
        "[A-Za-z0-9~-]{1,100}",
        0i64..4_000_000_000,
        0u32..1000,
        300i64..=86_400,
        proptest::option::of("amzn1\\.ask\\.account\\.[A-Za-z0-9._-]{1,200}"),
        proptest::sample::subsequence(LOCALES.to_vec(), 1..=3),
        "[^\\u{0}]{1,30}",
    )
        .prop_map(|((event, keys), id, secs, millis, expiry, user, locales, text)| {
            let timestamp: DateTime<Utc> = Utc.timestamp_opt(secs, millis * 1_000_000).unwrap();
            let mut localized = LocalizedAttributes::new();
            if !keys.is_empty() {
                for locale in locales {
                    for key in &keys {
                        localized.insert(Locale::new(locale).unwrap(), key, format!("{text} {locale}")).unwrap();
                    }
                }
            }
            let audience = match user {
                Some(user) => Audience::Unicast(UserId::new(&user).unwrap()),
                None => Audience::Multicast,
            };
            Envelope::builder(event, audience)
                .timestamp(timestamp)
                .reference_id(ReferenceId::new(&id).unwrap())
                .expires_after(Duration::seconds(expiry))
                .localized_attributes(localized)
                .build()
        })
}

/// Any JSON value, nested a few levels.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,20}".prop_map(Value::String),
        prop_oneof![Just("localizedattribute:x"), Just("TORNADO"), Just("Unicast"), Just("2019-02-13T14:00:00Z")]
            .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec(
                (
                    prop_oneof![
                        ".{0,12}",
                        proptest::sample::select(vec![
                            "timestamp",
                            "referenceId",
                            "expiryTime",
                            "event",
                            "name",
                            "payload",
                            "localizedAttributes",
                            "relevantAudience",
                            "locale",
                            "user",
                            "type",
                            "weatherAlert",
                        ])
                        .prop_map(str::to_owned),
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn valid_envelopes_survive_serialize_then_parse(envelope in envelope()) {
        let text = envelope.to_json();
        let (parsed, report) = Envelope::from_json(&text).map_err(|r| TestCaseError::fail(format!("{r}\n{text}")))?;
        prop_assert!(!report.has_errors());
        prop_assert_eq!(parsed, envelope);
    }

    #[test]
    fn arbitrary_json_never_panics(value in json_value()) {
        let parsed = parse_value(value);
        // Either an envelope, or a report that says why not.
        prop_assert!(parsed.envelope.is_some() || parsed.report.has_errors());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let parsed = parse_slice(&bytes);
        prop_assert!(parsed.envelope.is_some() || parsed.report.has_errors());
    }

    /// A valid envelope with one value anywhere replaced by arbitrary JSON: the
    /// reader reports or accepts, never panics, and an accepted result serializes.
    #[test]
    fn mutated_envelopes_never_panic(envelope in envelope(), index in any::<prop::sample::Index>(), new in json_value()) {
        let mut value: Value = serde_json::from_str(&envelope.to_json()).unwrap();
        let mut pointers = Vec::new();
        collect_pointers(&value, String::new(), &mut pointers);
        let pointer = index.get(&pointers).clone();
        if let Some(slot) = value.pointer_mut(&pointer) {
            *slot = new;
        }
        let parsed = parse_value(value);
        if let Some(envelope) = parsed.envelope {
            let _ = envelope.to_json();
            let _ = envelope.previews();
        } else {
            prop_assert!(parsed.report.has_errors());
        }
    }

    /// Prepared straight from stored JSON (compact or pretty, valid or mutated
    /// anywhere), the body says exactly what the JSON says: it reads into the
    /// same envelope, with the same warnings; what is refused is what
    /// `Envelope::from_json` refuses.
    #[test]
    fn a_body_prepared_from_json_says_what_the_json_says(
        envelope in envelope(), index in any::<prop::sample::Index>(), new in json_value(), mutate in any::<bool>(), pretty in any::<bool>()
    ) {
        let mut value: Value = serde_json::from_str(&envelope.to_json()).unwrap();
        if mutate {
            let mut pointers = Vec::new();
            collect_pointers(&value, String::new(), &mut pointers);
            let pointer: &String = index.get(&pointers);
            if let Some(slot) = value.pointer_mut(pointer) {
                *slot = new;
            }
        }
        let text = if pretty { serde_json::to_string_pretty(&value) } else { serde_json::to_string(&value) }.unwrap();
        match (PreparedEnvelope::from_json(&text), Envelope::from_json(&text)) {
            (Ok(prepared), Ok((expected, report))) => {
                let body = std::str::from_utf8(prepared.body()).unwrap();
                let (sent, _) = Envelope::from_json(body).map_err(|r| TestCaseError::fail(format!("{r}\n{body}")))?;
                prop_assert_eq!(&sent, &expected);
                prop_assert_eq!(prepared.reference_id(), &expected.reference_id);
                let warnings: Vec<_> = report.warnings().cloned().collect();
                prop_assert_eq!(prepared.warnings(), warnings.as_slice());
                prop_assert!(body == text || prepared.body() == expected.to_vec().as_slice(), "the text as read, or written anew");
            }
            (Err(refused), Err(report)) => prop_assert_eq!(refused.report(), &report),
            (prepared, read) => prop_assert!(false, "prepared {:?} but read {:?}", prepared.map(|p| p.reference_id().clone()), read.map(|r| r.0.reference_id)),
        }
    }
}

fn collect_pointers(value: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                collect_pointers(v, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_pointers(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}
