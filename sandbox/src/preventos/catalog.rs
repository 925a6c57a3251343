//! `GET /api/version` and `GET /api/data-catalog`: what the API is, and the
//! environments, sites and signals it serves with their limits.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use jiff::SignedDuration;
use serde_json::{Value, json};

use super::Shared;
use super::answers::{bad, json_response};
use super::auth::authorize;

/// `GET /api/version`.
pub(super) async fn version(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Err(refused) = authorize(&shared, &headers) {
        return refused;
    }
    json_response(json!({"version": "sandbox-1", "api": "preventos-data"}))
}

/// `GET /api/data-catalog[?environments=a,b]`: the configured sites by environment, each
/// signal with its unit, `baseInterval` and (if configured) `dbQuery`; refused
/// unfiltered for a root application (`Config::root_application`).
pub(super) async fn catalog(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = authorize(&shared, &headers) {
        return refused;
    }
    let filter: Option<BTreeSet<String>> = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "environments")
        .map(|(_, v)| v.split(',').map(str::to_owned).collect());
    if filter.is_none() && shared.config.root_application {
        return bad("a root-level application must filter the catalog with ?environments=");
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
