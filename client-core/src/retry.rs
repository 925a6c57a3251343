//! Retry policy: which failures to repeat, how long to wait, when to give up.

use std::time::Duration;

use http::{HeaderMap, StatusCode, header::RETRY_AFTER};

use crate::error::{Error, ErrorKind, is_transient_status};

/// How the request pipeline repeats failed requests.
///
/// Only requests that are safe to repeat are retried: idempotent methods (GET, HEAD,
/// OPTIONS, PUT, DELETE), requests marked idempotent by the client crate, and any request
/// that never reached the server (connect failures). Failures are classified as
/// transient (connection errors, timeouts, 500/502/503/504), throttled (429) or final
/// (anything else); only the first two are retried.
///
/// The wait before attempt `n + 1` is a full-jitter exponential backoff: a uniformly
/// random delay in `[0, min(max_delay, initial_delay * 2^(n-1))]`. When the server sends
/// `Retry-After` (seconds or an HTTP-date) that delay is used instead; a `Retry-After`
/// longer than `max_delay` ends the retries at once (the request is never repeated
/// before the server said it may be). Retrying stops after `max_attempts` attempts in all, or when the next
/// wait would end after `total_budget` since the first attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first one included. 1 disables retries.
    pub max_attempts: u32,
    /// The backoff ceiling of the first retry.
    pub initial_delay: Duration,
    /// The longest single wait. A server asking for a longer `Retry-After` ends the
    /// retries with its error.
    pub max_delay: Duration,
    /// The longest time from the first attempt to the start of the last one.
    pub total_budget: Duration,
    /// Randomise each backoff in `[0, ceiling]` (full jitter). Off gives the ceiling itself,
    /// which makes delays predictable in tests.
    pub jitter: bool,
    /// The wait after a throttled response that sent no `Retry-After` (an API's documented
    /// rate, e.g. Conduit's 15 s). `None`: the exponential backoff.
    pub throttled_delay: Option<Duration>,
}

impl Default for RetryPolicy {
    /// 4 attempts, 500 ms initial delay, 30 s max delay, 2 min total, with jitter.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            total_budget: Duration::from_secs(120),
            jitter: true,
            throttled_delay: None,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets the number of attempts in all (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the initial backoff ceiling.
    pub fn with_initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// Sets the longest single wait.
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Sets the total time budget.
    pub fn with_total_budget(mut self, budget: Duration) -> Self {
        self.total_budget = budget;
        self
    }

    /// Turns jitter on or off.
    pub fn with_jitter(mut self, jitter: bool) -> Self {
        self.jitter = jitter;
        self
    }

    /// Sets the wait after a throttled response without `Retry-After`.
    pub fn with_throttled_delay(mut self, delay: Option<Duration>) -> Self {
        self.throttled_delay = delay;
        self
    }

    /// The backoff before the retry that follows failed attempt `attempt` (1-based).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(31);
        let ceiling = self
            .initial_delay
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay);
        if self.jitter {
            ceiling.mul_f64(fastrand::f64())
        } else {
            ceiling
        }
    }

    /// The wait before retrying after `error` from attempt `attempt`, or `None` when the
    /// error must not be retried or the attempt limit is reached. The total budget is
    /// checked by the caller, which knows the elapsed time.
    pub fn delay_after(&self, error: &Error, attempt: u32, idempotent: bool) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        match classify(error) {
            FailureClass::Final => return None,
            FailureClass::NotSent => {}
            FailureClass::Transient | FailureClass::Throttled if idempotent => {}
            FailureClass::Transient | FailureClass::Throttled => return None,
        }
        if let Some(asked) = error.retry_after() {
            // Waiting less than the server asked would be refused again; waiting longer
            // than the policy allows is the caller's call, so the error goes back.
            return (asked <= self.max_delay).then_some(asked);
        }
        let throttled_delay = self.throttled_delay.filter(|_| error.is_throttled());
        Some(match throttled_delay {
            Some(delay) => delay.min(self.max_delay),
            None => self.backoff(attempt),
        })
    }

    /// How long a throttled response holds back every request of the client: the
    /// server's `Retry-After`, else the configured [`RetryPolicy::throttled_delay`].
    /// `None` for errors that are not throttling.
    pub fn throttle_wait(&self, error: &Error) -> Option<Duration> {
        if !error.is_throttled() {
            return None;
        }
        error.retry_after().or(self.throttled_delay)
    }
}

/// What a failure says about repeating the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureClass {
    /// The request never reached the server: safe to repeat whatever its method.
    NotSent,
    /// A failure that may pass: connection reset, timeout, a body cut short,
    /// 500/502/503/504.
    Transient,
    /// The server asked the client to slow down.
    Throttled,
    /// Repeating the request will not help.
    Final,
}

/// Classifies an error for the retry decision.
pub fn classify(error: &Error) -> FailureClass {
    match error.kind() {
        ErrorKind::Throttled => FailureClass::Throttled,
        _ if error.is_not_sent() => FailureClass::NotSent,
        // A body cut short (read inside the retry loop for buffered requests) is as
        // transient as a reset connection.
        ErrorKind::Transport | ErrorKind::Timeout | ErrorKind::Truncated => FailureClass::Transient,
        ErrorKind::Status if error.status().is_some_and(is_transient_status) => FailureClass::Transient,
        _ => FailureClass::Final,
    }
}

/// Whether a status is a throttling signal.
pub(crate) fn is_throttle_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
}

/// Parses `Retry-After`: delta-seconds, or an HTTP-date taken relative to the system
/// clock (a date in the past gives zero). Anything else is ignored.
pub fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let delta = when.duration_since(jiff::Timestamp::now());
    Some(Duration::try_from(delta).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn retry_after_seconds() {
        assert_eq!(parse_retry_after(&headers("7")), Some(Duration::from_secs(7)));
    }

    #[test]
    fn retry_after_http_date() {
        let at = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(120);
        let text = jiff::fmt::rfc2822::DateTimePrinter::new()
            .timestamp_to_rfc9110_string(&at)
            .unwrap();
        let delay = parse_retry_after(&headers(&text)).unwrap();
        assert!(
            delay > Duration::from_secs(118) && delay <= Duration::from_secs(120),
            "{delay:?}"
        );
    }

    #[test]
    fn retry_after_in_the_past_is_zero() {
        let delay = parse_retry_after(&headers("Sun, 06 Nov 1994 08:49:37 GMT"));
        assert_eq!(delay, Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_garbage_is_ignored() {
        assert_eq!(parse_retry_after(&headers("soon")), None);
        assert_eq!(parse_retry_after(&HeaderMap::new()), None);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_without_jitter() {
        let policy = RetryPolicy::default()
            .with_jitter(false)
            .with_initial_delay(Duration::from_millis(500))
            .with_max_delay(Duration::from_secs(3));
        let delays: Vec<u128> = (1..=5).map(|a| policy.backoff(a).as_millis()).collect();
        assert_eq!(delays, vec![500, 1000, 2000, 3000, 3000]);
    }

    #[test]
    fn jittered_backoff_stays_under_the_ceiling() {
        let policy = RetryPolicy::default();
        for attempt in 1..10 {
            let ceiling = Duration::from_millis(500)
                .saturating_mul(1 << (attempt - 1))
                .min(Duration::from_secs(30));
            assert!(policy.backoff(attempt) <= ceiling);
        }
    }

    #[test]
    fn post_is_not_retried_after_a_503_but_is_after_a_connect_failure() {
        let policy = RetryPolicy::default();
        let status = Error::new(ErrorKind::Status, "x").with_status(StatusCode::SERVICE_UNAVAILABLE);
        assert!(policy.delay_after(&status, 1, false).is_none());
        assert!(policy.delay_after(&status, 1, true).is_some());
        let not_sent = Error::new(ErrorKind::Transport, "refused").with_not_sent();
        assert!(policy.delay_after(&not_sent, 1, false).is_some());
    }

    #[test]
    fn throttled_without_retry_after_waits_the_configured_delay() {
        let policy = RetryPolicy::default().with_throttled_delay(Some(Duration::from_secs(15)));
        let throttled = Error::new(ErrorKind::Throttled, "x").with_status(StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            policy.delay_after(&throttled, 1, true),
            Some(Duration::from_secs(15))
        );
        let unavailable = Error::new(ErrorKind::Status, "x").with_status(StatusCode::SERVICE_UNAVAILABLE);
        assert!(policy.delay_after(&unavailable, 1, true) < Some(Duration::from_secs(15)));
    }

    #[test]
    fn retry_after_longer_than_the_policy_allows_ends_the_retries() {
        let policy = RetryPolicy::default().with_max_delay(Duration::from_secs(10));
        let err = |secs| {
            Error::new(ErrorKind::Throttled, "x")
                .with_status(StatusCode::TOO_MANY_REQUESTS)
                .with_retry_after(Some(Duration::from_secs(secs)))
        };
        assert_eq!(policy.delay_after(&err(3600), 1, true), None);
        assert_eq!(
            policy.delay_after(&err(10), 1, true),
            Some(Duration::from_secs(10))
        );
        assert_eq!(policy.throttle_wait(&err(3600)), Some(Duration::from_secs(3600)));
    }
}
