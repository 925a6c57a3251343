//! `Client` and its builder: the shared settings, Conduit's token and tier, and the
//! variables `from_env` reads.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use client_core::{ApiDefaults, ClientConfig, Credential, HeaderCredential, HttpClient, Throttle, Vars};
use secrecy::SecretString;

use crate::error::{Error, Result};
use crate::policy::IntervalAfter429;
use crate::tier::Tier;

/// The document's base URL.
pub const DEFAULT_BASE_URL: &str = "https://app.alphax.cloud/conduitv6/";

/// The variables [`Client::from_env`] and [`ClientBuilder::vars`] read.
pub mod env {
    /// The Conduit token, sent in `X-Api-Key` (required unless a credential is given).
    pub const TOKEN: &str = "CONDUIT_TOKEN";
    /// The base URL (optional; default [`super::DEFAULT_BASE_URL`]).
    pub const BASE_URL: &str = "CONDUIT_BASE_URL";
    /// The rate tier: `standard` (default), `10s`, `1s` or `unlimited` (see
    /// [`crate::Tier`]).
    pub const TIER: &str = "CONDUIT_TIER";
    /// Every variable the client reads.
    pub const ALL: [&str; 3] = [TOKEN, BASE_URL, TIER];
}

const DEFAULTS: ApiDefaults = ApiDefaults::new(
    "Conduit",
    Some(DEFAULT_BASE_URL),
    env::BASE_URL,
    concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION")),
)
.with_metrics_label(METRICS_LABEL);

/// The `api` label of this crate's [metrics](client_core::metrics).
pub(crate) const METRICS_LABEL: &str = "conduit";

/// A Conduit client. Cheap to clone; clones share the connection pool and the throttle,
/// so every clone and every task together stay within the rate limit. `Send + Sync`.
#[derive(Clone)]
pub struct Client {
    pub(crate) http: HttpClient,
    interval: Option<Duration>,
}

impl Client {
    /// Starts a builder with the document's defaults (base URL, [`Tier::Standard`]).
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            config: ClientConfig::new(DEFAULTS),
            token: None,
            tier: Tier::default(),
        }
    }

    /// The minimum interval between requests, if throttled.
    pub fn interval(&self) -> Option<Duration> {
        self.interval
    }

    /// The base URL.
    pub fn base_url(&self) -> &client_core::url::Url {
        self.http.base_url()
    }
}

/// Builder of [`Client`]: the setters every client of the SDK has (`base_url`,
/// `credential`, `timeout`, `connect_timeout`, `retry_policy`, `throttle`, `clock`,
/// `user_agent_suffix`, `tls_roots`, `vars`), plus Conduit's [`token`](Self::token) and
/// [`tier`](Self::tier).
///
/// ```no_run
/// use conduit_client::{Client, SecretString, Tier};
///
/// # fn run() -> Result<(), conduit_client::Error> {
/// let client = Client::builder()
///     .token(SecretString::from("..."))
///     .tier(Tier::TenSeconds)
///     .user_agent_suffix("plant-exporter/1.0")
///     .build()?;
/// # Ok(()) }
/// ```
pub struct ClientBuilder {
    config: ClientConfig,
    token: Option<SecretString>,
    tier: Tier,
}

impl ClientBuilder {
    /// The Conduit token. It is sent only in `X-Api-Key`, never in a URL. A credential
    /// given with [`credential`](Self::credential) takes precedence.
    pub fn token(mut self, token: SecretString) -> Self {
        self.token = Some(token);
        self
    }

    /// The rate tier (default [`Tier::Standard`], 15 s): the interval between requests,
    /// and the wait after a 429 without `Retry-After`. [`Tier::Unlimited`] turns the
    /// client-side throttle off, and leaves a 429's wait to the retry policy's backoff. A
    /// throttle set with [`throttle`](Self::throttle) takes precedence.
    pub fn tier(mut self, tier: Tier) -> Self {
        self.tier = tier;
        self
    }
}

/// The builder's own halves of the `ClientBuilderShape` that `client_shape!` implements:
/// its variables and its build.
impl ClientBuilder {
    /// `CONDUIT_TOKEN` (required unless a token or credential was given) and
    /// `CONDUIT_TIER`.
    fn read_own_vars(mut self, vars: &mut Vars<'_>) -> Self {
        if let Some(token) = vars.secret(env::TOKEN) {
            self.token = Some(token);
        } else if self.token.is_none() && self.config.credential().is_none() {
            vars.missing(env::TOKEN);
        }
        if let Some(tier) = vars.parse::<Tier>(env::TIER) {
            self.tier = tier;
        }
        self
    }

    /// Checks the configuration and builds the client. A missing token is
    /// [`ClientError::Config`](crate::ClientError::Config).
    fn build_client(mut self) -> Result<Client> {
        let credential: Arc<dyn Credential> = match self.config.credential() {
            Some(credential) => credential.clone(),
            None => {
                let token = self.token.ok_or_else(|| {
                    Error::config(format!("Conduit: a token is required (token, or {})", env::TOKEN))
                })?;
                Arc::new(
                    HeaderCredential::builder()
                        .name("X-Api-Key")
                        .value(token)
                        .build()?,
                )
            }
        };
        let transport = self.config.transport_mut();
        if transport.throttle.is_none() {
            transport.throttle = self
                .tier
                .interval()
                .map(|interval| Throttle::with_clock(1, interval, transport.clock.clone()));
        }
        let interval = transport
            .throttle
            .as_ref()
            .map(|t| t.window() / u32::try_from(t.limit()).unwrap_or(u32::MAX));
        let http = self
            .config
            .http_builder()?
            .shared_credential(credential)
            .classifier(Arc::new(IntervalAfter429::new(interval)))
            .build()?;
        Ok(Client { http, interval })
    }
}

client_core::client_shape! {
    client: Client,
    builder: ClientBuilder { config },
    error: Error,
    read_vars: read_own_vars,
    build: build_client,
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
            .field("config", &self.config)
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
            .field("tier", &self.tier)
            .finish()
    }
}
