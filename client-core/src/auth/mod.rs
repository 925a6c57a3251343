//! Credentials: one [`Credential`] trait, one type per way of proving who the caller is.
//!
//! | type | sends |
//! |---|---|
//! | [`HeaderCredential`] | an API key or any static secret in a named header (`X-Api-Key`, `Ocp-Apim-Subscription-Key`) |
//! | [`BasicAuth`] | `Authorization: Basic` |
//! | [`BearerToken`] | a fixed `Authorization: Bearer` token |
//! | [`TokenCache`] over `ClientCredentials` (feature `oauth2`) | OAuth2 client-credentials tokens (secret in the body or a Basic header, or a certificate assertion: `CertificateKey`, feature `certificate`) |
//! | [`TokenCache`] over `JwtBearerGrant` (feature `oauth2`) | RFC 7523 JWT-bearer tokens (HS256, as DT service accounts use) |
//!
//! Every credential is built the same way: `X::builder()...build()`.
//!
//! Every value that proves identity is a [`secrecy::SecretString`] from the moment it is
//! read, every header carrying one is marked sensitive, and `Debug` of every type here
//! prints `[REDACTED]` in its place.

#[cfg(feature = "oauth2")]
mod assertion;
#[cfg(feature = "sas")]
mod azure_sas;
#[cfg(feature = "certificate")]
mod certificate;
#[cfg(feature = "oauth2")]
mod client_credentials;
#[cfg(feature = "oauth2")]
mod jwt;
#[cfg(feature = "oauth2")]
mod jwt_bearer;
#[cfg(feature = "sigv4")]
mod sigv4;
mod static_credentials;
mod token;
mod token_cache;
#[cfg(feature = "oauth2")]
mod token_endpoint;

use std::fmt;

use futures::future::BoxFuture;
use http::HeaderMap;
use secrecy::SecretString;

use crate::error::Result;

#[cfg(feature = "oauth2")]
pub use assertion::{AssertionSigner, ClientAssertion, JwsAlgorithm};
#[cfg(feature = "sas")]
pub use azure_sas::{BLOB_TYPE_HEADER, BlobSasUrl, EventHubsSas, EventHubsSasBuilder};
#[cfg(feature = "certificate")]
pub use certificate::CertificateKey;
#[cfg(feature = "oauth2")]
pub use client_credentials::{ClientCredentials, ClientCredentialsBuilder, SecretPlacement};
#[cfg(feature = "oauth2")]
pub use jwt_bearer::{JwtBearerGrant, JwtBearerGrantBuilder};
#[cfg(feature = "sigv4")]
pub use sigv4::{SigV4, SigV4Builder};
pub use static_credentials::{
    BasicAuth, BasicAuthBuilder, BearerToken, BearerTokenBuilder, HeaderCredential, HeaderCredentialBuilder,
};
pub use token::{AccessToken, TokenSource};
pub use token_cache::{TokenCache, TokenCacheConfig};
#[cfg(feature = "oauth2")]
pub use token_endpoint::{MAX_TOKEN_LIFETIME, TokenEndpointConfig};

/// Something that adds credentials to a request.
///
/// The request pipeline calls [`Credential::apply`] before every attempt and, when the
/// API answers 401, [`Credential::on_unauthorized`] with the headers that were refused;
/// if that returns `true` the request is sent once more with freshly applied credentials.
pub trait Credential: Send + Sync + fmt::Debug {
    /// Adds this credential's headers. Implementations mark secret values sensitive.
    fn apply<'a>(&'a self, headers: &'a mut HeaderMap) -> BoxFuture<'a, Result<()>>;

    /// Reacts to a 401 for a request that carried `rejected`. Returns whether applying the
    /// credential again may give a different, accepted result (a cached token was dropped).
    fn on_unauthorized(&self, rejected: &HeaderMap) -> bool {
        let _ = rejected;
        false
    }

    /// Every secret this credential holds or has sent lately (a key, a password and its
    /// encoded header, the tokens in use), so that text a server sends back can be
    /// searched for them: the pipeline replaces each with `[REDACTED]` in the error
    /// bodies it keeps (see [`crate::Redactor`]). The default lists none; a credential
    /// of your own should list its secrets.
    fn secrets(&self) -> Vec<SecretString> {
        Vec::new()
    }
}

impl<C: Credential + ?Sized> Credential for std::sync::Arc<C> {
    fn apply<'a>(&'a self, headers: &'a mut HeaderMap) -> BoxFuture<'a, Result<()>> {
        (**self).apply(headers)
    }

    fn on_unauthorized(&self, rejected: &HeaderMap) -> bool {
        (**self).on_unauthorized(rejected)
    }

    fn secrets(&self) -> Vec<SecretString> {
        (**self).secrets()
    }
}

/// The text printed instead of a secret.
pub(crate) use crate::redact::REDACTED;
