//! Misbehaviour on demand: failed requests, throttling, cut bodies, delays.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

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
    /// Reset this many connections as soon as they are accepted, before any response.
    pub reset_connections: u32,
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

    /// Resets the next `count` connections before any response (set when the faults
    /// are given to the simulator).
    pub fn reset_connections(mut self, count: u32) -> Self {
        self.reset_connections = count;
        self
    }

    /// Delays every answer.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Waits the configured delay, then, if request `number` (1-based) is one of the
    /// first `n` to fail, the failure response (`body` makes it from the status), with
    /// `Retry-After` when configured.
    pub(crate) async fn apply(
        &self,
        number: u64,
        body: impl FnOnce(StatusCode) -> Response,
    ) -> Option<Response> {
        if let Some(delay) = self.delay {
            tokio::time::sleep(delay).await;
        }
        let (count, status) = self.fail_first?;
        if number > u64::from(count) {
            return None;
        }
        let mut response = body(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        Some(response)
    }
}
