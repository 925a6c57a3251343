//! The auto-split export: its builder, [`Client::export`], and its terminals.
//!
//! Its parameters are in `export_params.rs`, planning in `export_plan.rs`, fetching the
//! windows in `export_windows.rs`, the record order in `record_order.rs`, and the stored
//! document in `export_sink.rs`; none of them imports this file.

use std::fmt;
use std::marker::PhantomData;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use client_core::{Checkpoint, Checkpointed, DecodeOptions, RecordStream, RequestPreview, Window};
use futures::{StreamExt, TryStreamExt};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::de::DeserializeOwned;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::catalog::Catalog;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::export_checkpoint::Begin;
use crate::export_params::{ExportParams, ExportRange};
use crate::export_windows::{Counters, FetchedWindow};
use crate::format::{CsvPreset, Format};
use crate::format_decoding::Decoding;
use crate::record::Record;

/// Windows fetched at once by default. Exports are latency-bound (a window is one
/// request of a few MB): four requests in flight cut a long export's wall time about
/// fourfold on a distant API, while the load on the server and the memory held (at
/// most eight windows, each within the budget: see [`Export::concurrency`]) stay small.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// The most windows fetched at once: a larger [`Export::concurrency`] is taken as this
/// (each window held may be up to the budget's size, and twice the concurrency are held).
pub const MAX_CONCURRENCY: usize = 32;

/// An export of some signals of one site over a local day or a range, however long.
///
/// Windows come from the catalog (the finest `baseInterval`, the distinct DB queries,
/// `limits.maxRawDbPoints`): give it with [`Export::catalog`], or the export reads it
/// once with `?environments=<env>`. When the server still answers 413 for a window,
/// the window is cut again to the server's recommended length (or halved); a 413 that
/// would cut one window into more than 10 000 windows fails the export with an
/// `InvalidRequest` naming the recommended range, rather than planning them. Each window
/// is asked for with a second of overlap at both ends and trimmed locally to its
/// half-open `[start, end)`, so nothing is lost or repeated at a boundary whatever the
/// server's inclusive/exclusive convention.
///
/// - [`Export::write_to`] and [`Export::copy_to`] store the range **losslessly**: the
///   content the one request of the whole range would have returned. NDJSON lines, CSV
///   rows and JSON elements keep the server's exact text; only their timestamp (and
///   signal) is read. CSV keeps the first window's header (later ones must be equal);
///   JSON keeps the first window's `meta`. One code path writes the file whether the
///   range needs one window or many.
/// - [`Export::stream`] yields the records decoded into `T` (by default [`Record`];
///   [`Export::records`] for your own type; a CSV export's rows need a row type of your
///   own, as [`ValuesQuery::stream`](crate::ValuesQuery::stream) shows),
///   [`Export::pages`] one [`Window`] per planned window.
/// - [`Export::to_request`] shows the first request the export sends: the first
///   window's values request with [`Export::catalog`], else the catalog request.
///
/// Order: when the server sends records by signal, then time, a range of several
/// windows is fetched signal by signal, so the stored file is ordered as the one request
/// would be. The first window tells; the windows after it go out with it, on the guess
/// that records come by time, and are dropped unread if they do not (their requests
/// counted in [`ExportSummary::requests`]). Records in no recognisable order are kept, in the server's order window by
/// window, and counted in [`ExportSummary::unordered_windows`]. Each window is held in
/// memory while it is written: a window is at most the budget, and a window body over
/// 64 MiB is an error (`RecordTooLarge`) rather than a buffer without end.
///
/// A budget-safe daily file is one call:
///
/// ```no_run
/// use preventos_client::{Client, CsvPreset, Format};
///
/// # async fn run(client: Client) -> Result<(), preventos_client::Error> {
/// let day = preventos_client::jiff::civil::date(2026, 5, 31);
/// let summary = client
///     .export("100", "site-ref", ["Velocity", "Depth"])
///     .date(day)
///     .time_zone("Europe/Helsinki")
///     .format(Format::Csv)
///     .csv_preset(CsvPreset::Finnish)
///     .write_to("2026-05-31.csv")
///     .await?;
/// println!("{} rows in {} requests", summary.records, summary.requests);
/// # Ok(()) }
/// ```
///
/// # Checkpoints
///
/// Each [`Window`] from [`Export::pages`] carries the checkpoint after it
/// ([`Position::Window`](client_core::Position::Window) at the next window's start, or
/// [`Position::Done`](client_core::Position::Done)), and [`Export::checkpointed`] gives
/// each record with the checkpoint right after it. Store the checkpoint (it is serde,
/// JSON say) with what you made of the records; after a crash, the same export with
/// [`Export::resume_from`] goes on after the last record stored, so that every record
/// is yielded exactly once across both runs. The checkpoint's `state` holds how the
/// windows are cut from its position on: the window length planned from the catalog
/// when the export started, and whether the export reads all signals together or
/// signal by signal (then the signals' order and each one's window length). A resumed
/// export cuts the same windows without reading the catalog again. Windows fetched at
/// once are yielded in order, so a checkpoint never claims a later window done before
/// an earlier one.
///
/// A checkpoint inside a window (`skip` > 0) assumes the server answers that window
/// again with the same records in the same order: the resumed export drops the first
/// `skip` records of it. A record added or removed inside that window (before the skip
/// point) between the kill and the resume shifts the skip: one record is then lost or
/// repeated. A checkpoint after a window (`skip` 0) has no such risk; those of
/// [`Export::stored_windows`] always are.
///
/// ```no_run
/// use preventos_client::{Checkpoint, Client, Record, StreamExt};
///
/// # async fn store(_: &Record, _: &Checkpoint) {}
/// # async fn run(client: Client, stored: Option<Checkpoint>) -> Result<(), preventos_client::Error> {
/// let day = preventos_client::jiff::civil::date(2026, 5, 31);
/// let mut export = client
///     .export("100", "site-ref", ["Velocity", "Depth"])
///     .date(day)
///     .time_zone("Europe/Helsinki");
/// // `stored`: the checkpoint stored last; `None` only when there is none: one that
/// // does not parse is an error, since starting over would repeat every record.
/// if let Some(checkpoint) = stored {
///     // A checkpoint of another export (other signals, day, format...) is a Config error.
///     export = export.resume_from(checkpoint);
/// }
/// let mut records = export.checkpointed();
/// while let Some(next) = records.next().await {
///     let next = next?;
///     // Store the record and its checkpoint together (one transaction, say).
///     store(&next.item, &next.checkpoint).await;
/// }
/// # Ok(()) }
/// ```
///
/// [`Export::copy_to`] and [`Export::write_to`] store the whole range in one go (a
/// resumed export is refused there, with an `InvalidRequest`): to store a file that a
/// killed program finishes, append the bytes of [`Export::stored_windows`] and store
/// their checkpoints.
#[must_use = "an export does nothing until written or streamed"]
pub struct Export<T = Record> {
    pub(crate) params: ExportParams,
    _records: PhantomData<fn() -> T>,
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ExportSummary {
    /// Values requests sent (windows, 413s and re-planned windows included, and windows
    /// fetched with every signal then dropped when the first window showed records by
    /// signal).
    pub requests: u64,
    /// Records written.
    pub records: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Windows whose records came in no recognisable order (kept as sent).
    pub unordered_windows: u64,
}

impl Client {
    /// An auto-split export of `signal_ids` at `site`, in NDJSON unless
    /// [`Export::format`] says otherwise. Set what it covers with [`Export::date`] or
    /// [`Export::range`].
    pub fn export<I, S>(&self, env: &str, site: &str, signal_ids: I) -> Export
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let params = ExportParams {
            client: self.clone(),
            env: env.to_owned(),
            site: site.to_owned(),
            signals: signal_ids.into_iter().map(Into::into).collect(),
            range: None,
            tzi: None,
            format: Format::Ndjson,
            csv_preset: None,
            meta: None,
            concurrency: DEFAULT_CONCURRENCY,
            catalog: None,
            resume: None,
        };
        Export {
            params,
            _records: PhantomData,
        }
    }
}

impl<T> Clone for Export<T> {
    fn clone(&self) -> Self {
        Export {
            params: self.params.clone(),
            _records: PhantomData,
        }
    }
}

impl<T> Export<T> {
    /// The same export, decoding records into your own type `U`.
    pub fn records<U>(self) -> Export<U> {
        Export {
            params: self.params,
            _records: PhantomData,
        }
    }

    /// One local day in the export's [time zone](Self::time_zone) (UTC unless set):
    /// the same records as a values request with `date`, in as many windows as the
    /// budget needs.
    pub fn date(mut self, day: Date) -> Self {
        self.params.range = Some(ExportRange::Date(day));
        self
    }

    /// The half-open range `[from, to)`.
    pub fn range(mut self, from: Timestamp, to: Timestamp) -> Self {
        self.params.range = Some(ExportRange::Instants(from, to));
        self
    }

    /// The IANA time zone of [`date`](Self::date) and of returned timestamps (`tzi`).
    pub fn time_zone(mut self, tzi: &str) -> Self {
        self.params.tzi = Some(tzi.to_owned());
        self
    }

    /// The format of the requests and of the stored file (default NDJSON).
    pub fn format(mut self, format: Format) -> Self {
        self.params.format = format;
        self
    }

    /// The CSV preset.
    pub fn csv_preset(mut self, preset: CsvPreset) -> Self {
        self.params.csv_preset = Some(preset);
        self
    }

    /// JSON: `meta=false` asks for a bare array.
    pub fn meta(mut self, meta: bool) -> Self {
        self.params.meta = Some(meta);
        self
    }

    /// How many windows are fetched at once: at most this many values requests are in
    /// flight (default [`DEFAULT_CONCURRENCY`]; 0 is refused when the export starts,
    /// like every client's `page_size(0)`). The next request goes out as soon as a body
    /// has arrived, while the windows before it are trimmed and written, so 1 fetches
    /// one window at a time with no pause between them. Windows are written in order
    /// whatever order they arrive in; at most twice this many windows are held in memory
    /// (those in flight, and those arrived and waiting to be written, the one being
    /// written included). More than [`MAX_CONCURRENCY`] is taken as that.
    pub fn concurrency(mut self, windows: usize) -> Self {
        self.params.concurrency = windows.min(MAX_CONCURRENCY);
        self
    }

    /// Plans the windows from `catalog` instead of reading the catalog when the export
    /// starts (a daemon reads it once per pass).
    pub fn catalog(mut self, catalog: &Catalog) -> Self {
        self.params.catalog = Some(Arc::new(catalog.clone()));
        self
    }

    /// The half-open range `[from, to)` of the export: its `date` in its time zone, or
    /// its `range`.
    pub fn bounds(&self) -> Result<(Timestamp, Timestamp)> {
        self.params.bounds()
    }

    /// The windows the catalog plans for this export: the longest window within the
    /// budget, less one base interval for the overlap. A signal without `baseInterval`
    /// gives one window (the server decides).
    pub fn plan(&self, catalog: &Catalog) -> Result<Vec<(Timestamp, Timestamp)>> {
        self.params.plan(catalog)
    }

    /// The first request the export sends, without sending it, after the same checks:
    /// with [`Export::catalog`], the values request of the first planned window (with
    /// its second of overlap at both ends); without, the catalog request it reads the
    /// plan from (`GET data-catalog?environments=<env>`).
    pub fn to_request(&self) -> Result<RequestPreview> {
        let (from, to) = self.params.bounds()?;
        let Some(catalog) = self.params.catalog.as_deref() else {
            return self
                .params
                .client
                .catalog()
                .environments([&self.params.env])
                .to_request();
        };
        let (start, end) = self.params.plan(catalog)?.first().copied().unwrap_or((from, to));
        self.params.window_request(start, end).to_request()
    }

    /// Writes the range to `writer` (which holds a partial copy if this fails: use
    /// [`Export::write_to`] when that must never be visible).
    pub async fn copy_to<W>(self, writer: &mut W) -> Result<ExportSummary>
    where
        W: AsyncWrite + Unpin + ?Sized,
    {
        if self.params.resume.is_some() {
            return Err(Error::resumed_store(
                "store a resumable file with `stored_windows` (each window's bytes, then its checkpoint)",
            ));
        }
        let mut summary = ExportSummary::default();
        let mut windows = self.stored_windows();
        while let Some(window) = windows.try_next().await? {
            writer.write_all(&window.bytes).await?;
            summary.requests += window.requests;
            summary.unordered_windows += window.unordered;
            summary.records = window.records_total;
            summary.bytes = window.bytes_total;
        }
        writer.flush().await?;
        Ok(summary)
    }
}

impl<T: DeserializeOwned + Send + 'static> Export<T> {
    /// Writes the range to `path` atomically: the file appears, complete, only when
    /// every window arrived.
    pub async fn write_to(self, path: impl AsRef<Path> + Send) -> Result<ExportSummary> {
        client_core::Storable::write_to(self, path).await
    }

    /// One [`Window`] per planned window (per signal and window when the server sends
    /// records by signal), its records trimmed to it and decoded into `T` from the
    /// server's text: NDJSON and JSON records one by one, CSV rows by header name into
    /// a row type of your own (decoding CSV rows into [`Record`] or
    /// [`RawRecord`](crate::RawRecord) is an `InvalidRequest`, refused before anything
    /// is sent; store the rows as sent with [`Export::write_to`]).
    pub fn pages(self) -> RecordStream<Window<T>, Error> {
        let decoding = self.decoding();
        let resume = self.params.resume.clone();
        RecordStream::new(async_stream::try_stream! {
            decoding.check_record_type::<T>("`write_to` or `copy_to` for the rows as sent")?;
            let Some(begin) = self.params.begin().await? else {
                return;
            };
            let mut windows = client_core::shape::resume_pages(self.decoded(begin, decoding), resume.as_ref());
            while let Some(window) = windows.next().await {
                yield window?;
            }
        })
    }

    /// The windows from `begin`, decoded, each with the checkpoint after it.
    fn decoded(&self, begin: Begin, decoding: Decoding) -> RecordStream<Window<T>, Error> {
        let params = self.params.clone();
        RecordStream::new(async_stream::try_stream! {
            let counters = Arc::new(Counters::default());
            let mut windows = params.windows(begin.from, begin.state.clone(), counters);
            while let Some(window) = windows.next().await {
                let (window, next) = window?;
                let checkpoint = begin.checkpoint_after(&next)?;
                yield decode_window(window, decoding).await?.with_checkpoint(Some(checkpoint));
            }
        })
    }

    /// The same export, going on after `checkpoint`: one that this export's
    /// [`pages`](Self::pages) or [`checkpointed`](Self::checkpointed) gave (same
    /// environment, site, signals, range, time zone, format, preset and `meta`; the
    /// concurrency, the catalog and the record type may differ). The windows are cut as
    /// the checkpoint's state says, so the catalog is not read again. A checkpoint of
    /// another export is a `Config` error when the export starts; a
    /// [`Done`](client_core::Position::Done) one yields nothing.
    pub fn resume_from(mut self, checkpoint: Checkpoint) -> Self {
        self.params.resume = Some(checkpoint);
        self
    }

    /// Every record (as [`stream`](Self::stream)) with the checkpoint right after it:
    /// store the checkpoint with what you made of the record, and give it to
    /// [`resume_from`](Self::resume_from) to go on after it.
    pub fn checkpointed(self) -> RecordStream<Checkpointed<T>, Error> {
        let decoding = self.decoding();
        let resume = self.params.resume.clone();
        RecordStream::new(async_stream::try_stream! {
            decoding.check_record_type::<T>("`write_to` or `copy_to` for the rows as sent")?;
            let Some(begin) = self.params.begin().await? else {
                return;
            };
            let start = begin.start.clone();
            let windows = client_core::shape::resume_pages(self.decoded(begin, decoding), resume.as_ref());
            let mut items = client_core::shape::checkpointed(windows, start);
            while let Some(item) = items.next().await {
                yield item?;
            }
        })
    }

    fn decoding(&self) -> Decoding {
        Decoding::new(
            self.params.format,
            self.params.csv_preset.as_ref(),
            self.params.meta,
            // Uncounted: `decode_window` counts each window's records once, whatever the
            // format.
            DecodeOptions::default(),
        )
    }

    /// Every record of the range, decoded into `T` (see [`Export::pages`]).
    pub fn stream(self) -> RecordStream<T, Error> {
        RecordStream::new(
            self.pages()
                .map_ok(|window| futures::stream::iter(window.items.into_iter().map(Ok)))
                .try_flatten(),
        )
    }
}

/// The records of a fetched window decoded from their text: JSON records one by one,
/// CSV rows by header name (the window's header, then its trimmed rows, as one body).
async fn decode_window<T>(window: FetchedWindow, decoding: Decoding) -> Result<Window<T>>
where
    T: DeserializeOwned + Send + 'static,
{
    let mut items = Vec::new();
    for body in window.bodies {
        match body.header {
            Some(header) => {
                let mut text = header;
                for record in &body.records {
                    text.extend_from_slice(&record.text);
                    if !record.terminated() {
                        text.push(b'\n');
                    }
                }
                let rows = decoding.records::<T, _>(futures::stream::iter([Ok(Bytes::from(text))]));
                items.extend(rows.try_collect::<Vec<T>>().await?);
            }
            None => {
                for record in body.records {
                    let fast = client_core::decode::fast_path::<T, crate::Record>();
                    let item =
                        client_core::decode::fast_json::from_slice_fast(&record.text, fast).map_err(|e| {
                            Error::decode(format!("record {} at {}: {e}", items.len() + 1, record.at))
                        })?;
                    items.push(item);
                }
            }
        }
    }
    client_core::metrics::records(crate::client::METRICS_LABEL, items.len() as u64);
    Ok(Window::new(window.from, window.to, items, window.requests))
}

client_core::verbs! {
    impl[T: DeserializeOwned + Send + 'static] Export<T> {
        error: Error;
        stream: T;
        pages: Window<T>;
        store: ExportSummary;
        resume: T;
    }
}

impl<T> fmt::Debug for Export<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Export")
            .field("env", &self.params.env)
            .field("site", &self.params.site)
            .field("signals", &self.params.signals)
            .field("range", &self.params.range)
            .field("tzi", &self.params.tzi)
            .field("format", &self.params.format)
            .field("csv_preset", &self.params.csv_preset)
            .field("meta", &self.params.meta)
            .field("concurrency", &self.params.concurrency)
            .field("catalog", &self.params.catalog.is_some())
            .field("resume", &self.params.resume)
            .finish()
    }
}
