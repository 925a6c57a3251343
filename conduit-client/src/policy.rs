//! Conduit's reading of its failures, plugged into the request pipeline.

use std::time::Duration;

use client_core::{Classification, FailureClass, RetryClassifier};

/// A 429 without `Retry-After` waits the client's interval: the document's rate limit
/// says when the next request is welcome, even when the server does not. The pipeline
/// holds every clone back for that long and puts the wait on the error, so
/// `Error::Throttled { retry_after }` names it when the retries run out. A client with
/// no interval (`Tier::Unlimited`) adds no wait: the retry policy's backoff applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IntervalAfter429 {
    interval: Option<Duration>,
}

impl IntervalAfter429 {
    /// Waits `interval`, if any, after a 429 that names no wait.
    pub(crate) fn new(interval: Option<Duration>) -> Self {
        IntervalAfter429 { interval }
    }
}

impl RetryClassifier for IntervalAfter429 {
    fn classify(&self, _error: &client_core::Error, prior: Classification) -> Classification {
        match self.interval {
            Some(interval) if prior.class == FailureClass::Throttled && prior.wait.is_none() => {
                prior.with_wait(Some(interval))
            }
            _ => prior,
        }
    }
}

#[cfg(test)]
mod tests {
    use client_core::ErrorKind;

    use super::*;

    #[test]
    fn only_a_429_without_a_wait_gets_the_interval() {
        let policy = IntervalAfter429::new(Some(Duration::from_secs(10)));
        let error = client_core::Error::new(ErrorKind::Throttled, "429");
        let bare = policy.classify(&error, Classification::new(FailureClass::Throttled));
        assert_eq!(bare.wait, Some(Duration::from_secs(10)));
        let asked = Classification::new(FailureClass::Throttled).with_wait(Some(Duration::from_secs(3)));
        assert_eq!(policy.classify(&error, asked), asked);
        let transient = Classification::new(FailureClass::Transient);
        assert_eq!(policy.classify(&error, transient), transient);
    }

    #[test]
    fn without_an_interval_a_429_gets_no_wait() {
        let policy = IntervalAfter429::new(None);
        let error = client_core::Error::new(ErrorKind::Throttled, "429");
        let bare = Classification::new(FailureClass::Throttled);
        assert_eq!(policy.classify(&error, bare), bare);
    }
}
