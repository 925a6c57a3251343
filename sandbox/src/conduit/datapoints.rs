//! `GET /conduitv6/?id=&ch=&fcdt=&tcdt=`: the one route of the API, from the gate to the
//! (maybe gzipped) JSON array, or a 304 when nothing matches.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::Shared;
use super::gate::{api_error, gate};
use super::points::generate;
use super::request::Request;
use crate::server::json_body;

/// Answers a datapoints request.
pub(super) async fn datapoints(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let faults = match gate(&shared, &headers).await {
        Ok(faults) => faults,
        Err(refused) => return refused,
    };
    let request = match Request::parse(query.as_deref().unwrap_or("")) {
        Ok(request) => request,
        Err(message) => return api_error(StatusCode::BAD_REQUEST, &message),
    };
    let (from, to) = match request.range() {
        Ok(range) => range,
        Err(refused) => return refused,
    };
    let channels = request.channels(&shared.config.devices);
    let body = generate(
        &channels,
        from,
        to,
        shared.config.interval_seconds,
        &shared.config.readings,
    );
    if let Some(limit) = shared.config.readings.too_large_above
        && body.matched > limit
    {
        return api_error(StatusCode::PAYLOAD_TOO_LARGE, "Request Too Large");
    }
    if body.count == 0 {
        let mut response = Response::default();
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        return response;
    }
    shared
        .counters
        .datapoints
        .fetch_add(body.count as u64, Ordering::SeqCst);
    // Gzip above 1,024 bytes when the client accepts it.
    json_body(body.json, &headers, 1024, faults.cut_body_after)
}
