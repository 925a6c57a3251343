//! Requests in flight, as a server sees them: how many a client has at once. Shared by
//! the simulators that play a latency per response ([`Faults::delay`](crate::Faults)).

use std::sync::atomic::{AtomicU64, Ordering};

/// The requests inside a stretch of their handling (the configured delay), now and the
/// most there ever were at once.
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    now: AtomicU64,
    peak: AtomicU64,
}

impl InFlight {
    /// One request enters; it leaves when the guard is dropped, also when its handler is
    /// dropped with its connection (a client that gave up on it).
    pub(crate) fn enter(&self) -> Inside<'_> {
        let count = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(count, Ordering::SeqCst);
        Inside(&self.now)
    }

    /// The requests inside now.
    pub(crate) fn now(&self) -> u64 {
        self.now.load(Ordering::SeqCst)
    }

    /// The most requests that were inside at once.
    pub(crate) fn peak(&self) -> u64 {
        self.peak.load(Ordering::SeqCst)
    }
}

/// One request inside; dropping it counts it out.
pub(crate) struct Inside<'a>(&'a AtomicU64);

impl Drop for Inside<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_requests_inside_now_and_at_most() {
        let in_flight = InFlight::default();
        let a = in_flight.enter();
        let b = in_flight.enter();
        assert_eq!((in_flight.now(), in_flight.peak()), (2, 2));
        drop(a);
        let c = in_flight.enter();
        drop((b, c));
        assert_eq!((in_flight.now(), in_flight.peak()), (0, 2));
    }
}
