//! The document's observations (`GET observations`): one metric of one sensor in one
//! unit over a range, page after page.

use std::marker::PhantomData;

use futures::StreamExt;
use jiff::{SignedDuration, Timestamp};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use client_core::RecordStream;

use crate::client::Client;
use crate::envelope::decode_error;
use crate::error::{Error, MicroPermission, Result, SdsError, map_error};
use crate::paging::{Fingerprint, Pager};
use crate::sensor::Selection;
use crate::time::{deserialize_epoch_ms, iso, serialize_epoch_ms};

/// One observation as the document shows it: `{"timestamp": 1676415254000, "value": 100.0}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Observation {
    /// When it was observed (sent as epoch milliseconds).
    #[serde(
        deserialize_with = "deserialize_epoch_ms",
        serialize_with = "serialize_epoch_ms"
    )]
    pub timestamp: Timestamp,
    /// The IEEE-754 double observed; `None` when the server sent `null`. The strings
    /// `"NaN"`, `"Infinity"` and `"-Infinity"` are read as those doubles.
    #[serde(deserialize_with = "deserialize_value", default)]
    pub value: Option<f64>,
    /// Members this version does not know, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

fn deserialize_value<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Wire {
        Number(f64),
        Text(String),
    }
    match Option::<Wire>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Wire::Number(value)) => Ok(Some(value)),
        Some(Wire::Text(text)) => match text.as_str() {
            "NaN" => Ok(Some(f64::NAN)),
            "Infinity" => Ok(Some(f64::INFINITY)),
            "-Infinity" => Ok(Some(f64::NEG_INFINITY)),
            _ => Err(serde::de::Error::custom(format!(
                "value `{text}` is not a number"
            ))),
        },
    }
}

/// An observation kept as the server's text, with its timestamp read: what a lossless
/// export writes. Decode it only from JSON text (as the queries do), not from a `Value`.
#[derive(Debug, Clone)]
pub struct RawObservation {
    timestamp: Timestamp,
    raw: Box<RawValue>,
}

impl RawObservation {
    /// When it was observed.
    pub fn timestamp(&self) -> Timestamp {
        self.timestamp
    }

    /// The observation's JSON text, exactly as the server sent it.
    pub fn as_str(&self) -> &str {
        self.raw.get()
    }
}

impl<'de> Deserialize<'de> for RawObservation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        let key: TimestampOnly = serde_json::from_str(raw.get()).map_err(serde::de::Error::custom)?;
        Ok(RawObservation {
            timestamp: key.timestamp,
            raw,
        })
    }
}

/// The one member the stream needs from any record type.
#[derive(Deserialize)]
struct TimestampOnly {
    #[serde(deserialize_with = "deserialize_epoch_ms")]
    timestamp: Timestamp,
}

/// One page as the server sent it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ObservationPage<T = Observation> {
    /// The 0-based page number asked for.
    pub page: u64,
    /// The page size asked for.
    pub requested_page_size: u32,
    /// `pageSize` as the server sent it.
    pub page_size: Option<u64>,
    /// `pageTotal` as the server sent it (pages or observations: the document does not
    /// say, and the stream does not need to know).
    pub page_total: Option<u64>,
    /// `metric` as sent.
    pub metric: Option<String>,
    /// `unit` as sent.
    pub unit: Option<String>,
    /// The observations, in the server's order, including any outside the range.
    pub observations: Vec<T>,
}

/// The page as read off the wire: observations kept as text until needed.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePage {
    #[serde(default)]
    page_size: Option<Value>,
    #[serde(default)]
    page_total: Option<Value>,
    #[serde(default)]
    metric: Option<String>,
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    observations: Vec<Box<RawValue>>,
}

/// A count the server may send as an integer or an integral float.
fn count(value: Option<&Value>) -> Option<u64> {
    let value = value?;
    value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && *f >= 0.0)
            .map(|f| f as u64)
    })
}

/// A page with each observation's timestamp read and its text kept.
struct KeyedPage {
    page: u64,
    requested_page_size: u32,
    page_size: Option<u64>,
    page_total: Option<u64>,
    metric: Option<String>,
    unit: Option<String>,
    observations: Vec<(Timestamp, Box<RawValue>)>,
}

/// `GET observations`: one metric of one sensor in one unit over `[from, to)`, built by
/// [`Client::observations`]. Generic over the record type: [`Observation`] by default,
/// [`RawObservation`] for the server's text, or your own type through
/// [`ObservationsQuery::records`].
#[must_use = "a query does nothing until it is streamed"]
pub struct ObservationsQuery<T = Observation> {
    client: Client,
    itwin_id: String,
    sensor_id: String,
    metric: Option<String>,
    unit: Option<String>,
    range: Option<(Timestamp, Timestamp)>,
    page_size: u32,
    record: PhantomData<fn() -> T>,
}

impl<T> Clone for ObservationsQuery<T> {
    fn clone(&self) -> Self {
        ObservationsQuery {
            client: self.client.clone(),
            itwin_id: self.itwin_id.clone(),
            sensor_id: self.sensor_id.clone(),
            metric: self.metric.clone(),
            unit: self.unit.clone(),
            range: self.range,
            page_size: self.page_size,
            record: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for ObservationsQuery<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObservationsQuery")
            .field("itwin_id", &self.itwin_id)
            .field("sensor_id", &self.sensor_id)
            .field("metric", &self.metric)
            .field("unit", &self.unit)
            .field("range", &self.range)
            .field("page_size", &self.page_size)
            .finish()
    }
}

impl Client {
    /// Observations of `sensor_id` in `itwin_id`; give the metric, the unit and the range
    /// before streaming.
    pub fn observations(
        &self,
        itwin_id: impl Into<String>,
        sensor_id: impl Into<String>,
    ) -> ObservationsQuery {
        ObservationsQuery {
            client: self.clone(),
            itwin_id: itwin_id.into(),
            sensor_id: sensor_id.into(),
            metric: None,
            unit: None,
            range: None,
            page_size: self.page_size,
            record: PhantomData,
        }
    }
}

impl<T: DeserializeOwned + Send + 'static> ObservationsQuery<T> {
    /// The metric (`metric`), a key of the sensor's `metricsAndUnits`.
    pub fn metric(mut self, metric: impl Into<String>) -> Self {
        self.metric = Some(metric.into());
        self
    }

    /// The unit (`unit`), one of the metric's units.
    pub fn unit(mut self, unit: impl Into<String>) -> Self {
        self.unit = Some(unit.into());
        self
    }

    /// The metric and unit picked with [`crate::Sensor::pick`].
    pub fn selection(self, selection: &Selection<'_>) -> Self {
        self.metric(selection.metric.metric.clone())
            .unit(selection.unit.unit.clone())
    }

    /// The half-open range `[from, to)`. Whatever the server makes of the ends of
    /// `startDate` and `endDate`, the stream holds exactly the observations in the range:
    /// it asks from one millisecond before `from` and trims.
    pub fn range(mut self, from: Timestamp, to: Timestamp) -> Self {
        self.range = Some((from, to));
        self
    }

    /// The page size to ask for (default the client's, 10,000).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size;
        self
    }

    /// Decodes observations into `U` instead.
    pub fn records<U: DeserializeOwned + Send + 'static>(self) -> ObservationsQuery<U> {
        ObservationsQuery {
            client: self.client,
            itwin_id: self.itwin_id,
            sensor_id: self.sensor_id,
            metric: self.metric,
            unit: self.unit,
            range: self.range,
            page_size: self.page_size,
            record: PhantomData,
        }
    }

    /// Every page as the server sent it (observations outside the range included), in
    /// page order, until the last (see the crate docs on paging).
    pub fn pages(self) -> RecordStream<ObservationPage<T>, Error> {
        let keyed = self.keyed_pages();
        RecordStream::new(keyed.map(|page| {
            let page = page?;
            let observations = page
                .observations
                .iter()
                .map(|(_, raw)| decode_record::<T>(raw))
                .collect::<Result<Vec<T>>>()?;
            Ok(ObservationPage {
                page: page.page,
                requested_page_size: page.requested_page_size,
                page_size: page.page_size,
                page_total: page.page_total,
                metric: page.metric,
                unit: page.unit,
                observations,
            })
        }))
    }

    /// Every observation in `[from, to)`, in time order, each once: observations outside
    /// the range are trimmed, an observation repeated across a page boundary is yielded
    /// once, and one that goes back in time is [`SdsError::OutOfOrder`] (never dropped).
    pub fn stream(self) -> RecordStream<T, Error> {
        let checked = self.check();
        let mut pages = self.keyed_pages();
        RecordStream::new(async_stream::try_stream! {
            let (_, _, from, to) = checked?;
            let mut last: Option<(Timestamp, Box<RawValue>)> = None;
            while let Some(page) = pages.next().await {
                for (timestamp, raw) in page?.observations {
                    if timestamp < from || timestamp >= to {
                        continue;
                    }
                    if let Some((previous, previous_raw)) = &last {
                        if timestamp < *previous {
                            Err(Error::Api(SdsError::OutOfOrder { previous: *previous, got: timestamp }))?;
                        }
                        if timestamp == *previous && raw.get() == previous_raw.get() {
                            continue;
                        }
                    }
                    let record = decode_record::<T>(&raw)?;
                    last = Some((timestamp, raw));
                    yield record;
                }
            }
        })
    }

    fn check(&self) -> Result<(String, String, Timestamp, Timestamp)> {
        let (Some(metric), Some(unit)) = (&self.metric, &self.unit) else {
            return Err(Error::invalid_request(
                "an observations query needs a metric and a unit",
            ));
        };
        let Some((from, to)) = self.range else {
            return Err(Error::invalid_request("an observations query needs a range"));
        };
        if from >= to {
            return Err(Error::invalid_request(format!(
                "the range is empty: {from} is not before {to}"
            )));
        }
        if self.page_size == 0 {
            return Err(Error::invalid_request("the page size must be at least 1"));
        }
        Ok((metric.clone(), unit.clone(), from, to))
    }

    fn keyed_pages(self) -> RecordStream<KeyedPage, Error> {
        RecordStream::new(async_stream::try_stream! {
            let (metric, unit, from, to) = self.check()?;
            let start = iso(from - SignedDuration::from_millis(1));
            let end = iso(to);
            let mut pager = Pager::new(self.page_size);
            while let Some((page, size)) = pager.next_request() {
                let wire: WirePage = self
                    .client
                    .http
                    .get("observations")
                    .query("iTwinId", &self.itwin_id)
                    .query("sensorId", &self.sensor_id)
                    .query("metric", &metric)
                    .query("unit", &unit)
                    .query("startDate", &start)
                    .query("endDate", &end)
                    .query("page", page.to_string())
                    .query("pageSize", size.to_string())
                    .json_response()
                    .await
                    .map_err(|e| map_error(e, MicroPermission::SensorDataRead, Some(&self.itwin_id)))?;
                let texts: Vec<&str> = wire.observations.iter().map(|raw| raw.get()).collect();
                let fingerprint = Fingerprint::of(&texts);
                let page_total = count(wire.page_total.as_ref());
                pager.accept(texts.len(), fingerprint, page_total).map_err(Error::Api)?;
                let mut observations = Vec::with_capacity(wire.observations.len());
                for (index, raw) in wire.observations.into_iter().enumerate() {
                    let key: TimestampOnly = serde_json::from_str(raw.get())
                        .map_err(|e| decode_error(format!("observations page {page}, item {index}: {e}")))?;
                    observations.push((key.timestamp, raw));
                }
                yield KeyedPage {
                    page,
                    requested_page_size: size,
                    page_size: count(wire.page_size.as_ref()),
                    page_total,
                    metric: wire.metric,
                    unit: wire.unit,
                    observations,
                };
            }
        })
    }
}

fn decode_record<T: DeserializeOwned>(raw: &RawValue) -> Result<T> {
    serde_json::from_str(raw.get()).map_err(|e| decode_error(format!("observation {}: {e}", raw.get())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documents_observation_decodes() {
        let o: Observation =
            serde_json::from_str(r#"{"timestamp":1676415254000,"value":100.0,"quality":"good"}"#).unwrap();
        assert_eq!(
            o.timestamp,
            Timestamp::from_millisecond(1_676_415_254_000).unwrap()
        );
        assert_eq!(o.value, Some(100.0));
        assert_eq!(o.other["quality"], "good");
        let back = serde_json::to_string(&o).unwrap();
        assert_eq!(
            back,
            r#"{"timestamp":1676415254000,"value":100.0,"quality":"good"}"#
        );
        let null: Observation = serde_json::from_str(r#"{"timestamp":1,"value":null}"#).unwrap();
        assert_eq!(null.value, None);
        let nan: Observation = serde_json::from_str(r#"{"timestamp":1,"value":"NaN"}"#).unwrap();
        assert!(nan.value.unwrap().is_nan());
        assert!(serde_json::from_str::<Observation>(r#"{"timestamp":1,"value":"high"}"#).is_err());
    }

    #[test]
    fn a_raw_observation_keeps_the_servers_text() {
        let text = r#"{ "value" : 1.50, "timestamp" : 1676415254000 }"#;
        let raw: RawObservation = serde_json::from_str(text).unwrap();
        assert_eq!(raw.as_str(), text);
        assert_eq!(raw.timestamp().as_millisecond(), 1_676_415_254_000);
    }
}
