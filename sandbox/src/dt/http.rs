//! What every DT handler shares: the gate (faults, credentials), answers, query
//! parameters, pages and DT's error body.

use std::sync::atomic::Ordering;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::access::{Caller, Scope, require};
use super::auth::{authorize, dt_error};
use super::{Shared, lock};
use crate::server::json_body;

pub(super) type Handled = Result<Response, Response>;

/// Counts the request, then plays faults and checks the credentials: the caller.
pub(super) async fn gate(shared: &Shared, headers: &HeaderMap) -> Result<Caller, Response> {
    let number = shared.counters.requests.fetch_add(1, Ordering::SeqCst) + 1;
    let faults = lock(&shared.faults).clone();
    let in_delay = shared.counters.in_delay.enter();
    let failure = faults
        .apply(number, |status| dt_error(status, "sandbox fault"))
        .await;
    drop(in_delay);
    if let Some(failure) = failure {
        return Err(failure);
    }
    authorize(shared, headers)
}

/// [`gate`], then refuses a caller without `permission` on `scope` (403; 404 for a
/// project or organization that does not exist): the caller.
pub(super) async fn permitted(
    shared: &Shared,
    headers: &HeaderMap,
    scope: Scope<'_>,
    permission: &str,
) -> Result<Caller, Response> {
    let caller = gate(shared, headers).await?;
    require(shared, &caller, scope, permission)?;
    Ok(caller)
}

/// Bodies above this many bytes are gzip-compressed for a client that accepts it.
pub(super) const GZIP_ABOVE: usize = 4096;

pub(super) fn ok(shared: &Shared, status: StatusCode, body: &Value, headers: &HeaderMap) -> Handled {
    let cut = lock(&shared.faults).cut_body_after;
    let mut response = json_body(body.to_string().into_bytes(), headers, GZIP_ABOVE, cut);
    *response.status_mut() = status;
    Ok(response)
}

pub(super) use crate::server::query_pairs;

pub(super) fn values<'a>(pairs: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

pub(super) fn one<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    values(pairs, name).into_iter().last()
}

pub(super) fn bad_request(message: &str) -> Response {
    dt_error(StatusCode::BAD_REQUEST, message)
}

pub(super) fn not_found(what: &str) -> Response {
    dt_error(StatusCode::NOT_FOUND, &format!("{what} not found"))
}

pub(super) fn read_json(body: &[u8]) -> Result<Value, Response> {
    serde_json::from_slice(body).map_err(|e| bad_request(&format!("invalid JSON: {e}")))
}

pub(super) fn page_size(shared: &Shared, pairs: &[(String, String)]) -> Result<usize, Response> {
    match one(pairs, "pageSize") {
        None => Ok(shared.config.max_page_size as usize),
        Some(text) => text
            .parse::<u32>()
            .map(|n| n.clamp(1, shared.config.max_page_size) as usize)
            .map_err(|_| bad_request("pageSize must be a positive integer")),
    }
}

pub(super) fn project_exists(shared: &Shared, project: &str) -> Result<(), Response> {
    if lock(&shared.world).has_project(project) {
        Ok(())
    } else {
        Err(not_found("project"))
    }
}

pub(super) fn offset_page(
    items: Vec<Value>,
    key: &str,
    pairs: &[(String, String)],
    size: usize,
) -> Result<Value, Response> {
    let offset: usize = match one(pairs, "pageToken").filter(|t| !t.is_empty()) {
        None => 0,
        Some(token) => token.parse().map_err(|_| bad_request("invalid pageToken"))?,
    };
    let end = (offset + size).min(items.len());
    let next = if end < items.len() {
        end.to_string()
    } else {
        String::new()
    };
    let page: Vec<Value> = items.into_iter().skip(offset).take(size).collect();
    Ok(json!({ key: page, "nextPageToken": next }))
}

pub(super) fn parse_time(text: Option<&str>, name: &str, default: Timestamp) -> Result<i64, Response> {
    match text {
        None => Ok(default.as_millisecond()),
        Some(text) => text
            .parse::<Timestamp>()
            .map(|t| t.as_millisecond())
            .map_err(|_| bad_request(&format!("{name} is not an RFC 3339 time"))),
    }
}
