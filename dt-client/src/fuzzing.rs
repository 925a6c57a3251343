//! Entry points for the fuzz targets in `fuzz/` and the benchmarks: the live stream's
//! message framing and parsing, and a history page's decoding, without a server.
//! Hidden: not part of the API, no stability promise.

use client_core::RecordStream;
use client_core::bytes::Bytes;
use client_core::decode::{DecodeOptions, lines};
use futures::{Stream, StreamExt};

use crate::events::Event;
use crate::live::{MAX_MESSAGE, Received, read_message};
use crate::sse::Messages;

/// What the live stream makes of one message.
#[derive(Debug)]
#[non_exhaustive]
pub enum Message {
    /// An event (pings included), decoded.
    Event(Box<Event>),
    /// A message or event that does not decode (the stream yields the error and goes on).
    Undecodable(String),
    /// An in-band error (the connection ends).
    InBand(String),
    /// A message without an event or an error.
    Nothing,
}

/// The messages of a live-stream body in the NDJSON framing (`sse` false) or as
/// Server-Sent Events, read as the live stream reads them. The stream ends after an
/// error (a line or message over the limit) or an in-band error.
pub fn stream_messages<S>(body: S, sse: bool) -> RecordStream<Message>
where
    S: Stream<Item = client_core::Result<Bytes>> + Send + 'static,
{
    RecordStream::new(async_stream::stream! {
        let options = DecodeOptions::default().with_max_record_size(MAX_MESSAGE);
        let mut lines = lines(body, options);
        let mut messages = Messages::new(sse, MAX_MESSAGE);
        loop {
            let message = match lines.next().await {
                None => match messages.finish() {
                    Some(message) => message,
                    None => return,
                },
                Some(Err(err)) => {
                    yield Err(err);
                    return;
                }
                Some(Ok(line)) => match messages.push(&line) {
                    Ok(Some(message)) => message,
                    Ok(None) => continue,
                    Err(err) => {
                        yield Err(err);
                        return;
                    }
                },
            };
            match read_message(&message) {
                Err(err) => yield Ok(Message::Undecodable(err.to_string())),
                Ok(Received::InBand(object)) => {
                    let error = crate::policy::in_band_error(&object, &client_core::Redactor::new());
                    yield Ok(Message::InBand(error.to_string()));
                    return;
                }
                Ok(Received::Nothing) => yield Ok(Message::Nothing),
                Ok(Received::Event(Err(err))) => yield Ok(Message::Undecodable(err.to_string())),
                Ok(Received::Event(Ok(raw))) => match raw.decode::<Event>() {
                    Ok(event) => yield Ok(Message::Event(Box::new(event))),
                    Err(err) => yield Ok(Message::Undecodable(err.to_string())),
                },
            }
        }
    })
}

/// The events of one history page body decoded into `T` as the history read decodes
/// them: the crate's [`Event`]s straight from the page's text when the fast path takes
/// the whole page; otherwise (and for any other type) the page's events kept as
/// [`RawEvent`](crate::RawEvent)s, then each decoded.
pub fn history_page<T: serde::de::DeserializeOwned + 'static>(body: &[u8]) -> crate::Result<Vec<T>> {
    if std::any::TypeId::of::<T>() == std::any::TypeId::of::<Event>() {
        let events = crate::paging::page_of::<crate::history_event::PageEvent>(body, "events")?.items;
        let events: Vec<Event> = events
            .into_iter()
            .map(|event| event.into_event().map_err(crate::Error::from))
            .collect::<crate::Result<_>>()?;
        return client_core::decode::fast_json::same_type(events)
            .ok_or_else(|| crate::Error::decode("the record type changed"));
    }
    let page = crate::paging::page_of::<crate::RawEvent>(body, "events")?;
    page.items
        .iter()
        .map(|event| event.decode_fast().map_err(crate::Error::from))
        .collect()
}

/// Checks a history page body's fast path against serde (see the fuzz target
/// `fast_json`): where the fast path reads the page, serde must read the same events
/// and members. Returns whether the fast path took the body, or what differed.
pub fn check_history_page(body: &[u8]) -> Result<bool, String> {
    crate::paging::check_fast_page(body)
}

/// The events of one history page body as [`RawEvent`](crate::RawEvent)s (no typed decoding).
pub fn history_page_raw(body: &[u8]) -> crate::Result<Vec<crate::RawEvent>> {
    Ok(crate::paging::page_of::<crate::RawEvent>(body, "events")?.items)
}
