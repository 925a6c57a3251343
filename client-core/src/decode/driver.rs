//! Turns a push decoder and a byte stream into a stream of records.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{Instrument, Span};

use super::bom::BomSkipper;
use crate::error::{Error, ErrorKind, Result};

/// A decoder fed one chunk at a time. Records completed by a chunk are appended to
/// `out`; on error the records before the bad one are in `out` and the error is returned.
pub trait ChunkDecoder<T>: Send {
    /// Decodes what `chunk` completes.
    fn feed(&mut self, chunk: &[u8], out: &mut Vec<T>) -> Result<()>;
    /// Called once at the end of the body: decodes what remains, or reports truncation.
    fn finish(&mut self, out: &mut Vec<T>) -> Result<()>;
    /// The `api` label under which [`decode_stream`] counts the records decoded, a batch
    /// at a time, in [`metrics::RECORDS`](crate::metrics::RECORDS) (the built-in decoders
    /// give [`DecodeOptions::metrics_label`](super::DecodeOptions::metrics_label));
    /// `None`, the default, counts nothing.
    fn metrics_label(&self) -> Option<&'static str> {
        None
    }
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

/// A batch is closed once it holds this many records (this bounds small records; records
/// of more than 64 bytes of input reach [`BATCH_BYTES`] first). Fewer, larger batches
/// cost less: each hand-over may wake a thread...
const BATCH_RECORDS: usize = 1024;
/// ...or once this much input (after the byte-order mark) went into it.
const BATCH_BYTES: usize = 64 * 1024;
/// The decoder is fed at most this much input at a time, so that a batch overshoots
/// [`BATCH_RECORDS`] by at most the records of one slice.
const SLICE_BYTES: usize = 8 * 1024;
/// The batches the decoding task may hold decoded ahead of the consumer (the one it is
/// filling included). A deep queue lets the decoder and the consumer run on two cores
/// without waiting on each other: with 2 the consumer often found it empty (or the
/// decoder full) and each side parked and woke the other per batch. Measured on the
/// Preventos NDJSON stream (80-byte records, 10M, `cargo bench -p preventos-client
/// --bench stream -- python 10000000`): 2 ahead 7.6–8.8M records/s, 4 ahead 8.5–10.5M,
/// 8 ahead 10.5–11.3M, 16 ahead 12.0–13.3M, 32 ahead no more.
const BATCHES_AHEAD: usize = 16;

/// Runs `decoder` over `body`, without the UTF-8 byte-order mark the body may start
/// with. Nothing is read until the stream is polled.
///
/// **A task of its own.** On a tokio runtime, the first poll spawns a task (on the
/// runtime of that poll) that reads the body and runs the decoder, so that decoding
/// overlaps with what the consumer does with the records. The task runs in the tracing
/// span that was current when the stream was made (or, if none was, when it was first
/// polled). It hands the records over in batches through a bounded channel:
/// - a batch is closed after 1024 records or 64 KiB of input, whichever comes first
///   (the input is fed to the decoder in slices of at most 8 KiB, so a batch holds at
///   most 1023 records plus those of one slice), or as soon as the body has no more
///   bytes ready: a record is never held back waiting for more (a live stream's event is
///   handed over when it arrives);
/// - the task decodes at most 16 batches ahead of the consumer, and reads nothing more
///   until the consumer takes one: memory holds at most 17 batches of records (16
///   ahead, 1 being handed out; at most 1 MiB of input decoded ahead), one body chunk
///   as the transport delivered it, and what the decoder keeps (the record in
///   progress, at most
///   [`DecodeOptions::max_record_size`](super::DecodeOptions::max_record_size));
///   a consumer that stops polling stops the reading of the body at most 1 MiB of
///   input (and the rest of one chunk) past the batch it is at. Deep enough that the
///   decoder and the consumer rarely wait on each other on two cores.
///
/// **The same results.** The records come in the body's order, every record before an
/// error comes before that error, and the stream ends after its first error. Dropping
/// the stream aborts the task: the body (and so the connection) is dropped promptly, at
/// the latest once the task has decoded the batch it is at. A panic in the decoder is
/// resumed in the consumer's poll. If the task is cancelled otherwise
/// (its runtime shut down while the stream is polled elsewhere), the stream ends with
/// an [`ErrorKind::Transport`] error, never as if the body were complete.
///
/// **Without a runtime** at the first poll (a stream driven by
/// `futures::executor::block_on`, say), the stream decodes inline, in its own polls, in
/// the same batches and with the same results.
pub fn decode_stream<T, D, S>(body: S, decoder: D) -> RecordStream<T>
where
    T: Send + 'static,
    D: ChunkDecoder<T> + 'static,
    S: Stream<Item = Result<Bytes>> + Send + 'static,
{
    RecordStream::new(Decoded {
        state: State::Idle {
            pump: Pump::new(body, decoder),
            span: Span::current(),
        },
        records: Vec::new().into_iter(),
        end: None,
    })
}

/// Records decoded together, and, on the last batch, how the body ended.
struct Batch<T> {
    records: Vec<T>,
    /// `Some` on the last batch: `Ok` when the body was complete, else its error (which
    /// comes after `records`).
    end: Option<Result<()>>,
}

/// The body and its decoder: cuts the decoded records into batches.
struct Pump<D, S> {
    body: Pin<Box<S>>,
    decoder: D,
    /// A byte-order mark is not data: no decoder sees it.
    bom: BomSkipper,
    /// What is left of the chunk being fed.
    chunk: Bytes,
    /// Where the records decoded are counted (see [`ChunkDecoder::metrics_label`]).
    counted: Option<metrics::Counter>,
}

impl<D, S> Pump<D, S>
where
    S: Stream<Item = Result<Bytes>>,
{
    fn new<T>(body: S, decoder: D) -> Self
    where
        D: ChunkDecoder<T>,
    {
        let counted = decoder.metrics_label().map(crate::metrics::records_counter);
        Pump {
            body: Box::pin(body),
            decoder,
            bom: BomSkipper::new(),
            chunk: Bytes::new(),
            counted,
        }
    }

    /// The next batch, its records counted in the metrics. After a batch with an `end`,
    /// it must not be called again.
    async fn next_batch<T>(&mut self) -> Batch<T>
    where
        D: ChunkDecoder<T>,
    {
        let batch = self.decode_batch().await;
        if let Some(counted) = &self.counted {
            counted.increment(batch.records.len() as u64);
        }
        batch
    }

    /// [`Pump::next_batch`], uncounted.
    async fn decode_batch<T>(&mut self) -> Batch<T>
    where
        D: ChunkDecoder<T>,
    {
        let mut records = Vec::new();
        let mut fed = 0;
        loop {
            if !self.chunk.is_empty() {
                let slice = self
                    .chunk
                    .split_to(self.chunk.len().min(SLICE_BYTES).min(BATCH_BYTES - fed));
                fed += slice.len();
                if let Err(err) = self.decoder.feed(&slice, &mut records) {
                    return Batch {
                        records,
                        end: Some(Err(err)),
                    };
                }
                if records.len() >= BATCH_RECORDS || fed >= BATCH_BYTES {
                    return Batch { records, end: None };
                }
                continue;
            }
            let next = if records.is_empty() {
                self.body.next().await
            } else {
                // Records are never held back waiting for bytes that are not there yet.
                let body = &mut self.body;
                match std::future::poll_fn(|cx| Poll::Ready(body.as_mut().poll_next(cx))).await {
                    Poll::Ready(next) => next,
                    Poll::Pending => return Batch { records, end: None },
                }
            };
            match next {
                Some(Ok(chunk)) => {
                    self.chunk = match self.bom.strip(&chunk) {
                        Cow::Borrowed([]) => Bytes::new(),
                        Cow::Borrowed(data) => chunk.slice_ref(data),
                        Cow::Owned(data) => Bytes::from(data),
                    };
                }
                Some(Err(err)) => {
                    return Batch {
                        records,
                        end: Some(Err(err)),
                    };
                }
                None => {
                    // A body that is only the start of a mark: those bytes are data.
                    let held = self.bom.finish();
                    let result = if held.is_empty() {
                        Ok(())
                    } else {
                        self.decoder.feed(&held, &mut records)
                    };
                    let result = result.and_then(|()| self.decoder.finish(&mut records));
                    return Batch {
                        records,
                        end: Some(result),
                    };
                }
            }
        }
    }
}

/// The stream behind [`decode_stream`].
struct Decoded<T, D, S> {
    state: State<T, D, S>,
    /// The batch being handed out.
    records: std::vec::IntoIter<T>,
    /// How the body ended, once the last batch came: handed out after `records`.
    end: Option<Result<()>>,
}

// No field is structurally pinned: the body is boxed and pinned on its own.
impl<T, D, S> Unpin for Decoded<T, D, S> {}

enum State<T, D, S> {
    /// Not polled yet: nothing read.
    Idle { pump: Pump<D, S>, span: Span },
    /// Decoding on a task of its own.
    Task {
        batches: mpsc::Receiver<Batch<T>>,
        task: AbortOnDrop,
    },
    /// Decoding in the stream's own polls (no runtime to spawn on).
    Inline(Pin<Box<dyn Stream<Item = Batch<T>> + Send>>),
    /// The last batch came (or the task failed): nothing more.
    Done,
}

/// The decoding task, aborted when the stream lets go of it.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T, D, S> Decoded<T, D, S>
where
    T: Send + 'static,
    D: ChunkDecoder<T> + 'static,
    S: Stream<Item = Result<Bytes>> + Send + 'static,
{
    /// Starts decoding: on a task when there is a runtime, else inline.
    fn start(&mut self) {
        let State::Idle { pump, span } = std::mem::replace(&mut self.state, State::Done) else {
            return;
        };
        let mut pump = pump;
        self.state = match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let span = if span.is_none() { Span::current() } else { span };
                let (sender, batches) = mpsc::channel(BATCHES_AHEAD);
                let task = runtime.spawn(
                    async move {
                        // A slot first, then the batch: nothing is read or decoded ahead
                        // of the room to hand it over.
                        while let Ok(slot) = sender.reserve().await {
                            let batch = pump.next_batch().await;
                            let last = batch.end.is_some();
                            slot.send(batch);
                            if last {
                                break;
                            }
                        }
                    }
                    .instrument(span),
                );
                State::Task {
                    batches,
                    task: AbortOnDrop(task),
                }
            }
            Err(_) => State::Inline(Box::pin(futures::stream::unfold(Some(pump), |pump| async move {
                let mut pump = pump?;
                let batch = pump.next_batch().await;
                let last = batch.end.is_some();
                Some((batch, (!last).then_some(pump)))
            }))),
        };
    }
}

impl<T, D, S> Stream for Decoded<T, D, S>
where
    T: Send + 'static,
    D: ChunkDecoder<T> + 'static,
    S: Stream<Item = Result<Bytes>> + Send + 'static,
{
    type Item = Result<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(record) = this.records.next() {
                return Poll::Ready(Some(Ok(record)));
            }
            if let Some(end) = this.end.take() {
                this.state = State::Done;
                return Poll::Ready(end.err().map(Err));
            }
            let batch = match &mut this.state {
                State::Idle { .. } => {
                    this.start();
                    continue;
                }
                State::Task { batches, task } => match ready!(batches.poll_recv(cx)) {
                    Some(batch) => batch,
                    None => {
                        // The task is gone without its last batch: it panicked, or it
                        // was cancelled.
                        let joined = ready!(Pin::new(&mut task.0).poll(cx));
                        this.state = State::Done;
                        match joined {
                            Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
                            _ => return Poll::Ready(Some(Err(cancelled()))),
                        }
                    }
                },
                State::Inline(batches) => match ready!(batches.as_mut().poll_next(cx)) {
                    Some(batch) => batch,
                    // Not reached: the last batch has an end, and then the state is Done.
                    None => {
                        this.state = State::Done;
                        return Poll::Ready(None);
                    }
                },
                State::Done => return Poll::Ready(None),
            };
            this.records = batch.records.into_iter();
            this.end = batch.end;
        }
    }
}

/// The error for a decoding task that stopped before the body's end.
fn cancelled() -> Error {
    Error::new(
        ErrorKind::Transport,
        "the response body was not read to its end: the task decoding it was cancelled \
         (its tokio runtime shut down)",
    )
}

#[cfg(test)]
mod tests;
