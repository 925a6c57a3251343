//! NDJSON: one JSON document per line.

use std::marker::PhantomData;

use bytes::Bytes;
use futures::Stream;
use serde::de::DeserializeOwned;

use super::driver::{ChunkDecoder, RecordStream, decode_stream};
use super::{DecodeOptions, too_large};
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

/// The push decoder behind [`ndjson`].
#[derive(Debug)]
pub struct NdjsonDecoder<T> {
    /// The start of a line whose end has not arrived yet.
    partial: Vec<u8>,
    max_record_size: usize,
    line: u64,
    _records: PhantomData<fn() -> T>,
}

impl<T> NdjsonDecoder<T> {
    /// A decoder with the given limits.
    pub fn new(options: DecodeOptions) -> Self {
        NdjsonDecoder {
            partial: Vec::new(),
            max_record_size: options.max_record_size,
            line: 0,
            _records: PhantomData,
        }
    }
}

impl<T: DeserializeOwned> NdjsonDecoder<T> {
    fn decode_line(&mut self, line: &[u8], out: &mut Vec<T>) -> Result<()> {
        self.line += 1;
        if line.len() > self.max_record_size {
            return Err(too_large("NDJSON line", self.line, self.max_record_size));
        }
        if line.is_empty() {
            return Ok(());
        }
        match serde_json::from_slice(line) {
            Ok(record) => {
                out.push(record);
                Ok(())
            }
            Err(_) if line.iter().all(u8::is_ascii_whitespace) => Ok(()),
            Err(e) => Err(Error::decode(format!("NDJSON line {}: {e}", self.line))),
        }
    }
}

impl<T: DeserializeOwned> ChunkDecoder<T> for NdjsonDecoder<T> {
    fn feed(&mut self, mut chunk: &[u8], out: &mut Vec<T>) -> Result<()> {
        if !self.partial.is_empty() {
            let Some(newline) = memchr::memchr(b'\n', chunk) else {
                if self.partial.len() + chunk.len() > self.max_record_size {
                    return Err(too_large("NDJSON line", self.line + 1, self.max_record_size));
                }
                self.partial.extend_from_slice(chunk);
                return Ok(());
            };
            let mut line = std::mem::take(&mut self.partial);
            line.extend_from_slice(&chunk[..newline]);
            let result = self.decode_line(&line, out);
            // Keep the allocation for the next partial line.
            line.clear();
            self.partial = line;
            result?;
            chunk = &chunk[newline + 1..];
        }
        // Whole lines are decoded straight from the chunk, without copying.
        for line in memchr::memchr_iter(b'\n', chunk).scan(0usize, |start, end| {
            let line = &chunk[*start..end];
            *start = end + 1;
            Some(line)
        }) {
            self.decode_line(line, out)?;
        }
        let rest = match memchr::memrchr(b'\n', chunk) {
            Some(last) => &chunk[last + 1..],
            None => chunk,
        };
        if rest.len() > self.max_record_size {
            return Err(too_large("NDJSON line", self.line + 1, self.max_record_size));
        }
        self.partial.extend_from_slice(rest);
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<T>) -> Result<()> {
        let last = std::mem::take(&mut self.partial);
        self.decode_line(&last, out).map_err(|err| {
            // A last line that is valid JSON so far but unfinished was cut off.
            match serde_json::from_slice::<serde::de::IgnoredAny>(&last) {
                Err(e) if e.is_eof() => Error::new(
                    ErrorKind::Truncated,
                    format!(
                        "NDJSON line {} ends before its record does: the body was cut off",
                        self.line
                    ),
                ),
                _ => err,
            }
        })
    }
}
