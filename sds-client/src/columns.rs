//! Observations as Arrow columns (feature `arrow`) and Parquet files (feature
//! `parquet`).
//!
//! [`RawObservation`] and [`Observation`] implement [`Columnar`]: cut any iterator of
//! them into batches with [`batches`], a stream with [`batch_stream`], and write Parquet
//! with [`write_records_parquet`]; stored NDJSON observations (one [`RawObservation`] a
//! line, as `sds-export` writes them with the document's API) become a Parquet file
//! with [`parquet_from_stored`].
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
use client_core::decode::{NdjsonDecoder, decode_slice};

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
        self.extra.append(object.rest().as_deref());
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
        self.extra.append(extra.as_deref());
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
    let observations = decode_slice(
        bytes,
        NdjsonDecoder::<RawObservation>::new(DecodeOptions::default()),
    );
    batches(observations.map(|o| o.map_err(Error::from)), batch_rows)
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
