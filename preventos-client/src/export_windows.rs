//! Fetching an export's windows: each planned window read whole and trimmed, cut again
//! when the server still answers 413, fetched signal by signal when the server sends
//! records by signal, and up to the export's concurrency at once (`export_ahead.rs`).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use client_core::split_range;
use futures::StreamExt;
use futures::stream::BoxStream;
use jiff::{SignedDuration, Timestamp};

use crate::client::METRICS_LABEL;
use crate::error::{Error, Result, TooLarge};
use crate::export_ahead::{Lane, Permits, Turn};
use crate::export_checkpoint::{ExportState, Next, SignalWindows};
use crate::export_params::ExportParams;
use crate::export_plan::replan_length;
use crate::format::csv_format_of;
use crate::record_order::{Order, order};
use crate::window_body::{WindowBody, split};

/// One planned window `[from, to)`, fetched whole: the trimmed bodies of its requests
/// (one, or several after a 413), in order.
#[derive(Debug)]
pub(crate) struct FetchedWindow {
    pub(crate) from: Timestamp,
    pub(crate) to: Timestamp,
    pub(crate) bodies: Vec<WindowBody>,
    /// The requests the window took.
    pub(crate) requests: u64,
}

/// What the windows of an export counted, shared by the windows in flight.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Values requests sent, refused ones included, and those of windows fetched ahead
    /// and dropped (the first window showed records by signal).
    pub(crate) requests: AtomicU64,
    /// Windows whose records came in no recognisable order.
    pub(crate) unordered: AtomicU64,
}

impl Counters {
    /// Counts (and logs) a window body in no recognisable order; passes it on as sent.
    fn checked(&self, body: WindowBody) -> WindowBody {
        if order(&body.records) == Order::Unordered {
            tracing::warn!(
                records = body.records.len(),
                "records of a window in no recognisable order; kept as sent"
            );
            self.unordered.fetch_add(1, Ordering::Relaxed);
        }
        body
    }

    /// [`Counters::checked`] for each body of a window.
    fn checked_window(&self, mut window: FetchedWindow) -> FetchedWindow {
        window.bodies = window.bodies.into_iter().map(|body| self.checked(body)).collect();
        window
    }
}

/// One request's fate.
enum Fetched {
    Body(WindowBody),
    /// 413: re-plan with windows of this length.
    TooLarge(SignedDuration),
}

impl ExportParams {
    /// One window, asked for with the overlap and read whole (a body cut short is asked
    /// for again by the client's retry policy) under a permit of the lane (in `turn`),
    /// then, the permit given back, trimmed to `[start, end)`.
    async fn fetch(
        &self,
        start: Timestamp,
        end: Timestamp,
        counters: &Counters,
        lane: &Lane,
        turn: &mut Turn,
    ) -> Result<Fetched> {
        let body = {
            let _permit = lane.acquire(turn).await?;
            // Counted when sent: a window dropped while it waited sent nothing.
            counters.requests.fetch_add(1, Ordering::Relaxed);
            self.window_request(start, end).body().await
        };
        // Nobody reads a window given up: its body is not cut up.
        lane.check()?;
        match body {
            Ok(body) => {
                let (format, delimiter) = (self.format, csv_format_of(self.csv_preset.as_ref()).delimiter);
                let window = off_the_runtime(move || {
                    let mut window = split(format, delimiter, &body)?;
                    window.records.retain(|r| start <= r.at && r.at < end);
                    Ok(window)
                })
                .await?;
                Ok(Fetched::Body(window))
            }
            Err(err) => match err.detail::<TooLarge>() {
                Some(details) => {
                    client_core::metrics::replanned(METRICS_LABEL);
                    Ok(Fetched::TooLarge(replan_length(
                        start,
                        end,
                        details.recommended_range,
                    )?))
                }
                None => Err(err),
            },
        }
    }

    /// `[start, end)` whole: one body, or the bodies a 413 cut it into, in order; its
    /// first request sent in `turn`.
    pub(crate) async fn fetch_complete(
        &self,
        start: Timestamp,
        end: Timestamp,
        counters: &Counters,
        lane: &Lane,
        mut turn: Turn,
    ) -> Result<FetchedWindow> {
        let mut pending = VecDeque::from([(start, end)]);
        let mut window = FetchedWindow {
            from: start,
            to: end,
            bodies: Vec::new(),
            requests: 0,
        };
        while let Some((start, end)) = pending.pop_front() {
            window.requests += 1;
            match self.fetch(start, end, counters, lane, &mut turn).await? {
                Fetched::Body(body) => window.bodies.push(body),
                Fetched::TooLarge(length) => {
                    tracing::info!(%start, %end, new_window_s = length.as_secs(), "413 for a planned window; splitting it");
                    for part in split_range(start, end, length)?.into_iter().rev() {
                        pending.push_front(part);
                    }
                }
            }
        }
        Ok(window)
    }

    /// The windows from `from` on, cut as `state` says, trimmed, in the order they are
    /// written, each with where the next one starts, at most the export's concurrency of
    /// requests in flight for all of them.
    ///
    /// Undecided, the first window tells whether the server sends records by signal, then
    /// time: then the export is read signal by signal instead. The windows after it are
    /// fetched with every signal meanwhile, as if it will not (the default reading): if it
    /// does, they are given up (those not sent yet are never sent; the bodies of the
    /// others are dropped unread, their requests counted) and the signals are read one by
    /// one from the range's start, so nothing they held is used.
    pub(crate) fn windows<'a>(
        &'a self,
        from: Timestamp,
        state: ExportState,
        counters: Arc<Counters>,
    ) -> BoxStream<'a, Result<(FetchedWindow, Next)>> {
        let permits = Permits::new(self.concurrency);
        Box::pin(async_stream::try_stream! {
            let (_, to) = self.bounds()?;
            match state {
                ExportState::Together { length } => {
                    let mut windows = self.together(split_range(from, to, length)?, length, None, counters, permits);
                    while let Some(window) = windows.next().await {
                        yield window?;
                    }
                }
                ExportState::BySignal { signals, index } => {
                    let mut windows = self.by_signal(signals, index, from, counters, permits);
                    while let Some(window) = windows.next().await {
                        yield window?;
                    }
                }
                ExportState::Undecided { length, signals } => {
                    let windows = split_range(from, to, length)?;
                    let nexts = nexts(&windows, length, None);
                    let several = windows.len() > 1;
                    // The first window and, on a guess, the ones after it.
                    let guess = Lane::new(permits.clone());
                    let mut fetched = self.fetched(windows, counters.clone(), guess.clone());
                    let Some(first) = fetched.next().await else {
                        return;
                    };
                    let first = first?;
                    let more = first.bodies.len() > 1 || several;
                    if let Some(Order::BySignal(seen)) = first.bodies.first().map(|b| order(&b.records)) {
                        if more && self.signals.len() > 1 {
                            // The one request would hold each signal's records together:
                            // fetch signal by signal to write them so. The windows fetched
                            // with every signal are given up: their requests out end before
                            // new ones take their permits.
                            guess.give_up();
                            drop(fetched);
                            tracing::info!("records come by signal, then time: exporting signal by signal");
                            let signals = self.signal_order(seen, signals);
                            let mut windows = self.by_signal(signals, 0, from, counters, permits);
                            while let Some(window) = windows.next().await {
                                yield window?;
                            }
                            return;
                        }
                    }
                    let mut nexts = nexts.into_iter();
                    yield (counters.checked_window(first), nexts.next().flatten());
                    let mut rest = fetched.zip(futures::stream::iter(nexts));
                    while let Some((window, next)) = rest.next().await {
                        yield (counters.checked_window(window?), next);
                    }
                }
            }
        })
    }

    /// `windows` with every signal, up to the export's concurrency at once, written in
    /// order: each window's next is the following window, the last one's `after`.
    fn together<'a>(
        &'a self,
        windows: Vec<(Timestamp, Timestamp)>,
        length: SignedDuration,
        after: Next,
        counters: Arc<Counters>,
        permits: Arc<Permits>,
    ) -> BoxStream<'a, Result<(FetchedWindow, Next)>> {
        let nexts = nexts(&windows, length, after);
        Box::pin(
            self.fetched(windows, counters.clone(), Lane::new(permits))
                .zip(futures::stream::iter(nexts))
                .map(move |(window, next)| window.map(|window| (counters.checked_window(window), next))),
        )
    }

    /// Signal by signal from `signals[index]` (its windows from `from`, the next
    /// signals' from the range's start), each signal alone in windows of its length.
    fn by_signal<'a>(
        &'a self,
        signals: Vec<SignalWindows>,
        index: usize,
        from: Timestamp,
        counters: Arc<Counters>,
        permits: Arc<Permits>,
    ) -> BoxStream<'a, Result<(FetchedWindow, Next)>> {
        Box::pin(async_stream::try_stream! {
            let (range_start, to) = self.bounds()?;
            for current in index..signals.len() {
                let SignalWindows { signal, length } = signals[current].clone();
                let mut single = self.clone();
                single.signals = vec![signal];
                let start = if current == index { from } else { range_start };
                let after = (current + 1 < signals.len()).then(|| {
                    (range_start, ExportState::BySignal { signals: signals.clone(), index: current + 1 })
                });
                let state = ExportState::BySignal { signals: signals.clone(), index: current };
                let mut windows = single.together(
                    split_range(start, to, length)?,
                    length,
                    after,
                    counters.clone(),
                    permits.clone(),
                );
                while let Some(window) = windows.next().await {
                    let (window, next) = window?;
                    // Within a signal, the next window is of the same signal.
                    let next = next.map(|(at, next)| match next {
                        ExportState::Together { .. } => (at, state.clone()),
                        other => (at, other),
                    });
                    yield (window, next);
                }
            }
        })
    }

    /// The signals in the order the server wrote them, then those it sent nothing of,
    /// each with its window length when read alone (`lengths`, planned from the catalog).
    fn signal_order(&self, seen: Vec<String>, lengths: Vec<SignalWindows>) -> Vec<SignalWindows> {
        let mut order: Vec<String> = seen.into_iter().filter(|s| self.signals.contains(s)).collect();
        for signal in &self.signals {
            if !order.contains(signal) {
                order.push(signal.clone());
            }
        }
        order
            .into_iter()
            .filter_map(|signal| lengths.iter().find(|l| l.signal == signal).cloned())
            .collect()
    }
}

/// Where each of `windows` is followed from: the next window's start (in windows of
/// `length` with every signal), the last one's `after`.
fn nexts(windows: &[(Timestamp, Timestamp)], length: SignedDuration, after: Next) -> Vec<Next> {
    windows
        .iter()
        .skip(1)
        .map(|(start, _)| Some((*start, ExportState::Together { length })))
        .chain(std::iter::once(after))
        .collect()
}

/// Runs `work` (cutting a window up: tens of milliseconds of CPU for a large one) on
/// the runtime's blocking threads, so that the runtime's workers stay free to send the
/// next requests and read the bodies in flight; where there is no runtime, here.
async fn off_the_runtime<T: Send + 'static>(work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    if tokio::runtime::Handle::try_current().is_err() {
        return work();
    }
    match tokio::task::spawn_blocking(work).await {
        Ok(done) => done,
        Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
        Err(err) => Err(Error::config(format!(
            "the runtime shut down while a window was cut up: {err}"
        ))),
    }
}
