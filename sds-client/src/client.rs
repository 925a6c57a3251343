//! `Client`, its builder, its defaults and the variables it reads.

use std::fmt;
use std::sync::Arc;

use client_core::http::{HeaderValue, header};
use client_core::{ApiDefaults, BearerToken, ClientConfig, ClientCredentials, Credential, HttpClient, Vars};
use secrecy::SecretString;

use crate::error::{Error, Result};

/// The API's base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.bentley.com/sensor-data/";
/// Bentley IMS's token endpoint.
pub const DEFAULT_TOKEN_URL: &str = "https://ims.bentley.com/connect/token";
/// The scope service applications ask for.
pub const DEFAULT_SCOPE: &str = "itwin-platform";
/// The media type every request accepts (the iTwin Platform's API version 1).
pub const ACCEPT: &str = "application/vnd.bentley.itwin-platform.v1+json";
/// The page size observation queries ask for by default (the document's example page
/// holds 10,000).
pub const DEFAULT_PAGE_SIZE: u32 = 10_000;

const DEFAULTS: ApiDefaults = ApiDefaults::new(
    "Sensor Data",
    Some(DEFAULT_BASE_URL),
    env::BASE_URL,
    concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION")),
)
.with_metrics_label(METRICS_LABEL);

/// The `api` label of this crate's [metrics](client_core::metrics).
pub(crate) const METRICS_LABEL: &str = "sds";

/// The variables [`Client::from_env`] and [`Client::from_vars`] read.
pub mod env {
    /// The API base URL (default [`super::DEFAULT_BASE_URL`]).
    pub const BASE_URL: &str = "SDS_BASE_URL";
    /// The service application's client id (with [`CLIENT_SECRET`]).
    pub const CLIENT_ID: &str = "SDS_CLIENT_ID";
    /// The service application's secret (with [`CLIENT_ID`]).
    pub const CLIENT_SECRET: &str = "SDS_CLIENT_SECRET";
    /// A bearer token already obtained (instead of the client credentials).
    pub const ACCESS_TOKEN: &str = "SDS_ACCESS_TOKEN";
    /// The scope (default [`super::DEFAULT_SCOPE`]).
    pub const SCOPE: &str = "SDS_SCOPE";
    /// The token endpoint (default [`super::DEFAULT_TOKEN_URL`]).
    pub const TOKEN_URL: &str = "SDS_TOKEN_URL";
    /// Every variable the client reads, for "is anything configured?" checks.
    pub const ALL: [&str; 6] = [BASE_URL, CLIENT_ID, CLIENT_SECRET, ACCESS_TOKEN, SCOPE, TOKEN_URL];
}

/// A Sensor Data API client. Cheap to clone; clones share the token cache and the
/// connection pool. `Send + Sync`.
#[derive(Clone)]
pub struct Client {
    pub(crate) http: HttpClient,
    pub(crate) page_size: u32,
}

/// The API's own credential kinds.
enum SdsCredential {
    /// An IMS service application: client credentials, the secret in the form body.
    ClientCredentials { client_id: String, secret: SecretString },
    /// A bearer token the caller already holds (not refreshed).
    AccessToken(SecretString),
}

/// Builder of [`Client`]: the setters every client of the SDK has (`base_url`,
/// `credential`, `timeout`, `connect_timeout`, `retry_policy`, `throttle`, `clock`,
/// `user_agent_suffix`, `tls_roots`, `vars`), plus the API's own: `client_credentials`
/// or `access_token`, `token_url`, `scope` and `page_size`.
///
/// ```
/// use sds_client::{Client, SecretString};
///
/// let client = Client::builder()
///     .client_credentials("my-service-app", SecretString::from("secret"))
///     .page_size(5_000)
///     .build()?;
/// assert_eq!(client.page_size(), 5_000);
/// # Ok::<(), sds_client::Error>(())
/// ```
pub struct ClientBuilder {
    config: ClientConfig,
    credential: Option<SdsCredential>,
    token_url: Option<String>,
    scope: Option<String>,
    page_size: u32,
}

impl Client {
    /// Starts a builder with the API's defaults.
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            config: ClientConfig::new(DEFAULTS),
            credential: None,
            token_url: None,
            scope: None,
            page_size: DEFAULT_PAGE_SIZE,
        }
    }

    /// The base URL (always ends in `/`).
    pub fn base_url(&self) -> &client_core::url::Url {
        self.http.base_url()
    }

    /// The page size observation queries ask for unless told otherwise.
    pub fn page_size(&self) -> u32 {
        self.page_size
    }
}

impl ClientBuilder {
    /// Authenticates as an IMS service application (client credentials, the secret in
    /// the form body, tokens cached and refreshed).
    pub fn client_credentials(mut self, client_id: impl Into<String>, client_secret: SecretString) -> Self {
        self.credential = Some(SdsCredential::ClientCredentials {
            client_id: client_id.into(),
            secret: client_secret,
        });
        self
    }

    /// Authenticates with a bearer token the caller already holds (it is not refreshed).
    pub fn access_token(mut self, token: SecretString) -> Self {
        self.credential = Some(SdsCredential::AccessToken(token));
        self
    }

    /// The IMS token endpoint of the client credentials (default [`DEFAULT_TOKEN_URL`]).
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = Some(url.into());
        self
    }

    /// The scope the client credentials ask for (default [`DEFAULT_SCOPE`]).
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// The page size observation queries ask for (default [`DEFAULT_PAGE_SIZE`]); a
    /// server that caps it is followed correctly either way. 0 is refused by `build`.
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size;
        self
    }

    /// The credential: the one given with `credential(..)`, else the API's own kind.
    fn resolve_credential(&self) -> Result<Arc<dyn Credential>> {
        if let Some(credential) = self.config.credential() {
            return Ok(credential.clone());
        }
        match &self.credential {
            Some(SdsCredential::ClientCredentials { client_id, secret }) => Ok(Arc::new(
                ClientCredentials::builder()
                    .token_url(self.token_url.as_deref().unwrap_or(DEFAULT_TOKEN_URL))
                    .client_id(client_id.clone())
                    .client_secret(secret.clone())
                    .scope(self.scope.as_deref().unwrap_or(DEFAULT_SCOPE))
                    .endpoint(self.config.token_endpoint())
                    .build_cached()?,
            )),
            Some(SdsCredential::AccessToken(token)) => {
                Ok(Arc::new(BearerToken::builder().token(token.clone()).build()?))
            }
            None => Err(Error::config(format!(
                "Sensor Data: a credential is required: client_credentials ({}, {}), access_token ({}) or credential(..)",
                env::CLIENT_ID,
                env::CLIENT_SECRET,
                env::ACCESS_TOKEN
            ))),
        }
    }
}

/// The builder's own halves of the `ClientBuilderShape` that `client_shape!` implements:
/// its variables and its build.
impl ClientBuilder {
    fn read_own_vars(mut self, vars: &mut Vars<'_>) -> Self {
        let client_id = vars.get(env::CLIENT_ID);
        let secret = vars.secret(env::CLIENT_SECRET);
        let token = vars.secret(env::ACCESS_TOKEN);
        match (client_id, secret, token) {
            (None, None, Some(token)) => self = self.access_token(token),
            (id, _, Some(_)) => {
                let with = if id.is_some() {
                    env::CLIENT_ID
                } else {
                    env::CLIENT_SECRET
                };
                vars.problem(format!(
                    "{} and {with} exclude each other: set the client credentials or the token, not both",
                    env::ACCESS_TOKEN
                ));
            }
            (Some(id), Some(secret), None) => self = self.client_credentials(id, secret),
            // Half of the client credentials: the other half may be held already, set by
            // `client_credentials`; `credential(..)` needs neither.
            (Some(id), None, None) => match &self.credential {
                Some(SdsCredential::ClientCredentials { secret, .. }) => {
                    let secret = secret.clone();
                    self = self.client_credentials(id, secret);
                }
                _ if self.config.credential().is_some() => {}
                _ => vars.missing(env::CLIENT_SECRET),
            },
            (None, Some(secret), None) => match &self.credential {
                Some(SdsCredential::ClientCredentials { client_id, .. }) => {
                    let client_id = client_id.clone();
                    self = self.client_credentials(client_id, secret);
                }
                _ if self.config.credential().is_some() => {}
                _ => vars.missing(env::CLIENT_ID),
            },
            (None, None, None) => {
                if self.credential.is_none() && self.config.credential().is_none() {
                    vars.missing(format!(
                        "{} and {}, or {}",
                        env::CLIENT_ID,
                        env::CLIENT_SECRET,
                        env::ACCESS_TOKEN
                    ));
                }
            }
        }
        if let Some(scope) = vars.get(env::SCOPE) {
            self = self.scope(scope);
        }
        // Parsed here so that a malformed URL is reported with every other problem.
        if let Some(url) = vars.parse::<client_core::url::Url>(env::TOKEN_URL) {
            self = self.token_url(url.as_str());
        }
        self
    }

    fn build_client(self) -> Result<Client> {
        if self.page_size == 0 {
            return Err(Error::config("Sensor Data: the page size must be at least 1"));
        }
        let credential = self.resolve_credential()?;
        let http = self
            .config
            .http_builder()?
            .default_header(header::ACCEPT, HeaderValue::from_static(ACCEPT))
            .shared_credential(credential)
            .build()?;
        Ok(Client {
            http,
            page_size: self.page_size,
        })
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
            .field("page_size", &self.page_size)
            .finish()
    }
}

impl fmt::Debug for SdsCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SdsCredential::ClientCredentials { client_id, .. } => f
                .debug_struct("ClientCredentials")
                .field("client_id", client_id)
                .field("client_secret", &"[REDACTED]")
                .finish(),
            SdsCredential::AccessToken(_) => f.write_str("AccessToken([REDACTED])"),
        }
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .field("credential", &self.credential)
            .field("token_url", &self.token_url)
            .field("scope", &self.scope)
            .field("page_size", &self.page_size)
            .finish()
    }
}
