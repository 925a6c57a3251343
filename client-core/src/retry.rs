//! Retry policy: which failures to repeat, how long to wait, when to give up; the
//! classifiers an API chains to say what its own failures mean; and [`Retrier`], the one
//! loop of attempts shared by requests, token requests and reconnecting streams.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, StatusCode, header::RETRY_AFTER};
use tokio::time::Instant;

use crate::clock::Clock;
use crate::error::{Error, ErrorKind, is_transient_status};

/// How the request pipeline repeats failed requests.
///
/// Only requests that are safe to repeat are retried: idempotent methods (GET, HEAD,
/// OPTIONS, PUT, DELETE), requests marked idempotent by the client crate, and any request
/// that never reached the server (connect failures). Failures are classified as
/// transient (connection errors, timeouts, 500/502/503/504), throttled (429) or final
/// (anything else); only the first two are retried. An API crate refines that
/// classification with a [`RetryClassifier`] of its own (Conduit's documented wait after
/// a 429, DT's in-band stream codes).
///
/// The wait before attempt `n + 1` is a full-jitter exponential backoff: a uniformly
/// random delay in `[0, min(max_delay, initial_delay * 2^(n-1))]`. When the server sends
/// `Retry-After` (seconds or an HTTP-date), or the API's classifier names a wait, that
/// delay is used instead; a wait longer than `max_delay` ends the retries at once (the
/// request is never repeated before the server said it may be). Retrying stops after
/// `max_attempts` attempts in all, or when the next wait would end after `total_budget`
/// since the first attempt.
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

    /// The wait before retrying after a failure classified as `classification` in
    /// attempt `attempt` (1-based), or `None` when it must not be retried or the attempt
    /// limit is reached. The total budget is checked by [`Retrier`], which knows the
    /// elapsed time.
    pub fn delay_after(
        &self,
        classification: Classification,
        attempt: u32,
        idempotent: bool,
    ) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        match classification.class {
            FailureClass::Final => return None,
            FailureClass::NotSent => {}
            FailureClass::Transient | FailureClass::Throttled if idempotent => {}
            FailureClass::Transient | FailureClass::Throttled => return None,
        }
        match classification.wait {
            // Waiting less than the server asked would be refused again; waiting longer
            // than the policy allows is the caller's call, so the error goes back.
            Some(asked) => (asked <= self.max_delay).then_some(asked),
            None => Some(self.backoff(attempt)),
        }
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

/// What a failure means for repeating the request: its class, and how long to wait
/// before the next attempt when the server (`Retry-After`) or the API's documentation
/// says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Classification {
    /// Whether and when the request may be repeated.
    pub class: FailureClass,
    /// The wait the server asked for, or the API's documented wait; `None` leaves it to
    /// the policy's backoff. A throttled request also holds back every other request of
    /// the client (its shared throttle) for this long.
    pub wait: Option<Duration>,
}

impl Classification {
    /// A classification without a wait of its own.
    pub fn new(class: FailureClass) -> Self {
        Classification { class, wait: None }
    }

    /// The same classification with `wait`.
    pub fn with_wait(mut self, wait: Option<Duration>) -> Self {
        self.wait = wait;
        self
    }

    /// The workspace's reading of `error`: [`classify`] for the class, and the server's
    /// `Retry-After` as the wait.
    pub fn standard(error: &Error) -> Self {
        Classification {
            class: classify(error),
            wait: error.retry_after(),
        }
    }
}

/// A policy an API crate plugs into the request pipeline to say what its own failures
/// mean, the way smithy-rs chains retry classifiers: each classifier sees the
/// classification of those before it (the first sees [`Classification::standard`]) and
/// returns it, refined or unchanged.
///
/// ```
/// use std::time::Duration;
/// use client_core::{Classification, Error, FailureClass, RetryClassifier};
///
/// /// An API that documents a 15 s wait after a 429 without `Retry-After`.
/// #[derive(Debug)]
/// struct DocumentedWait;
///
/// impl RetryClassifier for DocumentedWait {
///     fn classify(&self, error: &Error, prior: Classification) -> Classification {
///         if prior.class == FailureClass::Throttled && prior.wait.is_none() {
///             return prior.with_wait(Some(Duration::from_secs(15)));
///         }
///         prior
///     }
/// }
/// ```
pub trait RetryClassifier: Send + Sync + fmt::Debug {
    /// Refines `prior`, the classification of `error` so far.
    fn classify(&self, error: &Error, prior: Classification) -> Classification;
}

/// An ordered chain of [`RetryClassifier`]s on top of [`Classification::standard`].
#[derive(Debug, Clone, Default)]
pub struct Classifiers {
    chain: Vec<Arc<dyn RetryClassifier>>,
}

impl Classifiers {
    /// The standard classification alone.
    pub fn new() -> Self {
        Classifiers::default()
    }

    /// Adds `classifier` at the end of the chain (it has the last word).
    pub fn push(&mut self, classifier: Arc<dyn RetryClassifier>) {
        self.chain.push(classifier);
    }

    /// The chain's classification of `error`.
    pub fn classify(&self, error: &Error) -> Classification {
        self.chain
            .iter()
            .fold(Classification::standard(error), |prior, classifier| {
                classifier.classify(error, prior)
            })
    }
}

/// The one loop of attempts: counts them, decides the wait before the next one from the
/// policy and a failure's [`Classification`], keeps to the total budget, and sleeps on the
/// client's clock. Requests, token requests and reconnecting streams all use it.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use client_core::{Classification, FailureClass, ManualClock, Retrier, RetryPolicy};
///
/// # async fn run() {
/// let policy = RetryPolicy::default().with_jitter(false).with_max_attempts(3);
/// let mut retrier = Retrier::new(policy, Arc::new(ManualClock::new()));
/// let transient = Classification::new(FailureClass::Transient);
/// assert_eq!(retrier.next_delay(transient, true), Some(Duration::from_millis(500)));
/// assert_eq!(retrier.next_delay(transient, true), Some(Duration::from_secs(1)));
/// assert_eq!(retrier.next_delay(transient, true), None); // three attempts in all
/// # }
/// ```
#[derive(Debug)]
pub struct Retrier {
    policy: RetryPolicy,
    clock: Arc<dyn Clock>,
    started: Instant,
    attempt: u32,
}

impl Retrier {
    /// A loop at its first attempt, with the budget counted from now.
    pub fn new(policy: RetryPolicy, clock: Arc<dyn Clock>) -> Self {
        let started = clock.now();
        Retrier {
            policy,
            clock,
            started,
            attempt: 1,
        }
    }

    /// The attempt under way, 1-based.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The policy.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// After a failure of the attempt under way: the wait before the next attempt (and
    /// the count moves on), or `None` when the failure is final, the request is not safe
    /// to repeat, the attempts are spent, or the wait would end past the total budget.
    pub fn next_delay(&mut self, classification: Classification, idempotent: bool) -> Option<Duration> {
        let delay = self
            .policy
            .delay_after(classification, self.attempt, idempotent)?;
        let elapsed = self.clock.now().saturating_duration_since(self.started);
        if elapsed.saturating_add(delay) > self.policy.total_budget {
            return None;
        }
        self.attempt += 1;
        Some(delay)
    }

    /// The longest this request may still wait before its next attempt starts: the
    /// policy's longest single wait, or what is left of its total budget if that is less.
    /// The pipeline bounds a wait on the shared throttle with it.
    pub fn allowed_wait(&self) -> Duration {
        let elapsed = self.clock.now().saturating_duration_since(self.started);
        self.policy
            .max_delay
            .min(self.policy.total_budget.saturating_sub(elapsed))
    }

    /// Sleeps for `delay` on the clock.
    pub async fn wait(&self, delay: Duration) {
        self.clock.sleep(delay).await;
    }

    /// Progress was made (a stream delivered data): the next failure starts a fresh
    /// series of attempts with a fresh budget.
    pub fn reset(&mut self) {
        self.attempt = 1;
        self.started = self.clock.now();
    }
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
        // A token endpoint that failed (5xx) rather than refused (4xx): it may recover.
        ErrorKind::Auth if error.status().is_some_and(is_transient_status) => FailureClass::Transient,
        _ => FailureClass::Final,
    }
}

/// Whether a status is a throttling signal.
pub(crate) fn is_throttle_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
}

/// The longest `Retry-After` believed: one day. A longer one (up to `u64::MAX` seconds,
/// or a date years ahead) is taken as one day, so that no instant computed from it can
/// overflow; a day is already far beyond any retry policy's longest wait, so such an
/// answer ends the retries with [`ErrorKind::Throttled`] either way.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Parses `Retry-After` (RFC 9110 10.2.3): delta-seconds, or an HTTP-date in any of the
/// three forms RFC 9110 5.6.7 allows (IMF-fixdate, the obsolete RFC 850 form with a
/// two-digit year, asctime), taken relative to the system clock (a date in the past
/// gives zero). The result is clamped to [`MAX_RETRY_AFTER`]. Anything else is ignored.
pub fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    parse_retry_after_at(headers, jiff::Timestamp::now())
}

/// [`parse_retry_after`] with the current time given (for tests).
pub(crate) fn parse_retry_after_at(headers: &HeaderMap, now: jiff::Timestamp) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // All digits: delta-seconds; more than u64 holds is simply "very long".
        let seconds = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER));
    }
    let when = crate::http_date::parse(value, now)?;
    let delta = when.duration_since(now);
    Some(
        Duration::try_from(delta)
            .unwrap_or(Duration::ZERO)
            .min(MAX_RETRY_AFTER),
    )
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
        for hostile in ["-5", "+5", "1.5", "5 s", "0x10", "Sun, 06 Nov 1994"] {
            assert_eq!(parse_retry_after(&headers(hostile)), None, "{hostile:?}");
        }
        let mut opaque = HeaderMap::new();
        opaque.insert(RETRY_AFTER, HeaderValue::from_bytes(b"\xff\xfe").unwrap());
        assert_eq!(parse_retry_after(&opaque), None);
    }

    #[test]
    fn huge_retry_after_is_clamped_to_a_day() {
        for huge in ["86401", "18446744073709551615", "99999999999999999999999999999"] {
            assert_eq!(parse_retry_after(&headers(huge)), Some(MAX_RETRY_AFTER), "{huge}");
        }
        assert_eq!(
            parse_retry_after(&headers("86400")),
            Some(Duration::from_secs(86400))
        );
        let far = parse_retry_after(&headers("Wed, 01 Jan 3000 00:00:00 GMT"));
        assert_eq!(far, Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn retry_after_in_every_http_date_form() {
        let now: jiff::Timestamp = "1994-11-06T08:48:37Z".parse().unwrap();
        for form in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(
                parse_retry_after_at(&headers(form), now),
                Some(Duration::from_secs(60)),
                "{form}"
            );
        }
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

    fn standard(error: &Error) -> Classification {
        Classification::standard(error)
    }

    #[test]
    fn post_is_not_retried_after_a_503_but_is_after_a_connect_failure() {
        let policy = RetryPolicy::default();
        let status = Error::new(ErrorKind::Status, "x").with_status(StatusCode::SERVICE_UNAVAILABLE);
        assert!(policy.delay_after(standard(&status), 1, false).is_none());
        assert!(policy.delay_after(standard(&status), 1, true).is_some());
        let not_sent = Error::new(ErrorKind::Transport, "refused").with_not_sent();
        assert!(policy.delay_after(standard(&not_sent), 1, false).is_some());
    }

    #[derive(Debug)]
    struct DocumentedWait(Duration);

    impl RetryClassifier for DocumentedWait {
        fn classify(&self, _: &Error, prior: Classification) -> Classification {
            if prior.class == FailureClass::Throttled && prior.wait.is_none() {
                return prior.with_wait(Some(self.0));
            }
            prior
        }
    }

    #[test]
    fn a_classifier_gives_a_throttled_response_without_retry_after_its_apis_wait() {
        let policy = RetryPolicy::default();
        let mut chain = Classifiers::new();
        chain.push(Arc::new(DocumentedWait(Duration::from_secs(15))));
        let throttled = Error::new(ErrorKind::Throttled, "x").with_status(StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            policy.delay_after(chain.classify(&throttled), 1, true),
            Some(Duration::from_secs(15))
        );
        // Without the classifier: the backoff, at most the 500 ms initial ceiling.
        assert!(policy.delay_after(standard(&throttled), 1, true) <= Some(Duration::from_millis(500)));
        // The server's own Retry-After wins over the documented wait.
        let told = throttled.clone().with_retry_after(Some(Duration::from_secs(2)));
        assert_eq!(chain.classify(&told).wait, Some(Duration::from_secs(2)));
        let unavailable = Error::new(ErrorKind::Status, "x").with_status(StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(chain.classify(&unavailable).wait, None);
    }

    #[test]
    fn retry_after_longer_than_the_policy_allows_ends_the_retries() {
        let policy = RetryPolicy::default().with_max_delay(Duration::from_secs(10));
        let err = |secs| {
            Error::new(ErrorKind::Throttled, "x")
                .with_status(StatusCode::TOO_MANY_REQUESTS)
                .with_retry_after(Some(Duration::from_secs(secs)))
        };
        assert_eq!(policy.delay_after(standard(&err(3600)), 1, true), None);
        assert_eq!(
            policy.delay_after(standard(&err(10)), 1, true),
            Some(Duration::from_secs(10))
        );
    }

    #[tokio::test]
    async fn the_retrier_keeps_to_attempts_and_budget_and_resets_after_progress() {
        let clock = crate::ManualClock::new();
        let policy = RetryPolicy::default()
            .with_jitter(false)
            .with_max_attempts(10)
            .with_initial_delay(Duration::from_secs(10))
            .with_max_delay(Duration::from_secs(40))
            .with_total_budget(Duration::from_secs(60));
        let mut retrier = Retrier::new(policy, Arc::new(clock.clone()));
        let transient = Classification::new(FailureClass::Transient);
        let mut waited = Vec::new();
        while let Some(delay) = retrier.next_delay(transient, true) {
            waited.push(delay.as_secs());
            retrier.wait(delay).await;
        }
        // 10 + 20 = 30 s spent; the next 40 s would end at 70 s, past the 60 s budget.
        assert_eq!(waited, vec![10, 20]);
        assert_eq!(retrier.attempt(), 3);
        retrier.reset();
        assert_eq!(retrier.attempt(), 1);
        assert_eq!(retrier.next_delay(transient, true), Some(Duration::from_secs(10)));
        assert_eq!(
            retrier.next_delay(Classification::new(FailureClass::Final), true),
            None
        );
    }
}
