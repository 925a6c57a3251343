//! The attributes that place a datapoint in time and name its series, read leniently
//! from its JSON element: what the window logic works on, whatever the caller decodes.

use jiff::Timestamp;
use serde::{Deserialize, Deserializer};

/// `val_date`, `dev_netid` and `dev_chid` of one datapoint: what a window sorts by. Not
/// an identity: distinct datapoints may share it (sub-second sampling, corrections).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Deserialize)]
pub(crate) struct Key {
    #[serde(default, deserialize_with = "epoch_seconds")]
    pub(crate) val_date: Option<Timestamp>,
    #[serde(default, deserialize_with = "lenient_text")]
    pub(crate) dev_netid: Option<String>,
    #[serde(default, deserialize_with = "lenient_integer")]
    pub(crate) dev_chid: Option<i64>,
}

/// A datapoint as the window logic sees it: its key (to sort by) and its text (what
/// identifies it: distinct datapoints may share a key).
pub(crate) trait Keyed {
    /// The datapoint's key.
    fn key(&self) -> &Key;

    /// The datapoint's JSON text as sent.
    fn text(&self) -> &str;
}

/// Accepts epoch seconds as a number (integer or not), a numeric string, or null. Any
/// other value (text that is no number, seconds out of range, an array...) is read as
/// absent rather than failing: `val_date` only sorts a window, and one bad datapoint
/// must not make its whole window (and so every resume of the read) an error. The
/// datapoint's text keeps what was sent.
pub(crate) fn epoch_seconds<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Timestamp>, D::Error> {
    Ok(seconds_of(Option::<serde_json::Value>::deserialize(
        deserializer,
    )?))
}

/// The instant of a `val_date` value, read as [`epoch_seconds`] reads it.
pub(crate) fn seconds_of(value: Option<serde_json::Value>) -> Option<Timestamp> {
    let seconds = match value {
        Some(serde_json::Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f.floor() as i64)),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    seconds.and_then(|seconds| Timestamp::from_second(seconds).ok())
}

/// A string, or a number written as text; anything else counts as absent.
fn lenient_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(text_or_number(serde_json::Value::deserialize(deserializer)?).unwrap_or(None))
}

/// An integer, or one written as text; anything else counts as absent.
fn lenient_integer<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    Ok(integer_or_digits(serde_json::Value::deserialize(deserializer)?).unwrap_or(None))
}

/// A text attribute the API may also write as a number (`dev_netid`): a string, or the
/// number's text. Null is absent; anything else is an error.
pub(crate) fn text_or_number_field<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    text_or_number(serde_json::Value::deserialize(deserializer)?).map_err(serde::de::Error::custom)
}

/// An integer attribute the API may also write as text (`dev_chid`: `2` or `"2"`). Null
/// and blank text are absent; anything else is an error.
pub(crate) fn integer_or_digits_field<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    integer_or_digits(serde_json::Value::deserialize(deserializer)?).map_err(serde::de::Error::custom)
}

pub(crate) fn text_or_number(value: serde_json::Value) -> Result<Option<String>, &'static str> {
    match value {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::String(text) => Ok(Some(text)),
        serde_json::Value::Number(number) => Ok(Some(number.to_string())),
        _ => Err("expected a string or a number"),
    }
}

pub(crate) fn integer_or_digits(value: serde_json::Value) -> Result<Option<i64>, &'static str> {
    const EXPECTED: &str = "expected an integer, or its digits as text";
    match value {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::Number(number) => number.as_i64().map(Some).ok_or(EXPECTED),
        serde_json::Value::String(text) if text.trim().is_empty() => Ok(None),
        serde_json::Value::String(text) => text.trim().parse().map(Some).map_err(|_| EXPECTED),
        _ => Err(EXPECTED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_leniently() {
        let key: Key = serde_json::from_str(r#"{"val_date":"60","dev_netid":70,"dev_chid":"2"}"#).unwrap();
        assert_eq!(key.val_date.map(|t| t.as_second()), Some(60));
        assert_eq!(key.dev_netid.as_deref(), Some("70"));
        assert_eq!(key.dev_chid, Some(2));
        let empty: Key = serde_json::from_str(r#"{"val_date":null,"dev_chid":[1]}"#).unwrap();
        assert_eq!(empty, Key::default());
        // Not epoch seconds in range: absent, so the window still sorts it.
        for text in [
            r#"{"val_date":"soon"}"#,
            r#"{"val_date":1e300}"#,
            r#"{"val_date":{}}"#,
        ] {
            assert_eq!(
                serde_json::from_str::<Key>(text).unwrap(),
                Key::default(),
                "{text}"
            );
        }
    }
}
