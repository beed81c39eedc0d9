//! The fast path of the reader: a valid envelope read straight into the typed
//! model with serde, with no `serde_json::Value` in between.
//!
//! It takes only what the untyped reader (the slow path, the rest of this
//! module) reads without a problem of its own: no known misspelling, no moved
//! field, no timestamp without an offset, no missing `localizedAttributes` or
//! Multicast payload, no duplicate key, no `null`. And it keeps its result only
//! when [`Envelope::validate`] finds no error. For anything else it gives up and
//! the slow path reads the input from scratch, so every report a user sees is
//! the slow path's. Whatever it takes, the slow path would read into the same
//! envelope with the same warnings (the differential test in `fast/tests.rs`
//! holds it to that).
//!
//! Where serde is more lenient than the slow path, the input never gets here:
//! [`plain`] turns away any `null` (serde reads one as `None`, or as a unit enum
//! value in `{"VALUE": null}`) and any array but the two kinds the typed model
//! has (serde reads a struct or the event from an array of its fields); the
//! event is read name first and then its schema's payload, never through
//! serde's buffered content (which reads `{"VALUE": {}}` as an enum value).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{LazyLock, OnceLock};

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::Parsed;
use crate::schemas::table::{self, Kind};
use crate::schemas::{AnyEvent, AttributeKey, EventName, EventPayload};
use crate::{Audience, Envelope, Locale, LocalizedAttributes, ReferenceId, UserId};

#[cfg(test)]
mod tests;

/// Reads `bytes` on the fast path: the envelope and its (warning-only) report,
/// or `None` when the slow path must read them.
pub(super) fn parse(bytes: &[u8]) -> Option<Parsed> {
    if !plain(bytes) {
        return None;
    }
    // One pass over the whole input (std's check runs a word at a time over
    // ASCII) instead of serde_json's check of each string as it reads it.
    // Invalid UTF-8 goes to the slow path, which reports where.
    let text = std::str::from_utf8(bytes).ok()?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let wire = Wire::deserialize(&mut deserializer).ok()?;
    deserializer.end().ok()?;
    let envelope = Envelope {
        timestamp: wire.timestamp,
        reference_id: wire.reference_id,
        expiry_time: wire.expiry_time,
        event: wire.event,
        localized_attributes: wire.localized_attributes,
        audience: wire.relevant_audience,
    };
    let report = envelope.validate();
    if report.has_errors() {
        return None;
    }
    Some(Parsed { envelope: Some(envelope), report })
}

/// The envelope as Amazon writes it: all six fields, nothing else.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Wire {
    #[serde(deserialize_with = "crate::schemas::builder_support::rfc3339")]
    timestamp: DateTime<Utc>,
    #[serde(deserialize_with = "reference_id")]
    reference_id: ReferenceId,
    #[serde(deserialize_with = "crate::schemas::builder_support::rfc3339")]
    expiry_time: DateTime<Utc>,
    #[serde(deserialize_with = "event")]
    event: AnyEvent,
    #[serde(deserialize_with = "localized_attributes")]
    localized_attributes: LocalizedAttributes,
    #[serde(deserialize_with = "audience")]
    relevant_audience: Audience,
}

/// The error of any input the fast path leaves to the slow path; never shown.
fn refused<E: de::Error>() -> E {
    E::custom("left to the untyped reader")
}

/// Reads a string, borrowed where it can be, through `F`; `None` refuses it.
struct Str<F>(F);

impl<'de, T, F: FnOnce(&str) -> Option<T>> DeserializeSeed<'de> for Str<F> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<T, F: FnOnce(&str) -> Option<T>> Visitor<'_> for Str<F> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        (self.0)(text).ok_or_else(refused)
    }
}

/// The next key of `map`, which must be `key`.
fn expect_key<'de, A: MapAccess<'de>>(map: &mut A, key: &str) -> Result<(), A::Error> {
    map.next_key_seed(Str(|found: &str| (found == key).then_some(())))?.ok_or_else(refused)
}

fn reference_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<ReferenceId, D::Error> {
    Str(|text: &str| ReferenceId::new(text).ok()).deserialize(deserializer)
}

fn event<'de, D: Deserializer<'de>>(deserializer: D) -> Result<AnyEvent, D::Error> {
    deserializer.deserialize_map(EventVisitor)
}

/// `{"name": NAME, "payload": {...}}`, in this order (the order Amazon and
/// [`Envelope::to_json`] write), so the payload is read straight from the text.
struct EventVisitor;

impl<'de> Visitor<'de> for EventVisitor {
    type Value = AnyEvent;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AnyEvent, A::Error> {
        expect_key(&mut map, "name")?;
        let name = map.next_value_seed(Str(|name: &str| name.parse::<EventName>().ok()))?;
        expect_key(&mut map, "payload")?;
        let event = typed_payload(name, &mut map)?;
        match map.next_key::<IgnoredAny>()? {
            Some(_) => Err(refused()),
            None => Ok(event),
        }
    }
}

/// Defines `typed_payload`, which reads the next value of a map as the payload
/// type of the schema `name`, for every payload type.
macro_rules! typed_payload {
    ($($payload:ty),* $(,)?) => {
        fn typed_payload<'de, A: MapAccess<'de>>(name: EventName, map: &mut A) -> Result<AnyEvent, A::Error> {
            $(
                if name == <$payload as EventPayload>::NAME {
                    return map.next_value::<$payload>().map(EventPayload::into_any);
                }
            )*
            Err(refused())
        }
    };
}

proactive_schemas::__for_each_payload!(typed_payload);

fn localized_attributes<'de, D: Deserializer<'de>>(deserializer: D) -> Result<LocalizedAttributes, D::Error> {
    deserializer.deserialize_seq(LocalesVisitor)
}

/// `localizedAttributes`: an array of locale objects, each locale once.
struct LocalesVisitor;

impl<'de> Visitor<'de> for LocalesVisitor {
    type Value = LocalizedAttributes;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of locale objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<LocalizedAttributes, A::Error> {
        let mut out = LocalizedAttributes::new();
        while let Some(LocaleObject(locale, keys)) = seq.next_element()? {
            if out.keys(&locale).is_some() {
                return Err(refused());
            }
            out.push_locale(locale, keys);
        }
        Ok(out)
    }
}

/// One object of `localizedAttributes`: its locale (anywhere among its keys)
/// and its attribute texts.
struct LocaleObject(Locale, BTreeMap<AttributeKey, String>);

/// A key of a locale object.
enum LocaleKey {
    Locale,
    Attribute(AttributeKey),
}

impl<'de> Deserialize<'de> for LocaleObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(LocaleObjectVisitor)
    }
}

struct LocaleObjectVisitor;

impl<'de> Visitor<'de> for LocaleObjectVisitor {
    type Value = LocaleObject;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a locale object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LocaleObject, A::Error> {
        let mut locale = None;
        let mut keys = BTreeMap::new();
        let key = |key: &str| match key {
            "locale" => Some(LocaleKey::Locale),
            _ => AttributeKey::new(key).ok().map(LocaleKey::Attribute),
        };
        while let Some(key) = map.next_key_seed(Str(key))? {
            match key {
                LocaleKey::Locale if locale.is_none() => {
                    locale = Some(map.next_value_seed(Str(|text: &str| Locale::new(text).ok()))?);
                }
                LocaleKey::Attribute(key) if !keys.contains_key(&key) => {
                    keys.insert(key, map.next_value::<String>()?);
                }
                _ => return Err(refused()),
            }
        }
        Ok(LocaleObject(locale.ok_or_else(refused)?, keys))
    }
}

fn audience<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Audience, D::Error> {
    deserializer.deserialize_map(AudienceVisitor)
}

/// `relevantAudience`: `{"type": "Unicast", "payload": {"user": ID}}` or
/// `{"type": "Multicast", "payload": {}}`, its two keys in either order.
struct AudienceVisitor;

/// A key of `relevantAudience`.
enum AudienceKey {
    Type,
    Payload,
}

impl<'de> Visitor<'de> for AudienceVisitor {
    type Value = Audience;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an audience object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Audience, A::Error> {
        // The type: whether it is Unicast; the payload: its user, if any.
        let mut unicast: Option<bool> = None;
        let mut user: Option<Option<UserId>> = None;
        let key = |key: &str| match key {
            "type" => Some(AudienceKey::Type),
            "payload" => Some(AudienceKey::Payload),
            _ => None,
        };
        while let Some(key) = map.next_key_seed(Str(key))? {
            match key {
                AudienceKey::Type if unicast.is_none() => {
                    let kind = |kind: &str| match kind {
                        "Unicast" => Some(true),
                        "Multicast" => Some(false),
                        _ => None,
                    };
                    unicast = Some(map.next_value_seed(Str(kind))?);
                }
                AudienceKey::Payload if user.is_none() => user = Some(map.next_value_seed(AudiencePayload)?),
                _ => return Err(refused()),
            }
        }
        match (unicast, user) {
            (Some(true), Some(Some(user))) => Ok(Audience::Unicast(user)),
            (Some(false), Some(None)) => Ok(Audience::Multicast),
            _ => Err(refused()),
        }
    }
}

/// An audience's payload: `{}`, or `{"user": ID}` with a valid id.
struct AudiencePayload;

impl<'de> DeserializeSeed<'de> for AudiencePayload {
    type Value = Option<UserId>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<UserId>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for AudiencePayload {
    type Value = Option<UserId>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an audience payload")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<UserId>, A::Error> {
        let mut user = None;
        while map.next_key_seed(Str(|key: &str| (key == "user").then_some(())))?.is_some() {
            if user.is_some() {
                return Err(refused());
            }
            user = Some(map.next_value_seed(Str(|id: &str| UserId::new(id).ok()))?);
        }
        Ok(user)
    }
}

/// Whether the JSON text can go the fast path at all: it has no `null`, and an
/// array only as the value of `localizedAttributes` or of a payload field that
/// is an array wherever it appears.
///
/// Without a backslash, a string cannot hold a `"`, so it is enough that
/// `null` appears nowhere and that every `[` follows `"KEY":` for such a key
/// (inside a string no `[` does; where the quotes are not a string's, the JSON
/// is invalid and serde refuses it). With one, [`plain_scan`] reads the text.
fn plain(bytes: &[u8]) -> bool {
    if memchr::memchr(b'\\', bytes).is_some() {
        return plain_scan(bytes);
    }
    // Made once: building a searcher costs as much as the search.
    static NULL: LazyLock<memchr::memmem::Finder<'static>> = LazyLock::new(|| memchr::memmem::Finder::new(b"null"));
    NULL.find(bytes).is_none() && memchr::memchr_iter(b'[', bytes).all(|at| follows_array_key(&bytes[..at]))
}

/// Whether `before` ends with `"KEY":` (with any whitespace) for a key whose
/// value is an array.
fn follows_array_key(before: &[u8]) -> bool {
    let trim = |text: &[u8]| text.trim_ascii_end().len();
    let before = &before[..trim(before)];
    let Some(before) = before.strip_suffix(b":") else { return false };
    let before = &before[..trim(before)];
    let Some(before) = before.strip_suffix(b"\"") else { return false };
    match before.iter().rposition(|&b| b == b'"') {
        Some(open) => is_array_key(&before[open + 1..]),
        None => false,
    }
}

/// [`plain`] for text with escapes: reads it token by token, skipping strings
/// (escapes and all); a key written with an escape sends the input to the
/// slow path.
fn plain_scan(bytes: &[u8]) -> bool {
    // The content of the last string (the key, when a `:` follows it), and
    // whether the last token was a `:`.
    let mut key: &[u8] = b"";
    let mut after_colon = false;
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        at += 1;
        match byte {
            b'"' => {
                let Some(len) = string_len(&bytes[at..]) else { return false };
                key = &bytes[at..at + len];
                at += len + 1;
                after_colon = false;
            }
            b':' => after_colon = true,
            b'[' if after_colon && is_array_key(key) => after_colon = false,
            // Outside strings, an `n` starts a `null`.
            b'[' | b'n' => return false,
            b' ' | b'\t' | b'\n' | b'\r' => {}
            _ => after_colon = false,
        }
    }
    true
}

/// The length of the string content at the start of `rest`, up to its closing
/// quote; `None` when it has none.
fn string_len(rest: &[u8]) -> Option<usize> {
    let mut at = 0;
    loop {
        let found = rest.get(at..)?.iter().position(|&b| b == b'"' || b == b'\\')?;
        if rest[at + found] == b'"' {
            return Some(at + found);
        }
        // A backslash escapes the byte after it.
        at += found + 2;
    }
}

/// Whether an array is in place as the value of `key`.
fn is_array_key(key: &[u8]) -> bool {
    key == b"localizedAttributes" || array_fields().iter().any(|name| name.as_bytes() == key)
}

/// The names of the payload fields that hold an array, of every schema, but
/// those that name a field of another kind anywhere.
fn array_fields() -> &'static [&'static str] {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let fields: Vec<&table::Field> = table::SCHEMAS.iter().flat_map(|schema| schema.all_fields()).collect();
        let is_array = |field: &table::Field| matches!(field.kind, Kind::EnumArray { .. });
        let mut names: Vec<&'static str> = fields
            .iter()
            .filter(|field| is_array(field))
            .map(|field| field.name)
            .filter(|name| fields.iter().all(|field| field.name != *name || is_array(field)))
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    })
}
