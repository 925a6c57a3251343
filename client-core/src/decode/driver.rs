//! Turns a push decoder and a byte stream into a stream of records.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::{Stream, StreamExt};

use crate::error::Result;

/// A decoder fed one chunk at a time. Records completed by a chunk are appended to
/// `out`; on error the records before the bad one are in `out` and the error is returned.
pub trait ChunkDecoder<T>: Send {
    /// Decodes what `chunk` completes.
    fn feed(&mut self, chunk: &[u8], out: &mut Vec<T>) -> Result<()>;
    /// Called once at the end of the body: decodes what remains, or reports truncation.
    fn finish(&mut self, out: &mut Vec<T>) -> Result<()>;
}

/// A stream of decoded records. Ends after the first error.
#[must_use = "streams do nothing unless polled"]
pub struct RecordStream<T> {
    inner: Pin<Box<dyn Stream<Item = Result<T>> + Send>>,
}

impl<T> RecordStream<T> {
    /// Wraps any stream of records.
    pub fn new(stream: impl Stream<Item = Result<T>> + Send + 'static) -> Self {
        RecordStream {
            inner: Box::pin(stream),
        }
    }
}

impl<T> Stream for RecordStream<T> {
    type Item = Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl<T> std::fmt::Debug for RecordStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordStream").finish_non_exhaustive()
    }
}

/// Runs `decoder` over `body`. Nothing is read until the stream is polled.
pub fn decode_stream<T, D, S>(body: S, mut decoder: D) -> RecordStream<T>
where
    T: Send + 'static,
    D: ChunkDecoder<T> + 'static,
    S: Stream<Item = Result<Bytes>> + Send + 'static,
{
    RecordStream::new(async_stream::stream! {
        let mut body = std::pin::pin!(body);
        // Records of one chunk are decoded in one go and then handed out: the decoder's
        // hot loop stays tight and memory stays bounded by the chunk size.
        let mut out = Vec::new();
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(err) => {
                    yield Err(err);
                    return;
                }
            };
            let result = decoder.feed(&chunk, &mut out);
            for record in out.drain(..) {
                yield Ok(record);
            }
            if let Err(err) = result {
                yield Err(err);
                return;
            }
        }
        let result = decoder.finish(&mut out);
        for record in out.drain(..) {
            yield Ok(record);
        }
        if let Err(err) = result {
            yield Err(err);
        }
    })
}
