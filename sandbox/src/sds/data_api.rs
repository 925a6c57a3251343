//! Today's API: integration nodes, integrations, and the data API (query, upload, remove).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::gate::{
    Need, bad_request, date_range, gate, json_response, not_found, parse_date, query_map, read_json, required,
};
use super::{SensorEntry, Shared, lock};

pub(super) async fn nodes(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, Response> {
    gate(&shared, &headers).await?;
    let query = query_map(raw.as_deref());
    let itwin = required(&query, "iTwinId")?;
    let items = match shared.allow(itwin, Need::Read) {
        Ok(true) => vec![json!({
            "id": format!("/api/{}/node", itwin.chars().take(6).collect::<String>().to_uppercase()),
            "type": "NODE_API_SDE",
            "props": {"NAME": "Sandbox node"},
        })],
        Ok(false) => Vec::new(),
        Err(refused) => return Err(refused),
    };
    let answer = shared.list("integrations/nodes", raw.as_deref(), "nodes", items)?;
    json_response(StatusCode::OK, &answer, &headers, &shared)
}

pub(super) async fn integrate(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Response> {
    gate(&shared, &headers).await?;
    let query = query_map(query.as_deref());
    let itwin = required(&query, "iTwinId")?.to_owned();
    if !shared.allow(&itwin, Need::Manage)? {
        return Err(not_found("iTwin", "iTwin"));
    }
    let value = read_json(&body)?;
    let Some(devices) = value["integration"]["devices"].as_array() else {
        return Err(bad_request(
            "integration.devices is required",
            "integration.devices",
        ));
    };
    let mut world = lock(&shared.world);
    let mut answer = Vec::new();
    for device in devices {
        let (Some(state), Some(device_ref)) = (device["changeState"].as_str(), device["refId"].as_str())
        else {
            return Err(bad_request(
                "every device needs changeState and refId",
                "integration.devices",
            ));
        };
        let mut sensors_answer = Vec::new();
        for sensor in device["sensors"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let (Some(sensor_state), Some(sensor_ref)) =
                (sensor["changeState"].as_str(), sensor["refId"].as_str())
            else {
                return Err(bad_request(
                    "every sensor needs changeState and refId",
                    "integration.devices.sensors",
                ));
            };
            let refs = (device_ref.to_owned(), sensor_ref.to_owned());
            let existing = world
                .sensors
                .iter()
                .position(|s| s.itwin == itwin && s.refs.as_ref() == Some(&refs));
            let gone = state == "deleted" || sensor_state == "deleted";
            let id = match (existing, gone) {
                (Some(index), true) => Some(world.sensors.remove(index).id),
                (Some(index), false) => {
                    if let Some(props) = sensor["props"].as_object() {
                        world.sensors[index].props.extend(props.clone());
                    }
                    Some(world.sensors[index].id.clone())
                }
                (None, false) if sensor_state == "new" => {
                    let id = format!("integrated-{}", world.next_id);
                    world.next_id += 1;
                    world.sensors.push(SensorEntry {
                        id: id.clone(),
                        itwin: itwin.clone(),
                        datasource: None,
                        bucket_id: None,
                        generated: false,
                        refs: Some(refs),
                        props: sensor["props"].as_object().cloned().unwrap_or_default(),
                    });
                    Some(id)
                }
                _ => None,
            };
            sensors_answer.push(json!({"refId": sensor_ref, "id": id, "changeState": sensor_state}));
        }
        answer.push(json!({"refId": device_ref, "changeState": state, "sensors": sensors_answer}));
    }
    drop(world);
    json_response(
        StatusCode::OK,
        &json!({"integration": {"devices": answer}}),
        &headers,
        &shared,
    )
}

/// The sensor `id` when the caller may `need` on its iTwin.
fn sensor_for(shared: &Shared, id: &str, need: Need) -> Result<SensorEntry, Response> {
    let found = lock(&shared.world).sensors.iter().find(|s| s.id == id).cloned();
    shared.reveal(found, |s| &s.itwin, need, || not_found("Sensor", "sensor"))
}

pub(super) async fn query_data(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Response> {
    gate(&shared, &headers).await?;
    let value = read_json(&body)?;
    let sensor_id = value["sensorId"]
        .as_str()
        .ok_or_else(|| bad_request("sensorId is required", "sensorId"))?;
    let (start, end) = date_range(value["startDate"].as_str(), value["endDate"].as_str())?;
    let sensor = sensor_for(&shared, sensor_id, Need::Read)?;
    let (low, high) = shared.config.readings.bounds(start, end);
    let mut data = Map::new();
    {
        let world = lock(&shared.world);
        let metrics = sensor.generated.then_some(shared.config.metrics.as_slice());
        let cap = shared.config.data_response_cap;
        let mut rows: std::collections::VecDeque<_> = std::collections::VecDeque::new();
        for row in world.store.rows(&sensor.id, metrics, low, high) {
            rows.push_back(row);
            if rows.len() > cap {
                if !shared.config.readings.data_cap_keeps_newest {
                    rows.pop_back();
                    break;
                }
                rows.pop_front();
            }
        }
        for (at, row) in rows {
            let key = Timestamp::from_millisecond(at)
                .map(|t| t.to_string())
                .unwrap_or_default();
            let values: Map<String, Value> = row.into_iter().map(|(m, v)| (m, Value::from(v))).collect();
            data.insert(key, Value::Object(values));
        }
    }
    shared.counters.data_queries.fetch_add(1, Ordering::SeqCst);
    let metrics_and_units = shared.sensor_json(&sensor)["metricsAndUnits"].clone();
    let body = json!({
        "sensor": sensor.id,
        "sensorName": sensor.props.get("NAME").cloned().unwrap_or_else(|| Value::from(sensor.id.clone())),
        "metricsAndUnits": metrics_and_units,
        "data": data,
    });
    json_response(StatusCode::OK, &body, &headers, &shared)
}

pub(super) async fn upload(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Response> {
    gate(&shared, &headers).await?;
    let value = read_json(&body)?;
    let Some(observations) = value["observations"].as_array() else {
        return Err(bad_request("observations is required", "observations"));
    };
    // Check everything first: a refused upload stores nothing.
    let mut accepted = Vec::with_capacity(observations.len());
    for (index, observation) in observations.iter().enumerate() {
        let target = format!("observations[{index}]");
        let Some(sensor_id) = observation["sensorId"].as_str() else {
            return Err(bad_request("sensorId is required", &target));
        };
        sensor_for(&shared, sensor_id, Need::Manage)?;
        let at = parse_date(observation["timestamp"].as_str(), "timestamp")?;
        let Some(values) = observation["values"].as_object().filter(|v| !v.is_empty()) else {
            return Err(bad_request("values must be a non-empty object", &target));
        };
        let mut row = BTreeMap::new();
        for (metric, number) in values {
            let Some(number) = number.as_f64() else {
                return Err(bad_request(
                    &format!("the value of {metric} is not a number"),
                    &target,
                ));
            };
            row.insert(metric.clone(), number);
        }
        accepted.push((sensor_id.to_owned(), at, row));
    }
    let count = accepted.len() as u64;
    {
        let mut world = lock(&shared.world);
        for (sensor, at, row) in accepted {
            world.store.upload(&sensor, at, row);
        }
    }
    shared.counters.uploads.fetch_add(1, Ordering::SeqCst);
    shared
        .counters
        .uploaded_observations
        .fetch_add(count, Ordering::SeqCst);
    json_response(
        StatusCode::ACCEPTED,
        &json!({"status": "ACCEPTED"}),
        &headers,
        &shared,
    )
}

pub(super) async fn remove_data(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Response> {
    gate(&shared, &headers).await?;
    let value = read_json(&body)?;
    let sensor_id = value["sensorId"]
        .as_str()
        .ok_or_else(|| bad_request("sensorId is required", "sensorId"))?;
    sensor_for(&shared, sensor_id, Need::Manage)?;
    let range = match (value["startDate"].as_str(), value["endDate"].as_str()) {
        (None, None) => None,
        (start, end) => {
            let (start, end) = date_range(start, end)?;
            Some(shared.config.readings.bounds(start, end))
        }
    };
    let mut points = Vec::new();
    for item in value["timestamps"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        points.push(parse_date(item.as_str(), "timestamps")?);
    }
    if range.is_none() && points.is_empty() {
        return Err(bad_request(
            "startDate and endDate, or timestamps, are required",
            "body",
        ));
    }
    {
        let mut world = lock(&shared.world);
        if let Some((low, high)) = range {
            world.store.remove_range(sensor_id, low, high);
        }
        if !points.is_empty() {
            world.store.remove_points(sensor_id, points);
        }
    }
    json_response(
        StatusCode::ACCEPTED,
        &json!({"status": "ACCEPTED"}),
        &headers,
        &shared,
    )
}
