//! Observations as Arrow columns (feature `arrow`) and Parquet files (feature
//! `parquet`).
//!
//! [`RawObservation`] and [`Observation`] implement [`Columnar`]: cut any iterator of
//! them into batches with [`batches`], a stream with [`batch_stream`], and write Parquet
//! with `write_records_parquet`; stored NDJSON observations (one [`RawObservation`] a
//! line, as `sds-export` writes them with the document's API) become a Parquet file
//! with `parquet_from_stored`.
//!
//! # Schema
//!
//! One row per observation:
//!
//! | column | Arrow type | nullable | what |
//! |---|---|---|---|
//! | `timestamp` | `Timestamp(Microsecond, Some("UTC"))` | no | `timestamp` (epoch milliseconds on the wire) |
//! | `value` | `Float64` | yes | the nearest `f64`; null for `null` or a value that is not a number |
//! | `value_text` | `Utf8` | yes | the value's text as sent, when the `f64` does not hold it (below) |
//! | `extra` | `Utf8` | yes | the other members, as one JSON object (names and values as sent, in order); null when there are none |
//!
//! Microseconds: the API's instants are whole milliseconds, and microseconds hold any
//! instant `jiff` does. A `timestamp` written otherwise than as its integer milliseconds
//! (`1676415254000.0`) is in the column all the same and is also kept, as sent, in
//! `extra`. An observation carries no sensor, metric or unit: the query that read it
//! names them (one file per sensor, metric and unit, as `sds-export` writes).
//!
//! # Data query schema
//!
//! The data query (`POST data/observations`) has its own rows, [`DataValue`]s: one per
//! metric of a timestamp. [`DataValue::of_point`] makes them of a
//! [`DataPoint`]`<Box<RawValue>>` (`query_data(..).values_as::<Box<RawValue>>()`), and
//! `parquet_from_stored_data` reads stored lines of either shape:
//! `{"timestamp":"<key>","values":{"<metric>":<value>,..}}` (what
//! [`DataQuery::write_to`](crate::DataQuery::write_to) stores: one row per metric) and
//! `{"timestamp":"<key>","value":<value>}` (what `sds-export --api data` stores for its
//! one metric: one row, `metric` null).
//!
//! | column | Arrow type | nullable | what |
//! |---|---|---|---|
//! | `timestamp` | `Timestamp(Nanosecond, Some("UTC"))` | no | the key, an ISO 8601 instant (its text is not kept: the stored file has it) |
//! | `metric` | `Dictionary(Int32, Utf8)` | yes | the metric's name; null for `value` lines |
//! | `value` | `Float64` | yes | as above |
//! | `value_text` | `Utf8` | yes | as above |
//! | `extra` | `Utf8` | yes | the line's other members, as one JSON object; null when there are none |
//!
//! Nanoseconds because the keys are ISO 8601 text, with any fraction of a second; an
//! instant outside 1677-09-21 to 2262-04-11 is an error.
//!
//! # Numbers
//!
//! `value_text` follows the
//! [exact-text rule](client_core::columns#the-exact-text-of-numbers): set when the
//! value's decimal value differs from that of the `f64`'s shortest rendering
//! (`0.1000000000000000055511151231257827`, `9007199254740993`, `1e400`), or when it
//! is not a JSON number (a string, with its quotes: `"NaN"` (value NaN), `"high"`
//! (value null)); null for `100.0`, `-0`. An [`Observation`] holds an `f64` already, so
//! its `value_text` is always null: read [`RawObservation`]s (or the stored lines) to
//! keep the server's digits.

#[cfg(feature = "parquet")]
use std::io::Write;

use client_core::DecodeOptions;
use client_core::columns::{
    JsonObject, NumberColumns, TextColumn, TimestampColumn, record_batch, schema as schema_of,
};

use client_core::columns::DictionaryColumn;
use client_core::decode::{NdjsonDecoder, decode_slice};
use jiff::Timestamp;
use serde_json::value::RawValue;

use crate::data_query::DataPoint;
use crate::error::{Error, Result};
use crate::observations::{Observation, RawObservation};

pub use client_core::columns::{
    BatchBuilder, Batches, Columnar, DEFAULT_BATCH_ROWS, NumberCell, arrow_array, arrow_schema, batch_stream,
    batches, needs_text,
};
#[cfg(feature = "parquet")]
pub use client_core::columns::{parquet, write_parquet, write_records_parquet, writer_properties};

/// The schema of every batch of observations (see [the table](self#schema)).
pub fn schema() -> arrow_schema::SchemaRef {
    let [value, value_text] = NumberColumns::fields("value", "value_text");
    schema_of(vec![
        TimestampColumn::field("timestamp", arrow_schema::TimeUnit::Microsecond, false),
        value,
        value_text,
        TextColumn::field("extra", true),
    ])
}

/// The column builders of observation batches: what [`Columnar::batch_builder`] gives
/// for [`RawObservation`] and [`Observation`].
#[derive(Debug)]
pub struct ObservationsBuilder {
    schema: arrow_schema::SchemaRef,
    timestamp: TimestampColumn,
    value: NumberColumns,
    extra: TextColumn,
    rows: usize,
}

impl ObservationsBuilder {
    fn new() -> Self {
        ObservationsBuilder {
            schema: schema(),
            timestamp: TimestampColumn::microseconds(),
            value: NumberColumns::new(),
            extra: TextColumn::new(),
            rows: 0,
        }
    }
}

impl Columnar for RawObservation {
    type Builder = ObservationsBuilder;
    fn batch_builder() -> ObservationsBuilder {
        ObservationsBuilder::new()
    }
}

impl Columnar for Observation {
    type Builder = ObservationsBuilder;
    fn batch_builder() -> ObservationsBuilder {
        ObservationsBuilder::new()
    }
}

impl BatchBuilder<RawObservation> for ObservationsBuilder {
    fn schema(&self) -> arrow_schema::SchemaRef {
        self.schema.clone()
    }

    fn append(&mut self, observation: &RawObservation) -> client_core::Result<()> {
        let mut object = JsonObject::parse(observation.as_str())?;
        let at = self.timestamp.value_of(observation.timestamp())?;
        let millis = observation.timestamp().as_millisecond().to_string();
        object.take_if_rendered("timestamp", Some(&millis));
        let value = NumberCell::of_json(object.take("value"));
        self.timestamp.append_value(Some(at));
        self.value.append(&value);
        self.extra.append(object.rest().as_deref())?;
        self.rows += 1;
        Ok(())
    }

    fn rows(&self) -> usize {
        self.rows
    }

    fn finish(&mut self) -> client_core::Result<arrow_array::RecordBatch> {
        self.rows = 0;
        let [value, value_text] = self.value.finish();
        record_batch(
            self.schema.clone(),
            vec![self.timestamp.finish(), value, value_text, self.extra.finish()],
        )
    }
}

impl BatchBuilder<Observation> for ObservationsBuilder {
    fn schema(&self) -> arrow_schema::SchemaRef {
        self.schema.clone()
    }

    /// The observation's instant, its `f64` (NaN and infinities included; no text) and
    /// its other members as one JSON object (ordered by name, as `serde_json` keeps them).
    fn append(&mut self, observation: &Observation) -> client_core::Result<()> {
        let at = self.timestamp.value_of(observation.timestamp)?;
        let extra =
            if observation.other.is_empty() {
                None
            } else {
                Some(serde_json::to_string(&observation.other).map_err(|e| {
                    client_core::Error::decode(format!("an observation's members as JSON: {e}"))
                })?)
            };
        self.timestamp.append_value(Some(at));
        self.value.append(&NumberCell::of_f64(observation.value));
        self.extra.append(extra.as_deref())?;
        self.rows += 1;
        Ok(())
    }

    fn rows(&self) -> usize {
        self.rows
    }

    fn finish(&mut self) -> client_core::Result<arrow_array::RecordBatch> {
        BatchBuilder::<RawObservation>::finish(self)
    }
}

/// The batches of stored NDJSON observations (one [`RawObservation`] a line, as the
/// server sent it), of at most `batch_rows` rows. Lazy: the bytes are decoded a slice
/// at a time. A line that does not decode is the last item, an error; nothing is
/// skipped.
pub fn batches_from_stored(
    bytes: &[u8],
    batch_rows: usize,
) -> impl Iterator<Item = Result<arrow_array::RecordBatch>> + '_ {
    client_core::columns::ndjson_batches::<RawObservation, Error>(bytes, batch_rows)
}

/// Stored NDJSON observations as one Parquet file written to `out`, in batches of
/// `batch_rows` rows ([`DEFAULT_BATCH_ROWS`] is a good size); returns the rows written.
/// The schema is [the module's](self#schema). A line that does not decode fails the
/// call: the Parquet file is then unfinished, to be discarded.
///
/// ```
/// use sds_client::columns::{DEFAULT_BATCH_ROWS, parquet_from_stored};
///
/// let lines = b"{\"timestamp\":1676415254000,\"value\":1.50}\n";
/// let mut parquet = Vec::new();
/// assert_eq!(parquet_from_stored(lines, DEFAULT_BATCH_ROWS, &mut parquet)?, 1);
/// # Ok::<(), sds_client::Error>(())
/// ```
#[cfg(feature = "parquet")]
pub fn parquet_from_stored<W: Write + Send>(bytes: &[u8], batch_rows: usize, out: W) -> Result<u64> {
    write_parquet(schema(), batches_from_stored(bytes, batch_rows), out)
}

/// The schema of every batch of [`DataValue`]s (see [the table](self#data-query-schema)).
pub fn data_schema() -> arrow_schema::SchemaRef {
    let [value, value_text] = NumberColumns::fields("value", "value_text");
    schema_of(vec![
        TimestampColumn::field("timestamp", arrow_schema::TimeUnit::Nanosecond, false),
        DictionaryColumn::field("metric", true),
        value,
        value_text,
        TextColumn::field("extra", true),
    ])
}

/// One value of the data query: a timestamp, a metric (if the line names it) and the
/// value's JSON text as sent. One row of [the data query schema](self#data-query-schema).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct DataValue {
    /// The instant of the key.
    pub timestamp: Timestamp,
    /// The metric's name; `None` for a `{"timestamp","value"}` line.
    pub metric: Option<String>,
    /// The value's JSON text as sent.
    pub value: Box<RawValue>,
    /// The line's other members, as one JSON object text.
    pub extra: Option<String>,
}

impl DataValue {
    /// The values of a point read with `values_as::<Box<RawValue>>()`: one per member
    /// of its metric object, in the order sent. A `values` that is not a JSON object is
    /// a `Decode` error.
    pub fn of_point(point: &DataPoint<Box<RawValue>>) -> Result<Vec<DataValue>> {
        let metrics = JsonObject::parse(point.values.get())
            .map_err(|e| Error::decode(format!("data at {}: {e}", point.timestamp_text)))?;
        Ok(metrics
            .members()
            .map(|(metric, value)| DataValue {
                timestamp: point.timestamp,
                metric: Some(metric.to_owned()),
                value: value.to_owned(),
                extra: None,
            })
            .collect())
    }

    /// The values of one stored line: `{"timestamp":"<key>","values":{..}}` (one per
    /// metric) or `{"timestamp":"<key>","value":<v>}` (one, without a metric); other
    /// members go to `extra`. A line with neither, or a key that is not an instant, is
    /// a `Decode` error.
    pub fn of_line(line: &str) -> Result<Vec<DataValue>> {
        let mut object = JsonObject::parse(line)?;
        let key = object
            .take_str("timestamp")?
            .ok_or_else(|| Error::decode(format!("data line without a timestamp: {line}")))?;
        let timestamp: Timestamp = key
            .parse()
            .map_err(|e| Error::decode(format!("data key `{key}` is not an ISO 8601 timestamp: {e}")))?;
        if let Some(values) = object.take("values") {
            let extra = object.rest();
            let metrics = JsonObject::parse(values.get())?;
            return Ok(metrics
                .members()
                .map(|(metric, value)| DataValue {
                    timestamp,
                    metric: Some(metric.to_owned()),
                    value: value.to_owned(),
                    extra: extra.clone(),
                })
                .collect());
        }
        let value = object
            .take("value")
            .ok_or_else(|| Error::decode(format!("data line without `values` or `value`: {line}")))?;
        Ok(vec![DataValue {
            timestamp,
            metric: None,
            value: value.to_owned(),
            extra: object.rest(),
        }])
    }
}

/// The column builders of [`DataValue`] batches.
#[derive(Debug)]
pub struct DataValuesBuilder {
    schema: arrow_schema::SchemaRef,
    timestamp: TimestampColumn,
    metric: DictionaryColumn,
    value: NumberColumns,
    extra: TextColumn,
    rows: usize,
}

impl Columnar for DataValue {
    type Builder = DataValuesBuilder;
    fn batch_builder() -> DataValuesBuilder {
        DataValuesBuilder {
            schema: data_schema(),
            timestamp: TimestampColumn::nanoseconds(),
            metric: DictionaryColumn::new(),
            value: NumberColumns::new(),
            extra: TextColumn::new(),
            rows: 0,
        }
    }
}

impl BatchBuilder<DataValue> for DataValuesBuilder {
    fn schema(&self) -> arrow_schema::SchemaRef {
        self.schema.clone()
    }

    fn append(&mut self, value: &DataValue) -> client_core::Result<()> {
        let at = self.timestamp.value_of(value.timestamp)?;
        self.timestamp.append_value(Some(at));
        self.metric.append(value.metric.as_deref())?;
        self.value.append(&NumberCell::of_json(Some(&value.value)));
        self.extra.append(value.extra.as_deref())?;
        self.rows += 1;
        Ok(())
    }

    fn rows(&self) -> usize {
        self.rows
    }

    fn finish(&mut self) -> client_core::Result<arrow_array::RecordBatch> {
        self.rows = 0;
        let [value, value_text] = self.value.finish();
        record_batch(
            self.schema.clone(),
            vec![
                self.timestamp.finish(),
                self.metric.finish(),
                value,
                value_text,
                self.extra.finish(),
            ],
        )
    }
}

/// The batches of stored data-query lines (either shape, see
/// [the schema](self#data-query-schema)), of at most `batch_rows` rows. Lazy; a line
/// that does not decode is the last item, an error.
pub fn batches_from_stored_data(
    bytes: &[u8],
    batch_rows: usize,
) -> impl Iterator<Item = Result<arrow_array::RecordBatch>> + '_ {
    let lines = decode_slice(
        bytes,
        NdjsonDecoder::<Box<RawValue>>::new(DecodeOptions::default()),
    );
    let values = lines.flat_map(|line| {
        match line
            .map_err(Error::from)
            .and_then(|line| DataValue::of_line(line.get()))
        {
            Ok(values) => values.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(e) => vec![Err(e)],
        }
    });
    batches(values, batch_rows)
}

/// Stored data-query lines as one Parquet file written to `out`, in batches of
/// `batch_rows` rows; returns the rows written (a row per value). The schema is
/// [`data_schema`].
#[cfg(feature = "parquet")]
pub fn parquet_from_stored_data<W: Write + Send>(bytes: &[u8], batch_rows: usize, out: W) -> Result<u64> {
    write_parquet(data_schema(), batches_from_stored_data(bytes, batch_rows), out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_points_metrics_become_values_in_the_order_sent() {
        let point = DataPoint {
            timestamp: "2025-01-01T00:00:00Z".parse().unwrap(),
            timestamp_text: "2025-01-01T00:00:00Z".to_owned(),
            values: RawValue::from_string(r#"{"T":4.20,"f":1e400}"#.to_owned()).unwrap(),
        };
        let values = DataValue::of_point(&point).unwrap();
        let shown: Vec<(Option<&str>, &str)> = values
            .iter()
            .map(|v| (v.metric.as_deref(), v.value.get()))
            .collect();
        assert_eq!(shown, [(Some("T"), "4.20"), (Some("f"), "1e400")]);
        let batch = batches(values.into_iter().map(Ok::<_, Error>), 10)
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(batch.num_rows(), 2);
        assert_eq!(batch.schema(), data_schema());
    }
}
