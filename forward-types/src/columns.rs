//! Measurement observations as Arrow columns (feature `arrow`) and Parquet files
//! (feature `parquet`), with exact decimals.
//!
//! One row per observation of a [`MeasurementMessage`], with its report's members:
//! [`ObservationRow`] implements [`Columnar`]; [`observation_rows`] makes the rows of
//! messages, [`batches`] cuts them into batches, `write_records_parquet` writes
//! Parquet, and `parquet_from_body` turns a forwarded request body (a JSON array of
//! messages, as [`decode_body`] reads it) into a Parquet file.
//!
//! The functions here return `client_core`'s [`Error`] (`Decode`
//! for a row that does not fit or a body that does not decode, `Io` for Parquet).
//!
//! # Schema
//!
//! | column | Arrow type | nullable | what |
//! |---|---|---|---|
//! | `report_hash_id` | `Dictionary(Int32, Utf8)` | no | the report's `hashId` |
//! | `environment_hash_id` | `Dictionary(Int32, Utf8)` | no | `environmentHashId` |
//! | `connectivity_environment_report_type_hash_id` | `Dictionary(Int32, Utf8)` | yes | |
//! | `monitoring_environment_report_type_hash_id` | `Dictionary(Int32, Utf8)` | yes | |
//! | `device_hash_id` | `Dictionary(Int32, Utf8)` | yes | |
//! | `device_identifier` | `Dictionary(Int32, Utf8)` | yes | the supplier's serial number |
//! | `location_hash_id` | `Dictionary(Int32, Utf8)` | yes | |
//! | `user_hash_id` | `Dictionary(Int32, Utf8)` | yes | |
//! | `report_generated_at` | `Timestamp(Nanosecond, Some("UTC"))` | no | the report's `generatedAt` |
//! | `report_created_at` | `Timestamp(Nanosecond, Some("UTC"))` | no | the report's `createdAt` |
//! | `attempt` | `Int64` | no | the delivery attempt |
//! | `connectivity_environment_quantity_hash_id` | `Dictionary(Int32, Utf8)` | yes | |
//! | `monitoring_environment_quantity_hash_id` | `Dictionary(Int32, Utf8)` | yes | |
//! | `port_hash_id` | `Dictionary(Int32, Utf8)` | yes | |
//! | `channel_index` | `Int64` | yes | |
//! | `significand` | `Int64` | no | the value's significand, exact |
//! | `order_of_magnitude` | `Int32` | no | its power of ten, exact: value = `significand * 10^order_of_magnitude` |
//! | `value` | `Float64` | no | the nearest `f64` ([`Decimal::to_f64`]) |
//! | `formatted_value` | `Utf8` | no | the platform's display text, as sent |
//! | `unit` | `Dictionary(Int32, Utf8)` | yes | |
//! | `generated_at` | `Timestamp(Nanosecond, Some("UTC"))` | no | the observation's `generatedAt` |
//! | `performance` | `Float64` | no | `performance` as an `f64` |
//! | `performance_text` | `Utf8` | yes | its text, when the `f64` does not hold it ([the rule](client_core::columns#the-exact-text-of-numbers)) |
//! | `device_fields`, `fields`, `location_fields` | `Utf8` | yes | those objects as JSON text; null when empty |
//!
//! **Exact decimals.** The value is kept as its two integers: `significand` (`Int64`,
//! any `i64`) and `order_of_magnitude` (`Int32`, -128 to 127, which the decoder
//! enforces), so every value a message that decodes can hold comes back exactly. A
//! `Decimal128` column would not do: its 38 digits at one scale per column cannot hold
//! both `9223372036854775807e127` and `1e-128`, which the decoder accepts.
//!
//! Nanoseconds because the decoder reads RFC 3339 to the nanosecond (the platform
//! writes milliseconds); an instant outside 1677-09-21 to 2262-04-11 is an error, never
//! a wrapped value. The messages' types drop members they do not know, so there is no
//! `extra` column; notification messages have no measurements and no rows here.

#[cfg(feature = "parquet")]
use std::io::Write;
use std::sync::Arc;

/// The error of this module's functions: `client_core`'s.
pub use client_core::Error;
use client_core::Result;
use client_core::columns::arrow_array::ArrayRef;
use client_core::columns::arrow_array::builder::{Float64Builder, Int32Builder, Int64Builder};
use client_core::columns::arrow_schema::{DataType, Field, TimeUnit};
use client_core::columns::{
    DictionaryColumn, NumberCell, NumberColumns, TextColumn, TimestampColumn, record_batch,
    schema as schema_of,
};
use client_core::decode::DecimalSeparator;
use serde_json::{Map, Value};

use crate::body::{ForwardMessage, decode_body};
use crate::decimal::Decimal;
use crate::measurement::{MeasurementMessage, MeasurementObservation};

pub use client_core::columns::{
    BatchBuilder, Batches, Columnar, DEFAULT_BATCH_ROWS, arrow_array, arrow_schema, batches, needs_text,
};
#[cfg(feature = "parquet")]
pub use client_core::columns::{parquet, write_parquet, write_records_parquet, writer_properties};

/// One observation of a measurement message, with the message it belongs to: one row.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ObservationRow {
    /// The message.
    pub message: Arc<MeasurementMessage>,
    /// The observation's index in [`MeasurementMessage::observations`].
    pub index: usize,
}

impl ObservationRow {
    /// The observation (`None` when `index` is past the message's observations).
    pub fn observation(&self) -> Option<&MeasurementObservation> {
        self.message.observations.get(self.index)
    }
}

/// The rows of `messages`: one per observation, in order.
pub fn observation_rows<I>(messages: I) -> impl Iterator<Item = ObservationRow>
where
    I: IntoIterator<Item = MeasurementMessage>,
{
    messages.into_iter().flat_map(|message| {
        let message = Arc::new(message);
        (0..message.observations.len()).map(move |index| ObservationRow {
            message: message.clone(),
            index,
        })
    })
}

/// The schema of every batch of observations (see [the table](self#schema)).
pub fn schema() -> arrow_schema::SchemaRef {
    let nanos = |name: &str| TimestampColumn::field(name, TimeUnit::Nanosecond, false);
    let [performance, performance_text] = NumberColumns::fields("performance", "performance_text");
    schema_of(vec![
        DictionaryColumn::field("report_hash_id", false),
        DictionaryColumn::field("environment_hash_id", false),
        DictionaryColumn::field("connectivity_environment_report_type_hash_id", true),
        DictionaryColumn::field("monitoring_environment_report_type_hash_id", true),
        DictionaryColumn::field("device_hash_id", true),
        DictionaryColumn::field("device_identifier", true),
        DictionaryColumn::field("location_hash_id", true),
        DictionaryColumn::field("user_hash_id", true),
        nanos("report_generated_at"),
        nanos("report_created_at"),
        Field::new("attempt", DataType::Int64, false),
        DictionaryColumn::field("connectivity_environment_quantity_hash_id", true),
        DictionaryColumn::field("monitoring_environment_quantity_hash_id", true),
        DictionaryColumn::field("port_hash_id", true),
        Field::new("channel_index", DataType::Int64, true),
        Field::new("significand", DataType::Int64, false),
        Field::new("order_of_magnitude", DataType::Int32, false),
        Field::new("value", DataType::Float64, false),
        TextColumn::field("formatted_value", false),
        DictionaryColumn::field("unit", true),
        nanos("generated_at"),
        performance.with_nullable(false),
        performance_text,
        TextColumn::field("device_fields", true),
        TextColumn::field("fields", true),
        TextColumn::field("location_fields", true),
    ])
}

/// The column builders of observation batches: what [`Columnar::batch_builder`] gives
/// for [`ObservationRow`].
#[derive(Debug)]
pub struct ObservationsBuilder {
    schema: arrow_schema::SchemaRef,
    /// The report's eight identifiers, in column order.
    report_ids: [DictionaryColumn; 8],
    report_generated_at: TimestampColumn,
    report_created_at: TimestampColumn,
    attempt: Int64Builder,
    /// The observation's three identifiers, in column order.
    observation_ids: [DictionaryColumn; 3],
    channel_index: Int64Builder,
    significand: Int64Builder,
    order_of_magnitude: Int32Builder,
    value: Float64Builder,
    formatted_value: TextColumn,
    unit: DictionaryColumn,
    generated_at: TimestampColumn,
    performance: NumberColumns,
    /// `deviceFields`, `fields`, `locationFields`.
    maps: [TextColumn; 3],
    rows: usize,
}

impl Columnar for ObservationRow {
    type Builder = ObservationsBuilder;
    fn batch_builder() -> ObservationsBuilder {
        ObservationsBuilder {
            schema: schema(),
            report_ids: Default::default(),
            report_generated_at: TimestampColumn::nanoseconds(),
            report_created_at: TimestampColumn::nanoseconds(),
            attempt: Int64Builder::new(),
            observation_ids: Default::default(),
            channel_index: Int64Builder::new(),
            significand: Int64Builder::new(),
            order_of_magnitude: Int32Builder::new(),
            value: Float64Builder::new(),
            formatted_value: TextColumn::new(),
            unit: DictionaryColumn::new(),
            generated_at: TimestampColumn::nanoseconds(),
            performance: NumberColumns::new(),
            maps: Default::default(),
            rows: 0,
        }
    }
}

/// A map as JSON text; `None` when empty.
fn json_of(map: &Map<String, Value>) -> Result<Option<String>> {
    if map.is_empty() {
        return Ok(None);
    }
    serde_json::to_string(map)
        .map(Some)
        .map_err(|e| Error::decode(format!("a message's fields as JSON: {e}")))
}

impl BatchBuilder<ObservationRow> for ObservationsBuilder {
    fn schema(&self) -> arrow_schema::SchemaRef {
        self.schema.clone()
    }

    fn append(&mut self, row: &ObservationRow) -> Result<()> {
        let message = &*row.message;
        let observation = row.observation().ok_or_else(|| {
            Error::decode(format!(
                "report {}: no observation {}",
                message.hash_id, row.index
            ))
        })?;
        // Everything that can fail first: a row is appended whole or not at all.
        let report_generated_at = self.report_generated_at.value_of(message.generated_at)?;
        let report_created_at = self.report_created_at.value_of(message.created_at)?;
        let generated_at = self.generated_at.value_of(observation.generated_at)?;
        let maps = [
            json_of(&message.device_fields)?,
            json_of(&message.fields)?,
            json_of(&message.location_fields)?,
        ];
        let report_ids = [
            Some(message.hash_id.as_str()),
            Some(message.environment_hash_id.as_str()),
            message.connectivity_environment_report_type_hash_id.as_deref(),
            message.monitoring_environment_report_type_hash_id.as_deref(),
            message.device_hash_id.as_deref(),
            message.device_identifier.as_deref(),
            message.location_hash_id.as_deref(),
            message.user_hash_id.as_deref(),
        ];
        for (column, id) in self.report_ids.iter_mut().zip(report_ids) {
            column.append(id)?;
        }
        self.report_generated_at.append_value(Some(report_generated_at));
        self.report_created_at.append_value(Some(report_created_at));
        self.attempt.append_value(i64::from(message.attempt));
        let observation_ids = [
            observation.connectivity_environment_quantity_hash_id.as_deref(),
            observation.monitoring_environment_quantity_hash_id.as_deref(),
            observation.port_hash_id.as_deref(),
        ];
        for (column, id) in self.observation_ids.iter_mut().zip(observation_ids) {
            column.append(id)?;
        }
        self.channel_index.append_option(observation.channel_index);
        self.significand.append_value(observation.significand);
        self.order_of_magnitude
            .append_value(observation.order_of_magnitude);
        self.value
            .append_value(Decimal::new(observation.significand, observation.order_of_magnitude).to_f64());
        self.formatted_value.append(Some(&observation.formatted_value))?;
        self.unit.append(observation.unit.as_deref())?;
        self.generated_at.append_value(Some(generated_at));
        let performance = observation.performance.to_string();
        self.performance
            .append(&NumberCell::of_text(&performance, DecimalSeparator::Point));
        for (column, map) in self.maps.iter_mut().zip(&maps) {
            column.append(map.as_deref())?;
        }
        self.rows += 1;
        Ok(())
    }

    fn rows(&self) -> usize {
        self.rows
    }

    fn finish(&mut self) -> Result<arrow_array::RecordBatch> {
        self.rows = 0;
        let mut columns: Vec<ArrayRef> = self.report_ids.iter_mut().map(DictionaryColumn::finish).collect();
        columns.push(self.report_generated_at.finish());
        columns.push(self.report_created_at.finish());
        columns.push(Arc::new(self.attempt.finish()));
        columns.extend(self.observation_ids.iter_mut().map(DictionaryColumn::finish));
        columns.push(Arc::new(self.channel_index.finish()));
        columns.push(Arc::new(self.significand.finish()));
        columns.push(Arc::new(self.order_of_magnitude.finish()));
        columns.push(Arc::new(self.value.finish()));
        columns.push(self.formatted_value.finish());
        columns.push(self.unit.finish());
        columns.push(self.generated_at.finish());
        columns.extend(self.performance.finish());
        columns.extend(self.maps.iter_mut().map(TextColumn::finish));
        record_batch(self.schema.clone(), columns)
    }
}

/// The measurement messages of a request body (a JSON array of messages, decoded by
/// [`decode_body`]; notification messages left out: they have no measurements).
fn measurements(body: &[u8]) -> Result<Vec<MeasurementMessage>> {
    let messages =
        decode_body(body).map_err(|e| Error::decode(format!("forwarded body: {e}")).with_source(e))?;
    Ok(messages
        .into_iter()
        .filter_map(|message| match message {
            ForwardMessage::Measurement(measurement) => Some(measurement),
            ForwardMessage::Notification(_) => None,
        })
        .collect())
}

/// The batches of the observations of a forwarded request body's measurement messages,
/// of at most `batch_rows` rows. A body that does not decode is an error.
pub fn batches_from_body(body: &[u8], batch_rows: usize) -> Result<Vec<arrow_array::RecordBatch>> {
    batches(observation_rows(measurements(body)?).map(Ok), batch_rows).collect()
}

/// The observations of a forwarded request body's measurement messages as one Parquet
/// file written to `out`, in batches of `batch_rows` rows; returns the rows written.
/// The schema is [the module's](self#schema).
#[cfg(feature = "parquet")]
pub fn parquet_from_body<W: Write + Send>(body: &[u8], batch_rows: usize, out: W) -> Result<u64> {
    write_records_parquet(observation_rows(measurements(body)?).map(Ok), batch_rows, out)
}
