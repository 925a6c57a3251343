//! The document's API: data sources, sensors and paged observations.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::gate::{
    Need, bad_request, date_range, gate, json_response, not_found, query_map, read_json, required,
};
use super::store::convert;
use super::{DataSourceEntry, Shared, lock};
use crate::server::json_body;

fn datasource_json(ds: &DataSourceEntry) -> Value {
    json!({"id": ds.id, "bucketId": ds.bucket_id, "bucketName": ds.bucket_name, "iTwinId": ds.itwin, "connectionId": ds.connection_id})
}

pub(super) async fn list_datasources(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Response> {
    gate(&shared, &headers).await?;
    let query = query_map(raw.as_deref());
    let itwin = required(&query, "iTwinId")?;
    let member = shared.allow(itwin, Need::Read)?;
    let items = if member {
        lock(&shared.world)
            .datasources
            .iter()
            .filter(|d| d.itwin == itwin)
            .map(datasource_json)
            .collect()
    } else {
        Vec::new()
    };
    let answer = shared.list("datasources", raw.as_deref(), "dataSources", items)?;
    json_response(StatusCode::OK, &answer, &headers, &shared)
}

/// Reads a data source body: the four properties, all non-empty strings.
fn read_datasource(body: &[u8]) -> Result<(String, String, String, String), Response> {
    let value = read_json(body)?;
    let field = |name: &str| {
        value[name]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| bad_request(&format!("{name} is required"), name))
    };
    Ok((
        field("bucketId")?,
        field("bucketName")?,
        field("iTwinId")?,
        field("connectionId")?,
    ))
}

pub(super) async fn create_datasource(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Response> {
    gate(&shared, &headers).await?;
    let (bucket_id, bucket_name, itwin, connection_id) = read_datasource(&body)?;
    if !shared.allow(&itwin, Need::Manage)? {
        return Err(not_found("iTwin", "iTwin"));
    }
    let entry = {
        let mut world = lock(&shared.world);
        let id = format!("DS{:022X}", world.next_id);
        world.next_id += 1;
        let entry = DataSourceEntry {
            id,
            itwin,
            bucket_id,
            bucket_name,
            connection_id,
        };
        world.datasources.push(entry.clone());
        entry
    };
    json_response(StatusCode::CREATED, &datasource_json(&entry), &headers, &shared)
}

/// The data source `id` when the caller may `need` on its iTwin.
fn find_datasource(shared: &Shared, id: &str, need: Need) -> Result<DataSourceEntry, Response> {
    let found = lock(&shared.world)
        .datasources
        .iter()
        .find(|d| d.id == id)
        .cloned();
    shared.reveal(
        found,
        |d| &d.itwin,
        need,
        || not_found("DataSource", "data source"),
    )
}

pub(super) async fn get_datasource(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Response> {
    gate(&shared, &headers).await?;
    let entry = find_datasource(&shared, &id, Need::Read)?;
    json_response(StatusCode::OK, &datasource_json(&entry), &headers, &shared)
}

pub(super) async fn update_datasource(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Response> {
    gate(&shared, &headers).await?;
    find_datasource(&shared, &id, Need::Manage)?;
    let (bucket_id, bucket_name, itwin, connection_id) = read_datasource(&body)?;
    shared.allow(&itwin, Need::Manage)?;
    let updated = DataSourceEntry {
        id: id.clone(),
        itwin,
        bucket_id,
        bucket_name,
        connection_id,
    };
    let mut world = lock(&shared.world);
    if let Some(entry) = world.datasources.iter_mut().find(|d| d.id == id) {
        *entry = updated.clone();
    }
    drop(world);
    json_response(StatusCode::OK, &datasource_json(&updated), &headers, &shared)
}

pub(super) async fn delete_datasource(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Response> {
    gate(&shared, &headers).await?;
    find_datasource(&shared, &id, Need::Manage)?;
    lock(&shared.world).datasources.retain(|d| d.id != id);
    let mut response = Response::default();
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}

pub(super) async fn list_sensors(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Response> {
    gate(&shared, &headers).await?;
    let query = query_map(raw.as_deref());
    let itwin = required(&query, "iTwinId")?;
    let member = shared.allow(itwin, Need::Read)?;
    let wanted_source = query.get("dataSourceId");
    let items = if member {
        lock(&shared.world)
            .sensors
            .iter()
            .filter(|s| s.itwin == itwin)
            .filter(|s| wanted_source.is_none() || s.datasource.as_ref() == wanted_source)
            .map(|s| shared.sensor_json(s))
            .collect()
    } else {
        Vec::new()
    };
    let answer = shared.list("sensors", raw.as_deref(), "sensors", items)?;
    json_response(StatusCode::OK, &answer, &headers, &shared)
}

pub(super) async fn observations(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Response> {
    gate(&shared, &headers).await?;
    let query = query_map(query.as_deref());
    let itwin = required(&query, "iTwinId")?;
    let sensor_id = required(&query, "sensorId")?;
    let metric = required(&query, "metric")?;
    let unit = required(&query, "unit")?;
    let (start, end) = date_range(
        query.get("startDate").map(String::as_str),
        query.get("endDate").map(String::as_str),
    )?;
    let number = |name: &str, default: u64| match query.get(name) {
        None => Ok(default),
        Some(text) => text
            .parse::<u64>()
            .map_err(|_| bad_request(&format!("{name} `{text}` is not a non-negative integer"), name)),
    };
    let (page, size) = match (number("page", 0), number("pageSize", 10_000)) {
        (Ok(page), Ok(size)) if size >= 1 => (page, u32::try_from(size).unwrap_or(u32::MAX)),
        (Ok(_), Ok(_)) => return Err(bad_request("pageSize must be at least 1", "pageSize")),
        (Err(refused), _) | (_, Err(refused)) => return Err(refused),
    };
    if !shared.allow(itwin, Need::Read)? {
        return Err(not_found("Sensor", "sensor"));
    }
    let Some(unit_spec) = shared
        .config
        .metrics
        .iter()
        .find(|m| m.metric == metric)
        .map(|m| m.units.iter().find(|u| u.unit == unit))
    else {
        return Err(bad_request(&format!("unknown metric `{metric}`"), "metric"));
    };
    let Some(unit_spec) = unit_spec else {
        return Err(bad_request(
            &format!("unknown unit `{unit}` of metric `{metric}`"),
            "unit",
        ));
    };
    let readings = shared.config.readings;
    let (offset, count, reported) = readings.page_window(page, size);
    let (points, total) = {
        let world = lock(&shared.world);
        let Some(sensor) = world
            .sensors
            .iter()
            .find(|s| s.id == sensor_id && s.itwin == itwin)
        else {
            return Err(not_found("Sensor", "sensor"));
        };
        let metrics = sensor.generated.then_some(shared.config.metrics.as_slice());
        world.store.page(
            sensor_id,
            metrics,
            metric,
            readings.bounds(start, end),
            (offset, count),
            readings.removals_leave_holes,
        )
    };
    shared.counters.observation_pages.fetch_add(1, Ordering::SeqCst);
    shared
        .counters
        .observations_served
        .fetch_add(points.len() as u64, Ordering::SeqCst);
    let mut body = Vec::with_capacity(64 + points.len() * 40);
    // Writing to a Vec cannot fail.
    let _ = write!(
        body,
        "{{\"page\":{page},\"pageSize\":{reported},\"pageTotal\":{},\"metric\":{},\"unit\":{},\"observations\":[",
        readings.page_total(total, size),
        Value::from(metric),
        Value::from(unit),
    );
    for (index, (at, base)) in points.iter().enumerate() {
        if index > 0 {
            body.push(b',');
        }
        let value = convert(*base, unit_spec);
        let _ = write!(body, "{{\"timestamp\":{at},\"value\":{}}}", Value::from(value));
    }
    body.extend_from_slice(b"]}");
    let faults = lock(&shared.faults).clone();
    Ok(json_body(body, &headers, 4096, faults.cut_body_after))
}
