//! The RFC 7523 JWT-bearer grant, as Disruptive Technologies service accounts use it.

use std::fmt;

use futures::future::BoxFuture;
use http::header::{ACCEPT, CONTENT_TYPE};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::jwt::{compact, hs256, now_seconds, signing_input};
use super::token_endpoint::{TokenEndpoint, parse_token_response};
use super::{AccessToken, REDACTED, TokenCache, TokenSource};
use crate::error::{Error, Result};
use crate::transport::ensure_secure;

const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// An RFC 7523 JWT-bearer grant signed with a shared secret (HS256).
///
/// Each token request carries a fresh JWT with header `alg` = `HS256`, `kid` = the key
/// id, and claims `iss` = the account (DT: the service account email), `aud` = the token
/// URL, `iat` and `exp` = `iat` + 1 hour, in the form fields `assertion` and
/// `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`.
pub struct JwtBearerGrant {
    token_url: String,
    key_id: String,
    issuer: String,
    secret: SecretString,
    endpoint: TokenEndpoint,
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'a str,
    kid: &'a str,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
}

impl JwtBearerGrant {
    /// A grant for `issuer` with the key `key_id` and its `secret`.
    pub fn new(
        token_url: impl Into<String>,
        key_id: impl Into<String>,
        issuer: impl Into<String>,
        secret: SecretString,
    ) -> Result<Self> {
        let token_url = token_url.into();
        let parsed =
            url::Url::parse(&token_url).map_err(|e| Error::config(format!("invalid token URL: {e}")))?;
        ensure_secure(&parsed)?;
        Ok(JwtBearerGrant {
            token_url,
            key_id: key_id.into(),
            issuer: issuer.into(),
            secret,
            endpoint: TokenEndpoint::new(None)?,
        })
    }

    /// Sends token requests through this client. It must not follow redirects.
    pub fn with_http_client(mut self, client: reqwest::Client) -> Self {
        self.endpoint = TokenEndpoint::with_client(client);
        self
    }

    /// Wraps the grant in a [`TokenCache`] with default timing.
    pub fn cached(self) -> TokenCache {
        TokenCache::new(self)
    }

    /// The signed JWT of one token request.
    fn assertion(&self) -> Result<SecretString> {
        let iat = now_seconds();
        let header = Header {
            alg: "HS256",
            kid: &self.key_id,
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
        let assertion = self.assertion()?;
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("assertion", assertion.expose_secret())
            .append_pair("grant_type", GRANT_TYPE)
            .finish();
        let request = http::Request::post(&self.token_url)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .body(body.into_bytes())
            .map_err(|e| Error::config(format!("cannot build the token request: {e}")))?;
        let response = self.endpoint.send(request).await?;
        parse_token_response(&response)
    }
}

impl TokenSource for JwtBearerGrant {
    fn fetch_token(&self) -> BoxFuture<'_, Result<AccessToken>> {
        Box::pin(self.request_token())
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
    fn assertion_is_hs256_with_kid_and_one_hour_expiry() {
        let grant = JwtBearerGrant::new(
            "https://identity.example.com/oauth2/token",
            "key-1",
            "svc@project.serviceaccount.example",
            SecretString::from("shh"),
        )
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
            serde_json::json!({"alg": "HS256", "kid": "key-1"})
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
