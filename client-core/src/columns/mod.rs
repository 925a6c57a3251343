//! Records as Arrow columns (feature `arrow`) and Parquet files (feature `parquet`): the
//! shared half of every client crate's `columns` module.
//!
//! A record type becomes columns through [`Columnar`]: its [`BatchBuilder`] knows the
//! schema and appends one record at a time to column builders. [`batches`] (an iterator)
//! and [`batch_stream`] (a stream) cut any sequence of records into
//! [`RecordBatch`]es of at most a chosen number of rows; `write_parquet` (feature
//! `parquet`) writes them to any [`std::io::Write`].
//!
//! The column builders the client crates share:
//!
//! | builder | Arrow columns |
//! |---|---|
//! | [`DictionaryColumn`] | `Dictionary(Int32, Utf8)`: identifiers (signals, devices, sites, event types) |
//! | [`TimestampColumn`] | `Timestamp(unit, Some("UTC"))` |
//! | [`NumberColumns`] | `Float64` and its exact text, `Utf8` (see [the rule](#the-exact-text-of-numbers)) |
//! | [`TextColumn`] | `Utf8` (free text, and JSON text such as `extra`) |
//!
//! [`MemberColumns`] makes columns of the members a table names (by [`Member`] kind).
//! [`JsonObject`] reads a record's JSON object text member by member, keeping each
//! member's text as sent, and writes the members no column takes as one JSON object
//! (the `extra` column of every API).
//!
//! # The exact text of numbers
//!
//! A number is stored as the `f64` nearest to it and, in the `Utf8` column beside it
//! (`value_text`), as its text exactly as sent, **when the `f64` does not hold it**: the
//! text is kept when its decimal value differs from the value of the `f64`'s shortest
//! round-trip rendering (Rust's `{:e}`, the digits `ryu` or JavaScript would print), or
//! when the `f64` is not finite. So `0.1`, `1.50`, `-0` and `1e300` keep no text (the
//! `f64` prints them back with the same value; `1.50` and `1.5` are one value);
//! `0.1000000000000000055511151231257827`, `9007199254740993` (beyond 2^53),
//! `1e400` (infinity) and `1e-400` (rounds to 0) keep theirs, and so does
//! `9074314992552858624`, an integer the `f64` holds exactly but whose shortest
//! rendering, `9.074314992552859e18`, reads back as another number: the rule is about
//! what a reader of the `f64` gets, not about the `f64`'s exact binary value. Any value that is not a
//! JSON number keeps its text too: a string (with its JSON quotes, so `"1.5"` tells
//! a string from the number `1.5`; its value is read when the string holds a number,
//! `NaN`, `Infinity` or `-Infinity`), `true`, an object. So the text column is null
//! exactly when the value is absent, `null`, or a number the `f64` holds, and a reader
//! gets the server's value back from `value_text` when it is set and from `value`
//! otherwise. See [`needs_text`].

mod builders;
mod json_object;
mod members;
mod number;
#[cfg(feature = "parquet")]
mod parquet_writer;

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use futures::{Stream, StreamExt};

pub use builders::{DictionaryColumn, NumberCell, NumberColumns, TextColumn, TimestampColumn};
pub use json_object::JsonObject;
pub use members::{Member, MemberColumns};
pub use number::needs_text;
#[cfg(feature = "parquet")]
pub use parquet_writer::{write_parquet, write_records_parquet, writer_properties};

pub use arrow_array;
pub use arrow_schema;
#[cfg(feature = "parquet")]
pub use parquet;

use crate::decode::RecordStream;
use crate::error::{Error, ErrorKind, Result};

/// The rows of a batch when the caller has no preference: 64 Ki rows, about a
/// Parquet page's worth of a few columns, and a few MiB of memory.
pub const DEFAULT_BATCH_ROWS: usize = 65_536;

/// A record type that becomes Arrow columns: one row per record.
pub trait Columnar {
    /// The builder that holds the rows of a batch being built.
    type Builder: BatchBuilder<Self>;

    /// An empty builder.
    fn batch_builder() -> Self::Builder;
}

/// Column builders for one batch of records of type `T`: what a [`Columnar`] type
/// supplies.
pub trait BatchBuilder<T: ?Sized>: Send {
    /// The schema of every batch it finishes.
    fn schema(&self) -> SchemaRef;
    /// Appends one record as one row; a record that does not fit the schema (a timestamp
    /// out of the column's range, a member of the wrong kind) is a
    /// [`Decode`](ErrorKind::Decode) error, after which the batch being built is to be
    /// dropped (its columns may differ in length).
    fn append(&mut self, record: &T) -> Result<()>;
    /// The rows appended since the last batch.
    fn rows(&self) -> usize;
    /// The rows appended so far as a batch; the builder is empty afterwards.
    fn finish(&mut self) -> Result<RecordBatch>;
}

/// An Arrow error as this crate's (a bug of a builder, or a schema mismatch).
fn arrow_error(e: arrow_schema::ArrowError) -> Error {
    Error::new(ErrorKind::Decode, format!("Arrow columns: {e}"))
}

/// A batch of `columns` under `schema` (what [`BatchBuilder::finish`] returns): an
/// error when they disagree.
pub fn record_batch(schema: SchemaRef, columns: Vec<arrow_array::ArrayRef>) -> Result<RecordBatch> {
    RecordBatch::try_new(schema, columns).map_err(arrow_error)
}

/// The records of `records` in batches of at most `batch_rows` rows (at least 1); the
/// last batch holds the rest, and no records give no batch. The first error (of the
/// source, or of a record that does not fit its columns) is the iterator's last item.
///
/// ```
/// # #[cfg(feature = "arrow")] {
/// use client_core::columns::{Columnar, batches};
/// # fn f<R: Columnar>(records: Vec<R>) -> Result<(), client_core::Error> {
/// for batch in batches(records.into_iter().map(Ok::<_, client_core::Error>), 10_000) {
///     let batch = batch?;
///     assert!(batch.num_rows() <= 10_000);
/// }
/// # Ok(()) }
/// # }
/// ```
pub fn batches<T, E, I>(records: I, batch_rows: usize) -> Batches<I::IntoIter, T>
where
    T: Columnar,
    E: From<Error>,
    I: IntoIterator<Item = std::result::Result<T, E>>,
{
    Batches {
        records: records.into_iter(),
        builder: T::batch_builder(),
        batch_rows: batch_rows.max(1),
        done: false,
    }
}

/// The batches of stored NDJSON records (one `T` a line, as it was sent), of at most
/// `batch_rows` rows: what each client crate's `batches_from_stored` is for its lines.
/// Lazy: the bytes are decoded a slice at a time ([`decode_slice`](crate::decode::decode_slice)).
/// A line that does not decode is the last item, an error; nothing is skipped.
pub fn ndjson_batches<T, E>(
    bytes: &[u8],
    batch_rows: usize,
) -> impl Iterator<Item = std::result::Result<RecordBatch, E>> + '_
where
    T: Columnar + serde::de::DeserializeOwned + 'static,
    E: From<Error> + 'static,
{
    let records = crate::decode::decode_slice(
        bytes,
        crate::decode::NdjsonDecoder::<T>::new(crate::DecodeOptions::default()),
    );
    batches(records.map(|record| record.map_err(E::from)), batch_rows)
}

/// The iterator of [`batches`].
pub struct Batches<I, T: Columnar> {
    records: I,
    builder: T::Builder,
    batch_rows: usize,
    done: bool,
}

impl<I, T: Columnar> std::fmt::Debug for Batches<I, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batches")
            .field("batch_rows", &self.batch_rows)
            .field("rows", &self.builder.rows())
            .finish_non_exhaustive()
    }
}

impl<I, T: Columnar> Batches<I, T> {
    /// The schema of the batches.
    pub fn schema(&self) -> SchemaRef {
        self.builder.schema()
    }
}

impl<T, E, I> Iterator for Batches<I, T>
where
    T: Columnar,
    E: From<Error>,
    I: Iterator<Item = std::result::Result<T, E>>,
{
    type Item = std::result::Result<RecordBatch, E>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        while self.builder.rows() < self.batch_rows {
            match self.records.next() {
                Some(Ok(record)) => {
                    if let Err(e) = self.builder.append(&record) {
                        self.done = true;
                        return Some(Err(e.into()));
                    }
                }
                Some(Err(e)) => {
                    self.done = true;
                    return Some(Err(e));
                }
                None => {
                    self.done = true;
                    break;
                }
            }
        }
        if self.builder.rows() == 0 {
            return None;
        }
        Some(self.builder.finish().map_err(E::from))
    }
}

/// [`batches`] over a stream: the records of `records` in batches of at most
/// `batch_rows` rows (at least 1), each yielded when full (or at the end). Lazy, like
/// every stream of the SDK; ends after the first error.
pub fn batch_stream<T, E, S>(records: S, batch_rows: usize) -> RecordStream<RecordBatch, E>
where
    T: Columnar + Send + 'static,
    T::Builder: 'static,
    E: From<Error> + Send + 'static,
    S: Stream<Item = std::result::Result<T, E>> + Send + 'static,
{
    let batch_rows = batch_rows.max(1);
    RecordStream::new(async_stream::try_stream! {
        let mut builder = T::batch_builder();
        let mut records = std::pin::pin!(records);
        while let Some(record) = records.next().await {
            builder.append(&record?).map_err(E::from)?;
            if builder.rows() >= batch_rows {
                yield builder.finish().map_err(E::from)?;
            }
        }
        if builder.rows() > 0 {
            yield builder.finish().map_err(E::from)?;
        }
    })
}

/// A schema of `fields`, shared.
pub fn schema(fields: Vec<arrow_schema::Field>) -> SchemaRef {
    Arc::new(arrow_schema::Schema::new(fields))
}

#[cfg(test)]
mod tests;
