//! A decoder fed from bytes held in memory (a stored file), without a stream or a runtime.

use std::collections::VecDeque;

use super::bom::skip_bom;
use super::driver::ChunkDecoder;
use crate::error::{Error, Result};

/// Bytes fed to the decoder at a time: its records come out a slice at a time, so a large
/// file is never decoded whole ahead of its consumer.
const SLICE: usize = 64 * 1024;

/// The records `decoder` reads from `bytes` (a UTF-8 byte-order mark at the start is
/// skipped, as the streaming decoders skip it), decoded lazily, a 64 KiB slice at a time,
/// on the caller's thread: the stored-file counterpart of
/// [`decode_stream`](super::decode_stream). After an error the iterator ends.
///
/// ```
/// use client_core::decode::{NdjsonDecoder, decode_slice};
/// use client_core::DecodeOptions;
///
/// let decoder = NdjsonDecoder::<serde_json::Value>::new(DecodeOptions::default());
/// let records: Vec<_> = decode_slice(b"{\"a\":1}\n{\"a\":2}\n", decoder).collect::<Result<_, _>>()?;
/// assert_eq!(records.len(), 2);
/// # Ok::<(), client_core::Error>(())
/// ```
pub fn decode_slice<T, D: ChunkDecoder<T>>(bytes: &[u8], decoder: D) -> SliceRecords<'_, T, D> {
    SliceRecords {
        rest: skip_bom(bytes),
        decoder,
        ready: VecDeque::new(),
        out: Vec::new(),
        finished: false,
        failed: false,
        pending: None,
    }
}

/// The iterator of [`decode_slice`].
#[derive(Debug)]
pub struct SliceRecords<'a, T, D> {
    rest: &'a [u8],
    decoder: D,
    ready: VecDeque<T>,
    out: Vec<T>,
    finished: bool,
    failed: bool,
    /// An error held until the records decoded before it are taken.
    pending: Option<Error>,
}

impl<T, D: ChunkDecoder<T>> Iterator for SliceRecords<'_, T, D> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        loop {
            if let Some(record) = self.ready.pop_front() {
                return Some(Ok(record));
            }
            if self.failed || self.finished {
                return self.pending.take().map(Err);
            }
            let outcome = if self.rest.is_empty() {
                self.finished = true;
                self.decoder.finish(&mut self.out)
            } else {
                let (slice, rest) = self.rest.split_at(self.rest.len().min(SLICE));
                self.rest = rest;
                self.decoder.feed(slice, &mut self.out)
            };
            // The records before an error come first, then the error.
            self.ready.extend(self.out.drain(..));
            if let Err(error) = outcome {
                self.failed = true;
                if self.ready.is_empty() {
                    return Some(Err(error));
                }
                self.pending = Some(error);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{DecodeOptions, NdjsonDecoder};

    #[test]
    fn records_come_before_the_error_that_follows_them_across_slices() {
        let mut body = b"\xEF\xBB\xBF".to_vec();
        for i in 0..20_000 {
            body.extend_from_slice(format!("{{\"i\":{i}}}\n").as_bytes());
        }
        assert!(body.len() > 2 * SLICE);
        let all: Vec<serde_json::Value> = decode_slice(&body, NdjsonDecoder::new(DecodeOptions::default()))
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(all.len(), 20_000);
        assert_eq!(all[19_999]["i"], 19_999);
        body.extend_from_slice(b"{\"i\":\n");
        let mut records = decode_slice(
            &body,
            NdjsonDecoder::<serde_json::Value>::new(DecodeOptions::default()),
        );
        assert_eq!(
            records.by_ref().take(20_000).filter(Result::is_ok).count(),
            20_000
        );
        assert!(records.next().unwrap().is_err());
        assert!(records.next().is_none());
    }
}
