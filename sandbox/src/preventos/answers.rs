//! The Preventos answers every handler shares: the API's error body and JSON bodies
//! stamped with a correlation id.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use crate::server::error;

/// The API's error body: `{"error": code, "message": message}`.
/// Stamped with a correlation id, as every answer of the API.
pub(super) fn api_error(status: StatusCode, code: &str, message: &str) -> Response {
    let mut response = error(status, json!({"error": code, "message": message}));
    response
        .headers_mut()
        .insert("x-correlation-id", HeaderValue::from(correlation_id()));
    response
}

/// A 400 `bad_request` with `message`.
pub(super) fn bad(message: impl Into<String>) -> Response {
    api_error(StatusCode::BAD_REQUEST, "bad_request", &message.into())
}

/// A 200 with `value` as its JSON body.
pub(super) fn json_response(value: Value) -> Response {
    let mut response = Response::new(Body::from(value.to_string()));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
        .headers_mut()
        .insert("x-correlation-id", HeaderValue::from(correlation_id()));
    response
}

/// The next `x-correlation-id`: the real API sends one with each answer, and a counter
/// is enough to tell answers apart.
pub(super) fn correlation_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
