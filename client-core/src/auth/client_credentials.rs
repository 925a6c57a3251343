//! OAuth2 client credentials through the `oauth2` crate, with a secret or an assertion.

use std::fmt;
use std::sync::Arc;

use futures::future::BoxFuture;
use oauth2::basic::BasicClient;
use oauth2::{AuthType, ClientId, ClientSecret, RequestTokenError, Scope, TokenResponse, TokenUrl};
use secrecy::{ExposeSecret, SecretString};

use super::assertion::{AssertionSigner, ClientAssertion};
use super::token_endpoint::TokenEndpoint;
use super::{AccessToken, REDACTED, TokenCache, TokenCacheConfig, TokenSource};
use crate::error::{Error, ErrorKind, Result};
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
/// let credential = ClientCredentials::builder(
///     "https://tenant.ciamlogin.com/tenant/oauth2/v2.0/token",
///     "my-client-id",
/// )
/// .client_secret(SecretString::from("from-a-vault"))
/// .scope("api://data/.default")
/// .build_cached()?;
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
pub struct ClientCredentialsBuilder {
    client_id: String,
    token_url: String,
    scopes: Vec<String>,
    extra_params: Vec<(String, String)>,
    auth: Option<ClientAuth>,
    signer: Option<Arc<dyn AssertionSigner>>,
    http: Option<reqwest::Client>,
    cache_config: TokenCacheConfig,
}

impl ClientCredentials {
    /// Starts a builder for `client_id` at the token endpoint `token_url`.
    pub fn builder(token_url: impl Into<String>, client_id: impl Into<String>) -> ClientCredentialsBuilder {
        ClientCredentialsBuilder {
            client_id: client_id.into(),
            token_url: token_url.into(),
            scopes: Vec::new(),
            extra_params: Vec::new(),
            auth: None,
            signer: None,
            http: None,
            cache_config: TokenCacheConfig::default(),
        }
    }
}

impl ClientCredentialsBuilder {
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
    /// [`super::CertificateKey`] or your own KMS signer).
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

    /// Sends token requests through this client. It must not follow redirects.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Sets the cache timing used by [`Self::build_cached`].
    pub fn cache_config(mut self, config: TokenCacheConfig) -> Self {
        self.cache_config = config;
        self
    }

    /// Checks the configuration and builds the token source.
    pub fn build(self) -> Result<ClientCredentials> {
        let token_url =
            url::Url::parse(&self.token_url).map_err(|e| Error::config(format!("invalid token URL: {e}")))?;
        ensure_secure(&token_url)?;
        if self.client_id.trim().is_empty() {
            return Err(Error::config("the client id is empty"));
        }
        let auth = match (self.auth, self.signer) {
            (Some(auth), _) => auth,
            (None, Some(signer)) => ClientAuth::Assertion(ClientAssertion::new(
                signer,
                self.client_id.clone(),
                self.token_url.clone(),
            )),
            (None, None) => {
                return Err(Error::config(
                    "client credentials need a client secret or a certificate",
                ));
            }
        };
        Ok(ClientCredentials {
            client_id: self.client_id,
            token_url: self.token_url,
            scopes: self.scopes,
            extra_params: self.extra_params,
            auth,
            endpoint: TokenEndpoint::new(self.http)?,
        })
    }

    /// Builds the token source inside a [`TokenCache`]: the usual credential for a client.
    pub fn build_cached(self) -> Result<TokenCache> {
        let config = self.cache_config.clone();
        Ok(TokenCache::with_config(self.build()?, config))
    }
}

impl ClientCredentials {
    async fn request_token(&self) -> Result<AccessToken> {
        let token_url = TokenUrl::new(self.token_url.clone())
            .map_err(|e| Error::config(format!("invalid token URL: {e}")))?;
        let mut client = BasicClient::new(ClientId::new(self.client_id.clone())).set_token_uri(token_url);
        let assertion = match &self.auth {
            ClientAuth::Secret(secret, placement) => {
                client = client
                    .set_client_secret(ClientSecret::new(secret.expose_secret().to_owned()))
                    .set_auth_type(match placement {
                        SecretPlacement::RequestBody => AuthType::RequestBody,
                        SecretPlacement::BasicHeader => AuthType::BasicAuth,
                    });
                None
            }
            ClientAuth::Assertion(assertion) => {
                client = client.set_auth_type(AuthType::RequestBody);
                Some(assertion.get().await?)
            }
        };
        let mut request = client
            .exchange_client_credentials()
            .add_scopes(self.scopes.iter().cloned().map(Scope::new));
        for (name, value) in &self.extra_params {
            request = request.add_extra_param(name.as_str(), value.as_str());
        }
        // oauth2 has no private_key_jwt: the two RFC 7523 fields go in as extra params.
        if let Some(assertion) = &assertion {
            request = request
                .add_extra_param("client_assertion_type", JWT_BEARER_ASSERTION_TYPE)
                .add_extra_param("client_assertion", assertion.expose_secret());
        }
        // The closure owns a handle (an Arc inside) so that its future is `Send` for any
        // lifetime, as oauth2's `AsyncHttpClient` requires.
        let endpoint = self.endpoint.clone();
        let http_client = move |req: oauth2::HttpRequest| {
            let endpoint = endpoint.clone();
            async move {
                let body = endpoint.send(req).await?;
                http::Response::builder()
                    .status(http::StatusCode::OK)
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .body(body.to_vec())
                    .map_err(|e| Error::auth(format!("cannot pass on the token response: {e}")))
            }
        };
        let response = request
            .request_async(&http_client)
            .await
            .map_err(map_oauth_error)?;
        Ok(AccessToken::new(
            SecretString::from(response.access_token().secret().to_owned()),
            response.expires_in(),
        ))
    }
}

fn map_oauth_error<E: oauth2::ErrorResponse>(err: RequestTokenError<Error, E>) -> Error {
    match err {
        RequestTokenError::Request(err) => err,
        // Only 200 responses reach oauth2's parser (see `TokenEndpoint::send`), so this is
        // a malformed success body; its text is not repeated, it holds the token.
        RequestTokenError::Parse(err, _) => Error::new(
            ErrorKind::Auth,
            format!(
                "the token response is not a valid access token document (at `{}`)",
                err.path()
            ),
        ),
        RequestTokenError::ServerResponse(err) => {
            Error::auth(format!("token endpoint refused the request: {err}"))
        }
        RequestTokenError::Other(text) => Error::auth(format!("token request failed: {text}")),
    }
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
            .field("token_url", &self.token_url)
            .field("scopes", &self.scopes)
            .field("has_secret", &matches!(self.auth, Some(ClientAuth::Secret(..))))
            .field("has_certificate", &self.signer.is_some())
            .finish()
    }
}
