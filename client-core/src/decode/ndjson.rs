//! NDJSON: one JSON document per line.

use std::marker::PhantomData;

use bytes::Bytes;
use futures::Stream;
use serde::de::DeserializeOwned;

use super::DecodeOptions;
use super::driver::{ChunkDecoder, RecordStream, decode_stream};
use super::fast_json::{FastPath, from_slice_fast};
use super::lines::LineSplitter;
use crate::error::{Error, ErrorKind, Result};

/// Decodes NDJSON (one JSON document per `\n`-terminated line; `\r\n` and blank lines are
/// accepted). A last line without a newline is decoded if it is complete, and reported as
/// truncated if it is cut. An empty body is zero records.
pub fn ndjson<T, S>(body: S, options: DecodeOptions) -> RecordStream<T>
where
    T: DeserializeOwned + Send + 'static,
    S: Stream<Item = Result<Bytes>> + Send + 'static,
{
    decode_stream(body, NdjsonDecoder::new(options))
}

/// The push decoder behind [`ndjson`]: the one [`LineSplitter`], and serde on each line
/// (or a record type's [`FastPath`], see [`NdjsonDecoder::with_fast_path`]).
#[derive(Debug)]
pub struct NdjsonDecoder<T> {
    lines: LineSplitter,
    fast: Option<FastPath<T>>,
    metrics_label: Option<&'static str>,
    _records: PhantomData<fn() -> T>,
}

impl<T> NdjsonDecoder<T> {
    /// A decoder with the given limits.
    pub fn new(options: DecodeOptions) -> Self {
        NdjsonDecoder {
            lines: LineSplitter::new(options.max_record_size, "NDJSON line"),
            fast: None,
            metrics_label: options.metrics_label,
            _records: PhantomData,
        }
    }

    /// Decodes each line by `fast` first when it is `Some` (see [`super::fast_path`]);
    /// serde decodes the lines it declines. The records and errors are the same.
    pub fn with_fast_path(mut self, fast: Option<FastPath<T>>) -> Self {
        self.fast = fast;
        self
    }
}

/// Decodes one line into `out`; blank lines are skipped.
fn decode_line<T: DeserializeOwned>(
    number: u64,
    line: &[u8],
    fast: Option<FastPath<T>>,
    out: &mut Vec<T>,
) -> Result<()> {
    if line.is_empty() {
        return Ok(());
    }
    match from_slice_fast(line, fast) {
        Ok(record) => {
            out.push(record);
            Ok(())
        }
        Err(_) if line.iter().all(u8::is_ascii_whitespace) => Ok(()),
        Err(e) => Err(Error::decode(format!("NDJSON line {number}: {e}"))),
    }
}

impl<T: DeserializeOwned> ChunkDecoder<T> for NdjsonDecoder<T> {
    fn feed(&mut self, chunk: &[u8], out: &mut Vec<T>) -> Result<()> {
        self.lines
            .feed(chunk, |number, line| decode_line(number, line, self.fast, out))
    }

    fn finish(&mut self, out: &mut Vec<T>) -> Result<()> {
        let Some((number, last)) = self.lines.finish() else {
            return Ok(());
        };
        decode_line(number, &last, self.fast, out).map_err(|err| {
            // A last line that is valid JSON so far but unfinished was cut off.
            match serde_json::from_slice::<serde::de::IgnoredAny>(&last) {
                Err(e) if e.is_eof() => Error::new(
                    ErrorKind::Truncated,
                    format!("NDJSON line {number} ends before its record does: the body was cut off"),
                ),
                _ => err,
            }
        })
    }

    fn metrics_label(&self) -> Option<&'static str> {
        self.metrics_label
    }
}
