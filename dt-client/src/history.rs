//! The event history of one device (`GET /projects/{p}/devices/{d}/events`), paged.

use std::any::TypeId;
use std::marker::PhantomData;

use futures::{StreamExt, TryStreamExt};
use jiff::{SignedDuration, Timestamp};
use serde::de::DeserializeOwned;
use tokio::io::AsyncWrite;

use client_core::decode::NdjsonWriter;
use client_core::decode::fast_json::same_type;
use client_core::shape::{checkpointed, resume_pages};
use client_core::{
    Checkpoint, Checkpointed, Page, Position, RecordStream, RequestPreview, Storable, Written, encode_segment,
};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::events::Event;
use crate::history_event::{HistoryEvent, PageEvent};
use crate::paging::TokenPages;
use crate::raw_event::RawEvent;

/// The member of a checkpoint's state that holds the start a read without one pinned.
const PINNED_FROM: &str = "from";

/// A device's historical events, built by [`Client::events`]; [`Event`]s unless
/// [`records`](Self::records) says otherwise ([`RawEvent`] keeps each event's text as
/// sent). Without a range the API answers the last 24 hours.
///
/// [`range`](Self::range) is half-open, `[from, to)`: the client sends `endTime` and
/// drops what the server returns at or after `to`, so that consecutive ranges never read
/// an event twice; it sends `startTime` a millisecond before `from` and drops what lies
/// before `from`, so an event at `from` is read whether the server's `startTime` is
/// inclusive or exclusive (the document does not say).
///
/// # Stopping and resuming
///
/// Every page of [`pages`](Self::pages) carries the [`Checkpoint`] after it, and
/// [`checkpointed`](Self::checkpointed) gives each event with the checkpoint right after
/// it. Store the checkpoint with what you made of the events (serde: JSON, say); after a
/// crash, the same query with [`resume_from`](Self::resume_from) goes on after the last
/// event stored, so every event is read exactly once across both runs. The checkpoint
/// names the read (project, device, event types, range); resuming another read from it
/// is refused with a `Config` error. Its position is the page token of the page being read
/// and how many of that page's events were already yielded. A read without a start
/// (neither [`range`](Self::range) nor [`since`](Self::since)) pins the API's default
/// on its first run, 24 hours before now (the client's clock), and sends it as
/// `startTime`: DT evaluates its default on every request, so a resume hours later
/// would otherwise go on in a later window and silently skip what lies between. Its
/// `state` holds that start (`{"from": "<RFC 3339>"}`); otherwise it is empty. A
/// checkpoint at a page of such a read that lacks it is refused with a `Config` error.
/// A read without an end asks up to the server's now on every request, so a resumed
/// read also yields what was published meanwhile, each event once.
///
/// A resume assumes that the server answers the same page token with the same pages
/// for the same parameters (DT's tokens are opaque positions in the history, which
/// does not change behind them); if it did not, the events skipped on the resumed
/// page would be other events.
///
/// Store each checkpoint atomically (write a temporary file, then rename it over the
/// old one, as below), and fail on a stored checkpoint that does not parse: starting
/// over would read everything again.
///
/// ```no_run
/// use dt_client::prelude::*;
///
/// # async fn run(client: dt_client::Client) -> Result<(), Box<dyn std::error::Error>> {
/// let path = "history.checkpoint.json";
/// let (from, to) = ("2026-01-01T00:00:00Z".parse()?, "2026-01-02T00:00:00Z".parse()?);
/// let mut query = client.events("my-project", "my-device").range(from, to);
/// match std::fs::read(path) {
///     // A checkpoint that does not parse is an error, never a fresh start.
///     Ok(text) => query = query.resume_from(serde_json::from_slice::<dt_client::Checkpoint>(&text)?),
///     Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
///     Err(e) => return Err(e.into()),
/// }
/// let mut events = query.checkpointed();
/// while let Some(event) = events.try_next().await? {
///     println!("{}", event.item.event_id);
///     // Store the checkpoint with what was made of the event, atomically: a crash
///     // mid-write must leave the previous checkpoint whole.
///     std::fs::write("history.checkpoint.json.tmp", serde_json::to_vec(&event.checkpoint)?)?;
///     std::fs::rename("history.checkpoint.json.tmp", path)?;
/// }
/// # Ok(()) }
/// ```
///
/// ```no_run
/// use dt_client::prelude::*;
///
/// # async fn run(client: dt_client::Client) -> Result<(), Box<dyn std::error::Error>> {
/// let (from, to) = ("2026-01-01T00:00:00Z".parse()?, "2026-01-02T00:00:00Z".parse()?);
/// let mut events = client.events("my-project", "my-device").event_types(["temperature"]).range(from, to).stream();
/// while let Some(event) = events.try_next().await? {
///     println!("{} {:?}", event.timestamp, event.data);
/// }
/// // The same day, losslessly: one event per line, as sent.
/// let written = client.events("my-project", "my-device").range(from, to).write_to("day.ndjson").await?;
/// println!("{} events in {} pages", written.records, written.requests);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a query does nothing until it is sent or streamed"]
pub struct EventsQuery<T = Event> {
    client: Client,
    project_id: String,
    device_id: String,
    event_types: Vec<String>,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    page_size: u32,
    resume: Option<Checkpoint>,
    record: PhantomData<fn() -> T>,
}

impl Client {
    /// The historical events of one device.
    pub fn events(&self, project_id: impl Into<String>, device_id: impl Into<String>) -> EventsQuery {
        EventsQuery {
            client: self.clone(),
            project_id: project_id.into(),
            device_id: device_id.into(),
            event_types: Vec::new(),
            from: None,
            to: None,
            page_size: self.page_size,
            resume: None,
            record: PhantomData,
        }
    }
}

impl<T: DeserializeOwned + Send + 'static> EventsQuery<T> {
    /// Only these event types (`eventTypes`, repeated).
    pub fn event_types<I: IntoIterator<Item = S>, S: Into<String>>(mut self, types: I) -> Self {
        self.event_types.extend(types.into_iter().map(Into::into));
        self
    }

    /// The events of `[from, to)` (`startTime`, `endTime`). An empty range is refused
    /// when sent.
    pub fn range(mut self, from: Timestamp, to: Timestamp) -> Self {
        self.from = Some(from);
        self.to = Some(to);
        self
    }

    /// The events from `from` on (`startTime`; the end is the API's default, now).
    pub fn since(mut self, from: Timestamp) -> Self {
        self.from = Some(from);
        self.to = None;
        self
    }

    /// The page size to ask for (default the client's). 0 is refused when sent.
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size;
        self
    }

    /// Decodes events into `U` instead (`RawEvent` keeps the server's text).
    pub fn records<U: DeserializeOwned + Send + 'static>(self) -> EventsQuery<U> {
        EventsQuery {
            client: self.client,
            project_id: self.project_id,
            device_id: self.device_id,
            event_types: self.event_types,
            from: self.from,
            to: self.to,
            page_size: self.page_size,
            resume: self.resume,
            record: PhantomData,
        }
    }

    /// Goes on after `checkpoint`, one this read's [`checkpointed`](Self::checkpointed)
    /// or [`pages`](Self::pages) gave: the events after it, each once. A checkpoint of
    /// another read (other project, device, event types or range) is refused with a
    /// `Config` error when the read starts; a checkpoint at the end yields nothing.
    pub fn resume_from(mut self, checkpoint: Checkpoint) -> Self {
        self.resume = Some(checkpoint);
        self
    }

    /// Every event with the checkpoint right after it.
    pub fn checkpointed(mut self) -> RecordStream<Checkpointed<T>, Error> {
        if self.resume.is_none() {
            // A read without a start pins it here, in the start's checkpoint: the
            // checkpoints inside the first page carry it, and the read asks from it.
            let mut start = Checkpoint::new(self.read_id(), Position::Start);
            match self.pinned_from() {
                Ok(Some(from)) if self.from.is_none() => {
                    start = start.with_state(serde_json::json!({ PINNED_FROM: from.to_string() }));
                }
                Ok(_) => {}
                Err(err) => return RecordStream::new(futures::stream::iter([Err(err)])),
            }
            self.resume = Some(start);
        }
        let start = self
            .resume
            .clone()
            .unwrap_or_else(|| Checkpoint::new(self.read_id(), Position::Start));
        checkpointed(self.pages(), start)
    }

    /// The name of this read in checkpoints: everything that decides which events it
    /// yields (not the page size, nor the record type).
    pub(crate) fn read_id(&self) -> String {
        let time = |t: Option<Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
        let (from, to) = (time(self.from), time(self.to));
        Checkpoint::read_id(
            "dt.history",
            &[
                ("project", &self.project_id),
                ("device", &self.device_id),
                ("eventTypes", &self.event_types.join(",")),
                ("startTime", &from),
                ("endTime", &to),
            ],
        )
    }

    /// The first page's request, without sending it (with the start a read without one
    /// pins: 24 hours before now).
    pub fn to_request(&self) -> Result<RequestPreview> {
        self.source_from::<RawEvent>(self.pinned_from()?)?.to_request()
    }

    /// The first page.
    pub async fn send(self) -> Result<Page<T>> {
        let first = self.pages().try_next().await?;
        first.ok_or_else(|| Error::decode("the history answered no page"))
    }

    /// Every page, until the one without a `nextPageToken`, each with the checkpoint
    /// after it.
    pub fn pages(self) -> RecordStream<Page<T>, Error> {
        if TypeId::of::<T>() == TypeId::of::<Event>() {
            // The crate's own events are decoded straight from the page's text, in one
            // pass, when the fast path takes the whole page (kept as text, then decoded,
            // otherwise): the same events and errors either way.
            return RecordStream::new(self.pages_of::<PageEvent>().map(|page| {
                let page = page?.try_map(PageEvent::into_event)?;
                same_type::<Page<T>, _>(page).ok_or_else(|| Error::decode("the record type changed"))
            }));
        }
        RecordStream::new(
            self.raw_pages().map(|page| {
                page.and_then(|page| page.try_map(|event| event.decode_fast()).map_err(Error::from))
            }),
        )
    }

    /// Every event of every page, in the API's order.
    pub fn stream(self) -> RecordStream<T, Error> {
        RecordStream::new(
            self.pages()
                .map_ok(|page| futures::stream::iter(page.items.into_iter().map(Ok)))
                .try_flatten(),
        )
    }

    /// Writes every event to `writer`, one per line (NDJSON), each event's text exactly
    /// as sent. On an error the writer holds the events before it: use
    /// [`write_to`](Self::write_to) when a partial copy must never be visible.
    pub async fn copy_to<W>(self, writer: &mut W) -> Result<Written>
    where
        W: AsyncWrite + Unpin + Send + ?Sized,
    {
        if self.resume.is_some() {
            return Err(Error::resumed_store(
                "store a resumable file with `pages()` (each page's items, then its checkpoint)",
            ));
        }
        let mut pages = self.raw_pages();
        let mut lines = NdjsonWriter::new(writer);
        while let Some(page) = pages.try_next().await? {
            lines.request();
            for event in &page.items {
                lines.record(event.as_str()).await?;
            }
        }
        Ok(lines.finish().await?)
    }

    /// Writes every event to the file at `path` like [`copy_to`](Self::copy_to),
    /// atomically: the file appears complete, or not at all.
    pub async fn write_to(self, path: impl AsRef<std::path::Path> + Send) -> Result<Written> {
        Storable::write_to(self, path).await
    }

    /// The start a read without one asks for, pinned: the one the checkpoint being
    /// resumed holds, or (on a first run) the API's default, 24 hours before now. DT
    /// evaluates its default on every request, so a page token resumed hours later
    /// would otherwise go on in a later window and skip what lies between.
    fn pinned_from(&self) -> Result<Option<Timestamp>> {
        if self.from.is_some() {
            return Ok(self.from);
        }
        match &self.resume {
            Some(checkpoint)
                if matches!(checkpoint.position, Position::Page { .. })
                    || checkpoint.state.get(PINNED_FROM).is_some() =>
            {
                let from = checkpoint.state.get(PINNED_FROM).and_then(|from| from.as_str());
                let from = from
                    .and_then(|from| from.parse::<Timestamp>().ok())
                    .ok_or_else(|| {
                        Error::config(
                            "the checkpoint of a read without a start does not hold the start it pinned: \
                         set `range(..)` or `since(..)` and read again",
                        )
                    })?;
                Ok(Some(from))
            }
            _ => Ok(Some(
                self.client
                    .now()
                    .checked_sub(SignedDuration::from_hours(24))
                    .unwrap_or(Timestamp::MIN),
            )),
        }
    }

    /// The list request from `from`, after checking the range.
    fn source_from<E: HistoryEvent>(&self, from: Option<Timestamp>) -> Result<TokenPages<E>> {
        if let (Some(from), Some(to)) = (from, self.to) {
            if from >= to {
                return Err(Error::invalid_request(format!(
                    "the range is empty: {from} is not before {to}"
                )));
            }
        }
        let path = format!(
            "projects/{}/devices/{}/events",
            encode_segment(&self.project_id),
            encode_segment(&self.device_id)
        );
        let mut pages = TokenPages::new(&self.client.http, path, "events", self.page_size);
        // A long history waits for each response while it decodes the page before.
        pages.read_ahead(true);
        for event_type in &self.event_types {
            pages.param("eventTypes", event_type);
        }
        if let Some(from) = from {
            // The document does not say whether `startTime` includes an event at that
            // instant: ask from a millisecond earlier, and drop what lies before `from`.
            let start = from.checked_sub(SignedDuration::from_millis(1)).unwrap_or(from);
            pages.param("startTime", start.to_string());
        }
        if let Some(to) = self.to {
            pages.param("endTime", to.to_string());
        }
        Ok(pages)
    }

    /// The pages as sent, without the events outside the range, and without those a
    /// resumed read already yielded.
    pub(crate) fn raw_pages(self) -> RecordStream<Page<RawEvent>, Error> {
        self.pages_of::<RawEvent>()
    }

    /// The pages with their events decoded as `E`, without the events outside the range,
    /// and without those a resumed read already yielded.
    fn pages_of<E: HistoryEvent>(self) -> RecordStream<Page<E>, Error> {
        let read = self.read_id();
        let resume = self.resume.clone();
        // Checked first: another read's checkpoint is refused for that, not for its state.
        let checked = resume
            .as_ref()
            .map_or(Ok(()), |checkpoint| checkpoint.check(&read));
        let pinned = checked.map_err(Error::from).and_then(|()| self.pinned_from());
        let (from, to) = (pinned.as_ref().ok().copied().flatten(), self.to);
        let source = pinned.and_then(|from| {
            let mut source = self.source_from::<E>(from)?;
            if self.from.is_none() {
                if let Some(from) = from {
                    source.set_state(serde_json::json!({ PINNED_FROM: from.to_string() }));
                }
            }
            Ok(source)
        });
        let pages = RecordStream::new(async_stream::try_stream! {
            let mut paginator = source?.paginator().checkpoints(read.clone());
            if let Some(checkpoint) = &resume {
                if checkpoint.is_done() {
                    return;
                }
                paginator = paginator.resume_from(checkpoint)?;
            }
            let mut pages = paginator.pages();
            while let Some(mut page) = pages.try_next().await? {
                // The document does not say whether `endTime` is inclusive (the simulator's is):
                // the range is half-open whatever the server does.
                page.items.retain(|event| {
                    from.is_none_or(|from| event.at() >= from) && to.is_none_or(|to| event.at() < to)
                });
                yield page;
            }
        });
        resume_pages(pages, self.resume.as_ref())
    }
}

client_core::verbs! {
    impl[T: DeserializeOwned + Send + 'static] EventsQuery<T> {
        error: Error;
        send: Page<T>;
        stream: T;
        pages: Page<T>;
        store: Written;
        resume: T;
    }
}
