//! The live event stream (`GET /projects/{p}/devices:stream`), reconnected and without
//! silent gaps.
//!
//! DT does not replay events published while a client reconnects. On every connection
//! (the first one included: the stream's position starts when it is built, not when it
//! is first polled) this stream reads from the event history of every device in scope
//! what was published since its position, deduplicated by `eventId`, when the scope can
//! be enumerated: a device filter, or a scope of at most
//! [`LiveEventsQuery::max_devices_to_backfill`] devices. Otherwise, or when reading the
//! history fails, it yields a [`StreamItem::Gap`] with the interval it could not cover,
//! and goes on. The new stream is opened before the history is read, so nothing falls
//! between the two.
//!
//! One limit: the gap is a time window, and history is read by event timestamp. An event
//! that DT backfills (`isBackfilled`: a Cloud Connector that was offline sending what its
//! sensors recorded meanwhile) keeps its original, older timestamp; if one arrives while
//! the stream is disconnected, it lies before the window and is not read back. Where such
//! events matter, read the history of the affected devices over the connector's outage
//! once it is known.

use std::collections::{HashSet, VecDeque};
use std::marker::PhantomData;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use jiff::Timestamp;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use client_core::decode::{DecodeOptions, lines};
use client_core::http::header::{ACCEPT, CONTENT_TYPE};
use client_core::http::{HeaderValue, StatusCode};
use client_core::metrics;
use client_core::{
    Checkpoint, Checkpointed, ErrorKind, Position, RecordStream, RequestBuilder, RequestPreview, Retrier,
    RetryPolicy, encode_segment,
};

use crate::client::{Client, METRICS_LABEL};
use crate::error::{Error, Result};
use crate::events::Event;
use crate::policy::in_band_error;
use crate::position::{StreamPosition, before, remembered};
use crate::raw_event::RawEvent;
use crate::sse::Messages;

/// The longest stream message accepted (1 MiB): a message is an event of a few KiB.
pub(crate) const MAX_MESSAGE: usize = 1024 * 1024;

/// How long DT keeps event history.
const HISTORY_KEPT: Duration = Duration::from_secs(31 * 24 * 3600);

/// How far before its creation a new stream starts: server timestamps may be a little
/// behind the client's clock (or truncated to the millisecond).
const START_TOLERANCE: Duration = Duration::from_secs(1);

/// What the stream yields: an event, or an interval it could not cover.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StreamItem<T = Event> {
    /// An event, once.
    Event(T),
    /// Events of this interval may be missing: the stream was disconnected and the scope
    /// was too large to fill the gap from history.
    Gap(Gap),
}

/// An interval the stream could not cover.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Gap {
    /// The last moment the stream heard the server (less the margin).
    pub from: Timestamp,
    /// When the stream was connected again: the end of the second the server's `Date`
    /// names (the client's clock when the server sent none).
    pub to: Timestamp,
    /// Why it was not filled.
    pub reason: String,
}

/// The live events of a project, built by [`Client::live_events`]; narrow them with the
/// filters, then [`stream`](Self::stream).
///
/// Pings are used for liveness and never yielded; in-band errors (`{"error":{..}}`, in
/// either of DT's shapes, `{"code","message"}` or `{"grpcCode","httpCode","message"}`)
/// end the stream or reconnect by their code: a `code` of 100 or more is an HTTP status
/// (5xx and 429 reconnect; 401 drops the cached token and reconnects; 403 and 404 end the
/// stream), a smaller one a gRPC code. A message that does not decode is an error item
/// (`Decode`): skip it and poll on, the stream goes on. The framing (NDJSON or SSE) is
/// the one the response's `Content-Type` names, whatever [`sse`](Self::sse) asked.
/// Reconnects wait on the client's clock, a jittered backoff doubling from the initial
/// wait, back to it whenever an event or ping arrives, or the `Retry-After` the server
/// sent, up to the longest wait (see [`reconnects`](Self::reconnects)).
///
/// On each connection it reads from history what the devices in scope (device ids,
/// device types and label filters together, of the stream's event types) published
/// since its position, when the scope is a device filter or at most
/// [`max_devices_to_backfill`](Self::max_devices_to_backfill) devices; otherwise it
/// yields a [`StreamItem::Gap`]. A position older than the 31 days of history DT keeps
/// (a checkpoint stored long ago) yields a gap up to that horizon. A new stream's position is the moment it is built, less
/// a second (server timestamps may lag the client's clock), so it may yield events
/// stamped in the second before. Events that DT backfills with older timestamps
/// (`isBackfilled`) while the stream is disconnected lie before the position and are not
/// read back.
///
/// # Stopping and resuming
///
/// [`checkpointed`](Self::checkpointed) gives each item with the [`Checkpoint`] right
/// after it: store it (serde, e.g. JSON) with what you made of the item. After a restart,
/// the same query with [`resume_from`](Self::resume_from) reads from history what was
/// published since (within the stream's scope), skipping what was already yielded, then
/// goes on live: every event appears exactly once across both runs. The checkpoint names
/// the stream (project and filters); another stream's is refused with a `Config` error.
/// Its position is [`Position::After`] the newest event time yielded; its `state` holds
/// `since`, the instant from which history is read on resuming, and `seen`, the time and
/// id of every event yielded from `since` on. `since` follows the newest event and the
/// last moment the server was heard, less [`backfill_margin`](Self::backfill_margin),
/// both in server time: "heard" is the stream messages' timestamps, never past the
/// server's now (the response's `Date`, plus the time passed since on the client's
/// clock), and an event's timestamp counts at most the margin past the time heard. So
/// neither an event stamped in the future nor a client clock ahead of DT's moves the
/// position past what the server has shown (a new stream's position, set on the
/// client's clock, moves back to the server's `Date` on its first connection). `at` is
/// the newest event time yielded, bounded the same way;
/// and `seen` holds at most 10 000 events (the oldest instants are dropped first, moving
/// `since` past them).
///
/// ```no_run
/// use dt_client::prelude::*;
/// use dt_client::{Checkpoint, StreamItem};
///
/// # async fn run(client: dt_client::Client) -> Result<(), Box<dyn std::error::Error>> {
/// let path = "stream.checkpoint.json";
/// let mut live = client.live_events("my-project").device_ids(["my-device"]);
/// match std::fs::read(path) {
///     // A checkpoint that does not parse is an error, never a fresh start.
///     Ok(text) => live = live.resume_from(serde_json::from_slice::<Checkpoint>(&text)?),
///     Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
///     Err(e) => return Err(e.into()),
/// }
/// let mut items = live.checkpointed();
/// while let Some(item) = items.try_next().await? {
///     if let StreamItem::Event(event) = &item.item {
///         println!("{}", event.event_id);
///     }
///     // Store it with what was made of the item, atomically (a temporary file renamed
///     // over the old one): a crash mid-write must leave the previous checkpoint whole.
///     std::fs::write("stream.checkpoint.json.tmp", serde_json::to_vec(&item.checkpoint)?)?;
///     std::fs::rename("stream.checkpoint.json.tmp", path)?;
/// }
/// # Ok(()) }
/// ```
///
/// Memory is bounded: a message is at most 1 MiB (an SSE event's `data:` lines
/// together), the last 100 000 event ids are remembered for deduplication, the position
/// at most 10 000, each id in at most 256 bytes (a longer id is remembered by its SHA-256
/// digest, 71 bytes), so the ids remembered take at most about 56 MB (the deduplication
/// set keeps each twice, for its order), and a gap's history (the events of the devices in scope since the
/// position) is held while it is sorted.
///
/// ```no_run
/// use dt_client::prelude::*;
/// use dt_client::StreamItem;
///
/// # async fn run(client: dt_client::Client) -> Result<(), dt_client::Error> {
/// let live = client.live_events("my-project").event_types(["temperature"]);
/// assert_eq!(live.to_request()?.url.path(), "/v2/projects/my-project/devices:stream");
/// let mut items = live.stream();
/// while let Some(item) = items.try_next().await? {
///     match item {
///         StreamItem::Event(event) => println!("{} {:?}", event.timestamp, event.data),
///         StreamItem::Gap(gap) => eprintln!("events from {} to {} may be missing", gap.from, gap.to),
///         _ => {}
///     }
/// }
/// # Ok(()) }
/// ```
#[must_use = "a live stream does nothing until it is streamed"]
pub struct LiveEventsQuery<T = Event> {
    client: Client,
    project_id: String,
    device_ids: Vec<String>,
    device_types: Vec<String>,
    label_filters: Vec<String>,
    event_types: Vec<String>,
    ping_interval: Duration,
    liveness_margin: Duration,
    sse: bool,
    max_devices_to_backfill: usize,
    backfill_margin: Duration,
    reconnect: RetryPolicy,
    resume: Option<Checkpoint>,
    record: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for LiveEventsQuery<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveEventsQuery")
            .field("project_id", &self.project_id)
            .field("device_ids", &self.device_ids)
            .field("device_types", &self.device_types)
            .field("label_filters", &self.label_filters)
            .field("event_types", &self.event_types)
            .field("ping_interval", &self.ping_interval)
            .field("sse", &self.sse)
            .field("reconnect", &self.reconnect)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    result: Option<MessageResult>,
    #[serde(default)]
    error: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
struct MessageResult {
    event: Box<RawValue>,
}

/// What one stream message carries.
pub(crate) enum Received {
    /// An in-band error (`{"error":{..}}`, the text of its object): it ends the
    /// connection. [`in_band_error`] makes it an error, with the client's secrets cut
    /// out of it.
    InBand(String),
    /// An event (a ping included), or why it does not decode.
    Event(Result<RawEvent>),
    /// Neither: a message without `result` or `error`.
    Nothing,
}

/// Reads one stream message (the text of an NDJSON line or of an SSE event's `data:`
/// lines). An error is a message that is not JSON of the stream's shape.
pub(crate) fn read_message(message: &[u8]) -> Result<Received> {
    let message: Message =
        serde_json::from_slice(message).map_err(|e| Error::decode(format!("stream message: {e}")))?;
    if let Some(error) = message.error {
        return Ok(Received::InBand(error.get().to_owned()));
    }
    let Some(result) = message.result else {
        return Ok(Received::Nothing);
    };
    Ok(Received::Event(
        serde_json::from_str(result.event.get()).map_err(|e| Error::decode(format!("stream event: {e}"))),
    ))
}

/// `eventId`s already yielded, the oldest forgotten first.
struct Seen {
    ids: HashSet<String>,
    order: VecDeque<String>,
}

impl Seen {
    const CAPACITY: usize = 100_000;

    fn new() -> Self {
        Seen {
            ids: HashSet::new(),
            order: VecDeque::new(),
        }
    }

    /// Whether `id` was yielded.
    fn contains(&self, id: &str) -> bool {
        self.ids.contains(&remembered(id))
    }

    /// Whether `id` is new (and remembers it).
    fn insert(&mut self, id: &str) -> bool {
        let id = remembered(id);
        if self.ids.contains(&id) {
            return false;
        }
        if self.order.len() >= Self::CAPACITY {
            if let Some(oldest) = self.order.pop_front() {
                self.ids.remove(&oldest);
            }
        }
        self.ids.insert(id.clone());
        self.order.push_back(id);
        true
    }
}

/// The time a response's `Date` header names (the server's clock, to the second).
fn date(headers: &client_core::http::HeaderMap) -> Option<Timestamp> {
    let text = headers.get(client_core::http::header::DATE)?.to_str().ok()?;
    jiff::fmt::rfc2822::parse(text)
        .ok()
        .map(|zoned| zoned.timestamp())
}

/// The reconnect policy: `max_in_a_row` reconnects, waiting up to `initial` doubling up
/// to `max`, with full jitter (so that many clients dropped together do not reconnect
/// together) and without a time budget (a stream runs for days).
fn reconnect_policy(max_in_a_row: u32, initial: Duration, max: Duration) -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(max_in_a_row.saturating_add(1))
        .with_initial_delay(initial)
        .with_max_delay(max.max(initial))
        .with_total_budget(Duration::MAX)
        .with_jitter(true)
}

/// The framing a `Content-Type` names: `Some(true)` for Server-Sent Events, `Some(false)`
/// for JSON lines; `None` when it names neither (then the framing asked for is assumed).
fn framing(content_type: Option<&HeaderValue>) -> Option<bool> {
    let value = content_type?.to_str().ok()?;
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence == "text/event-stream" {
        Some(true)
    } else if essence.starts_with("application/") && essence.contains("json") {
        Some(false)
    } else {
        None
    }
}

/// A connection that ended without an error from the server: closed, or silent.
fn dropped(reason: &str) -> client_core::Error {
    client_core::Error::new(
        ErrorKind::Transport,
        format!("the event stream dropped: {reason}"),
    )
}

impl Client {
    /// The live events of a project; narrow with the filters, then
    /// [`LiveEventsQuery::stream`].
    pub fn live_events(&self, project_id: impl Into<String>) -> LiveEventsQuery {
        LiveEventsQuery {
            client: self.clone(),
            project_id: project_id.into(),
            device_ids: Vec::new(),
            device_types: Vec::new(),
            label_filters: Vec::new(),
            event_types: Vec::new(),
            ping_interval: Duration::from_secs(10),
            liveness_margin: Duration::from_secs(10),
            sse: false,
            max_devices_to_backfill: 100,
            backfill_margin: Duration::from_secs(30),
            reconnect: reconnect_policy(10, Duration::from_secs(1), Duration::from_secs(60)),
            resume: None,
            record: PhantomData,
        }
    }
}

impl<T: DeserializeOwned + Send + 'static> LiveEventsQuery<T> {
    /// Only these devices (`device_ids`, repeated). The gap after a reconnect is then
    /// always filled from their history.
    pub fn device_ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.device_ids.extend(ids.into_iter().map(Into::into));
        self
    }

    /// Only these device types (`device_types`, repeated).
    pub fn device_types<I: IntoIterator<Item = S>, S: Into<String>>(mut self, types: I) -> Self {
        self.device_types.extend(types.into_iter().map(Into::into));
        self
    }

    /// Only devices whose label `key` is `value` (`label_filters=key=value`).
    pub fn label_equals(mut self, key: &str, value: &str) -> Self {
        self.label_filters.push(format!("{key}={value}"));
        self
    }

    /// Only devices with label `key` (`label_filters=key`).
    pub fn label_present(mut self, key: &str) -> Self {
        self.label_filters.push(key.to_owned());
        self
    }

    /// Only these event types (`event_types`, repeated).
    pub fn event_types<I: IntoIterator<Item = S>, S: Into<String>>(mut self, types: I) -> Self {
        self.event_types.extend(types.into_iter().map(Into::into));
        self
    }

    /// How often the server sends a ping (`ping_interval`, default 10 s, at least 1 s).
    /// Pings are not yielded; a silence longer than this plus
    /// [`liveness_margin`](Self::liveness_margin) counts as a dropped connection.
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.ping_interval = interval.max(Duration::from_secs(1));
        self
    }

    /// The margin on top of the ping interval before silence means disconnection
    /// (default 10 s).
    pub fn liveness_margin(mut self, margin: Duration) -> Self {
        self.liveness_margin = margin;
        self
    }

    /// Asks for Server-Sent Events (`Accept: text/event-stream`) instead of NDJSON. The
    /// response is read in the framing its `Content-Type` names (this one when it names
    /// neither).
    pub fn sse(mut self, sse: bool) -> Self {
        self.sse = sse;
        self
    }

    /// The largest project (in devices of the scope) whose gaps are filled from history
    /// when no device filter is given (default 100); larger scopes yield
    /// [`StreamItem::Gap`].
    pub fn max_devices_to_backfill(mut self, devices: usize) -> Self {
        self.max_devices_to_backfill = devices;
        self
    }

    /// How far before the last moment heard the gap fill starts (default 30 s), for
    /// events in flight when the connection dropped; a margin reaching before the
    /// earliest instant (`Timestamp::MIN`) starts there.
    pub fn backfill_margin(mut self, margin: Duration) -> Self {
        self.backfill_margin = margin;
        self
    }

    /// How many reconnects in a row without data before the stream gives up (default
    /// 10), and the wait before each: `initial` (default 1 s), doubling up to `max`
    /// (default 60 s), back to `initial` whenever an event or ping arrives, each wait
    /// drawn at random below its ceiling (full jitter). The waits run on the client's
    /// clock. A server's `Retry-After` is waited instead, up to `max`.
    pub fn reconnects(mut self, max_in_a_row: u32, initial: Duration, max: Duration) -> Self {
        self.reconnect = reconnect_policy(max_in_a_row, initial, max);
        self
    }

    /// Decodes events into `U` instead (`RawEvent` keeps the server's text).
    pub fn records<U: DeserializeOwned + Send + 'static>(self) -> LiveEventsQuery<U> {
        LiveEventsQuery {
            client: self.client,
            project_id: self.project_id,
            device_ids: self.device_ids,
            device_types: self.device_types,
            label_filters: self.label_filters,
            event_types: self.event_types,
            ping_interval: self.ping_interval,
            liveness_margin: self.liveness_margin,
            sse: self.sse,
            max_devices_to_backfill: self.max_devices_to_backfill,
            backfill_margin: self.backfill_margin,
            reconnect: self.reconnect,
            resume: self.resume,
            record: PhantomData,
        }
    }

    /// The connect request, without sending it.
    pub fn to_request(&self) -> Result<RequestPreview> {
        Ok(self.request().to_request()?)
    }

    /// Goes on from `checkpoint`, one this stream's [`checkpointed`](Self::checkpointed)
    /// gave: on connecting, it reads from history what was published since the
    /// checkpoint's position (within the stream's scope) and yields what it had not
    /// yielded, then goes on live, so every event appears exactly once across both runs.
    /// A checkpoint of another stream (other project or filters) is refused with a
    /// `Config` error when the stream starts.
    pub fn resume_from(mut self, checkpoint: Checkpoint) -> Self {
        self.resume = Some(checkpoint);
        self
    }

    /// Every item with the checkpoint right after it: store it with what you made of
    /// the item, and give it to [`resume_from`](Self::resume_from) after a restart.
    pub fn checkpointed(self) -> RecordStream<Checkpointed<StreamItem<T>>, Error> {
        RecordStream::new(self.run(true).map(|item| {
            item.map(|(item, checkpoint)| {
                let checkpoint = checkpoint.unwrap_or_else(|| Checkpoint::new("", Position::Start));
                Checkpointed::new(item, checkpoint)
            })
        }))
    }

    /// Connects and yields events (and gaps) until the caller drops the stream, or an
    /// error ends it: a refused request, an in-band error that reconnecting does not
    /// cure ([`DtError::Stream`](crate::DtError::Stream)), a message over 1 MiB, or more
    /// reconnects in a row than allowed. A message that does not decode is an error
    /// item, and the stream goes on after it.
    pub fn stream(self) -> RecordStream<StreamItem<T>, Error> {
        RecordStream::new(self.run(false).map(|item| item.map(|(item, _)| item)))
    }

    /// The name of this stream in checkpoints: its project and filters.
    fn read_id(&self) -> String {
        Checkpoint::read_id(
            "dt.live",
            &[
                ("project", &self.project_id),
                ("device_ids", &self.device_ids.join(",")),
                ("device_types", &self.device_types.join(",")),
                ("label_filters", &self.label_filters.join(",")),
                ("event_types", &self.event_types.join(",")),
            ],
        )
    }

    /// The stream, each item with the checkpoint after it when `checkpoints`.
    fn run(self, checkpoints: bool) -> RecordStream<(StreamItem<T>, Option<Checkpoint>), Error> {
        // The position starts now, when the stream is built, not when it is first polled:
        // what is published meanwhile is read from history on the first connection.
        let read = self.read_id();
        let created = before(self.client.now(), START_TOLERANCE);
        // A new stream's position was set on the client's clock: the first connection
        // moves it back to the server's, should the client's be ahead.
        let mut fresh = self.resume.as_ref().is_none_or(|c| c.position == Position::Start);
        let done = self
            .resume
            .as_ref()
            .is_some_and(|c| c.is_done() && c.check(&read).is_ok());
        let position = match &self.resume {
            Some(checkpoint) if checkpoint.position == Position::Start => checkpoint
                .check(&read)
                .map(|()| StreamPosition::new(created, self.backfill_margin))
                .map_err(Error::from),
            Some(checkpoint) => StreamPosition::restore(checkpoint, &read, self.backfill_margin),
            None => Ok(StreamPosition::new(created, self.backfill_margin)),
        };
        RecordStream::new(async_stream::stream! {
            if done {
                return;
            }
            let mut position = match position {
                Ok(position) => position,
                Err(err) => {
                    yield Err(err);
                    return;
                }
            };
            let http = self.client.http.clone();
            let max_wait = self.reconnect.max_delay;
            let mut retrier = Retrier::new(self.reconnect.clone(), http.clock().clone());
            let mut seen = Seen::new();
            // Looked up once: a live stream counts per event.
            let heard = metrics::records_counter(METRICS_LABEL);
            let duplicates = metrics::duplicates_counter(METRICS_LABEL);
            let checkpoint = |position: &StreamPosition| checkpoints.then(|| position.checkpoint(&read));
            loop {
                let ended = match self.request().send().await {
                    Err(err) => err,
                    Ok(response) => {
                        // The framing the server picked, whatever was asked.
                        let sse = framing(response.headers().get(CONTENT_TYPE)).unwrap_or(self.sse);
                        // Server time (the `Date` the server sent), not the client's clock,
                        // which may be ahead of DT's; then on the client's monotonic clock.
                        let connected_at = date(response.headers()).unwrap_or_else(|| self.client.now());
                        let connected_instant = http.clock().now();
                        let server_now = || {
                            let elapsed = http.clock().now().saturating_duration_since(connected_instant);
                            jiff::SignedDuration::try_from(elapsed)
                                .ok()
                                .and_then(|elapsed| connected_at.checked_add(elapsed).ok())
                                .unwrap_or(connected_at)
                        };
                        // A fresh stream's first connection has no gap behind it: its
                        // history read covers the moments since it was made.
                        let reconnected = !std::mem::take(&mut fresh);
                        if !reconnected {
                            position.start_no_later_than(before(connected_at, START_TOLERANCE));
                        }
                        // The new stream is open before history is read: nothing falls
                        // between the two, and what both carry is yielded once.
                        // DT keeps 31 days of history: what is older cannot be read.
                        let horizon = before(connected_at, HISTORY_KEPT);
                        if position.since() < horizon {
                            let gap = Gap {
                                from: position.since(),
                                to: horizon,
                                reason: "the position is older than the 31 days of history DT keeps".to_owned(),
                            };
                            position.skip_to(horizon);
                            metrics::gap(METRICS_LABEL);
                            yield Ok((StreamItem::Gap(gap), checkpoint(&position)));
                        }
                        let from = position.since();
                        match self.backfill(from).await {
                            Ok(events) => {
                                if reconnected {
                                    metrics::gap_filled(METRICS_LABEL);
                                }
                                for raw in events {
                                    if position.covers(raw.timestamp(), raw.event_id()) || seen.contains(raw.event_id()) {
                                        duplicates.increment(1);
                                        continue;
                                    }
                                    match raw.decode_fast::<T>() {
                                        Ok(event) => {
                                            seen.insert(raw.event_id());
                                            position.yielded(raw.timestamp(), raw.event_id());
                                            yield Ok((StreamItem::Event(event), checkpoint(&position)));
                                        }
                                        Err(err) => yield Err(Error::from(err)),
                                    }
                                }
                            }
                            Err(reason) => {
                                // `Date` is to the second: the server's now lies within
                                // the second after it, which the gap includes; the position
                                // moves only to `Date`, never past the server's now.
                                position.skip_to(connected_at);
                                let to = connected_at.checked_add(START_TOLERANCE).unwrap_or(connected_at).max(from);
                                let gap = Gap { from, to, reason };
                                metrics::gap(METRICS_LABEL);
                                yield Ok((StreamItem::Gap(gap), checkpoint(&position)));
                            }
                        }
                        let options = DecodeOptions::default().with_max_record_size(MAX_MESSAGE);
                        let mut lines = lines(response.bytes_stream(), options);
                        let mut messages = Messages::new(sse, MAX_MESSAGE);
                        let silence = self.ping_interval.saturating_add(self.liveness_margin);
                        loop {
                            let message = match tokio::time::timeout(silence, lines.next()).await {
                                Err(_) => break dropped(&format!("no message for {silence:?}")),
                                Ok(None) => match messages.finish() {
                                    Some(message) => message,
                                    None => break dropped("the server closed the stream"),
                                },
                                Ok(Some(Err(err))) => break err,
                                Ok(Some(Ok(line))) => match messages.push(&line) {
                                    Ok(Some(message)) => message,
                                    Ok(None) => continue,
                                    Err(err) => break err,
                                },
                            };
                            let event = match read_message(&message) {
                                // The user may skip it: the stream goes on.
                                Err(err) => {
                                    yield Err(err);
                                    continue;
                                }
                                // The secrets of now: a token may have been refreshed since
                                // the stream began.
                                Ok(Received::InBand(object)) => break in_band_error(&object, &http.redactor()),
                                Ok(Received::Nothing) => {
                                    retrier.reset();
                                    continue;
                                }
                                Ok(Received::Event(event)) => event,
                            };
                            // Only events and pings count as progress: an error the server
                            // repeats on every connection must not reconnect for ever.
                            retrier.reset();
                            let raw = match event {
                                Ok(raw) => raw,
                                Err(err) => {
                                    yield Err(err);
                                    continue;
                                }
                            };
                            // Heard: the message's time, but never past the server's now (an
                            // event may be stamped in the future).
                            position.heard(raw.timestamp().min(server_now()));
                            if raw.event_type() == "ping" {
                                continue;
                            }
                            if seen.contains(raw.event_id()) {
                                duplicates.increment(1);
                                continue;
                            }
                            match raw.decode_fast::<T>() {
                                Ok(event) => {
                                    heard.increment(1);
                                    // Marked only once decoded: an event that failed is not
                                    // taken for yielded.
                                    seen.insert(raw.event_id());
                                    position.yielded(raw.timestamp(), raw.event_id());
                                    yield Ok((StreamItem::Event(event), checkpoint(&position)));
                                }
                                Err(err) => yield Err(Error::from(err)),
                            }
                        }
                    }
                };
                // An in-band 401: the cached token goes, the reconnect fetches a fresh one.
                if ended.kind() == ErrorKind::InBand && ended.status() == Some(StatusCode::UNAUTHORIZED) {
                    if let Err(err) = http.refuse_credentials().await {
                        tracing::warn!(error = %err, "could not drop the refused credentials");
                    }
                }
                // The client's classifiers decide, DT's in-band codes among them; a
                // `Retry-After` is honoured up to the longest wait.
                let classification = http.classify(&ended);
                let classification = classification.with_wait(classification.wait.map(|w| w.min(max_wait)));
                match retrier.next_delay(classification, true) {
                    Some(delay) => {
                        tracing::info!(
                            reason = %ended,
                            attempt = retrier.attempt(),
                            delay_ms = delay.as_millis() as u64,
                            "event stream reconnecting"
                        );
                        retrier.wait(delay).await;
                    }
                    None => {
                        yield Err(Error::from(ended));
                        return;
                    }
                }
            }
        })
    }

    fn request(&self) -> RequestBuilder {
        let mut request = self.client.http.get(&format!(
            "projects/{}/devices:stream",
            encode_segment(&self.project_id)
        ));
        for (name, values) in [
            ("device_ids", &self.device_ids),
            ("device_types", &self.device_types),
            ("label_filters", &self.label_filters),
            ("event_types", &self.event_types),
        ] {
            for value in values {
                request = request.query(name, value);
            }
        }
        let accept = if self.sse {
            "text/event-stream"
        } else {
            "application/json"
        };
        request
            .query("ping_interval", format!("{}s", self.ping_interval.as_secs()))
            .header(ACCEPT, HeaderValue::from_static(accept))
    }

    /// The events of the stream's scope published since `from`, in time order; or why
    /// they could not be read (the scope is too large, or reading failed).
    async fn backfill(&self, from: Timestamp) -> std::result::Result<Vec<RawEvent>, String> {
        let devices = match self.backfill_scope().await {
            Ok(Some(devices)) => devices,
            Ok(None) => {
                return Err(format!(
                    "the scope is over {} devices, too many to read from history",
                    self.max_devices_to_backfill
                ));
            }
            Err(err) => return Err(format!("listing the devices in scope failed: {err}")),
        };
        self.history_since(&devices, from)
            .await
            .map_err(|err| format!("reading history failed: {err}"))
    }

    /// The devices of the stream's scope (device ids, types and label filters together),
    /// or `None` when they are too many to read from history.
    async fn backfill_scope(&self) -> Result<Option<Vec<String>>> {
        if !self.device_ids.is_empty() && self.device_types.is_empty() && self.label_filters.is_empty() {
            return Ok(Some(self.device_ids.clone()));
        }
        let mut query = self
            .client
            .devices(&self.project_id)
            .device_ids(self.device_ids.clone())
            .device_types(self.device_types.clone());
        for filter in &self.label_filters {
            query = match filter.split_once('=') {
                Some((key, value)) => query.label_equals(key, value),
                None => query.label_present(filter),
            };
        }
        let mut pages = query.pages();
        let mut devices = Vec::new();
        while let Some(page) = pages.try_next().await? {
            devices.extend(page.items.iter().filter_map(|d| d.id().map(str::to_owned)));
            if devices.len() > self.max_devices_to_backfill {
                return Ok(None);
            }
        }
        Ok(Some(devices))
    }

    /// Every event of `devices` of the stream's event types since `from` (inclusive,
    /// whatever the server's `startTime`), in time order.
    async fn history_since(&self, devices: &[String], from: Timestamp) -> Result<Vec<RawEvent>> {
        let mut events = Vec::new();
        for device in devices {
            let mut history = self
                .client
                .events(&self.project_id, device)
                .event_types(self.event_types.clone())
                .since(from)
                .records::<RawEvent>()
                .stream();
            while let Some(event) = history.try_next().await? {
                events.push(event);
            }
        }
        events.sort_by(|a, b| (a.timestamp(), a.event_id()).cmp(&(b.timestamp(), b.event_id())));
        Ok(events)
    }
}

client_core::verbs! {
    impl[T: DeserializeOwned + Send + 'static] LiveEventsQuery<T> {
        error: Error;
        stream: StreamItem<T>;
        resume: StreamItem<T>;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_header_is_read_as_the_server_time() {
        let mut headers = client_core::http::HeaderMap::new();
        headers.insert(
            client_core::http::header::DATE,
            HeaderValue::from_static("Thu, 03 Dec 2026 18:45:21 GMT"),
        );
        assert_eq!(date(&headers), Some("2026-12-03T18:45:21Z".parse().unwrap()));
        assert_eq!(date(&client_core::http::HeaderMap::new()), None);
    }
}
