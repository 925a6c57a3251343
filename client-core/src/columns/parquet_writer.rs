//! Batches to a Parquet file.

use std::io::Write;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::{WriterProperties, WriterVersion};

use super::{Columnar, batches};
use crate::error::{Error, ErrorKind};

/// The writer properties of [`write_parquet`]: Snappy compression (the only codec the
/// workspace builds: pure Rust and quick to compile, where zstd and lz4 bring C builds
/// or long compiles), dictionary encoding on (identifiers repeat), Parquet 2 data
/// pages, row groups of at most 1 Mi rows, and column statistics per page (readers skip
/// pages by time range).
pub fn writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_dictionary_enabled(true)
        .set_writer_version(WriterVersion::PARQUET_2_0)
        .set_max_row_group_row_count(Some(1024 * 1024))
        .set_statistics_enabled(parquet::file::properties::EnabledStatistics::Page)
        .set_created_by(format!("client-core {} (parquet-rs)", env!("CARGO_PKG_VERSION")))
        .build()
}

fn parquet_error(e: parquet::errors::ParquetError) -> Error {
    Error::new(ErrorKind::Io, format!("writing Parquet: {e}"))
}

/// Writes `batches` (each of `schema`) as one Parquet file to `out`, with
/// [`writer_properties`]; returns the rows written. A file of no batches holds the
/// schema and no rows. The Arrow schema is stored in the file's metadata, so readers
/// get the dictionary columns and the `UTC` time zone back. The first error of
/// `batches` stops the file unfinished (its footer not written) and is returned.
///
/// Writing is synchronous (parquet's async writer would bring its `async` feature and
/// more dependencies): in async code, write to a `Vec<u8>` (or a file) inside
/// `tokio::task::spawn_blocking`, then hand the bytes on, e.g. to an
/// [`AtomicFile`](crate::AtomicFile).
pub fn write_parquet<W, E, I>(schema: SchemaRef, batches: I, out: W) -> Result<u64, E>
where
    W: Write + Send,
    E: From<Error>,
    I: IntoIterator<Item = Result<RecordBatch, E>>,
{
    let mut writer = ArrowWriter::try_new(out, schema, Some(writer_properties()))
        .map_err(|e| E::from(parquet_error(e)))?;
    let mut rows = 0u64;
    for batch in batches {
        let batch = batch?;
        rows += batch.num_rows() as u64;
        writer.write(&batch).map_err(|e| E::from(parquet_error(e)))?;
    }
    writer.close().map_err(|e| E::from(parquet_error(e)))?;
    Ok(rows)
}

/// [`write_parquet`] of `records` in [`batches`] of `batch_rows` rows (a row group
/// holds several batches): the schema is `T`'s.
pub fn write_records_parquet<T, W, E, I>(records: I, batch_rows: usize, out: W) -> Result<u64, E>
where
    T: Columnar,
    W: Write + Send,
    E: From<Error>,
    I: IntoIterator<Item = Result<T, E>>,
{
    let batches = batches(records, batch_rows);
    let schema = batches.schema();
    write_parquet(schema, batches, out)
}
