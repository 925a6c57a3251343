//! Client assertions (`private_key_jwt`): a JWT signed with the client's certificate key.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::REDACTED;
use super::jwt::{compact, now_seconds, random_id, signing_input};
use crate::error::Result;

/// The longest assertion lifetime: Entra ID and most servers refuse longer ones.
const MAX_LIFETIME: Duration = Duration::from_secs(600);
/// An assertion is not reused (when reuse is on) when it expires sooner than this.
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

/// Builds the client assertions of one client at one token endpoint.
///
/// Header: `alg` (PS256 or RS256), `typ` = `JWT`, `x5t#S256`. Claims: `aud` = the token
/// endpoint URL, `iss` = `sub` = the client id, a random `jti`, `nbf` = `iat` = now,
/// `exp` = now + lifetime (10 minutes at most).
///
/// Every token request gets a freshly signed assertion (a new `jti` and `iat`) by
/// default: some identity providers refuse a `jti` they have seen. Reusing one is an
/// option ([`ClientAssertion::reuse_for`]) for providers that accept it and keys that are
/// slow to sign with (an HSM): an assertion is then reused for at most the given time,
/// never closer than a minute to its `exp`, and never after the token endpoint refused a
/// request that carried it ([`ClientAssertion::reject`]).
pub struct ClientAssertion {
    signer: Arc<dyn AssertionSigner>,
    client_id: String,
    audience: String,
    lifetime: Duration,
    reuse: Option<Duration>,
    state: Mutex<Signed>,
}

/// The assertions signed so far: the one kept for reuse, and the last one handed out.
#[derive(Default)]
struct Signed {
    /// The assertion, when reuse is on: its text, `exp`, and the time it is reused until.
    reusable: Option<(SecretString, i64, i64)>,
    /// The last assertion handed out, listed among the secrets to redact.
    last: Option<SecretString>,
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
    /// Assertions for `client_id` at the token endpoint `audience`, valid 10 minutes,
    /// signed anew for every token request.
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
            reuse: None,
            state: Mutex::new(Signed::default()),
        }
    }

    /// Sets the lifetime, clamped to between 2 and 10 minutes.
    pub fn with_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime.clamp(2 * REUSE_MARGIN, MAX_LIFETIME);
        self
    }

    /// Reuses an assertion for up to `max_age` after it was signed (opt-in; off by
    /// default, when every token request gets a fresh one). Whatever `max_age` says, an
    /// assertion is not reused within a minute of its `exp` (so at most the lifetime less
    /// a minute: 9 minutes by default), nor once [`ClientAssertion::reject`] was called
    /// for it. A zero `max_age` turns reuse off.
    pub fn reuse_for(mut self, max_age: Duration) -> Self {
        self.reuse = (!max_age.is_zero()).then_some(max_age);
        self
    }

    /// Whether assertions are reused, and for how long at most.
    pub fn reuse(&self) -> Option<Duration> {
        self.reuse
    }

    /// A valid assertion: a newly signed one, or the kept one when reuse is on and it is
    /// still fresh enough.
    pub async fn get(&self) -> Result<SecretString> {
        let now = now_seconds();
        if let Some((assertion, exp, until)) = &self.lock().reusable {
            if now.saturating_add(REUSE_MARGIN.as_secs() as i64) <= *exp && now < *until {
                return Ok(assertion.clone());
            }
        }
        let exp = now.saturating_add(self.lifetime.as_secs() as i64);
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
        let mut state = self.lock();
        state.reusable = self.reuse.map(|max_age| {
            let max_age = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
            (assertion.clone(), exp, now.saturating_add(max_age))
        });
        state.last = Some(assertion.clone());
        Ok(assertion)
    }

    /// The token endpoint refused a request that carried `assertion` (a 4xx): it is never
    /// handed out again.
    pub fn reject(&self, assertion: &SecretString) {
        let mut state = self.lock();
        if state
            .reusable
            .as_ref()
            .is_some_and(|(kept, _, _)| kept.expose_secret() == assertion.expose_secret())
        {
            state.reusable = None;
        }
    }

    /// The last assertion handed out, for redaction.
    pub(crate) fn last(&self) -> Option<SecretString> {
        self.lock().last.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Signed> {
        // Each field is replaced whole on every update: never torn by a panic.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for ClientAssertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kept = self.lock().reusable.is_some();
        f.debug_struct("ClientAssertion")
            .field("signer", &self.signer)
            .field("client_id", &self.client_id)
            .field("audience", &self.audience)
            .field("lifetime", &self.lifetime)
            .field("reuse", &self.reuse)
            .field("kept_assertion", &kept.then_some(REDACTED))
            .finish()
    }
}
