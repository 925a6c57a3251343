//! The values body as it is sent: generated one ~64 KiB chunk at a time (or taken from
//! the body cache), counted, and cut when the faults say so.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::Poll;

use bytes::Bytes;

use super::Shared;
use super::cache::Chunk;
use super::generate::Generator;

/// Where a body's chunks come from.
pub(super) enum Chunks {
    /// Generated while the body is sent.
    Generated(Generator),
    /// Rendered before, from the body cache: the chunks from `next` on.
    Cached { chunks: Arc<[Chunk]>, next: usize },
}

impl Chunks {
    /// The next chunk and the records in it; `None` after the end.
    fn next_chunk(&mut self) -> Option<Chunk> {
        match self {
            Chunks::Generated(generator) => generator.next_chunk(),
            Chunks::Cached { chunks, next } => {
                let chunk = chunks.get(*next)?.clone();
                *next += 1;
                Some(chunk)
            }
        }
    }
}

/// The body of `chunks`, failing after `cut_after` bytes if set.
pub(super) fn body_stream(
    mut chunks: Chunks,
    cut_after: Option<usize>,
    shared: Arc<Shared>,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    let mut sent = 0usize;
    // After a cut: 1 = yield once so hyper flushes what was sent, 2 = fail the body.
    let mut cut = 0u8;
    futures::stream::poll_fn(move |cx| {
        match cut {
            1 => {
                cut = 2;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            2 => return Poll::Ready(Some(Err(std::io::Error::other("sandbox fault: body cut")))),
            _ => {}
        }
        let Some((chunk, records)) = chunks.next_chunk() else {
            return Poll::Ready(None);
        };
        shared.records_served.fetch_add(records, Ordering::Relaxed);
        shared
            .bytes_served
            .fetch_add(chunk.len() as u64, Ordering::Relaxed);
        if let Some(limit) = cut_after {
            if sent + chunk.len() > limit {
                cut = 1;
                let head = chunk.slice(..limit.saturating_sub(sent));
                if head.is_empty() {
                    return Poll::Ready(Some(Err(std::io::Error::other("sandbox fault: body cut"))));
                }
                sent = limit;
                return Poll::Ready(Some(Ok(head)));
            }
        }
        sent += chunk.len();
        Poll::Ready(Some(Ok(chunk)))
    })
}
