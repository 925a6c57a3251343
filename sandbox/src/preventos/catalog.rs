//! `GET /api/version` and `GET /api/data-catalog`: what the API is, and the
//! environments, sites and signals it serves with their limits.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiff::SignedDuration;
use serde_json::{Value, json};

use super::Shared;
use super::answers::{api_error, bad, json_response};
use super::auth::authorize;

/// `GET /api/version`.
pub(super) async fn version(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Err(refused) = authorize(&shared, &headers) {
        return refused;
    }
    json_response(json!({"version": "sandbox-1", "api": "preventos-data"}))
}

/// `GET /api/data-catalog[?environments=a,b]`: the configured sites by environment, each
/// signal with its unit, `baseInterval` and (if configured) `dbQuery`. A root-level
/// application must give the filter ([`Config::root_application`](super::Config)).
pub(super) async fn catalog(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = authorize(&shared, &headers) {
        return refused;
    }
    let query = query.unwrap_or_default();
    let given: Vec<String> = url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == "environments")
        .map(|(_, v)| v.into_owned())
        .collect();
    if given.len() > 1 {
        return bad("`environments` is one comma-separated parameter: environments=100,102");
    }
    let filter: Option<BTreeSet<String>> = given
        .first()
        .map(|v| {
            v.split(',')
                .filter(|e| !e.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .filter(|f: &BTreeSet<String>| !f.is_empty());
    if shared.config.root_application && filter.is_none() {
        // The document: "If the application has root-level permission, it must provide
        // an explicit environment filter"; a missing query parameter is a 400.
        return api_error(
            StatusCode::BAD_REQUEST,
            "environment_filter_required",
            "a root-level application must filter the catalog: GET /data-catalog?environments=100,102",
        );
    }
    let mut environments: Vec<Value> = Vec::new();
    let mut env_ids: Vec<&str> = shared.config.sites.iter().map(|s| s.env.as_str()).collect();
    env_ids.dedup();
    for env in env_ids {
        if filter.as_ref().is_some_and(|f| !f.contains(env)) {
            continue;
        }
        let sites: Vec<Value> = shared
            .config
            .sites
            .iter()
            .filter(|s| s.env == env)
            .map(|site| {
                let ids: Vec<&str> = site.signals.iter().map(|s| s.id.as_str()).collect();
                let signals: Vec<Value> = site
                    .signals
                    .iter()
                    .map(|s| {
                        let mut signal = json!({
                            "id": s.id,
                            "displayName": s.id,
                            "unit": s.unit,
                            "baseInterval": s.interval_seconds.map(|i| SignedDuration::from_secs(i).to_string()),
                            "valuesUrl": format!("environments/{env}/sites/{}/signals/{}/values", site.id, s.id),
                            "ranges": [{"from": "2024-01-01T00:00:00Z", "to": null}],
                        });
                        if shared.config.catalog_db_queries {
                            signal["dbQuery"] = json!(s.db_query);
                        }
                        signal
                    })
                    .collect();
                json!({
                    "id": site.id,
                    "name": site.name,
                    "valuesUrl": format!("environments/{env}/sites/{}/values?signalIds={}", site.id, ids.join(",")),
                    "signals": signals,
                })
            })
            .collect();
        environments.push(json!({"id": env, "name": format!("Environment {env}"), "sites": sites}));
    }
    json_response(json!({
        "environments": environments,
        "limits": {"maxRawDbPoints": shared.config.budget, "referenceInterval": "PT1M", "referenceRange": "P31D"},
    }))
}
