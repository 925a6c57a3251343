//! Streaming decoders: response bytes in, typed records out, in bounded memory.
//!
//! Every decoder is lazy (it reads nothing until its stream is first polled), runs in
//! bounded memory whatever the body size, and refuses a record larger than
//! [`DecodeOptions::max_record_size`] with an [`crate::ErrorKind::RecordTooLarge`] error
//! instead of growing without bound. On a tokio runtime it decodes on a task of its own,
//! at most 16 batches of records ahead of the consumer (a batch: at most 1024 records,
//! plus those of one 8 KiB slice of input, decoded from at most 64 KiB of input), so it
//! holds at most 17 batches, one input chunk and the record in progress; without a
//! runtime it decodes inline, in the same batches (see [`decode_stream`]). A body
//! that ends early is an error, never a short success: the HTTP layer reports bodies cut
//! short of their length, and the decoders report formats left unfinished (a JSON array
//! without its `]`, a last NDJSON line cut mid-record, a CSV row with missing fields).
//! After an error a stream ends. A UTF-8 byte-order mark at the start of a body is
//! skipped (see [`BomSkipper`]); the raw copies keep it.

mod bom;
mod csv;
mod driver;
pub mod fast_json;
mod json_array;
mod lines;
mod lines_writer;
mod ndjson;
mod raw;
mod slice;

pub use self::csv::{CsvFormat, CsvRow, DecimalSeparator, csv_records, csv_row_decoder, csv_rows};
pub use bom::{BomSkipper, UTF8_BOM, skip_bom};
pub use driver::{ChunkDecoder, RecordStream, decode_stream};
pub use fast_json::{FastJson, FastPath, fast_path};
pub use json_array::{JsonArrayDecoder, json_array};
pub use lines::{LineSplitter, lines};
pub use lines_writer::NdjsonWriter;
pub use ndjson::{NdjsonDecoder, ndjson};
pub use raw::{copy_to_writer, write_to_file};
pub use slice::{SliceRecords, decode_slice};

/// Limits shared by the decoders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecodeOptions {
    /// The largest record (NDJSON line, array element, CSV row) accepted, in bytes. For
    /// CSV every buffer of a row counts: its text and its field boundaries.
    pub max_record_size: usize,
    /// CSV: the body must end with a line terminator. A body cut inside the last field
    /// then fails as [`crate::ErrorKind::Truncated`] instead of yielding a short row.
    /// Every client crate turns it on; off by default for CSV written by hand.
    pub require_final_newline: bool,
    /// The `api` label under which the records decoded are counted in
    /// [`metrics::RECORDS`](crate::metrics::RECORDS); `None` (the default) counts
    /// nothing. Each client crate sets its own.
    pub metrics_label: Option<&'static str>,
}

impl Default for DecodeOptions {
    /// 1 MiB records, no final line terminator required.
    fn default() -> Self {
        DecodeOptions {
            max_record_size: 1024 * 1024,
            require_final_newline: false,
            metrics_label: None,
        }
    }
}

impl DecodeOptions {
    /// Sets the largest accepted record.
    pub fn with_max_record_size(mut self, bytes: usize) -> Self {
        self.max_record_size = bytes.max(1);
        self
    }

    /// Counts the records decoded under the `api` label `api` (see
    /// [`DecodeOptions::metrics_label`]).
    pub fn with_metrics_label(mut self, api: &'static str) -> Self {
        self.metrics_label = Some(api);
        self
    }

    /// Requires (or not) a CSV body to end with a line terminator.
    pub fn with_final_newline_required(mut self, required: bool) -> Self {
        self.require_final_newline = required;
        self
    }
}

/// The error for a record over the limit.
pub(crate) fn too_large(what: &str, index: u64, limit: usize) -> crate::Error {
    crate::Error::new(
        crate::ErrorKind::RecordTooLarge,
        format!("{what} {index} is larger than the {limit}-byte record limit"),
    )
}
