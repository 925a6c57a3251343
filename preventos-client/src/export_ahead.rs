//! Windows fetched ahead of the writer: each planned window is fetched and cut up on a
//! task of its own, with at most the export's concurrency of values requests in flight
//! (granted in window order), and up to as many windows more started, so that the next
//! request goes out as soon as a body has arrived, while the windows before it are still
//! being cut up, trimmed and written. The windows come out in order whatever order they
//! arrive in.
//!
//! The windows of a guess given up (`Lane::give_up`) are not cancelled where their
//! request is out: it is read to its end, its permit held till then, and its body
//! dropped unread, so that the server never has more of the export's requests at once
//! than the concurrency (a request cancelled by the client may still be at work on the
//! server). Those not sent yet send nothing.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::future::BoxFuture;
use futures::stream::BoxStream;
use jiff::Timestamp;
use tokio::sync::{Semaphore, SemaphorePermit, oneshot};
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::error::{Error, Result};
use crate::export_params::ExportParams;
use crate::export_windows::{Counters, FetchedWindow};

/// The values requests an export may have in flight: one permit each, shared by every
/// window of the export (and by a window's requests after a 413), so that the windows
/// of a guess given up give their permits back before new windows send anything.
#[derive(Debug)]
pub(crate) struct Permits(Semaphore);

impl Permits {
    /// `concurrency` requests at once (at least one).
    pub(crate) fn new(concurrency: usize) -> Arc<Permits> {
        Arc::new(Permits(Semaphore::new(
            concurrency.clamp(1, Semaphore::MAX_PERMITS),
        )))
    }
}

/// The windows of one stream of [`ExportParams::fetched`]: the export's permits, and
/// whether the stream was given up.
#[derive(Debug, Clone)]
pub(crate) struct Lane {
    permits: Arc<Permits>,
    given_up: Arc<AtomicBool>,
}

impl Lane {
    /// A lane under the export's `permits`.
    pub(crate) fn new(permits: Arc<Permits>) -> Lane {
        Lane {
            permits,
            given_up: Arc::default(),
        }
    }

    /// Gives up the stream's windows, before dropping it: those with a request out read
    /// it to its end (holding their permit) and drop the body; the others send nothing.
    pub(crate) fn give_up(&self) {
        self.given_up.store(true, Ordering::SeqCst);
    }

    fn given_up(&self) -> bool {
        self.given_up.load(Ordering::SeqCst)
    }

    /// A permit to send one request, once the window before has its first one (`turn`),
    /// so that windows send in order whatever order their tasks run in. An error if the
    /// lane was given up (nobody reads it). The permit is `None` only if the semaphore
    /// were closed, which it never is: then the request goes out without one.
    pub(crate) async fn acquire(&self, turn: &mut Turn) -> Result<Option<SemaphorePermit<'_>>> {
        if let Some(after) = turn.after.take() {
            // Sent when the window before got its permit, or dropped with it.
            let _ = after.await;
        }
        let permit = self.permits.0.acquire().await.ok();
        if let Some(then) = turn.then.take() {
            let _ = then.send(());
        }
        self.check()?;
        Ok(permit)
    }

    /// An error if the lane was given up: a window fetched on a guess given up stops
    /// there, and its error is never read.
    pub(crate) fn check(&self) -> Result<()> {
        if self.given_up() {
            return Err(Error::config("a window fetched on a guess given up"));
        }
        Ok(())
    }
}

/// A window's place in line for its first request: after the window before it, before
/// the window after it. Later requests of the window (after a 413) do not queue in it.
#[derive(Debug, Default)]
pub(crate) struct Turn {
    after: Option<oneshot::Receiver<()>>,
    then: Option<oneshot::Sender<()>>,
}

/// One window on its way: on a task of its own when there is a runtime (dropping it
/// cancels the task and its request, unless its lane was given up), else a future run
/// when it is awaited.
struct Job {
    from: Timestamp,
    to: Timestamp,
    work: Work,
    lane: Lane,
}

enum Work {
    Task(JoinHandle<Result<FetchedWindow>>),
    Inline(BoxFuture<'static, Result<FetchedWindow>>),
}

impl Drop for Job {
    fn drop(&mut self) {
        if let Work::Task(task) = &self.work {
            if !self.lane.given_up() {
                task.abort();
            }
        }
    }
}

impl ExportParams {
    /// `windows`, each fetched whole (see `fetch_complete`), in order: at most
    /// `concurrency` requests in flight under the lane's permits, and at most twice
    /// `concurrency` windows started and not yet yielded (the one yielded last and held
    /// by the caller included: the next ones start when the caller asks for the next).
    /// Dropping the stream cancels the windows still on their way (see [`Lane::give_up`]
    /// for the other way).
    pub(crate) fn fetched(
        &self,
        windows: Vec<(Timestamp, Timestamp)>,
        counters: Arc<Counters>,
        lane: Lane,
    ) -> BoxStream<'static, Result<FetchedWindow>> {
        let params = self.clone();
        let ahead = self.concurrency.saturating_mul(2).max(2);
        Box::pin(async_stream::try_stream! {
            let mut windows = windows.into_iter();
            let mut started: VecDeque<Job> = VecDeque::new();
            let mut turn: Option<oneshot::Receiver<()>> = None;
            loop {
                while started.len() < ahead {
                    let Some((from, to)) = windows.next() else {
                        break;
                    };
                    let (then, next_turn) = oneshot::channel();
                    let place = Turn {
                        after: turn.replace(next_turn),
                        then: Some(then),
                    };
                    let (params, counters, job_lane) = (params.clone(), counters.clone(), lane.clone());
                    let work = async move { params.fetch_complete(from, to, &counters, &job_lane, place).await };
                    let work = match tokio::runtime::Handle::try_current() {
                        Ok(runtime) => Work::Task(runtime.spawn(work.instrument(tracing::Span::current()))),
                        Err(_) => Work::Inline(Box::pin(work)),
                    };
                    started.push_back(Job { from, to, work, lane: lane.clone() });
                }
                let Some(mut job) = started.pop_front() else {
                    break;
                };
                let window = match &mut job.work {
                    Work::Inline(work) => work.await,
                    Work::Task(task) => match task.await {
                        Ok(window) => window,
                        Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
                        // Cancelled by a runtime shutting down: fetch it here.
                        Err(_) => {
                            params
                                .fetch_complete(job.from, job.to, &counters, &lane, Turn::default())
                                .await
                        }
                    },
                };
                yield window?;
            }
        })
    }
}
