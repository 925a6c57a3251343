//! A record of the caller's type with the three attributes the window logic needs.

use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::datapoint::epoch_seconds;
use crate::error::{Error, Result};

/// A record with its identity parsed from the same JSON element: the window logic works
/// on these, whatever type the caller decodes into.
#[derive(Debug)]
pub(crate) struct Keyed<T> {
    pub(crate) val_date: Option<Timestamp>,
    pub(crate) dev_netid: Option<String>,
    pub(crate) dev_chid: Option<i64>,
    pub(crate) record: T,
}

/// The attributes of one datapoint that place it in time and identify its series.
#[derive(Deserialize)]
struct Key {
    #[serde(default, deserialize_with = "epoch_seconds")]
    val_date: Option<Timestamp>,
    #[serde(default, deserialize_with = "lenient_text")]
    dev_netid: Option<String>,
    #[serde(default, deserialize_with = "lenient_integer")]
    dev_chid: Option<i64>,
}

impl<T: DeserializeOwned> Keyed<T> {
    /// Parses the element twice: its key, then the caller's record.
    pub(crate) fn parse(element: &RawValue, index: usize) -> Result<Keyed<T>> {
        let key: Key = serde_json::from_str(element.get())
            .map_err(|e| decode_error(format!("datapoint {index}: {e}")))?;
        let record = serde_json::from_str(element.get()).map_err(|e| {
            decode_error(format!(
                "datapoint {index} does not decode into the record type: {e}"
            ))
        })?;
        Ok(Keyed {
            val_date: key.val_date,
            dev_netid: key.dev_netid,
            dev_chid: key.dev_chid,
            record,
        })
    }
}

fn decode_error(message: String) -> Error {
    Error::Decode(client_core::Error::decode(message))
}

/// A string, or a number written as text; anything else counts as absent.
fn lenient_text<'de, D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(text) => Some(text),
        serde_json::Value::Number(number) => Some(number.to_string()),
        _ => None,
    })
}

/// An integer, or one written as text; anything else counts as absent.
fn lenient_integer<'de, D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Option<i64>, D::Error> {
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Number(number) => number.as_i64(),
        serde_json::Value::String(text) => text.trim().parse().ok(),
        _ => None,
    })
}
