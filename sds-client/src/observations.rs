//! The document's observations: the records `GET observations` pages hold, typed or
//! kept as the server's text.

use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::time::{deserialize_epoch_ms, serialize_epoch_ms};

/// One observation as the document shows it: `{"timestamp": 1676415254000, "value": 100.0}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Observation {
    /// When it was observed (sent as epoch milliseconds).
    #[serde(
        deserialize_with = "deserialize_epoch_ms",
        serialize_with = "serialize_epoch_ms"
    )]
    pub timestamp: Timestamp,
    /// The IEEE-754 double observed; `None` when the server sent `null`. The strings
    /// `"NaN"`, `"Infinity"` and `"-Infinity"` are read as those doubles.
    #[serde(deserialize_with = "deserialize_value", default)]
    pub value: Option<f64>,
    /// Members this version does not know, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

fn deserialize_value<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Wire {
        Number(f64),
        Text(String),
    }
    match Option::<Wire>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Wire::Number(value)) => Ok(Some(value)),
        Some(Wire::Text(text)) => match text.as_str() {
            "NaN" => Ok(Some(f64::NAN)),
            "Infinity" => Ok(Some(f64::INFINITY)),
            "-Infinity" => Ok(Some(f64::NEG_INFINITY)),
            _ => Err(serde::de::Error::custom(format!(
                "value `{text}` is not a number"
            ))),
        },
    }
}

/// One observation exactly as the server sent it: the JSON text of its element of the
/// page's `observations`, with its `timestamp` read. The SDK's raw record type of this
/// API, what a lossless export writes: nothing is re-encoded, so number text (`1.50`),
/// member order and unknown members stay as sent.
///
/// Read them with `client.observations(..).records::<RawObservation>()`; decode one
/// later with [`RawObservation::decode`]. Two are equal when their texts are. It
/// deserializes only from JSON text (`serde_json`, as the queries do; not from a
/// `Value`), and serializes as its text, verbatim.
///
/// ```
/// use sds_client::{Observation, RawObservation};
///
/// let raw: RawObservation =
///     sds_client::serde_json::from_str(r#"{"timestamp":1676415254000,"value":1.50}"#)?;
/// assert_eq!(raw.as_str(), r#"{"timestamp":1676415254000,"value":1.50}"#);
/// assert_eq!(raw.timestamp().as_millisecond(), 1_676_415_254_000);
/// let typed: Observation = raw.decode()?;
/// assert_eq!(typed.value, Some(1.5));
/// assert_eq!(sds_client::serde_json::to_string(&raw)?, raw.as_str());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct RawObservation {
    timestamp: Timestamp,
    raw: Box<RawValue>,
}

impl RawObservation {
    /// Reads the timestamp of an observation's text and keeps the text.
    pub(crate) fn new(raw: Box<RawValue>) -> serde_json::Result<RawObservation> {
        let key: TimestampOnly = serde_json::from_str(raw.get())?;
        Ok(RawObservation {
            timestamp: key.timestamp,
            raw,
        })
    }

    /// When it was observed (`timestamp`).
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }

    /// The observation's JSON text, exactly as the server sent it.
    pub fn as_str(&self) -> &str {
        self.raw.get()
    }

    /// Decodes the observation into `T` ([`Observation`], or a type of your own); a text
    /// that does not fit `T` is a decode error naming it.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_str(self.as_str()).map_err(|e| self.not_the_record_type(e))
    }

    /// [`decode`](Self::decode), reading an [`Observation`] of the usual shape straight
    /// from the text (the same result, faster): what the queries use.
    pub(crate) fn decode_fast<T: DeserializeOwned + 'static>(&self) -> Result<T> {
        let fast = client_core::decode::fast_path::<T, Observation>();
        client_core::decode::fast_json::from_slice_fast(self.as_str().as_bytes(), fast)
            .map_err(|e| self.not_the_record_type(e))
    }

    fn not_the_record_type(&self, e: serde_json::Error) -> Error {
        Error::decode(format!("observation {}: {e}", self.as_str()))
    }
}

impl PartialEq for RawObservation {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for RawObservation {}

impl<'de> Deserialize<'de> for RawObservation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        RawObservation::new(Box::<RawValue>::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

impl Serialize for RawObservation {
    /// The text as sent: `serde_json` writes it verbatim.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(serializer)
    }
}

/// The one member the stream needs from any record type.
#[derive(Deserialize)]
struct TimestampOnly {
    #[serde(deserialize_with = "deserialize_epoch_ms")]
    timestamp: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documents_observation_decodes() {
        let o: Observation =
            serde_json::from_str(r#"{"timestamp":1676415254000,"value":100.0,"quality":"good"}"#).unwrap();
        assert_eq!(
            o.timestamp,
            Timestamp::from_millisecond(1_676_415_254_000).unwrap()
        );
        assert_eq!(o.value, Some(100.0));
        assert_eq!(o.other["quality"], "good");
        let back = serde_json::to_string(&o).unwrap();
        assert_eq!(
            back,
            r#"{"timestamp":1676415254000,"value":100.0,"quality":"good"}"#
        );
        let null: Observation = serde_json::from_str(r#"{"timestamp":1,"value":null}"#).unwrap();
        assert_eq!(null.value, None);
        let nan: Observation = serde_json::from_str(r#"{"timestamp":1,"value":"NaN"}"#).unwrap();
        assert!(nan.value.unwrap().is_nan());
        assert!(serde_json::from_str::<Observation>(r#"{"timestamp":1,"value":"high"}"#).is_err());
    }

    #[test]
    fn a_raw_observation_keeps_the_servers_text() {
        let text = r#"{ "value" : 1.50, "timestamp" : 1676415254000 }"#;
        let raw: RawObservation = serde_json::from_str(text).unwrap();
        assert_eq!(raw.as_str(), text);
        assert_eq!(raw.timestamp().as_millisecond(), 1_676_415_254_000);
        assert_eq!(serde_json::to_string(&raw).unwrap(), text, "serialized verbatim");
        let typed: Observation = raw.decode().unwrap();
        assert_eq!(typed.value, Some(1.5));
        let same: RawObservation = serde_json::from_str(text).unwrap();
        let respaced: RawObservation =
            serde_json::from_str(r#"{"value":1.50,"timestamp":1676415254000}"#).unwrap();
        assert_eq!(raw, same);
        assert_ne!(raw, respaced, "equal by text, not by meaning");
        let err = raw.decode::<Vec<f64>>().unwrap_err();
        assert!(err.to_string().contains("1676415254000"), "{err}");
    }
}
