//! The transport settings every client builder takes, under one set of names.

use std::sync::Arc;
use std::time::Duration;

use super::{HttpClientBuilder, TlsRoots};
use crate::clock::{Clock, TokioClock};
use crate::retry::RetryPolicy;
use crate::throttle::Throttle;

/// What every client's builder sets the same way: `timeout`, `connect_timeout`,
/// `retry_policy`, `throttle`, `clock`, `user_agent_suffix` and `tls_roots`. Held by
/// [`ClientConfig`](crate::ClientConfig), whose setters every client builder has.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TransportSettings {
    /// Longest silence while reading a response; `None` disables it.
    pub timeout: Option<Duration>,
    /// Time allowed to open a connection; `None` disables it.
    pub connect_timeout: Option<Duration>,
    /// How failed requests are repeated.
    pub retry_policy: RetryPolicy,
    /// A client-side rate limit shared by every clone of the client.
    pub throttle: Option<Throttle>,
    /// The clock of retries, throttle and token backoff.
    pub clock: Arc<dyn Clock>,
    /// Text appended to `User-Agent`.
    pub user_agent_suffix: Option<String>,
    /// The trusted TLS roots of the API and its token endpoint.
    pub tls_roots: TlsRoots,
}

impl TransportSettings {
    /// The defaults with a read timeout of `timeout`: 10 s to connect, the default retry
    /// policy, no throttle, the Tokio clock, the bundled roots.
    pub fn with_timeout(timeout: Duration) -> Self {
        TransportSettings {
            timeout: Some(timeout),
            connect_timeout: Some(Duration::from_secs(10)),
            retry_policy: RetryPolicy::default(),
            throttle: None,
            clock: Arc::new(TokioClock),
            user_agent_suffix: None,
            tls_roots: TlsRoots::default(),
        }
    }

    /// Puts every setting on `builder` (the throttle too, when there is one).
    pub fn apply(&self, builder: HttpClientBuilder) -> HttpClientBuilder {
        let mut builder = builder
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .retry_policy(self.retry_policy.clone())
            .clock(self.clock.clone())
            .tls_roots(self.tls_roots.clone());
        if let Some(throttle) = &self.throttle {
            builder = builder.throttle(throttle.clone());
        }
        if let Some(suffix) = &self.user_agent_suffix {
            builder = builder.user_agent_suffix(suffix.clone());
        }
        builder
    }
}
