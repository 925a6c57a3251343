//! Access tokens and the sources that issue them.

use std::fmt;
use std::time::Duration;

use futures::future::BoxFuture;
use secrecy::SecretString;

use super::REDACTED;
use crate::error::Result;

/// An access token as a token endpoint issued it.
#[derive(Clone)]
pub struct AccessToken {
    secret: SecretString,
    expires_in: Option<Duration>,
}

impl AccessToken {
    /// A token valid for `expires_in` from now (`None`: the endpoint did not say).
    pub fn new(secret: SecretString, expires_in: Option<Duration>) -> Self {
        AccessToken { secret, expires_in }
    }

    /// The token itself.
    pub fn secret(&self) -> &SecretString {
        &self.secret
    }

    /// The lifetime the endpoint announced.
    pub fn expires_in(&self) -> Option<Duration> {
        self.expires_in
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("secret", &REDACTED)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// Fetches a fresh token from a token endpoint. [`super::TokenCache`] decides when.
pub trait TokenSource: Send + Sync + fmt::Debug {
    /// Requests a new token.
    fn fetch_token(&self) -> BoxFuture<'_, Result<AccessToken>>;

    /// The secrets this source holds or sent lately (a client secret, the last
    /// assertion), for [`super::Credential::secrets`] of the [`super::TokenCache`] over
    /// it. The default lists none.
    fn secrets(&self) -> Vec<SecretString> {
        Vec::new()
    }
}
