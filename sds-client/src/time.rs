//! Wire forms of instants: epoch milliseconds (the document's observations) and ISO 8601
//! (query parameters and today's data API).

use std::fmt;

use jiff::{SignedDuration, Timestamp};
use serde::de::{self, Deserializer, Visitor};
use serde::{Serialize, Serializer};

/// ISO 8601 in UTC, to the millisecond: whole seconds as the document's examples write
/// them (`2022-09-22T10:15:30Z`), anything finer with three digits (`...30.250Z`).
pub(crate) fn iso(at: Timestamp) -> String {
    let at = at.round(jiff::Unit::Millisecond).unwrap_or(at);
    if at.subsec_millisecond() == 0 {
        at.to_string()
    } else {
        format!("{at:.3}")
    }
}

/// The start of a range as sent (`startDate`): [`iso`] of `at` rounded *down* to the
/// millisecond, so that the range sent never starts after the range asked for.
pub(crate) fn iso_start(at: Timestamp) -> String {
    iso(to_millisecond(at, false))
}

/// The instant [`iso_start`] sends for `at`: what a server that honours `startDate`
/// answers from.
pub(crate) fn sent_start(at: Timestamp) -> Timestamp {
    to_millisecond(at, false)
}

/// The end of a range as sent (`endDate`): [`iso`] of `at` rounded *up* to the
/// millisecond (down only at `Timestamp::MAX`, past which nothing lies), so that the
/// range sent never ends before the range asked for: an observation less than a
/// millisecond before a sub-millisecond `to` is not lost to an exclusive `endDate`.
pub(crate) fn iso_end(at: Timestamp) -> String {
    iso(to_millisecond(at, true))
}

/// `at` on a whole millisecond, the one at or before it (or at or after it with `up`).
fn to_millisecond(at: Timestamp, up: bool) -> Timestamp {
    let nanos = at.as_nanosecond();
    let down = nanos.div_euclid(1_000_000);
    let ms = if up && nanos.rem_euclid(1_000_000) != 0 {
        down + 1
    } else {
        down
    };
    i64::try_from(ms)
        .ok()
        .and_then(|ms| Timestamp::from_millisecond(ms).ok())
        .or_else(|| {
            i64::try_from(down)
                .ok()
                .and_then(|ms| Timestamp::from_millisecond(ms).ok())
        })
        .unwrap_or(at)
}

/// One millisecond before `at`, where queries start so that the server's reading of
/// `startDate` (inclusive or exclusive) loses nothing; `at` itself when nothing lies
/// before it (`Timestamp::MIN`), rather than a panic.
pub(crate) fn just_before(at: Timestamp) -> Timestamp {
    at.checked_sub(SignedDuration::from_millis(1)).unwrap_or(at)
}

/// Reads epoch milliseconds sent as an integer, an integral float (`1676415254000.0`) or
/// a string of digits.
pub(crate) fn deserialize_epoch_ms<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Timestamp, D::Error> {
    struct EpochMs;

    impl Visitor<'_> for EpochMs {
        type Value = Timestamp;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("epoch milliseconds")
        }

        fn visit_i64<E: de::Error>(self, ms: i64) -> Result<Timestamp, E> {
            Timestamp::from_millisecond(ms)
                .map_err(|e| E::custom(format!("timestamp {ms} out of range: {e}")))
        }

        fn visit_u64<E: de::Error>(self, ms: u64) -> Result<Timestamp, E> {
            let ms = i64::try_from(ms).map_err(|_| E::custom(format!("timestamp {ms} out of range")))?;
            self.visit_i64(ms)
        }

        fn visit_f64<E: de::Error>(self, ms: f64) -> Result<Timestamp, E> {
            // Integral floats within i64 only: a fraction of a millisecond is not a time
            // this API sends, and rounding it would invent one.
            if ms.fract() != 0.0 || !(-9.0e15..=9.0e15).contains(&ms) {
                return Err(E::custom(format!(
                    "timestamp {ms} is not whole epoch milliseconds"
                )));
            }
            self.visit_i64(ms as i64)
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Timestamp, E> {
            let ms: i64 = text
                .trim()
                .parse()
                .map_err(|_| E::custom(format!("timestamp `{text}` is not epoch milliseconds")))?;
            self.visit_i64(ms)
        }
    }

    deserializer.deserialize_any(EpochMs)
}

/// Writes epoch milliseconds as an integer.
pub(crate) fn serialize_epoch_ms<S: Serializer>(at: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
    at.as_millisecond().serialize(serializer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct At {
        #[serde(deserialize_with = "deserialize_epoch_ms")]
        t: Timestamp,
    }

    fn read(json: &str) -> Result<Timestamp, serde_json::Error> {
        serde_json::from_str::<At>(json).map(|a| a.t)
    }

    #[test]
    fn epoch_ms_in_every_number_form() {
        let expected = Timestamp::from_millisecond(1_676_415_254_000).unwrap();
        assert_eq!(read(r#"{"t":1676415254000}"#).unwrap(), expected);
        assert_eq!(read(r#"{"t":1676415254000.0}"#).unwrap(), expected);
        assert_eq!(read(r#"{"t":"1676415254000"}"#).unwrap(), expected);
        assert!(read(r#"{"t":1676415254000.5}"#).is_err());
        assert!(read(r#"{"t":"2023-02-14T22:54:14Z"}"#).is_err());
        assert!(read(r#"{"t":99999999999999999999}"#).is_err());
        assert!(read(r#"{"t":null}"#).is_err());
    }

    #[test]
    fn just_before_stops_at_the_start_of_time() {
        let at: Timestamp = "2022-09-22T10:15:30Z".parse().unwrap();
        assert_eq!(iso(just_before(at)), "2022-09-22T10:15:29.999Z");
        assert_eq!(just_before(Timestamp::MIN), Timestamp::MIN);
        assert_eq!(iso(Timestamp::MAX), "9999-12-30T22:00:00.999Z");
    }

    #[test]
    fn range_ends_round_outward() {
        let at: Timestamp = "2022-09-22T10:15:30Z".parse().unwrap();
        let inside = at + jiff::SignedDuration::from_micros(400);
        assert_eq!(iso_start(inside), "2022-09-22T10:15:30Z");
        assert_eq!(iso_end(inside), "2022-09-22T10:15:30.001Z");
        let late = at + jiff::SignedDuration::from_micros(600);
        assert_eq!(iso_start(late), "2022-09-22T10:15:30Z", "not to the nearest");
        assert_eq!(iso_end(at), "2022-09-22T10:15:30Z", "whole milliseconds stay");
        let before_1970: Timestamp = "1969-12-31T23:59:59.9995Z".parse().unwrap();
        assert_eq!(iso_start(before_1970), "1969-12-31T23:59:59.999Z");
        assert_eq!(iso_end(before_1970), "1970-01-01T00:00:00Z");
        assert_eq!(iso_end(Timestamp::MAX), "9999-12-30T22:00:00.999Z");
        assert_eq!(iso_start(Timestamp::MIN), "-009999-01-02T01:59:59Z");
    }

    #[test]
    fn iso_drops_zero_milliseconds() {
        let at: Timestamp = "2022-09-22T10:15:30Z".parse().unwrap();
        assert_eq!(iso(at), "2022-09-22T10:15:30Z");
        assert_eq!(
            iso(at - jiff::SignedDuration::from_millis(1)),
            "2022-09-22T10:15:29.999Z"
        );
        assert_eq!(
            iso(at + jiff::SignedDuration::from_millis(250)),
            "2022-09-22T10:15:30.250Z"
        );
        assert_eq!(
            iso(at + jiff::SignedDuration::from_nanos(1)),
            "2022-09-22T10:15:30Z"
        );
    }
}
