//! Misbehaviour on demand: failed requests, throttling, cut bodies, delays.

use std::time::Duration;

/// Fault settings of a simulator. The default is a well-behaved server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Faults {
    /// Answer the first `n` requests with this status (and an error body).
    pub fail_first: Option<(u32, u16)>,
    /// With `fail_first`, send this `Retry-After` (seconds).
    pub retry_after: Option<u64>,
    /// Send only this many bytes of each successful body (announcing the full length),
    /// then close the connection.
    pub cut_body_after: Option<usize>,
    /// Wait this long before answering.
    pub delay: Option<Duration>,
}

impl Faults {
    /// No faults.
    pub fn none() -> Self {
        Self::default()
    }

    /// Fails the first `count` requests with `status`.
    pub fn fail_first(mut self, count: u32, status: u16) -> Self {
        self.fail_first = Some((count, status));
        self
    }

    /// Sends `Retry-After: seconds` with the failures.
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// Cuts every successful body after `bytes` bytes.
    pub fn cut_body_after(mut self, bytes: usize) -> Self {
        self.cut_body_after = Some(bytes);
        self
    }

    /// Delays every answer.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }
}
