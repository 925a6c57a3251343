//! The default record of values responses: `{"timestamp","signalId","value"}`.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

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
    pub signal_id: String,
    /// The value (`None` for a gap).
    #[serde(default)]
    pub value: Option<f64>,
    /// Every other field of the record, as the server sent it.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl Record {
    /// A record.
    pub fn new(timestamp: Timestamp, signal_id: impl Into<String>, value: Option<f64>) -> Self {
        Record {
            timestamp,
            signal_id: signal_id.into(),
            value,
            other: serde_json::Map::new(),
        }
    }
}
