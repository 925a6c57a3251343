//! Datapoints: the records the API returns, and the query that reads them, in one
//! request or over a whole range of any length, window by window.

use std::marker::PhantomData;
use std::path::Path;

use client_core::decode::NdjsonWriter;
use client_core::http::StatusCode;
use client_core::metrics;
use client_core::{
    Checkpoint, Checkpointed, DecodeOptions, Page, Position, RecordStream, RequestBuilder, RequestPreview,
    Window, Written,
};
use futures::{StreamExt, TryStreamExt};
use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use tokio::io::AsyncWrite;

use crate::client::{Client, METRICS_LABEL};
use crate::error::{Error, Result};
use crate::keyed::{Key, Keyed, epoch_seconds, integer_or_digits_field, text_or_number_field};
use crate::windows::{Cut, Outcome, Planner, PlannerState};

/// A value of one channel of one device at one time, with the device's metadata.
///
/// Every attribute is optional: the document says a missing attribute, a null and an
/// empty value mean the same, and that new attributes may appear: those are kept in
/// [`Datapoint::other`], so no attribute the server sends is dropped. `val_date` is
/// epoch seconds on the wire and an instant here; `dev_chid` and `dev_netid` are read
/// whether the server writes them as numbers or as text (`2` or `"2"`). Numbers are
/// read as `f64`; for the server's text itself (`1.50` stays `1.50`), read
/// [`RawDatapoint`]s.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Datapoint {
    /// When the value was recorded; `None` too when the server's `val_date` is not
    /// epoch seconds within range (read [`RawDatapoint`]s to keep its text as sent).
    #[serde(
        default,
        deserialize_with = "epoch_seconds",
        serialize_with = "as_epoch_seconds"
    )]
    pub val_date: Option<Timestamp>,
    /// The device's network id (a number on the wire is kept as its text).
    #[serde(default, deserialize_with = "text_or_number_field")]
    pub dev_netid: Option<String>,
    /// The channel id (a number, or its digits as text, on the wire).
    #[serde(default, deserialize_with = "integer_or_digits_field")]
    pub dev_chid: Option<i64>,
    /// The raw value.
    pub val_raw: Option<f64>,
    /// The calibrated value.
    pub val_calibrated: Option<f64>,
    /// The kind of value (`Voltage`, ...).
    pub val_type: Option<String>,
    /// The channel's description.
    pub val_description: Option<String>,
    /// Calibration factor.
    pub val_cal: Option<f64>,
    /// Calibration offset.
    pub val_offset: Option<f64>,
    /// The device's tag (display name).
    pub dev_tag: Option<String>,
    /// The device's site.
    pub dev_site: Option<String>,
    /// Device error flag.
    pub dev_error: Option<i64>,
    /// Device type.
    pub dev_type: Option<String>,
    /// Device label (`Active`, ...).
    pub dev_label: Option<String>,
    /// Device category.
    pub dev_category: Option<String>,
    /// Power source (`Solar`, ...).
    pub dev_powersource: Option<String>,
    /// Manufacturer.
    pub dev_manufacturer: Option<String>,
    /// Supplier.
    pub dev_supplier: Option<String>,
    /// Model.
    pub dev_model: Option<String>,
    /// Serial number.
    pub dev_serial: Option<String>,
    /// The network the device uses.
    pub dev_network: Option<String>,
    /// Latitude.
    pub loc_lat: Option<f64>,
    /// Longitude.
    pub loc_lng: Option<f64>,
    /// Every attribute the document does not name, as the server sent it.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

fn not_the_record_type(e: serde_json::Error) -> Error {
    Error::decode(format!("a datapoint does not decode into the record type: {e}"))
}

fn as_epoch_seconds<S: Serializer>(value: &Option<Timestamp>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(t) => serializer.serialize_i64(t.as_second()),
        None => serializer.serialize_none(),
    }
}

/// One datapoint exactly as the server sent it: the JSON text of its element of the
/// response array, with `val_date`, `dev_netid` and `dev_chid` read (leniently: a
/// channel or network id written as a number or as text). The lossless record: nothing
/// is re-encoded, so number text (`1.50`), attribute order and unknown attributes stay
/// as sent. Line breaks between tokens, which JSON never needs, are removed, so the text
/// is always one NDJSON line; that is all that is changed.
///
/// Read them with `client.datapoints().records::<RawDatapoint>()`; decode one later with
/// [`RawDatapoint::decode`]. It deserializes only from JSON (`serde_json`), serializes
/// as its text, verbatim, and two are equal when their texts are.
///
/// ```
/// use conduit_client::{Datapoint, RawDatapoint};
///
/// let text = r#"{"val_date":1614054737,"dev_netid":"70B3D54990DC01DA","dev_chid":"1","val_raw":4.10}"#;
/// let raw: RawDatapoint = conduit_client::serde_json::from_str(text)?;
/// assert_eq!(raw.as_str(), text);
/// assert_eq!(raw.timestamp(), Some("2021-02-23T04:32:17Z".parse()?));
/// assert_eq!(raw.dev_chid(), Some(1));
/// let typed: Datapoint = raw.decode()?;
/// assert_eq!(typed.val_raw, Some(4.1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct RawDatapoint {
    key: Key,
    text: Box<RawValue>,
}

impl RawDatapoint {
    /// The element's JSON text as sent, on one line.
    pub fn as_str(&self) -> &str {
        self.text.get()
    }

    /// When the value was recorded (`val_date`), if the datapoint says.
    pub fn timestamp(&self) -> Option<Timestamp> {
        self.key.val_date
    }

    /// When the value was recorded (`val_date`): the same as
    /// [`timestamp`](Self::timestamp), by the attribute's name.
    pub fn val_date(&self) -> Option<Timestamp> {
        self.key.val_date
    }

    /// The device's network id (`dev_netid`).
    pub fn dev_netid(&self) -> Option<&str> {
        self.key.dev_netid.as_deref()
    }

    /// The channel id (`dev_chid`).
    pub fn dev_chid(&self) -> Option<i64> {
        self.key.dev_chid
    }

    /// Decodes the element into `T` ([`Datapoint`], or a type of your own); a datapoint
    /// that does not fit `T` is [`ClientError::Decode`](crate::ClientError::Decode).
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_str(self.text.get()).map_err(not_the_record_type)
    }

    /// [`decode`](Self::decode), reading a [`Datapoint`] of the usual shape straight
    /// from the text (the same result, faster): what the queries use.
    pub(crate) fn decode_fast<T: DeserializeOwned + 'static>(&self) -> Result<T> {
        let fast = client_core::decode::fast_path::<T, Datapoint>();
        client_core::decode::fast_json::from_slice_fast(self.text.get().as_bytes(), fast)
            .map_err(not_the_record_type)
    }

    fn from_raw(raw: Box<RawValue>) -> serde_json::Result<RawDatapoint> {
        if !raw.get().trim_start().starts_with('{') {
            return Err(serde::de::Error::custom("a datapoint is not a JSON object"));
        }
        // JSON strings hold no raw line breaks, so any is whitespace between tokens.
        let text = if raw.get().contains(['\n', '\r']) {
            RawValue::from_string(raw.get().replace(['\n', '\r'], ""))?
        } else {
            raw
        };
        let key = serde_json::from_str(text.get())?;
        Ok(RawDatapoint { key, text })
    }
}

impl Keyed for RawDatapoint {
    fn key(&self) -> &Key {
        &self.key
    }

    fn text(&self) -> &str {
        self.text.get()
    }
}

impl PartialEq for RawDatapoint {
    fn eq(&self, other: &Self) -> bool {
        self.text.get() == other.text.get()
    }
}

impl Eq for RawDatapoint {}

impl<'de> Deserialize<'de> for RawDatapoint {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        RawDatapoint::from_raw(raw).map_err(serde::de::Error::custom)
    }
}

impl Serialize for RawDatapoint {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.text.serialize(serializer)
    }
}

impl Client {
    /// A datapoints query (`GET /conduitv6/?id=&ch=&fcdt=&tcdt=`) of [`Datapoint`]s; call
    /// [`DatapointsQuery::records`] to decode into another type ([`RawDatapoint`] keeps
    /// the server's text).
    pub fn datapoints(&self) -> DatapointsQuery<Datapoint> {
        DatapointsQuery {
            client: self.clone(),
            ids: Vec::new(),
            channels: Vec::new(),
            from: None,
            to: None,
            resume: None,
            _records: PhantomData,
        }
    }
}

/// A datapoints query, decoding each datapoint into `T` (by default [`Datapoint`]).
///
/// Finish with one of:
///
/// | terminal | what it does |
/// |---|---|
/// | [`send`](Self::send) | one request, as built: the datapoints of its response (at most 10,000) as a [`Page`] |
/// | [`stream`](Self::stream) | every datapoint created in `[from, to)`, each once, however long the range |
/// | [`pages`](Self::pages) | the same, window by window ([`Window`]s), each with its checkpoint |
/// | [`checkpointed`](Self::checkpointed) | every datapoint with the checkpoint after it |
/// | [`resume_from`](Self::resume_from) | the same read, going on from a checkpoint |
/// | [`copy_to`](Self::copy_to) / [`write_to`](Self::write_to) | the same, stored as NDJSON, each datapoint's text as sent |
/// | [`to_request`](Self::to_request) | the request `send` sends, without sending it |
///
/// ```no_run
/// use conduit_client::jiff::{SignedDuration, Timestamp};
/// use conduit_client::prelude::*;
/// use conduit_client::{Client, RawDatapoint};
///
/// # async fn run() -> Result<(), conduit_client::Error> {
/// let client = Client::from_env()?;
/// let to = Timestamp::now();
/// let query = client
///     .datapoints()
///     .id("70B3D54990DC01DA")
///     .channels([1, 2])
///     .range(to - SignedDuration::from_hours(24 * 90), to);
///
/// // Typed, every datapoint of the 90 days once:
/// let mut points = query.clone().stream();
/// while let Some(point) = points.try_next().await? {
///     println!("{:?} {:?}", point.val_date, point.val_calibrated);
/// }
/// // Lossless, to a file that appears complete or not at all:
/// let written = query.clone().write_to("points.ndjson").await?;
/// println!("{} datapoints in {} requests", written.records, written.requests);
/// // The server's text, window by window:
/// let mut windows = query.records::<RawDatapoint>().pages();
/// while let Some(window) = windows.try_next().await? {
///     println!("{}..{}: {} datapoints", window.from, window.to, window.items.len());
/// }
/// # Ok(()) }
/// ```
#[must_use = "a query does nothing until sent or streamed"]
pub struct DatapointsQuery<T = Datapoint> {
    client: Client,
    ids: Vec<String>,
    channels: Vec<i64>,
    from: Option<Timestamp>,
    to: Option<Timestamp>,
    resume: Option<Checkpoint>,
    _records: PhantomData<fn() -> T>,
}

impl<T> Clone for DatapointsQuery<T> {
    fn clone(&self) -> Self {
        DatapointsQuery {
            client: self.client.clone(),
            ids: self.ids.clone(),
            channels: self.channels.clone(),
            from: self.from,
            to: self.to,
            resume: self.resume.clone(),
            _records: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for DatapointsQuery<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatapointsQuery")
            .field("ids", &self.ids)
            .field("channels", &self.channels)
            .field("from", &self.from)
            .field("to", &self.to)
            .field("resume", &self.resume)
            .field("record_type", &std::any::type_name::<T>())
            .finish()
    }
}

impl<T: DeserializeOwned + Send + 'static> DatapointsQuery<T> {
    /// The same query, decoding each datapoint into `U`: [`RawDatapoint`] for the
    /// server's text, or any `Deserialize` type of your own (a struct of the attributes
    /// you need). The window logic reads `val_date`, `dev_netid` and `dev_chid` from the
    /// same element, so `U` need not have them.
    pub fn records<U: DeserializeOwned + Send + 'static>(self) -> DatapointsQuery<U> {
        DatapointsQuery {
            client: self.client,
            ids: self.ids,
            channels: self.channels,
            from: self.from,
            to: self.to,
            resume: self.resume,
            _records: PhantomData,
        }
    }

    /// Adds a device network id (`id`). Without any, all devices the user can see.
    pub fn id(mut self, network_id: impl Into<String>) -> Self {
        self.ids.push(network_id.into());
        self
    }

    /// Adds several network ids.
    pub fn ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.ids.extend(ids.into_iter().map(Into::into));
        self
    }

    /// Adds a channel id (`ch`). Without any, all channels of the devices.
    pub fn channel(mut self, channel: i64) -> Self {
        self.channels.push(channel);
        self
    }

    /// Adds several channel ids.
    pub fn channels<I: IntoIterator<Item = i64>>(mut self, channels: I) -> Self {
        self.channels.extend(channels);
        self
    }

    /// The start of the range (inclusive), sent as `fcdt` epoch seconds.
    pub fn from(mut self, from: Timestamp) -> Self {
        self.from = Some(from);
        self
    }

    /// The end of the range (exclusive), sent as `tcdt` epoch seconds.
    pub fn to(mut self, to: Timestamp) -> Self {
        self.to = Some(to);
        self
    }

    /// Both ends of the range, `[from, to)` of creation time.
    pub fn range(self, from: Timestamp, to: Timestamp) -> Self {
        self.from(from).to(to)
    }

    /// The request [`send`](Self::send) sends, without sending it:
    /// `GET <base>?id=..&ch=..&fcdt=..&tcdt=..` with the range as given (`fcdt = from`,
    /// `tcdt = to`, epoch seconds), or without `fcdt`/`tcdt` when no range is set. Half a
    /// range or an empty one is refused here as when sending. ([`stream`](Self::stream)
    /// and its kin send other requests: windows of the range, each from a second before.)
    pub fn to_request(&self) -> Result<RequestPreview> {
        Ok(self.single_request()?.to_request()?)
    }

    /// One request, exactly as built: the datapoints of its response, in the server's
    /// order, as a [`Page`] with no next page (the API does not page; `meta` is empty).
    /// Without a range the API returns the last hour. A response of 10,000 datapoints
    /// may be cut off, and a range over 31 days is refused by the server: use
    /// [`stream`](Self::stream) for completeness. A 304 (no data) is an empty page.
    ///
    /// ```no_run
    /// # async fn run(client: conduit_client::Client) -> Result<(), conduit_client::Error> {
    /// // The API's last hour of channel 1 of one device.
    /// let page = client.datapoints().id("70B3D54990DC01DA").channel(1).send().await?;
    /// println!("{} datapoints", page.items.len());
    /// # Ok(()) }
    /// ```
    pub async fn send(self) -> Result<Page<T>> {
        let points = fetch(self.single_request()?).await?;
        let items: Vec<T> = points.iter().map(RawDatapoint::decode).collect::<Result<_>>()?;
        metrics::records(METRICS_LABEL, items.len() as u64);
        Ok(Page::new(items))
    }

    /// Every datapoint created in `[from, to)`, however long the range, each once.
    ///
    /// **What a range means.** `fcdt`/`tcdt` select datapoints by the time the platform
    /// created them, not by `val_date`, and a response does not show that time: a
    /// datapoint that arrived late (its `val_date` long before its creation), or from a
    /// device whose clock runs fast (its `val_date` after its creation), belongs to the
    /// range it was created in, and is yielded whatever its `val_date`; nothing is ever
    /// dropped by its `val_date`. Since the API does not say whether its ends are
    /// inclusive, the range is asked for from one second before `from` up to `to`, so
    /// none created inside the range is left out whatever the convention; datapoints
    /// created in the second before `from`, or exactly at `to`, may come along.
    ///
    /// **Completeness.** The range is cut at 31 days; each window is asked for with an
    /// overlap of its neighbours, and a window yields its response less the previous
    /// window's whole response, compared as multisets of record texts: distinct
    /// datapoints that share `(dev_netid, dev_chid, val_date)` (sub-second sampling,
    /// corrections, a stuck device clock) are all kept, and none is yielded twice
    /// whatever the end convention and window length. (Two datapoints of identical text,
    /// created in windows that are not adjacent-overlapping, count as one text per
    /// window: the second is kept unless the previous response also held the first.)
    /// A response at the 10,000-datapoint cap is never trusted, since the API does not
    /// say which 10,000 it keeps, and none of its datapoints is yielded; the density it
    /// shows (the span of its `val_date`s and the share of each series' samples it
    /// holds) cuts the window to a length that fits, at most half of it, and that piece
    /// is asked for again. A 413 (the response, or the range, too large) halves the
    /// window, and later windows aim at fewer datapoints. Window lengths follow the
    /// density seen so far. A body cut short is asked for again (the client's retry
    /// policy).
    ///
    /// **Order.** Window by window in creation time; within a window by `val_date`,
    /// then `dev_netid`, then `dev_chid`, then the record's text.
    ///
    /// Each request is logged (`tracing`, INFO) with its window and datapoint count.
    pub fn stream(self) -> RecordStream<T, Error> {
        let windows = self
            .pages()
            .map_ok(|window| futures::stream::iter(window.items.into_iter().map(Ok)));
        RecordStream::new(windows.try_flatten())
    }

    /// The windows [`stream`](Self::stream) walks, each complete: its datapoints in the
    /// order `stream` yields them (without those the window before already gave), and
    /// the requests it took. A window answered at the cap is cut shorter and asked for
    /// again, and yields an empty window of no length (`from == to`) that records the cut.
    /// Every window is yielded, an empty one too, so a caller can record how far
    /// a read has come: each carries [`Window::checkpoint`], the read's position after
    /// it (see [`resume_from`](Self::resume_from)).
    pub fn pages(self) -> RecordStream<Window<T>, Error> {
        RecordStream::new(
            self.raw_pages()
                .map(|window| window?.try_map(|point| point.decode_fast())),
        )
    }

    /// The same read, going on after the last datapoint `checkpoint` follows: a
    /// checkpoint that [`checkpointed`](Self::checkpointed) or a window of
    /// [`pages`](Self::pages) gave for this query (same ids, channels and range; the
    /// record type may differ). The read yields each datapoint exactly once across the
    /// runs. A checkpoint of another query is refused with
    /// [`ClientError::Config`](crate::ClientError::Config) when the read starts; a
    /// [`Position::Done`] one yields nothing. Applies to [`stream`](Self::stream),
    /// [`pages`](Self::pages), [`checkpointed`](Self::checkpointed) and
    /// [`copy_to`](Self::copy_to) (not to [`send`](Self::send)).
    ///
    /// **Position and state.** A checkpoint after a window is
    /// [`Position::Window`] `{ from: <the next window's start>, skip: 0 }` (or
    /// [`Position::Done`]); inside a window, `from` is that window's start and `skip`
    /// the datapoints of it already yielded. Its `state` holds what decides the windows
    /// to come, so that a resumed read cuts and sorts exactly the windows the first run
    /// would have: the windows still to fetch (`pending`, epoch seconds), the last
    /// complete window's datapoints and seconds (`last`, the density), the datapoints a
    /// window aims at (`target`), and, to remove the overlap with the next window, a
    /// 64-bit digest of each record text of the last complete window's response
    /// (`previous`: at most 9,999, 16 hex digits each, so at most about 160 KB). A
    /// resumed read asks for the window it stopped in again (at most one window twice).
    ///
    /// **What a resume assumes.** A checkpoint inside a window (`skip` > 0) assumes the
    /// server answers that window again with the same datapoints: the window is sorted
    /// (by `val_date`, `dev_netid`, `dev_chid`, then text) and its first `skip` are
    /// dropped. A datapoint created inside that window's range, or removed from it,
    /// between the kill and the resume shifts the skip: one that sorts before the skip
    /// point makes the resumed read drop one more (a datapoint lost) or one fewer (one
    /// repeated). A checkpoint after a window (`skip` 0) has no such risk for the
    /// windows still to come. Overlap between windows is removed by text against the
    /// previous window's *whole* response, so two distinct datapoints whose texts are
    /// identical, one in each of two consecutive windows' responses, count as one and
    /// are yielded once (within one window's response, identical texts are all kept).
    ///
    /// Store the checkpoint atomically, after what the window gave (a torn checkpoint
    /// file must not be possible), and refuse one that does not parse: only a missing
    /// file means "start", since starting over would yield everything again.
    ///
    /// ```no_run
    /// use std::io::Write;
    /// use std::path::Path;
    ///
    /// use conduit_client::jiff::Timestamp;
    /// use conduit_client::prelude::*;
    /// use conduit_client::serde_json;
    /// use conduit_client::{Checkpoint, Client, RawDatapoint};
    ///
    /// /// The stored checkpoint; `None` only if there is none.
    /// fn load(path: &Path) -> Result<Option<Checkpoint>, Box<dyn std::error::Error>> {
    ///     match std::fs::read(path) {
    ///         Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
    ///         Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
    ///         Err(err) => Err(err.into()),
    ///     }
    /// }
    ///
    /// /// Replaces the stored checkpoint: a crash leaves the old one or the new one.
    /// fn store(path: &Path, checkpoint: &Checkpoint) -> std::io::Result<()> {
    ///     let temp = path.with_extension("tmp");
    ///     let mut file = std::fs::File::create(&temp)?;
    ///     file.write_all(&serde_json::to_vec(checkpoint)?)?;
    ///     file.sync_all()?;
    ///     std::fs::rename(&temp, path)
    /// }
    ///
    /// # async fn run(client: Client, from: Timestamp, to: Timestamp) -> Result<(), Box<dyn std::error::Error>> {
    /// let path = Path::new("read.checkpoint");
    /// let query = client.datapoints().id("70B3D54990DC01DA").range(from, to);
    /// // Where an earlier run stopped, if it did.
    /// let query = match load(path)? {
    ///     Some(checkpoint) => query.resume_from(checkpoint),
    ///     None => query,
    /// };
    /// let mut windows = query.records::<RawDatapoint>().pages();
    /// while let Some(window) = windows.try_next().await? {
    ///     for point in &window.items {
    ///         println!("{}", point.as_str());
    ///     }
    ///     // Store what the window gave first, then where the read stands after it.
    ///     if let Some(checkpoint) = &window.checkpoint {
    ///         store(path, checkpoint)?;
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn resume_from(mut self, checkpoint: Checkpoint) -> Self {
        self.resume = Some(checkpoint);
        self
    }

    /// Every datapoint [`stream`](Self::stream) yields, each with the checkpoint right
    /// after it: resuming from it ([`resume_from`](Self::resume_from)) yields the
    /// datapoints after this one.
    pub fn checkpointed(self) -> RecordStream<Checkpointed<T>, Error> {
        let start = self
            .resume
            .clone()
            .unwrap_or_else(|| Checkpoint::new(self.read_id(), Position::Start));
        client_core::shape::checkpointed(self.pages(), start)
    }

    /// Writes every datapoint [`stream`](Self::stream) yields to `writer` as NDJSON: one
    /// line per datapoint, its element's text as the server sent it (see
    /// [`RawDatapoint`]), in stream order, each once. On an error the writer holds the
    /// windows completed so far: use [`write_to`](Self::write_to) for a file.
    pub async fn copy_to<W>(self, writer: &mut W) -> Result<Written>
    where
        W: AsyncWrite + Unpin + Send + ?Sized,
    {
        if self.resume.is_some() {
            return Err(Error::resumed_store(
                "store a resumable file with `pages()` (each window's items, then its checkpoint)",
            ));
        }
        let mut windows = self.raw_pages();
        let mut lines = NdjsonWriter::new(writer);
        while let Some(window) = windows.try_next().await? {
            lines.requests(window.requests);
            for point in &window.items {
                lines.record(point.as_str()).await?;
            }
        }
        Ok(lines.finish().await?)
    }

    /// Like [`copy_to`](Self::copy_to), to the file at `path`, atomically: it appears
    /// complete and synced, or not at all.
    pub async fn write_to(self, path: impl AsRef<Path> + Send) -> Result<Written> {
        client_core::Storable::write_to(self, path).await
    }

    /// The range, checked: both ends or neither, and not empty.
    fn checked_range(&self) -> Result<Option<(Timestamp, Timestamp)>> {
        match (self.from, self.to) {
            (None, None) => Ok(None),
            (Some(from), Some(to)) if from < to => Ok(Some((from, to))),
            (Some(from), Some(to)) => Err(Error::invalid_request(format!(
                "the range is empty: {from} is not before {to}"
            ))),
            _ => Err(Error::invalid_request(
                "a range needs both ends (fcdt and tcdt); give both, or neither for the last hour",
            )),
        }
    }

    /// The one request [`send`](Self::send) sends: the range as given, if any.
    fn single_request(&self) -> Result<RequestBuilder> {
        let range = self
            .checked_range()?
            .map(|(from, to)| (from.as_second(), to.as_second()));
        Ok(self.request(range))
    }

    /// The GET with the query's devices and channels, and `fcdt`/`tcdt` when given.
    fn request(&self, range: Option<(i64, i64)>) -> RequestBuilder {
        let mut request = self.client.http.get("").accept("application/json");
        for id in &self.ids {
            request = request.query("id", id);
        }
        for channel in &self.channels {
            request = request.query("ch", channel.to_string());
        }
        if let Some((fcdt, tcdt)) = range {
            request = request
                .query("fcdt", fcdt.to_string())
                .query("tcdt", tcdt.to_string());
        }
        request
    }

    /// The name of this read in its checkpoints: the ids, channels and range (what
    /// changes which datapoints it yields).
    fn read_id(&self) -> String {
        let channels: Vec<String> = self.channels.iter().map(i64::to_string).collect();
        let range = [self.from, self.to].map(|end| end.map(|t| t.to_string()).unwrap_or_default());
        let mut parameters: Vec<(&str, &str)> = Vec::new();
        parameters.extend(self.ids.iter().map(|id| ("id", id.as_str())));
        parameters.extend(channels.iter().map(|ch| ("ch", ch.as_str())));
        parameters.push(("from", &range[0]));
        parameters.push(("to", &range[1]));
        Checkpoint::read_id("conduit.datapoints", &parameters)
    }

    /// The windows of the read, resumed from `resume` when given: the first loses the
    /// datapoints the checkpoint says were yielded.
    fn raw_pages(self) -> RecordStream<Window<RawDatapoint>, Error> {
        let start = self.resume.clone();
        client_core::shape::resume_pages(self.windows(), start.as_ref())
    }

    /// The planner a read starts with: a new one, or the one its checkpoint stored.
    /// `None`: the checkpoint says the read is done.
    fn planner(&self, from: Timestamp, to: Timestamp) -> Result<Option<Planner>> {
        let Some(checkpoint) = &self.resume else {
            return Ok(Some(Planner::new(from, to)));
        };
        checkpoint.check(&self.read_id())?;
        match &checkpoint.position {
            Position::Done => Ok(None),
            Position::Start => Ok(Some(Planner::new(from, to))),
            Position::Window { .. } if checkpoint.state.is_null() => Ok(Some(Planner::new(from, to))),
            Position::Window { .. } => {
                let state: PlannerState =
                    serde_json::from_value((*checkpoint.state).clone()).map_err(|e| {
                        Error::config(format!(
                            "the checkpoint's state is not a Conduit datapoints read's: {e}"
                        ))
                    })?;
                Ok(Some(Planner::restore(from, to, state)?))
            }
            other => Err(Error::config(format!(
                "a Conduit datapoints read resumes from a window position, not {other:?}"
            ))),
        }
    }

    /// The complete windows of the range, with each datapoint's text as sent, each with
    /// the checkpoint after it (its datapoints not yet trimmed by a resumed `skip`).
    fn windows(self) -> RecordStream<Window<RawDatapoint>, Error> {
        RecordStream::new(async_stream::try_stream! {
            let Some((from, to)) = self.checked_range()? else {
                Err(Error::invalid_request("a complete-range read needs both ends of the range"))?;
                return;
            };
            let Some(mut planner) = self.planner(from, to)? else {
                return;
            };
            let read = self.read_id();
            // A resumed read's first window must start where its checkpoint says.
            let mut expected = match self.resume.as_ref().map(|c| &c.position) {
                Some(Position::Window { from, .. }) => Some(*from),
                _ => None,
            };
            let mut requests = 0;
            while let Some(cut) = planner.next_window() {
                let (fcdt, tcdt) = cut.query();
                let response = fetch(self.request(Some((fcdt, tcdt)))).await;
                requests += 1;
                let response = match response {
                    Err(Error::RequestTooLarge(_)) if planner.too_large(cut) => {
                        tracing::info!(fcdt, tcdt, "conduit window refused as too large (413); halving it");
                        metrics::replanned(METRICS_LABEL);
                        continue;
                    }
                    other => other?,
                };
                let received = response.len();
                match planner.assess(cut, response)? {
                    Outcome::Split => {
                        tracing::info!(fcdt, tcdt, received, "conduit window at the cap; cutting it to the density it shows");
                        metrics::replanned(METRICS_LABEL);
                        // Where the cut fell depends on which datapoints the server kept,
                        // which may differ if asked again: an empty window of no length
                        // carries the cut in its checkpoint, so that a read resumed inside
                        // the next window asks for exactly that window.
                        let start = cut.within(from, to).0;
                        let state = serde_json::to_value(planner.state())
                            .map_err(|e| Error::config(format!("a checkpoint's state: {e}")))?;
                        let position = Position::Window { from: start, skip: 0 };
                        let checkpoint = Checkpoint::new(read.clone(), position).with_state(state);
                        yield Window::new(start, start, Vec::new(), std::mem::take(&mut requests))
                            .with_checkpoint(Some(checkpoint));
                    }
                    Outcome::Complete(points) => {
                        tracing::info!(fcdt, tcdt, received, kept = points.len(), "conduit window fetched");
                        metrics::records(METRICS_LABEL, points.len() as u64);
                        let (start, end) = cut.within(from, to);
                        if let Some(expected) = expected.take().filter(|at| *at != start) {
                            Err(Error::config(format!(
                                "the checkpoint's window starts at {expected}, but its state resumes at {start}"
                            )))?;
                        }
                        let position = match planner.next_start() {
                            Some(next) => Position::Window {
                                from: Cut { from: next, to: next + 1 }.within(from, to).0,
                                skip: 0,
                            },
                            None => Position::Done,
                        };
                        let state = serde_json::to_value(planner.state())
                            .map_err(|e| Error::config(format!("a checkpoint's state: {e}")))?;
                        let checkpoint = Checkpoint::new(read.clone(), position).with_state(state);
                        yield Window::new(start, end, points, std::mem::take(&mut requests))
                            .with_checkpoint(Some(checkpoint));
                    }
                }
            }
        })
    }
}

/// One request, read whole inside the retry loop; 304 gives an empty list.
async fn fetch(request: RequestBuilder) -> Result<Vec<RawDatapoint>> {
    let response = request.send_buffered().await?;
    if response.status() == StatusCode::NOT_MODIFIED {
        return Ok(Vec::new());
    }
    Ok(response
        .json_array(None, DecodeOptions::default())
        .try_collect()
        .await?)
}

client_core::verbs! {
    impl[T: DeserializeOwned + Send + 'static] DatapointsQuery<T> {
        error: Error;
        send: Page<T>;
        stream: T;
        pages: Window<T>;
        resume: T;
        store: Written;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_example_decodes() {
        let json = r#"{"val_date": 1614054737, "dev_netid": "70B3D54990DC01DA", "dev_chid": 1,
            "val_raw": 4.091, "val_type": "Voltage", "dev_tag": "MIT-GW06 Pyalong Reserve",
            "val_description": "Battery Bank A", "dev_site": "Minnovation", "val_cal": 0,
            "val_offset": 0, "dev_error": 0, "dev_type": "device", "dev_label": "Active",
            "dev_category": "Device", "dev_powersource": "Solar", "dev_manufacturer": "Minnovation",
            "dev_supplier": "Minnovation", "dev_model": "X1 Analog to Digital Sensor",
            "dev_serial": "70B3D54990DC01DA", "dev_network": "The Things Network",
            "loc_lat": 49.610711, "loc_lng": 8.789063, "val_calibrated": 4.091}"#;
        let point: Datapoint = serde_json::from_str(json).unwrap();
        assert_eq!(
            point.val_date,
            Some(Timestamp::from_second(1_614_054_737).unwrap())
        );
        assert_eq!(point.dev_netid.as_deref(), Some("70B3D54990DC01DA"));
        assert_eq!(point.dev_chid, Some(1));
        assert_eq!(point.val_raw, Some(4.091));
        assert_eq!(point.val_calibrated, Some(4.091));
        assert_eq!(point.val_type.as_deref(), Some("Voltage"));
        assert_eq!(point.val_description.as_deref(), Some("Battery Bank A"));
        assert_eq!(point.dev_tag.as_deref(), Some("MIT-GW06 Pyalong Reserve"));
        assert_eq!(point.dev_site.as_deref(), Some("Minnovation"));
        assert_eq!(
            (point.val_cal, point.val_offset, point.dev_error),
            (Some(0.0), Some(0.0), Some(0))
        );
        assert_eq!(point.dev_type.as_deref(), Some("device"));
        assert_eq!(point.dev_label.as_deref(), Some("Active"));
        assert_eq!(point.dev_category.as_deref(), Some("Device"));
        assert_eq!(point.dev_powersource.as_deref(), Some("Solar"));
        assert_eq!(point.dev_manufacturer.as_deref(), Some("Minnovation"));
        assert_eq!(point.dev_supplier.as_deref(), Some("Minnovation"));
        assert_eq!(point.dev_model.as_deref(), Some("X1 Analog to Digital Sensor"));
        assert_eq!(point.dev_serial.as_deref(), Some("70B3D54990DC01DA"));
        assert_eq!(point.dev_network.as_deref(), Some("The Things Network"));
        assert_eq!((point.loc_lat, point.loc_lng), (Some(49.610711), Some(8.789063)));
    }

    #[test]
    fn missing_null_and_added_attributes_are_fine() {
        let point: Datapoint =
            serde_json::from_str(r#"{"val_date": "1614054737", "dev_chid": null, "new_attr": [1]}"#).unwrap();
        assert_eq!(point.val_date.map(|t| t.as_second()), Some(1_614_054_737));
        assert_eq!(point.dev_chid, None);
        assert_eq!(point.dev_netid, None);
        assert_eq!(point.other["new_attr"], serde_json::json!([1]));
        assert_eq!(point.other.len(), 1);
        let empty: Datapoint = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, Datapoint::default());
        let undated: Datapoint = serde_json::from_str(r#"{"val_date": "soon"}"#).unwrap();
        assert_eq!(undated.val_date, None);
    }

    #[test]
    fn the_channel_id_decodes_from_a_number_or_its_digits_as_text() {
        for (json, chid) in [
            (r#"{"dev_chid": 2}"#, Some(2)),
            (r#"{"dev_chid": "2"}"#, Some(2)),
            (r#"{"dev_chid": " 12 "}"#, Some(12)),
            (r#"{"dev_chid": ""}"#, None),
            (r#"{"dev_chid": null}"#, None),
        ] {
            let point: Datapoint = serde_json::from_str(json).unwrap();
            assert_eq!(point.dev_chid, chid, "{json}");
            assert!(point.other.is_empty(), "{json}");
        }
        for bad in [
            r#"{"dev_chid": "two"}"#,
            r#"{"dev_chid": 2.5}"#,
            r#"{"dev_chid": [2]}"#,
        ] {
            let err = serde_json::from_str::<Datapoint>(bad).unwrap_err();
            assert!(err.to_string().contains("expected an integer"), "{bad}: {err}");
        }
        // A network id written as a number keeps its digits; serialised, both are typed.
        let point: Datapoint = serde_json::from_str(r#"{"dev_netid": 7012, "dev_chid": "3"}"#).unwrap();
        assert_eq!(point.dev_netid.as_deref(), Some("7012"));
        let json = serde_json::to_value(&point).unwrap();
        assert_eq!(
            (&json["dev_netid"], &json["dev_chid"]),
            (&serde_json::json!("7012"), &serde_json::json!(3))
        );
        // Through the raw record too: the typed decode reads what the key reads.
        let raw: RawDatapoint = serde_json::from_str(r#"{"dev_chid":"2","val_date":"60"}"#).unwrap();
        assert_eq!(raw.decode::<Datapoint>().unwrap().dev_chid, raw.dev_chid());
    }

    #[test]
    fn a_raw_datapoint_keeps_its_text_and_reads_its_key() {
        let text = r#"{"val_raw":1.50, "dev_chid":2,"dev_netid":"A","val_date":"60","z":{"k":[1.0]}}"#;
        let raw: RawDatapoint = serde_json::from_str(text).unwrap();
        assert_eq!(raw.as_str(), text);
        assert_eq!(serde_json::to_string(&raw).unwrap(), text);
        assert_eq!(raw.val_date().map(|t| t.as_second()), Some(60));
        assert_eq!(raw.timestamp(), raw.val_date());
        assert_eq!(raw.clone(), raw);
        // Equal by text: the same datapoint written otherwise is another text.
        let reordered: RawDatapoint = serde_json::from_str(
            r#"{"val_date":"60","dev_netid":"A","dev_chid":2,"val_raw":1.50, "z":{"k":[1.0]}}"#,
        )
        .unwrap();
        assert_ne!(reordered, raw);
        let undated: RawDatapoint = serde_json::from_str(r#"{"val_raw":1}"#).unwrap();
        assert_eq!(undated.timestamp(), None);
        assert_eq!((raw.dev_netid(), raw.dev_chid()), (Some("A"), Some(2)));
        let typed: Datapoint = raw.decode().unwrap();
        assert_eq!(typed.val_raw, Some(1.5));
        // A pretty-printed element becomes one line; nothing else changes.
        let pretty: RawDatapoint =
            serde_json::from_str("{\r\n  \"val_raw\": 1.50,\n  \"s\": \"a b\"\n}").unwrap();
        assert_eq!(pretty.as_str(), r#"{  "val_raw": 1.50,  "s": "a b"}"#);
        // A val_date that is no epoch second in range is absent, the text as sent.
        for text in [
            r#"{"val_date":"soon"}"#,
            r#"{"val_date":1e300}"#,
            r#"{"val_date":[1]}"#,
        ] {
            let raw: RawDatapoint = serde_json::from_str(text).unwrap();
            assert_eq!((raw.val_date(), raw.as_str()), (None, text));
            assert_eq!(raw.decode::<Datapoint>().unwrap().val_date, None);
        }
        assert!(serde_json::from_str::<RawDatapoint>("[1]").is_err());
    }
}
