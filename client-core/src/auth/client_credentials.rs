//! The OAuth2 client-credentials grant, with a secret or an assertion.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine as _;
use futures::future::BoxFuture;
use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use super::assertion::{AssertionSigner, ClientAssertion};
use super::static_credentials::scheme_parameter;
use super::token_endpoint::{TokenEndpoint, TokenEndpointConfig, TokenRequest};
use super::{AccessToken, REDACTED, TokenCache, TokenCacheConfig, TokenSource};
use crate::error::{Error, Result};
use crate::redact::Redactor;
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
    reuse_assertion: Option<std::time::Duration>,
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

    /// Reuses a certificate assertion for up to `max_age` (see
    /// [`ClientAssertion::reuse_for`]). Off by default: every token request carries a
    /// freshly signed assertion with a new `jti`, since some identity providers refuse a
    /// `jti` they have seen. An assertion the token endpoint refused (4xx) is never reused.
    pub fn reuse_assertion(mut self, max_age: std::time::Duration) -> Self {
        self.reuse_assertion = Some(max_age);
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
                let assertion = ClientAssertion::new(signer, client_id.clone(), token_url.clone());
                ClientAuth::Assertion(match self.reuse_assertion {
                    Some(max_age) => assertion.reuse_for(max_age),
                    None => assertion,
                })
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
        // The assertion of the attempt under way: refused, it is never reused.
        let sent: Mutex<Option<SecretString>> = Mutex::new(None);
        let (this, sent_ref) = (self, &sent);
        let result = self
            .endpoint
            .request_token(&self.token_url, move || async move {
                let assertion = match &this.auth {
                    ClientAuth::Assertion(assertion) => Some(assertion.get().await?),
                    ClientAuth::Secret(..) => None,
                };
                *sent_ref.lock().unwrap_or_else(PoisonError::into_inner) = assertion.clone();
                this.token_request(assertion.as_ref())
            })
            .await;
        if let (Err(err), ClientAuth::Assertion(assertion)) = (&result, &self.auth) {
            let refused = err.status().is_some_and(|status| status.is_client_error());
            let sent = sent.into_inner().unwrap_or_else(PoisonError::into_inner);
            if let (true, Some(sent)) = (refused, sent) {
                assertion.reject(&sent);
            }
        }
        result
    }

    /// The extra headers, the form and the secrets of one token request.
    fn token_request(&self, assertion: Option<&SecretString>) -> Result<TokenRequest> {
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
        let mut redactor = Redactor::new();
        redactor.extend(&self.own_secrets());
        redactor.extend(assertion);
        Ok(TokenRequest {
            headers,
            form: form.finish(),
            redactor,
        })
    }

    /// The client secret (and its Basic header form), or the last assertion.
    fn own_secrets(&self) -> Vec<SecretString> {
        match &self.auth {
            ClientAuth::Secret(secret, placement) => {
                let mut secrets = vec![secret.clone()];
                if *placement == SecretPlacement::BasicHeader {
                    let header = basic_header(&self.client_id, secret).ok();
                    secrets.extend(header.as_ref().and_then(scheme_parameter));
                }
                secrets
            }
            ClientAuth::Assertion(assertion) => assertion.last().into_iter().collect(),
        }
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

    fn secrets(&self) -> Vec<SecretString> {
        self.own_secrets()
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
