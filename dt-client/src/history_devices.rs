//! The event histories of several devices, read concurrently and yielded in order: one
//! device's pages follow page tokens (sequential), but the devices are independent.

use std::marker::PhantomData;

use futures::TryStreamExt;
use jiff::{SignedDuration, Timestamp};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio::io::AsyncWrite;

use client_core::decode::NdjsonWriter;
use client_core::shape::checkpointed;
use client_core::{
    Checkpoint, Checkpointed, Page, Position, RecordStream, RequestPreview, Storable, Written,
};

use crate::client::Client;
use crate::devices_ahead::{DEVICE_PAGES_AHEAD, in_order};
use crate::error::{Error, Result};
use crate::events::Event;
use crate::history::EventsQuery;

/// How many devices a [`DevicesEventsQuery`] reads at once by default (see
/// [`DevicesEventsQuery::concurrency`]).
pub const DEFAULT_DEVICE_CONCURRENCY: usize = 4;

/// The members of a checkpoint's state: the device the read stands at (its index in the
/// query's list, and its id), the start a read without one pinned, and that device's own
/// read's state.
const DEVICE: &str = "device";
const DEVICE_ID: &str = "deviceId";
const PINNED_FROM: &str = "from";
const DEVICE_STATE: &str = "state";

/// The historical events of several devices of a project, built by
/// [`Client::events_of_devices`]: each device's history as [`Client::events`] reads it,
/// the devices in the order given. [`Event`]s unless [`records`](Self::records) says
/// otherwise ([`RawEvent`](crate::RawEvent) keeps each event's text as sent). The
/// setters mean what they mean on [`EventsQuery`]: the same range (half-open, the same
/// trimming), event types and page size for every device; without a range, the last
/// 24 hours, pinned once for the whole read.
///
/// # Order and concurrency
///
/// What the read yields never depends on timing: the first device's events in history
/// order, then the second's, and so on, exactly what reading each device's
/// [`EventsQuery`] in turn would yield (a device given twice is read twice). A device's
/// pages follow page tokens, so they come one after the other, but the devices are
/// independent: up to [`concurrency`](Self::concurrency) devices
/// ([`DEFAULT_DEVICE_CONCURRENCY`], 4) are read at once, each with one request in flight
/// at a time, so a read over a network waits about one response's latency per
/// `concurrency` requests rather than per request. The next device starts when the
/// caller has finished with one of the devices being read.
///
/// **Memory.** A device read ahead of the one being yielded queues at most
/// [`DEVICE_PAGES_AHEAD`] (8) pages for the caller, then waits until the caller gets to
/// it; with the page it holds while waiting, it keeps at most `DEVICE_PAGES_AHEAD + 1`
/// pages. Besides the page the caller holds, a read keeps at most
/// `concurrency × (DEVICE_PAGES_AHEAD + 1)` pages of [`page_size`](Self::page_size)
/// events: with the defaults (4 devices, pages of 1,000), 36,000 events, whatever the
/// histories' lengths. The price of the bound: a device whose history in the range is
/// longer than `DEVICE_PAGES_AHEAD + 1` pages is read ahead only that far, and the rest
/// of its pages are asked for when the caller reaches it, one after the other, so such
/// a read waits longer than one latency per `concurrency` requests. To keep the overlap
/// in a long backfill, read it in shorter ranges, each over all the devices.
///
/// Each device's read runs on a tokio task of its own (in the caller's tracing span);
/// dropping the stream cancels them and their requests in flight, and a panic in one
/// resumes in the caller. The first error (a device that is not found, a request whose
/// retries ran out) ends the stream, after every event of the devices before it.
///
/// # Stopping and resuming
///
/// [`checkpointed`](Self::checkpointed) gives each event with the [`Checkpoint`] right
/// after it, and each page of [`pages`](Self::pages) carries the one after it. The
/// checkpoint names the read (project, the device list, event types, range): resuming
/// another read from it, one of the same devices in another order say, is refused with
/// a `Config` error. Its position is the device's own (the page token and the events of
/// that page already yielded, or the start of the next device at a device boundary);
/// its `state` holds the device's index in the list and its id (`{"device": 2,
/// "deviceId": "..."}`), and for a read without a start, the start it pinned
/// (`"from"`). A resumed read starts at that device; the devices read ahead of it before
/// the stop are read again, and every event is yielded exactly once across both runs.
/// Store checkpoints as [`EventsQuery`] shows (atomically; a stored checkpoint that does
/// not parse is an error, never a fresh start).
///
/// ```no_run
/// use dt_client::prelude::*;
///
/// # async fn run(client: dt_client::Client) -> Result<(), Box<dyn std::error::Error>> {
/// let (from, to) = ("2026-01-01T00:00:00Z".parse()?, "2026-01-02T00:00:00Z".parse()?);
/// let devices = ["device-1", "device-2", "device-3"];
/// let mut events = client.events_of_devices("my-project", devices).range(from, to).checkpointed();
/// while let Some(event) = events.try_next().await? {
///     println!("{} {}", event.item.target_name, event.item.event_id);
///     // Store `event.checkpoint` with what was made of the event, atomically.
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a query does nothing until it is sent or streamed"]
pub struct DevicesEventsQuery<T = Event> {
    client: Client,
    project_id: String,
    device_ids: Vec<String>,
    event_types: Vec<String>,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    page_size: u32,
    concurrency: usize,
    resume: Option<Checkpoint>,
    record: PhantomData<fn() -> T>,
}

impl Client {
    /// The historical events of several devices of a project, the devices in the order
    /// given, up to [`DEFAULT_DEVICE_CONCURRENCY`] of them read at once (see
    /// [`DevicesEventsQuery`]).
    ///
    /// ```no_run
    /// use dt_client::prelude::*;
    ///
    /// # async fn run(client: dt_client::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let (from, to) = ("2026-01-01T00:00:00Z".parse()?, "2026-01-02T00:00:00Z".parse()?);
    /// let devices: Vec<String> = client
    ///     .devices("my-project")
    ///     .stream()
    ///     .map_ok(|device| device.id().unwrap_or_default().to_owned())
    ///     .try_collect()
    ///     .await?;
    /// let written = client
    ///     .events_of_devices("my-project", devices)
    ///     .range(from, to)
    ///     .concurrency(8)
    ///     .write_to("day.ndjson")
    ///     .await?;
    /// println!("{} events in {} pages", written.records, written.requests);
    /// # Ok(()) }
    /// ```
    pub fn events_of_devices<I, S>(&self, project_id: impl Into<String>, device_ids: I) -> DevicesEventsQuery
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        DevicesEventsQuery {
            client: self.clone(),
            project_id: project_id.into(),
            device_ids: device_ids.into_iter().map(Into::into).collect(),
            event_types: Vec::new(),
            from: None,
            to: None,
            page_size: self.page_size,
            concurrency: DEFAULT_DEVICE_CONCURRENCY,
            resume: None,
            record: PhantomData,
        }
    }
}

/// Where a read starts: at a device (its index, position and own state), or nowhere (a
/// checkpoint at the end).
enum Begin {
    Done,
    At {
        device: usize,
        position: Position,
        state: Value,
    },
}

impl<T: DeserializeOwned + Send + 'static> DevicesEventsQuery<T> {
    /// Only these event types (`eventTypes`, repeated), for every device.
    pub fn event_types<I: IntoIterator<Item = S>, S: Into<String>>(mut self, types: I) -> Self {
        self.event_types.extend(types.into_iter().map(Into::into));
        self
    }

    /// The events of `[from, to)` of every device (see [`EventsQuery::range`]). An empty
    /// range is refused when sent.
    pub fn range(mut self, from: Timestamp, to: Timestamp) -> Self {
        self.from = Some(from);
        self.to = Some(to);
        self
    }

    /// The events from `from` on, of every device (`startTime`; the end is the API's
    /// default, now).
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

    /// How many devices may be read at once (default [`DEFAULT_DEVICE_CONCURRENCY`], at
    /// most [`MAX_DEVICE_CONCURRENCY`](crate::MAX_DEVICE_CONCURRENCY), and more is taken
    /// as that); 0 is refused when sent. Each device has one request in flight at a
    /// time, so this is also the most requests in flight; 1 reads the devices one after
    /// the other. What the read yields, and its checkpoints, do not depend on it; the
    /// memory it keeps does (see [`DevicesEventsQuery`]).
    pub fn concurrency(mut self, devices: usize) -> Self {
        self.concurrency = devices;
        self
    }

    /// Decodes events into `U` instead (`RawEvent` keeps the server's text).
    pub fn records<U: DeserializeOwned + Send + 'static>(self) -> DevicesEventsQuery<U> {
        DevicesEventsQuery {
            client: self.client,
            project_id: self.project_id,
            device_ids: self.device_ids,
            event_types: self.event_types,
            from: self.from,
            to: self.to,
            page_size: self.page_size,
            concurrency: self.concurrency,
            resume: self.resume,
            record: PhantomData,
        }
    }

    /// Goes on after `checkpoint`, one this read's [`checkpointed`](Self::checkpointed)
    /// or [`pages`](Self::pages) gave: the events after it, each once. A checkpoint of
    /// another read (other project, devices or their order, event types or range) is
    /// refused with a `Config` error when the read starts; a checkpoint at the end
    /// yields nothing.
    pub fn resume_from(mut self, checkpoint: Checkpoint) -> Self {
        self.resume = Some(checkpoint);
        self
    }

    /// Every event with the checkpoint right after it.
    pub fn checkpointed(mut self) -> RecordStream<Checkpointed<T>, Error> {
        let start = match self.resume.clone() {
            Some(start) => start,
            None => {
                // A read without a start pins it here, in the start's checkpoint: the
                // checkpoints inside the first page carry it, and the read asks from it.
                let from = match self.pinned_from(None) {
                    Ok(from) => from,
                    Err(err) => return RecordStream::new(futures::stream::iter([Err(err)])),
                };
                let start = Checkpoint::new(self.read_id(), Position::Start).with_state(self.state_at(
                    0,
                    from,
                    Value::Null,
                ));
                self.resume = Some(start.clone());
                start
            }
        };
        checkpointed(self.pages(), start)
    }

    /// The request of the first device's first page, without sending it (with the start
    /// a read without one pins: 24 hours before now). A read of no device has none, and
    /// a concurrency of 0 is refused, as when sent.
    pub fn to_request(&self) -> Result<RequestPreview> {
        self.check()?;
        let Some(first) = self.device_ids.first() else {
            return Err(Error::invalid_request("a read of no device sends no request"));
        };
        let from = self.pinned_from(self.resume.as_ref())?;
        self.device_query(first, from).to_request()
    }

    /// The first page of the first device (only that device is asked).
    pub async fn send(self) -> Result<Page<T>> {
        self.check()?;
        if self.device_ids.is_empty() {
            return Err(Error::invalid_request("a read of no device has no first page"));
        }
        // Nothing read ahead: `send` is one request.
        let first = self.read(EventsQuery::pages, 0).try_next().await?;
        first.ok_or_else(|| Error::decode("the history answered no page"))
    }

    /// Every page of every device, the devices in the order given (a device without
    /// events in the range still has its one empty page), each with the checkpoint
    /// after it. A page is one device's: its [`Page::cursor`] and [`Page::meta`] are
    /// that device's, and its events name the device in `targetName`.
    pub fn pages(self) -> RecordStream<Page<T>, Error> {
        self.read(EventsQuery::pages, DEVICE_PAGES_AHEAD)
    }

    /// Every event of every device, the devices in the order given, each device's in the
    /// API's order.
    pub fn stream(self) -> RecordStream<T, Error> {
        RecordStream::new(
            self.pages()
                .map_ok(|page| futures::stream::iter(page.items.into_iter().map(Ok)))
                .try_flatten(),
        )
    }

    /// Writes every event of every device to `writer`, one per line (NDJSON), each
    /// event's text exactly as sent, the devices in the order given. On an error the
    /// writer holds the events before it: use [`write_to`](Self::write_to) when a
    /// partial copy must never be visible. Refused on a resumed read (a file of the
    /// remainder would look complete).
    pub async fn copy_to<W>(self, writer: &mut W) -> Result<Written>
    where
        W: AsyncWrite + Unpin + Send + ?Sized,
    {
        if self.resume.is_some() {
            return Err(Error::resumed_store(
                "store a resumable file with `pages()` (each page's items, then its checkpoint)",
            ));
        }
        let mut pages = self.read(EventsQuery::raw_pages, DEVICE_PAGES_AHEAD);
        let mut lines = NdjsonWriter::new(writer);
        while let Some(page) = pages.try_next().await? {
            lines.request();
            for event in &page.items {
                lines.record(event.as_str()).await?;
            }
        }
        Ok(lines.finish().await?)
    }

    /// Writes every event of every device to the file at `path` like
    /// [`copy_to`](Self::copy_to), atomically: the file appears complete, or not at all.
    pub async fn write_to(self, path: impl AsRef<std::path::Path> + Send) -> Result<Written> {
        Storable::write_to(self, path).await
    }

    /// The name of this read in checkpoints: everything that decides which events it
    /// yields (not the page size, the concurrency, nor the record type).
    fn read_id(&self) -> String {
        let time = |t: Option<Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
        let (from, to) = (time(self.from), time(self.to));
        let types = self.event_types.join(",");
        let mut parameters = vec![
            ("project", self.project_id.as_str()),
            ("eventTypes", types.as_str()),
            ("startTime", from.as_str()),
            ("endTime", to.as_str()),
        ];
        // Each id its own parameter: the digest's lengths keep any id text apart.
        parameters.extend(self.device_ids.iter().map(|id| ("device", id.as_str())));
        Checkpoint::read_id("dt.history.devices", &parameters)
    }

    /// Refuses what no read can do.
    fn check(&self) -> Result<()> {
        if self.concurrency == 0 {
            return Err(Error::invalid_request(
                "a read of several devices' events needs a concurrency of at least 1 device",
            ));
        }
        Ok(())
    }

    /// The start every device's read asks from: the one set, or for a read without one,
    /// the one `resume` holds, or (on a first run) the API's default, 24 hours before
    /// now, pinned (DT evaluates its default on every request: see [`EventsQuery`]).
    fn pinned_from(&self, resume: Option<&Checkpoint>) -> Result<Option<Timestamp>> {
        if self.from.is_some() {
            return Ok(self.from);
        }
        let fresh = || {
            self.client
                .now()
                .checked_sub(SignedDuration::from_hours(24))
                .unwrap_or(Timestamp::MIN)
        };
        let Some(checkpoint) = resume else {
            return Ok(Some(fresh()));
        };
        if let Some(from) = checkpoint.state.get(PINNED_FROM) {
            let from = from.as_str().and_then(|from| from.parse::<Timestamp>().ok());
            return from
                .map(Some)
                .ok_or_else(|| Error::config("the checkpoint's pinned start does not parse"));
        }
        let at_start = checkpoint.position == Position::Start
            && checkpoint.state.get(DEVICE).and_then(Value::as_u64).unwrap_or(0) == 0;
        if at_start {
            return Ok(Some(fresh()));
        }
        Err(Error::config(
            "the checkpoint of a read without a start does not hold the start it pinned: \
             set `range(..)` or `since(..)` and read again",
        ))
    }

    /// The state of this read's checkpoints at device `index`, with that device's own
    /// read's `state`.
    fn state_at(&self, index: usize, from: Option<Timestamp>, state: Value) -> Value {
        let pinned = if self.from.is_none() { from } else { None };
        state_at(
            index,
            self.device_ids.get(index).map(String::as_str),
            pinned,
            state,
        )
    }

    /// Where the read starts: the checkpoint it resumes from, checked, or the first
    /// device.
    fn begin(&self) -> Result<Begin> {
        let Some(checkpoint) = &self.resume else {
            return Ok(Begin::At {
                device: 0,
                position: Position::Start,
                state: Value::Null,
            });
        };
        checkpoint.check(&self.read_id())?;
        if checkpoint.is_done() {
            return Ok(Begin::Done);
        }
        let state = &checkpoint.state;
        let device = match state.get(DEVICE) {
            None if checkpoint.position == Position::Start => 0,
            None => {
                return Err(Error::config(
                    "the checkpoint does not name the device it stands at",
                ));
            }
            Some(index) => index
                .as_u64()
                .and_then(|index| usize::try_from(index).ok())
                .ok_or_else(|| Error::config(format!("the checkpoint's device `{index}` is not an index")))?,
        };
        let count = self.device_ids.len();
        if device >= count {
            // Only the start of the device after the last, which is the end.
            if device == count && checkpoint.position == Position::Start {
                return Ok(Begin::Done);
            }
            return Err(Error::config(format!(
                "the checkpoint stands at device {device} of a read of {count}"
            )));
        }
        if let Some(id) = state.get(DEVICE_ID) {
            if id.as_str() != Some(self.device_ids[device].as_str()) {
                return Err(Error::config(format!(
                    "the checkpoint stands at device {id}, which is not device {device} of this read"
                )));
            }
        }
        Ok(Begin::At {
            device,
            position: checkpoint.position.clone(),
            state: state.get(DEVICE_STATE).cloned().unwrap_or(Value::Null),
        })
    }

    /// One device's read, from `from` (always set: the read's, or the one it pinned).
    fn device_query(&self, device_id: &str, from: Option<Timestamp>) -> EventsQuery<T> {
        let query = self
            .client
            .events(self.project_id.clone(), device_id.to_owned())
            .event_types(self.event_types.iter().cloned())
            .page_size(self.page_size);
        let query = match (from, self.to) {
            (Some(from), Some(to)) => query.range(from, to),
            (Some(from), None) => query.since(from),
            (None, _) => query,
        };
        query.records::<T>()
    }

    /// Every device's pages as `pages_of` reads them from its [`EventsQuery`] (typed, or
    /// as sent), the devices from where the read starts, read ahead up to the
    /// concurrency, each at most `queue` pages ahead (0: none read ahead, each polled
    /// only when the caller asks); each page's checkpoint is this read's.
    fn read<X: Send + 'static>(
        self,
        pages_of: fn(EventsQuery<T>) -> RecordStream<Page<X>, Error>,
        queue: usize,
    ) -> RecordStream<Page<X>, Error> {
        let started = self.check().and_then(|()| match self.begin()? {
            Begin::Done => Ok(None),
            Begin::At {
                device,
                position,
                state,
            } => Ok(Some((
                device,
                position,
                state,
                self.pinned_from(self.resume.as_ref())?,
            ))),
        });
        let (first, position, state, from) = match started {
            Ok(Some(start)) => start,
            Ok(None) => return RecordStream::new(futures::stream::empty()),
            Err(err) => return RecordStream::new(futures::stream::iter([Err(err)])),
        };
        let read = self.read_id();
        let count = self.device_ids.len();
        let concurrency = self.concurrency;
        let reads = (first..count).map(move |index| {
            let mut query = self.device_query(&self.device_ids[index], from);
            if index == first && position != Position::Start {
                // The device's own checkpoint: its position, in its own read.
                let own = Checkpoint::new(query.read_id(), position.clone()).with_state(state.clone());
                query = query.resume_from(own);
            }
            // Where this read stands after each page: in the device, or at the start of
            // the next one, or done after the last.
            let device_id = self.device_ids[index].clone();
            let pinned = if self.from.is_none() { from } else { None };
            let next_device = self.state_at(index + 1, from, Value::Null);
            let read = read.clone();
            RecordStream::new(pages_of(query).map_ok(move |mut page| {
                page.checkpoint = page.checkpoint.take().map(|own| {
                    if !own.is_done() {
                        let state = state_at(index, Some(&device_id), pinned, (*own.state).clone());
                        Checkpoint::new(read.clone(), own.position).with_state(state)
                    } else if index + 1 < count {
                        Checkpoint::new(read.clone(), Position::Start).with_state(next_device.clone())
                    } else {
                        Checkpoint::new(read.clone(), Position::Done)
                    }
                });
                page
            }))
        });
        in_order(reads, concurrency, queue)
    }
}

/// The state of a checkpoint of a read of several devices at device `index` (of id
/// `device_id`), with the start the read pinned (`None` when it was set) and the
/// device's own read's `state`.
fn state_at(index: usize, device_id: Option<&str>, pinned: Option<Timestamp>, state: Value) -> Value {
    let mut members = Map::new();
    members.insert(DEVICE.into(), index.into());
    if let Some(id) = device_id {
        members.insert(DEVICE_ID.into(), id.into());
    }
    if let Some(from) = pinned {
        members.insert(PINNED_FROM.into(), from.to_string().into());
    }
    if !state.is_null() {
        members.insert(DEVICE_STATE.into(), state);
    }
    Value::Object(members)
}

client_core::verbs! {
    impl[T: DeserializeOwned + Send + 'static] DevicesEventsQuery<T> {
        error: Error;
        send: Page<T>;
        stream: T;
        pages: Page<T>;
        store: Written;
        resume: T;
    }
}
