//! Datapoints as Arrow columns (feature `arrow`) and Parquet files (feature `parquet`).
//!
//! [`RawDatapoint`] and [`Datapoint`] implement [`Columnar`]: cut any iterator of them
//! into batches with [`batches`], a stream with [`batch_stream`], and write Parquet with
//! `write_records_parquet`; stored NDJSON datapoints (one [`RawDatapoint`] per line,
//! as `conduit-export --format ndjson` writes them) become a Parquet file with
//! `parquet_from_stored`.
//!
//! # Schema
//!
//! One row per datapoint; every column is nullable, since the document makes every
//! attribute optional:
//!
//! | column | Arrow type | what |
//! |---|---|---|
//! | `val_date` | `Timestamp(Microsecond, Some("UTC"))` | `val_date` (epoch seconds on the wire, read as [`RawDatapoint::val_date`] reads it) |
//! | `dev_netid` | `Dictionary(Int32, Utf8)` | the network id, a string or a number's digits |
//! | `dev_chid` | `Int64` | the channel |
//! | `val_raw`, `val_raw_text` | `Float64`, `Utf8` | the raw value and its exact text (below) |
//! | `val_calibrated`, `val_calibrated_text` | `Float64`, `Utf8` | the calibrated value |
//! | `val_cal`, `val_cal_text` | `Float64`, `Utf8` | calibration factor |
//! | `val_offset`, `val_offset_text` | `Float64`, `Utf8` | calibration offset |
//! | `val_type`, `dev_tag`, `dev_site`, `dev_type`, `dev_label`, `dev_category`, `dev_powersource`, `dev_manufacturer`, `dev_supplier`, `dev_model`, `dev_serial`, `dev_network` | `Dictionary(Int32, Utf8)` | the attributes of that name, strings |
//! | `val_description` | `Utf8` | the channel's description |
//! | `dev_error` | `Int64` | device error flag |
//! | `loc_lat`, `loc_lat_text`, `loc_lng`, `loc_lng_text` | `Float64`, `Utf8` | the location |
//! | `extra` | `Utf8` | every other attribute, as one JSON object (names and values as sent, in order); null when there is none |
//!
//! Microseconds: the API's instants are whole epoch seconds, and microseconds hold any
//! instant `jiff` does. A value of another kind than its column's is not lost: it stays
//! in `extra` as sent, and its column is null (`dev_chid` written `"2"` or `2.0`, a
//! `dev_site` written as a number, `val_date` written as text or with a fraction (the
//! column has the instant read from it all the same)). `dev_netid` and `dev_chid` are
//! read leniently, as [`RawDatapoint`] reads them: their column holds the value, and
//! `extra` keeps the member when its text is not the column's rendering.
//!
//! The `_text` columns follow the
//! [exact-text rule](client_core::columns#the-exact-text-of-numbers): set when the
//! value's decimal value differs from that of the `f64`'s shortest rendering
//! (`0.1000000000000000055511151231257827`, `9007199254740993`, `1e400`) or when it is
//! not a JSON number (a string, with its quotes: `"4.10"`); null for `4.10`, `-0`. A
//! [`Datapoint`] holds `f64`s already, so its `_text` columns are null: read
//! [`RawDatapoint`]s (or the stored lines) to keep the server's digits.
//!
//! The example's CSV export (`conduit-export --format csv`) is a format of that program
//! (columns it chose, `other_attributes`), not the server's: this module reads the
//! NDJSON lines.

#[cfg(feature = "parquet")]
use std::io::Write;

use client_core::columns::{
    JsonObject, Member, MemberColumns, TextColumn, TimestampColumn, record_batch, schema as schema_of,
};

use crate::datapoints::{Datapoint, RawDatapoint};
use crate::error::{Error, Result};

pub use client_core::columns::{
    BatchBuilder, Batches, Columnar, DEFAULT_BATCH_ROWS, NumberCell, arrow_array, arrow_schema, batch_stream,
    batches, needs_text,
};
#[cfg(feature = "parquet")]
pub use client_core::columns::{parquet, write_parquet, write_records_parquet, writer_properties};

/// The attributes after `val_date`, `dev_netid` and `dev_chid`, in column order.
const MEMBERS: &[(&str, Member)] = &[
    ("val_raw", Member::Number),
    ("val_calibrated", Member::Number),
    ("val_cal", Member::Number),
    ("val_offset", Member::Number),
    ("val_type", Member::Dictionary),
    ("val_description", Member::Text),
    ("dev_tag", Member::Dictionary),
    ("dev_site", Member::Dictionary),
    ("dev_error", Member::Integer),
    ("dev_type", Member::Dictionary),
    ("dev_label", Member::Dictionary),
    ("dev_category", Member::Dictionary),
    ("dev_powersource", Member::Dictionary),
    ("dev_manufacturer", Member::Dictionary),
    ("dev_supplier", Member::Dictionary),
    ("dev_model", Member::Dictionary),
    ("dev_serial", Member::Dictionary),
    ("dev_network", Member::Dictionary),
    ("loc_lat", Member::Number),
    ("loc_lng", Member::Number),
];

/// The schema of every batch of datapoints (see [the table](self#schema)).
pub fn schema() -> arrow_schema::SchemaRef {
    let mut fields = vec![
        TimestampColumn::field("val_date", arrow_schema::TimeUnit::Microsecond, true),
        client_core::columns::DictionaryColumn::field("dev_netid", true),
        arrow_schema::Field::new("dev_chid", arrow_schema::DataType::Int64, true),
    ];
    fields.extend(MemberColumns::fields(MEMBERS));
    fields.push(TextColumn::field("extra", true));
    schema_of(fields)
}

/// The column builders of datapoint batches: what [`Columnar::batch_builder`] gives for
/// [`RawDatapoint`] and [`Datapoint`].
#[derive(Debug)]
pub struct DatapointsBuilder {
    schema: arrow_schema::SchemaRef,
    val_date: TimestampColumn,
    dev_netid: client_core::columns::DictionaryColumn,
    dev_chid: arrow_array::builder::Int64Builder,
    members: MemberColumns,
    extra: TextColumn,
    rows: usize,
}

impl Columnar for RawDatapoint {
    type Builder = DatapointsBuilder;
    fn batch_builder() -> DatapointsBuilder {
        DatapointsBuilder::new()
    }
}

impl Columnar for Datapoint {
    type Builder = DatapointsBuilder;
    fn batch_builder() -> DatapointsBuilder {
        DatapointsBuilder::new()
    }
}

impl DatapointsBuilder {
    fn new() -> Self {
        DatapointsBuilder {
            schema: schema(),
            val_date: TimestampColumn::microseconds(),
            dev_netid: client_core::columns::DictionaryColumn::new(),
            dev_chid: arrow_array::builder::Int64Builder::new(),
            members: MemberColumns::new(MEMBERS),
            extra: TextColumn::new(),
            rows: 0,
        }
    }
}

impl BatchBuilder<RawDatapoint> for DatapointsBuilder {
    fn schema(&self) -> arrow_schema::SchemaRef {
        self.schema.clone()
    }

    fn append(&mut self, point: &RawDatapoint) -> client_core::Result<()> {
        let mut object = JsonObject::parse(point.as_str())?;
        let val_date = point
            .val_date()
            .map(|at| self.val_date.value_of(at))
            .transpose()?;
        let seconds = point.val_date().map(|at| at.as_second().to_string());
        object.take_if_rendered("val_date", seconds.as_deref());
        let netid_json = point
            .dev_netid()
            .map(|id| serde_json::to_string(id).unwrap_or_default());
        object.take_if_rendered("dev_netid", netid_json.as_deref());
        let chid = point.dev_chid().map(|c| c.to_string());
        object.take_if_rendered("dev_chid", chid.as_deref());
        self.val_date.append_value(val_date);
        self.dev_netid.append(point.dev_netid())?;
        self.dev_chid.append_option(point.dev_chid());
        self.members.append(&mut object)?;
        self.extra.append(object.rest().as_deref())?;
        self.rows += 1;
        Ok(())
    }

    fn rows(&self) -> usize {
        self.rows
    }

    fn finish(&mut self) -> client_core::Result<arrow_array::RecordBatch> {
        self.rows = 0;
        let mut columns = vec![
            self.val_date.finish(),
            self.dev_netid.finish(),
            std::sync::Arc::new(self.dev_chid.finish()) as arrow_array::ArrayRef,
        ];
        columns.extend(self.members.finish());
        columns.push(self.extra.finish());
        record_batch(self.schema.clone(), columns)
    }
}

impl BatchBuilder<Datapoint> for DatapointsBuilder {
    fn schema(&self) -> arrow_schema::SchemaRef {
        self.schema.clone()
    }

    /// The datapoint as the JSON it serializes to (numbers as their shortest `f64`
    /// text), in the columns of a [`RawDatapoint`].
    fn append(&mut self, point: &Datapoint) -> client_core::Result<()> {
        let raw: RawDatapoint = serde_json::to_string(point)
            .and_then(|text| serde_json::from_str(&text))
            .map_err(|e| client_core::Error::decode(format!("a datapoint as JSON: {e}")))?;
        self.append(&raw)
    }

    fn rows(&self) -> usize {
        self.rows
    }

    fn finish(&mut self) -> client_core::Result<arrow_array::RecordBatch> {
        BatchBuilder::<RawDatapoint>::finish(self)
    }
}

/// The batches of stored NDJSON datapoints (one [`RawDatapoint`] a line, as the server
/// sent it), of at most `batch_rows` rows. Lazy: the bytes are decoded a slice at a time.
/// A line that does not decode is the last item, an error; nothing is skipped.
pub fn batches_from_stored(
    bytes: &[u8],
    batch_rows: usize,
) -> impl Iterator<Item = Result<arrow_array::RecordBatch>> + '_ {
    client_core::columns::ndjson_batches::<RawDatapoint, Error>(bytes, batch_rows)
}

/// Stored NDJSON datapoints as one Parquet file written to `out`, in batches of
/// `batch_rows` rows ([`DEFAULT_BATCH_ROWS`] is a good size); returns the rows written.
/// The schema is [the module's](self#schema). A line that does not decode fails the
/// call: the Parquet file is then unfinished, to be discarded.
///
/// ```
/// use conduit_client::columns::{DEFAULT_BATCH_ROWS, parquet_from_stored};
///
/// let lines = b"{\"val_date\":1614054737,\"dev_netid\":\"70B3D54990DC01DA\",\"dev_chid\":1,\"val_raw\":4.10}\n";
/// let mut parquet = Vec::new();
/// assert_eq!(parquet_from_stored(lines, DEFAULT_BATCH_ROWS, &mut parquet)?, 1);
/// # Ok::<(), conduit_client::Error>(())
/// ```
#[cfg(feature = "parquet")]
pub fn parquet_from_stored<W: Write + Send>(bytes: &[u8], batch_rows: usize, out: W) -> Result<u64> {
    write_parquet(schema(), batches_from_stored(bytes, batch_rows), out)
}
