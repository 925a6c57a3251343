//! A client-side rate limiter shared by every clone of a client.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

use crate::clock::{Clock, TokioClock};

/// Limits how often requests start: at most `limit` starts in any `window`.
///
/// Each caller reserves the earliest free slot under a lock and then waits for it outside
/// the lock, so concurrent callers are served in arrival order and never closer together
/// than the limit allows, whichever clone or task they come from. A caller that gives up
/// while waiting (its future is dropped) leaves its slot unused; the limit still holds.
#[derive(Clone)]
pub struct Throttle {
    inner: Arc<ThrottleInner>,
}

struct ThrottleInner {
    limit: usize,
    window: Duration,
    clock: Arc<dyn Clock>,
    /// The start times of the last `limit` reserved slots, oldest first.
    slots: Mutex<VecDeque<Instant>>,
}

impl Throttle {
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
                window,
                clock,
                slots: Mutex::new(VecDeque::with_capacity(limit)),
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

    /// Pushes the start of the next request back so that none starts before `delay` has
    /// passed: used after a 429 so that other tasks wait out the server's delay too.
    pub fn defer_for(&self, delay: Duration) {
        let not_before = self.inner.clock.now() + delay;
        let mut slots = self.lock();
        // Filling the window with `not_before - window` makes the next slot `not_before`.
        let earliest = not_before.checked_sub(self.inner.window).unwrap_or(not_before);
        for slot in slots.iter_mut() {
            if *slot < earliest {
                *slot = earliest;
            }
        }
        while slots.len() < self.inner.limit {
            slots.push_front(earliest);
        }
    }

    fn reserve(&self, now: Instant) -> Instant {
        let mut slots = self.lock();
        let slot = if slots.len() < self.inner.limit {
            slots.back().map_or(now, |last| (*last).max(now))
        } else {
            // The window must have moved past the oldest of the last `limit` starts.
            let oldest = slots.pop_front().unwrap_or(now);
            let after_oldest = oldest + self.inner.window;
            let last = slots.back().copied().unwrap_or(now);
            after_oldest.max(now).max(last)
        };
        slots.push_back(slot);
        slot
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Instant>> {
        // A panic cannot leave the queue inconsistent: every change is a single push or pop.
        self.inner.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }
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
}
