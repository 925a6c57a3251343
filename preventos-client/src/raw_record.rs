//! A values record kept as the server's text: the lossless record type.

use std::fmt;

use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::error::{Error, Result};

/// One NDJSON or JSON values record exactly as the server sent it, with the two members
/// the client reads (`timestamp` and `signalId`): what a lossless read yields, with
/// `request.records::<RawRecord>().stream()`. Its text is never re-encoded, so numbers
/// such as `0.420` and members this version does not know come back as sent
/// ([`RawRecord::as_str`], and `Serialize` writes the same text).
///
/// CSV rows are not JSON: read them losslessly with
/// [`ValuesQuery::csv_rows`](crate::ValuesQuery::csv_rows), or store the body with
/// `write_to`.
///
/// ```
/// use preventos_client::RawRecord;
///
/// let text = r#"{"timestamp":"2026-05-31T00:00:00+03:00","signalId":"Velocity","value":0.420}"#;
/// let record: RawRecord = preventos_client::serde_json::from_str(text)?;
/// assert_eq!(record.signal_id(), "Velocity");
/// assert_eq!(record.timestamp().to_string(), "2026-05-30T21:00:00Z");
/// assert_eq!(record.as_str(), text);
/// # Ok::<(), preventos_client::serde_json::Error>(())
/// ```
#[derive(Clone)]
pub struct RawRecord {
    timestamp: Timestamp,
    signal_id: String,
    raw: Box<RawValue>,
}

/// The members the client reads from any record.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Key {
    timestamp: Timestamp,
    signal_id: String,
}

impl RawRecord {
    /// When (as an instant; the text keeps the offset the server sent).
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }

    /// Which signal.
    pub fn signal_id(&self) -> &str {
        &self.signal_id
    }

    /// The record's JSON text, exactly as the server sent it.
    pub fn as_str(&self) -> &str {
        self.raw.get()
    }

    /// The record decoded into `T` (the crate's [`Record`](crate::Record), or your own
    /// type).
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_str(self.raw.get()).map_err(|e| Error::decode(format!("values record: {e}")))
    }
}

impl<'de> Deserialize<'de> for RawRecord {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        let key: Key = serde_json::from_str(raw.get()).map_err(serde::de::Error::custom)?;
        Ok(RawRecord {
            timestamp: key.timestamp,
            signal_id: key.signal_id,
            raw,
        })
    }
}

impl Serialize for RawRecord {
    /// The text as sent.
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.raw.serialize(serializer)
    }
}

impl fmt::Debug for RawRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RawRecord").field(&self.raw.get()).finish()
    }
}

impl PartialEq for RawRecord {
    /// Records are equal when their text is.
    fn eq(&self, other: &Self) -> bool {
        self.raw.get() == other.raw.get()
    }
}

impl Eq for RawRecord {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_comes_back_as_sent() {
        let text = r#"{ "value" : 1.50, "signalId" : "Depth", "quality" : 3, "timestamp" : "2026-05-31T00:00:00Z" }"#;
        let record: RawRecord = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::to_string(&record).unwrap(), text);
        let typed: crate::Record = record.decode().unwrap();
        assert_eq!(typed.value, Some(1.5));
        assert_eq!(typed.other["quality"], 3);
        assert!(serde_json::from_str::<RawRecord>(r#"{"value":1}"#).is_err());
    }

    #[test]
    fn records_are_equal_by_their_text() {
        let text = r#"{"timestamp":"2026-05-31T00:00:00Z","signalId":"Depth","value":1.50}"#;
        let same_value = r#"{"timestamp":"2026-05-31T00:00:00Z","signalId":"Depth","value":1.5}"#;
        let record: RawRecord = serde_json::from_str(text).unwrap();
        assert_eq!(record, serde_json::from_str::<RawRecord>(text).unwrap());
        assert_ne!(record, serde_json::from_str::<RawRecord>(same_value).unwrap());
        assert_eq!(record.timestamp().to_string(), "2026-05-31T00:00:00Z");
        let back: RawRecord = serde_json::from_str(&serde_json::to_string(&record).unwrap()).unwrap();
        assert_eq!(back, record);
    }
}
