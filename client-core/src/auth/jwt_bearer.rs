//! The RFC 7523 JWT-bearer grant, as Disruptive Technologies service accounts use it.

use std::fmt;
use std::sync::{Mutex, PoisonError};

use futures::future::BoxFuture;
use http::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::jwt::{compact, hs256, now_seconds, signing_input};
use super::token_endpoint::{TokenEndpoint, TokenEndpointConfig, TokenRequest};
use super::{AccessToken, REDACTED, TokenCache, TokenCacheConfig, TokenSource};
use crate::error::{Error, Result};
use crate::redact::Redactor;
use crate::transport::ensure_secure;

const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// An RFC 7523 JWT-bearer grant signed with a shared secret (HS256).
///
/// Each token request carries a fresh JWT with header `alg` = `HS256`, `kid` = the key
/// id, `typ` = `JWT`, and claims `iss` = the account (DT: the service account email),
/// `aud` = the token URL, `iat` and `exp` = `iat` + 1 hour, in the form fields
/// `assertion` and `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`.
///
/// ```
/// use client_core::auth::JwtBearerGrant;
/// use secrecy::SecretString;
///
/// let credential = JwtBearerGrant::builder()
///     .token_url("https://identity.disruptive-technologies.com/oauth2/token")
///     .key_id("key-id")
///     .issuer("service-account@project.serviceaccount.d21s.com")
///     .secret(SecretString::from("from-a-vault"))
///     .build_cached()?;
/// # Ok::<(), client_core::Error>(())
/// ```
pub struct JwtBearerGrant {
    token_url: String,
    key_id: String,
    issuer: String,
    secret: SecretString,
    endpoint: TokenEndpoint,
    /// The last JWT sent, listed among the secrets to redact.
    last: Mutex<Option<SecretString>>,
}

/// Builder of [`JwtBearerGrant`].
#[derive(Default)]
pub struct JwtBearerGrantBuilder {
    token_url: Option<String>,
    key_id: Option<String>,
    issuer: Option<String>,
    secret: Option<SecretString>,
    endpoint: TokenEndpointConfig,
    cache_config: TokenCacheConfig,
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'a str,
    kid: &'a str,
    typ: &'a str,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

impl JwtBearerGrant {
    /// Starts a builder.
    pub fn builder() -> JwtBearerGrantBuilder {
        JwtBearerGrantBuilder::default()
    }

    /// The signed JWT of one token request.
    fn assertion(&self) -> Result<SecretString> {
        let iat = now_seconds();
        let header = Header {
            alg: "HS256",
            kid: &self.key_id,
            typ: "JWT",
        };
        let claims = Claims {
            iss: &self.issuer,
            aud: &self.token_url,
            iat,
            exp: iat + 3600,
        };
        let input = signing_input(&header, &claims)?;
        let signature = hs256(self.secret.expose_secret().as_bytes(), &input);
        Ok(SecretString::from(compact(&input, &signature)))
    }

    async fn request_token(&self) -> Result<AccessToken> {
        self.endpoint
            .request_token(&self.token_url, || {
                std::future::ready(self.assertion().map(|assertion| {
                    let form: String = url::form_urlencoded::Serializer::new(String::new())
                        .append_pair("assertion", assertion.expose_secret())
                        .append_pair("grant_type", GRANT_TYPE)
                        .finish();
                    let mut redactor = Redactor::new();
                    redactor.extend([&self.secret, &assertion]);
                    *self.lock_last() = Some(assertion);
                    TokenRequest {
                        headers: HeaderMap::new(),
                        form,
                        redactor,
                    }
                }))
            })
            .await
    }

    fn lock_last(&self) -> std::sync::MutexGuard<'_, Option<SecretString>> {
        // Replaced whole on every update: never torn by a panic.
        self.last.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl JwtBearerGrantBuilder {
    /// The token endpoint (required).
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = Some(url.into());
        self
    }

    /// The key id, sent as the JWT header's `kid` (required).
    pub fn key_id(mut self, key_id: impl Into<String>) -> Self {
        self.key_id = Some(key_id.into());
        self
    }

    /// The account, sent as the `iss` claim (required; DT: the service account email).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// The shared secret that signs the JWT (required).
    pub fn secret(mut self, secret: SecretString) -> Self {
        self.secret = Some(secret);
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

    /// Checks the configuration and builds the grant. A missing part is a
    /// [`crate::ErrorKind::Config`] error naming every missing part.
    pub fn build(self) -> Result<JwtBearerGrant> {
        let missing: Vec<&str> = [
            ("token URL", self.token_url.is_none()),
            (
                "key id",
                self.key_id.as_deref().is_none_or(|k| k.trim().is_empty()),
            ),
            (
                "issuer",
                self.issuer.as_deref().is_none_or(|i| i.trim().is_empty()),
            ),
            ("secret", self.secret.is_none()),
        ]
        .into_iter()
        .filter_map(|(name, absent)| absent.then_some(name))
        .collect();
        let (Some(token_url), Some(key_id), Some(issuer), Some(secret), true) = (
            self.token_url,
            self.key_id,
            self.issuer,
            self.secret,
            missing.is_empty(),
        ) else {
            return Err(Error::config(format!(
                "the JWT-bearer grant is missing its {}",
                missing.join(", ")
            )));
        };
        let parsed =
            url::Url::parse(&token_url).map_err(|e| Error::config(format!("invalid token URL: {e}")))?;
        ensure_secure(&parsed)?;
        Ok(JwtBearerGrant {
            token_url,
            key_id,
            issuer,
            secret,
            endpoint: self.endpoint.build()?,
            last: Mutex::new(None),
        })
    }

    /// Builds the grant inside a [`TokenCache`]: the usual credential for a client.
    pub fn build_cached(self) -> Result<TokenCache> {
        let config = self.cache_config.clone();
        let clock = self.endpoint.clock.clone();
        Ok(TokenCache::with_clock(self.build()?, config, clock))
    }
}

impl fmt::Debug for JwtBearerGrantBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtBearerGrantBuilder")
            .field("token_url", &self.token_url)
            .field("key_id", &self.key_id)
            .field("issuer", &self.issuer)
            .field("secret", &self.secret.as_ref().map(|_| REDACTED))
            .finish()
    }
}

impl TokenSource for JwtBearerGrant {
    fn fetch_token(&self) -> BoxFuture<'_, Result<AccessToken>> {
        Box::pin(self.request_token())
    }

    /// The signing secret and the last JWT sent.
    fn secrets(&self) -> Vec<SecretString> {
        let mut secrets = vec![self.secret.clone()];
        secrets.extend(self.lock_last().clone());
        secrets
    }
}

impl fmt::Debug for JwtBearerGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtBearerGrant")
            .field("token_url", &self.token_url)
            .field("key_id", &self.key_id)
            .field("issuer", &self.issuer)
            .field("secret", &REDACTED)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::jwt::b64url;

    #[test]
    fn missing_parts_are_named() {
        let err = JwtBearerGrant::builder().key_id("k").build().unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Config);
        assert_eq!(
            err.message(),
            "the JWT-bearer grant is missing its token URL, issuer, secret"
        );
    }

    #[test]
    fn assertion_is_hs256_with_kid_and_one_hour_expiry() {
        let grant = JwtBearerGrant::builder()
            .token_url("https://identity.example.com/oauth2/token")
            .key_id("key-1")
            .issuer("svc@project.serviceaccount.example")
            .secret(SecretString::from("shh"))
            .build()
            .unwrap();
        let jwt = grant.assertion().unwrap();
        let parts: Vec<&str> = jwt.expose_secret().split('.').collect();
        assert_eq!(parts.len(), 3);
        let decode = |s: &str| -> serde_json::Value {
            use base64::Engine as _;
            serde_json::from_slice(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(s)
                    .unwrap(),
            )
            .unwrap()
        };
        assert_eq!(
            decode(parts[0]),
            serde_json::json!({"alg": "HS256", "kid": "key-1", "typ": "JWT"})
        );
        let claims = decode(parts[1]);
        assert_eq!(claims["iss"], "svc@project.serviceaccount.example");
        assert_eq!(claims["aud"], "https://identity.example.com/oauth2/token");
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            3600
        );
        let expected = b64url(&hs256(b"shh", &format!("{}.{}", parts[0], parts[1])));
        assert_eq!(parts[2], expected);
    }
}
