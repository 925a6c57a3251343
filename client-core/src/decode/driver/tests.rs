//! The decoding task: order and errors across batches, the channel's bound, cancellation
//! on drop, panics, the caller's span, and the inline fallback without a runtime.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;

use super::*;
use crate::decode::{DecodeOptions, ndjson};

/// Runs an async test body under both tokio flavours.
macro_rules! on_both_flavours {
    ($current:ident, $multi:ident, $body:expr) => {
        #[tokio::test(flavor = "current_thread")]
        async fn $current() {
            $body.await
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $multi() {
            $body.await
        }
    };
}

/// A generous limit for something that should happen at once: only a failing test
/// waits it out.
const PATIENCE: Duration = Duration::from_secs(30);

/// NDJSON lines `0\n1\n2\n...` for `0..count`, cut into chunks of `chunk` bytes.
fn numbers(count: u64, chunk: usize) -> Vec<Bytes> {
    let text: String = (0..count).map(|n| format!("{n}\n")).collect();
    text.as_bytes()
        .chunks(chunk)
        .map(Bytes::copy_from_slice)
        .collect()
}

fn body(chunks: Vec<Bytes>) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
    futures::stream::iter(chunks.into_iter().map(Ok))
}

/// Every item of a stream: the records, then the error it ended with (checking that it
/// does end after it).
async fn drain<T>(mut stream: RecordStream<T>) -> (Vec<T>, Option<Error>) {
    let mut records = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(record) => records.push(record),
            Err(err) => {
                assert!(stream.next().await.is_none(), "a stream went on after its error");
                assert!(stream.next().await.is_none(), "a stream went on after its end");
                return (records, Some(err));
            }
        }
    }
    assert!(stream.next().await.is_none(), "a stream went on after its end");
    (records, None)
}

/// Chunk sizes that cut the body at every kind of place: inside slices, batches and
/// records, and far past a batch's bytes in one chunk.
const CHUNK_SIZES: [usize; 5] = [1, 7, 4096, 70_000, 1 << 20];

async fn order_is_kept() {
    for chunk in CHUNK_SIZES {
        let count = 20_000;
        let (records, err) = drain(ndjson::<u64, _>(
            body(numbers(count, chunk)),
            DecodeOptions::default(),
        ))
        .await;
        assert!(err.is_none(), "chunks of {chunk}: {err:?}");
        assert_eq!(records, (0..count).collect::<Vec<_>>(), "chunks of {chunk}");
    }
}
on_both_flavours!(
    order_is_kept_current_thread,
    order_is_kept_multi_thread,
    order_is_kept()
);

/// A bad line after `good` records, on every side of a batch boundary.
async fn records_before_a_decode_error_all_come_first() {
    const B: u64 = BATCH_RECORDS as u64;
    for good in [0, 1, B - 1, B, B + 1, 2 * B - 1, 2 * B, 2 * B + 1, 10_000] {
        for chunk in CHUNK_SIZES {
            let mut text: String = (0..good).map(|n| format!("{n}\n")).collect();
            text.push_str("not json\n");
            text.extend((0..1000).map(|n| format!("{n}\n")));
            let chunks = text
                .as_bytes()
                .chunks(chunk)
                .map(Bytes::copy_from_slice)
                .collect();
            let (records, err) = drain(ndjson::<u64, _>(body(chunks), DecodeOptions::default())).await;
            assert_eq!(
                records,
                (0..good).collect::<Vec<_>>(),
                "{good} good, chunks of {chunk}"
            );
            let err = err.expect("the bad line is an error");
            assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
        }
    }
}
on_both_flavours!(
    decode_error_position_current_thread,
    decode_error_position_multi_thread,
    records_before_a_decode_error_all_come_first()
);

/// The body itself fails after some chunks: every record of those chunks, then its
/// error.
async fn records_before_a_body_error_all_come_first() {
    const B: u64 = BATCH_RECORDS as u64;
    for good in [0, B - 1, B, B + 1, 3 * B + 7] {
        for chunk in CHUNK_SIZES {
            let chunks = numbers(good, chunk);
            let failing = futures::stream::iter(
                chunks
                    .into_iter()
                    .map(Ok)
                    .chain([Err(Error::new(ErrorKind::Transport, "connection reset"))])
                    .chain([Ok(Bytes::from_static(b"1\n2\n"))]),
            );
            let (records, err) = drain(ndjson::<u64, _>(failing, DecodeOptions::default())).await;
            assert_eq!(
                records,
                (0..good).collect::<Vec<_>>(),
                "{good} good, chunks of {chunk}"
            );
            assert_eq!(err.expect("the body's error").kind(), ErrorKind::Transport);
        }
    }
}
on_both_flavours!(
    body_error_position_current_thread,
    body_error_position_multi_thread,
    records_before_a_body_error_all_come_first()
);

/// A body cut inside its last record: every whole record, then `Truncated`.
async fn a_truncated_end_comes_after_every_record() {
    const B: u64 = BATCH_RECORDS as u64;
    for count in [0, B - 1, B, B + 1, 5000] {
        for chunk in CHUNK_SIZES {
            let mut text: String = (0..count).map(|n| format!("{{\"n\":{n}}}\n")).collect();
            text.push_str("{\"n\":");
            let chunks = text
                .as_bytes()
                .chunks(chunk)
                .map(Bytes::copy_from_slice)
                .collect();
            let (records, err) = drain(ndjson::<serde_json::Value, _>(
                body(chunks),
                DecodeOptions::default(),
            ))
            .await;
            let numbers: Vec<u64> = records.iter().map(|r| r["n"].as_u64().expect("n")).collect();
            assert_eq!(
                numbers,
                (0..count).collect::<Vec<_>>(),
                "{count} records, chunks of {chunk}"
            );
            assert_eq!(err.expect("a cut body is an error").kind(), ErrorKind::Truncated);
        }
    }
}
on_both_flavours!(
    truncated_end_current_thread,
    truncated_end_multi_thread,
    a_truncated_end_comes_after_every_record()
);

/// A record too large is still refused, after the records before it.
async fn a_record_over_the_limit_is_refused() {
    let mut text: String = (0..1000).map(|n| format!("{n}\n")).collect();
    text.push_str(&"9".repeat(5000));
    text.push('\n');
    let options = DecodeOptions::default().with_max_record_size(4096);
    let chunks = text.as_bytes().chunks(100).map(Bytes::copy_from_slice).collect();
    let (records, err) = drain(ndjson::<u64, _>(body(chunks), options)).await;
    assert_eq!(records, (0..1000).collect::<Vec<_>>());
    assert_eq!(err.expect("too large").kind(), ErrorKind::RecordTooLarge);
}
on_both_flavours!(
    record_too_large_current_thread,
    record_too_large_multi_thread,
    a_record_over_the_limit_is_refused()
);

/// A body that stays open hands over what it has: a record is never held back for a
/// batch to fill (a live stream's event arrives when it is sent).
async fn a_record_is_not_held_back_for_more_bytes() {
    let (sender, receiver) = mpsc::unbounded_channel::<Result<Bytes>>();
    let body = futures::stream::unfold(receiver, |mut receiver| async move {
        let chunk = receiver.recv().await?;
        Some((chunk, receiver))
    });
    let mut stream = ndjson::<u64, _>(body, DecodeOptions::default());
    for n in 0..3u64 {
        sender
            .send(Ok(Bytes::from(format!("{n}\n"))))
            .expect("the body is read");
        let record = tokio::time::timeout(PATIENCE, stream.next())
            .await
            .expect("the record comes while the body stays open");
        assert_eq!(record.expect("a record").expect("it decodes"), n);
    }
    drop(sender);
    assert!(stream.next().await.is_none());
}
on_both_flavours!(
    no_holding_back_current_thread,
    no_holding_back_multi_thread,
    a_record_is_not_held_back_for_more_bytes()
);

/// A body that counts the chunks pulled from it, and tells when it is dropped.
struct Watched<S> {
    inner: S,
    pulled: Arc<AtomicUsize>,
    dropped: Option<tokio::sync::oneshot::Sender<()>>,
}

impl<S: Stream<Item = Result<Bytes>> + Unpin> Stream for Watched<S> {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let next = self.inner.poll_next_unpin(cx);
        if let Poll::Ready(Some(_)) = next {
            self.pulled.fetch_add(1, Ordering::SeqCst);
        }
        next
    }
}

impl<S> Drop for Watched<S> {
    fn drop(&mut self) {
        if let Some(dropped) = self.dropped.take() {
            let _ = dropped.send(());
        }
    }
}

/// `chunk` repeated for ever, counted, with a signal when dropped.
fn endless(
    chunk: &'static [u8],
) -> (
    Watched<impl Stream<Item = Result<Bytes>> + Unpin>,
    Arc<AtomicUsize>,
    tokio::sync::oneshot::Receiver<()>,
) {
    let pulled = Arc::new(AtomicUsize::new(0));
    let (sender, dropped) = tokio::sync::oneshot::channel();
    let body = Watched {
        inner: futures::stream::repeat_with(move || Ok(Bytes::from_static(chunk))),
        pulled: pulled.clone(),
        dropped: Some(sender),
    };
    (body, pulled, dropped)
}

/// Gives the decoding task every chance to run on: yields to the scheduler, and on a
/// multi-threaded runtime lets a few milliseconds pass too, until the count of chunks
/// pulled stops moving.
async fn settle(pulled: &AtomicUsize) -> usize {
    let mut last = usize::MAX;
    let mut still = 0;
    while still < 20 {
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
        if tokio::runtime::Handle::current().runtime_flavor() != tokio::runtime::RuntimeFlavor::CurrentThread
        {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let now = pulled.load(Ordering::SeqCst);
        if now == last {
            still += 1;
        } else {
            still = 0;
            last = now;
        }
    }
    last
}

/// A consumer that stops polling stops the reading: small records (batches cut at
/// [`BATCH_RECORDS`]) and large ones (batches cut at [`BATCH_BYTES`]).
async fn reading_stops_when_the_consumer_does() {
    for (chunk, bound) in [
        // 128 records per 1 KiB chunk: the batch handed out and the ones ahead, of
        // BATCH_RECORDS / 128 chunks each, and the chunk being fed.
        (SMALL_LINES, (BATCHES_AHEAD + 1) * BATCH_RECORDS / 128 + 1),
        // One 1 KiB record per chunk: batches of BATCH_BYTES / 1 KiB chunks.
        (LARGE_LINES, (BATCHES_AHEAD + 1) * BATCH_BYTES / 1024 + 1),
    ] {
        let (body, pulled, _dropped) = endless(chunk);
        let mut stream = ndjson::<serde_json::Value, _>(body, DecodeOptions::default());
        stream.next().await.expect("a record").expect("it decodes");
        let held = settle(&pulled).await;
        assert!(held <= bound, "{held} chunks pulled, at most {bound} expected");
        // The read goes on as the consumer does: past the batches held ahead.
        for _ in 0..(BATCHES_AHEAD + 2) * BATCH_RECORDS {
            stream.next().await.expect("a record").expect("it decodes");
        }
        assert!(pulled.load(Ordering::SeqCst) > held);
    }
}
on_both_flavours!(
    bounded_read_ahead_current_thread,
    bounded_read_ahead_multi_thread,
    reading_stops_when_the_consumer_does()
);

/// 128 records of 8 bytes: 1 KiB.
const SMALL_LINES: &[u8] = &{
    let mut lines = [b'7'; 1024];
    let mut at = 7;
    while at < 1024 {
        lines[at] = b'\n';
        at += 8;
    }
    lines
};

/// One JSON string of 1 KiB with its newline.
const LARGE_LINES: &[u8] = &{
    let mut line = [b'x'; 1024];
    line[0] = b'"';
    line[1022] = b'"';
    line[1023] = b'\n';
    line
};

/// Dropping the stream drops the body (aborting the task), whether the task waits for
/// the body or for room in the channel.
async fn dropping_the_stream_drops_the_body() {
    // Waiting for room: an endless body always ready.
    let (body, _, dropped) = endless(SMALL_LINES);
    let mut stream = ndjson::<u64, _>(body, DecodeOptions::default());
    stream.next().await.expect("a record").expect("it decodes");
    drop(stream);
    tokio::time::timeout(PATIENCE, dropped)
        .await
        .expect("the body is dropped with the stream")
        .expect("the body says so");

    // Waiting for the body: one record, then a body that never answers.
    let pending_polls = Arc::new(AtomicUsize::new(0));
    let (sender, dropped) = tokio::sync::oneshot::channel();
    let body = Stalled {
        first: Some(Bytes::from_static(b"1\n")),
        pending_polls: pending_polls.clone(),
        dropped: Some(sender),
    };
    let mut stream = ndjson::<u64, _>(body, DecodeOptions::default());
    assert_eq!(stream.next().await.expect("a record").expect("it decodes"), 1);
    // Once to see that nothing follows the record, once waiting for the next batch.
    tokio::time::timeout(PATIENCE, async {
        while pending_polls.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the task waits for the body");
    drop(stream);
    tokio::time::timeout(PATIENCE, dropped)
        .await
        .expect("the body is dropped with the stream")
        .expect("the body says so");
}

/// One chunk, then nothing ever: counts the polls that found nothing, and tells when
/// it is dropped.
struct Stalled {
    first: Option<Bytes>,
    pending_polls: Arc<AtomicUsize>,
    dropped: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Stream for Stalled {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.first.take() {
            Some(chunk) => Poll::Ready(Some(Ok(chunk))),
            None => {
                self.pending_polls.fetch_add(1, Ordering::SeqCst);
                Poll::Pending
            }
        }
    }
}

impl Drop for Stalled {
    fn drop(&mut self) {
        if let Some(dropped) = self.dropped.take() {
            let _ = dropped.send(());
        }
    }
}
on_both_flavours!(
    drop_aborts_current_thread,
    drop_aborts_multi_thread,
    dropping_the_stream_drops_the_body()
);

/// The body's other owner sees its count return to 1 once the stream is dropped.
async fn no_task_outlives_its_stream() {
    let owner = Arc::new(());
    let held = owner.clone();
    let body = futures::stream::repeat_with(move || {
        let _ = &held;
        Ok(Bytes::from_static(SMALL_LINES))
    });
    let mut stream = ndjson::<u64, _>(body, DecodeOptions::default());
    stream.next().await.expect("a record").expect("it decodes");
    assert_eq!(Arc::strong_count(&owner), 2);
    drop(stream);
    tokio::time::timeout(PATIENCE, async {
        while Arc::strong_count(&owner) > 1 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the task lets go of the body");
}
on_both_flavours!(
    no_task_outlives_current_thread,
    no_task_outlives_multi_thread,
    no_task_outlives_its_stream()
);

/// A decoder that panics on the byte `!`, and otherwise yields one record per byte.
struct Panicky;

impl ChunkDecoder<u8> for Panicky {
    fn feed(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<()> {
        for &byte in chunk {
            assert!(byte != b'!', "the decoder met a bang");
            out.push(byte);
        }
        Ok(())
    }

    fn finish(&mut self, _out: &mut Vec<u8>) -> Result<()> {
        Ok(())
    }
}

/// A panic in the decoder is resumed in the consumer, after the records of the batches
/// handed over before it.
async fn a_panic_is_resumed_in_the_consumer() {
    let mut bytes = vec![b'a'; 100_000];
    bytes.push(b'!');
    bytes.extend([b'b'; 1000]);
    let chunks = bytes.chunks(1000).map(Bytes::copy_from_slice).collect();
    let mut stream = decode_stream(body(chunks), Panicky);
    let mut seen = 0;
    let outcome = std::panic::AssertUnwindSafe(async {
        while let Some(record) = stream.next().await {
            assert_eq!(record.expect("no error"), b'a');
            seen += 1;
        }
    })
    .catch_unwind()
    .await;
    let payload = outcome.expect_err("the panic reaches the consumer");
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied());
    assert_eq!(message, Some("the decoder met a bang"));
    assert!(seen <= 100_000);
}
on_both_flavours!(
    panic_resumed_current_thread,
    panic_resumed_multi_thread,
    a_panic_is_resumed_in_the_consumer()
);

/// The decoder runs in the span that was current where the stream was made.
#[tokio::test(flavor = "current_thread")]
async fn the_task_keeps_the_callers_span() {
    struct SpanOfFeed(Arc<Mutex<Vec<Option<&'static str>>>>);

    impl ChunkDecoder<u8> for SpanOfFeed {
        fn feed(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Result<()> {
            let name = Span::current().metadata().map(|m| m.name());
            self.0.lock().expect("not poisoned").push(name);
            out.extend_from_slice(chunk);
            Ok(())
        }

        fn finish(&mut self, _out: &mut Vec<u8>) -> Result<()> {
            Ok(())
        }
    }

    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry());
    let names = Arc::new(Mutex::new(Vec::new()));
    let stream = tracing::info_span!("made_here")
        .in_scope(|| decode_stream(body(vec![Bytes::from_static(b"abc")]), SpanOfFeed(names.clone())));
    let polled_in = tracing::info_span!("polled_here");
    let (records, err) = drain(stream).instrument(polled_in).await;
    assert_eq!((records, err.is_none()), (b"abc".to_vec(), true));
    assert_eq!(*names.lock().expect("not poisoned"), [Some("made_here")]);

    // Made outside any span: the span of its first poll.
    let names = Arc::new(Mutex::new(Vec::new()));
    let stream = decode_stream(body(vec![Bytes::from_static(b"abc")]), SpanOfFeed(names.clone()));
    drain(stream).instrument(tracing::info_span!("polled_here")).await;
    assert_eq!(*names.lock().expect("not poisoned"), [Some("polled_here")]);
}

/// Without a runtime the stream decodes inline, with the same results.
#[test]
fn without_a_runtime_it_decodes_inline() {
    futures::executor::block_on(async {
        assert!(tokio::runtime::Handle::try_current().is_err());
        for chunk in CHUNK_SIZES {
            let (records, err) = drain(ndjson::<u64, _>(
                body(numbers(5000, chunk)),
                DecodeOptions::default(),
            ))
            .await;
            assert!(err.is_none());
            assert_eq!(records, (0..5000).collect::<Vec<_>>());

            let mut text: String = (0..700).map(|n| format!("{n}\n")).collect();
            text.push_str("x\n1\n");
            let chunks = text
                .as_bytes()
                .chunks(chunk)
                .map(Bytes::copy_from_slice)
                .collect();
            let (records, err) = drain(ndjson::<u64, _>(body(chunks), DecodeOptions::default())).await;
            assert_eq!(records, (0..700).collect::<Vec<_>>());
            assert_eq!(err.expect("an error").kind(), ErrorKind::Decode);
        }
    });
}

/// A stream made inside a runtime but polled without one still works: the task is
/// spawned at the first poll, on the runtime of that poll (here: none).
#[test]
fn a_stream_made_in_a_runtime_can_be_polled_outside_it() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let stream =
        runtime.block_on(async { ndjson::<u64, _>(body(numbers(1000, 100)), DecodeOptions::default()) });
    drop(runtime);
    let (records, err) = futures::executor::block_on(drain(stream));
    assert!(err.is_none());
    assert_eq!(records, (0..1000).collect::<Vec<_>>());
}

/// A task cancelled by its runtime shutting down ends the stream with an error, never as
/// if the body were complete.
#[test]
fn a_task_cancelled_by_its_runtime_is_an_error() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let body = futures::stream::iter([Ok(Bytes::from_static(b"1\n"))]).chain(futures::stream::pending());
    let mut stream = ndjson::<u64, _>(body, DecodeOptions::default());
    let first = runtime.block_on(stream.next());
    assert_eq!(first.expect("a record").expect("it decodes"), 1);
    drop(runtime);
    let (records, err) = futures::executor::block_on(drain(stream));
    assert!(records.is_empty());
    assert_eq!(err.expect("an error").kind(), ErrorKind::Transport);
}
