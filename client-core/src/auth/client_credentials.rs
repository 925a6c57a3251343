//! The OAuth2 client-credentials grant, with a secret or an assertion.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use futures::future::BoxFuture;
use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use super::assertion::{AssertionSigner, ClientAssertion};
use super::token_endpoint::{TokenEndpoint, TokenEndpointConfig};
use super::{AccessToken, REDACTED, TokenCache, TokenCacheConfig, TokenSource};
use crate::error::{Error, Result};
use crate::transport::ensure_secure;

/// The `client_assertion_type` of RFC 7523 client authentication.
const JWT_BEARER_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Where the client secret travels in the token request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SecretPlacement {
    /// `client_id` and `client_secret` form fields (Entra ID's usual form).
    #[default]
    RequestBody,
    /// `Authorization: Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 2.3.1).
    BasicHeader,
}

enum ClientAuth {
    Secret(SecretString, SecretPlacement),
    Assertion(ClientAssertion),
}

/// The OAuth2 client-credentials grant (RFC 6749 4.4) as a [`TokenSource`].
///
/// The client proves itself with a secret or with a certificate assertion
/// (`private_key_jwt`, see [`ClientAssertion`]). Build it with
/// [`ClientCredentials::builder`] and wrap it in a [`TokenCache`] (or call
/// [`ClientCredentialsBuilder::build_cached`]).
///
/// ```
/// use client_core::auth::ClientCredentials;
/// use secrecy::SecretString;
///
/// let credential = ClientCredentials::builder()
///     .token_url("https://tenant.ciamlogin.com/tenant/oauth2/v2.0/token")
///     .client_id("my-client-id")
///     .client_secret(SecretString::from("from-a-vault"))
///     .scope("api://data/.default")
///     .build_cached()?;
/// # Ok::<(), client_core::Error>(())
/// ```
pub struct ClientCredentials {
    client_id: String,
    token_url: String,
    scopes: Vec<String>,
    extra_params: Vec<(String, String)>,
    auth: ClientAuth,
    endpoint: TokenEndpoint,
}

/// Builder of [`ClientCredentials`].
#[derive(Default)]
pub struct ClientCredentialsBuilder {
    client_id: Option<String>,
    token_url: Option<String>,
    scopes: Vec<String>,
    extra_params: Vec<(String, String)>,
    auth: Option<ClientAuth>,
    signer: Option<Arc<dyn AssertionSigner>>,
    endpoint: TokenEndpointConfig,
    cache_config: TokenCacheConfig,
}

impl ClientCredentials {
    /// Starts a builder.
    pub fn builder() -> ClientCredentialsBuilder {
        ClientCredentialsBuilder::default()
    }
}

impl ClientCredentialsBuilder {
    /// The token endpoint (required).
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = Some(url.into());
        self
    }

    /// The client (application) id (required).
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// Authenticates with a client secret, sent in the form body.
    pub fn client_secret(self, secret: SecretString) -> Self {
        self.client_secret_in(secret, SecretPlacement::RequestBody)
    }

    /// Authenticates with a client secret, sent where `placement` says.
    pub fn client_secret_in(mut self, secret: SecretString, placement: SecretPlacement) -> Self {
        self.auth = Some(ClientAuth::Secret(secret, placement));
        self.signer = None;
        self
    }

    /// Authenticates with client assertions signed by `signer` (a
    /// `CertificateKey`, feature `certificate`, or your own KMS signer).
    pub fn certificate(mut self, signer: impl AssertionSigner + 'static) -> Self {
        self.signer = Some(Arc::new(signer));
        self.auth = None;
        self
    }

    /// Adds a scope (Entra ID: `api://.../.default`). Scopes are sent space-separated.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scopes.push(scope.into());
        self
    }

    /// Adds a form field to every token request (e.g. `resource`).
    pub fn extra_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_params.push((name.into(), value.into()));
        self
    }

    /// How token requests are sent (HTTP client, TLS roots, clock, retry delay).
    pub fn endpoint(mut self, config: TokenEndpointConfig) -> Self {
        self.endpoint = config;
        self
    }

    /// Sets the cache timing used by [`Self::build_cached`].
    pub fn cache_config(mut self, config: TokenCacheConfig) -> Self {
        self.cache_config = config;
        self
    }

    /// Checks the configuration and builds the token source.
    pub fn build(self) -> Result<ClientCredentials> {
        let token_url = self
            .token_url
            .ok_or_else(|| Error::config("client credentials need a token URL"))?;
        let parsed =
            url::Url::parse(&token_url).map_err(|e| Error::config(format!("invalid token URL: {e}")))?;
        ensure_secure(&parsed)?;
        let client_id = self.client_id.filter(|id| !id.trim().is_empty());
        let client_id = client_id.ok_or_else(|| Error::config("the client id is missing or empty"))?;
        let auth = match (self.auth, self.signer) {
            (Some(auth), _) => auth,
            (None, Some(signer)) => {
                ClientAuth::Assertion(ClientAssertion::new(signer, client_id.clone(), token_url.clone()))
            }
            (None, None) => {
                return Err(Error::config(
                    "client credentials need a client secret or a certificate",
                ));
            }
        };
        Ok(ClientCredentials {
            client_id,
            token_url,
            scopes: self.scopes,
            extra_params: self.extra_params,
            auth,
            endpoint: self.endpoint.build()?,
        })
    }

    /// Builds the token source inside a [`TokenCache`]: the usual credential for a client.
    pub fn build_cached(self) -> Result<TokenCache> {
        let config = self.cache_config.clone();
        let clock = self.endpoint.clock.clone();
        Ok(TokenCache::with_clock(self.build()?, config, clock))
    }
}

impl ClientCredentials {
    async fn request_token(&self) -> Result<AccessToken> {
        let assertion = match &self.auth {
            ClientAuth::Assertion(assertion) => Some(assertion.get().await?),
            ClientAuth::Secret(..) => None,
        };
        let (headers, form) = self.token_request(assertion.as_ref())?;
        self.endpoint.request_token(&self.token_url, headers, form).await
    }

    /// The extra headers and the form of one token request.
    fn token_request(&self, assertion: Option<&SecretString>) -> Result<(HeaderMap, String)> {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "client_credentials");
        if !self.scopes.is_empty() {
            form.append_pair("scope", &self.scopes.join(" "));
        }
        for (name, value) in &self.extra_params {
            form.append_pair(name, value);
        }
        let mut headers = HeaderMap::new();
        match &self.auth {
            ClientAuth::Secret(secret, SecretPlacement::RequestBody) => {
                form.append_pair("client_id", &self.client_id);
                form.append_pair("client_secret", secret.expose_secret());
            }
            ClientAuth::Secret(secret, SecretPlacement::BasicHeader) => {
                headers.insert(AUTHORIZATION, basic_header(&self.client_id, secret)?);
            }
            ClientAuth::Assertion(_) => {
                form.append_pair("client_id", &self.client_id);
                form.append_pair("client_assertion_type", JWT_BEARER_ASSERTION_TYPE);
                if let Some(assertion) = assertion {
                    form.append_pair("client_assertion", assertion.expose_secret());
                }
            }
        }
        Ok((headers, form.finish()))
    }
}

/// RFC 6749 2.3.1: id and secret are form-urlencoded before they are joined and encoded.
fn basic_header(client_id: &str, secret: &SecretString) -> Result<HeaderValue> {
    let encode = |text: &str| url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
    let raw = format!("{}:{}", encode(client_id), encode(secret.expose_secret()));
    let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
    let mut value = HeaderValue::from_str(&format!("Basic {encoded}"))
        .map_err(|_| Error::config("the client credentials do not make a valid header"))?;
    value.set_sensitive(true);
    Ok(value)
}

impl TokenSource for ClientCredentials {
    fn fetch_token(&self) -> BoxFuture<'_, Result<AccessToken>> {
        Box::pin(self.request_token())
    }
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth = match &self.auth {
            ClientAuth::Secret(_, placement) => format!("secret {REDACTED} in {placement:?}"),
            ClientAuth::Assertion(assertion) => format!("{assertion:?}"),
        };
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("token_url", &self.token_url)
            .field("scopes", &self.scopes)
            .field("auth", &auth)
            .finish()
    }
}

impl fmt::Debug for ClientCredentialsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentialsBuilder")
            .field("client_id", &self.client_id)
            .field("endpoint", &self.endpoint)
            .field("token_url", &self.token_url)
            .field("scopes", &self.scopes)
            .field("has_secret", &matches!(self.auth, Some(ClientAuth::Secret(..))))
            .field("has_certificate", &self.signer.is_some())
            .finish()
    }
}
