//! The DT simulator's projects, devices and events: history generated lazily from
//! arithmetic (one event per device every `interval_seconds`), plus published events.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::{Map, Value, json};

/// A simulated device.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    /// The device id.
    pub id: String,
    /// The project id.
    pub project: String,
    /// The device type (`temperature`, `touch`, ...).
    pub device_type: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Whether history is generated for it (emulated devices start empty).
    pub generated: bool,
}

impl Device {
    /// `projects/{p}/devices/{d}`.
    pub fn name(&self) -> String {
        format!("projects/{}/devices/{}", self.project, self.id)
    }

    /// The event type its generated history holds.
    pub fn event_type(&self) -> &'static str {
        event_type_of(&self.device_type)
    }

    /// The device as the API returns it.
    pub fn json(&self) -> Value {
        json!({
            "name": self.name(),
            "type": self.device_type,
            "productNumber": format!("SB-{}", self.device_type.to_uppercase()),
            "labels": self.labels,
        })
    }
}

/// The event type a device of `device_type` sends.
pub(crate) fn event_type_of(device_type: &str) -> &'static str {
    match device_type {
        "temperature" => "temperature",
        "humidity" => "humidity",
        "touch" => "touch",
        "proximity" => "objectPresent",
        "co2" => "co2",
        "waterDetector" => "waterPresent",
        "ccon" => "connectionStatus",
        _ => "touch",
    }
}

/// One event: when, its id, its type, and its data (keyed as the API sends it).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoredEvent {
    pub(crate) at_ms: i64,
    pub(crate) id: String,
    pub(crate) event_type: String,
    pub(crate) data: Value,
}

impl StoredEvent {
    /// The envelope as the API sends it.
    pub(crate) fn envelope(&self, device: &Device) -> Value {
        json!({
            "eventId": self.id,
            "targetName": device.name(),
            "eventType": self.event_type,
            "data": self.data,
            "timestamp": iso(self.at_ms),
        })
    }
}

pub(crate) fn iso(ms: i64) -> String {
    Timestamp::from_millisecond(ms)
        .map(|t| format!("{t:.6}"))
        .unwrap_or_default()
}

fn mix(seed: u64, at: i64) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (at as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9)
}

fn seed_of(text: &str) -> u64 {
    text.bytes().fold(1469598103934665603u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(1099511628211)
    })
}

/// The generated event of `device` at `at_ms` (a multiple of the interval).
pub(crate) fn generated_event(device: &Device, at_ms: i64) -> StoredEvent {
    let seed = seed_of(&device.id);
    let r = mix(seed, at_ms);
    let time = iso(at_ms);
    let event_type = device.event_type();
    let payload = match event_type {
        "temperature" => {
            // Whole hundredths, so the JSON holds the decimal text it means.
            let value = (((r >> 40) % 4000) as i64 - 500) as f64 / 100.0;
            json!({"value": value, "updateTime": time, "samples": [{"value": value, "sampleTime": time}], "isBackfilled": false})
        }
        "humidity" => {
            let t = ((r >> 40) % 3000) as f64 / 100.0;
            let h = ((r >> 20) % 10000) as f64 / 100.0;
            json!({"temperature": t, "relativeHumidity": h, "updateTime": time,
                   "samples": [{"temperature": t, "relativeHumidity": h, "sampleTime": time}], "isBackfilled": false})
        }
        "objectPresent" | "waterPresent" => {
            let state = if r % 2 == 0 { "PRESENT" } else { "NOT_PRESENT" };
            json!({"state": state, "updateTime": time})
        }
        "co2" => json!({"ppm": 400 + (r >> 40) % 1600, "updateTime": time}),
        "connectionStatus" => {
            json!({"connection": "ETHERNET", "available": ["ETHERNET", "CELLULAR"], "updateTime": time})
        }
        _ => json!({"updateTime": time}),
    };
    StoredEvent {
        at_ms,
        id: event_id(seed, at_ms),
        event_type: event_type.to_owned(),
        data: json!({ event_type: payload }),
    }
}

/// A 20-character id like DT's (`c82gg9catj3vmh4248og`), from a hash.
pub(crate) fn event_id(seed: u64, at_ms: i64) -> String {
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuv";
    let mut value =
        (u128::from(mix(seed, at_ms)) << 64) | u128::from(mix(seed.rotate_left(17), at_ms ^ 0x5555));
    (0..20)
        .map(|_| {
            let c = ALPHABET[(value % 32) as usize] as char;
            value /= 32;
            c
        })
        .collect()
}

/// The devices of the default configuration: `per_project` devices in each project,
/// cycling through several types, labelled with a name and a floor.
pub(crate) fn default_devices(projects: &[String], per_project: usize) -> Vec<Device> {
    const TYPES: [&str; 6] = [
        "temperature",
        "humidity",
        "touch",
        "proximity",
        "co2",
        "waterDetector",
    ];
    let mut devices = Vec::new();
    for project in projects {
        for index in 0..per_project {
            let device_type = TYPES[index % TYPES.len()];
            let id = format!("sb{:02}{}{:04}", seed_of(project) % 100, &device_type[..3], index);
            let mut labels = BTreeMap::new();
            labels.insert("name".to_owned(), format!("{device_type} {index}"));
            labels.insert("floor".to_owned(), (index % 5 + 1).to_string());
            devices.push(Device {
                id,
                project: project.clone(),
                device_type: device_type.to_owned(),
                labels,
                generated: true,
            });
        }
    }
    devices
}

/// Whether `device` matches DT's `label_filters` (`key=value` or `key`).
pub(crate) fn labels_match(device: &Device, filters: &[String]) -> bool {
    filters.iter().all(|filter| match filter.split_once('=') {
        Some((key, value)) => device.labels.get(key).is_some_and(|v| v == value),
        None => device.labels.contains_key(filter.as_str()),
    })
}

/// The labels of `device` named by `keys`, for a push.
pub(crate) fn selected_labels(device: &Device, keys: &[String], absent_as_empty: bool) -> Map<String, Value> {
    keys.iter()
        .filter_map(|k| match device.labels.get(k) {
            Some(v) => Some((k.clone(), Value::from(v.as_str()))),
            None => absent_as_empty.then(|| (k.clone(), Value::from(""))),
        })
        .collect()
}
