//! Reconciliation: the events a data connector should have pushed and a receiver lacks,
//! found in history and given back as push bodies.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use futures::{Stream, TryStreamExt};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use client_core::{RecordStream, RequestPreview};

use crate::client::Client;
use crate::connectors::DataConnector;
use crate::devices::Device;
use crate::error::{Error, Result};
use crate::raw_event::RawEvent;
use crate::received::{ReceivedIds, digest};
use crate::spill::{ExternalSort, Key, Sorted};

/// How many bytes of missing events a reconciliation keeps in memory before it sorts
/// them and writes them to a temporary file (default of
/// [`ReconcileQuery::memory_limit`]).
pub const DEFAULT_RECONCILE_MEMORY: usize = 64 * 1024 * 1024;

/// What a data connector forwards: its event types (empty: every type) and the keys of
/// the device labels it includes in each push. Read from the connector by
/// [`Client::reconcile`], or given with [`ReconcileQuery::scope`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ForwardScope {
    /// The event types forwarded; empty forwards every type.
    pub event_types: Vec<String>,
    /// The label keys included in each push (a device's label of such a key is
    /// included when the device has it).
    pub labels: Vec<String>,
    /// Whether a label key the device lacks is given as `""` (`true`) or left out
    /// (`false`, the default). DT's document does not say which its pushes do: look at
    /// a push received from a device without one of the keys.
    pub absent_labels_empty: bool,
}

impl ForwardScope {
    /// Every event type, no labels.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forwards only these event types.
    pub fn event_types<I: IntoIterator<Item = S>, S: Into<String>>(mut self, types: I) -> Self {
        self.event_types = types.into_iter().map(Into::into).collect();
        self
    }

    /// Includes the labels of these keys.
    pub fn labels<I: IntoIterator<Item = S>, S: Into<String>>(mut self, keys: I) -> Self {
        self.labels = keys.into_iter().map(Into::into).collect();
        self
    }

    /// Gives a label key the device lacks as `""` instead of leaving it out (see
    /// [`ForwardScope::absent_labels_empty`]).
    pub fn absent_labels_empty(mut self, empty: bool) -> Self {
        self.absent_labels_empty = empty;
        self
    }

    /// The scope of `connector`.
    pub fn of(connector: &DataConnector) -> Self {
        ForwardScope {
            event_types: connector.events.clone(),
            labels: connector.labels.clone(),
            absent_labels_empty: false,
        }
    }
}

/// An event history holds and the receiver lacks, as the push body the connector would
/// have sent: `{"event":..,"labels":..,"metadata":..}`, the event exactly as history
/// sent it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MissingPush {
    /// The event id.
    pub event_id: String,
    /// The device id.
    pub device_id: String,
    /// When the event happened.
    pub timestamp: Timestamp,
    /// The push body.
    pub body: Box<RawValue>,
}

impl MissingPush {
    /// The push body's JSON text, one line.
    pub fn as_str(&self) -> &str {
        self.body.get()
    }
}

/// The counts of a reconciliation ([`Reconciliation::summary`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReconcileSummary {
    /// Distinct event ids the receiver has (of any scope or time).
    pub received: u64,
    /// Distinct events history holds in the range and the connector's scope.
    pub in_history: u64,
    /// Those the receiver lacks: the pushes the stream gives.
    pub missing: u64,
    /// Devices whose history was read.
    pub devices: u64,
    /// Bytes of missing pushes written to the temporary file (0: all fitted in memory).
    pub spilled_bytes: u64,
}

/// A reconciliation of what a data connector's receiver got with history, built by
/// [`Client::reconcile`]: [`stream`](Self::stream) gives every event of the range that
/// history holds and the receiver lacks, within the connector's scope, as the push body
/// the connector would have sent.
///
/// DT does not backfill what a disabled connector did not forward, and gives up on a
/// push after 12 hours of retries; history keeps events for 31 days. Reconcile within
/// that month, and hand each missing push to the handler that takes real ones.
///
/// # What it gives
///
/// - **In time order** (the event's `timestamp`; ties in the order of the device list,
///   then history's), **each event once** (an event history repeats is given once),
///   whatever order the API answers in.
/// - **In the connector's scope**: its event types (history is asked for those alone),
///   and in each push, the device's labels of the connector's label keys, as a push
///   includes them (a key the device lacks is left out, or given as `""` with
///   [`absent_labels_empty`](Self::absent_labels_empty)). The labels are the devices'
///   labels now, which may differ from those when the event happened.
/// - `metadata` holds `deviceId`, `projectId`, `deviceType` and `productNumber` from the
///   device list (a member the device list lacks is left out).
///
/// Only devices in the project now are read: the events of a device deleted or moved
/// to another project since are not found.
///
/// # Memory
///
/// What it holds, whatever the range and however much is missing:
///
/// - the receiver's ids, a [`ReceivedIds`] (about 20 to 40 bytes an id);
/// - the device list (the labels in scope and the metadata of each device);
/// - the history read ahead: up to [`concurrency`](Self::concurrency) devices, each at
///   most [`DEVICE_PAGES_AHEAD`](crate::DEVICE_PAGES_AHEAD) + 1 pages of
///   [`page_size`](Self::page_size) events (see
///   [`DevicesEventsQuery`](crate::DevicesEventsQuery));
/// - the digests of the events of the device being read, to give each once (about 20
///   to 40 bytes an event of the device with the most events in the range);
/// - missing pushes up to [`memory_limit`](Self::memory_limit) bytes. Past it they are
///   sorted and written to a temporary file in [`spill_dir`](Self::spill_dir), and
///   merged back in time order once history is read, at most 64 runs at once (more
///   are merged in passes first), each read through a buffer of 4 to 64 KiB, and
///   handed over in batches of 256, up to four of them at once.
///
/// The temporary files are created unlinked and readable by the user alone: they
/// vanish when the process ends, killed or not, and when the stream is dropped (a
/// merge pass already running, once history is read, runs to its end first). A
/// [`spill_dir`](Self::spill_dir) where no file can be made is an error at once. They take
/// about the missing pushes' size on disk (twice that while a merge pass runs), which
/// [`ReconcileSummary::spilled_bytes`] reports. Where the system's temporary
/// directory is memory (`tmpfs`, as `/tmp` is on several Linux distributions), point
/// [`spill_dir`](Self::spill_dir) at a disk (`/var/tmp`, say) for the bound to hold.
///
/// The first missing push comes once every device's history was read.
///
/// ```no_run
/// use dt_client::prelude::*;
/// use dt_client::ReceivedIds;
///
/// # async fn run(client: dt_client::Client) -> Result<(), Box<dyn std::error::Error>> {
/// let mut received = ReceivedIds::new();
/// received.add_pushes(std::io::BufReader::new(std::fs::File::open("pushes.ndjson")?))?;
/// let (from, to) = ("2026-11-01T00:00:00Z".parse()?, "2026-12-01T00:00:00Z".parse()?);
/// let mut missing = client
///     .reconcile("my-project", "my-connector")
///     .range(from, to)
///     .received(received)
///     .stream();
/// while let Some(push) = missing.try_next().await? {
///     println!("{}", push.as_str()); // or hand it to the push handler
/// }
/// let summary = missing.summary();
/// eprintln!("{} in history, {} missing", summary.in_history, summary.missing);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a reconciliation does nothing until streamed"]
pub struct ReconcileQuery {
    client: Client,
    project_id: String,
    connector_id: String,
    scope: Option<ForwardScope>,
    absent_labels_empty: Option<bool>,
    range: Option<(Timestamp, Timestamp)>,
    received: Arc<ReceivedIds>,
    concurrency: Option<usize>,
    page_size: u32,
    memory_limit: usize,
    spill_dir: Option<PathBuf>,
}

impl Client {
    /// Reconciles what connector `connector_id` of project `project_id` pushed with
    /// history: see [`ReconcileQuery`]. Set the [`range`](ReconcileQuery::range) and what
    /// was [`received`](ReconcileQuery::received).
    pub fn reconcile(
        &self,
        project_id: impl Into<String>,
        connector_id: impl Into<String>,
    ) -> ReconcileQuery {
        ReconcileQuery {
            client: self.clone(),
            project_id: project_id.into(),
            connector_id: connector_id.into(),
            scope: None,
            absent_labels_empty: None,
            range: None,
            received: Arc::new(ReceivedIds::new()),
            concurrency: None,
            page_size: self.page_size,
            memory_limit: DEFAULT_RECONCILE_MEMORY,
            spill_dir: None,
        }
    }
}

impl ReconcileQuery {
    /// The range, half-open: `[from, to)` (required).
    pub fn range(mut self, from: Timestamp, to: Timestamp) -> Self {
        self.range = Some((from, to));
        self
    }

    /// The event ids the receiver got (default none: every event of the scope is
    /// missing).
    pub fn received(mut self, received: ReceivedIds) -> Self {
        self.received = Arc::new(received);
        self
    }

    /// The same, shared.
    pub fn received_shared(mut self, received: Arc<ReceivedIds>) -> Self {
        self.received = received;
        self
    }

    /// Uses `scope` instead of reading the connector's (the connector is then not
    /// asked for; its id only names the reconciliation).
    pub fn scope(mut self, scope: ForwardScope) -> Self {
        self.scope = Some(scope);
        self
    }

    /// Gives a label key the device lacks as `""` instead of leaving it out, on top of
    /// the connector's scope (see [`ForwardScope::absent_labels_empty`]).
    pub fn absent_labels_empty(mut self, empty: bool) -> Self {
        self.absent_labels_empty = Some(empty);
        self
    }

    /// How many devices' history is read at once (default
    /// [`DEFAULT_DEVICE_CONCURRENCY`](crate::DEFAULT_DEVICE_CONCURRENCY)).
    pub fn concurrency(mut self, devices: usize) -> Self {
        self.concurrency = Some(devices);
        self
    }

    /// The page size of the device list and of history (default the client's).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size;
        self
    }

    /// How many bytes of missing pushes are kept in memory before they go to a
    /// temporary file (default [`DEFAULT_RECONCILE_MEMORY`]; at least 64 KiB, whatever
    /// is asked: smaller runs would cost the merge more than they save).
    pub fn memory_limit(mut self, bytes: usize) -> Self {
        self.memory_limit = bytes;
        self
    }

    /// Where the temporary files go (default [`std::env::temp_dir`]; see the memory
    /// section of [`ReconcileQuery`] for a `tmpfs` there).
    pub fn spill_dir(mut self, directory: impl Into<PathBuf>) -> Self {
        self.spill_dir = Some(directory.into());
        self
    }

    /// The first request: the connector's (for its scope), or with
    /// [`scope`](Self::scope) set, the device list's.
    pub fn to_request(&self) -> Result<RequestPreview> {
        self.checked_range()?;
        match self.scope {
            Some(_) => self
                .client
                .devices(self.project_id.clone())
                .page_size(self.page_size)
                .to_request(),
            None => Ok(self
                .client
                .http
                .get(&crate::connectors::connector_path(
                    &self.project_id,
                    &self.connector_id,
                ))
                .to_request()?),
        }
    }

    fn checked_range(&self) -> Result<(Timestamp, Timestamp)> {
        match self.range {
            Some((from, to)) if from < to => Ok((from, to)),
            Some((from, to)) => Err(Error::invalid_request(format!(
                "the range's start {from} is not before its end {to}"
            ))),
            None => Err(Error::invalid_request("a reconciliation needs a range")),
        }
    }

    /// Every missing push, in time order (see [`ReconcileQuery`]), and the counts so far
    /// ([`Reconciliation::summary`]).
    pub fn stream(self) -> Reconciliation {
        let counts = Arc::new(Counts::default());
        counts
            .received
            .store(self.received.len() as u64, Ordering::Relaxed);
        let stream = missing_pushes(self, counts.clone());
        Reconciliation { stream, counts }
    }
}

/// The missing pushes of a [`ReconcileQuery`], in time order, with the counts so far.
#[must_use = "streams do nothing unless polled"]
pub struct Reconciliation {
    stream: RecordStream<MissingPush, Error>,
    counts: Arc<Counts>,
}

impl Reconciliation {
    /// The counts so far: `in_history` and `devices` are final from the first push on
    /// (history is read before the first is given), `missing` once the stream ends.
    pub fn summary(&self) -> ReconcileSummary {
        self.counts.summary()
    }
}

impl std::fmt::Debug for Reconciliation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reconciliation")
            .field("summary", &self.summary())
            .finish_non_exhaustive()
    }
}

impl Stream for Reconciliation {
    type Item = Result<MissingPush>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.stream).poll_next(cx)
    }
}

#[derive(Debug, Default)]
struct Counts {
    received: AtomicU64,
    in_history: AtomicU64,
    missing: AtomicU64,
    devices: AtomicU64,
    spilled: AtomicU64,
}

impl Counts {
    fn summary(&self) -> ReconcileSummary {
        ReconcileSummary {
            received: self.received.load(Ordering::Relaxed),
            in_history: self.in_history.load(Ordering::Relaxed),
            missing: self.missing.load(Ordering::Relaxed),
            devices: self.devices.load(Ordering::Relaxed),
            spilled_bytes: self.spilled.load(Ordering::Relaxed),
        }
    }
}

/// What a push says of its device besides the event: the labels in scope and the
/// metadata, as JSON text.
struct DevicePart {
    labels: String,
    metadata: String,
}

impl DevicePart {
    fn of(device: &Device, project_id: &str, scope: &ForwardScope) -> Option<(String, DevicePart)> {
        let id = device.id()?.to_owned();
        let labels: Map<String, Value> = scope
            .labels
            .iter()
            .filter_map(|key| match device.labels.get(key) {
                Some(value) => Some((key.clone(), value.clone())),
                None => scope.absent_labels_empty.then(|| (key.clone(), Value::from(""))),
            })
            .collect();
        let mut metadata = Map::new();
        metadata.insert("deviceId".into(), Value::from(id.as_str()));
        metadata.insert(
            "projectId".into(),
            Value::from(device.project_id().unwrap_or(project_id)),
        );
        if let Some(device_type) = &device.device_type {
            metadata.insert("deviceType".into(), Value::from(device_type.as_str()));
        }
        if let Some(product) = &device.product_number {
            metadata.insert("productNumber".into(), Value::from(product.as_str()));
        }
        let part = DevicePart {
            labels: Value::Object(labels).to_string(),
            metadata: Value::Object(metadata).to_string(),
        };
        Some((id, part))
    }

    /// The record kept for a missing `event`: the length of its id, `:`, the id, then
    /// the push body on one line (a line end between the event's JSON tokens becomes a
    /// space; JSON strings hold none).
    fn record(&self, event: &RawEvent) -> Box<str> {
        let id = event.event_id();
        let mut record = format!(
            r#"{}:{id}{{"event":{},"labels":{},"metadata":{}}}"#,
            id.len(),
            event.as_str(),
            self.labels,
            self.metadata
        );
        let body_start = id.len().to_string().len() + 1 + id.len();
        if record[body_start..].contains(['\n', '\r']) {
            let body = record[body_start..].replace(['\n', '\r'], " ");
            record.truncate(body_start);
            record.push_str(&body);
        }
        record.into()
    }
}

/// The member of an event that names its device.
#[derive(Deserialize)]
struct Target<'a> {
    #[serde(borrow, rename = "targetName", default)]
    target_name: Cow<'a, str>,
}

fn device_of_event(event: &RawEvent) -> Result<String> {
    let target: Target<'_> = serde_json::from_str(event.as_str())
        .map_err(|e| Error::decode(format!("event {}: {e}", event.event_id())))?;
    crate::events::target_part(&target.target_name, "devices")
        .map(str::to_owned)
        .ok_or_else(|| {
            Error::decode(format!(
                "event {} names no device in its targetName",
                event.event_id()
            ))
        })
}

fn missing_pushes(query: ReconcileQuery, counts: Arc<Counts>) -> RecordStream<MissingPush, Error> {
    RecordStream::new(async_stream::try_stream! {
        let (from, to) = query.checked_range()?;
        let client = &query.client;
        let mut scope = match query.scope.clone() {
            Some(scope) => scope,
            None => ForwardScope::of(&client.data_connector(&query.project_id, &query.connector_id).await?),
        };
        if let Some(empty) = query.absent_labels_empty {
            scope.absent_labels_empty = empty;
        }
        let mut parts: HashMap<String, (u32, DevicePart)> = HashMap::new();
        let mut order: Vec<String> = Vec::new();
        let mut devices = client.devices(query.project_id.clone()).page_size(query.page_size).stream();
        while let Some(device) = devices.try_next().await? {
            if let Some((id, part)) = DevicePart::of(&device, &query.project_id, &scope) {
                if !parts.contains_key(&id) {
                    let index = u32::try_from(order.len()).unwrap_or(u32::MAX);
                    parts.insert(id.clone(), (index, part));
                    order.push(id);
                }
            }
        }
        counts.devices.store(order.len() as u64, Ordering::Relaxed);
        let ids = order.clone();

        let mut history = client
            .events_of_devices(query.project_id.clone(), order)
            .event_types(scope.event_types.clone())
            .range(from, to)
            .page_size(query.page_size)
            .records::<RawEvent>();
        if let Some(concurrency) = query.concurrency {
            history = history.concurrency(concurrency);
        }
        let mut history = history.stream();
        let directory = query.spill_dir.clone().unwrap_or_else(std::env::temp_dir);
        // A directory where no file can be made fails now, not after a long read.
        let directory_checked = directory.clone();
        tokio::task::spawn_blocking(move || tempfile::tempfile_in(&directory_checked).map(drop))
            .await
            .map_err(|e| io_error("the spill directory", std::io::Error::other(e)))?
            .map_err(|e| io_error("the spill directory", e))?;
        let mut sort = ExternalSort::new(query.memory_limit, directory);
        let wanted: HashSet<&str> = scope.event_types.iter().map(String::as_str).collect();
        let mut current: Option<String> = None;
        let mut seen: HashSet<u128> = HashSet::new();
        let mut sequence = 0u64;
        while let Some(event) = history.try_next().await? {
            if !wanted.is_empty() && !wanted.contains(event.event_type()) {
                // History answered a type the connector does not forward.
                continue;
            }
            let device = device_of_event(&event)?;
            if current.as_deref() != Some(device.as_str()) {
                seen.clear();
                current = Some(device.clone());
            }
            let id = digest(event.event_id());
            if !seen.insert(id) {
                continue;
            }
            counts.in_history.fetch_add(1, Ordering::Relaxed);
            if query.received.contains_digest(id) {
                continue;
            }
            let Some((index, part)) = parts.get(&device) else {
                Err(Error::decode(format!(
                    "event {} is of device {device}, which is not in the list",
                    event.event_id()
                )))?;
                continue;
            };
            let key = (event.timestamp().as_nanosecond(), *index, sequence);
            sequence += 1;
            sort.push(key, part.record(&event));
            if sort.is_full() {
                sort = tokio::task::spawn_blocking(move || sort.spill().map(|()| sort))
                    .await
                    .map_err(|e| io_error("spilling missing pushes", std::io::Error::other(e)))?
                    .map_err(|e| io_error("spilling missing pushes", e))?;
                counts.spilled.store(sort.spilled(), Ordering::Relaxed);
            }
        }
        drop(history);
        let (sorted, spilled) = tokio::task::spawn_blocking(move || {
            // What is still buffered joins the runs on disk, when there are some.
            if sort.spilled() > 0 {
                sort.spill()?;
            }
            let spilled = sort.spilled();
            sort.finish().map(|sorted| (sorted, spilled))
        })
        .await
        .map_err(|e| io_error("sorting missing pushes", std::io::Error::other(e)))?
        .map_err(|e| io_error("sorting missing pushes", e))?;
        counts.spilled.store(spilled, Ordering::Relaxed);
        let mut batches = in_batches(sorted);
        loop {
            let batch = match batches.recv().await {
                // The end, as the merge says it.
                Some(Ok(batch)) if batch.is_empty() => break,
                Some(batch) => batch.map_err(|e| io_error("reading spilled missing pushes", e))?,
                // Closed without its end: the merge's thread died (a panic).
                None => Err(io_error(
                    "reading spilled missing pushes",
                    std::io::Error::other("the merge stopped before its end"),
                ))?,
            };
            for (key, record) in batch {
                let device_id = ids.get(key.1 as usize).cloned().unwrap_or_default();
                let push = missing_push(key.0, device_id, &record)?;
                counts.missing.fetch_add(1, Ordering::Relaxed);
                yield push;
            }
        }
    })
}

/// Records handed from the merge to the stream at a time.
const MERGE_BATCH: usize = 256;

/// Sorted records, as handed over.
type Batch = Vec<(Key, Box<str>)>;

/// The sorted records, read (from disk, when spilled) on a blocking thread and handed
/// over in batches (two queued, one more waiting), then an empty batch: the end. A
/// channel closed without it means the thread died. Dropping the receiver ends the
/// thread, and the temporary files with it.
fn in_batches(mut sorted: Sorted) -> tokio::sync::mpsc::Receiver<std::io::Result<Batch>> {
    let (sender, receiver) = tokio::sync::mpsc::channel(2);
    tokio::task::spawn_blocking(move || {
        loop {
            let mut batch = Vec::with_capacity(MERGE_BATCH);
            let mut ended = false;
            while batch.len() < MERGE_BATCH {
                match sorted.next_record() {
                    Ok(Some(record)) => batch.push(record),
                    Ok(None) => {
                        ended = true;
                        break;
                    }
                    Err(e) => {
                        // The stream may be gone already; then nobody needs the error.
                        let _ = sender.blocking_send(Err(e));
                        return;
                    }
                }
            }
            if !batch.is_empty() && sender.blocking_send(Ok(batch)).is_err() {
                return;
            }
            if ended {
                let _ = sender.blocking_send(Ok(Vec::new()));
                return;
            }
        }
    });
    receiver
}

/// The push of a record kept by [`DevicePart::record`].
fn missing_push(nanos: i128, device_id: String, record: &str) -> Result<MissingPush> {
    let broken = || {
        io_error(
            "reading spilled missing pushes",
            std::io::Error::other("a record is damaged"),
        )
    };
    let (length, rest) = record.split_once(':').ok_or_else(broken)?;
    let length: usize = length.parse().map_err(|_| broken())?;
    if !rest.is_char_boundary(length) {
        return Err(broken());
    }
    let (event_id, body) = rest.split_at(length);
    let body = RawValue::from_string(body.to_owned())
        .map_err(|e| Error::decode(format!("the push body of event {event_id}: {e}")))?;
    Ok(MissingPush {
        event_id: event_id.to_owned(),
        device_id,
        timestamp: Timestamp::from_nanosecond(nanos).map_err(|_| broken())?,
        body,
    })
}

/// An I/O error of the temporary file, saying what was being done.
fn io_error(doing: &str, error: std::io::Error) -> Error {
    Error::from(std::io::Error::new(error.kind(), format!("{doing}: {error}")))
}
