//! The transport settings every client builder takes, under one set of names.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::{HttpClientBuilder, TlsRoots};
use crate::clock::{Clock, TokioClock};
use crate::retry::RetryPolicy;
use crate::throttle::Throttle;

/// What every client's builder sets the same way: `read_timeout`, `request_timeout`,
/// `connect_timeout`, `retry_policy`, `throttle`, `clock`, `user_agent_suffix`,
/// `tls_roots` and `proxy`. Held by [`ClientConfig`](crate::ClientConfig), whose setters
/// every client builder has.
#[derive(Clone)]
#[non_exhaustive]
pub struct TransportSettings {
    /// Longest silence while reading a response (its headers, or between two chunks of
    /// its body); `None` disables it. See [`HttpClientBuilder::read_timeout`].
    pub read_timeout: Option<Duration>,
    /// Limit on each attempt of a request, up to its response headers (or its whole
    /// body, when the call buffers it); `None` (the default) disables it. A streamed
    /// body is never cut by it. See [`HttpClientBuilder::request_timeout`].
    pub request_timeout: Option<Duration>,
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
    /// The proxy of the API's requests, instead of the environment's (see
    /// [`HttpClientBuilder::proxy`]); loopback hosts never use one. `Debug` shows it
    /// without user information.
    pub proxy: Option<String>,
}

impl TransportSettings {
    /// The defaults with a read timeout of `timeout`: no request timeout, 10 s to
    /// connect, the default retry policy, no throttle, the Tokio clock, the bundled
    /// roots, the environment's proxies.
    pub fn with_read_timeout(timeout: Duration) -> Self {
        TransportSettings {
            read_timeout: Some(timeout),
            request_timeout: None,
            connect_timeout: Some(Duration::from_secs(10)),
            retry_policy: RetryPolicy::default(),
            throttle: None,
            clock: Arc::new(TokioClock),
            user_agent_suffix: None,
            tls_roots: TlsRoots::default(),
            proxy: None,
        }
    }

    /// Puts every setting on `builder` (the throttle too, when there is one).
    pub fn apply(&self, builder: HttpClientBuilder) -> HttpClientBuilder {
        let mut builder = builder
            .read_timeout(self.read_timeout)
            .request_timeout(self.request_timeout)
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
        if let Some(proxy) = &self.proxy {
            builder = builder.proxy(proxy.clone());
        }
        builder
    }
}

impl fmt::Debug for TransportSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A proxy URL may carry a password.
        f.debug_struct("TransportSettings")
            .field("read_timeout", &self.read_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("retry_policy", &self.retry_policy)
            .field("throttle", &self.throttle)
            .field("clock", &self.clock)
            .field("user_agent_suffix", &self.user_agent_suffix)
            .field("tls_roots", &self.tls_roots)
            .field("proxy", &self.proxy.as_deref().map(super::redact_url_text))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::HttpClient;

    #[test]
    fn every_setting_reaches_the_http_builder_and_debug_hides_the_proxy_password() {
        let mut settings = TransportSettings::with_read_timeout(Duration::from_secs(7));
        settings.request_timeout = Some(Duration::from_secs(9));
        settings.proxy = Some("http://user:PASSWORD@proxy.example:3128/?k=SECRET".to_owned());
        let builder = settings.apply(HttpClient::builder("https://api.example.com/"));
        let text = format!("{builder:?} {settings:?}");
        assert!(text.contains("read_timeout: Some(7s)"), "{text}");
        assert!(text.contains("request_timeout: Some(9s)"), "{text}");
        assert!(text.contains("proxy.example:3128"), "{text}");
        assert!(!text.contains("PASSWORD") && !text.contains("SECRET"), "{text}");
        assert!(builder.build().is_ok());
    }
}
