//! DT events: the envelope `{eventId, targetName, eventType, data, timestamp}` and the
//! typed data of every event type, with an `Unknown` variant for types to come.

use jiff::Timestamp;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// One event, as the history, the stream and data-connector pushes carry it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Event {
    /// The event's unique id (what deduplication keys on).
    pub event_id: String,
    /// `projects/{project}/devices/{device}`.
    pub target_name: String,
    /// The event type as sent (`temperature`, `touch`, ...).
    pub event_type: String,
    /// The typed data.
    pub data: EventData,
    /// When the event happened.
    pub timestamp: Timestamp,
    /// Envelope members this version does not know, as sent.
    pub other: Map<String, Value>,
}

impl Event {
    /// The project id in `targetName`.
    pub fn project_id(&self) -> Option<&str> {
        target_part(&self.target_name, "projects")
    }

    /// The device id in `targetName`.
    pub fn device_id(&self) -> Option<&str> {
        target_part(&self.target_name, "devices")
    }
}

/// The segment after `key` in a resource name like `projects/p/devices/d`.
pub(crate) fn target_part<'a>(name: &'a str, key: &str) -> Option<&'a str> {
    let mut parts = name.split('/');
    while let Some(part) = parts.next() {
        let value = parts.next()?;
        if part == key && !value.is_empty() {
            return Some(value);
        }
    }
    None
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireEvent {
    event_id: String,
    target_name: String,
    event_type: String,
    #[serde(default)]
    data: Value,
    timestamp: Timestamp,
    #[serde(flatten)]
    other: Map<String, Value>,
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireEvent::deserialize(deserializer)?;
        let data = EventData::from_wire(&wire.event_type, wire.data).map_err(D::Error::custom)?;
        Ok(Event {
            event_id: wire.event_id,
            target_name: wire.target_name,
            event_type: wire.event_type,
            data,
            timestamp: wire.timestamp,
            other: wire.other,
        })
    }
}

/// The data of an event, by type. Keyed data (`{"temperature": {...}}`) is unwrapped;
/// `labelsChanged` data is not keyed. A type this version does not know is
/// [`EventData::Unknown`] with the data as sent, never a decode error.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum EventData {
    /// `touch`.
    Touch(Touch),
    /// `temperature`.
    Temperature(Temperature),
    /// `objectPresent`.
    ObjectPresent(State),
    /// `humidity`.
    Humidity(Humidity),
    /// `objectPresentCount`.
    ObjectPresentCount(Count),
    /// `touchCount`.
    TouchCount(Count),
    /// `waterPresent`.
    WaterPresent(State),
    /// `networkStatus`.
    NetworkStatus(NetworkStatus),
    /// `batteryStatus`.
    BatteryStatus(BatteryStatus),
    /// `labelsChanged` (its data is not keyed by type).
    LabelsChanged(LabelsChanged),
    /// `connectionStatus`.
    ConnectionStatus(ConnectionStatus),
    /// `ethernetStatus`.
    EthernetStatus(EthernetStatus),
    /// `cellularStatus`.
    CellularStatus(CellularStatus),
    /// `co2`.
    Co2(Co2),
    /// `pressure`.
    Pressure(Pressure),
    /// `motion`.
    Motion(State),
    /// `deskOccupancy`.
    DeskOccupancy(DeskOccupancy),
    /// `contact`.
    Contact(State),
    /// `probeWireStatus`.
    ProbeWireStatus(State),
    /// A type this version does not know (or the stream's `ping`), with its data as sent.
    Unknown {
        /// The event type.
        event_type: String,
        /// The data as sent.
        data: Value,
    },
}

/// Every event type the crate types, as sent on the wire.
pub const EVENT_TYPES: [&str; 19] = [
    "touch",
    "temperature",
    "objectPresent",
    "humidity",
    "objectPresentCount",
    "touchCount",
    "waterPresent",
    "networkStatus",
    "batteryStatus",
    "labelsChanged",
    "connectionStatus",
    "ethernetStatus",
    "cellularStatus",
    "co2",
    "pressure",
    "motion",
    "deskOccupancy",
    "contact",
    "probeWireStatus",
];

impl EventData {
    /// Types `data` as `event_type` says.
    pub fn from_wire(event_type: &str, data: Value) -> Result<EventData, serde_json::Error> {
        if event_type == "labelsChanged" {
            return serde_json::from_value(data).map(EventData::LabelsChanged);
        }
        if !EVENT_TYPES.contains(&event_type) {
            return Ok(EventData::Unknown {
                event_type: event_type.to_owned(),
                data,
            });
        }
        let Value::Object(mut keyed) = data else {
            return Err(serde_json::Error::custom(format!(
                "{event_type} data is not an object"
            )));
        };
        let inner = keyed.remove(event_type).ok_or_else(|| {
            serde_json::Error::custom(format!("{event_type} data has no `{event_type}` member"))
        })?;
        fn typed<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, serde_json::Error> {
            serde_json::from_value(value)
        }
        Ok(match event_type {
            "touch" => EventData::Touch(typed(inner)?),
            "temperature" => EventData::Temperature(typed(inner)?),
            "objectPresent" => EventData::ObjectPresent(typed(inner)?),
            "humidity" => EventData::Humidity(typed(inner)?),
            "objectPresentCount" => EventData::ObjectPresentCount(typed(inner)?),
            "touchCount" => EventData::TouchCount(typed(inner)?),
            "waterPresent" => EventData::WaterPresent(typed(inner)?),
            "networkStatus" => EventData::NetworkStatus(typed(inner)?),
            "batteryStatus" => EventData::BatteryStatus(typed(inner)?),
            "connectionStatus" => EventData::ConnectionStatus(typed(inner)?),
            "ethernetStatus" => EventData::EthernetStatus(typed(inner)?),
            "cellularStatus" => EventData::CellularStatus(typed(inner)?),
            "co2" => EventData::Co2(typed(inner)?),
            "pressure" => EventData::Pressure(typed(inner)?),
            "motion" => EventData::Motion(typed(inner)?),
            "deskOccupancy" => EventData::DeskOccupancy(typed(inner)?),
            "contact" => EventData::Contact(typed(inner)?),
            "probeWireStatus" => EventData::ProbeWireStatus(typed(inner)?),
            other => EventData::Unknown {
                event_type: other.to_owned(),
                data: Value::Object(std::iter::once((other.to_owned(), inner)).collect()),
            },
        })
    }
}

/// Declares a payload struct: camelCase, every field optional or defaulted, unknown
/// members kept in `other`.
macro_rules! payload {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        #[non_exhaustive]
        pub struct $name {
            $($(#[$fmeta])* #[serde(default)] pub $field: $ty,)*
            /// Members this version does not know, as sent.
            #[serde(flatten)]
            pub other: Map<String, Value>,
        }
    };
}

payload! {
    /// A touch.
    Touch {
        /// When it happened.
        update_time: Option<Timestamp>,
    }
}

payload! {
    /// A temperature reading, with the samples it summarises.
    Temperature {
        /// Degrees Celsius.
        value: Option<f64>,
        /// When it was taken.
        update_time: Option<Timestamp>,
        /// The samples since the last event.
        samples: Vec<Sample>,
        /// Whether it was sent late (buffered while offline).
        is_backfilled: Option<bool>,
    }
}

payload! {
    /// One temperature sample.
    Sample {
        /// Degrees Celsius.
        value: Option<f64>,
        /// When it was taken.
        sample_time: Option<Timestamp>,
    }
}

payload! {
    /// A relative humidity reading.
    Humidity {
        /// Degrees Celsius.
        temperature: Option<f64>,
        /// Percent.
        relative_humidity: Option<f64>,
        /// When it was taken.
        update_time: Option<Timestamp>,
        /// The samples since the last event.
        samples: Vec<HumiditySample>,
        /// Whether it was sent late.
        is_backfilled: Option<bool>,
    }
}

payload! {
    /// One humidity sample.
    HumiditySample {
        /// Degrees Celsius.
        temperature: Option<f64>,
        /// Percent.
        relative_humidity: Option<f64>,
        /// When it was taken.
        sample_time: Option<Timestamp>,
    }
}

payload! {
    /// A state change (`objectPresent`, `waterPresent`, `motion`, `contact`,
    /// `probeWireStatus`): `state` as sent (`PRESENT`, `NOT_PRESENT`, `OPEN`, ...).
    State {
        /// The state.
        state: Option<String>,
        /// When it changed.
        update_time: Option<Timestamp>,
    }
}

payload! {
    /// A counter (`objectPresentCount`, `touchCount`).
    Count {
        /// The running total.
        total: Option<u64>,
        /// When it changed.
        update_time: Option<Timestamp>,
    }
}

payload! {
    /// Radio link status.
    NetworkStatus {
        /// Signal strength in percent.
        signal_strength: Option<f64>,
        /// RSSI in dBm.
        rssi: Option<f64>,
        /// `LOW_POWER_STANDARD_MODE`, `HIGH_POWER_BOOST_MODE`, ...
        transmission_mode: Option<String>,
        /// The Cloud Connectors that heard the device.
        cloud_connectors: Vec<CloudConnectorSignal>,
        /// When it was measured.
        update_time: Option<Timestamp>,
    }
}

payload! {
    /// One Cloud Connector's view of a device's signal.
    CloudConnectorSignal {
        /// The Cloud Connector id.
        id: Option<String>,
        /// Signal strength in percent.
        signal_strength: Option<f64>,
        /// RSSI in dBm.
        rssi: Option<f64>,
    }
}

payload! {
    /// Battery level.
    BatteryStatus {
        /// Percent.
        percentage: Option<f64>,
        /// When it was measured.
        update_time: Option<Timestamp>,
    }
}

payload! {
    /// Labels added, modified or removed.
    LabelsChanged {
        /// New labels.
        added: Map<String, Value>,
        /// Changed labels with their new values.
        modified: Map<String, Value>,
        /// Removed label keys.
        removed: Vec<String>,
    }
}

payload! {
    /// A Cloud Connector's connection.
    ConnectionStatus {
        /// `ETHERNET`, `CELLULAR` or `OFFLINE`.
        connection: Option<String>,
        /// The connections available.
        available: Vec<String>,
        /// When it changed.
        update_time: Option<Timestamp>,
    }
}

payload! {
    /// A Cloud Connector's Ethernet link.
    EthernetStatus {
        /// MAC address.
        mac_address: Option<String>,
        /// IP address.
        ip_address: Option<String>,
        /// Errors, as sent.
        errors: Vec<Value>,
        /// When it changed.
        update_time: Option<Timestamp>,
    }
}

payload! {
    /// A Cloud Connector's cellular link.
    CellularStatus {
        /// Signal strength in percent.
        signal_strength: Option<f64>,
        /// Errors, as sent.
        errors: Vec<Value>,
        /// When it changed.
        update_time: Option<Timestamp>,
    }
}

payload! {
    /// CO2 concentration.
    Co2 {
        /// Parts per million.
        ppm: Option<f64>,
        /// When it was measured.
        update_time: Option<Timestamp>,
    }
}

payload! {
    /// Air pressure.
    Pressure {
        /// Pascal.
        pascal: Option<f64>,
        /// When it was measured.
        update_time: Option<Timestamp>,
    }
}

payload! {
    /// Desk occupancy.
    DeskOccupancy {
        /// `OCCUPIED` or `NOT_OCCUPIED`.
        state: Option<String>,
        /// Remarks (`INCOMPLETE_DATA`, ...).
        remarks: Vec<String>,
        /// When it changed.
        update_time: Option<Timestamp>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: Value) -> Event {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn keyed_data_is_unwrapped_and_ids_come_from_the_target() {
        let e = event(serde_json::json!({
            "eventId": "e1", "targetName": "projects/p1/devices/d1", "eventType": "temperature",
            "data": {"temperature": {"value": 27, "updateTime": "2024-05-29T10:34:03.970415Z",
                     "samples": [{"value": 27, "sampleTime": "2024-05-29T10:34:03.970415Z"}], "isBackfilled": false, "new": 1}},
            "timestamp": "2024-05-29T10:34:03.970415Z", "extra": true
        }));
        assert_eq!((e.project_id(), e.device_id()), (Some("p1"), Some("d1")));
        let EventData::Temperature(t) = &e.data else {
            panic!("{e:?}")
        };
        assert_eq!(t.value, Some(27.0));
        assert_eq!(t.samples.len(), 1);
        assert_eq!(t.is_backfilled, Some(false));
        assert_eq!(t.other["new"], 1);
        assert_eq!(e.other["extra"], true);
    }

    #[test]
    fn labels_changed_is_not_keyed_and_unknown_types_are_kept() {
        let e = event(serde_json::json!({
            "eventId": "e2", "targetName": "projects/p/devices/d", "eventType": "labelsChanged",
            "data": {"added": {"floor": "2"}, "modified": {}, "removed": ["old"]},
            "timestamp": "2024-01-01T00:00:00Z"
        }));
        let EventData::LabelsChanged(l) = &e.data else {
            panic!()
        };
        assert_eq!(
            (l.added["floor"].as_str(), l.removed.as_slice()),
            (Some("2"), ["old".to_owned()].as_slice())
        );
        let e = event(serde_json::json!({
            "eventId": "e3", "targetName": "projects/p/devices/d", "eventType": "radar",
            "data": {"radar": {"x": 1}}, "timestamp": "2024-01-01T00:00:00Z"
        }));
        assert_eq!(
            e.data,
            EventData::Unknown {
                event_type: "radar".into(),
                data: serde_json::json!({"radar": {"x": 1}})
            }
        );
    }

    #[test]
    fn every_type_decodes() {
        for event_type in EVENT_TYPES.iter().filter(|t| **t != "labelsChanged") {
            let e = event(serde_json::json!({
                "eventId": "e", "targetName": "projects/p/devices/d", "eventType": event_type,
                "data": {*event_type: {"updateTime": "2024-01-01T00:00:00Z"}}, "timestamp": "2024-01-01T00:00:00Z"
            }));
            assert!(!matches!(e.data, EventData::Unknown { .. }), "{event_type}");
        }
    }

    #[test]
    fn a_known_type_without_its_member_is_an_error() {
        let bad = serde_json::from_value::<Event>(serde_json::json!({
            "eventId": "e", "targetName": "projects/p/devices/d", "eventType": "touch",
            "data": {}, "timestamp": "2024-01-01T00:00:00Z"
        }));
        assert!(bad.unwrap_err().to_string().contains("no `touch` member"));
    }
}
