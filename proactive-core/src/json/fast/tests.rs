//! The differential test of the fast path: on valid envelopes of every schema,
//! and on thousands of mutations of them, [`parse_slice`] gives exactly what the
//! untyped reader alone gives, and the fast path is taken for the valid ones.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::{array_fields, parse, plain, plain_scan};
use crate::json::{Parsed, parse_slice, parse_slice_untyped};
use crate::schemas::EventName;
use crate::schemas::table::{self, Kind};

/// Stands for a raw JSON text spliced into a serialized envelope.
const RAW: &str = "@@raw@@";

/// How a valid envelope of the corpus is sent: its audience and its times.
struct Shape {
    user: Option<&'static str>,
    timestamp: &'static str,
    expiry_time: &'static str,
}

const SHAPES: [Shape; 3] = [
    Shape { user: None, timestamp: "2026-03-01T08:00:00Z", expiry_time: "2026-03-01T20:00:00Z" },
    Shape {
        user: Some("amzn1.ask.account.AGF7EXAMPLE"),
        timestamp: "2026-03-01T08:00:00.123+02:00",
        expiry_time: "2026-03-02T05:59:59.999999999+01:00",
    },
    // A user id without Amazon's prefix: valid, with a warning from validation.
    Shape { user: Some("user-42"), timestamp: "2026-03-01T08:00:00z", expiry_time: "2026-03-01t08:05:00Z" },
];

/// The attribute keys a payload's text references.
fn referenced_keys(payload: &str) -> BTreeSet<String> {
    payload.split("localizedattribute:").skip(1).map(|s| s.split('"').next().unwrap_or("").to_owned()).collect()
}

/// A valid envelope around the payload `payload` of `name`, sent as `shape` says.
fn envelope(name: EventName, payload: &str, shape: &Shape) -> Value {
    let keys = referenced_keys(payload);
    let locales: Vec<Value> = ["en-US", "de-DE"]
        .iter()
        .map(|locale| {
            let mut object = Map::new();
            object.insert("locale".into(), json!(locale));
            for key in &keys {
                object.insert(key.clone(), json!(format!("{key} in {locale}")));
            }
            Value::Object(object)
        })
        .collect();
    let audience = match shape.user {
        Some(user) => json!({"type": "Unicast", "payload": {"user": user}}),
        None => json!({"type": "Multicast", "payload": {}}),
    };
    json!({
        "timestamp": shape.timestamp,
        "referenceId": "ref-0001",
        "expiryTime": shape.expiry_time,
        "event": {"name": name.as_str(), "payload": serde_json::from_str::<Value>(payload).unwrap()},
        "localizedAttributes": locales,
        "relevantAudience": audience,
    })
}

/// Every schema's examples in every shape, and the repository's example files.
fn corpus() -> Vec<String> {
    let mut out = Vec::new();
    for name in EventName::ALL {
        for example in name.schema().examples {
            for shape in &SHAPES {
                out.push(envelope(name, example, shape).to_string());
            }
        }
    }
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/events");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|entry| entry.unwrap().path()).collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        match file.extension().and_then(|e| e.to_str()) {
            Some("jsonl") => out.extend(text.lines().take(20).map(str::to_owned)),
            _ => out.push(text),
        }
    }
    out
}

/// Asserts that `text` reads the same with and without the fast path; returns
/// whether the fast path took it.
fn same(text: &str) -> bool {
    let slow = parse_slice_untyped(text.as_bytes());
    let fast = parse(text.as_bytes());
    if let Some(fast) = &fast {
        assert_eq!(fast, &slow, "the fast path differs on\n{text}");
        assert!(!slow.report.has_errors(), "the fast path took an input with errors:\n{text}\n{:?}", slow.report);
    }
    assert_eq!(parse_slice(text.as_bytes()), slow, "parse_slice differs on\n{text}");
    fast.is_some()
}

#[test]
fn valid_envelopes_take_the_fast_path_and_read_the_same() {
    let corpus = corpus();
    assert!(corpus.len() > 40, "{}", corpus.len());
    for text in &corpus {
        let parsed: Parsed = parse_slice_untyped(text.as_bytes());
        assert!(!parsed.report.has_errors(), "{text}\n{:?}", parsed.report);
        assert!(same(text), "the fast path refused a valid envelope:\n{text}");
        let pretty = serde_json::to_string_pretty(&serde_json::from_str::<Value>(text).unwrap()).unwrap();
        assert!(same(&pretty), "the fast path refused a valid envelope:\n{pretty}");
    }
    // Some corpus envelopes have warnings (a user id without Amazon's prefix).
    assert!(corpus.iter().any(|text| !parse_slice(text.as_bytes()).report.is_clean()));
}

#[test]
fn the_corpus_has_every_field_of_every_schema() {
    let mut seen = BTreeSet::new();
    for text in corpus() {
        let value: Value = serde_json::from_str(&text).unwrap();
        let name = value["event"]["name"].as_str().unwrap().to_owned();
        collect_paths(&value["event"]["payload"], &format!("{name}:"), &mut seen);
    }
    for schema in table::SCHEMAS {
        for path in schema.paths() {
            assert!(seen.contains(&format!("{}:{path}", schema.name)), "no example has {}:{path}", schema.name);
        }
    }
}

fn collect_paths(value: &Value, at: &str, out: &mut BTreeSet<String>) {
    if let Value::Object(object) = value {
        for (key, child) in object {
            let path = if at.ends_with(':') { format!("{at}{key}") } else { format!("{at}.{key}") };
            collect_paths(child, &path, out);
            out.insert(path);
        }
    }
}

#[test]
fn mutated_envelopes_read_the_same() {
    let mut corpus = Vec::new();
    for name in EventName::ALL {
        for example in name.schema().examples {
            corpus.push(envelope(name, example, &SHAPES[0]));
            corpus.push(envelope(name, example, &SHAPES[1]));
            // The payload before the name: serde would buffer it, and read it more leniently.
            let mut payload_first = envelope(name, example, &SHAPES[0]);
            let event = payload_first["event"].as_object_mut().unwrap();
            let name = event.shift_remove("name").unwrap();
            event.insert("name".to_owned(), name);
            corpus.push(payload_first);
        }
    }
    let (mut total, mut fast) = (0, 0);
    for envelope in &corpus {
        for text in mutants(envelope) {
            total += 1;
            fast += usize::from(same(&text));
        }
    }
    // Some mutations keep the envelope valid (another offset, escapes, key order).
    assert!(fast > 100, "{fast} of {total} mutants took the fast path");
    assert!(total - fast > 10_000, "{fast} of {total} mutants took the fast path");
}

/// Every mutation of `envelope` this test makes, as text.
fn mutants(envelope: &Value) -> Vec<String> {
    let mut pointers = Vec::new();
    collect_pointers(envelope, String::new(), &mut pointers);
    let mut out = whole_text_mutants(&envelope.to_string());
    for pointer in &pointers {
        let node = envelope.pointer(pointer).unwrap();
        if !pointer.is_empty() {
            let mut removed = envelope.clone();
            let (parent, last) = pointer.rsplit_once('/').unwrap();
            match removed.pointer_mut(parent).unwrap() {
                Value::Object(object) => drop(object.shift_remove(&unescape(last))),
                Value::Array(items) => drop(items.remove(last.parse::<usize>().unwrap())),
                _ => unreachable!(),
            }
            out.push(removed.to_string());
        }
        for raw in replacements(node) {
            out.push(replaced(envelope, pointer, &raw));
        }
        if let Value::Object(object) = node {
            for changed in object_mutants(object) {
                out.push(replaced(envelope, pointer, &changed));
            }
        }
    }
    out
}

/// `envelope` with the node at `pointer` replaced by the JSON text `raw`.
fn replaced(envelope: &Value, pointer: &str, raw: &str) -> String {
    let mut value = envelope.clone();
    *value.pointer_mut(pointer).unwrap() = json!(RAW);
    value.to_string().replacen(&format!("\"{RAW}\""), raw, 1)
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
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

/// Mutations of the whole text: whitespace, escapes, truncation, trailing text.
fn whole_text_mutants(text: &str) -> Vec<String> {
    let mut out = vec![
        format!(" \n{text}\n "),
        format!("\u{feff}{text}"),
        format!("{text} {{}}"),
        format!("{text},"),
        text[..text.len() - 1].to_owned(),
        text[..text.len() / 2].to_owned(),
        text.replace(',', " ,\t"),
        text.replace(':', " : "),
        // A key written with an escape is the same key.
        text.replacen("\"timestamp\"", "\"\\u0074imestamp\"", 1),
        text.replacen("\"locale\"", "\"loc\\u0061le\"", 1),
        text.replacen("\"payload\":{}", "\"payload\":{ }", 1),
        text.replacen("\"payload\":{}", "\"payload\":[]", 1),
        text.replace("\"name\"", "\"nam\\u0065\""),
    ];
    // Strings with escapes and non-ASCII text.
    for (from, to) in [("-", "\\u002d"), ("e", "\\u00e9"), ("a", "\\\""), ("o", "\\\\"), ("r", "\\n"), ("T", "\\/")] {
        out.push(text.replacen(from, to, 3));
    }
    out
}

/// What a node is replaced by, as JSON text: every kind of value, and
/// variations of the node itself.
fn replacements(node: &Value) -> Vec<String> {
    let mut out: Vec<String> = [
        "null",
        "true",
        "0",
        "1",
        "-1",
        "-0",
        "1.0",
        "1e2",
        "0.5",
        "4294967295",
        "4294967296",
        "18446744073709551616",
        "-9223372036854775809",
        "\"\"",
        "\" \"",
        "\"x\"",
        "[]",
        "{}",
        "[null]",
        "[{}]",
    ]
    .iter()
    .map(|raw| raw.to_string())
    .collect();
    let text = node.to_string();
    out.push(format!("[{text}]"));
    out.push(format!("[{text},{text}]"));
    out.push(format!("{{\"value\":{text}}}"));
    match node {
        Value::String(s) => out.extend(string_mutants(s).into_iter().map(|s| Value::String(s).to_string())),
        Value::Number(n) => {
            let n = n.as_i64().unwrap_or(0);
            for raw in [n + 1, n - 1, -n, i64::from(u32::MAX), n * 1_000_000_000_000] {
                out.push(raw.to_string());
            }
            out.extend([format!("{n}.0"), format!("{n}e0"), format!("{n}.5"), format!("\"{n}\"")]);
        }
        Value::Array(items) => {
            let mut reversed = items.clone();
            reversed.reverse();
            out.push(Value::Array(reversed).to_string());
            if let Some(first) = items.first() {
                out.push(json!([first, first]).to_string());
                out.push(json!([first, null]).to_string());
            }
        }
        _ => {}
    }
    if let Value::String(s) = node {
        // An enum value written as serde's other forms of an enum.
        out.extend([format!("{{\"{s}\":null}}"), format!("{{\"{s}\":{{}}}}"), format!("{{\"{s}\":[]}}")]);
    }
    out
}

/// Variations of a string value: date-time formats, case, spelling, lengths.
fn string_mutants(s: &str) -> Vec<String> {
    let mut out = vec![
        s.to_lowercase(),
        s.to_uppercase(),
        format!("{s}X"),
        s.chars().skip(1).collect(),
        format!(" {s}"),
        format!("{s} "),
        format!("{s}é"),
        "x".repeat(300),
        "y".repeat(70_000),
        format!("localizedattribute:{s}"),
        "localizedattribute:".to_owned(),
        "localizedattribute:no such key".to_owned(),
        s.replace("localizedattribute:", "localizedAttribute:"),
        "amzn1.ask.account.X".to_owned(),
    ];
    if chrono::DateTime::parse_from_rfc3339(s).is_ok() {
        let bare = s.trim_end_matches('Z');
        out.extend([
            s.replacen('T', " ", 1),
            s.replacen('T', "  ", 1),
            s.replacen('T', "t", 1),
            s.replacen('Z', "z", 1),
            bare.to_owned(),
            format!("{bare}+01:00"),
            format!("{bare}+0100"),
            format!("{bare}+00:00"),
            format!("{bare}-23:59"),
            format!("{bare}+24:00"),
            format!("{bare} +00:00"),
            format!("{bare}.123456789123Z"),
            s.replacen(":00", "", 1),
            s.replacen(":00", ":60", 1),
            s.replacen("-0", "-1", 1),
            s.get(..10).unwrap_or(s).to_owned(),
        ]);
    }
    out
}

/// Variations of an object: keys renamed, added, repeated, moved, reordered;
/// the object written as an array of its values.
fn object_mutants(object: &Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    let entries: Vec<(&String, &Value)> = object.iter().collect();
    let with = |entries: &[(String, Value)]| Value::Object(entries.iter().cloned().collect()).to_string();
    let owned: Vec<(String, Value)> = entries.iter().map(|(k, v)| ((*k).clone(), (*v).clone())).collect();
    for (index, (key, value)) in entries.iter().enumerate() {
        for renamed in renames(key) {
            let mut changed = owned.clone();
            changed[index].0 = renamed;
            out.push(with(&changed));
        }
        // The key twice, with the same value and with another.
        let body = Value::Object(object.clone()).to_string();
        for repeat in [value.to_string(), "\"other\"".to_owned()] {
            out.push(format!("{{\"{key}\":{repeat},{}", &body[1..]));
            out.push(format!("{},\"{key}\":{repeat}}}", &body[..body.len() - 1]));
        }
        // The key moved into a sibling object (the seed's `inviter.relationshipToInvitee`).
        for (sibling, (_, sibling_value)) in entries.iter().enumerate() {
            if sibling != index && sibling_value.is_object() {
                let mut changed = owned.clone();
                changed[sibling].1.as_object_mut().unwrap().insert((*key).clone(), (*value).clone());
                changed.remove(index);
                out.push(with(&changed));
            }
        }
    }
    let mut reversed = owned.clone();
    reversed.reverse();
    out.push(with(&reversed));
    let mut extra = owned.clone();
    extra.push(("extra".to_owned(), json!(1)));
    out.push(with(&extra));
    out.push(Value::Array(object.values().cloned().collect()).to_string());
    out
}

/// Other spellings of `key`: one letter off, another case, and the known
/// misspellings the schemas record for a field of that name.
fn renames(key: &str) -> Vec<String> {
    let mut out = vec![format!("{key}s"), key.chars().skip(1).collect(), key.to_lowercase(), key.to_uppercase()];
    if let Some(last) = key.chars().last() {
        out.push(format!("{}{}", &key[..key.len() - last.len_utf8()], if last == 'e' { 'a' } else { 'e' }));
    }
    for schema in table::SCHEMAS {
        for field in schema.all_fields() {
            if field.name == key {
                out.extend(field.aliases.iter().map(|alias| alias.rsplit('.').next().unwrap_or(alias).to_owned()));
            }
        }
    }
    out.retain(|renamed| renamed != key);
    out
}

#[test]
fn plain_turns_away_null_and_misplaced_arrays() {
    let accepted = [
        r#"{"localizedAttributes": [{"b": "c"}], "garbageTypes" : ["X"], "d": {"garbageTypes":[]}}"#,
        r#"{"a": "nul", "b": 1, "c": true}"#,
    ];
    let refused = [
        r#"{"a": null}"#,
        r#"{"a":null}"#,
        r#"{"a": [1]}"#,
        r#"[{"localizedAttributes": []}]"#,
        r#"{"localizedAttributes": [[]]}"#,
        r#"{"localizedAttributes": [{"a": [1]}]}"#,
        r#"{"localizedAttributes" "x": []}"#,
    ];
    // The same with an escape, which makes `plain` read the text token by token.
    let escaped = |text: &str| text.replacen('{', r#"{"e": "\"\n", "#, 1);
    for text in accepted {
        assert!(plain(text.as_bytes()), "{text}");
        assert!(plain_scan(text.as_bytes()), "{text}");
        assert!(plain(escaped(text).as_bytes()), "{}", escaped(text));
    }
    for text in refused {
        assert!(!plain(text.as_bytes()), "{text}");
        assert!(!plain(escaped(text).as_bytes()), "{}", escaped(text));
    }
    // Token by token, a string may hold anything; without a backslash, `plain`
    // refuses `null` or a `[` even inside one (the slow path reads those).
    let in_strings = r#"{"a": "null [", "b": ":[", "localizedAttributes": [{"b": "\"n["}]}"#;
    assert!(plain(in_strings.as_bytes()));
    assert!(!plain(br#"{"a": "null"}"#));
    assert!(!plain(br#"{"a": ":["}"#));
    assert!(plain_scan(br#"{"a": "null", "b": ":["}"#));
    assert!(!plain_scan(br#"{"a": "unterminated}"#));
    assert!(!plain_scan(br#"{"a": "\"}"#));
    assert!(!plain(br#"{"locali\u007aedAttributes": []}"#));
    // Invalid JSON may pass: serde refuses it.
    assert!(plain(br#"{"a": "localizedAttributes": []}"#));
    assert_eq!(parse(br#"{"a": "localizedAttributes": []}"#), None);
}

#[test]
fn array_fields_are_the_tables_enum_arrays() {
    let expected: BTreeSet<&str> = table::SCHEMAS
        .iter()
        .flat_map(|schema| schema.all_fields())
        .filter(|field| matches!(field.kind, Kind::EnumArray { .. }))
        .map(|field| field.name)
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(array_fields().iter().copied().collect::<BTreeSet<_>>(), expected);
}
