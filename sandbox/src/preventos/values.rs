//! The values routes, site-level and signal-level: the check, the faults, the plan of the
//! request, then a body that streams as it is generated.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

use super::Shared;
use super::answers::{api_error, correlation_id};
use super::auth::authorize;
use super::generate::Generator;
use super::plan::plan_values;
use super::stream::{Chunks, body_stream};
use crate::server::lock;

/// `GET /api/environments/{env}/sites/{site}/values?signalIds=..`.
pub(super) async fn site_values(
    State(shared): State<Arc<Shared>>,
    Path((env, site)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    values(shared, env, site, None, query.unwrap_or_default(), headers).await
}

/// `GET /api/environments/{env}/sites/{site}/signals/{signal}/values`.
pub(super) async fn signal_values(
    State(shared): State<Arc<Shared>>,
    Path((env, site, signal)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    values(
        shared,
        env,
        site,
        Some(signal),
        query.unwrap_or_default(),
        headers,
    )
    .await
}

/// Both routes: `route_signal` is the signal of the signal-level route.
async fn values(
    shared: Arc<Shared>,
    env: String,
    site_id: String,
    route_signal: Option<String>,
    query: String,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = authorize(&shared, &headers) {
        return refused;
    }
    let number = shared.values_requests.fetch_add(1, Ordering::SeqCst) + 1;
    let faults = lock(&shared.faults).clone();
    // Counted while it waits out the delay: how many a client has in flight at once.
    let in_delay = shared.in_flight.enter();
    let failure = faults
        .apply(number, |status| {
            api_error(status, "sandbox_fault", "sandbox fault")
        })
        .await;
    drop(in_delay);
    if let Some(failure) = failure {
        return failure;
    }
    let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let mut plan = match plan_values(&shared.config, &env, &site_id, route_signal, &params, &headers) {
        Ok(plan) => plan,
        Err(refused) => return refused,
    };
    // Late data: what has not arrived yet is not in the body.
    if let Some(held_back_from) = *lock(&shared.held_back_from) {
        plan.end = plan.end.min(held_back_from);
    }
    let chunks = if shared.config.cache_bodies {
        let chunks = shared.bodies.chunks(plan);
        Chunks::Cached { chunks, next: 0 }
    } else {
        Chunks::Generated(Generator::new(plan))
    };
    let mut response = Response::new(Body::from_stream(body_stream(
        chunks,
        faults.cut_body_after,
        shared.clone(),
    )));
    let content_type = match params.get("format").map(String::as_str) {
        Some("csv") => "text/csv; charset=utf-8",
        Some("json") => "application/json",
        _ => "application/x-ndjson",
    };
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
        .headers_mut()
        .insert("x-correlation-id", HeaderValue::from(correlation_id()));
    response
}
