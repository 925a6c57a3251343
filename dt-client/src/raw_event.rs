//! An event kept as the server's text: the lossless record type.

use std::fmt;

use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// One event envelope exactly as the server sent it, with the members the client reads
/// (`eventId`, `eventType`, `timestamp`): what a lossless read yields, with
/// `request.records::<RawEvent>()`. Its text is never re-encoded, so numbers such as
/// `21.50` and members this version does not know come back as sent
/// ([`RawEvent::as_str`], and `Serialize` writes the same text). Equal when the texts
/// are. Decode it only from JSON text, not from a `serde_json::Value`.
///
/// The event model exists without the `client` feature too (a push receiver reads
/// events), so [`RawEvent::decode`] has one signature in both builds: its error is an
/// [`EventDecodeError`], which `?` turns into the client's `Error` (a `Decode` error)
/// when the `client` feature is on.
///
/// ```
/// use dt_client::{Event, EventData, RawEvent};
///
/// let text = r#"{"eventId":"e9","targetName":"projects/p/devices/d","eventType":"temperature",
///     "data":{"temperature":{"value":21.50}},"timestamp":"2024-01-01T00:00:00Z"}"#;
/// let raw: RawEvent = dt_client::serde_json::from_str(text)?;
/// assert_eq!((raw.event_id(), raw.event_type()), ("e9", "temperature"));
/// assert_eq!(raw.timestamp().to_string(), "2024-01-01T00:00:00Z");
/// assert_eq!(raw.as_str(), text);
/// let event: Event = raw.decode()?;
/// assert!(matches!(event.data, EventData::Temperature(_)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct RawEvent {
    event_id: String,
    event_type: String,
    timestamp: Timestamp,
    raw: Box<RawValue>,
}

/// The members the client reads from any event.
#[derive(Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
#[serde(rename_all = "camelCase")]
struct EventKey {
    event_id: String,
    #[serde(default)]
    event_type: String,
    timestamp: Timestamp,
}

impl EventKey {
    /// The key of an event's text (valid JSON: serde_json checked it as it kept it),
    /// when its members are of the usual shape; `None` for serde to decide. With the
    /// client, whose fast JSON scanner reads it; without, always `None`.
    fn fast(text: &str) -> Option<EventKey> {
        #[cfg(feature = "client")]
        {
            use client_core::decode::fast_json::{FlatValue, fast_rfc3339, scan_object};
            let (mut event_id, mut event_type, mut timestamp) = (None, None, None);
            let text = text.as_bytes();
            let end = scan_object(text, |key, member| match key {
                "eventId" => crate::event_fast::text(&mut event_id, member),
                "eventType" => crate::event_fast::text(&mut event_type, member),
                "timestamp" => match member {
                    FlatValue::Str(at) if timestamp.is_none() => {
                        timestamp = fast_rfc3339(at);
                        timestamp.is_some()
                    }
                    _ => false,
                },
                // Any other member is skipped, as serde skips it.
                _ => true,
            })?;
            if !client_core::decode::fast_json::only_whitespace(text, end) {
                return None;
            }
            Some(EventKey {
                event_id: event_id?.to_owned(),
                event_type: event_type.unwrap_or_default().to_owned(),
                timestamp: timestamp?,
            })
        }
        #[cfg(not(feature = "client"))]
        {
            let _ = text;
            None
        }
    }
}

impl RawEvent {
    /// The event id.
    pub fn event_id(&self) -> &str {
        &self.event_id
    }

    /// The event type as sent.
    pub fn event_type(&self) -> &str {
        &self.event_type
    }

    /// When the event happened.
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }

    /// The envelope's JSON text exactly as the server sent it.
    pub fn as_str(&self) -> &str {
        self.raw.get()
    }

    /// The event decoded into `T` (the crate's [`Event`](crate::Event), or your own
    /// type).
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, EventDecodeError> {
        serde_json::from_str(self.raw.get()).map_err(|source| self.not_the_record_type(source))
    }

    /// [`decode`](Self::decode), reading an [`Event`](crate::Event) of the usual shape
    /// straight from the text (the same result, faster): what the queries use.
    #[cfg(feature = "client")]
    pub(crate) fn decode_fast<T: DeserializeOwned + 'static>(&self) -> Result<T, EventDecodeError> {
        let fast = client_core::decode::fast_path::<T, crate::Event>();
        client_core::decode::fast_json::from_slice_fast(self.raw.get().as_bytes(), fast)
            .map_err(|source| self.not_the_record_type(source))
    }

    fn not_the_record_type(&self, source: serde_json::Error) -> EventDecodeError {
        EventDecodeError {
            event_id: self.event_id.clone(),
            source,
        }
    }
}

impl<'de> Deserialize<'de> for RawEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        let key = match EventKey::fast(raw.get()) {
            Some(key) => key,
            None => serde_json::from_str(raw.get()).map_err(serde::de::Error::custom)?,
        };
        Ok(RawEvent {
            event_id: key.event_id,
            event_type: key.event_type,
            timestamp: key.timestamp,
            raw,
        })
    }
}

impl Serialize for RawEvent {
    /// The text as sent.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(serializer)
    }
}

impl fmt::Debug for RawEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RawEvent").field(&self.raw.get()).finish()
    }
}

impl PartialEq for RawEvent {
    /// Events are equal when their text is.
    fn eq(&self, other: &Self) -> bool {
        self.raw.get() == other.raw.get()
    }
}

impl Eq for RawEvent {}

/// A [`RawEvent`] whose text does not decode into the type asked of
/// [`RawEvent::decode`]. With the `client` feature, `?` turns it into the client's
/// `Error::Decode`.
#[derive(Debug, thiserror::Error)]
#[error("event {event_id} does not decode: {source}")]
pub struct EventDecodeError {
    event_id: String,
    #[source]
    source: serde_json::Error,
}

impl EventDecodeError {
    /// The id of the event that did not decode.
    pub fn event_id(&self) -> &str {
        &self.event_id
    }
}

#[cfg(test)]
mod tests {
    #[cfg(feature = "client")]
    #[test]
    fn the_fast_key_is_serdes_on_the_corpus_and_generated_events() {
        // Only valid JSON reaches the key: serde_json checked it as it kept the text.
        let check = |text: &[u8]| -> Result<bool, String> {
            let Ok(text) = std::str::from_utf8(text) else {
                return Ok(false);
            };
            if serde_json::from_str::<serde::de::IgnoredAny>(text).is_err() {
                return Ok(false);
            }
            let Some(fast) = EventKey::fast(text) else {
                return Ok(false);
            };
            match serde_json::from_str::<EventKey>(text) {
                Ok(serde) if serde == fast => Ok(true),
                other => Err(format!("fast {fast:?} but serde {other:?} from {text}")),
            }
        };
        let taken = sandbox::fast_json::on_corpus(check);
        assert!(taken >= 3, "the fast key took only {taken} lines of the corpus");
        let taken = sandbox::fast_json::on_generated(
            sandbox::fast_json::objects(sandbox::fast_json::DT_EVENT),
            2000,
            check,
        );
        assert!(taken >= 100, "the fast key took only {taken} of 2000 events");
    }

    use super::*;

    const TEXT: &str = r#"{ "eventId" : "e9", "targetName":"projects/p/devices/d","eventType":"touch","data":{"touch":{}},"timestamp":"2024-01-01T00:00:00Z", "new": 1.50 }"#;

    #[test]
    fn the_text_comes_back_as_sent() {
        let raw: RawEvent = serde_json::from_str(TEXT).unwrap();
        assert_eq!(
            (raw.as_str(), raw.event_id(), raw.event_type()),
            (TEXT, "e9", "touch")
        );
        assert_eq!(serde_json::to_string(&raw).unwrap(), TEXT);
        assert_eq!(serde_json::from_str::<RawEvent>(TEXT).unwrap(), raw);
        let other: RawEvent = serde_json::from_str(&TEXT.replace("1.50", "1.5")).unwrap();
        assert_ne!(other, raw, "equal by text, not by value");
        assert!(format!("{raw:?}").contains("1.50"));
        assert!(serde_json::from_str::<RawEvent>(r#"{"eventId":"e1"}"#).is_err());
    }

    #[test]
    fn it_decodes_into_any_type_or_names_the_event() {
        let raw: RawEvent = serde_json::from_str(TEXT).unwrap();
        let event: crate::Event = raw.decode().unwrap();
        assert!(matches!(event.data, crate::EventData::Touch(_)));
        #[derive(Deserialize)]
        struct Mine {
            #[serde(rename = "eventId")]
            id: String,
            new: f64,
        }
        let mine: Mine = raw.decode().unwrap();
        assert_eq!((mine.id.as_str(), mine.new), ("e9", 1.5));
        let err = raw.decode::<Vec<u8>>().unwrap_err();
        assert_eq!(err.event_id(), "e9");
        assert!(err.to_string().starts_with("event e9 does not decode: "), "{err}");
    }
}
