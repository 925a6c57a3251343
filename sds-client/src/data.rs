//! Today's data API: query raw data (`POST data/observations`), upload
//! (`POST data/upload`) and remove (`DELETE data/observations`).
//!
//! The query's response layout is not public; the crate assumes
//! `{sensor, sensorName, metricsAndUnits, data: {"<ISO timestamp>": {"<metric>": number}}}`
//! and decodes each timestamp's values generically.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use futures::{Stream, StreamExt};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use client_core::RecordStream;
use client_core::http::Method;

use crate::client::Client;
use crate::envelope::decode_error;
use crate::error::{Error, MicroPermission, Result, SdsError, map_error};
use crate::time::iso;

/// The observations the upload sends per request unless told otherwise.
pub const DEFAULT_UPLOAD_BATCH: usize = 1_000;

/// One timestamp of a query response: when, the key's text as sent, and the values
/// (by default every metric's value as JSON; `Box<RawValue>` keeps the server's text).
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

/// `POST data/observations` over `[from, to)`, continued from the last timestamp
/// returned until the range is exhausted; built by [`Client::query_data`].
#[must_use = "a query does nothing until it is streamed"]
pub struct DataQuery<V = Map<String, Value>> {
    client: Client,
    sensor_id: String,
    range: Option<(Timestamp, Timestamp)>,
    values: PhantomData<fn() -> V>,
}

impl<V> std::fmt::Debug for DataQuery<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataQuery")
            .field("sensor_id", &self.sensor_id)
            .field("range", &self.range)
            .finish()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct QueryBody<'a> {
    sensor_id: &'a str,
    start_date: String,
    end_date: String,
}

#[derive(serde::Deserialize)]
struct QueryResponse {
    #[serde(default)]
    data: BTreeMap<String, Box<RawValue>>,
}

impl<V> DataQuery<V> {
    /// One query of `[start, end]` as sent, its timestamps parsed, in time order.
    async fn fetch(
        &self,
        start: Timestamp,
        end: Timestamp,
    ) -> Result<Vec<(Timestamp, String, Box<RawValue>)>> {
        let body = QueryBody {
            sensor_id: &self.sensor_id,
            start_date: iso(start),
            end_date: iso(end),
        };
        let response: QueryResponse = self
            .client
            .http
            .post("data/observations")
            .json(&body)
            // A query changes nothing: repeating it is safe.
            .idempotent(true)
            .json_response()
            .await
            .map_err(|e| map_error(e, MicroPermission::SensorDataRead, None))?;
        let mut points = Vec::with_capacity(response.data.len());
        for (key, raw) in response.data {
            let at: Timestamp = key
                .parse()
                .map_err(|e| decode_error(format!("data key `{key}` is not an ISO 8601 timestamp: {e}")))?;
            points.push((at, key, raw));
        }
        points.sort_by_key(|(at, _, _)| *at);
        Ok(points)
    }
}

impl<V: DeserializeOwned + Send + 'static> DataQuery<V> {
    /// The half-open range `[from, to)`. The first query starts one millisecond early and
    /// the stream trims, so the server's reading of the ends does not matter.
    pub fn range(mut self, from: Timestamp, to: Timestamp) -> Self {
        self.range = Some((from, to));
        self
    }

    /// Decodes each timestamp's values into `U` instead (`Box<RawValue>` keeps the
    /// server's text).
    pub fn records<U: DeserializeOwned + Send + 'static>(self) -> DataQuery<U> {
        DataQuery {
            client: self.client,
            sensor_id: self.sensor_id,
            range: self.range,
            values: PhantomData,
        }
    }

    /// Every timestamp in `[from, to)` in time order, each once. A response is followed
    /// by a query from its last timestamp until one brings nothing new; a server that
    /// answers a continuation with data before it is [`SdsError::StalledContinuation`].
    /// When the first answer starts after `from`, one more query checks that nothing lies
    /// before it: a server whose cut answers keep the *latest* timestamps cannot be read
    /// by continuation, and is [`SdsError::CapKeepsNewest`] rather than a silent gap.
    pub fn stream(self) -> RecordStream<DataPoint<V>, Error> {
        RecordStream::new(async_stream::try_stream! {
            let Some((from, to)) = self.range else {
                Err(Error::invalid_request("a data query needs a range"))?;
                return;
            };
            if from >= to {
                Err(Error::invalid_request(format!("the range is empty: {from} is not before {to}")))?;
            }
            let mut cursor = from - SignedDuration::from_millis(1);
            let mut last: Option<Timestamp> = None;
            loop {
                let points = self.fetch(cursor, to).await?;
                if last.is_none() {
                    // A first answer that starts after `from` is either all there is, or
                    // a cut that kept the later timestamps: ask for what lies before it.
                    if let Some(first) = points.iter().map(|(at, _, _)| *at).find(|at| *at >= from) {
                        if first > from {
                            let before = self.fetch(from - SignedDuration::from_millis(1), first).await?;
                            if before.iter().any(|(at, _, _)| *at >= from && *at < first) {
                                Err(Error::Api(SdsError::CapKeepsNewest { before: first }))?;
                            }
                        }
                    }
                }
                if let (Some(seen), Some((first, _, _))) = (last, points.first()) {
                    if *first < seen {
                        Err(Error::Api(SdsError::StalledContinuation { at: seen }))?;
                    }
                }
                let mut fresh = false;
                for (at, key, raw) in points {
                    if at < from || at >= to || last.is_some_and(|seen| at <= seen) {
                        continue;
                    }
                    let values: V = serde_json::from_str(raw.get())
                        .map_err(|e| decode_error(format!("data at {key}: {e}")))?;
                    fresh = true;
                    last = Some(at);
                    yield DataPoint { timestamp: at, timestamp_text: key, values };
                }
                match last {
                    Some(seen) if fresh => cursor = seen,
                    _ => break,
                }
            }
        })
    }
}

/// One observation to upload: a sensor, a time, and a value per metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UploadObservation {
    /// The sensor.
    pub sensor_id: String,
    /// When it was observed (sent as ISO 8601).
    #[serde(serialize_with = "serialize_iso")]
    pub timestamp: Timestamp,
    /// The value of each metric.
    pub values: BTreeMap<String, f64>,
}

fn serialize_iso<S: serde::Serializer>(at: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&iso(*at))
}

impl UploadObservation {
    /// An observation of `sensor_id` at `timestamp`, without values yet.
    pub fn new(sensor_id: impl Into<String>, timestamp: Timestamp) -> Self {
        UploadObservation {
            sensor_id: sensor_id.into(),
            timestamp,
            values: BTreeMap::new(),
        }
    }

    /// Adds the value of `metric`.
    pub fn value(mut self, metric: impl Into<String>, value: f64) -> Self {
        self.values.insert(metric.into(), value);
        self
    }

    fn check(&self) -> Result<()> {
        if self.values.is_empty() {
            return Err(Error::invalid_request(format!(
                "the observation of {} at {} has no values",
                self.sensor_id, self.timestamp
            )));
        }
        if let Some((metric, value)) = self.values.iter().find(|(_, v)| !v.is_finite()) {
            // JSON has no NaN or infinity: serde_json would send `null` instead.
            return Err(Error::invalid_request(format!(
                "{metric} of {} at {} is {value}, which JSON cannot carry",
                self.sensor_id, self.timestamp
            )));
        }
        Ok(())
    }
}

/// What an upload sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct UploadSummary {
    /// Requests accepted (202).
    pub batches: u64,
    /// Observations in them.
    pub observations: u64,
}

/// `POST data/upload` of a stream of observations in batches; built by
/// [`Client::upload`].
#[must_use = "an upload does nothing until it is sent"]
pub struct Upload<S> {
    client: Client,
    observations: S,
    batch_size: usize,
}

impl<S> std::fmt::Debug for Upload<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload")
            .field("batch_size", &self.batch_size)
            .finish()
    }
}

#[derive(Serialize)]
struct UploadBody<'a> {
    observations: &'a [UploadObservation],
}

impl<S: Stream<Item = UploadObservation> + Send> Upload<S> {
    /// Observations per request (default [`DEFAULT_UPLOAD_BATCH`]).
    pub fn batch_size(mut self, size: usize) -> Self {
        self.batch_size = size;
        self
    }

    /// Uploads every observation of the stream. An observation without values or with a
    /// value JSON cannot carry (NaN, infinity) is refused before its batch is sent. When
    /// a batch fails after others were accepted, the error is
    /// [`SdsError::UploadIncomplete`] with the count accepted. Batches are retried like
    /// any idempotent request: uploading the same values at the same timestamps again
    /// writes the same data.
    pub async fn send(self) -> Result<UploadSummary> {
        if self.batch_size == 0 {
            return Err(Error::config("the upload batch size must be at least 1"));
        }
        let mut summary = UploadSummary::default();
        let incomplete = |summary: UploadSummary, source: Error| {
            if summary.observations == 0 {
                source
            } else {
                Error::Api(SdsError::UploadIncomplete {
                    accepted: summary.observations,
                    source: Box::new(source),
                })
            }
        };
        let mut observations = std::pin::pin!(self.observations);
        let mut batch = Vec::with_capacity(self.batch_size);
        let mut ended = false;
        while !ended {
            match observations.next().await {
                Some(observation) => {
                    if let Err(invalid) = observation.check() {
                        return Err(incomplete(summary, invalid));
                    }
                    batch.push(observation);
                    if batch.len() < self.batch_size {
                        continue;
                    }
                }
                None => ended = true,
            }
            if batch.is_empty() {
                continue;
            }
            let sent = self
                .client
                .http
                .post("data/upload")
                .json(&UploadBody { observations: &batch })
                .idempotent(true)
                .send_buffered()
                .await
                .map_err(|e| map_error(e, MicroPermission::SensorDataManage, None));
            if let Err(failed) = sent {
                return Err(incomplete(summary, failed));
            }
            summary.batches += 1;
            summary.observations += batch.len() as u64;
            batch.clear();
        }
        Ok(summary)
    }
}

/// `DELETE data/observations`: removes a sensor's data in a range or at timestamps;
/// built by [`Client::remove_data`].
#[derive(Debug, Clone)]
#[must_use = "a removal does nothing until it is sent"]
pub struct Removal {
    client: Client,
    sensor_id: String,
    range: Option<(Timestamp, Timestamp)>,
    timestamps: Vec<Timestamp>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RemovalBody<'a> {
    sensor_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_date: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    timestamps: Vec<String>,
}

impl Removal {
    /// Removes what lies between `from` and `to`, sent as `startDate` and `endDate`.
    /// Which ends the server includes is its own reading: to remove exactly known
    /// observations, use [`Removal::timestamps`].
    pub fn range(mut self, from: Timestamp, to: Timestamp) -> Self {
        self.range = Some((from, to));
        self
    }

    /// Removes the observations at exactly these timestamps.
    pub fn timestamps(mut self, timestamps: impl IntoIterator<Item = Timestamp>) -> Self {
        self.timestamps.extend(timestamps);
        self
    }

    /// Sends the removal (202 when accepted). Neither a range nor timestamps is
    /// [`client_core::ClientError::InvalidRequest`]: the API might read it as
    /// "everything".
    pub async fn send(self) -> Result<()> {
        if self.range.is_none() && self.timestamps.is_empty() {
            return Err(Error::invalid_request(
                "a removal needs a range or timestamps (refusing to send one that could remove everything)",
            ));
        }
        if let Some((from, to)) = self.range {
            if from >= to {
                return Err(Error::invalid_request(format!(
                    "the range is empty: {from} is not before {to}"
                )));
            }
        }
        let body = RemovalBody {
            sensor_id: &self.sensor_id,
            start_date: self.range.map(|(from, _)| iso(from)),
            end_date: self.range.map(|(_, to)| iso(to)),
            timestamps: self.timestamps.iter().map(|t| iso(*t)).collect(),
        };
        self.client
            .http
            .request(Method::DELETE, "data/observations")
            .json(&body)
            .send_buffered()
            .await
            .map_err(|e| map_error(e, MicroPermission::SensorDataManage, None))?;
        Ok(())
    }
}

impl Client {
    /// Queries a sensor's raw data with today's API; give the range before streaming.
    pub fn query_data(&self, sensor_id: impl Into<String>) -> DataQuery {
        DataQuery {
            client: self.clone(),
            sensor_id: sensor_id.into(),
            range: None,
            values: PhantomData,
        }
    }

    /// Uploads observations from any stream (`futures::stream::iter(vec)` for a
    /// collection), in batches.
    pub fn upload<S: Stream<Item = UploadObservation> + Send>(&self, observations: S) -> Upload<S> {
        Upload {
            client: self.clone(),
            observations,
            batch_size: DEFAULT_UPLOAD_BATCH,
        }
    }

    /// Removes a sensor's data; give a range or timestamps before sending.
    pub fn remove_data(&self, sensor_id: impl Into<String>) -> Removal {
        Removal {
            client: self.clone(),
            sensor_id: sensor_id.into(),
            range: None,
            timestamps: Vec::new(),
        }
    }
}
