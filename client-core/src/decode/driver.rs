//! Turns a push decoder and a byte stream into a stream of records.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::{Stream, StreamExt};

use super::bom::BomSkipper;
use crate::error::Result;

/// A decoder fed one chunk at a time. Records completed by a chunk are appended to
/// `out`; on error the records before the bad one are in `out` and the error is returned.
pub trait ChunkDecoder<T>: Send {
    /// Decodes what `chunk` completes.
    fn feed(&mut self, chunk: &[u8], out: &mut Vec<T>) -> Result<()>;
    /// Called once at the end of the body: decodes what remains, or reports truncation.
    fn finish(&mut self, out: &mut Vec<T>) -> Result<()>;
}

/// The stream type of the whole SDK: records (or pages, or events) of type `T`, with
/// errors of type `E` (`client-core`'s [`crate::Error`] here, the client's own error in
/// a client crate, which re-exports this type). Boxed, `Send`, and nameable in your own
/// structs. It ends after the first error: an error means what came before is not the
/// whole answer.
#[must_use = "streams do nothing unless polled"]
pub struct RecordStream<T, E = crate::Error> {
    inner: Pin<Box<dyn Stream<Item = std::result::Result<T, E>> + Send>>,
}

impl<T, E> RecordStream<T, E> {
    /// Wraps any stream of results.
    pub fn new(stream: impl Stream<Item = std::result::Result<T, E>> + Send + 'static) -> Self {
        RecordStream {
            inner: Box::pin(stream),
        }
    }
}

impl<T: Send + 'static, E: Send + 'static> RecordStream<T, E> {
    /// The same stream with its errors converted (into a client crate's error, say).
    pub fn err_into<F: From<E> + Send + 'static>(self) -> RecordStream<T, F> {
        RecordStream::new(self.map(|item| item.map_err(F::from)))
    }
}

impl<T, E> Stream for RecordStream<T, E> {
    type Item = std::result::Result<T, E>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl<T, E> std::fmt::Debug for RecordStream<T, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordStream").finish_non_exhaustive()
    }
}

/// Runs `decoder` over `body`, without the UTF-8 byte-order mark the body may start
/// with. Nothing is read until the stream is polled.
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
        // A byte-order mark is not data: no decoder sees it.
        let mut bom = BomSkipper::new();
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(err) => {
                    yield Err(err);
                    return;
                }
            };
            let result = decoder.feed(&bom.strip(&chunk), &mut out);
            for record in out.drain(..) {
                yield Ok(record);
            }
            if let Err(err) = result {
                yield Err(err);
                return;
            }
        }
        // A body that is only the start of a mark: those bytes are data.
        let held = bom.finish();
        let result = if held.is_empty() {
            Ok(())
        } else {
            decoder.feed(&held, &mut out)
        };
        let result = result.and_then(|()| decoder.finish(&mut out));
        for record in out.drain(..) {
            yield Ok(record);
        }
        if let Err(err) = result {
            yield Err(err);
        }
    })
}
