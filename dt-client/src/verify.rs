//! Verification of data-connector pushes signed with `X-Dt-Signature`, without the HTTP
//! client: an HS256 JWT over the body's checksum.
//!
//! The order is fixed, and each step must pass before the next runs:
//! 1. the signature, HS256 with the connector's secret (every other `alg`, `none`
//!    included, is refused);
//! 2. `exp` and `iat` against the clock, with a leeway;
//! 3. `checksum_sha256` against the raw body, in constant time (the legacy SHA-1
//!    `checksum` only when allowed and `checksum_sha256` is absent);
//! 4. then the body is parsed as `{event, labels, metadata}`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use crate::events::Event;

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "X-Dt-Signature";

/// Why a push was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No `X-Dt-Signature` header.
    #[error("the push has no X-Dt-Signature header")]
    MissingSignature,
    /// The header is not a compact JWS with a JSON header and claims.
    #[error("X-Dt-Signature is not a well-formed JWT: {0}")]
    Malformed(String),
    /// The JWT names another algorithm than HS256 (`none` included).
    #[error("X-Dt-Signature uses alg `{0}`; only HS256 is accepted")]
    Algorithm(String),
    /// The signature does not verify with the secret.
    #[error("X-Dt-Signature does not verify with the signature secret")]
    BadSignature,
    /// A claim the verification needs is absent or not of its type.
    #[error("X-Dt-Signature lacks the `{0}` claim")]
    MissingClaim(&'static str),
    /// The token expired.
    #[error("X-Dt-Signature expired at {expired_at} (now {now})")]
    Expired {
        /// `exp`.
        expired_at: Timestamp,
        /// The verifier's clock.
        now: Timestamp,
    },
    /// The token was issued in the future.
    #[error("X-Dt-Signature was issued at {issued_at}, after now ({now})")]
    IssuedInFuture {
        /// `iat`.
        issued_at: Timestamp,
        /// The verifier's clock.
        now: Timestamp,
    },
    /// The body's checksum differs from the signed one.
    #[error("the body does not match the signed checksum ({0})")]
    ChecksumMismatch(&'static str),
    /// The body verified but is not a push (`{event, labels, metadata}`).
    #[error("the push body does not parse: {0}")]
    Body(String),
}

impl VerifyError {
    /// Whether the push is unauthenticated (answer 401), rather than authentic but
    /// unreadable (answer 400).
    pub fn is_unauthorized(&self) -> bool {
        !matches!(self, VerifyError::Body(_))
    }
}

/// A verified push: the event, the labels the connector includes, and the metadata.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Push {
    /// The event.
    pub event: Event,
    /// The device labels the connector is configured to include.
    #[serde(default)]
    pub labels: Map<String, Value>,
    /// The device's metadata.
    #[serde(default)]
    pub metadata: PushMetadata,
    /// Members this version does not know, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Push {
    /// Parses a push body (after [`Verifier::verify_signature`], for a receiver that
    /// keeps the body's bytes too). A UTF-8 byte-order mark before the JSON is skipped;
    /// the checksum covers the body as sent, mark included.
    pub fn from_body(body: &[u8]) -> Result<Push, VerifyError> {
        serde_json::from_slice(without_bom(body)).map_err(|e| VerifyError::Body(e.to_string()))
    }
}

/// `body` without a UTF-8 byte-order mark at its start. (This module builds without
/// client-core, whose decoders skip the mark the same way.)
pub fn without_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body)
}

/// The `metadata` of a push.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PushMetadata {
    /// The device id.
    #[serde(default)]
    pub device_id: Option<String>,
    /// The project id.
    #[serde(default)]
    pub project_id: Option<String>,
    /// The device type.
    #[serde(default)]
    pub device_type: Option<String>,
    /// The product number.
    #[serde(default)]
    pub product_number: Option<String>,
    /// Members this version does not know, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The signed claims of a push, once verified.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Claims {
    /// `iat`.
    pub issued_at: Timestamp,
    /// `exp`.
    pub expires_at: Timestamp,
    /// `jti`, when sent.
    pub jwt_id: Option<String>,
}

type ClockFn = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// Verifies pushes signed with one data connector's signature secret. Cheap to clone,
/// `Send + Sync`; `Debug` never shows the secret.
#[derive(Clone)]
pub struct Verifier {
    secret: SecretString,
    leeway: Duration,
    clock: ClockFn,
    legacy_sha1: bool,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("secret", &"[REDACTED]")
            .field("leeway", &self.leeway)
            .field("legacy_sha1", &self.legacy_sha1)
            .finish()
    }
}

#[derive(Deserialize)]
struct Header {
    alg: Option<String>,
}

impl Verifier {
    /// A verifier with the connector's secret, a 30-second leeway, the system clock and
    /// no SHA-1 fallback.
    pub fn new(secret: SecretString) -> Verifier {
        Verifier {
            secret,
            leeway: Duration::from_secs(30),
            clock: Arc::new(Timestamp::now),
            legacy_sha1: false,
        }
    }

    /// The tolerance on `exp` and `iat` for clocks that disagree (default 30 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The clock `exp` and `iat` are checked against (default the system clock).
    pub fn clock(mut self, clock: impl Fn() -> Timestamp + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Checks `exp` and `iat` against a fixed instant (tests, replays of stored pushes).
    pub fn at(self, now: Timestamp) -> Self {
        self.clock(move || now)
    }

    /// Accepts the legacy SHA-1 `checksum` when `checksum_sha256` is absent (off by
    /// default: SHA-1 is kept for old connectors only).
    pub fn allow_legacy_sha1(mut self, allow: bool) -> Self {
        self.legacy_sha1 = allow;
        self
    }

    /// Verifies a push (`signature` is the `X-Dt-Signature` header's value) and parses
    /// its body.
    pub fn verify(&self, signature: Option<&str>, body: &[u8]) -> Result<Push, VerifyError> {
        self.verify_signature(signature, body)?;
        Push::from_body(body)
    }

    /// Steps 1 to 3 only: the signature, the times and the checksum, without parsing the
    /// body (for receivers that store the body as received).
    pub fn verify_signature(&self, signature: Option<&str>, body: &[u8]) -> Result<Claims, VerifyError> {
        let token = signature
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(VerifyError::MissingSignature)?;
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(VerifyError::Malformed("not three dot-separated parts".into()));
        };
        let b64 = |part: &str, what: &str| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part.trim_end_matches('='))
                .map_err(|_| VerifyError::Malformed(format!("the {what} is not base64url")))
        };
        let header: Header = serde_json::from_slice(&b64(header, "header")?)
            .map_err(|_| VerifyError::Malformed("the header is not a JSON object".into()))?;
        match header.alg.as_deref() {
            Some("HS256") => {}
            other => return Err(VerifyError::Algorithm(other.unwrap_or("(none given)").to_owned())),
        }
        let signature = b64(signature, "signature")?;
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, self.secret.expose_secret().as_bytes());
        let signing_input = &token[..header_and_payload_len(token)];
        ring::hmac::verify(&key, signing_input.as_bytes(), &signature)
            .map_err(|_| VerifyError::BadSignature)?;

        let claims: Map<String, Value> = serde_json::from_slice(&b64(payload, "payload")?)
            .map_err(|_| VerifyError::Malformed("the claims are not a JSON object".into()))?;
        let time = |name: &'static str| {
            claims
                .get(name)
                .and_then(Value::as_i64)
                .and_then(|s| Timestamp::from_second(s).ok())
                .ok_or(VerifyError::MissingClaim(name))
        };
        let (expires_at, issued_at) = (time("exp")?, time("iat")?);
        let now = (self.clock)();
        let leeway = jiff::SignedDuration::try_from(self.leeway).unwrap_or(jiff::SignedDuration::MAX);
        if now > expires_at.checked_add(leeway).unwrap_or(expires_at) {
            return Err(VerifyError::Expired {
                expired_at: expires_at,
                now,
            });
        }
        if issued_at > now.checked_add(leeway).unwrap_or(now) {
            return Err(VerifyError::IssuedInFuture { issued_at, now });
        }

        match (claims.get("checksum_sha256"), claims.get("checksum")) {
            (Some(Value::String(expected)), _) => {
                check(&ring::digest::SHA256, body, expected)
                    .map_err(|()| VerifyError::ChecksumMismatch("checksum_sha256"))?;
            }
            (Some(_), _) => return Err(VerifyError::MissingClaim("checksum_sha256")),
            (None, Some(Value::String(expected))) if self.legacy_sha1 => {
                check(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, body, expected)
                    .map_err(|()| VerifyError::ChecksumMismatch("checksum"))?;
            }
            (None, _) => return Err(VerifyError::MissingClaim("checksum_sha256")),
        }
        Ok(Claims {
            issued_at,
            expires_at,
            jwt_id: claims.get("jti").and_then(Value::as_str).map(str::to_owned),
        })
    }
}

/// The length of `header.payload` in a compact JWS whose parts were checked.
fn header_and_payload_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(token.len())
}

/// Compares the hex digest of `body` with `expected` (any case) in constant time.
fn check(algorithm: &'static ring::digest::Algorithm, body: &[u8], expected: &str) -> Result<(), ()> {
    let digest = ring::digest::digest(algorithm, body);
    let actual: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    let expected = expected.to_ascii_lowercase();
    if actual.as_bytes().ct_eq(expected.as_bytes()).into() {
        Ok(())
    } else {
        Err(())
    }
}
