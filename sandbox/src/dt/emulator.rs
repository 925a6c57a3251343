//! The emulator: emulated devices and `:publish`, whose events reach the stream, the
//! history and the active connectors.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::access::Scope;
use super::devices::find_device;
use super::http::*;
use super::world::{Device, StoredEvent, event_id};
use super::{Connector, Shared, lock, push};

pub(super) async fn create_emulated(
    State(shared): State<Arc<Shared>>,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Handled {
    permitted(&shared, &headers, Scope::Project(&project), "emulator.create").await?;
    project_exists(&shared, &project)?;
    let value = read_json(&body)?;
    let device_type = value["type"]
        .as_str()
        .ok_or_else(|| bad_request("type is required"))?
        .to_owned();
    let labels = value["labels"]
        .as_object()
        .map(|l| {
            l.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let mut world = lock(&shared.world);
    let device = Device {
        id: format!("emu{:017}", world.next_id),
        project,
        device_type,
        labels,
        generated: false,
    };
    world.next_id += 1;
    world.devices.push(device.clone());
    drop(world);
    ok(&shared, StatusCode::OK, &device.json(), &headers)
}

pub(super) async fn delete_emulated(
    State(shared): State<Arc<Shared>>,
    Path((project, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Handled {
    permitted(&shared, &headers, Scope::Project(&project), "emulator.delete").await?;
    find_device(&shared, &project, &id)?;
    let mut world = lock(&shared.world);
    world.devices.retain(|d| !(d.project == project && d.id == id));
    world.published.remove(&id);
    drop(world);
    ok(&shared, StatusCode::OK, &json!({}), &headers)
}

/// `POST /emulator/v2/projects/{p}/devices/{d}:publish` with `{"<type>": {...}}`.
pub(super) async fn publish(
    State(shared): State<Arc<Shared>>,
    Path((project, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Handled {
    permitted(&shared, &headers, Scope::Project(&project), "emulator.update").await?;
    let Some(id) = id.strip_suffix(":publish") else {
        return Err(not_found("resource"));
    };
    let device = find_device(&shared, &project, id)?;
    let value = read_json(&body)?;
    let Some((event_type, payload)) = value
        .as_object()
        .and_then(|o| o.iter().next())
        .map(|(k, v)| (k.clone(), v.clone()))
    else {
        return Err(bad_request("the body must name one event type"));
    };
    let now = Timestamp::now().as_millisecond();
    let mut payload = payload;
    if let Some(object) = payload.as_object_mut() {
        object
            .entry("updateTime")
            .or_insert_with(|| Value::from(super::world::iso(now)));
    }
    let data: Map<String, Value> = std::iter::once((event_type.clone(), payload)).collect();
    let event = {
        let mut world = lock(&shared.world);
        let seed = world.next_id;
        world.next_id += 1;
        let event = StoredEvent {
            at_ms: now,
            id: event_id(seed.wrapping_mul(0x2545_F491_4F6C_DD1D), now),
            event_type,
            data: Value::Object(data),
        };
        world
            .published
            .entry(device.id.clone())
            .or_default()
            .insert((event.at_ms, event.id.clone()), event.clone());
        event
    };
    // Receivers gone or lagging are the stream's business, not the publisher's.
    let _ = shared.live.send((device.clone(), event.clone()));
    let connectors: Vec<Connector> = lock(&shared.world)
        .connectors
        .iter()
        .filter(|c| c.project == project && push::forwards(c, &event.event_type))
        .cloned()
        .collect();
    for connector in connectors {
        push::push(&shared, &connector, &device, &event).await;
    }
    ok(&shared, StatusCode::OK, &json!({}), &headers)
}
