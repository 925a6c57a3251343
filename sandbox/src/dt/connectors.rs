//! Data connectors: CRUD, `:sync` (real signed pushes) and `:metrics`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::access::Scope;
use super::http::*;
use super::world::{Device, StoredEvent, generated_event};
use super::{Connector, Shared, World, lock, push};

pub(super) fn connector_json(connector: &Connector) -> Value {
    json!({
        "name": format!("projects/{}/dataconnectors/{}", connector.project, connector.id),
        "displayName": connector.display_name,
        "type": "HTTP_PUSH",
        "status": connector.status,
        "events": connector.events,
        "labels": connector.labels,
        "httpConfig": {
            "url": connector.url,
            // The API does not echo secrets.
            "signatureSecret": if connector.secret.is_empty() { "" } else { "********" },
            "headers": connector.headers,
        },
    })
}

pub(super) fn strings(value: &Value) -> Option<Vec<String>> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
}

/// Applies the members `value` has (and only those) to `connector`.
pub(super) fn apply(connector: &mut Connector, value: &Value) -> Result<(), Response> {
    if let Some(name) = value["displayName"].as_str() {
        connector.display_name = name.to_owned();
    }
    if let Some(status) = value["status"].as_str() {
        if !["ACTIVE", "USER_DISABLED"].contains(&status) {
            return Err(bad_request("status must be ACTIVE or USER_DISABLED"));
        }
        connector.status = status.to_owned();
    }
    if let Some(events) = strings(&value["events"]) {
        connector.events = events;
    }
    if let Some(labels) = strings(&value["labels"]) {
        connector.labels = labels;
    }
    let config = &value["httpConfig"];
    if let Some(url) = config["url"].as_str() {
        connector.url = url.to_owned();
    }
    if let Some(secret) = config["signatureSecret"].as_str() {
        connector.secret = secret.to_owned();
    }
    if let Some(headers) = config["headers"].as_object() {
        connector.headers = headers
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect();
    }
    Ok(())
}

pub(super) async fn list_connectors(
    State(shared): State<Arc<Shared>>,
    Path(project): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Handled {
    permitted(&shared, &headers, Scope::Project(&project), "dataconnector.read").await?;
    project_exists(&shared, &project)?;
    let pairs = query_pairs(query.as_deref());
    let size = page_size(&shared, &pairs)?;
    let items = lock(&shared.world)
        .connectors
        .iter()
        .filter(|c| c.project == project)
        .map(connector_json)
        .collect();
    let body = offset_page(items, "dataConnectors", &pairs, size)?;
    ok(&shared, StatusCode::OK, &body, &headers)
}

pub(super) async fn create_connector(
    State(shared): State<Arc<Shared>>,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Handled {
    permitted(
        &shared,
        &headers,
        Scope::Project(&project),
        "dataconnector.create",
    )
    .await?;
    project_exists(&shared, &project)?;
    let value = read_json(&body)?;
    if value["httpConfig"]["url"].as_str().is_none_or(str::is_empty) {
        return Err(bad_request("httpConfig.url is required"));
    }
    let mut world = lock(&shared.world);
    let mut connector = Connector {
        id: format!("dcon{:016}", world.next_id),
        project,
        display_name: String::new(),
        status: "ACTIVE".into(),
        events: Vec::new(),
        labels: Vec::new(),
        url: String::new(),
        secret: String::new(),
        headers: Default::default(),
        successes: 0,
        errors: 0,
    };
    world.next_id += 1;
    apply(&mut connector, &value)?;
    world.connectors.push(connector.clone());
    drop(world);
    ok(&shared, StatusCode::OK, &connector_json(&connector), &headers)
}

pub(super) fn find_connector(shared: &Shared, project: &str, id: &str) -> Result<Connector, Response> {
    lock(&shared.world)
        .connectors
        .iter()
        .find(|c| c.project == project && c.id == id)
        .cloned()
        .ok_or_else(|| not_found("data connector"))
}

/// `GET …/{id}` and `GET …/{id}:metrics`.
pub(super) async fn connector_get(
    State(shared): State<Arc<Shared>>,
    Path((project, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Handled {
    permitted(&shared, &headers, Scope::Project(&project), "dataconnector.read").await?;
    match id.strip_suffix(":metrics") {
        Some(id) => {
            let connector = find_connector(&shared, &project, id)?;
            ok(&shared, StatusCode::OK, &push::metrics(&connector), &headers)
        }
        None => {
            let connector = find_connector(&shared, &project, &id)?;
            ok(&shared, StatusCode::OK, &connector_json(&connector), &headers)
        }
    }
}

pub(super) async fn update_connector(
    State(shared): State<Arc<Shared>>,
    Path((project, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Handled {
    permitted(
        &shared,
        &headers,
        Scope::Project(&project),
        "dataconnector.update",
    )
    .await?;
    let value = read_json(&body)?;
    let mut world = lock(&shared.world);
    let connector = world
        .connectors
        .iter_mut()
        .find(|c| c.project == project && c.id == id)
        .ok_or_else(|| not_found("data connector"))?;
    apply(connector, &value)?;
    let body = connector_json(connector);
    drop(world);
    ok(&shared, StatusCode::OK, &body, &headers)
}

pub(super) async fn delete_connector(
    State(shared): State<Arc<Shared>>,
    Path((project, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Handled {
    permitted(
        &shared,
        &headers,
        Scope::Project(&project),
        "dataconnector.delete",
    )
    .await?;
    find_connector(&shared, &project, &id)?;
    lock(&shared.world)
        .connectors
        .retain(|c| !(c.project == project && c.id == id));
    ok(&shared, StatusCode::OK, &json!({}), &headers)
}

/// `POST …/{id}:sync`: pushes the latest event of each type of each device, then answers.
pub(super) async fn connector_action(
    State(shared): State<Arc<Shared>>,
    Path((project, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Handled {
    permitted(
        &shared,
        &headers,
        Scope::Project(&project),
        "dataconnector.update",
    )
    .await?;
    let Some(id) = id.strip_suffix(":sync") else {
        return Err(not_found("resource"));
    };
    let connector = find_connector(&shared, &project, id)?;
    let latest: Vec<(Device, StoredEvent)> = {
        let world = lock(&shared.world);
        let now = Timestamp::now().as_millisecond();
        world
            .devices
            .iter()
            .filter(|d| d.project == project)
            .flat_map(|device| {
                latest_events(&shared, &world, device, now)
                    .into_iter()
                    .map(|e| (device.clone(), e))
            })
            .collect()
    };
    for (device, event) in latest {
        if push::forwards(&connector, &event.event_type) {
            push::push(&shared, &connector, &device, &event).await;
        }
    }
    ok(&shared, StatusCode::OK, &json!({}), &headers)
}

/// The latest event of each type of `device` at `now`.
pub(super) fn latest_events(shared: &Shared, world: &World, device: &Device, now: i64) -> Vec<StoredEvent> {
    let mut latest: std::collections::BTreeMap<String, StoredEvent> = Default::default();
    let origin = shared.config.data_start.as_millisecond();
    let interval = shared.config.interval_seconds * 1000;
    if device.generated && now >= origin {
        let at = origin + (now - origin) / interval * interval;
        let event = generated_event(device, at);
        latest.insert(event.event_type.clone(), event);
    }
    for event in world
        .published
        .get(&device.id)
        .into_iter()
        .flat_map(|e| e.values())
    {
        let newer = latest
            .get(&event.event_type)
            .is_none_or(|l| (l.at_ms, &l.id) < (event.at_ms, &event.id));
        if newer {
            latest.insert(event.event_type.clone(), event.clone());
        }
    }
    latest.into_values().collect()
}
