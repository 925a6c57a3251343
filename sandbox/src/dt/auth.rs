//! DT's identity endpoint (the JWT-bearer grant) and the check every API request passes.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use base64::Engine as _;
use serde_json::json;

use super::access::{AccountKey, Caller, ServiceAccount};
use super::{Shared, World, lock};
use crate::server::error;

const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// DT's error body: `{"error", "code", "help"}`.
pub(super) fn dt_error(status: StatusCode, message: &str) -> Response {
    error(
        status,
        json!({"error": message, "code": status.as_u16(), "help": "https://developer.disruptive-technologies.com/docs/error-codes"}),
    )
}

/// `POST /oauth2/token`: verifies the assertion and issues a token.
pub(super) async fn token(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    shared.issuer.token_requests.fetch_add(1, Ordering::SeqCst);
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let refuse = |status: StatusCode, code: &str, description: &str| {
        error(status, json!({"error": code, "error_description": description}))
    };
    if form.get("grant_type").map(String::as_str) != Some(GRANT_TYPE) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only the JWT-bearer grant is supported",
        );
    }
    let Some(assertion) = form.get("assertion") else {
        return refuse(StatusCode::BAD_REQUEST, "invalid_request", "assertion is missing");
    };
    match verify_assertion(&shared, assertion) {
        Ok(email) => {
            let (token, response) = shared.issuer.issue_token(shared.config.token_lifetime);
            lock(&shared.token_owners).insert(token, email);
            response
        }
        Err(reason) => refuse(StatusCode::BAD_REQUEST, "invalid_grant", reason),
    }
}

/// Checks the assertion as DT does: HS256 with the secret of the key named by `kid`,
/// `iss` the key's account, `aud`, and a lifetime of at most an hour around now.
/// Returns the account's email.
fn verify_assertion(shared: &Shared, assertion: &str) -> Result<String, &'static str> {
    let crate::jws::Jws {
        header,
        claims,
        signing_input,
        signature,
    } = crate::jws::decode(assertion)?;
    if header["alg"].as_str() != Some("HS256") {
        return Err("alg must be HS256");
    }
    let kid = header["kid"].as_str().ok_or("unknown kid")?;
    let (secret, email) = {
        let world = lock(&shared.world);
        let (account, key) = world.account_key(kid).ok_or("unknown kid")?;
        (key.secret.clone(), account.email.clone())
    };
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    ring::hmac::verify(&key, signing_input.as_bytes(), &signature)
        .map_err(|_| "signature does not verify")?;
    if claims["iss"].as_str() != Some(email.as_str()) {
        return Err("iss is not the service account");
    }
    if claims["aud"].as_str() != Some(shared.token_url.as_str()) {
        return Err("aud is not the token endpoint");
    }
    let (Some(iat), Some(exp)) = (claims["iat"].as_i64(), claims["exp"].as_i64()) else {
        return Err("iat and exp are required");
    };
    let now = jiff::Timestamp::now().as_second();
    if exp - iat > 3600 || exp <= now || iat > now + 60 {
        return Err("expired, not yet valid, or valid for more than an hour");
    }
    Ok(email)
}

/// A bearer token issued here, or Basic with a key of an account that enables it: the
/// caller.
pub(super) fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<Caller, Response> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let email = if let Some(token) = value.strip_prefix("Bearer ") {
        if shared.issuer.is_valid(token) {
            lock(&shared.token_owners).get(token).cloned()
        } else {
            None
        }
    } else if let Some(basic) = value.strip_prefix("Basic ") {
        basic_caller(shared, basic)
    } else {
        None
    };
    match email {
        Some(email) => Ok(Caller { email }),
        None => {
            shared.counters.unauthorized.fetch_add(1, Ordering::SeqCst);
            Err(dt_error(
                StatusCode::UNAUTHORIZED,
                "missing or invalid credentials",
            ))
        }
    }
}

/// The email of the account whose key `basic` (`base64(key_id:secret)`) is, when the
/// account enables Basic.
fn basic_caller(shared: &Shared, basic: &str) -> Option<String> {
    let decoded = base64::engine::general_purpose::STANDARD.decode(basic).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (key_id, secret) = decoded.split_once(':')?;
    let world = lock(&shared.world);
    let (account, key) = world.account_key(key_id)?;
    // A simulator: a plain comparison will do.
    let matches = key.secret == secret;
    (account.basic_auth && matches).then(|| account.email.clone())
}

impl World {
    /// The account holding key `key_id`, and the key.
    pub(super) fn account_key(&self, key_id: &str) -> Option<(&ServiceAccount, &AccountKey)> {
        self.accounts
            .iter()
            .find_map(|a| a.keys.iter().find(|k| k.id == key_id).map(|k| (a, k)))
    }
}
