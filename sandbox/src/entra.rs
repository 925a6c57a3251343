//! An Entra-ID-like token endpoint: client credentials with a secret or a certificate
//! assertion, verified the way Entra ID does, issuing expiring opaque tokens.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine as _;
use rustls_pki_types::CertificateDer;
use serde_json::json;
use tokio::time::{Duration, Instant};

use crate::server::error;

/// Who may get tokens, and how long they live.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Registration {
    /// The application (client) id.
    pub client_id: String,
    /// The accepted client secret, if secrets are allowed.
    pub client_secret: Option<String>,
    /// The DER of the registered certificate, if certificates are allowed.
    pub certificate_der: Option<Vec<u8>>,
    /// The scope the application must ask for.
    pub scope: String,
    /// Lifetime of issued tokens.
    pub token_lifetime: Duration,
}

/// Issued tokens and the token request counter.
#[derive(Debug, Default)]
pub(crate) struct Issuer {
    tokens: Mutex<HashMap<String, Instant>>,
    pub(crate) token_requests: AtomicU64,
}

impl Issuer {
    /// Handles a token request whose form fields are `form`, posted to `token_url`.
    pub(crate) fn token(
        &self,
        registration: &Registration,
        token_url: &str,
        form: &HashMap<String, String>,
    ) -> Response {
        self.token_requests.fetch_add(1, Ordering::SeqCst);
        let refuse = |status: StatusCode, code: &str, description: &str| {
            error(status, json!({"error": code, "error_description": description}))
        };
        if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
            return refuse(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only client_credentials is supported",
            );
        }
        if form.get("scope") != Some(&registration.scope) {
            return refuse(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                "the scope is not the one registered for the application",
            );
        }
        let client_id = form.get("client_id").cloned().unwrap_or_default();
        let verified = match (form.get("client_secret"), form.get("client_assertion")) {
            (Some(secret), None) => {
                registration.client_secret.as_deref() == Some(secret.as_str())
                    && client_id == registration.client_id
            }
            (None, Some(assertion)) => {
                form.get("client_assertion_type").map(String::as_str)
                    == Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
                    && verify_assertion(assertion, registration, token_url).is_ok()
            }
            _ => false,
        };
        if !verified {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client authentication failed",
            );
        }
        self.issue(registration.token_lifetime)
    }

    /// Issues a new opaque token that lives `lifetime`: the token response.
    pub(crate) fn issue(&self, lifetime: Duration) -> Response {
        self.issue_token(lifetime).1
    }

    /// Issues a new opaque token that lives `lifetime`: the token and its response (a
    /// simulator that tells callers apart keeps the token).
    pub(crate) fn issue_token(&self, lifetime: Duration) -> (String, Response) {
        let token = format!("sandbox-token-{:032x}", random_u128());
        self.tokens_lock()
            .insert(token.clone(), Instant::now() + lifetime);
        let body = json!({"access_token": token, "token_type": "Bearer", "expires_in": lifetime.as_secs()});
        let mut response = Response::new(axum::body::Body::from(body.to_string()));
        response.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        );
        (token, response)
    }

    /// Whether `token` was issued here and has not expired.
    pub(crate) fn is_valid(&self, token: &str) -> bool {
        self.tokens_lock()
            .get(token)
            .is_some_and(|expiry| Instant::now() < *expiry)
    }

    /// Makes every token issued so far invalid, as if each had expired early.
    pub(crate) fn revoke_all(&self) {
        self.tokens_lock().clear();
    }

    fn tokens_lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        crate::server::lock(&self.tokens)
    }
}

pub(crate) fn random_u128() -> u128 {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
    u128::from_le_bytes(bytes)
}

/// Checks a client assertion: `x5t#S256` of the registered certificate, the signature
/// (PS256 or RS256) with its public key, `aud` = the token URL, `iss` = `sub` = the
/// client id, and `nbf`/`exp` around now.
fn verify_assertion(
    assertion: &str,
    registration: &Registration,
    token_url: &str,
) -> Result<(), &'static str> {
    let cert = registration
        .certificate_der
        .as_ref()
        .ok_or("no certificate registered")?;
    let crate::jws::Jws {
        header,
        claims,
        signing_input,
        signature,
    } = crate::jws::decode(assertion)?;
    let thumbprint = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(ring::digest::digest(&ring::digest::SHA256, cert).as_ref());
    if header["x5t#S256"].as_str() != Some(thumbprint.as_str()) {
        return Err("x5t#S256 does not match the registered certificate");
    }
    let algorithm = match header["alg"].as_str() {
        Some("PS256") => webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        Some("RS256") => webpki::ring::RSA_PKCS1_2048_8192_SHA256,
        _ => return Err("unsupported alg"),
    };
    let cert = CertificateDer::from(cert.as_slice());
    let end_entity =
        webpki::EndEntityCert::try_from(&cert).map_err(|_| "registered certificate unreadable")?;
    end_entity
        .verify_signature(algorithm, signing_input.as_bytes(), &signature)
        .map_err(|_| "signature does not verify")?;
    let now = jiff::Timestamp::now().as_second();
    let number = |name: &str| claims[name].as_i64().ok_or("missing time claim");
    if claims["aud"].as_str() != Some(token_url)
        || claims["iss"].as_str() != Some(registration.client_id.as_str())
        || claims["sub"].as_str() != Some(registration.client_id.as_str())
    {
        return Err("aud, iss or sub is wrong");
    }
    let (nbf, exp) = (number("nbf")?, number("exp")?);
    if exp <= now || nbf > now + 60 || exp - nbf > 600 {
        return Err("expired, not yet valid, or valid too long");
    }
    Ok(())
}
