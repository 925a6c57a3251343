//! Values records as Arrow columns (feature `arrow`) and Parquet files (feature
//! `parquet`).
//!
//! [`RawRecord`], [`Record`] and [`CsvValue`] (one value of a wide CSV row) implement
//! [`Columnar`]: cut any iterator of them into batches with [`batches`], a stream with
//! [`batch_stream`], and write Parquet with `write_records_parquet`; a stored day
//! file (as [`Export::write_to`](crate::Export::write_to) or
//! [`ValuesQuery::write_to`](crate::ValuesQuery::write_to) stored it, in any
//! [`Format`]) becomes a Parquet file with `parquet_from_stored`.
//!
//! A day's records straight from the API, in batches of 10,000 rows:
//!
//! ```no_run
//! use preventos_client::columns::batch_stream;
//! use preventos_client::{Client, RawRecord, TryStreamExt};
//!
//! # async fn run(client: Client) -> Result<(), preventos_client::Error> {
//! let records = client
//!     .export("100", "site-ref", ["Velocity", "Depth"])
//!     .date(preventos_client::jiff::civil::date(2026, 5, 31))
//!     .time_zone("Europe/Helsinki")
//!     .records::<RawRecord>()
//!     .stream();
//! let mut batches = batch_stream(records, 10_000);
//! while let Some(batch) = batches.try_next().await? {
//!     println!("{} rows", batch.num_rows());
//! }
//! # Ok(()) }
//! ```
//!
//! # Schema
//!
//! One row per value (per record of NDJSON and JSON; per non-empty signal cell of a CSV
//! row), every record type the same:
//!
//! | column | Arrow type | nullable | what |
//! |---|---|---|---|
//! | `timestamp` | `Timestamp(Nanosecond, Some("UTC"))` | no | the record's instant, in UTC (the offset sent is not kept: the stored file has it) |
//! | `signal_id` | `Dictionary(Int32, Utf8)` | no | `signalId`; for CSV, the column's header |
//! | `value` | `Float64` | yes | the nearest `f64`; null for `null`, or a value that is not a number |
//! | `value_text` | `Utf8` | yes | the value's text as sent, when the `f64` does not hold it (below) |
//! | `extra` | `Utf8` | yes | the record's other members, as one JSON object (names and values as sent, in order); null when there are none, and always for CSV and [`CsvValue`] |
//!
//! Nanoseconds because the API's timestamps are RFC 3339 with any fraction of a second,
//! which `jiff` reads to the nanosecond; an instant outside 1677-09-21 to 2262-04-11
//! is an error, never a wrapped value.
//!
//! `value_text` follows the [exact-text rule](client_core::columns#the-exact-text-of-numbers):
//! set when the value's decimal value differs from that of the `f64`'s shortest
//! rendering (`0.1000000000000000055511151231257827`, `9007199254740993`, `1e400`), or
//! when the value is not a JSON number (a string, with its quotes: `"NaN"`; `true`);
//! null for `0.1`, `1.50`, `-0`. A CSV cell is read with the preset's decimal separator
//! (`0,42` is 0.42 and keeps no text); a cell that is not a number keeps its text as
//! written. A [`Record`] holds an `f64` already, so its `value_text` is always null:
//! read [`RawRecord`]s (or the stored file) to keep the server's digits.

#[cfg(feature = "parquet")]
use std::io::Write;

use client_core::DecodeOptions;
use client_core::columns::{
    DictionaryColumn, JsonObject, NumberColumns, TextColumn, TimestampColumn, record_batch,
    schema as schema_of,
};
use client_core::decode::{
    CsvRow, DecimalSeparator, JsonArrayDecoder, NdjsonDecoder, csv_row_decoder, decode_slice,
};
use jiff::Timestamp;

use crate::error::{Error, Result};
use crate::format::{CsvPreset, Format, csv_format_of};
use crate::raw_record::RawRecord;
use crate::record::Record;

pub use client_core::columns::{
    BatchBuilder, Batches, Columnar, DEFAULT_BATCH_ROWS, NumberCell, arrow_array, arrow_schema, batch_stream,
    batches, needs_text,
};
#[cfg(feature = "parquet")]
pub use client_core::columns::{parquet, write_parquet, write_records_parquet, writer_properties};

/// The schema of every batch of values (see [the table](self#schema)).
pub fn schema() -> arrow_schema::SchemaRef {
    let [value, value_text] = NumberColumns::fields("value", "value_text");
    schema_of(vec![
        TimestampColumn::field("timestamp", arrow_schema::TimeUnit::Nanosecond, false),
        DictionaryColumn::field("signal_id", false),
        value,
        value_text,
        TextColumn::field("extra", true),
    ])
}

/// One value of a wide CSV row (`timestamp;Velocity;Depth`): the row's timestamp, the
/// column's header as the signal, and the cell as written.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CsvValue {
    /// The row's timestamp (its first field).
    pub timestamp: Timestamp,
    /// The column's header.
    pub signal_id: String,
    /// The cell, as written.
    pub text: String,
    /// The decimal separator of the preset the body was written in.
    pub decimal: DecimalSeparator,
}

impl CsvValue {
    /// The values of a CSV row read with `preset` (`None`: the default format): one per
    /// column after the first (the timestamp), empty cells left out (a signal with no
    /// value at that time). A first field that is not an RFC 3339 instant is a
    /// `Decode` error.
    pub fn of_row(row: &CsvRow, preset: Option<&CsvPreset>) -> Result<Vec<CsvValue>> {
        let decimal = csv_format_of(preset).decimal;
        let (Some(first), Some(header)) = (row.fields().first(), row.header().get(1..)) else {
            return Err(Error::decode("a CSV values row without a timestamp field"));
        };
        let timestamp: Timestamp = first
            .trim()
            .parse()
            .map_err(|e| Error::decode(format!("CSV values row: `{first}` is not a timestamp: {e}")))?;
        Ok(header
            .iter()
            .zip(&row.fields()[1..])
            .filter(|(_, cell)| !cell.trim().is_empty())
            .map(|(signal, cell)| CsvValue {
                timestamp,
                signal_id: signal.clone(),
                text: cell.clone(),
                decimal,
            })
            .collect())
    }
}

/// The column builders of values batches: what [`Columnar::batch_builder`] gives for
/// [`RawRecord`], [`Record`] and [`CsvValue`].
#[derive(Debug)]
pub struct ValuesBuilder {
    schema: arrow_schema::SchemaRef,
    timestamp: TimestampColumn,
    signal_id: DictionaryColumn,
    value: NumberColumns,
    extra: TextColumn,
    rows: usize,
}

impl ValuesBuilder {
    fn new() -> Self {
        ValuesBuilder {
            schema: schema(),
            timestamp: TimestampColumn::nanoseconds(),
            signal_id: DictionaryColumn::new(),
            value: NumberColumns::new(),
            extra: TextColumn::new(),
            rows: 0,
        }
    }

    fn push(
        &mut self,
        at: Timestamp,
        signal_id: &str,
        value: &NumberCell,
        extra: Option<&str>,
    ) -> client_core::Result<()> {
        let at = self.timestamp.value_of(at)?;
        self.timestamp.append_value(Some(at));
        self.signal_id.append(Some(signal_id))?;
        self.value.append(value);
        self.extra.append(extra)?;
        self.rows += 1;
        Ok(())
    }

    fn finish_batch(&mut self) -> client_core::Result<arrow_array::RecordBatch> {
        self.rows = 0;
        let [value, value_text] = self.value.finish();
        record_batch(
            self.schema.clone(),
            vec![
                self.timestamp.finish(),
                self.signal_id.finish(),
                value,
                value_text,
                self.extra.finish(),
            ],
        )
    }
}

macro_rules! values_columnar {
    ($($record:ty),*) => {$(
        impl Columnar for $record {
            type Builder = ValuesBuilder;
            fn batch_builder() -> ValuesBuilder {
                ValuesBuilder::new()
            }
        }
    )*};
}

values_columnar!(RawRecord, Record, CsvValue);

impl BatchBuilder<RawRecord> for ValuesBuilder {
    fn schema(&self) -> arrow_schema::SchemaRef {
        self.schema.clone()
    }
    fn append(&mut self, record: &RawRecord) -> client_core::Result<()> {
        let mut members = JsonObject::parse(record.as_str())?;
        members.take("timestamp");
        members.take("signalId");
        let value = NumberCell::of_json(members.take("value"));
        self.push(
            record.timestamp(),
            record.signal_id(),
            &value,
            members.rest().as_deref(),
        )
    }
    fn rows(&self) -> usize {
        self.rows
    }
    fn finish(&mut self) -> client_core::Result<arrow_array::RecordBatch> {
        self.finish_batch()
    }
}

impl BatchBuilder<Record> for ValuesBuilder {
    fn schema(&self) -> arrow_schema::SchemaRef {
        self.schema.clone()
    }
    fn append(&mut self, record: &Record) -> client_core::Result<()> {
        let extra = if record.other.is_empty() {
            None
        } else {
            Some(
                serde_json::to_string(&record.other)
                    .map_err(|e| client_core::Error::decode(e.to_string()))?,
            )
        };
        let value = NumberCell::of_f64(record.value);
        self.push(record.timestamp, &record.signal_id, &value, extra.as_deref())
    }
    fn rows(&self) -> usize {
        self.rows
    }
    fn finish(&mut self) -> client_core::Result<arrow_array::RecordBatch> {
        self.finish_batch()
    }
}

impl BatchBuilder<CsvValue> for ValuesBuilder {
    fn schema(&self) -> arrow_schema::SchemaRef {
        self.schema.clone()
    }
    fn append(&mut self, value: &CsvValue) -> client_core::Result<()> {
        let cell = NumberCell::of_text(&value.text, value.decimal);
        self.push(value.timestamp, &value.signal_id, &cell, None)
    }
    fn rows(&self) -> usize {
        self.rows
    }
    fn finish(&mut self) -> client_core::Result<arrow_array::RecordBatch> {
        self.finish_batch()
    }
}

/// The first byte of `bytes` that is not JSON whitespace (or a byte-order mark).
fn first_token(bytes: &[u8]) -> Option<u8> {
    client_core::decode::skip_bom(bytes)
        .iter()
        .copied()
        .find(|b| !matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
}

/// The batches of a stored values file's bytes, as the server sent them in `format`
/// (with `preset` for CSV): NDJSON lines, the JSON document's `values` (or a bare
/// array), or CSV rows (a value per non-empty signal cell). Lazy: the bytes are decoded
/// a slice at a time, into batches of at most `batch_rows` rows. A record that does not
/// decode is the last item, an error; nothing is skipped.
pub fn batches_from_stored<'a>(
    bytes: &'a [u8],
    format: Format,
    preset: Option<&CsvPreset>,
    batch_rows: usize,
) -> Box<dyn Iterator<Item = Result<arrow_array::RecordBatch>> + 'a> {
    let options = DecodeOptions::default();
    match format {
        Format::Ndjson => Box::new(batches(
            decode_slice(bytes, NdjsonDecoder::<RawRecord>::new(options)).map(|r| r.map_err(Error::from)),
            batch_rows,
        )),
        Format::Json => {
            let key = (first_token(bytes) != Some(b'[')).then_some("values");
            Box::new(batches(
                decode_slice(bytes, JsonArrayDecoder::<RawRecord>::new(key, options))
                    .map(|r| r.map_err(Error::from)),
                batch_rows,
            ))
        }
        Format::Csv => {
            let preset = preset.cloned();
            let rows = decode_slice(bytes, csv_row_decoder(csv_format_of(preset.as_ref()), options));
            let values = rows.flat_map(move |row| {
                let values = row
                    .map_err(Error::from)
                    .and_then(|row| CsvValue::of_row(&row, preset.as_ref()));
                match values {
                    Ok(values) => values.into_iter().map(Ok).collect::<Vec<_>>(),
                    Err(e) => vec![Err(e)],
                }
            });
            Box::new(batches(values, batch_rows))
        }
    }
}

/// A stored values file's bytes (in `format`, with `preset` for CSV: what the export
/// stored) as one Parquet file written to `out`, in batches of `batch_rows` rows
/// ([`DEFAULT_BATCH_ROWS`] is a good size); returns the rows written. The schema is
/// [the module's](self#schema). A record that does not decode fails the call: the
/// Parquet file is then unfinished, to be discarded.
///
/// ```
/// use preventos_client::columns::{DEFAULT_BATCH_ROWS, parquet_from_stored};
/// use preventos_client::Format;
///
/// let day = b"{\"timestamp\":\"2026-05-31T00:00:00+03:00\",\"signalId\":\"Velocity\",\"value\":0.420}\n";
/// let mut parquet = Vec::new();
/// let rows = parquet_from_stored(day, Format::Ndjson, None, DEFAULT_BATCH_ROWS, &mut parquet)?;
/// assert_eq!(rows, 1);
/// assert!(parquet.starts_with(b"PAR1"));
/// # Ok::<(), preventos_client::Error>(())
/// ```
#[cfg(feature = "parquet")]
pub fn parquet_from_stored<W: Write + Send>(
    bytes: &[u8],
    format: Format,
    preset: Option<&CsvPreset>,
    batch_rows: usize,
    out: W,
) -> Result<u64> {
    write_parquet(
        schema(),
        batches_from_stored(bytes, format, preset, batch_rows),
        out,
    )
}
