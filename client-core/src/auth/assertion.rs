//! Client assertions (`private_key_jwt`): a JWT signed with the client's certificate key.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::future::BoxFuture;
use secrecy::SecretString;
use serde::Serialize;

use super::REDACTED;
use super::jwt::{compact, now_seconds, random_id, signing_input};
use crate::error::Result;

/// The longest assertion lifetime: Entra ID and most servers refuse longer ones.
const MAX_LIFETIME: Duration = Duration::from_secs(600);
/// An assertion is not reused when it expires sooner than this.
const REUSE_MARGIN: Duration = Duration::from_secs(60);

/// The JWS algorithm of an assertion signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JwsAlgorithm {
    /// RSASSA-PSS with SHA-256 (the default; what MSAL sends).
    Ps256,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
}

impl JwsAlgorithm {
    /// The `alg` header value.
    pub fn as_str(self) -> &'static str {
        match self {
            JwsAlgorithm::Ps256 => "PS256",
            JwsAlgorithm::Rs256 => "RS256",
        }
    }
}

/// Signs client assertions. `CertificateKey` (feature `certificate`) implements it with a local key;
/// implement it yourself to keep the key in a KMS or HSM: return the raw signature
/// bytes of `signing_input` for [`AssertionSigner::algorithm`].
pub trait AssertionSigner: Send + Sync + fmt::Debug {
    /// The algorithm `sign` uses.
    fn algorithm(&self) -> JwsAlgorithm;
    /// base64url(SHA-256(certificate DER)), sent as the `x5t#S256` header.
    fn x5t_s256(&self) -> String;
    /// Signs the JWS signing input (`header.claims`, both base64url).
    fn sign<'a>(&'a self, signing_input: &'a [u8]) -> BoxFuture<'a, Result<Vec<u8>>>;
}

/// Builds and caches the client assertions of one client at one token endpoint.
///
/// Header: `alg` (PS256 or RS256), `typ` = `JWT`, `x5t#S256`. Claims: `aud` = the token
/// endpoint URL, `iss` = `sub` = the client id, a random `jti`, `nbf` = `iat` = now,
/// `exp` = now + lifetime (10 minutes at most). An assertion is reused until about a
/// minute before its `exp`.
pub struct ClientAssertion {
    signer: Arc<dyn AssertionSigner>,
    client_id: String,
    audience: String,
    lifetime: Duration,
    cached: Mutex<Option<(SecretString, i64)>>,
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'a str,
    typ: &'a str,
    #[serde(rename = "x5t#S256")]
    x5t_s256: String,
}

#[derive(Serialize)]
struct Claims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: String,
    nbf: i64,
    iat: i64,
    exp: i64,
}

impl ClientAssertion {
    /// Assertions for `client_id` at the token endpoint `audience`, valid 10 minutes.
    pub fn new(
        signer: Arc<dyn AssertionSigner>,
        client_id: impl Into<String>,
        audience: impl Into<String>,
    ) -> Self {
        ClientAssertion {
            signer,
            client_id: client_id.into(),
            audience: audience.into(),
            lifetime: MAX_LIFETIME,
            cached: Mutex::new(None),
        }
    }

    /// Sets the lifetime, clamped to between 2 and 10 minutes.
    pub fn with_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime.clamp(2 * REUSE_MARGIN, MAX_LIFETIME);
        self
    }

    /// A valid assertion: the cached one, or a newly signed one.
    pub async fn get(&self) -> Result<SecretString> {
        let now = now_seconds();
        if let Some((assertion, exp)) = self.lock().as_ref() {
            if now + REUSE_MARGIN.as_secs() as i64 <= *exp {
                return Ok(assertion.clone());
            }
        }
        let exp = now + self.lifetime.as_secs() as i64;
        let header = Header {
            alg: self.signer.algorithm().as_str(),
            typ: "JWT",
            x5t_s256: self.signer.x5t_s256(),
        };
        let claims = Claims {
            aud: &self.audience,
            iss: &self.client_id,
            sub: &self.client_id,
            jti: random_id()?,
            nbf: now,
            iat: now,
            exp,
        };
        let input = signing_input(&header, &claims)?;
        let signature = self.signer.sign(input.as_bytes()).await?;
        let assertion = SecretString::from(compact(&input, &signature));
        *self.lock() = Some((assertion.clone(), exp));
        Ok(assertion)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(SecretString, i64)>> {
        // Replaced whole on every update: never torn by a panic.
        self.cached.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for ClientAssertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cached = self.lock().as_ref().map(|(_, exp)| *exp);
        f.debug_struct("ClientAssertion")
            .field("signer", &self.signer)
            .field("client_id", &self.client_id)
            .field("audience", &self.audience)
            .field("lifetime", &self.lifetime)
            .field("cached_assertion", &cached.map(|_| REDACTED))
            .finish()
    }
}
