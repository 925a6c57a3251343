//! `Client` and its builder.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use client_core::{Clock, HeaderCredential, HttpClient, RetryPolicy, Throttle, TokioClock};
use secrecy::SecretString;

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
/// so every clone and every task together stay within the rate limit.
#[derive(Clone)]
pub struct Client {
    pub(crate) http: HttpClient,
    pub(crate) interval: Option<Duration>,
}

/// Builder of [`Client`].
pub struct ClientBuilder {
    base_url: String,
    token: Option<SecretString>,
    interval: Option<Duration>,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
}

impl Client {
    /// Starts a builder with the document's defaults (base URL, 15 s interval).
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            base_url: DEFAULT_BASE_URL.to_owned(),
            token: None,
            interval: Tier::Standard.interval(),
            retry: RetryPolicy::default(),
            clock: Arc::new(TokioClock),
            connect_timeout: Some(Duration::from_secs(10)),
            read_timeout: Some(Duration::from_secs(60)),
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
        let token = present("CONDUIT_TOKEN")
            .ok_or_else(|| Error::InvalidRequest("CONDUIT_TOKEN is not set".into()))?;
        let mut builder = Client::builder().token(SecretString::from(token));
        if let Some(url) = present("CONDUIT_BASE_URL") {
            builder = builder.base_url(url);
        }
        builder.build()
    }

    /// A datapoints query (`GET /conduitv6/?id=&ch=&fcdt=&tcdt=`).
    pub fn datapoints(&self) -> DatapointsQuery {
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
        let missing_delay = err.is_throttled() && err.retry_after().is_none();
        match Error::from(err) {
            Error::Throttled { api, .. } if missing_delay => Error::Throttled {
                retry_after: self.interval.unwrap_or(DEFAULT_INTERVAL),
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

    /// The rate tier (default [`Tier::Standard`], 15 s).
    pub fn tier(mut self, tier: Tier) -> Self {
        self.interval = tier.interval();
        self
    }

    /// A custom minimum interval between requests; `None` turns the throttle off.
    pub fn min_interval(mut self, interval: Option<Duration>) -> Self {
        self.interval = interval.filter(|i| !i.is_zero());
        self
    }

    /// The retry policy. Whatever it says, a 429 without `Retry-After` waits the interval.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The clock of the throttle and retries (tests use a paused or manual clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The connect timeout (default 10 s); `None` disables it.
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The longest silence while reading a response (default 60 s); `None` disables it.
    pub fn read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<Client> {
        let token = self
            .token
            .ok_or_else(|| Error::InvalidRequest("a Conduit token is required".into()))?;
        let credential = HeaderCredential::builder()
            .name("X-Api-Key")
            .value(token)
            .build()
            .map_err(Error::Core)?;
        let retry = self
            .retry
            .with_throttled_delay(Some(self.interval.unwrap_or(DEFAULT_INTERVAL)));
        let mut http = HttpClient::builder(self.base_url)
            .credential(credential)
            .retry_policy(retry)
            .clock(self.clock.clone())
            .connect_timeout(self.connect_timeout)
            .read_timeout(self.read_timeout)
            .user_agent(concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION")));
        if let Some(interval) = self.interval {
            http = http.throttle(Throttle::with_clock(1, interval, self.clock));
        }
        Ok(Client {
            http: http.build().map_err(Error::Core)?,
            interval: self.interval,
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
            .field("interval", &self.interval)
            .field("retry", &self.retry)
            .finish()
    }
}
