//! The default record of values responses: `{"timestamp","signalId","value"}`.

use client_core::decode::FastJson;
use client_core::decode::fast_json::{
    FlatValue, fast_f64, fast_f64_prefix, fast_rfc3339, fast_rfc3339_bytes, insert_other, scan_object,
    until_quote,
};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::signal_id::SignalId;

/// One value of one signal at one time:
/// `{"timestamp":"2026-05-31T00:00:00+03:00","signalId":"Velocity","value":0.42}`.
///
/// The real record layout is not public; decoding is generic over `T` so you can use
/// your own type if the API differs. Fields beyond these three are kept, as sent, in
/// [`Record::other`]; `value` may be null.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Record {
    /// When (sent with the offset of `tzi`).
    pub timestamp: Timestamp,
    /// Which signal.
    pub signal_id: SignalId,
    /// The value (`None` for a gap).
    #[serde(default)]
    pub value: Option<f64>,
    /// Every other field of the record, as the server sent it.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl Record {
    /// A record.
    pub fn new(timestamp: Timestamp, signal_id: impl Into<SignalId>, value: Option<f64>) -> Self {
        Record {
            timestamp,
            signal_id: signal_id.into(),
            value,
            other: serde_json::Map::new(),
        }
    }
}

/// The usual record read straight from its bytes; serde decides anything else (see
/// [`client_core::decode::FastJson`]). The results are serde's on every input.
impl FastJson for Record {
    #[inline]
    fn decode_fast(json: &[u8]) -> Option<(Self, usize)> {
        usual_shape(json).or_else(|| any_shape(json))
    }
}

/// The record exactly as the API writes it, `{"timestamp":"..","signalId":"..","value":..}`
/// with no space: matched against that text, no member scanned generically.
#[inline]
fn usual_shape(json: &[u8]) -> Option<(Record, usize)> {
    let rest = json.strip_prefix(br#"{"timestamp":""#)?;
    // The timestamp's form is all ASCII, checked as it is read: an escape or a control
    // character fails it, so the text needs no check of its own.
    let (timestamp, length) = until_quote(rest)?;
    let timestamp = fast_rfc3339_bytes(timestamp)?;
    let rest = rest[length..].strip_prefix(br#","signalId":"#)?;
    let (signal_id, rest) = short_string(rest)?;
    let rest = rest.strip_prefix(br#","value":"#)?;
    let (value, length) = match rest.strip_prefix(b"null") {
        Some(_) => (None, 4),
        // Checked against JSON's grammar as it is read: `01` is serde's to refuse, and so
        // is `1x` (what follows must be the closing brace).
        None => fast_f64_prefix(rest).map(|(value, length)| (Some(value), length))?,
    };
    if rest.get(length) != Some(&b'}') {
        return None;
    }
    let record = Record {
        timestamp,
        signal_id: SignalId::new(signal_id),
        value,
        other: serde_json::Map::new(),
    };
    Some((record, json.len() - rest.len() + length + 1))
}

/// A short plain string at the start of `json` (after its opening quote, which
/// `json` starts with): its text and what follows its closing quote; `None` for an escape,
/// a control character or bad UTF-8. A byte at a time: a signal id is a few bytes, too
/// few for a vectorised search to pay.
#[inline]
fn short_string(json: &[u8]) -> Option<(&str, &[u8])> {
    let json = json.strip_prefix(b"\"")?;
    let end = json.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
    if json[end] != b'"' {
        return None;
    }
    Some((std::str::from_utf8(&json[..end]).ok()?, &json[end + 1..]))
}

/// Any member order, spacing and unknown members, by the generic scanner.
fn any_shape(json: &[u8]) -> Option<(Record, usize)> {
    {
        let mut timestamp = None;
        let mut signal_id = None;
        let mut value = None;
        let mut other = serde_json::Map::new();
        let end = scan_object(json, |key, member| match key {
            "timestamp" => match member {
                FlatValue::Str(text) if timestamp.is_none() => {
                    timestamp = fast_rfc3339(text);
                    timestamp.is_some()
                }
                _ => false,
            },
            "signalId" => match member {
                FlatValue::Str(text) if signal_id.is_none() => {
                    signal_id = Some(text);
                    true
                }
                _ => false,
            },
            "value" => match member {
                _ if value.is_some() => false,
                FlatValue::Number(text) => {
                    value = fast_f64(text).map(Some);
                    value.is_some()
                }
                FlatValue::Null => {
                    value = Some(None);
                    true
                }
                _ => false,
            },
            _ => insert_other(&mut other, key, member),
        })?;
        let record = Record {
            timestamp: timestamp?,
            signal_id: SignalId::new(signal_id?),
            value: value.flatten(),
            other,
        };
        Some((record, end))
    }
}
