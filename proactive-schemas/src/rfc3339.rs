//! Date-times as Amazon reads them: read strictly as RFC 3339, and written (the
//! envelope's, the payloads') at millisecond precision, as Amazon's examples
//! and the envelope's own timestamp are: `2019-02-13T14:00:00Z`, or
//! `2019-02-13T14:00:00.612Z` when the time has a fraction (anything finer
//! than a millisecond is dropped, so `Utc::now()` in a payload is written as
//! the timestamp is). The text is what chrono's serde writes for the time
//! truncated to milliseconds, byte for byte, without chrono's formatting
//! machinery: a UTC time in years 0 to 9999 is written digit by digit into a
//! stack buffer (chrono goes through `fmt::Display`, a tenth of a bulk send's
//! serialization); any other is left to chrono.

use std::fmt;

use chrono::{DateTime, Datelike, SubsecRound, Timelike, Utc};
use serde::{Deserialize, Deserializer, Serializer, de};

/// A date-time field's value, read strictly: only what
/// [`DateTime::parse_from_rfc3339`] accepts (chrono's `FromStr` also takes
/// forms such as `2019-02-13 14:00:00 +00:00` that Amazon rejects),
/// converted to UTC. The untyped JSON reader accepts the same.
pub struct Rfc3339(pub DateTime<Utc>);

impl<'de> Deserialize<'de> for Rfc3339 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(Rfc3339Visitor)
    }
}

struct Rfc3339Visitor;

impl de::Visitor<'_> for Rfc3339Visitor {
    type Value = Rfc3339;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 date-time such as `2019-02-13T14:00:00Z`")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Rfc3339, E> {
        DateTime::parse_from_rfc3339(text).map(|time| Rfc3339(time.with_timezone(&Utc))).map_err(E::custom)
    }
}

/// Reads a required date-time field strictly; see [`Rfc3339`].
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    Rfc3339::deserialize(deserializer).map(|time| time.0)
}

/// Reads an optional date-time field strictly (`null` is `None`); see [`Rfc3339`].
pub fn deserialize_opt<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    Ok(Option::<Rfc3339>::deserialize(deserializer)?.map(|time| time.0))
}

/// `#[serde(serialize_with)]` for a `DateTime<Utc>`: what chrono's `Serialize`
/// writes for the time truncated to milliseconds.
pub fn serialize<S: Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    let mut buffer = [0u8; 32];
    match write(time, &mut buffer) {
        // Only ASCII digits and separators were written.
        Some(len) => serializer.serialize_str(std::str::from_utf8(&buffer[..len]).unwrap_or_default()),
        None => serde::Serialize::serialize(&time.trunc_subsecs(3), serializer),
    }
}

/// Writes `time` into `buffer`; its length, or `None` for a year outside 0..=9999.
/// `#[serde(serialize_with)]` for an `Option<DateTime<Utc>>` (with
/// `skip_serializing_if = "Option::is_none"`, only `Some` is written).
pub fn serialize_opt<S: Serializer>(time: &Option<DateTime<Utc>>, serializer: S) -> Result<S::Ok, S::Error> {
    match time {
        Some(time) => serialize(time, serializer),
        None => serializer.serialize_none(),
    }
}

fn write(time: &DateTime<Utc>, buffer: &mut [u8; 32]) -> Option<usize> {
    let year = u32::try_from(time.year()).ok().filter(|year| *year <= 9999)?;
    let (mut second, mut nano) = (time.second(), time.nanosecond());
    if nano >= 1_000_000_000 {
        // A leap second: chrono writes it as second 60.
        second += 1;
        nano -= 1_000_000_000;
    }
    let mut out = Out { buffer, len: 0 };
    out.digits(year, 4);
    for (separator, value) in
        [(b'-', time.month()), (b'-', time.day()), (b'T', time.hour()), (b':', time.minute()), (b':', second)]
    {
        out.byte(separator);
        out.digits(value, 2);
    }
    let (fraction, width) = match nano / 1_000_000 {
        0 => (0, 0),
        millis => (millis, 3),
    };
    if width > 0 {
        out.byte(b'.');
        out.digits(fraction, width);
    }
    out.byte(b'Z');
    Some(out.len)
}

/// A cursor in the buffer.
struct Out<'b> {
    buffer: &'b mut [u8; 32],
    len: usize,
}

impl Out<'_> {
    fn byte(&mut self, byte: u8) {
        self.buffer[self.len] = byte;
        self.len += 1;
    }

    /// `value` in `width` digits, zero-padded.
    fn digits(&mut self, mut value: u32, width: usize) {
        for slot in self.buffer[self.len..self.len + width].iter_mut().rev() {
            *slot = b'0' + (value % 10) as u8;
            value /= 10;
        }
        self.len += width;
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    /// What chrono's own `Serialize` writes for the time in milliseconds, and what ours does.
    fn both(time: DateTime<Utc>) -> (String, String) {
        let mut ours = Vec::new();
        serialize(&time, &mut serde_json::Serializer::new(&mut ours)).unwrap();
        (serde_json::to_string(&time.trunc_subsecs(3)).unwrap(), String::from_utf8(ours).unwrap())
    }

    #[test]
    fn the_forms_chrono_writes() {
        let at = |nano| Utc.with_ymd_and_hms(2019, 2, 13, 14, 0, 0).unwrap() + chrono::Duration::nanoseconds(nano);
        for (nano, text) in [
            (0, "\"2019-02-13T14:00:00Z\""),
            (120_000_000, "\"2019-02-13T14:00:00.120Z\""),
            // Finer than a millisecond: written in milliseconds, as the timestamp is.
            (120_500_000, "\"2019-02-13T14:00:00.120Z\""),
            (612_047_472, "\"2019-02-13T14:00:00.612Z\""),
            (999_999, "\"2019-02-13T14:00:00Z\""),
        ] {
            let (chrono, ours) = both(at(nano));
            assert_eq!((chrono.as_str(), ours.as_str()), (text, text));
        }
        // Outside 0..=9999 chrono writes a sign; ours leaves it to chrono.
        let far = Utc.with_ymd_and_hms(12345, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::nanoseconds(612_047_472);
        let (chrono, ours) = both(far);
        assert_eq!(ours, chrono);
        assert_eq!(ours, "\"+12345-01-01T00:00:00.612Z\"");
        // A leap second is second 60, as chrono writes it.
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31).unwrap().and_hms_nano_opt(23, 59, 59, 1_500_000_000);
        let (chrono, ours) = both(leap.unwrap().and_utc());
        assert_eq!((chrono.as_str(), ours.as_str()), ("\"2016-12-31T23:59:60.500Z\"", "\"2016-12-31T23:59:60.500Z\""));
    }

    proptest! {
        #[test]
        fn writes_what_chrono_writes(seconds in -62_135_596_800i64..253_402_300_799, nano in 0u32..2_000_000_000) {
            let time = DateTime::from_timestamp(seconds, nano).unwrap_or_default();
            let (chrono, ours) = both(time);
            prop_assert_eq!(ours, chrono);
        }
    }
}
