//! The Entra-like token endpoint under the tenant, and the check every Data API request
//! passes (the APIM subscription key, then the bearer token).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use serde_json::json;

use super::Shared;
use super::answers::api_error;
use crate::server::error;

/// `POST /{tenant}/oauth2/v2.0/token`: client credentials for the registration.
pub(super) async fn token(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Response {
    if shared.token_endpoint_down.load(Ordering::SeqCst) {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"error": "temporarily_unavailable", "error_description": "sandbox fault: token endpoint down"}),
        );
    }
    if tenant != shared.config.tenant {
        return error(
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_request", "error_description": "unknown tenant"}),
        );
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let token_url = format!("{}/{tenant}/oauth2/v2.0/token", shared.base);
    shared
        .issuer
        .token(&shared.config.registration, &token_url, &form)
}

/// Counts the request, then checks the subscription key and the bearer token (401
/// otherwise).
pub(super) fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), Response> {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let key_ok = headers
        .get("ocp-apim-subscription-key")
        .is_some_and(|v| v.as_bytes() == shared.config.subscription_key.as_bytes());
    if !key_ok {
        return Err(api_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or invalid subscription key",
        ));
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !token.is_some_and(|t| shared.issuer.is_valid(t)) {
        return Err(api_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing, invalid or expired token",
        ));
    }
    Ok(())
}
