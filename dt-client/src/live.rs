//! The live event stream (`GET /projects/{p}/devices:stream`), reconnected and without
//! silent gaps.
//!
//! DT does not replay events published while a client reconnects. After a reconnect
//! this stream fills the gap from the event history of every device in scope (from the
//! last moment it heard the server, less a margin), deduplicated by `eventId`, when the
//! scope can be enumerated: a device filter, or a project of at most
//! [`LiveEventsQuery::max_devices_to_backfill`] devices. Otherwise it yields a
//! [`StreamItem::Gap`] with the interval it could not cover. The new stream is opened
//! before the history is read, so nothing falls between the two.
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
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use client_core::decode::{DecodeOptions, lines};
use client_core::http::HeaderValue;
use client_core::http::header::ACCEPT;
use client_core::{
    ErrorKind, RecordStream, RequestBuilder, RequestPreview, Retrier, RetryPolicy, encode_segment,
};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::events::Event;
use crate::policy::in_band_error;
use crate::raw_event::RawEvent;
use crate::sse::Messages;

/// The longest stream message accepted (1 MiB): a message is an event of a few KiB.
const MAX_MESSAGE: usize = 1024 * 1024;

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
    /// When the stream was connected again.
    pub to: Timestamp,
    /// Why it was not filled.
    pub reason: String,
}

/// The live events of a project, built by [`Client::live_events`]; narrow them with the
/// filters, then [`stream`](Self::stream).
///
/// Pings are used for liveness and never yielded; in-band errors (`{"error":{..}}`, in
/// either of DT's shapes) end the stream or reconnect by their code. Reconnects wait on
/// the client's clock, doubling from the initial wait, back to it whenever an event or
/// ping arrives (see [`reconnects`](Self::reconnects)).
///
/// After a reconnect it fills the gap from the history of the devices in scope, from the
/// last moment it heard the server less [`backfill_margin`](Self::backfill_margin),
/// when the scope is a device filter or at most
/// [`max_devices_to_backfill`](Self::max_devices_to_backfill) devices; otherwise it
/// yields a [`StreamItem::Gap`]. Events that DT backfills with older timestamps
/// (`isBackfilled`) while the stream is disconnected lie before the gap and are not read
/// back.
///
/// Memory is bounded: a message is at most 1 MiB (an SSE event's `data:` lines
/// together), the last 100 000 event ids are remembered for deduplication, and a gap's
/// history (the events of the devices in scope since the last moment heard, less the
/// margin) is held while it is sorted.
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

    /// Whether `id` is new (and remembers it).
    fn insert(&mut self, id: &str) -> bool {
        if self.ids.contains(id) {
            return false;
        }
        if self.order.len() >= Self::CAPACITY {
            if let Some(oldest) = self.order.pop_front() {
                self.ids.remove(&oldest);
            }
        }
        self.ids.insert(id.to_owned());
        self.order.push_back(id.to_owned());
        true
    }
}

/// The reconnect policy: `max_in_a_row` reconnects, waiting `initial` doubling up to
/// `max`, without jitter (the waits are the documented ones) and without a time budget
/// (a stream runs for days).
fn reconnect_policy(max_in_a_row: u32, initial: Duration, max: Duration) -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(max_in_a_row.saturating_add(1))
        .with_initial_delay(initial)
        .with_max_delay(max.max(initial))
        .with_total_budget(Duration::MAX)
        .with_jitter(false)
}

/// `margin` before `at`, or the earliest instant when that is before it.
fn before(at: Timestamp, margin: Duration) -> Timestamp {
    SignedDuration::try_from(margin)
        .ok()
        .and_then(|margin| at.checked_sub(margin).ok())
        .unwrap_or(Timestamp::MIN)
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

    /// Asks for Server-Sent Events (`Accept: text/event-stream`) instead of NDJSON.
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
    /// (default 60 s), back to `initial` whenever an event or ping arrives. The waits run
    /// on the client's clock. A server asking (`Retry-After`) for a longer wait than
    /// `max` ends the stream with its error.
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
            record: PhantomData,
        }
    }

    /// The connect request, without sending it.
    pub fn to_request(&self) -> Result<RequestPreview> {
        Ok(self.request().to_request()?)
    }

    /// Connects and yields events (and gaps) until the caller drops the stream, or an
    /// error ends it: a refused request, an in-band error that reconnecting does not
    /// cure ([`DtError::Stream`](crate::DtError::Stream)), a message over 1 MiB, or more
    /// reconnects in a row than allowed.
    pub fn stream(self) -> RecordStream<StreamItem<T>, Error> {
        RecordStream::new(async_stream::try_stream! {
            let http = self.client.http.clone();
            let mut retrier = Retrier::new(self.reconnect.clone(), http.clock().clone());
            let mut seen = Seen::new();
            // The last moment the server was heard from; `None` before the first connection.
            let mut last_heard: Option<Timestamp> = None;
            loop {
                let ended = match self.request().send().await {
                    Err(err) => err,
                    Ok(response) => {
                        let connected_at = Timestamp::now();
                        if let Some(heard) = last_heard {
                            let from = before(heard, self.backfill_margin);
                            match self.backfill_scope().await? {
                                Some(devices) => {
                                    for raw in self.history_since(&devices, from).await? {
                                        if seen.insert(raw.event_id()) {
                                            yield StreamItem::Event(raw.decode::<T>()?);
                                        }
                                    }
                                }
                                None => yield StreamItem::Gap(Gap {
                                    from,
                                    to: connected_at,
                                    reason: format!(
                                        "reconnected; the scope is over {} devices, too many to fill from history",
                                        self.max_devices_to_backfill
                                    ),
                                }),
                            }
                        }
                        last_heard = Some(connected_at);
                        let options = DecodeOptions::default().with_max_record_size(MAX_MESSAGE);
                        let mut lines = lines(response.bytes_stream(), options);
                        let mut messages = Messages::new(self.sse, MAX_MESSAGE);
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
                            let message: Message = serde_json::from_slice(&message)
                                .map_err(|e| Error::decode(format!("stream message: {e}")))?;
                            last_heard = Some(Timestamp::now());
                            if let Some(error) = message.error {
                                break in_band_error(error.get());
                            }
                            // Only events and pings count as progress: an error the server
                            // repeats on every connection must not reconnect for ever.
                            retrier.reset();
                            let Some(result) = message.result else { continue };
                            let raw: RawEvent = serde_json::from_str(result.event.get())
                                .map_err(|e| Error::decode(format!("stream event: {e}")))?;
                            if raw.event_type() == "ping" || !seen.insert(raw.event_id()) {
                                continue;
                            }
                            yield StreamItem::Event(raw.decode::<T>()?);
                        }
                    }
                };
                // The client's classifiers decide, DT's in-band codes among them.
                match retrier.next_delay(http.classify(&ended), true) {
                    Some(delay) => {
                        tracing::info!(
                            reason = %ended,
                            attempt = retrier.attempt(),
                            delay_ms = delay.as_millis() as u64,
                            "event stream reconnecting"
                        );
                        retrier.wait(delay).await;
                    }
                    None => Err(Error::from(ended))?,
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

    /// The devices whose history covers a gap, or `None` when the scope is too large.
    async fn backfill_scope(&self) -> Result<Option<Vec<String>>> {
        if !self.device_ids.is_empty() {
            return Ok(Some(self.device_ids.clone()));
        }
        let mut query = self
            .client
            .devices(&self.project_id)
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

    /// Every event of `devices` since `from`, in time order.
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
    }
}
