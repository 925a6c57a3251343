//! `Client`, its builder, and configuration from the environment.

use std::fmt;
use std::time::Duration;

use client_core::http::{HeaderValue, header};
use client_core::{BearerToken, ClientCredentials, HttpClient, TokenEndpointConfig, TransportSettings};
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
/// The page size asked for by default (the document's example page holds 10,000).
pub const DEFAULT_PAGE_SIZE: u32 = 10_000;

/// How the client authenticates.
#[non_exhaustive]
pub enum Auth {
    /// An IMS service application: client credentials, the secret in the form body.
    ClientCredentials {
        /// The application's client id.
        client_id: String,
        /// The application's secret.
        client_secret: SecretString,
    },
    /// A bearer token the caller already holds (it is not refreshed).
    AccessToken(SecretString),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::ClientCredentials { client_id, .. } => f
                .debug_struct("ClientCredentials")
                .field("client_id", client_id)
                .field("client_secret", &"[REDACTED]")
                .finish(),
            Auth::AccessToken(_) => f.write_str("AccessToken([REDACTED])"),
        }
    }
}

/// A Sensor Data API client. Cheap to clone; clones share the token cache and the
/// connection pool. `Send + Sync`.
#[derive(Clone)]
pub struct Client {
    pub(crate) http: HttpClient,
    pub(crate) page_size: u32,
}

/// Builder of [`Client`]. The setters are the workspace's one vocabulary: `base_url`,
/// `timeout`, `connect_timeout`, `retry_policy`, `throttle`, `clock`,
/// `user_agent_suffix`, `tls_roots`, plus the credential (`client_credentials` or
/// `access_token`), `token_url`, `scope` and `page_size`.
pub struct ClientBuilder {
    base_url: String,
    token_url: String,
    scope: String,
    auth: Option<Auth>,
    page_size: u32,
    transport: TransportSettings,
}

/// The environment variables [`Client::from_env`] reads.
pub mod env {
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
    /// The API base URL (default [`super::DEFAULT_BASE_URL`]).
    pub const BASE_URL: &str = "SDS_BASE_URL";
    /// Every variable, for "is anything configured?" checks.
    pub const ALL: [&str; 6] = [CLIENT_ID, CLIENT_SECRET, ACCESS_TOKEN, SCOPE, TOKEN_URL, BASE_URL];
}

impl Client {
    /// Starts a builder with the API's defaults.
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            base_url: DEFAULT_BASE_URL.to_owned(),
            token_url: DEFAULT_TOKEN_URL.to_owned(),
            scope: DEFAULT_SCOPE.to_owned(),
            auth: None,
            page_size: DEFAULT_PAGE_SIZE,
            transport: TransportSettings::with_timeout(Duration::from_secs(120)),
        }
    }

    /// A client from `SDS_CLIENT_ID` and `SDS_CLIENT_SECRET`, or `SDS_ACCESS_TOKEN` alone,
    /// with `SDS_SCOPE`, `SDS_TOKEN_URL` and `SDS_BASE_URL` as optional overrides (see
    /// [`mod@env`]). Anything missing or contradictory is one
    /// [`client_core::ClientError::Config`] naming it.
    pub fn from_env() -> Result<Client> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Like [`Client::from_env`], reading the variables through `lookup`.
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Client> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let auth = match (
            get(env::CLIENT_ID),
            get(env::CLIENT_SECRET),
            get(env::ACCESS_TOKEN),
        ) {
            (Some(client_id), Some(secret), None) => Auth::ClientCredentials {
                client_id,
                client_secret: SecretString::from(secret),
            },
            (None, None, Some(token)) => Auth::AccessToken(SecretString::from(token)),
            (_, _, Some(_)) => {
                return Err(Error::config(format!(
                    "{} is set with {}/{}: set the client credentials or the token, not both",
                    env::ACCESS_TOKEN,
                    env::CLIENT_ID,
                    env::CLIENT_SECRET
                )));
            }
            (Some(_), None, None) => return Err(Error::config(format!("{} is not set", env::CLIENT_SECRET))),
            (None, Some(_), None) => return Err(Error::config(format!("{} is not set", env::CLIENT_ID))),
            (None, None, None) => {
                return Err(Error::config(format!(
                    "set {} and {}, or {}",
                    env::CLIENT_ID,
                    env::CLIENT_SECRET,
                    env::ACCESS_TOKEN
                )));
            }
        };
        let mut builder = Client::builder().auth(auth);
        if let Some(scope) = get(env::SCOPE) {
            builder = builder.scope(scope);
        }
        if let Some(url) = get(env::TOKEN_URL) {
            builder = builder.token_url(url);
        }
        if let Some(url) = get(env::BASE_URL) {
            builder = builder.base_url(url);
        }
        builder.build()
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
    /// The API base URL (default [`DEFAULT_BASE_URL`]). A missing trailing `/` is added.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The IMS token endpoint (default [`DEFAULT_TOKEN_URL`]).
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = url.into();
        self
    }

    /// The scope asked for (default [`DEFAULT_SCOPE`]).
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = scope.into();
        self
    }

    /// Authenticates as an IMS service application (client credentials).
    pub fn client_credentials(self, client_id: impl Into<String>, client_secret: SecretString) -> Self {
        self.auth(Auth::ClientCredentials {
            client_id: client_id.into(),
            client_secret,
        })
    }

    /// Authenticates with a bearer token the caller already holds.
    pub fn access_token(self, token: SecretString) -> Self {
        self.auth(Auth::AccessToken(token))
    }

    /// The credential.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = Some(auth);
        self
    }

    /// The page size observation queries ask for (default [`DEFAULT_PAGE_SIZE`]); a
    /// server that caps it is followed correctly either way.
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size;
        self
    }

    client_core::transport_setters!(transport);

    /// Checks the configuration and builds the client. A missing credential or a zero
    /// page size is [`client_core::ClientError::Config`].
    pub fn build(self) -> Result<Client> {
        if self.page_size == 0 {
            return Err(Error::config("the page size must be at least 1"));
        }
        let http = self
            .transport
            .apply(HttpClient::builder(self.base_url))
            .default_header(header::ACCEPT, HeaderValue::from_static(ACCEPT))
            .user_agent(concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION")));
        let http = match self.auth {
            Some(Auth::ClientCredentials {
                client_id,
                client_secret,
            }) => http.credential(
                ClientCredentials::builder()
                    .token_url(self.token_url)
                    .client_id(client_id)
                    .client_secret(client_secret)
                    .scope(self.scope)
                    .endpoint(
                        TokenEndpointConfig::default()
                            .tls_roots(self.transport.tls_roots.clone())
                            .clock(self.transport.clock.clone()),
                    )
                    .build_cached()?,
            ),
            Some(Auth::AccessToken(token)) => http.credential(BearerToken::builder().token(token).build()?),
            None => {
                return Err(Error::config(
                    "a credential is required: client credentials (SDS_CLIENT_ID, SDS_CLIENT_SECRET) or an access token (SDS_ACCESS_TOKEN)",
                ));
            }
        };
        Ok(Client {
            http: http.build()?,
            page_size: self.page_size,
        })
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("http", &self.http)
            .field("page_size", &self.page_size)
            .finish()
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("token_url", &self.token_url)
            .field("scope", &self.scope)
            .field("auth", &self.auth)
            .field("page_size", &self.page_size)
            .field("transport", &self.transport)
            .finish()
    }
}
