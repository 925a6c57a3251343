//! AWS Signature Version 4 with the settings S3 needs, through AWS's own signer.

use std::fmt;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::REDACTED;
use crate::error::{Error, Result};

/// Signs requests with AWS SigV4 as S3 expects: single percent-encoding of the path, no
/// path normalisation, the body's SHA-256 in `x-amz-content-sha256`, and the session
/// token in `x-amz-security-token` when there is one.
///
/// Signing covers the method, the URL, the headers given and the body, so it is not a
/// [`super::Credential`] (which sees headers only): call [`SigV4::sign`] with the request
/// and add the headers it returns. `Debug` never shows the secret key or the token.
///
/// ```
/// use client_core::auth::SigV4;
/// use secrecy::SecretString;
///
/// let signer = SigV4::builder()
///     .access_key_id("AKIAIOSFODNN7EXAMPLE")
///     .secret_access_key(SecretString::from("from-a-vault"))
///     .region("eu-west-1")
///     .build()?;
/// let url = "https://bucket.s3.eu-west-1.amazonaws.com/2026/01/02/1767312000000".parse().unwrap();
/// let headers = signer.sign(&http::Method::PUT, &url, &http::HeaderMap::new(), b"[]", std::time::SystemTime::now())?;
/// assert!(headers.contains_key("authorization"));
/// # Ok::<(), client_core::Error>(())
/// ```
pub struct SigV4 {
    access_key_id: String,
    secret_access_key: SecretString,
    session_token: Option<SecretString>,
    region: String,
    service: String,
}

/// Builder of [`SigV4`].
#[derive(Default)]
pub struct SigV4Builder {
    access_key_id: Option<String>,
    secret_access_key: Option<SecretString>,
    session_token: Option<SecretString>,
    region: Option<String>,
    service: Option<String>,
}

impl SigV4 {
    /// Starts a builder.
    pub fn builder() -> SigV4Builder {
        SigV4Builder::default()
    }

    /// The secret access key and the session token, for a [`crate::Redactor`] over text
    /// a server sends back.
    pub fn secrets(&self) -> Vec<SecretString> {
        let mut secrets = vec![self.secret_access_key.clone()];
        secrets.extend(self.session_token.clone());
        secrets
    }

    /// The headers that sign a `method` request to `url` (as it goes on the wire: its path
    /// percent-encoded once, which the signature covers as is) with `headers` and `body`
    /// at `time`: `authorization`, `x-amz-date`, `x-amz-content-sha256` and, with a session
    /// token, `x-amz-security-token` (the secret ones marked sensitive). Every header in
    /// `headers` is signed, so send exactly those.
    pub fn sign(
        &self,
        method: &Method,
        url: &Url,
        headers: &HeaderMap,
        body: &[u8],
        time: SystemTime,
    ) -> Result<HeaderMap> {
        let identity: Identity = Credentials::new(
            self.access_key_id.clone(),
            self.secret_access_key.expose_secret().to_owned(),
            self.session_token.as_ref().map(|t| t.expose_secret().to_owned()),
            None,
            "client-core",
        )
        .into();
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(&self.service)
            .time(time)
            .settings(settings)
            .build()
            .map_err(|e| Error::config(format!("SigV4 parameters: {e}")))?
            .into();
        let mut text_headers = Vec::with_capacity(headers.len());
        for (name, value) in headers {
            let value = value
                .to_str()
                .map_err(|_| Error::config(format!("header {name} is not text and cannot be signed")))?;
            text_headers.push((name.as_str(), value));
        }
        let signable = SignableRequest::new(
            method.as_str(),
            url.as_str(),
            text_headers.into_iter(),
            SignableBody::Bytes(body),
        )
        .map_err(|e| Error::config(format!("cannot sign the request: {e}")))?;
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|e| Error::config(format!("SigV4 signing failed: {e}")))?
            .into_parts();
        let mut signed = HeaderMap::new();
        for (name, value) in instructions.headers() {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| Error::config(format!("SigV4 produced an invalid header name `{name}`")))?;
            let mut value = HeaderValue::from_str(value)
                .map_err(|_| Error::config(format!("SigV4 produced an invalid value for {name}")))?;
            if name == http::header::AUTHORIZATION || name.as_str() == "x-amz-security-token" {
                value.set_sensitive(true);
            }
            signed.insert(name, value);
        }
        Ok(signed)
    }
}

impl SigV4Builder {
    /// The access key id (required).
    pub fn access_key_id(mut self, id: impl Into<String>) -> Self {
        self.access_key_id = Some(id.into());
        self
    }

    /// The secret access key (required).
    pub fn secret_access_key(mut self, key: SecretString) -> Self {
        self.secret_access_key = Some(key);
        self
    }

    /// A session token of temporary credentials.
    pub fn session_token(mut self, token: SecretString) -> Self {
        self.session_token = Some(token);
        self
    }

    /// The region (required; `us-east-1`, `eu-west-1`, ...).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The service name (default `s3`).
    pub fn service(mut self, service: impl Into<String>) -> Self {
        self.service = Some(service.into());
        self
    }

    /// Checks the settings. A missing one is a [`crate::ErrorKind::Config`] error.
    pub fn build(self) -> Result<SigV4> {
        let missing = |what: &str| Error::config(format!("SigV4 needs {what}"));
        Ok(SigV4 {
            access_key_id: self
                .access_key_id
                .filter(|k| !k.is_empty())
                .ok_or_else(|| missing("an access key id"))?,
            secret_access_key: self
                .secret_access_key
                .filter(|k| !k.expose_secret().is_empty())
                .ok_or_else(|| missing("a secret access key"))?,
            session_token: self.session_token.filter(|t| !t.expose_secret().is_empty()),
            region: self
                .region
                .filter(|r| !r.is_empty())
                .ok_or_else(|| missing("a region"))?,
            service: self.service.unwrap_or_else(|| "s3".to_owned()),
        })
    }
}

impl fmt::Debug for SigV4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigV4")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &REDACTED)
            .field("session_token", &self.session_token.as_ref().map(|_| REDACTED))
            .field("region", &self.region)
            .field("service", &self.service)
            .finish()
    }
}
