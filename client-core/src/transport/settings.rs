//! The transport settings every client builder takes, under one set of names.

use std::sync::Arc;
use std::time::Duration;

use super::{HttpClientBuilder, TlsRoots};
use crate::clock::{Clock, TokioClock};
use crate::retry::RetryPolicy;
use crate::throttle::Throttle;

/// What every client's builder sets the same way: `timeout`, `connect_timeout`,
/// `retry_policy`, `throttle`, `clock`, `user_agent_suffix` and `tls_roots`. A client
/// builder holds one and gets the setters from [`crate::transport_setters!`], so the
/// vocabulary cannot drift between clients.
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

/// The setters of [`TransportSettings`] on a client builder whose field `$field` holds
/// them: `timeout`, `connect_timeout`, `retry_policy`, `throttle`, `clock`,
/// `user_agent_suffix`, `tls_roots`. Used inside an `impl ClientBuilder { .. }` block.
#[macro_export]
macro_rules! transport_setters {
    ($field:ident) => {
        /// Longest silence while reading a response; `None` disables it. Bodies may
        /// stream for hours as long as bytes keep arriving.
        pub fn timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
            self.$field.timeout = timeout;
            self
        }

        /// Time allowed to open a connection (default 10 s); `None` disables it.
        pub fn connect_timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
            self.$field.connect_timeout = timeout;
            self
        }

        /// How failed requests are repeated (default: 4 attempts with backoff).
        pub fn retry_policy(mut self, policy: $crate::RetryPolicy) -> Self {
            self.$field.retry_policy = policy;
            self
        }

        /// A client-side rate limit, shared by every clone of the client.
        pub fn throttle(mut self, throttle: $crate::Throttle) -> Self {
            self.$field.throttle = Some(throttle);
            self
        }

        /// The clock of retries, throttle and token backoff (tests use a manual or
        /// paused clock).
        pub fn clock(mut self, clock: std::sync::Arc<dyn $crate::Clock>) -> Self {
            self.$field.clock = clock;
            self
        }

        /// Text appended to `User-Agent` (your service's name and version, say).
        pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
            self.$field.user_agent_suffix = Some(suffix.into());
            self
        }

        /// The trusted TLS roots (default: the bundled Mozilla roots).
        pub fn tls_roots(mut self, roots: $crate::TlsRoots) -> Self {
            self.$field.tls_roots = roots;
            self
        }
    };
}
