//! [`Observation`]s of the usual shape read straight from their bytes; serde decides
//! anything else (see [`client_core::decode::FastJson`]).

use client_core::decode::FastJson;
use client_core::decode::fast_json::{FlatValue, fast_f64, fast_i64, insert_other, scan_object};
use jiff::Timestamp;

use crate::observations::Observation;

impl FastJson for Observation {
    fn decode_fast(json: &[u8]) -> Option<(Self, usize)> {
        let mut timestamp = None;
        let mut value = None;
        let mut other = serde_json::Map::new();
        let end = scan_object(json, |key, member| match key {
            "timestamp" if timestamp.is_none() => {
                timestamp = epoch_ms(member);
                timestamp.is_some()
            }
            "value" if value.is_none() => {
                value = double(member);
                value.is_some()
            }
            // A repeated member is serde's to refuse.
            "timestamp" | "value" => false,
            _ => insert_other(&mut other, key, member),
        })?;
        let observation = Observation {
            timestamp: timestamp?,
            value: value.flatten(),
            other,
        };
        Some((observation, end))
    }
}

/// Whole epoch milliseconds written as an integer.
fn epoch_ms(member: FlatValue<'_>) -> Option<Timestamp> {
    match member {
        FlatValue::Number(text) => Timestamp::from_millisecond(fast_i64(text)?).ok(),
        _ => None,
    }
}

/// A double, `null`, or one of the three names of the doubles JSON has no number for.
fn double(member: FlatValue<'_>) -> Option<Option<f64>> {
    match member {
        FlatValue::Null => Some(None),
        FlatValue::Number(text) => fast_f64(text).map(Some),
        FlatValue::Str("NaN") => Some(Some(f64::NAN)),
        FlatValue::Str("Infinity") => Some(Some(f64::INFINITY)),
        FlatValue::Str("-Infinity") => Some(Some(f64::NEG_INFINITY)),
        _ => None,
    }
}
