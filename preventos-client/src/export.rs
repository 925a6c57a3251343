//! Auto-split export: a whole range in budget-sized windows, written as the one request
//! of the range would have returned it, or streamed as typed records.

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use client_core::{AtomicFile, RecordStream, split_range};
use futures::StreamExt;
use futures::stream::BoxStream;
use jiff::{SignedDuration, Timestamp};
use serde::de::DeserializeOwned;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::catalog::Catalog;
use crate::client::Client;
use crate::error::{Error, Result, TooLarge};
use crate::plan::Cost;
use crate::record::Record;
use crate::stitch::{RawRecord, WindowBody, split};
use crate::values::{CsvPreset, Format, TimeBound};

/// How far each window's request reaches past its ends, so that no convention of the
/// API at an explicit `from` or `to` (inclusive or exclusive) loses a record; what the
/// overlap brings is trimmed away locally.
const OVERLAP: SignedDuration = SignedDuration::from_secs(1);

/// An export of some signals of one site over `[from, to)`, however long.
///
/// Windows come from the catalog (the finest `baseInterval`, the distinct DB queries,
/// `limits.maxRawDbPoints`); when the server still answers 413 for a window, the window
/// is cut again to the server's recommended length (or halved). Each window is asked
/// for with a second of overlap at both ends and trimmed locally to its half-open
/// `[start, end)`, so nothing is lost or repeated at a boundary whatever the server's
/// inclusive/exclusive convention.
///
/// - [`Export::write_to`] and [`Export::copy_to`] store the range **losslessly**: the
///   content the one request of the whole range would have returned. NDJSON lines, CSV
///   rows and JSON elements keep the server's exact text; only their timestamp (and
///   signal) is read. CSV keeps the first window's header (later ones must be equal);
///   JSON keeps the first window's `meta`. One code path writes the file whether the
///   range needs one window or many.
/// - [`Export::stream`] yields the records decoded into `T` (by default [`Record`];
///   [`Export::records`] for your own type).
///
/// Order: when the server sends records by signal, then time, a range of several
/// windows is fetched signal by signal, so the stored file is ordered as the one request
/// would be. Records in no recognisable order are kept, in the server's order window by
/// window, and counted in [`ExportSummary::unordered_windows`]. Each window is held in
/// memory while it is written (a window is at most the budget).
#[derive(Debug)]
#[must_use = "an export does nothing until written or streamed"]
pub struct Export<T = Record> {
    client: Client,
    env: String,
    site: String,
    signals: Vec<String>,
    from: Timestamp,
    to: Timestamp,
    tzi: Option<String>,
    format: Format,
    csv_preset: Option<CsvPreset>,
    meta: Option<bool>,
    concurrency: usize,
    _records: PhantomData<fn() -> T>,
}

/// Windows fetched at once by default. Exports are latency-bound (a window is one
/// request of a few MB): four requests in flight cut a long export's wall time about
/// fourfold on a distant API, while the load on the server and the memory held (at
/// most four windows, each within the budget) stay small.
pub const DEFAULT_CONCURRENCY: usize = 4;

impl<T> Clone for Export<T> {
    fn clone(&self) -> Self {
        Export {
            client: self.client.clone(),
            env: self.env.clone(),
            site: self.site.clone(),
            signals: self.signals.clone(),
            from: self.from,
            to: self.to,
            tzi: self.tzi.clone(),
            format: self.format,
            csv_preset: self.csv_preset.clone(),
            meta: self.meta,
            concurrency: self.concurrency,
            _records: PhantomData,
        }
    }
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ExportSummary {
    /// Values requests sent (windows, 413s and re-planned windows included).
    pub requests: u64,
    /// Records written.
    pub records: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Windows whose records came in no recognisable order (kept as sent).
    pub unordered_windows: u64,
}

impl Client {
    /// An auto-split export of `signal_ids` at `site` over `[from, to)`, in NDJSON unless
    /// [`Export::format`] says otherwise.
    pub fn export<I, S>(&self, env: &str, site: &str, signal_ids: I, from: Timestamp, to: Timestamp) -> Export
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Export {
            client: self.clone(),
            env: env.to_owned(),
            site: site.to_owned(),
            signals: signal_ids.into_iter().map(Into::into).collect(),
            from,
            to,
            tzi: None,
            format: Format::Ndjson,
            csv_preset: None,
            meta: None,
            concurrency: DEFAULT_CONCURRENCY,
            _records: PhantomData,
        }
    }
}

/// One window's fate.
enum Fetched {
    Body(WindowBody),
    /// 413: re-plan with windows of this length.
    TooLarge(SignedDuration),
}

impl<T> Export<T> {
    /// The same export, decoding records into your own type `U`.
    pub fn records<U>(self) -> Export<U> {
        Export {
            client: self.client,
            env: self.env,
            site: self.site,
            signals: self.signals,
            from: self.from,
            to: self.to,
            tzi: self.tzi,
            format: self.format,
            csv_preset: self.csv_preset,
            meta: self.meta,
            concurrency: self.concurrency,
            _records: PhantomData,
        }
    }

    /// How many windows are fetched at once (default [`DEFAULT_CONCURRENCY`]; at least
    /// one). They are written in order whatever order they arrive in; at most this many
    /// windows are held in memory.
    pub fn concurrency(mut self, windows: usize) -> Self {
        self.concurrency = windows.max(1);
        self
    }

    /// The time zone of returned timestamps (`tzi`).
    pub fn time_zone(mut self, tzi: &str) -> Self {
        self.tzi = Some(tzi.to_owned());
        self
    }

    /// The format of the requests and of the stored file (default NDJSON).
    pub fn format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// Fetch as JSON instead of NDJSON (the records are the same).
    pub fn json(self) -> Self {
        self.format(Format::Json)
    }

    /// The CSV preset.
    pub fn csv_preset(mut self, preset: CsvPreset) -> Self {
        self.csv_preset = Some(preset);
        self
    }

    /// JSON: `meta=false` asks for a bare array.
    pub fn meta(mut self, meta: bool) -> Self {
        self.meta = Some(meta);
        self
    }

    /// The windows the catalog plans for this export: the longest window within the
    /// budget, less one base interval for the overlap. A signal without `baseInterval`
    /// gives one window (the server decides).
    pub fn plan(&self, catalog: &Catalog) -> Result<Vec<(Timestamp, Timestamp)>> {
        let site = catalog.site(&self.env, &self.site).ok_or_else(|| {
            Error::InvalidRequest(format!(
                "site `{}` of environment `{}` is not in the catalog",
                self.site, self.env
            ))
        })?;
        let cost = match Cost::of(site, &self.signals) {
            Ok(cost) => cost,
            Err(_)
                if site
                    .signals
                    .iter()
                    .any(|s| self.signals.contains(&s.id) && s.base_interval.is_none()) =>
            {
                return Ok(vec![(self.from, self.to)]);
            }
            Err(err) => return Err(err),
        };
        let longest = cost.longest_window(catalog.limits.max_raw_db_points)?;
        // The overlap adds up to one interval to the server's rounded-up estimate.
        let longest = if longest > cost.base_interval {
            longest - cost.base_interval
        } else {
            longest
        };
        Ok(split_range(self.from, self.to, longest)?)
    }

    /// Writes the range to `path` atomically: the file appears, complete, only when
    /// every window arrived.
    pub async fn write_to(&self, catalog: &Catalog, path: impl AsRef<Path>) -> Result<ExportSummary> {
        let mut file = AtomicFile::create(path.as_ref()).await?;
        match self.copy_to(catalog, &mut file).await {
            Ok(summary) => {
                file.commit().await?;
                Ok(summary)
            }
            Err(err) => {
                file.abort().await;
                Err(err)
            }
        }
    }

    /// Writes the range to `writer` (which holds a partial copy if this fails: use
    /// [`Export::write_to`] when that must never be visible).
    pub async fn copy_to<W: AsyncWrite + Unpin + ?Sized>(
        &self,
        catalog: &Catalog,
        writer: &mut W,
    ) -> Result<ExportSummary> {
        let mut sink = Sink::new(self.format, self.meta);
        let counters = Counters::default();
        let mut windows = self.windows(catalog, &counters);
        while let Some(window) = windows.next().await {
            sink.write(window?, writer).await?;
        }
        drop(windows);
        sink.finish(writer).await?;
        writer.flush().await?;
        Ok(ExportSummary {
            requests: counters.requests.load(Ordering::Relaxed),
            records: sink.records,
            bytes: sink.bytes,
            unordered_windows: counters.unordered.load(Ordering::Relaxed),
        })
    }

    /// The delimiter of CSV bodies.
    fn delimiter(&self) -> u8 {
        self.csv_preset
            .as_ref()
            .map_or(client_core::CsvFormat::DEFAULT, CsvPreset::csv_format)
            .delimiter
    }

    /// One window, asked for with the overlap and read whole (a body cut short is asked
    /// for again by the client's retry policy).
    async fn fetch(&self, start: Timestamp, end: Timestamp) -> Result<Fetched> {
        let mut request = self
            .client
            .site_values(&self.env, &self.site, self.signals.clone())
            .range(
                TimeBound::Instant(start - OVERLAP),
                TimeBound::Instant(end + OVERLAP),
            )
            .format(self.format);
        if let Some(tzi) = &self.tzi {
            request = request.time_zone(tzi);
        }
        if let Some(preset) = &self.csv_preset {
            request = request.csv_preset(preset.clone());
        }
        if let Some(meta) = self.meta {
            request = request.meta(meta);
        }
        match request.send_buffered().await {
            Ok(response) => {
                let body = response.bytes().await?;
                let mut window = split(self.format, self.delimiter(), &body)?;
                window.records.retain(|r| start <= r.at && r.at < end);
                Ok(Fetched::Body(window))
            }
            Err(Error::RequestTooLarge(api)) => Ok(Fetched::TooLarge(replan_length(
                start,
                end,
                TooLarge::from_api(&api).recommended_range,
            )?)),
            Err(err) => Err(err),
        }
    }

    /// `[start, end)` whole: one window, or the windows a 413 cut it into, in order.
    async fn fetch_complete(
        &self,
        start: Timestamp,
        end: Timestamp,
        counters: &Counters,
    ) -> Result<Vec<WindowBody>> {
        let mut pending = VecDeque::from([(start, end)]);
        let mut done = Vec::new();
        while let Some((start, end)) = pending.pop_front() {
            counters.requests.fetch_add(1, Ordering::Relaxed);
            match self.fetch(start, end).await? {
                Fetched::Body(window) => done.push(window),
                Fetched::TooLarge(length) => {
                    tracing::info!(%start, %end, new_window_s = length.as_secs(), "413 for a planned window; splitting it");
                    for window in split_range(start, end, length)?.into_iter().rev() {
                        pending.push_front(window);
                    }
                }
            }
        }
        Ok(done)
    }

    /// The windows of the range, trimmed, in the order they are written. The first is
    /// fetched alone: a server that sends records by signal, then time, is then asked
    /// signal by signal; the rest are fetched up to [`Export::concurrency`] at once.
    fn windows<'a>(
        &'a self,
        catalog: &'a Catalog,
        counters: &'a Counters,
    ) -> BoxStream<'a, Result<WindowBody>> {
        Box::pin(async_stream::try_stream! {
            let mut rest: VecDeque<(Timestamp, Timestamp)> = self.plan(catalog)?.into();
            let Some((start, end)) = rest.pop_front() else {
                return;
            };
            let first = self.fetch_complete(start, end, counters).await?;
            let more = first.len() > 1 || !rest.is_empty();
            if let Some(Order::BySignal(seen)) = first.first().map(|w| order(&w.records)) {
                if more && self.signals.len() > 1 {
                    // The one request would hold each signal's records together: fetch
                    // signal by signal to write them so.
                    tracing::info!("records come by signal, then time: exporting signal by signal");
                    for signal in self.signal_order(seen) {
                        let mut single = self.clone();
                        single.signals = vec![signal];
                        let mut windows = single.windows(catalog, counters);
                        while let Some(window) = windows.next().await {
                            yield window?;
                        }
                    }
                    return;
                }
            }
            for window in first {
                yield counters.checked(window);
            }
            let mut fetched = futures::stream::iter(rest)
                .map(|(start, end)| self.fetch_complete(start, end, counters))
                .buffered(self.concurrency);
            while let Some(windows) = fetched.next().await {
                for window in windows? {
                    yield counters.checked(window);
                }
            }
        })
    }

    /// The signals in the order the server wrote them, then those it sent nothing of.
    fn signal_order(&self, seen: Vec<String>) -> Vec<String> {
        let mut order: Vec<String> = seen.into_iter().filter(|s| self.signals.contains(s)).collect();
        for signal in &self.signals {
            if !order.contains(signal) {
                order.push(signal.clone());
            }
        }
        order
    }
}

impl<T: DeserializeOwned + Send + 'static> Export<T> {
    /// Streams every record of the range, planned from `catalog`, decoded into `T` from
    /// the server's text (NDJSON or JSON; a CSV export is stored with
    /// [`Export::write_to`]).
    pub fn stream(self, catalog: &Catalog) -> RecordStream<T, Error> {
        let catalog = catalog.clone();
        RecordStream::new(async_stream::try_stream! {
            if self.format == Format::Csv {
                Err(Error::invalid_request("a CSV export is stored with write_to or copy_to; stream NDJSON or JSON"))?;
            }
            let counters = Counters::default();
            let mut windows = self.windows(&catalog, &counters);
            while let Some(window) = windows.next().await {
                for (index, record) in window?.records.into_iter().enumerate() {
                    yield serde_json::from_slice::<T>(&record.text).map_err(|e| {
                        Error::Decode(client_core::Error::decode(format!(
                            "record {} at {}: {e}",
                            index + 1,
                            record.at
                        )))
                    })?;
                }
            }
        })
    }
}

/// What the windows of an export counted, shared by the windows in flight.
#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    unordered: AtomicU64,
}

impl Counters {
    /// Counts (and logs) a window in no recognisable order; passes it on as sent.
    fn checked(&self, window: WindowBody) -> WindowBody {
        if order(&window.records) == Order::Unordered {
            tracing::warn!(
                records = window.records.len(),
                "records of a window in no recognisable order; kept as sent"
            );
            self.unordered.fetch_add(1, Ordering::Relaxed);
        }
        window
    }
}

/// How the records of a window are ordered.
#[derive(Debug, PartialEq, Eq)]
enum Order {
    /// By time (then anything).
    ByTime,
    /// Each signal's records together and in time order; the signals as they came.
    BySignal(Vec<String>),
    /// Neither.
    Unordered,
}

fn order(records: &[RawRecord]) -> Order {
    if records.windows(2).all(|pair| pair[0].at <= pair[1].at) {
        return Order::ByTime;
    }
    let mut seen: Vec<String> = Vec::new();
    for pair in records.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if a.signal == b.signal {
            if a.at > b.at {
                return Order::Unordered;
            }
            continue;
        }
        if let Some(signal) = &a.signal {
            if !seen.contains(signal) {
                seen.push(signal.clone());
            }
        }
        // A signal that comes back after another is not grouped.
        if b.signal.as_ref().is_none_or(|s| seen.contains(s)) {
            return Order::Unordered;
        }
    }
    if let Some(signal) = records.last().and_then(|r| r.signal.clone()) {
        if !seen.contains(&signal) {
            seen.push(signal);
        }
    }
    Order::BySignal(seen)
}

/// Writes windows as one document of the export's format.
struct Sink {
    format: Format,
    meta: Option<bool>,
    started: bool,
    /// CSV: the first window's header, which later ones must repeat.
    header: Option<Vec<u8>>,
    /// JSON: the document is `{"meta","values"}`, not a bare array.
    wrapped: bool,
    /// The last record written had no line terminator.
    open_line: bool,
    records: u64,
    bytes: u64,
}

impl Sink {
    fn new(format: Format, meta: Option<bool>) -> Sink {
        Sink {
            format,
            meta,
            started: false,
            header: None,
            wrapped: false,
            open_line: false,
            records: 0,
            bytes: 0,
        }
    }

    async fn put<W: AsyncWrite + Unpin + ?Sized>(&mut self, writer: &mut W, bytes: &[u8]) -> Result<()> {
        writer.write_all(bytes).await?;
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    async fn write<W: AsyncWrite + Unpin + ?Sized>(
        &mut self,
        window: WindowBody,
        writer: &mut W,
    ) -> Result<()> {
        if !self.started {
            self.started = true;
            match self.format {
                Format::Csv => {
                    let header = window.header.clone().unwrap_or_default();
                    self.put(writer, &header).await?;
                    self.open_line = !header.ends_with(b"\n");
                    self.header = Some(header);
                }
                Format::Json => {
                    self.wrapped = window.wrapped || self.meta != Some(false);
                    if self.wrapped {
                        let prefix = match &window.meta {
                            Some(meta) => format!("{{\"meta\":{},\"values\":[", meta.get()),
                            None => "{\"values\":[".to_owned(),
                        };
                        self.put(writer, prefix.as_bytes()).await?;
                    } else {
                        self.put(writer, b"[").await?;
                    }
                }
                Format::Ndjson => {}
            }
        } else if self.format == Format::Csv {
            let trim = |h: &[u8]| {
                h.strip_suffix(b"\n")
                    .map(|h| h.strip_suffix(b"\r").unwrap_or(h))
                    .unwrap_or(h)
                    .to_vec()
            };
            let first = self.header.as_deref().map(trim);
            if window.header.as_deref().map(trim) != first {
                return Err(Error::Decode(client_core::Error::decode(
                    "the CSV header changed between windows of the export",
                )));
            }
        }
        for record in window.records {
            match self.format {
                Format::Json => {
                    if self.records > 0 {
                        self.put(writer, b",").await?;
                    }
                    self.put(writer, &record.text).await?;
                }
                Format::Csv | Format::Ndjson => {
                    if self.open_line {
                        self.put(writer, b"\n").await?;
                    }
                    self.put(writer, &record.text).await?;
                    self.open_line = !record.terminated();
                }
            }
            self.records += 1;
        }
        Ok(())
    }

    async fn finish<W: AsyncWrite + Unpin + ?Sized>(&mut self, writer: &mut W) -> Result<()> {
        if self.format == Format::Json {
            if !self.started {
                let empty: &[u8] = if self.meta == Some(false) {
                    b"[]"
                } else {
                    b"{\"values\":[]}"
                };
                return self.put(writer, empty).await;
            }
            let suffix: &[u8] = if self.wrapped { b"]}" } else { b"]" };
            self.put(writer, suffix).await?;
        }
        Ok(())
    }
}

/// The window length to use after a 413: the server's recommendation if it is shorter
/// than the window (whether its end is inclusive or not, the length up to it is safe,
/// less the overlap), else half of it; never below one second.
fn replan_length(
    start: Timestamp,
    end: Timestamp,
    recommended: Option<(Timestamp, Timestamp)>,
) -> Result<SignedDuration> {
    let current = end.duration_since(start);
    let length = match recommended {
        Some((from, to)) if to > from && to.duration_since(from) < current => {
            to.duration_since(from) - OVERLAP * 2
        }
        _ => current / 2,
    };
    if length < SignedDuration::from_secs(1) {
        return Err(Error::InvalidRequest(format!(
            "the server refuses even a one-second window at {start}"
        )));
    }
    Ok(length)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(second: i64, signal: &str) -> RawRecord {
        RawRecord {
            at: Timestamp::from_second(second).unwrap(),
            signal: Some(signal.into()),
            text: Vec::new(),
        }
    }

    #[test]
    fn orders_are_told_apart() {
        let by_time = [record(0, "A"), record(0, "B"), record(60, "A"), record(60, "B")];
        assert_eq!(order(&by_time), Order::ByTime);
        let by_signal = [record(0, "B"), record(60, "B"), record(0, "A"), record(60, "A")];
        assert_eq!(order(&by_signal), Order::BySignal(vec!["B".into(), "A".into()]));
        let mixed = [record(0, "A"), record(60, "B"), record(0, "B"), record(0, "A")];
        assert_eq!(order(&mixed), Order::Unordered);
        let backwards = [record(60, "A"), record(0, "A")];
        assert_eq!(order(&backwards), Order::Unordered);
    }
}
