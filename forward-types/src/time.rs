//! Timestamps as the platform writes them: RFC 3339 in UTC with milliseconds.

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serializer};

const FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3fZ";

/// Writes a timestamp as the platform does: `2023-01-01T00:00:00.000Z` (UTC, milliseconds).
pub fn format(timestamp: &Timestamp) -> String {
    timestamp.strftime(FORMAT).to_string()
}

pub(crate) fn serialize<S: Serializer>(timestamp: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format(timestamp))
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
    let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
    text.parse()
        .map_err(|e| serde::de::Error::custom(format!("`{text}` is not an RFC 3339 timestamp: {e}")))
}

/// The same for nullable timestamps.
pub(crate) mod option {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        value: &Option<Timestamp>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(timestamp) => super::serialize(timestamp, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Timestamp>, D::Error> {
        #[derive(Deserialize)]
        struct Wrapped(#[serde(deserialize_with = "super::deserialize")] Timestamp);
        Ok(Option::<Wrapped>::deserialize(deserializer)?.map(|Wrapped(t)| t))
    }
}
