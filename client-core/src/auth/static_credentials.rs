//! Credentials that never change: a header value, Basic, a fixed bearer token.

use std::fmt;

use base64::Engine as _;
use futures::future::BoxFuture;
use http::{HeaderMap, HeaderName, HeaderValue, header::AUTHORIZATION};
use secrecy::{ExposeSecret, SecretString};

use super::{Credential, REDACTED};
use crate::error::{Error, Result};

/// A secret sent as-is in a named header: API keys (`X-Api-Key`,
/// `Ocp-Apim-Subscription-Key`) and static shared-secret headers.
#[derive(Clone)]
pub struct HeaderCredential {
    name: HeaderName,
    value: HeaderValue,
}

impl HeaderCredential {
    /// A credential that sends `value` in header `name`.
    ///
    /// Fails with a [`crate::ErrorKind::Config`] error (which never shows the value) when
    /// the name or value is not a valid header.
    pub fn new(name: &str, value: SecretString) -> Result<Self> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::config(format!("`{name}` is not a valid header name")))?;
        let value = sensitive_value(value.expose_secret(), name.as_str())?;
        Ok(HeaderCredential { name, value })
    }

    /// The header this credential sets.
    pub fn header_name(&self) -> &HeaderName {
        &self.name
    }
}

impl fmt::Debug for HeaderCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeaderCredential")
            .field("name", &self.name)
            .field("value", &REDACTED)
            .finish()
    }
}

impl Credential for HeaderCredential {
    fn apply<'a>(&'a self, headers: &'a mut HeaderMap) -> BoxFuture<'a, Result<()>> {
        headers.insert(self.name.clone(), self.value.clone());
        Box::pin(std::future::ready(Ok(())))
    }
}

/// HTTP Basic authentication (`Authorization: Basic base64(user:password)`).
#[derive(Clone)]
pub struct BasicAuth {
    username: String,
    value: HeaderValue,
}

impl BasicAuth {
    /// Basic credentials for `username` and `password`.
    pub fn new(username: impl Into<String>, password: SecretString) -> Result<Self> {
        let username = username.into();
        let raw = format!("{username}:{}", password.expose_secret());
        let encoded = base64::engine::general_purpose::STANDARD.encode(raw.as_bytes());
        let value = sensitive_value(&format!("Basic {encoded}"), "Authorization")?;
        Ok(BasicAuth { username, value })
    }

    /// The user name (not secret).
    pub fn username(&self) -> &str {
        &self.username
    }
}

impl fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuth")
            .field("username", &self.username)
            .field("password", &REDACTED)
            .finish()
    }
}

impl Credential for BasicAuth {
    fn apply<'a>(&'a self, headers: &'a mut HeaderMap) -> BoxFuture<'a, Result<()>> {
        headers.insert(AUTHORIZATION, self.value.clone());
        Box::pin(std::future::ready(Ok(())))
    }
}

/// A fixed bearer token obtained elsewhere (`Authorization: Bearer ...`).
#[derive(Clone)]
pub struct BearerToken {
    value: HeaderValue,
}

impl BearerToken {
    /// A credential that always sends `token`.
    pub fn new(token: SecretString) -> Result<Self> {
        let value = bearer_value(token.expose_secret())?;
        Ok(BearerToken { value })
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerToken").field("token", &REDACTED).finish()
    }
}

impl Credential for BearerToken {
    fn apply<'a>(&'a self, headers: &'a mut HeaderMap) -> BoxFuture<'a, Result<()>> {
        headers.insert(AUTHORIZATION, self.value.clone());
        Box::pin(std::future::ready(Ok(())))
    }
}

/// `Bearer <token>` as a sensitive header value.
pub(crate) fn bearer_value(token: &str) -> Result<HeaderValue> {
    sensitive_value(&format!("Bearer {token}"), "Authorization")
}

/// A header value marked sensitive, so HTTP/2 never indexes it and `Debug` hides it.
pub(crate) fn sensitive_value(value: &str, header: &str) -> Result<HeaderValue> {
    let mut value = HeaderValue::from_str(value).map_err(|_| {
        Error::config(format!(
            "the value for header `{header}` contains characters not allowed in a header"
        ))
    })?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(credential: &dyn Credential) -> HeaderMap {
        let mut headers = HeaderMap::new();
        futures::executor::block_on(credential.apply(&mut headers)).unwrap();
        headers
    }

    #[test]
    fn api_key_goes_in_its_header_and_is_sensitive() {
        let key = HeaderCredential::new("X-Api-Key", SecretString::from("k-123")).unwrap();
        let headers = applied(&key);
        assert_eq!(headers["x-api-key"], "k-123");
        assert!(headers["x-api-key"].is_sensitive());
        assert!(!format!("{key:?}").contains("k-123"));
    }

    #[test]
    fn basic_is_base64_of_user_colon_password() {
        let basic = BasicAuth::new("svc@example", SecretString::from("p@ss:word")).unwrap();
        let headers = applied(&basic);
        // base64("svc@example:p@ss:word")
        assert_eq!(headers[AUTHORIZATION], "Basic c3ZjQGV4YW1wbGU6cEBzczp3b3Jk");
        assert!(!format!("{basic:?}").contains("p@ss"));
    }

    #[test]
    fn bearer_token_is_sent_and_redacted() {
        let bearer = BearerToken::new(SecretString::from("tok-xyz")).unwrap();
        assert_eq!(applied(&bearer)[AUTHORIZATION], "Bearer tok-xyz");
        assert!(!format!("{bearer:?}").contains("tok-xyz"));
    }

    #[test]
    fn invalid_header_value_error_hides_the_value() {
        let err = HeaderCredential::new("X-Api-Key", SecretString::from("bad\nsecret")).unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(!format!("{err:?}").contains("bad\nsecret"));
    }
}
