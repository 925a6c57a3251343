//! Several page streams read at once and yielded one after the other: the histories of
//! several devices, each device's pages sequential (page tokens), the devices
//! independent. Up to `concurrency` streams run, each on a task of its own with a
//! bounded queue of pages; the caller gets the first stream's pages, then the second's,
//! and so on, whatever order they arrive in.

use std::collections::VecDeque;

use futures::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::Instrument;

use client_core::RecordStream;

use crate::error::{Error, Result};

/// The most devices a multi-device history read has in flight at once, whatever the
/// query asks for ([`DevicesEventsQuery::concurrency`](crate::DevicesEventsQuery::concurrency)).
pub const MAX_DEVICE_CONCURRENCY: usize = 32;

/// The most pages a device read ahead of the one being yielded keeps waiting for the
/// caller: once that many are queued it stops asking until the caller takes one. With
/// the page it holds while waiting, a device read ahead holds at most
/// `DEVICE_PAGES_AHEAD + 1` pages.
pub const DEVICE_PAGES_AHEAD: usize = 8;

/// One stream on its task, its pages queued; dropping it cancels the task (and the
/// request it has in flight).
struct Spawned<P> {
    pages: mpsc::Receiver<Result<P>>,
    task: JoinHandle<()>,
}

impl<P> Drop for Spawned<P> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A stream being read: on a task of its own, or (without a tokio runtime to spawn on)
/// polled here, when its turn comes.
enum Read<P> {
    Spawned(Spawned<P>),
    Here(RecordStream<P, Error>),
}

impl<P: Send + 'static> Read<P> {
    /// Starts reading `pages` ahead, at most `queue` of them waiting for the caller
    /// (0: not read ahead, polled here).
    fn start(pages: RecordStream<P, Error>, queue: usize) -> Self {
        if queue == 0 || tokio::runtime::Handle::try_current().is_err() {
            return Read::Here(pages);
        }
        let (sender, receiver) = mpsc::channel(queue);
        let task = tokio::spawn(
            async move {
                let mut pages = pages;
                while let Some(page) = pages.next().await {
                    let failed = page.is_err();
                    // The caller dropped the read, or the stream ended with an error.
                    if sender.send(page).await.is_err() || failed {
                        break;
                    }
                }
            }
            .instrument(tracing::Span::current()),
        );
        Read::Spawned(Spawned {
            pages: receiver,
            task,
        })
    }

    /// The next page; `None` at the end. Not called again after `None`.
    async fn next(&mut self) -> Option<Result<P>> {
        let spawned = match self {
            Read::Here(pages) => return pages.next().await,
            Read::Spawned(spawned) => spawned,
        };
        if let Some(page) = spawned.pages.recv().await {
            return Some(page);
        }
        // The queue closed: the task ended, having sent everything, or it panicked.
        match (&mut spawned.task).await {
            Ok(()) => None,
            Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            // Only dropping the read aborts the task, and then nobody asks.
            Err(err) => Some(Err(Error::config(format!("a device's read ended early: {err}")))),
        }
    }
}

/// The items of each stream of `reads`, stream after stream, with up to `concurrency`
/// (1 to [`MAX_DEVICE_CONCURRENCY`]) streams read at once, each at most `queue` items
/// ahead of the caller (0: none read ahead; each is polled only when the caller asks, in
/// turn). A stream is started (and its first request sent) when fewer than
/// `concurrency` started streams are left unfinished by the caller. The first error ends
/// the whole stream, after the items of the streams before it. Dropping the stream
/// cancels every read in flight; a panic in a read resumes in the caller.
pub(crate) fn in_order<P, I>(reads: I, concurrency: usize, queue: usize) -> RecordStream<P, Error>
where
    P: Send + 'static,
    I: Iterator<Item = RecordStream<P, Error>> + Send + 'static,
{
    let concurrency = concurrency.clamp(1, MAX_DEVICE_CONCURRENCY);
    RecordStream::new(async_stream::try_stream! {
        let mut reads = reads;
        let mut started: VecDeque<Read<P>> = VecDeque::new();
        loop {
            while started.len() < concurrency {
                let Some(pages) = reads.next() else { break };
                started.push_back(Read::start(pages, queue));
            }
            let Some(head) = started.front_mut() else { break };
            match head.next().await {
                Some(page) => yield page?,
                None => {
                    started.pop_front();
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use futures::TryStreamExt;

    use super::*;

    /// A stream of `items` whose item `k` arrives after `(count - k)` ms, and which counts
    /// the items taken from it.
    fn slow(items: Vec<u32>, taken: Arc<AtomicUsize>) -> RecordStream<u32, Error> {
        let count = items.len() as u64;
        RecordStream::new(
            futures::stream::iter(items.into_iter().enumerate()).then(move |(k, item)| {
                let taken = taken.clone();
                async move {
                    tokio::time::sleep(Duration::from_millis(count - k as u64)).await;
                    taken.fetch_add(1, Ordering::SeqCst);
                    Ok(item)
                }
            }),
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn streams_come_one_after_the_other_whatever_their_timing() {
        let taken = Arc::new(AtomicUsize::new(0));
        let reads: Vec<Vec<u32>> = (0..6)
            .map(|d| (0..(6 - d)).map(|k| d * 10 + k).collect())
            .collect();
        let expected: Vec<u32> = reads.iter().flatten().copied().collect();
        for concurrency in [1, 3, 100] {
            let streams: Vec<_> = reads
                .iter()
                .map(|items| slow(items.clone(), taken.clone()))
                .collect();
            let all: Vec<u32> = in_order(streams.into_iter(), concurrency, 2)
                .try_collect()
                .await
                .unwrap();
            assert_eq!(all, expected, "at {concurrency}");
        }
    }

    /// A stream of `items` at once, counting the items taken from it.
    fn counted(items: std::ops::Range<u32>, taken: Arc<AtomicUsize>) -> RecordStream<u32, Error> {
        RecordStream::new(futures::stream::iter(items).map(move |item| {
            taken.fetch_add(1, Ordering::SeqCst);
            Ok(item)
        }))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stream_ahead_stops_at_its_queue() {
        let taken: Vec<Arc<AtomicUsize>> = (0..2).map(|_| Arc::new(AtomicUsize::new(0))).collect();
        let streams = vec![
            // The first never ends: the second waits behind it.
            RecordStream::new(futures::stream::pending()),
            counted(0..100, taken[1].clone()),
        ];
        let mut read = in_order(streams.into_iter(), 2, 3);
        let waited = tokio::time::timeout(Duration::from_millis(100), read.try_next()).await;
        assert!(waited.is_err(), "the first stream has nothing");
        // Three queued, one held while waiting to queue it.
        assert_eq!(taken[1].load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn the_first_error_ends_the_stream_after_the_items_before_it() {
        let streams = vec![
            RecordStream::new(futures::stream::iter([Ok(1), Ok(2)])),
            RecordStream::new(futures::stream::iter([Ok(3), Err(Error::decode("bad")), Ok(4)])),
            RecordStream::new(futures::stream::iter([Ok(5)])),
        ];
        let items: Vec<Result<u32>> = in_order(streams.into_iter(), 3, 1).collect().await;
        assert_eq!(items.len(), 4, "{items:?}");
        assert!(matches!(items[3], Err(Error::Decode(_))));
    }

    #[tokio::test]
    #[should_panic(expected = "a device's read panicked")]
    async fn a_panic_in_a_read_resumes_in_the_caller() {
        let streams = vec![RecordStream::new(
            futures::stream::iter([1]).map(|_| -> Result<u32> { panic!("a device's read panicked") }),
        )];
        let _ = in_order(streams.into_iter(), 2, 1)
            .try_collect::<Vec<u32>>()
            .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_queue_of_zero_reads_nothing_ahead() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};

        let polled = Arc::new(AtomicUsize::new(0));
        let counted = |items: Vec<u32>| {
            let polled = polled.clone();
            RecordStream::new(futures::stream::iter(items).map(move |item| {
                polled.fetch_add(1, Ordering::SeqCst);
                Ok(item)
            }))
        };
        let streams = vec![counted(vec![1, 2, 3]), counted(vec![4])];
        let mut read = in_order(streams.into_iter(), 2, 0);
        assert_eq!(read.try_next().await.unwrap(), Some(1));
        tokio::task::yield_now().await;
        assert_eq!(polled.load(Ordering::SeqCst), 1, "only the item taken was read");
        drop(read);
    }

    #[test]
    fn without_a_runtime_the_streams_are_read_in_turn() {
        let streams = vec![
            RecordStream::new(futures::stream::iter([Ok(1), Ok(2)])),
            RecordStream::new(futures::stream::iter([Ok(3)])),
        ];
        let mut read = in_order(streams.into_iter(), 4, 1);
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        let mut all = Vec::new();
        loop {
            match read.poll_next_unpin(&mut context) {
                std::task::Poll::Ready(Some(item)) => all.push(item.unwrap()),
                std::task::Poll::Ready(None) => break,
                std::task::Poll::Pending => panic!("streams that are ready are read at once"),
            }
        }
        assert_eq!(all, [1, 2, 3]);
    }
}
