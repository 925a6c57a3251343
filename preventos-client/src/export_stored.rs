//! A stored export window by window: the bytes each window adds to the stored document,
//! with the checkpoint after them, so that a program killed while writing a file
//! finishes the same file on its next run. [`Export::copy_to`] is this, written whole.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use client_core::{Checkpoint, Position, RecordStream};
use futures::StreamExt;
use jiff::Timestamp;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::export::Export;
use crate::export_sink::{Sink, SinkState};
use crate::export_windows::Counters;

/// One window of a stored export: the bytes it adds to the document that
/// [`Export::copy_to`] writes, and the checkpoint after them.
///
/// The first window's bytes start the document (the CSV header, the JSON prefix with
/// the first response's `meta`); the last one's end it (the JSON `]`, `]}`); the bytes
/// of all windows, in order, are the stored document, byte for byte the one
/// [`Export::copy_to`] writes.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StoredWindow {
    /// The window's start (inclusive).
    pub from: Timestamp,
    /// The window's end (exclusive).
    pub to: Timestamp,
    /// What the window adds to the document.
    pub bytes: Bytes,
    /// Records (lines, rows, elements) in `bytes`.
    pub records: u64,
    /// Values requests sent while the window was read (413s included, and windows
    /// fetched with every signal then dropped when the first window showed records by
    /// signal; with windows fetched at once, some may be of the windows after it): their
    /// sum over a run is every values request it sent.
    pub requests: u64,
    /// Parts of the window whose records came in no recognisable order (kept as sent).
    pub unordered: u64,
    /// Records stored so far by this export, in every run (this window's included).
    pub records_total: u64,
    /// Bytes stored so far by this export, in every run (this window's included).
    pub bytes_total: u64,
    /// Where the export stands after `bytes`: append them, then store this (in that
    /// order, both durably), and give it to [`Export::resume_from`] after a crash. It is
    /// [`Position::Done`] after the last window.
    pub checkpoint: Checkpoint,
}

impl<T> Export<T> {
    /// The stored document window by window, each window's bytes with the checkpoint
    /// after them: a file that a killed program finishes on its next run.
    ///
    /// Append each window's [`bytes`](StoredWindow::bytes) to the file, then store its
    /// [`checkpoint`](StoredWindow::checkpoint); after a crash, cut the file back to the
    /// bytes of the last stored checkpoint and call this again on the same export with
    /// [`resume_from`](Export::resume_from) that checkpoint: the rest of the windows
    /// follow, so the finished file equals the file of an uninterrupted run, byte for
    /// byte. A checkpoint of a stored export holds the document's state too (whether
    /// the CSV header or JSON prefix is written, the first header, records and bytes so
    /// far); one from [`pages`](Export::pages) or
    /// [`checkpointed`](Export::checkpointed) does not, and is a `Config` error here
    /// (except a `Start` or `Done` one).
    ///
    /// ```no_run
    /// use preventos_client::{Checkpoint, Client, TryStreamExt};
    ///
    /// # async fn append(_: &[u8]) {}
    /// # async fn save(_: &Checkpoint) {}
    /// # async fn run(client: Client, saved: Option<Checkpoint>) -> Result<(), preventos_client::Error> {
    /// let day = preventos_client::jiff::civil::date(2026, 5, 31);
    /// let mut export = client
    ///     .export("100", "site-ref", ["Velocity", "Depth"])
    ///     .date(day)
    ///     .time_zone("Europe/Helsinki");
    /// // `saved`: the checkpoint saved last; `None` only when there is none: one that
    /// // does not parse is an error, since starting over would repeat every record.
    /// if let Some(checkpoint) = saved {
    ///     export = export.resume_from(checkpoint);
    /// }
    /// let mut windows = export.stored_windows();
    /// while let Some(window) = windows.try_next().await? {
    ///     append(&window.bytes).await; // and sync
    ///     save(&window.checkpoint).await; // then the checkpoint, atomically
    /// }
    /// # Ok(()) }
    /// ```
    pub fn stored_windows(self) -> RecordStream<StoredWindow, Error> {
        let params = self.params;
        RecordStream::new(async_stream::try_stream! {
            let sink_state = match &params.resume {
                Some(checkpoint) => sink_state_of(checkpoint)?,
                None => None,
            };
            let Some(begin) = params.begin().await? else {
                return;
            };
            let mut sink = match sink_state {
                Some(state) => Sink::restore(params.format, params.meta, state),
                None => Sink::new(params.format, params.meta),
            };
            let counters = std::sync::Arc::new(Counters::default());
            let mut windows = params.windows(begin.from, begin.state.clone(), counters.clone());
            let mut requests = 0;
            let mut unordered = 0;
            while let Some(window) = windows.next().await {
                let (window, next) = window?;
                let records_before = sink.records;
                let requests_before = std::mem::replace(&mut requests, counters.requests.load(Ordering::Relaxed));
                let unordered_before = std::mem::replace(&mut unordered, counters.unordered.load(Ordering::Relaxed));
                // About what the window adds: its records, a line break or comma each, and
                // a header or envelope at the start.
                let size: usize = window
                    .bodies
                    .iter()
                    .map(|body| body.records.iter().map(|r| r.text.len() + 2).sum::<usize>() + 256)
                    .sum();
                let mut bytes = Vec::with_capacity(size);
                for body in window.bodies {
                    sink.write(body, &mut bytes)?;
                }
                if next.is_none() {
                    sink.finish(&mut bytes);
                }
                let mut checkpoint = begin.checkpoint_after(&next)?;
                if let Value::Object(state) = std::sync::Arc::make_mut(&mut checkpoint.state) {
                    let sink = serde_json::to_value(sink.state())
                        .map_err(|e| Error::config(format!("a stored export's state is not JSON: {e}")))?;
                    state.insert("sink".to_owned(), sink);
                }
                yield StoredWindow {
                    from: window.from,
                    to: window.to,
                    bytes: Bytes::from(bytes),
                    records: sink.records - records_before,
                    requests: requests - requests_before,
                    unordered: unordered - unordered_before,
                    records_total: sink.records,
                    bytes_total: sink.bytes,
                    checkpoint,
                };
            }
        })
    }
}

/// The document's state in a stored export's checkpoint: `None` to start a new
/// document (a `Start` checkpoint), an error for a checkpoint inside the document
/// without one (from `pages` or `checkpointed`).
fn sink_state_of(checkpoint: &Checkpoint) -> Result<Option<SinkState>> {
    match (&checkpoint.position, checkpoint.state.get("sink")) {
        (Position::Start | Position::Done, _) => Ok(None),
        (Position::Window { skip: 0, .. }, Some(sink)) => {
            serde_json::from_value(sink.clone()).map(Some).map_err(|e| {
                Error::config(format!(
                    "the checkpoint's document state is not a stored export's: {e}"
                ))
            })
        }
        _ => Err(Error::config(
            "the checkpoint is not one of `stored_windows`: resume a stored file from the checkpoint stored with it",
        )),
    }
}
