//! The settings every client builder shares, and the defaults an API crate gives them.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::Credential;
use crate::error::{Error, Result};
use crate::transport::{HttpClient, HttpClientBuilder, TransportSettings};

/// The read timeout of every client unless set otherwise: the longest silence while
/// reading a response (its headers, or between two chunks of its body). Long enough for
/// a heavy query's first byte (the Preventos document's own recipe waits 120 s); bodies
/// may stream for hours as long as bytes keep arriving.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(120);

/// The time allowed to open a connection, in every client unless set otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What an API crate tells the shared builder about its API: its name, its document's
/// base URL and the variable that overrides it, and its `User-Agent` product token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiDefaults {
    /// The API's name in messages (`"Conduit"`).
    pub name: &'static str,
    /// The document's base URL; `None` when the vendor gives each customer its own.
    pub base_url: Option<&'static str>,
    /// The variable `from_env` reads the base URL from (`CONDUIT_BASE_URL`).
    pub base_url_var: &'static str,
    /// The product token in front of `client-core/x.y.z` in `User-Agent`
    /// (`conduit-client/0.1.0`).
    pub user_agent: &'static str,
    /// The `api` label of the client's [metrics](crate::metrics): a short, lowercase,
    /// fixed word (`conduit`), given with [`ApiDefaults::with_metrics_label`];
    /// [`ApiDefaults::new`] puts the API's `name` there until then.
    pub metrics_label: &'static str,
}

impl ApiDefaults {
    /// The defaults of an API.
    pub const fn new(
        name: &'static str,
        base_url: Option<&'static str>,
        base_url_var: &'static str,
        user_agent: &'static str,
    ) -> Self {
        ApiDefaults {
            name,
            base_url,
            base_url_var,
            user_agent,
            metrics_label: name,
        }
    }

    /// The same defaults with `label` as the `api` label of the client's metrics.
    pub const fn with_metrics_label(mut self, label: &'static str) -> Self {
        self.metrics_label = label;
        self
    }
}

/// The half of every client builder that is the same in every client: the base URL, a
/// credential given as any `client-core` [`Credential`], and the transport settings.
/// A client crate's `ClientBuilder` holds one, gets its setters from
/// [`ClientBuilderShape`](crate::ClientBuilderShape), and adds only what is its own:
/// its credential kinds and its policies.
pub struct ClientConfig {
    defaults: ApiDefaults,
    base_url: Option<String>,
    credential: Option<Arc<dyn Credential>>,
    transport: TransportSettings,
}

impl ClientConfig {
    /// The shared settings at their defaults: the API's base URL, a read timeout of
    /// [`DEFAULT_READ_TIMEOUT`], no request timeout, [`DEFAULT_CONNECT_TIMEOUT`], the default
    /// retry policy, no throttle, the Tokio clock, the bundled TLS roots, the
    /// environment's proxies.
    pub fn new(defaults: ApiDefaults) -> Self {
        ClientConfig {
            defaults,
            base_url: None,
            credential: None,
            transport: TransportSettings::with_read_timeout(DEFAULT_READ_TIMEOUT),
        }
    }

    /// The API's defaults.
    pub fn defaults(&self) -> &ApiDefaults {
        &self.defaults
    }

    /// The base URL set, else the API's default.
    pub fn base_url(&self) -> Option<&str> {
        self.base_url.as_deref().or(self.defaults.base_url)
    }

    /// Sets the base URL.
    pub fn set_base_url(&mut self, url: String) {
        self.base_url = Some(url);
    }

    /// The credential given with `credential(..)`, which takes precedence over the
    /// API's own credential setters.
    pub fn credential(&self) -> Option<&Arc<dyn Credential>> {
        self.credential.as_ref()
    }

    /// Sets the credential.
    pub fn set_credential(&mut self, credential: Arc<dyn Credential>) {
        self.credential = Some(credential);
    }

    /// The transport settings.
    pub fn transport(&self) -> &TransportSettings {
        &self.transport
    }

    /// The transport settings, to change.
    pub fn transport_mut(&mut self) -> &mut TransportSettings {
        &mut self.transport
    }

    /// The base URL, or a configuration error naming its variable when the API has no
    /// default and none was set.
    pub fn require_base_url(&self) -> Result<&str> {
        self.base_url().ok_or_else(|| {
            Error::config(format!(
                "{}: the base URL is required (base_url, or {})",
                self.defaults.name, self.defaults.base_url_var
            ))
        })
    }

    /// An [`HttpClient`] builder for the base URL with every shared setting applied:
    /// timeouts, retry policy, throttle, clock, TLS roots, proxy and `User-Agent`. The client
    /// crate adds its credentials, headers and classifiers.
    pub fn http_builder(&self) -> Result<HttpClientBuilder> {
        Ok(self.http_builder_for(self.require_base_url()?))
    }

    /// Like [`ClientConfig::http_builder`], for a second base URL of the same API (DT's
    /// emulator).
    pub fn http_builder_for(&self, base_url: &str) -> HttpClientBuilder {
        self.transport
            .apply(HttpClient::builder(base_url))
            .user_agent(self.defaults.user_agent)
            .metrics_label(self.defaults.metrics_label)
    }

    /// The token endpoint settings matching the client's: its clock, TLS roots, proxy,
    /// connect timeout and request timeout (each when set; the token endpoint's defaults
    /// otherwise). Token requests then take the same way as API requests: a client behind
    /// a proxy does not try to reach its token endpoint directly.
    #[cfg(feature = "oauth2")]
    pub fn token_endpoint(&self) -> crate::TokenEndpointConfig {
        let transport = &self.transport;
        let mut config = crate::TokenEndpointConfig::default()
            .tls_roots(transport.tls_roots.clone())
            .clock(transport.clock.clone());
        if let Some(proxy) = &transport.proxy {
            config = config.proxy(proxy.clone());
        }
        if let Some(timeout) = transport.connect_timeout {
            config = config.connect_timeout(timeout);
        }
        if let Some(timeout) = transport.request_timeout {
            config = config.request_timeout(timeout);
        }
        config
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("api", &self.defaults.name)
            .field(
                "base_url",
                &self.base_url().map(crate::transport::redact_url_text),
            )
            .field("credential", &self.credential)
            .field("transport", &self.transport)
            .finish()
    }
}
