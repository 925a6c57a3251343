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

/// Builder of [`HeaderCredential`].
#[derive(Default)]
pub struct HeaderCredentialBuilder {
    name: Option<String>,
    value: Option<SecretString>,
}

impl HeaderCredentialBuilder {
    /// The header's name (required), e.g. `X-Api-Key`.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The secret value (required).
    pub fn value(mut self, value: SecretString) -> Self {
        self.value = Some(value);
        self
    }

    /// Fails with a [`crate::ErrorKind::Config`] error (which never shows the value) when
    /// a part is missing or the name or value is not a valid header.
    pub fn build(self) -> Result<HeaderCredential> {
        let name = self
            .name
            .ok_or_else(|| Error::config("a header credential needs a header name"))?;
        let value = self
            .value
            .ok_or_else(|| Error::config(format!("the `{name}` credential has no value")))?;
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::config(format!("`{name}` is not a valid header name")))?;
        let value = sensitive_value(value.expose_secret(), name.as_str())?;
        Ok(HeaderCredential { name, value })
    }
}

impl fmt::Debug for HeaderCredentialBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeaderCredentialBuilder")
            .field("name", &self.name)
            .field("value", &self.value.as_ref().map(|_| REDACTED))
            .finish()
    }
}

impl HeaderCredential {
    /// Starts a builder: `HeaderCredential::builder().name("X-Api-Key").value(key).build()`.
    pub fn builder() -> HeaderCredentialBuilder {
        HeaderCredentialBuilder::default()
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

    fn secrets(&self) -> Vec<SecretString> {
        header_text(&self.value).into_iter().collect()
    }
}

/// HTTP Basic authentication (`Authorization: Basic base64(user:password)`).
#[derive(Clone)]
pub struct BasicAuth {
    username: String,
    password: SecretString,
    value: HeaderValue,
}

/// Builder of [`BasicAuth`].
#[derive(Default)]
pub struct BasicAuthBuilder {
    username: Option<String>,
    password: Option<SecretString>,
}

impl BasicAuthBuilder {
    /// The user name (required; DT: the service account's key id).
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// The password (required; DT: the service account's secret).
    pub fn password(mut self, password: SecretString) -> Self {
        self.password = Some(password);
        self
    }

    /// Checks the parts and builds the credential.
    pub fn build(self) -> Result<BasicAuth> {
        let username = self
            .username
            .ok_or_else(|| Error::config("Basic auth needs a user name"))?;
        let password = self
            .password
            .ok_or_else(|| Error::config("Basic auth needs a password"))?;
        BasicAuth::new(username, password)
    }
}

impl fmt::Debug for BasicAuthBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicAuthBuilder")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| REDACTED))
            .finish()
    }
}

impl BasicAuth {
    /// Starts a builder: `BasicAuth::builder().username(id).password(secret).build()`.
    pub fn builder() -> BasicAuthBuilder {
        BasicAuthBuilder::default()
    }

    fn new(username: String, password: SecretString) -> Result<Self> {
        if username.contains(':') {
            return Err(Error::config("a Basic auth user name cannot contain `:`"));
        }
        let raw = format!("{username}:{}", password.expose_secret());
        let encoded = base64::engine::general_purpose::STANDARD.encode(raw.as_bytes());
        let value = sensitive_value(&format!("Basic {encoded}"), "Authorization")?;
        Ok(BasicAuth {
            username,
            password,
            value,
        })
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

    /// The password, and the encoded `user:password` the header carries.
    fn secrets(&self) -> Vec<SecretString> {
        let mut secrets = vec![self.password.clone()];
        secrets.extend(scheme_parameter(&self.value));
        secrets
    }
}

/// A fixed bearer token obtained elsewhere (`Authorization: Bearer ...`).
#[derive(Clone)]
pub struct BearerToken {
    value: HeaderValue,
}

/// Builder of [`BearerToken`].
#[derive(Default)]
pub struct BearerTokenBuilder {
    token: Option<SecretString>,
}

impl BearerTokenBuilder {
    /// The token (required).
    pub fn token(mut self, token: SecretString) -> Self {
        self.token = Some(token);
        self
    }

    /// Checks the token and builds the credential.
    pub fn build(self) -> Result<BearerToken> {
        let token = self
            .token
            .ok_or_else(|| Error::config("a bearer credential needs a token"))?;
        let value = bearer_value(token.expose_secret())?;
        Ok(BearerToken { value })
    }
}

impl fmt::Debug for BearerTokenBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerTokenBuilder")
            .field("token", &self.token.as_ref().map(|_| REDACTED))
            .finish()
    }
}

impl BearerToken {
    /// Starts a builder: `BearerToken::builder().token(token).build()`.
    pub fn builder() -> BearerTokenBuilder {
        BearerTokenBuilder::default()
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

    fn secrets(&self) -> Vec<SecretString> {
        scheme_parameter(&self.value).into_iter().collect()
    }
}

/// A header value's text, as a secret.
pub(crate) fn header_text(value: &HeaderValue) -> Option<SecretString> {
    value
        .to_str()
        .ok()
        .map(|text| SecretString::from(text.to_owned()))
}

/// What follows the scheme of an `Authorization` value (`Bearer <token>`,
/// `Basic <base64>`): the part that is secret.
pub(crate) fn scheme_parameter(value: &HeaderValue) -> Option<SecretString> {
    let text = value.to_str().ok()?;
    let (_, parameter) = text.split_once(' ')?;
    Some(SecretString::from(parameter.trim().to_owned()))
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
        let key = HeaderCredential::builder()
            .name("X-Api-Key")
            .value(SecretString::from("k-123"))
            .build()
            .unwrap();
        let headers = applied(&key);
        assert_eq!(headers["x-api-key"], "k-123");
        assert!(headers["x-api-key"].is_sensitive());
        assert!(!format!("{key:?}").contains("k-123"));
    }

    #[test]
    fn basic_is_base64_of_user_colon_password() {
        let basic = BasicAuth::builder()
            .username("svc@example")
            .password(SecretString::from("p@ss:word"))
            .build()
            .unwrap();
        let headers = applied(&basic);
        // base64("svc@example:p@ss:word")
        assert_eq!(headers[AUTHORIZATION], "Basic c3ZjQGV4YW1wbGU6cEBzczp3b3Jk");
        assert!(!format!("{basic:?}").contains("p@ss"));
    }

    #[test]
    fn bearer_token_is_sent_and_redacted() {
        let bearer = BearerToken::builder()
            .token(SecretString::from("tok-xyz"))
            .build()
            .unwrap();
        assert_eq!(applied(&bearer)[AUTHORIZATION], "Bearer tok-xyz");
        assert!(!format!("{bearer:?}").contains("tok-xyz"));
    }

    #[test]
    fn invalid_header_value_error_hides_the_value() {
        let err = HeaderCredential::builder()
            .name("X-Api-Key")
            .value(SecretString::from("bad\nsecret"))
            .build()
            .unwrap_err();
        assert!(!err.to_string().contains("secret"), "{err}");
        assert!(!format!("{err:?}").contains("bad\nsecret"));
    }
}
