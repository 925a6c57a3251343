//! The values body as it is sent: generated one ~64 KiB chunk at a time, counted, and
//! cut when the faults say so.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::Poll;

use bytes::Bytes;

use super::Shared;
use super::generate::Generator;
use super::plan::ValuesPlan;

/// The body of `plan`, failing after `cut_after` bytes if set.
pub(super) fn body_stream(
    plan: ValuesPlan,
    cut_after: Option<usize>,
    shared: Arc<Shared>,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    let mut generator = Generator::new(plan);
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
        let Some((chunk, records)) = generator.next_chunk() else {
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
