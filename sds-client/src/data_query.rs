//! Today's data query (`POST data/observations`): a sensor's raw data over a range,
//! continued from the last timestamp returned until the range is read.
//!
//! The query's response layout is not public; the crate assumes
//! `{sensor, sensorName, metricsAndUnits, data: {"<ISO timestamp>": {"<metric>": number}}}`
//! and decodes each timestamp's values generically.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::path::Path;

use client_core::decode::NdjsonWriter;
use futures::TryStreamExt;
use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tokio::io::AsyncWrite;

use client_core::shape::CheckpointedPage;
use client_core::{
    Checkpoint, Checkpointed, Cursor, Page, Position, RecordStream, RequestBuilder, RequestPreview, Written,
};

use crate::client::Client;
use crate::error::{Error, Needs, Result, SdsError};
use crate::time::{iso, iso_end, iso_start, just_before, sent_start};

/// One timestamp of a query response: when, the key's text as sent, and the values
/// (by default every metric's value as JSON; [`DataQuery::values_as`] picks another type,
/// `Box<RawValue>` keeps the server's text).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DataPoint<V = Map<String, Value>> {
    /// The timestamp, parsed.
    pub timestamp: Timestamp,
    /// The timestamp as the server wrote it.
    pub timestamp_text: String,
    /// The values at that timestamp, keyed by metric.
    pub values: V,
}

impl DataPoint<Box<RawValue>> {
    /// The same point with its values decoded as `V`.
    fn decode<V: DeserializeOwned>(self) -> Result<DataPoint<V>> {
        let values = serde_json::from_str(self.values.get())
            .map_err(|e| Error::decode(format!("data at {}: {e}", self.timestamp_text)))?;
        Ok(DataPoint {
            timestamp: self.timestamp,
            timestamp_text: self.timestamp_text,
            values,
        })
    }
}

/// `POST data/observations` over `[from, to)`, built by [`Client::query_data`].
///
/// A response is followed by a query from its last timestamp until one brings nothing
/// new; a server that answers a continuation with data before it is
/// [`SdsError::StalledContinuation`]. When the first answer starts after `from`, one more
/// query checks that nothing lies before it: a server whose cut answers keep the
/// *latest* timestamps cannot be read by continuation, and is
/// [`SdsError::CapKeepsNewest`] rather than a silent gap.
///
/// Terminals: [`send`](Self::send) (one response), [`stream`](Self::stream) (every
/// timestamp of the range, once, in time order), [`pages`](Self::pages) (one page per
/// response of the continuation), [`copy_to`](Self::copy_to) /
/// [`write_to`](Self::write_to) (NDJSON, lossless) and [`to_request`](Self::to_request).
///
/// ```no_run
/// use sds_client::Client;
/// use sds_client::jiff::{SignedDuration, Timestamp};
/// use sds_client::prelude::*;
///
/// # async fn run() -> Result<(), sds_client::Error> {
/// let client = Client::from_env()?;
/// let to = Timestamp::now();
/// let query = client.query_data("sensor-1").range(to - SignedDuration::from_hours(24), to);
/// println!("{:?}", query.to_request()?.json_body());
/// let mut points = query.clone().stream();
/// while let Some(point) = points.try_next().await? {
///     println!("{} {:?}", point.timestamp, point.values.get("T"));
/// }
/// let written = query.write_to("day.ndjson").await?;
/// println!("{} timestamps", written.records);
/// # Ok(()) }
/// ```
#[must_use = "a query does nothing until it is sent or streamed"]
pub struct DataQuery<V = Map<String, Value>> {
    client: Client,
    sensor_id: String,
    range: Option<(Timestamp, Timestamp)>,
    resume: Option<Checkpoint>,
    values: PhantomData<fn() -> V>,
}

impl<V> Clone for DataQuery<V> {
    fn clone(&self) -> Self {
        DataQuery {
            client: self.client.clone(),
            sensor_id: self.sensor_id.clone(),
            range: self.range,
            resume: self.resume.clone(),
            values: PhantomData,
        }
    }
}

impl<V> std::fmt::Debug for DataQuery<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataQuery")
            .field("sensor_id", &self.sensor_id)
            .field("range", &self.range)
            .finish()
    }
}

impl Client {
    /// Queries a sensor's raw data with today's API; give the range before sending.
    pub fn query_data(&self, sensor_id: impl Into<String>) -> DataQuery {
        DataQuery {
            client: self.clone(),
            sensor_id: sensor_id.into(),
            range: None,
            resume: None,
            values: PhantomData,
        }
    }
}

impl<V: DeserializeOwned + Send + 'static> DataQuery<V> {
    /// The half-open range `[from, to)`. The first query starts one millisecond early
    /// (from `from` itself at `Timestamp::MIN`) and the terminals trim, so the
    /// server's reading of the ends does not matter. The dates are sent to the
    /// millisecond, rounded outward (`startDate` down, `endDate` up).
    pub fn range(mut self, from: Timestamp, to: Timestamp) -> Self {
        self.range = Some((from, to));
        self
    }

    /// Decodes each timestamp's *values* (the metric object, `{"<metric>": number}`)
    /// into `U` instead of the default `Map<String, Value>`; the records stay
    /// [`DataPoint`]s, `DataPoint<U>`. `Box<RawValue>` keeps the values' text as sent,
    /// `BTreeMap<String, f64>` reads every metric as a number.
    ///
    /// ```no_run
    /// use std::collections::BTreeMap;
    /// use sds_client::Client;
    /// use sds_client::prelude::*;
    ///
    /// # async fn run() -> Result<(), sds_client::Error> {
    /// let client = Client::from_env()?;
    /// let to = sds_client::jiff::Timestamp::now();
    /// let mut points = client
    ///     .query_data("sensor-1")
    ///     .range(to - sds_client::jiff::SignedDuration::from_hours(1), to)
    ///     .values_as::<BTreeMap<String, f64>>()
    ///     .stream();
    /// while let Some(point) = points.try_next().await? {
    ///     // Still a `DataPoint`: only its `values` changed type.
    ///     println!("{} {:?}", point.timestamp_text, point.values.get("T"));
    /// }
    /// # Ok(()) }
    /// ```
    pub fn values_as<U: DeserializeOwned + Send + 'static>(self) -> DataQuery<U> {
        DataQuery {
            client: self.client,
            sensor_id: self.sensor_id,
            range: self.range,
            resume: self.resume,
            values: PhantomData,
        }
    }

    /// Goes on after `checkpoint`, one this query's [`checkpointed`](Self::checkpointed)
    /// or [`pages`](Self::pages) gave: the continuation queries again from the
    /// checkpoint's instant and yields the timestamps after it, so that a read killed
    /// anywhere and resumed from its last checkpoint yields each timestamp exactly once
    /// across both runs. A checkpoint of another read (another sensor or range) is
    /// refused with [`ClientError::Config`](crate::ClientError::Config) when the read
    /// starts; a [`Position::Done`] one yields nothing.
    ///
    /// The continuation is read by time, so a checkpoint is
    /// [`Position::After`] the last timestamp yielded (it has no `state`): unlike a
    /// position counted within a response, it stays exact when the server's answers
    /// change between the runs. Two keys of one response naming the same instant in
    /// different spellings are one instant to the continuation, as they are across
    /// responses.
    ///
    /// ```no_run
    /// use sds_client::{Checkpoint, Client};
    /// use sds_client::prelude::*;
    ///
    /// # async fn run(stored: Option<Checkpoint>) -> Result<(), sds_client::Error> {
    /// let client = Client::from_env()?;
    /// let mut query = client
    ///     .query_data("sensor-1")
    ///     .range("2025-01-01T00:00:00Z".parse().unwrap(), "2025-02-01T00:00:00Z".parse().unwrap());
    /// // `stored`: the checkpoint stored last (atomically); `None` only when there is
    /// // none: one that does not parse is an error, since starting over repeats all.
    /// if let Some(checkpoint) = stored {
    ///     query = query.resume_from(checkpoint);
    /// }
    /// let mut points = query.checkpointed();
    /// while let Some(point) = points.try_next().await? {
    ///     println!("{} {:?}", point.item.timestamp, point.item.values);
    ///     // Store `point.checkpoint` with the output to resume from it later.
    /// }
    /// # Ok(()) }
    /// ```
    pub fn resume_from(mut self, checkpoint: Checkpoint) -> Self {
        self.resume = Some(checkpoint);
        self
    }

    /// Every timestamp of [`stream`](Self::stream) with the checkpoint right after it
    /// (see [`resume_from`](Self::resume_from)).
    pub fn checkpointed(self) -> RecordStream<Checkpointed<DataPoint<V>>, Error> {
        let start = match self.check() {
            Ok(continuation) => continuation.start_checkpoint(),
            Err(err) => return RecordStream::new(futures::stream::iter([Err(err)])),
        };
        let mut responses = self.responses();
        let pages = RecordStream::new(async_stream::try_stream! {
            while let Some(response) = responses.try_next().await? {
                let stamps = response.page.items.iter().map(|point| point.timestamp).collect();
                let page = response.page.try_map(DataPoint::decode)?;
                yield ByTime { page, stamps };
            }
        });
        client_core::shape::checkpointed(pages, start)
    }

    /// The first request, without sending it. A query without a non-empty range is
    /// refused here as when sent.
    pub fn to_request(&self) -> Result<RequestPreview> {
        let continuation = self.check()?;
        Ok(continuation
            .request(continuation.first_start(), continuation.to)
            .to_request()?)
    }

    /// One request: the range's timestamps in the first response, in time order. Its
    /// `next` names where a continuation would start (a [`Cursor::Token`] holding the
    /// last timestamp, as sent as `startDate`), `None` when it held nothing in the range.
    /// Unlike the other terminals it makes no checks across responses.
    pub async fn send(self) -> Result<Page<DataPoint<V>>> {
        let continuation = self.check()?;
        let answer = continuation
            .fetch(continuation.first_start(), continuation.to)
            .await?;
        let items = continuation.in_range(answer.points, continuation.after);
        let next = items.last().map(|point| Cursor::Token(iso(point.timestamp)));
        Page::new(items)
            .with_next(next)
            .with_meta(answer.meta)
            .try_map(DataPoint::decode)
    }

    /// One page per response of the continuation: the timestamps it adds to the range,
    /// in time order (each timestamp is in exactly one page), with the response's other
    /// members (`sensor`, `sensorName`, `metricsAndUnits`, ...) as sent in `meta`. A
    /// page's `cursor` is the continuation's `startDate` as a [`Cursor::Token`] (`None`
    /// for the first); the last page is the response that brought nothing new. Each
    /// page's `checkpoint` is where the read stands after it
    /// ([`Position::After`] its last timestamp, [`Position::Done`] after the last page;
    /// see [`resume_from`](Self::resume_from)).
    pub fn pages(self) -> RecordStream<Page<DataPoint<V>>, Error> {
        let mut responses = self.responses();
        RecordStream::new(async_stream::try_stream! {
            while let Some(response) = responses.try_next().await? {
                yield response.page.try_map(DataPoint::decode)?;
            }
        })
    }

    /// Every timestamp in `[from, to)` in time order, each once.
    pub fn stream(self) -> RecordStream<DataPoint<V>, Error> {
        let mut pages = self.pages();
        RecordStream::new(async_stream::try_stream! {
            while let Some(page) = pages.try_next().await? {
                for point in page.items {
                    yield point;
                }
            }
        })
    }

    /// Writes every timestamp of the range to `writer` as NDJSON, one line per timestamp
    /// in time order: `{"timestamp":"<key as sent>","values":<the metric object's text
    /// as sent>}`. On an error the writer holds a partial copy: use
    /// [`DataQuery::write_to`] when that must never be visible.
    pub async fn copy_to<W>(self, writer: &mut W) -> Result<Written>
    where
        W: AsyncWrite + Unpin + Send + ?Sized,
    {
        if self.resume.is_some() {
            return Err(Error::resumed_store(
                "store a resumable file with `pages()` (each page's items, then its checkpoint)",
            ));
        }
        let mut responses = self.responses();
        let mut lines = NdjsonWriter::new(writer);
        let mut line = String::new();
        while let Some(response) = responses.try_next().await? {
            lines.requests(response.requests);
            for point in response.page.items {
                line.clear();
                line.push_str("{\"timestamp\":");
                line.push_str(&Value::from(point.timestamp_text).to_string());
                line.push_str(",\"values\":");
                line.push_str(point.values.get());
                line.push('}');
                lines.record(&line).await?;
            }
        }
        Ok(lines.finish().await?)
    }

    /// Like [`DataQuery::copy_to`], into `path` atomically: the file appears complete, or
    /// not at all.
    pub async fn write_to(self, path: impl AsRef<Path> + Send) -> Result<Written> {
        client_core::Storable::write_to(self, path).await
    }

    /// The responses of the continuation, their values kept as sent.
    fn responses(self) -> RecordStream<Response, Error> {
        match self.check() {
            Ok(continuation) => continuation.responses(),
            Err(err) => RecordStream::new(futures::stream::iter([Err(err)])),
        }
    }

    fn check(&self) -> Result<Continuation> {
        let Some((from, to)) = self.range else {
            return Err(Error::invalid_request("a data query needs a range"));
        };
        if from >= to {
            return Err(Error::invalid_request(format!(
                "the range is empty: {from} is not before {to}"
            )));
        }
        let mut continuation = Continuation {
            read: Checkpoint::read_id(
                "sds.data",
                &[
                    ("sensorId", &self.sensor_id),
                    ("from", &from.to_string()),
                    ("to", &to.to_string()),
                ],
            ),
            client: self.client.clone(),
            sensor_id: self.sensor_id.clone(),
            from,
            to,
            after: None,
            done: false,
        };
        if let Some(checkpoint) = &self.resume {
            checkpoint.check(&continuation.read)?;
            match &checkpoint.position {
                Position::Start => {}
                Position::After { at } => continuation.after = Some(*at),
                Position::Done => continuation.done = true,
                other => {
                    return Err(Error::config(format!(
                        "a data query resumes after an instant, not from {other:?}"
                    )));
                }
            }
        }
        Ok(continuation)
    }
}

/// The body of a query.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct QueryBody<'a> {
    sensor_id: &'a str,
    start_date: String,
    end_date: String,
}

/// A response as read off the wire: each timestamp's values kept as text, the other
/// members as sent.
#[derive(Deserialize)]
pub(crate) struct WireResponse {
    #[serde(default)]
    data: BTreeMap<String, Box<RawValue>>,
    #[serde(flatten)]
    meta: Map<String, Value>,
}

/// One response's points, their timestamps parsed, in time order.
pub(crate) fn answer(response: WireResponse) -> Result<Answer> {
    let mut points = Vec::with_capacity(response.data.len());
    for (key, values) in response.data {
        let timestamp: Timestamp = key
            .parse()
            .map_err(|e| Error::decode(format!("data key `{key}` is not an ISO 8601 timestamp: {e}")))?;
        points.push(DataPoint {
            timestamp,
            timestamp_text: key,
            values,
        });
    }
    points.sort_by_key(|point| point.timestamp);
    Ok(Answer {
        points,
        meta: response.meta,
    })
}

/// One response: its points in time order, and its other members.
pub(crate) struct Answer {
    points: Vec<DataPoint<Box<RawValue>>>,
    meta: Map<String, Value>,
}

impl Answer {
    /// The points' timestamps as sent, in time order (for the fuzz targets).
    pub(crate) fn timestamps(&self) -> Vec<String> {
        self.points.iter().map(|p| p.timestamp_text.clone()).collect()
    }
}

/// One response of the continuation as a page, and the requests it took.
struct Response {
    page: Page<DataPoint<Box<RawValue>>>,
    requests: u64,
}

/// A response's page for [`client_core::shape::checkpointed`]: inside it, the read
/// stands after the timestamp of the last point yielded.
struct ByTime<V> {
    page: Page<DataPoint<V>>,
    /// The points' timestamps (the items are taken out before positions are asked for).
    stamps: Vec<Timestamp>,
}

impl<V: Send + 'static> CheckpointedPage for ByTime<V> {
    type Item = DataPoint<V>;

    fn items_mut(&mut self) -> &mut Vec<DataPoint<V>> {
        &mut self.page.items
    }

    fn checkpoint(&self) -> Option<&Checkpoint> {
        self.page.checkpoint.as_ref()
    }

    fn position_within(&self, skip: u64) -> Position {
        let index = usize::try_from(skip).unwrap_or(usize::MAX).saturating_sub(1);
        match self.stamps.get(index) {
            Some(at) => Position::After { at: *at },
            // Not asked for (an item is always yielded first): where the page starts.
            None => match &self.page.cursor {
                Some(Cursor::Token(at)) => at.parse().map_or(Position::Start, |at| Position::After { at }),
                _ => Position::Start,
            },
        }
    }
}

/// A checked data query: the range, where it resumes, and what reads it.
struct Continuation {
    read: String,
    client: Client,
    sensor_id: String,
    from: Timestamp,
    to: Timestamp,
    /// Resumed after this instant (every timestamp up to it was yielded).
    after: Option<Timestamp>,
    /// Resumed from a complete read.
    done: bool,
}

impl Continuation {
    /// Where the first query starts: one millisecond early (at `Timestamp::MIN`,
    /// `from` itself).
    fn start(&self) -> Timestamp {
        just_before(self.from)
    }

    /// Where this run's first query starts: the start, or the instant it resumes after.
    fn first_start(&self) -> Timestamp {
        self.after.unwrap_or_else(|| self.start())
    }

    /// The checkpoint this run starts at.
    fn start_checkpoint(&self) -> Checkpoint {
        let position = match (self.done, self.after) {
            (true, _) => Position::Done,
            (false, Some(at)) => Position::After { at },
            (false, None) => Position::Start,
        };
        Checkpoint::new(self.read.clone(), position)
    }

    /// The query of `[start, end]`.
    fn request(&self, start: Timestamp, end: Timestamp) -> RequestBuilder {
        let body = QueryBody {
            sensor_id: &self.sensor_id,
            start_date: iso_start(start),
            end_date: iso_end(end),
        };
        let request = self
            .client
            .http
            .post("data/observations")
            .json(&body)
            // A query changes nothing: repeating it is safe.
            .idempotent(true);
        Needs::read().on_sensor(&self.sensor_id).attach(request)
    }

    /// One query of `[start, end]` as sent, its timestamps parsed, in time order.
    async fn fetch(&self, start: Timestamp, end: Timestamp) -> Result<Answer> {
        let answer = answer(self.request(start, end).json_response().await?)?;
        client_core::metrics::records(crate::client::METRICS_LABEL, answer.points.len() as u64);
        Ok(answer)
    }

    /// The points of `[from, to)` after `seen`.
    fn in_range(
        &self,
        points: Vec<DataPoint<Box<RawValue>>>,
        seen: Option<Timestamp>,
    ) -> Vec<DataPoint<Box<RawValue>>> {
        points
            .into_iter()
            .filter(|p| {
                p.timestamp >= self.from && p.timestamp < self.to && seen.is_none_or(|s| p.timestamp > s)
            })
            .collect()
    }

    /// Whether data lies in `[from, first)` although the first answer started at
    /// `first`: a cut that kept the latest timestamps.
    async fn data_before(&self, first: Timestamp) -> Result<bool> {
        let before = self.fetch(self.start(), first).await?;
        Ok(before
            .points
            .iter()
            .any(|p| p.timestamp >= self.from && p.timestamp < first))
    }

    fn responses(self) -> RecordStream<Response, Error> {
        if self.done {
            return RecordStream::new(futures::stream::empty());
        }
        RecordStream::new(async_stream::try_stream! {
            let mut start = self.first_start();
            let mut cursor: Option<Cursor> = self.after.map(|at| Cursor::Token(iso(at)));
            let mut last: Option<Timestamp> = self.after;
            loop {
                let answer = self.fetch(start, self.to).await?;
                let mut requests = 1;
                if last.is_none() {
                    // A first answer that starts after `from` is either all there is, or
                    // a cut that kept the later timestamps: ask for what lies before it.
                    let first = answer.points.iter().map(|p| p.timestamp).find(|at| *at >= self.from);
                    if let Some(first) = first.filter(|first| *first > self.from) {
                        requests += 1;
                        if self.data_before(first).await? {
                            Err(Error::Api(SdsError::CapKeepsNewest { before: first }))?;
                        }
                    }
                }
                if let (Some(seen), Some(first)) = (last, answer.points.first()) {
                    // The query starts at `seen` rounded down to the millisecond: points
                    // of that millisecond before `seen` come back and are trimmed; only
                    // a point before the start sent means the server did not move on.
                    if first.timestamp < sent_start(seen) {
                        Err(Error::Api(SdsError::StalledContinuation { at: seen }))?;
                    }
                }
                let items = self.in_range(answer.points, last);
                if let Some(point) = items.last() {
                    last = Some(point.timestamp);
                }
                let next = (!items.is_empty()).then(|| last.map(|at| Cursor::Token(iso(at)))).flatten();
                let position = match (&next, last) {
                    (Some(_), Some(at)) => Position::After { at },
                    _ => Position::Done,
                };
                let page = Page::new(items)
                    .with_cursor(cursor.take())
                    .with_next(next.clone())
                    .with_meta(answer.meta)
                    .with_checkpoint(Some(Checkpoint::new(self.read.clone(), position)));
                yield Response { page, requests };
                match (next, last) {
                    (Some(next), Some(seen)) => {
                        cursor = Some(next);
                        start = seen;
                    }
                    _ => break,
                }
            }
        })
    }
}

client_core::verbs! {
    impl[V: DeserializeOwned + Send + 'static] DataQuery<V> {
        error: Error;
        send: Page<DataPoint<V>>;
        stream: DataPoint<V>;
        pages: Page<DataPoint<V>>;
        resume: DataPoint<V>;
        store: Written;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_keeps_each_timestamps_values_as_sent_and_its_other_members() {
        let wire: WireResponse = serde_json::from_str(
            r#"{"sensor":"s1","data":{"2026-01-01T00:00:00Z":{ "T" : 1.50 }},"sensorName":"S"}"#,
        )
        .unwrap();
        assert_eq!(wire.data["2026-01-01T00:00:00Z"].get(), r#"{ "T" : 1.50 }"#);
        assert_eq!(wire.meta["sensor"], "s1");
        assert_eq!(wire.meta["sensorName"], "S");
        assert!(!wire.meta.contains_key("data"));
    }
}
