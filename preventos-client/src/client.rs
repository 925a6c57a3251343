//! `Client`, its builder, and configuration from the environment.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use client_core::encode_segment;
use client_core::{
    CertificateKey, ClientCredentials, HeaderCredential, HttpClient, TokenCache, TokenEndpointConfig,
    TransportSettings,
};
use secrecy::SecretString;

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::values::ValuesRequest;

/// How the daemon proves its identity to Entra ID.
#[non_exhaustive]
pub enum ClientAuth {
    /// A client secret.
    Secret(SecretString),
    /// A certificate (PFX file or loaded key) signing client assertions.
    Certificate(Box<CertificateKey>),
}

impl fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientAuth::Secret(_) => f.write_str("Secret([REDACTED])"),
            ClientAuth::Certificate(key) => f.debug_tuple("Certificate").field(key).finish(),
        }
    }
}

/// A Preventos Data API client. Cheap to clone; clones share the token cache and the
/// connection pool. `Send + Sync`.
#[derive(Clone)]
pub struct Client {
    pub(crate) http: HttpClient,
}

/// Builder of [`Client`]. The setters are the workspace's one vocabulary: `base_url`,
/// `timeout`, `connect_timeout`, `retry_policy`, `throttle`, `clock`,
/// `user_agent_suffix`, `tls_roots`, plus Preventos' own (`tenant_id`, `authority`,
/// `scope`, `client_id`, `auth`, `subscription_key`).
pub struct ClientBuilder {
    tenant_id: Option<String>,
    authority: Option<String>,
    base_url: Option<String>,
    scope: Option<String>,
    client_id: Option<String>,
    auth: Option<ClientAuth>,
    subscription_key: Option<SecretString>,
    transport: TransportSettings,
}

/// The environment variables [`Client::from_env`] reads.
pub mod env {
    /// Entra tenant id.
    pub const TENANT_ID: &str = "DATA_API_TENANT_ID";
    /// API base URL (a missing trailing `/` is added).
    pub const BASE_URL: &str = "DATA_API_BASE_URL";
    /// The `.default` scope.
    pub const SCOPE: &str = "DATA_API_SCOPE";
    /// Application (client) id.
    pub const CLIENT_ID: &str = "DATA_API_CLIENT_ID";
    /// Client secret (or use the certificate).
    pub const CLIENT_SECRET: &str = "DATA_API_CLIENT_SECRET";
    /// Path of a PFX certificate (or use the secret).
    pub const CERTIFICATE: &str = "DATA_API_CERTIFICATE";
    /// Password of the PFX (optional).
    pub const CERTIFICATE_PASSWORD: &str = "DATA_API_CERTIFICATE_PASSWORD";
    /// APIM subscription key.
    pub const SUBSCRIPTION_KEY: &str = "DATA_API_SUBSCRIPTION_KEY";
    /// Authority override (default `https://{tenant}.ciamlogin.com/{tenant}/`).
    pub const AUTHORITY: &str = "DATA_API_AUTHORITY";
    /// Every variable, for "is anything configured?" checks.
    pub const ALL: [&str; 9] = [
        TENANT_ID,
        BASE_URL,
        SCOPE,
        CLIENT_ID,
        CLIENT_SECRET,
        CERTIFICATE,
        CERTIFICATE_PASSWORD,
        SUBSCRIPTION_KEY,
        AUTHORITY,
    ];
}

impl Client {
    /// Starts a builder.
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            tenant_id: None,
            authority: None,
            base_url: None,
            scope: None,
            client_id: None,
            auth: None,
            subscription_key: None,
            transport: TransportSettings::with_timeout(Duration::from_secs(120)),
        }
    }

    /// A client from the document's variables (see [`mod@env`]). Missing variables, or both
    /// or neither of the secret and the certificate, give one
    /// [`client_core::ClientError::Config`] naming every problem.
    pub fn from_env() -> Result<Client> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Like [`Client::from_env`], reading the variables through `lookup`.
    pub fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Client> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut missing = Vec::new();
        let mut require = |name: &'static str| {
            let value = get(name);
            if value.is_none() {
                missing.push(name);
            }
            value
        };
        let tenant = require(env::TENANT_ID);
        let base_url = require(env::BASE_URL);
        let scope = require(env::SCOPE);
        let client_id = require(env::CLIENT_ID);
        let key = require(env::SUBSCRIPTION_KEY);
        let secret = get(env::CLIENT_SECRET);
        let certificate = get(env::CERTIFICATE);
        let mut problems: Vec<String> = Vec::new();
        if !missing.is_empty() {
            problems.push(format!("missing {}", missing.join(", ")));
        }
        match (&secret, &certificate) {
            (Some(_), Some(_)) => problems.push(format!(
                "both {} and {} are set; set exactly one",
                env::CLIENT_SECRET,
                env::CERTIFICATE
            )),
            (None, None) => problems.push(format!("set {} or {}", env::CLIENT_SECRET, env::CERTIFICATE)),
            _ => {}
        }
        if !problems.is_empty() {
            return Err(Error::config(problems.join("; ")));
        }
        let auth = match (secret, certificate) {
            (Some(secret), _) => ClientAuth::Secret(SecretString::from(secret)),
            (None, Some(path)) => {
                let password = SecretString::from(get(env::CERTIFICATE_PASSWORD).unwrap_or_default());
                let key = CertificateKey::from_pkcs12_file(PathBuf::from(&path), &password)
                    .map_err(|e| Error::config(format!("{}: {e}", env::CERTIFICATE)))?;
                ClientAuth::Certificate(Box::new(key))
            }
            (None, None) => return Err(Error::config("no client credential")),
        };
        let mut builder = Client::builder()
            .tenant_id(tenant.unwrap_or_default())
            .base_url(base_url.unwrap_or_default())
            .scope(scope.unwrap_or_default())
            .client_id(client_id.unwrap_or_default())
            .auth(auth)
            .subscription_key(SecretString::from(key.unwrap_or_default()));
        if let Some(authority) = get(env::AUTHORITY) {
            builder = builder.authority(authority);
        }
        builder.build()
    }

    /// `GET /version`: the API's version document.
    pub async fn version(&self) -> Result<serde_json::Value> {
        Ok(self
            .http
            .get("version")
            .accept("application/json")
            .json_response()
            .await?)
    }

    /// `GET /data-catalog`, for the environments this application may read.
    pub async fn catalog(&self) -> Result<Catalog> {
        self.catalog_for(&[]).await
    }

    /// `GET /data-catalog?environments=100,102` (root-level applications must filter).
    pub async fn catalog_for(&self, environments: &[&str]) -> Result<Catalog> {
        let mut request = self.http.get("data-catalog").accept("application/json");
        if !environments.is_empty() {
            request = request.query("environments", environments.join(","));
        }
        Ok(request.json_response().await?)
    }

    /// Site-level values of `signal_ids` (`GET /environments/{env}/sites/{site}/values`).
    pub fn site_values<I, S>(&self, env: &str, site: &str, signal_ids: I) -> ValuesRequest
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let signals: Vec<String> = signal_ids.into_iter().map(Into::into).collect();
        let path = format!(
            "environments/{}/sites/{}/values",
            encode_segment(env),
            encode_segment(site)
        );
        ValuesRequest::new(self.clone(), path, env, site, signals, true)
    }

    /// Signal-level values (`GET /environments/{env}/sites/{site}/signals/{signal}/values`).
    pub fn signal_values(&self, env: &str, site: &str, signal_id: &str) -> ValuesRequest {
        let path = format!(
            "environments/{}/sites/{}/signals/{}/values",
            encode_segment(env),
            encode_segment(site),
            encode_segment(signal_id)
        );
        ValuesRequest::new(self.clone(), path, env, site, vec![signal_id.to_owned()], false)
    }

    /// Follows a catalog `valuesUrl` (relative to the base URL, query string included).
    pub fn values_url(&self, values_url: &str) -> Result<ValuesRequest> {
        ValuesRequest::from_url(self.clone(), values_url)
    }

    /// The base URL (always ends in `/`).
    pub fn base_url(&self) -> &client_core::url::Url {
        self.http.base_url()
    }
}

impl ClientBuilder {
    /// The Entra tenant id.
    pub fn tenant_id(mut self, tenant: impl Into<String>) -> Self {
        self.tenant_id = Some(tenant.into());
        self
    }

    /// Overrides the authority (default `https://{tenant}.ciamlogin.com/{tenant}/`); the
    /// token endpoint is `{authority}oauth2/v2.0/token`.
    pub fn authority(mut self, authority: impl Into<String>) -> Self {
        self.authority = Some(authority.into());
        self
    }

    /// The API base URL.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The `.default` scope.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// The application (client) id.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// The client credential.
    pub fn auth(mut self, auth: ClientAuth) -> Self {
        self.auth = Some(auth);
        self
    }

    /// The APIM subscription key, sent as `Ocp-Apim-Subscription-Key`.
    pub fn subscription_key(mut self, key: SecretString) -> Self {
        self.subscription_key = Some(key);
        self
    }

    client_core::transport_setters!(transport);

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<Client> {
        let mut missing = Vec::new();
        if self.base_url.is_none() {
            missing.push("base URL");
        }
        if self.scope.is_none() {
            missing.push("scope");
        }
        if self.client_id.is_none() {
            missing.push("client id");
        }
        if self.auth.is_none() {
            missing.push("client secret or certificate");
        }
        if self.subscription_key.is_none() {
            missing.push("subscription key");
        }
        if self.tenant_id.is_none() && self.authority.is_none() {
            missing.push("tenant id (or authority)");
        }
        if !missing.is_empty() {
            return Err(Error::config(format!("missing {}", missing.join(", "))));
        }
        let authority = match (self.authority, &self.tenant_id) {
            (Some(authority), _) => authority,
            (None, Some(tenant)) => format!("https://{tenant}.ciamlogin.com/{tenant}/"),
            (None, None) => return Err(Error::config("missing tenant id")),
        };
        let token_url = format!("{}/oauth2/v2.0/token", authority.trim_end_matches('/'));
        let mut credentials = ClientCredentials::builder()
            .token_url(token_url)
            .client_id(self.client_id.unwrap_or_default())
            .scope(self.scope.unwrap_or_default())
            .endpoint(
                TokenEndpointConfig::default()
                    .tls_roots(self.transport.tls_roots.clone())
                    .clock(self.transport.clock.clone()),
            );
        credentials = match self.auth {
            Some(ClientAuth::Secret(secret)) => credentials.client_secret(secret),
            Some(ClientAuth::Certificate(key)) => credentials.certificate(*key),
            None => return Err(Error::config("missing client credential")),
        };
        let token: TokenCache = credentials.build_cached()?;
        let key = HeaderCredential::builder()
            .name("Ocp-Apim-Subscription-Key")
            .value(self.subscription_key.unwrap_or_else(|| SecretString::from("")))
            .build()?;
        let http = self
            .transport
            .apply(HttpClient::builder(self.base_url.unwrap_or_default()))
            .credential(token)
            .credential(key)
            .user_agent(concat!(env!("CARGO_PKG_NAME"), "/", env!("CARGO_PKG_VERSION")));
        Ok(Client { http: http.build()? })
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("http", &self.http).finish()
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("tenant_id", &self.tenant_id)
            .field("authority", &self.authority)
            .field("base_url", &self.base_url)
            .field("scope", &self.scope)
            .field("client_id", &self.client_id)
            .field("auth", &self.auth)
            .field(
                "subscription_key",
                &self.subscription_key.as_ref().map(|_| "[REDACTED]"),
            )
            .field("transport", &self.transport)
            .finish()
    }
}
