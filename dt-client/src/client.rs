//! `Client`, its builder, and configuration from the environment.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use client_core::auth::Credential;
use client_core::{BasicAuth, Clock, HttpClient, JwtBearerGrant, TokenEndpointConfig, TransportSettings};
use secrecy::SecretString;

use crate::error::{Error, Result};

/// The REST API's base URL.
pub const DEFAULT_API_URL: &str = "https://api.disruptive-technologies.com/v2/";
/// The token endpoint of service accounts.
pub const DEFAULT_TOKEN_URL: &str = "https://identity.disruptive-technologies.com/oauth2/token";
/// The emulator API's base URL.
pub const DEFAULT_EMULATOR_URL: &str = "https://emulator.disruptive-technologies.com/v2/";
/// The page size lists ask for unless told otherwise.
pub const DEFAULT_PAGE_SIZE: u32 = 1000;

/// How the client authenticates: a service account's key.
#[non_exhaustive]
pub enum Auth {
    /// The RFC 7523 JWT-bearer grant: a JWT signed with the key's secret is exchanged for
    /// an access token (refreshed before it expires).
    ServiceAccount {
        /// The key id (`kid`).
        key_id: String,
        /// The key's secret.
        secret: SecretString,
        /// The service account's email (`iss`).
        email: String,
    },
    /// HTTP Basic with the key id and secret, as the document's curl examples use (it
    /// must be enabled on the service account).
    Basic {
        /// The key id.
        key_id: String,
        /// The key's secret.
        secret: SecretString,
    },
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::ServiceAccount { key_id, email, .. } => f
                .debug_struct("ServiceAccount")
                .field("key_id", key_id)
                .field("secret", &"[REDACTED]")
                .field("email", email)
                .finish(),
            Auth::Basic { key_id, .. } => f
                .debug_struct("Basic")
                .field("key_id", key_id)
                .field("secret", &"[REDACTED]")
                .finish(),
        }
    }
}

/// A DT REST API client. Cheap to clone; clones share the token cache and the
/// connection pool. `Send + Sync`.
#[derive(Clone)]
pub struct Client {
    pub(crate) http: HttpClient,
    pub(crate) emulator: HttpClient,
    pub(crate) page_size: u32,
    pub(crate) clock: Arc<dyn Clock>,
}

/// Builder of [`Client`]. The setters are the workspace's one vocabulary: `base_url`,
/// `timeout`, `connect_timeout`, `retry_policy`, `throttle`, `clock`,
/// `user_agent_suffix`, `tls_roots`, plus the credential (`service_account` or `basic`),
/// `token_url`, `emulator_url` and `page_size`.
pub struct ClientBuilder {
    base_url: String,
    token_url: String,
    emulator_url: String,
    auth: Option<Auth>,
    page_size: u32,
    transport: TransportSettings,
}

/// The environment variables [`Client::from_env`] reads (the official Python client's
/// names, plus overrides).
pub mod env {
    /// The service account key id (required).
    pub const KEY_ID: &str = "DT_SERVICE_ACCOUNT_KEY_ID";
    /// The key's secret (required).
    pub const SECRET: &str = "DT_SERVICE_ACCOUNT_SECRET";
    /// The service account email: with it, the OAuth2 grant; without it, Basic.
    pub const EMAIL: &str = "DT_SERVICE_ACCOUNT_EMAIL";
    /// `basic` forces Basic auth even with the email.
    pub const AUTH: &str = "DT_AUTH";
    /// The API base URL (default [`super::DEFAULT_API_URL`]).
    pub const API_URL: &str = "DT_API_URL";
    /// The token endpoint (default [`super::DEFAULT_TOKEN_URL`]).
    pub const TOKEN_URL: &str = "DT_TOKEN_URL";
    /// The emulator's base URL (default [`super::DEFAULT_EMULATOR_URL`]).
    pub const EMULATOR_URL: &str = "DT_EMULATOR_URL";
    /// Every variable, for "is anything configured?" checks.
    pub const ALL: [&str; 7] = [KEY_ID, SECRET, EMAIL, AUTH, API_URL, TOKEN_URL, EMULATOR_URL];
}

impl Client {
    /// Starts a builder with the API's defaults.
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            base_url: DEFAULT_API_URL.to_owned(),
            token_url: DEFAULT_TOKEN_URL.to_owned(),
            emulator_url: DEFAULT_EMULATOR_URL.to_owned(),
            auth: None,
            page_size: DEFAULT_PAGE_SIZE,
            transport: TransportSettings::with_timeout(Duration::from_secs(60)),
        }
    }

    /// A client from `DT_SERVICE_ACCOUNT_KEY_ID` and `DT_SERVICE_ACCOUNT_SECRET` (required)
    /// and `DT_SERVICE_ACCOUNT_EMAIL`: with all three, the OAuth2 JWT-bearer grant; with
    /// `DT_AUTH=basic` or without the email, Basic. `DT_API_URL`, `DT_TOKEN_URL` and
    /// `DT_EMULATOR_URL` override the endpoints (see [`mod@env`]).
    pub fn from_env() -> Result<Client> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Like [`Client::from_env`], reading the variables through `lookup`.
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Client> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let missing: Vec<&str> = [env::KEY_ID, env::SECRET]
            .into_iter()
            .filter(|n| get(n).is_none())
            .collect();
        if !missing.is_empty() {
            return Err(Error::config(format!("missing {}", missing.join(", "))));
        }
        let key_id = get(env::KEY_ID).unwrap_or_default();
        let secret = SecretString::from(get(env::SECRET).unwrap_or_default());
        let auth = match (get(env::AUTH).map(|a| a.to_ascii_lowercase()), get(env::EMAIL)) {
            (Some(mode), _) if mode == "basic" => Auth::Basic { key_id, secret },
            (Some(mode), _) if mode != "oauth2" => {
                return Err(Error::config(format!(
                    "{} must be `basic` or `oauth2`, not `{mode}`",
                    env::AUTH
                )));
            }
            (Some(_), None) => {
                return Err(Error::config(format!(
                    "{}=oauth2 needs {}",
                    env::AUTH,
                    env::EMAIL
                )));
            }
            (_, Some(email)) => Auth::ServiceAccount {
                key_id,
                secret,
                email,
            },
            (None, None) => Auth::Basic { key_id, secret },
        };
        let mut builder = Client::builder().auth(auth);
        if let Some(url) = get(env::API_URL) {
            builder = builder.base_url(url);
        }
        if let Some(url) = get(env::TOKEN_URL) {
            builder = builder.token_url(url);
        }
        if let Some(url) = get(env::EMULATOR_URL) {
            builder = builder.emulator_url(url);
        }
        builder.build()
    }

    /// The API base URL (always ends in `/`).
    pub fn base_url(&self) -> &client_core::url::Url {
        self.http.base_url()
    }

    /// The page size lists ask for unless told otherwise.
    pub fn page_size(&self) -> u32 {
        self.page_size
    }
}

impl ClientBuilder {
    /// The API base URL (default [`DEFAULT_API_URL`]; `https://api.d21s.com/v2/` is an
    /// alias). A missing trailing `/` is added.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The token endpoint (default [`DEFAULT_TOKEN_URL`]); also the JWT's `aud`.
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = url.into();
        self
    }

    /// The emulator's base URL (default [`DEFAULT_EMULATOR_URL`]).
    pub fn emulator_url(mut self, url: impl Into<String>) -> Self {
        self.emulator_url = url.into();
        self
    }

    /// Authenticates with a service account through the OAuth2 JWT-bearer grant.
    pub fn service_account(
        self,
        key_id: impl Into<String>,
        secret: SecretString,
        email: impl Into<String>,
    ) -> Self {
        self.auth(Auth::ServiceAccount {
            key_id: key_id.into(),
            secret,
            email: email.into(),
        })
    }

    /// Authenticates with HTTP Basic (key id and secret).
    pub fn basic(self, key_id: impl Into<String>, secret: SecretString) -> Self {
        self.auth(Auth::Basic {
            key_id: key_id.into(),
            secret,
        })
    }

    /// The credential.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = Some(auth);
        self
    }

    /// The page size lists ask for (default [`DEFAULT_PAGE_SIZE`]).
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
        let credential: Arc<dyn Credential> = match self.auth {
            Some(Auth::ServiceAccount {
                key_id,
                secret,
                email,
            }) => Arc::new(
                JwtBearerGrant::builder()
                    .token_url(self.token_url)
                    .key_id(key_id)
                    .issuer(email)
                    .secret(secret)
                    .endpoint(
                        TokenEndpointConfig::default()
                            .tls_roots(self.transport.tls_roots.clone())
                            .clock(self.transport.clock.clone()),
                    )
                    .build_cached()?,
            ),
            Some(Auth::Basic { key_id, secret }) => {
                Arc::new(BasicAuth::builder().username(key_id).password(secret).build()?)
            }
            None => {
                return Err(Error::config(
                    "a service account key is required (DT_SERVICE_ACCOUNT_KEY_ID, DT_SERVICE_ACCOUNT_SECRET)",
                ));
            }
        };
        let user_agent = concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION"));
        let http = self
            .transport
            .apply(HttpClient::builder(self.base_url))
            .shared_credential(credential.clone())
            .user_agent(user_agent)
            .build()?;
        let emulator = self
            .transport
            .apply(HttpClient::builder(self.emulator_url))
            .shared_credential(credential)
            .user_agent(user_agent)
            .build()?;
        Ok(Client {
            http,
            emulator,
            page_size: self.page_size,
            clock: self.transport.clock.clone(),
        })
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("http", &self.http)
            .field("emulator", &self.emulator)
            .field("page_size", &self.page_size)
            .finish()
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("token_url", &self.token_url)
            .field("emulator_url", &self.emulator_url)
            .field("auth", &self.auth)
            .field("page_size", &self.page_size)
            .field("transport", &self.transport)
            .finish()
    }
}
