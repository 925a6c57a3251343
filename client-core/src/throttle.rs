//! A client-side rate limiter shared by every clone of a client.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::clock::{Clock, TokioClock};
use crate::error::{Error, ErrorKind, Result};

/// Limits how often requests start: at most `limit` starts in any `window`.
///
/// Each caller reserves the earliest free slot under a lock and then waits for it outside
/// the lock, so concurrent callers are served in arrival order and never closer together
/// than the limit allows, whichever clone or task they come from. A caller that gives up
/// while waiting (its future is dropped) leaves its slot unused; the limit still holds.
///
/// After a 429 the request pipeline holds every start back ([`Throttle::defer_for`]) for
/// the server's wait, clamped to the retry policy's longest wait and never more than
/// [`Throttle::MAX_DEFERRAL`]. A request whose own retry policy allows a shorter wait than
/// such a hold does not sleep on it: it fails at once with
/// [`ErrorKind::Throttled`](crate::ErrorKind::Throttled), naming the wait
/// ([`Throttle::acquire_within`]).
#[derive(Clone)]
pub struct Throttle {
    inner: Arc<ThrottleInner>,
}

struct ThrottleInner {
    limit: usize,
    window: Duration,
    clock: Arc<dyn Clock>,
    schedule: Mutex<Schedule>,
}

struct Schedule {
    /// The start times of the last `limit` reserved slots, oldest first.
    slots: VecDeque<Instant>,
    /// Until when a 429 holds every start back.
    held_until: Option<Instant>,
}

impl Throttle {
    /// The longest a single [`Throttle::defer_for`] holds the requests back, whatever
    /// the server asked: one hour.
    pub const MAX_DEFERRAL: Duration = Duration::from_secs(3600);

    /// The longest window (and interval) a throttle accepts: one day. A longer one is
    /// taken as one day.
    pub const MAX_WINDOW: Duration = Duration::from_secs(24 * 3600);

    /// At most one request per `interval` (Conduit: one per 15 seconds).
    pub fn min_interval(interval: Duration) -> Self {
        Self::per_window(1, interval)
    }

    /// At most `limit` requests in any sliding `window`. A `limit` of 0 is taken as 1.
    pub fn per_window(limit: usize, window: Duration) -> Self {
        Self::with_clock(limit, window, Arc::new(TokioClock))
    }

    /// Like [`Throttle::per_window`], reading time from `clock` (for tests).
    pub fn with_clock(limit: usize, window: Duration, clock: Arc<dyn Clock>) -> Self {
        let limit = limit.max(1);
        Throttle {
            inner: Arc::new(ThrottleInner {
                limit,
                window: window.min(Self::MAX_WINDOW),
                clock,
                schedule: Mutex::new(Schedule {
                    slots: VecDeque::with_capacity(limit.min(1024)),
                    held_until: None,
                }),
            }),
        }
    }

    /// The number of requests allowed per window.
    pub fn limit(&self) -> usize {
        self.inner.limit
    }

    /// The window length.
    pub fn window(&self) -> Duration {
        self.inner.window
    }

    /// Waits until a request may start, and counts it as started.
    pub async fn acquire(&self) {
        let now = self.inner.clock.now();
        let slot = self.reserve(now);
        if slot > now {
            self.inner.clock.sleep(slot - now).await;
        }
    }

    /// Like [`Throttle::acquire`], unless a 429 ([`Throttle::defer_for`]) holds every
    /// request back for longer than `max_hold`: then nothing is reserved and the error is
    /// [`ErrorKind::Throttled`](crate::ErrorKind::Throttled), with the remaining hold as
    /// its `retry_after` and in its message. The request pipeline passes the wait its
    /// retry policy still allows, so that no request waits beyond its own budget on a
    /// hold another request (or another client sharing the throttle) set. The ordinary
    /// spacing of the limit is always waited for.
    pub async fn acquire_within(&self, max_hold: Duration) -> Result<()> {
        let now = self.inner.clock.now();
        let slot = {
            let mut schedule = self.lock();
            let held = schedule
                .held_until
                .map_or(Duration::ZERO, |until| until.saturating_duration_since(now));
            if held > max_hold {
                return Err(Error::new(
                    ErrorKind::Throttled,
                    format!(
                        "the server throttled this client: every request is held back for {} ms more, \
                         longer than the {} ms the retry policy allows this request to wait",
                        held.as_millis(),
                        max_hold.as_millis()
                    ),
                )
                .with_retry_after(Some(held)));
            }
            self.reserve_locked(&mut schedule, now)
        };
        if slot > now {
            self.inner.clock.sleep(slot - now).await;
        }
        Ok(())
    }

    /// Pushes the start of the next request back so that none starts before `delay` has
    /// passed: used after a 429 so that other tasks wait out the server's delay too.
    /// `delay` is clamped to [`Throttle::MAX_DEFERRAL`]; a deferral never shortens an
    /// earlier, longer one.
    pub fn defer_for(&self, delay: Duration) {
        let now = self.inner.clock.now();
        let not_before = later(now, delay.min(Self::MAX_DEFERRAL));
        let mut schedule = self.lock();
        schedule.held_until = Some(
            schedule
                .held_until
                .map_or(not_before, |held| held.max(not_before)),
        );
        // Starts recorded before the hold count as made at `not_before - window`, so that
        // the window after the hold is counted from its end. The hold itself is kept in
        // `held_until`, which every reservation waits for: filling the log up to `limit`
        // instead would allocate as many entries as the limit (any number a user chose)
        // at each 429.
        let earliest = not_before.checked_sub(self.inner.window).unwrap_or(not_before);
        for slot in schedule.slots.iter_mut() {
            if *slot < earliest {
                *slot = earliest;
            }
        }
    }

    fn reserve(&self, now: Instant) -> Instant {
        let mut schedule = self.lock();
        self.reserve_locked(&mut schedule, now)
    }

    fn reserve_locked(&self, schedule: &mut Schedule, now: Instant) -> Instant {
        let slots = &mut schedule.slots;
        let slot = if slots.len() < self.inner.limit {
            slots.back().map_or(now, |last| (*last).max(now))
        } else {
            // The window must have moved past the oldest of the last `limit` starts.
            let oldest = slots.pop_front().unwrap_or(now);
            let after_oldest = later(oldest, self.inner.window);
            let last = slots.back().copied().unwrap_or(now);
            after_oldest.max(now).max(last)
        };
        // Nothing starts while a 429 holds every request back.
        let slot = schedule.held_until.map_or(slot, |held| slot.max(held));
        schedule.slots.push_back(slot);
        slot
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Schedule> {
        // A panic cannot leave the schedule inconsistent: every change is a single push,
        // pop or assignment.
        self.inner.schedule.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `at + by` without the panic of `Instant + Duration` on overflow: an instant that far
/// ahead is as good as never, and the latest representable one stands for it.
fn later(at: Instant, by: Duration) -> Instant {
    at.checked_add(by)
        .or_else(|| at.checked_add(Throttle::MAX_WINDOW))
        .unwrap_or(at)
}

impl fmt::Debug for Throttle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Throttle")
            .field("limit", &self.inner.limit)
            .field("window", &self.inner.window)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn first_request_is_immediate_then_spaced() {
        let throttle = Throttle::min_interval(Duration::from_secs(15));
        let start = Instant::now();
        throttle.acquire().await;
        assert_eq!(Instant::now() - start, Duration::ZERO);
        throttle.acquire().await;
        assert_eq!(Instant::now() - start, Duration::from_secs(15));
    }

    #[tokio::test(start_paused = true)]
    async fn window_allows_bursts_up_to_the_limit() {
        let throttle = Throttle::per_window(3, Duration::from_secs(10));
        let start = Instant::now();
        let mut times = Vec::new();
        for _ in 0..7 {
            throttle.acquire().await;
            times.push((Instant::now() - start).as_secs());
        }
        assert_eq!(times, vec![0, 0, 0, 10, 10, 10, 20]);
    }

    #[tokio::test(start_paused = true)]
    async fn defer_for_delays_the_next_start() {
        let throttle = Throttle::min_interval(Duration::from_secs(1));
        let start = Instant::now();
        throttle.acquire().await;
        throttle.defer_for(Duration::from_secs(30));
        throttle.acquire().await;
        assert_eq!(Instant::now() - start, Duration::from_secs(30));
    }

    #[tokio::test(start_paused = true)]
    async fn a_deferral_holds_a_huge_limit_without_allocating_for_it() {
        // A limit of a hundred thousand per second: a 429 used to fill the log with that
        // many entries (a user's limit could be any number). Now the hold is waited
        // for, and the log holds the starts made.
        let throttle = Throttle::per_window(100_000, Duration::from_secs(1));
        let start = Instant::now();
        throttle.acquire().await;
        throttle.defer_for(Duration::from_secs(5));
        assert_eq!(throttle.lock().slots.len(), 1);
        for _ in 0..3 {
            throttle.acquire().await;
            assert_eq!(Instant::now() - start, Duration::from_secs(5));
        }
        assert_eq!(throttle.lock().slots.len(), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn a_huge_deferral_is_clamped_and_never_overflows() {
        let throttle = Throttle::per_window(2, Duration::MAX);
        let start = Instant::now();
        throttle.defer_for(Duration::MAX);
        throttle.defer_for(Duration::from_secs(u64::MAX));
        let err = throttle
            .acquire_within(Duration::from_secs(30))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Throttled);
        assert_eq!(err.retry_after(), Some(Throttle::MAX_DEFERRAL));
        assert!(err.to_string().contains("3600000 ms"), "{err}");
        throttle.acquire().await;
        assert_eq!(Instant::now() - start, Throttle::MAX_DEFERRAL);
        // The window was clamped too: the third start is a day after the first two.
        throttle.acquire().await;
        throttle.acquire().await;
        assert_eq!(
            Instant::now() - start,
            Throttle::MAX_DEFERRAL + Throttle::MAX_WINDOW
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_hold_longer_than_the_callers_budget_fails_at_once() {
        let throttle = Throttle::min_interval(Duration::from_secs(1));
        let start = Instant::now();
        throttle.defer_for(Duration::from_secs(60));
        let err = throttle
            .acquire_within(Duration::from_secs(10))
            .await
            .unwrap_err();
        assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
        assert_eq!(Instant::now(), start, "it must not sleep");
        // A caller allowed to wait that long waits it out.
        throttle.acquire_within(Duration::from_secs(60)).await.unwrap();
        assert_eq!(Instant::now() - start, Duration::from_secs(60));
        // Ordinary spacing is always waited for, whatever the budget.
        throttle.acquire_within(Duration::ZERO).await.unwrap();
        assert_eq!(Instant::now() - start, Duration::from_secs(61));
    }
}
