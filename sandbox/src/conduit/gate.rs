//! Conduit's error body, and what every request goes through before its query is read:
//! the count, the faults, the `X-Api-Key` and the throttle.

use std::sync::atomic::Ordering;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::json;
use tokio::time::Instant;

use super::Shared;
use crate::faults::Faults;
use crate::server::{error, lock};

/// Conduit's error body: `{"code": "401", "error": message}`.
pub(super) fn api_error(status: StatusCode, message: &str) -> Response {
    // The document's example sends the code as a string.
    error(
        status,
        json!({"code": status.as_u16().to_string(), "error": message}),
    )
}

/// Counts the request and notes its arrival, then plays the faults, checks `X-Api-Key`
/// (401) and the throttle (429 with `Retry-After`). Returns the faults in force, whose
/// body cut applies to the answer.
pub(super) async fn gate(shared: &Shared, headers: &HeaderMap) -> Result<Faults, Response> {
    let number = shared.counters.requests.fetch_add(1, Ordering::SeqCst) + 1;
    lock(&shared.arrivals).push(Instant::now());
    let faults = lock(&shared.faults).clone();
    if let Some(failure) = faults
        .apply(number, |status| api_error(status, "sandbox fault"))
        .await
    {
        return Err(failure);
    }
    let token_ok = headers
        .get("x-api-key")
        .is_some_and(|v| v.as_bytes() == shared.config.token.as_bytes());
    if !token_ok {
        return Err(api_error(StatusCode::UNAUTHORIZED, "Unauthorized"));
    }
    if let Some(interval) = shared.config.throttle {
        let now = Instant::now();
        let mut last = lock(&shared.last_accepted);
        if let Some(previous) = *last {
            let since = now - previous;
            if since < interval {
                shared.counters.throttled.fetch_add(1, Ordering::SeqCst);
                let wait = (interval - since).as_secs_f64().ceil() as u64;
                let mut response = api_error(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(wait.max(1)));
                return Err(response);
            }
        }
        *last = Some(now);
    }
    Ok(faults)
}
