//! What a history page's events are decoded into before the range is checked: the
//! event's text ([`RawEvent`]), or, for a read of the crate's own [`Event`]s, a
//! [`PageEvent`], which is the typed event when the fast path decodes the whole page and
//! the text otherwise. Either way, the events outside the range are dropped before any
//! error of theirs can matter, and an event that does not decode is named by its id.

use client_core::decode::FastJson;
use jiff::Timestamp;
use serde::{Deserialize, Deserializer};

use crate::events::Event;
use crate::raw_event::{EventDecodeError, RawEvent};

/// An event as a history page is decoded into, with the time the range is checked on.
pub(crate) trait HistoryEvent: serde::de::DeserializeOwned + Send + 'static {
    /// When the event happened.
    fn at(&self) -> Timestamp;
}

impl HistoryEvent for RawEvent {
    fn at(&self) -> Timestamp {
        self.timestamp()
    }
}

/// One event of a page read for [`Event`]s: typed already (the fast path took every
/// event of the page, in one pass over its text) or kept as text (serde's way: typed
/// after the range is checked, as a read of any other type is).
pub(crate) enum PageEvent {
    /// Decoded by the fast path.
    Typed(Box<Event>),
    /// As sent, to be decoded.
    Text(RawEvent),
}

impl PageEvent {
    /// The event, decoded now if it was kept as text.
    pub(crate) fn into_event(self) -> Result<Event, EventDecodeError> {
        match self {
            PageEvent::Typed(event) => Ok(*event),
            PageEvent::Text(raw) => raw.decode_fast(),
        }
    }
}

impl HistoryEvent for PageEvent {
    fn at(&self) -> Timestamp {
        match self {
            PageEvent::Typed(event) => event.timestamp,
            PageEvent::Text(raw) => raw.timestamp(),
        }
    }
}

/// serde keeps the text: what the page decodes to when the fast path declines.
impl<'de> Deserialize<'de> for PageEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        RawEvent::deserialize(deserializer).map(PageEvent::Text)
    }
}

/// The fast path types the event. A page is decoded by the fast path only when it takes
/// every event, so a page's events are all typed or all text; and whatever it types,
/// `RawEvent` would have kept (it needs less of the event than `Event` does).
impl FastJson for PageEvent {
    fn decode_fast(json: &[u8]) -> Option<(Self, usize)> {
        Event::decode_fast(json).map(|(event, length)| (PageEvent::Typed(Box::new(event)), length))
    }
}
