//! Today's upload (`POST data/upload`): observations from any stream, in batches.

use std::collections::BTreeMap;

use futures::{Stream, StreamExt};
use jiff::Timestamp;
use serde::Serialize;

use client_core::{RequestBuilder, RequestPreview};

use crate::client::Client;
use crate::error::{Error, Needs, Result, SdsError};
use crate::time::iso;

/// The observations the upload sends per request unless told otherwise.
pub const DEFAULT_UPLOAD_BATCH: usize = 1_000;

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
/// [`Client::upload`]. Terminals: [`send`](Self::send) and
/// [`to_request`](Self::to_request).
///
/// ```no_run
/// use sds_client::jiff::Timestamp;
/// use sds_client::{Client, UploadObservation};
///
/// # async fn run() -> Result<(), sds_client::Error> {
/// let client = Client::from_env()?;
/// let observations = (0..10).map(|i| {
///     UploadObservation::new("sensor-1", Timestamp::from_second(1_767_225_600 + 60 * i).unwrap())
///         .value("T", 20.0 + i as f64 / 10.0)
/// });
/// let summary = client
///     .upload(sds_client::futures::stream::iter(observations))
///     .batch_size(500)
///     .send()
///     .await?;
/// println!("{} observations in {} requests", summary.observations, summary.batches);
/// # Ok(()) }
/// ```
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
    /// Observations per request (default [`DEFAULT_UPLOAD_BATCH`]). 0 is refused when
    /// sent.
    pub fn batch_size(mut self, size: usize) -> Self {
        self.batch_size = size;
        self
    }

    /// The request each batch is sent with (`POST data/upload`, its headers), without
    /// sending it.
    ///
    /// **The preview has no body.** The body of each request is a batch,
    /// `{"observations": [...]}`, taken from the stream while sending; a preview reads
    /// nothing from the stream (it may be read only once), so `body` is `None` here
    /// although every request [`send`](Self::send) makes carries one. A batch size of 0
    /// is refused here as when sent.
    pub fn to_request(&self) -> Result<RequestPreview> {
        self.check()?;
        Ok(batch_request(&self.client).to_request()?)
    }

    fn check(&self) -> Result<()> {
        if self.batch_size == 0 {
            return Err(Error::invalid_request("the upload batch size must be at least 1"));
        }
        Ok(())
    }

    /// Uploads every observation of the stream. An observation without values or with a
    /// value JSON cannot carry (NaN, infinity) is refused before its batch is sent. When
    /// a batch fails after others were accepted, the error is
    /// [`SdsError::UploadIncomplete`] with the count accepted. Batches are retried like
    /// any idempotent request: uploading the same values at the same timestamps again
    /// writes the same data.
    pub async fn send(self) -> Result<UploadSummary> {
        self.check()?;
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
        let Upload {
            client,
            observations,
            batch_size,
        } = self;
        let mut observations = std::pin::pin!(observations);
        let mut batch = Vec::with_capacity(batch_size);
        let mut ended = false;
        while !ended {
            match observations.next().await {
                Some(observation) => {
                    if let Err(invalid) = observation.check() {
                        return Err(incomplete(summary, invalid));
                    }
                    batch.push(observation);
                    if batch.len() < batch_size {
                        continue;
                    }
                }
                None => ended = true,
            }
            if batch.is_empty() {
                continue;
            }
            let sent = batch_request(&client)
                .json(&UploadBody { observations: &batch })
                .send_buffered()
                .await;
            if let Err(failed) = sent {
                return Err(incomplete(summary, failed.into()));
            }
            summary.batches += 1;
            summary.observations += batch.len() as u64;
            batch.clear();
        }
        Ok(summary)
    }
}

/// The request of one batch, without its body.
fn batch_request(client: &Client) -> RequestBuilder {
    // Uploading the same values at the same timestamps again writes the same data.
    let request = client.http.post("data/upload").idempotent(true);
    Needs::manage().attach(request)
}

impl Client {
    /// Uploads observations from any stream (`futures::stream::iter(vec)` for a
    /// collection), in batches.
    pub fn upload<S: Stream<Item = UploadObservation> + Send>(&self, observations: S) -> Upload<S> {
        Upload {
            client: self.clone(),
            observations,
            batch_size: DEFAULT_UPLOAD_BATCH,
        }
    }
}

client_core::verbs! {
    impl[S: Stream<Item = UploadObservation> + Send] Upload<S> {
        error: Error;
        send: UploadSummary;
    }
}
