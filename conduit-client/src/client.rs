//! `Client` and its builder.

use std::fmt;
use std::time::Duration;

use client_core::{HeaderCredential, HttpClient, Throttle, TransportSettings};
use secrecy::SecretString;

use crate::datapoint::Datapoint;
use crate::error::{Error, Result};
use crate::query::DatapointsQuery;
use crate::send::SendRequest;

/// The document's base URL.
pub const DEFAULT_BASE_URL: &str = "https://app.alphax.cloud/conduitv6/";
/// The document's rate limit: one request every 15 seconds.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(15);

/// The vendor's rate tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Tier {
    /// One request per 15 s, as the document states (the default).
    #[default]
    Standard,
    /// One request per 10 s.
    TenSeconds,
    /// One request per second.
    OneSecond,
    /// No client-side limit (a 429 is still waited out).
    Unlimited,
}

impl Tier {
    /// The minimum interval between requests, `None` for no limit.
    pub fn interval(self) -> Option<Duration> {
        match self {
            Tier::Standard => Some(DEFAULT_INTERVAL),
            Tier::TenSeconds => Some(Duration::from_secs(10)),
            Tier::OneSecond => Some(Duration::from_secs(1)),
            Tier::Unlimited => None,
        }
    }
}

/// A Conduit client. Cheap to clone; clones share the connection pool and the throttle,
/// so every clone and every task together stay within the rate limit. `Send + Sync`.
#[derive(Clone)]
pub struct Client {
    pub(crate) http: HttpClient,
    pub(crate) interval: Option<Duration>,
}

/// Builder of [`Client`]. The setters are the workspace's one vocabulary: `base_url`,
/// `timeout`, `connect_timeout`, `retry_policy`, `throttle`, `clock`,
/// `user_agent_suffix`, `tls_roots`, plus the credential (`token`) and Conduit's `tier`.
pub struct ClientBuilder {
    base_url: String,
    token: Option<SecretString>,
    /// The tier's interval, turned into a throttle on the final clock at build time.
    tier_interval: Option<Duration>,
    transport: TransportSettings,
}

/// The environment variables [`Client::from_env`] reads.
pub mod env {
    /// The Conduit token (required).
    pub const TOKEN: &str = "CONDUIT_TOKEN";
    /// The base URL (optional; default [`super::DEFAULT_BASE_URL`]).
    pub const BASE_URL: &str = "CONDUIT_BASE_URL";
}

impl Client {
    /// Starts a builder with the document's defaults (base URL, 15 s interval).
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            base_url: DEFAULT_BASE_URL.to_owned(),
            token: None,
            tier_interval: Tier::Standard.interval(),
            transport: TransportSettings::with_timeout(Duration::from_secs(60)),
        }
    }

    /// A client from `CONDUIT_TOKEN` (required) and `CONDUIT_BASE_URL` (optional).
    pub fn from_env() -> Result<Client> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Like [`Client::from_env`], reading the variables through `lookup` (a config map, a
    /// secret store, a test).
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Client> {
        let present = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let token = present(env::TOKEN).ok_or_else(|| Error::config(format!("{} is not set", env::TOKEN)))?;
        let mut builder = Client::builder().token(SecretString::from(token));
        if let Some(url) = present(env::BASE_URL) {
            builder = builder.base_url(url);
        }
        builder.build()
    }

    /// A datapoints query (`GET /conduitv6/?id=&ch=&fcdt=&tcdt=`) of [`Datapoint`]s; call
    /// [`DatapointsQuery::records`] to decode into your own type.
    pub fn datapoints(&self) -> DatapointsQuery<Datapoint> {
        DatapointsQuery::new(self.clone())
    }

    /// A request with a JSON body (POST, PUT or DELETE) to `path` under the base URL.
    pub fn send(&self, method: client_core::http::Method, path: &str) -> SendRequest {
        SendRequest::new(self.clone(), method, path)
    }

    /// The minimum interval between requests, if throttled.
    pub fn interval(&self) -> Option<Duration> {
        self.interval
    }

    /// The base URL.
    pub fn base_url(&self) -> &client_core::url::Url {
        self.http.base_url()
    }

    /// Maps a transport error, giving a 429 without `Retry-After` the client's interval.
    pub(crate) fn map_error(&self, err: client_core::Error) -> Error {
        match Error::from(err) {
            Error::Throttled {
                retry_after: None,
                api,
            } => Error::Throttled {
                retry_after: Some(self.interval.unwrap_or(DEFAULT_INTERVAL)),
                api,
            },
            other => other,
        }
    }
}

impl ClientBuilder {
    /// The base URL (default [`DEFAULT_BASE_URL`]; the vendor also serves
    /// `https://api.alphax.cloud/conduitv6/`). A missing trailing `/` is added.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The Conduit token. It is sent only in `X-Api-Key`, never in a URL.
    pub fn token(mut self, token: SecretString) -> Self {
        self.token = Some(token);
        self
    }

    /// The rate tier (default [`Tier::Standard`], 15 s); [`Tier::Unlimited`] turns the
    /// client-side throttle off. A throttle set with `throttle` takes precedence.
    pub fn tier(mut self, tier: Tier) -> Self {
        self.tier_interval = tier.interval();
        self
    }

    client_core::transport_setters!(transport);

    /// Checks the configuration and builds the client. A missing token is
    /// [`client_core::ClientError::Config`].
    pub fn build(self) -> Result<Client> {
        let token = self
            .token
            .ok_or_else(|| Error::config("a Conduit token is required (CONDUIT_TOKEN)"))?;
        let credential = HeaderCredential::builder()
            .name("X-Api-Key")
            .value(token)
            .build()?;
        let mut transport = self.transport;
        if transport.throttle.is_none() {
            transport.throttle = self
                .tier_interval
                .map(|interval| Throttle::with_clock(1, interval, transport.clock.clone()));
        }
        let interval = transport
            .throttle
            .as_ref()
            .map(|t| t.window() / u32::try_from(t.limit().max(1)).unwrap_or(u32::MAX));
        // A 429 without `Retry-After` waits the interval, whatever the policy says.
        transport.retry_policy = transport
            .retry_policy
            .with_throttled_delay(Some(interval.unwrap_or(DEFAULT_INTERVAL)));
        let http = transport
            .apply(HttpClient::builder(self.base_url))
            .credential(credential)
            .user_agent(concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION")));
        Ok(Client {
            http: http.build()?,
            interval,
        })
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("http", &self.http)
            .field("interval", &self.interval)
            .finish()
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
            .field("tier_interval", &self.tier_interval)
            .field("transport", &self.transport)
            .finish()
    }
}
