//! Projects, devices (list, get, `:batchUpdate`, `:transfer`, `:stream`) and event
//! history.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::access::{Caller, Scope, require};
use super::auth::dt_error;
use super::http::*;
use super::world::{Device, StoredEvent, generated_event, labels_match};
use super::{Shared, World, lock, stream};

/// The projects a device list reads: `project` itself, or for `-` (every project) the
/// projects of the organization `organization=organizations/{o}` names (required with
/// `-`, as DT does) that the caller may read devices of, kept to those `projects`
/// (`projects/{p}`, repeated) names when given.
fn listed_projects(
    shared: &Shared,
    caller: &Caller,
    project: &str,
    pairs: &[(String, String)],
) -> Result<Vec<String>, Response> {
    if project != "-" {
        require(shared, caller, Scope::Project(project), "device.read")?;
        return Ok(vec![project.to_owned()]);
    }
    let organization = one(pairs, "organization")
        .ok_or_else(|| bad_request("organization is required when the project is -"))
        .and_then(super::projects::organization_id)?;
    let wanted: Vec<&str> = values(pairs, "projects")
        .into_iter()
        .map(|p| p.strip_prefix("projects/").unwrap_or(p))
        .collect();
    let world = lock(&shared.world);
    if !world.organizations.iter().any(|o| o.id == organization) {
        return Err(not_found("organization"));
    }
    Ok(world
        .projects
        .iter()
        .filter(|p| p.organization == organization)
        .filter(|p| wanted.is_empty() || wanted.contains(&p.id.as_str()))
        .filter(|p| world.allows(&caller.email, Scope::Project(&p.id), "device.read"))
        .map(|p| p.id.clone())
        .collect())
}

/// A page of `items` from the offset in `pageToken`: a project's devices, or with the
/// project `-` an organization's.
pub(super) async fn list_devices(
    State(shared): State<Arc<Shared>>,
    Path(project): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Handled {
    let caller = gate(&shared, &headers).await?;
    let pairs = query_pairs(query.as_deref());
    let projects = listed_projects(&shared, &caller, &project, &pairs)?;
    let size = page_size(&shared, &pairs)?;
    let ids = values(&pairs, "device_ids");
    let types = values(&pairs, "device_types");
    let filters: Vec<String> = values(&pairs, "label_filters")
        .into_iter()
        .map(str::to_owned)
        .collect();
    let text = one(&pairs, "query").map(str::to_lowercase);
    let mut devices: Vec<Device> = lock(&shared.world)
        .devices
        .iter()
        .filter(|d| projects.contains(&d.project))
        .filter(|d| ids.is_empty() || ids.contains(&d.id.as_str()))
        .filter(|d| types.is_empty() || types.contains(&d.device_type.as_str()))
        .filter(|d| labels_match(d, &filters))
        .filter(|d| {
            text.as_ref().is_none_or(|t| {
                d.id.to_lowercase().contains(t) || d.labels.values().any(|v| v.to_lowercase().contains(t))
            })
        })
        .cloned()
        .collect();
    if let Some(order) = one(&pairs, "order_by") {
        let (field, descending) = match order.strip_prefix('-') {
            Some(field) => (field, true),
            None => (order, false),
        };
        let key = |d: &Device| match field.strip_prefix("labels.") {
            Some(label) => d.labels.get(label).cloned().unwrap_or_default(),
            None if field == "type" => d.device_type.clone(),
            None => d.id.clone(),
        };
        devices.sort_by_key(key);
        if descending {
            devices.reverse();
        }
    }
    let items = devices.iter().map(Device::json).collect();
    let body = offset_page(items, "devices", &pairs, size)?;
    ok(&shared, StatusCode::OK, &body, &headers)
}

pub(super) fn find_device(shared: &Shared, project: &str, id: &str) -> Result<Device, Response> {
    lock(&shared.world)
        .devices
        .iter()
        .find(|d| d.project == project && d.id == id)
        .cloned()
        .ok_or_else(|| not_found("device"))
}

/// `GET /projects/{p}/devices/{d}`, and with the project `-` the device in whichever
/// project the caller may read it (404 when in none: a device the caller cannot read is
/// not told apart from one that does not exist).
pub(super) async fn get_device(
    State(shared): State<Arc<Shared>>,
    Path((project, device)): Path<(String, String)>,
    headers: HeaderMap,
) -> Handled {
    let caller = gate(&shared, &headers).await?;
    let device = if project == "-" {
        let world = lock(&shared.world);
        world
            .devices
            .iter()
            .find(|d| {
                d.id == device && world.allows(&caller.email, Scope::Project(&d.project), "device.read")
            })
            .cloned()
            .ok_or_else(|| not_found("device"))?
    } else {
        require(&shared, &caller, Scope::Project(&project), "device.read")?;
        find_device(&shared, &project, &device)?
    };
    ok(&shared, StatusCode::OK, &device.json(), &headers)
}

/// `GET /projects/{p}/devices:stream`.
pub(super) async fn device_get(
    State(shared): State<Arc<Shared>>,
    Path((project, action)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Handled {
    permitted(&shared, &headers, Scope::Project(&project), "eventhistory.read").await?;
    project_exists(&shared, &project)?;
    if action != "devices:stream" {
        return Err(not_found("resource"));
    }
    Ok(stream::open(
        shared,
        project,
        query_pairs(query.as_deref()),
        &headers,
    ))
}

/// `POST /projects/{p}/devices:batchUpdate`, `devices:transfer` and `devices:claim`.
pub(super) async fn device_action(
    State(shared): State<Arc<Shared>>,
    Path((project, action)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Handled {
    let caller = gate(&shared, &headers).await?;
    if action == "devices:claim" {
        return super::claims::claim(&shared, &caller, &project, query.as_deref(), &body, &headers);
    }
    let permission = if action.ends_with(":transfer") {
        "device.transfer"
    } else {
        "device.update"
    };
    require(&shared, &caller, Scope::Project(&project), permission)?;
    project_exists(&shared, &project)?;
    let value = read_json(&body)?;
    let names: Vec<String> = value["devices"]
        .as_array()
        .ok_or_else(|| bad_request("devices is required"))?
        .iter()
        .filter_map(|d| d.as_str().map(str::to_owned))
        .collect();
    let mut world = lock(&shared.world);
    let mut errors = Vec::new();
    match action.as_str() {
        "devices:batchUpdate" => {
            let add = value["addLabels"].as_object().cloned().unwrap_or_default();
            let remove: Vec<String> = value["removeLabels"]
                .as_array()
                .map(|r| r.iter().filter_map(|k| k.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            for name in names {
                match world
                    .devices
                    .iter_mut()
                    .find(|d| d.name() == name && d.project == project)
                {
                    Some(device) => {
                        for (key, label) in &add {
                            device
                                .labels
                                .insert(key.clone(), label.as_str().unwrap_or_default().to_owned());
                        }
                        for key in &remove {
                            device.labels.remove(key);
                        }
                    }
                    None => errors
                        .push(json!({"device": name, "status": {"code": 5, "message": "device not found"}})),
                }
            }
            drop(world);
            ok(&shared, StatusCode::OK, &json!({"batchErrors": errors}), &headers)
        }
        "devices:transfer" => {
            for name in names {
                // The caller moves a device out of its project too: it needs the
                // permission there (a device it may not see is not found).
                let source = world
                    .devices
                    .iter()
                    .find(|d| d.name() == name)
                    .map(|d| d.project.clone());
                let may = |permission: &str| {
                    source
                        .as_deref()
                        .is_some_and(|source| world.allows(&caller.email, Scope::Project(source), permission))
                };
                let status = if !may("device.read") {
                    Some(json!({"code": 5, "message": "device not found"}))
                } else if !may("device.transfer") {
                    Some(
                        json!({"code": 7, "message": "the caller lacks the permission device.transfer in the device's project"}),
                    )
                } else {
                    None
                };
                match status {
                    Some(status) => errors.push(json!({"device": name, "status": status})),
                    None => {
                        if let Some(device) = world.devices.iter_mut().find(|d| d.name() == name) {
                            device.project.clone_from(&project);
                        }
                    }
                }
            }
            drop(world);
            ok(
                &shared,
                StatusCode::OK,
                &json!({"transferErrors": errors}),
                &headers,
            )
        }
        _ => Err(not_found("resource")),
    }
}

/// A page of history newest first (the reading [`Config::history_newest_first`](super::Config::history_newest_first)):
/// the events of `device` in `[low, high]` of `types` before the `(ms, id)` cursor,
/// at most `limit`, latest first; and whether more follow.
#[allow(clippy::too_many_arguments)]
fn newest_first(
    shared: &Shared,
    world: &World,
    device: &Device,
    low: i64,
    high: i64,
    types: &[&str],
    before: Option<(i64, String)>,
    limit: usize,
) -> (Vec<StoredEvent>, bool) {
    let (all, _) = events_of(shared, world, device, low, high, types, None, usize::MAX);
    let mut older: Vec<StoredEvent> = all
        .into_iter()
        .filter(|e| {
            before
                .as_ref()
                .is_none_or(|(ms, id)| (e.at_ms, &e.id) < (*ms, id))
        })
        .collect();
    older.reverse();
    let more = older.len() > limit;
    older.truncate(limit);
    (older, more)
}

/// Events of `device` in `[low, high]` (ms, inclusive) of `types` (all when empty), after
/// the `(ms, id)` cursor, at most `limit`: and whether more follow.
#[allow(clippy::too_many_arguments)]
pub(super) fn events_of(
    shared: &Shared,
    world: &World,
    device: &Device,
    low: i64,
    high: i64,
    types: &[&str],
    after: Option<(i64, String)>,
    limit: usize,
) -> (Vec<StoredEvent>, bool) {
    let wanted = |event_type: &str| types.is_empty() || types.contains(&event_type);
    let after_key = after.clone().unwrap_or((i64::MIN, String::new()));
    let start = low.max(after.as_ref().map_or(i64::MIN, |(ms, _)| *ms));
    let high = high.min(Timestamp::now().as_millisecond());
    let interval = shared.config.interval_seconds * 1000;
    let origin = shared.config.data_start.as_millisecond();
    let generated_from = if start <= origin {
        origin
    } else {
        origin + (start - origin + interval - 1) / interval * interval
    };
    let generated = (device.generated && wanted(device.event_type()))
        .then(|| {
            (0..)
                .map(move |k| generated_from + k * interval)
                .take_while(move |at| *at <= high)
                .map(|at| generated_event(device, at))
        })
        .into_iter()
        .flatten();
    let published = world
        .published
        .get(&device.id)
        .into_iter()
        // A start after the end (one in the future, say) finds nothing; `range` would panic.
        .filter(|_| start <= high)
        .flat_map(|events| events.range((start, String::new())..=(high, "\u{10FFFF}".to_owned())))
        .map(|(_, e)| e.clone())
        .filter(|e| wanted(&e.event_type));
    let mut merged: Vec<StoredEvent> = Vec::new();
    let mut generated = generated
        .filter(|e| (e.at_ms, e.id.clone()) > after_key)
        .peekable();
    let mut published = published
        .filter(|e| (e.at_ms, e.id.clone()) > after_key)
        .peekable();
    while merged.len() <= limit {
        let take_generated = match (generated.peek(), published.peek()) {
            (Some(g), Some(p)) => (g.at_ms, &g.id) <= (p.at_ms, &p.id),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let next = if take_generated {
            generated.next()
        } else {
            published.next()
        };
        merged.extend(next);
    }
    let more = merged.len() > limit;
    merged.truncate(limit);
    (merged, more)
}

pub(super) async fn history(
    State(shared): State<Arc<Shared>>,
    Path((project, device)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Handled {
    permitted(&shared, &headers, Scope::Project(&project), "eventhistory.read").await?;
    {
        let mut faults = lock(&shared.stream_faults);
        if faults.fail_history > 0 {
            faults.fail_history -= 1;
            return Err(dt_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "sandbox fault: history unavailable",
            ));
        }
    }
    let cache_key = shared.config.prerendered_history.then(|| {
        let gzip = crate::server::accepts_gzip(&headers);
        format!(
            "{project}/{device}?{}#{gzip}",
            query.as_deref().unwrap_or_default()
        )
    });
    if let Some(page) = cache_key
        .as_ref()
        .and_then(|key| lock(&shared.history_cache).get(key).cloned())
    {
        shared.counters.history_pages.fetch_add(1, Ordering::SeqCst);
        return Ok(page.response(lock(&shared.faults).cut_body_after));
    }
    let device = find_device(&shared, &project, &device)?;
    let pairs = query_pairs(query.as_deref());
    let size = page_size(&shared, &pairs)?;
    let now = Timestamp::now();
    let day_ago = now - jiff::SignedDuration::from_hours(24);
    let mut low = parse_time(one(&pairs, "startTime"), "startTime", day_ago)?;
    if shared.config.history_start_exclusive && one(&pairs, "startTime").is_some() {
        low += 1;
    }
    let high = parse_time(one(&pairs, "endTime"), "endTime", now)?;
    let types = values(&pairs, "eventTypes");
    let after = match one(&pairs, "pageToken").filter(|t| !t.is_empty()) {
        None => None,
        Some(token) => {
            let (ms, id) = token
                .split_once(':')
                .ok_or_else(|| bad_request("invalid pageToken"))?;
            Some((
                ms.parse::<i64>().map_err(|_| bad_request("invalid pageToken"))?,
                id.to_owned(),
            ))
        }
    };
    let (events, more) = {
        let world = lock(&shared.world);
        if shared.config.history_newest_first {
            newest_first(&shared, &world, &device, low, high, &types, after, size)
        } else {
            events_of(&shared, &world, &device, low, high, &types, after, size)
        }
    };
    let next = match (more, events.last()) {
        (true, Some(last)) => format!("{}:{}", last.at_ms, last.id),
        _ => String::new(),
    };
    shared.counters.history_pages.fetch_add(1, Ordering::SeqCst);
    shared
        .counters
        .events_served
        .fetch_add(events.len() as u64, Ordering::SeqCst);
    let envelopes: Vec<Value> = events.iter().map(|e| e.envelope(&device)).collect();
    let page = json!({"events": envelopes, "nextPageToken": next});
    let Some(key) = cache_key else {
        return ok(&shared, StatusCode::OK, &page, &headers);
    };
    let encoded =
        crate::server::encode_json(page.to_string().into_bytes(), &headers, super::http::GZIP_ABOVE);
    lock(&shared.history_cache).insert(key, encoded.clone());
    Ok(encoded.response(lock(&shared.faults).cut_body_after))
}
