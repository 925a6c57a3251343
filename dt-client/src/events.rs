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

/// The typed data of a known, keyed event type: `$typed($inner, variant)`, with the
/// variant of the type (a function from its payload type to `EventData`), and `$unknown`
/// for any other type (the caller has checked [`EVENT_TYPES`] already). One list of
/// types for the serde path and the fast path.
macro_rules! keyed_data {
    ($event_type:expr, $typed:ident, $inner:ident, $other:pat => $unknown:expr) => {
        match $event_type {
            "touch" => $typed($inner, EventData::Touch),
            "temperature" => $typed($inner, EventData::Temperature),
            "objectPresent" => $typed($inner, EventData::ObjectPresent),
            "humidity" => $typed($inner, EventData::Humidity),
            "objectPresentCount" => $typed($inner, EventData::ObjectPresentCount),
            "touchCount" => $typed($inner, EventData::TouchCount),
            "waterPresent" => $typed($inner, EventData::WaterPresent),
            "networkStatus" => $typed($inner, EventData::NetworkStatus),
            "batteryStatus" => $typed($inner, EventData::BatteryStatus),
            "connectionStatus" => $typed($inner, EventData::ConnectionStatus),
            "ethernetStatus" => $typed($inner, EventData::EthernetStatus),
            "cellularStatus" => $typed($inner, EventData::CellularStatus),
            "co2" => $typed($inner, EventData::Co2),
            "pressure" => $typed($inner, EventData::Pressure),
            "motion" => $typed($inner, EventData::Motion),
            "deskOccupancy" => $typed($inner, EventData::DeskOccupancy),
            "contact" => $typed($inner, EventData::Contact),
            "probeWireStatus" => $typed($inner, EventData::ProbeWireStatus),
            $other => $unknown,
        }
    };
}
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
        fn typed<T: serde::de::DeserializeOwned>(
            value: Value,
            variant: fn(T) -> EventData,
        ) -> Result<EventData, serde_json::Error> {
            serde_json::from_value(value).map(variant)
        }
        keyed_data!(event_type, typed, inner, other => Ok(EventData::Unknown {
            event_type: other.to_owned(),
            data: Value::Object(std::iter::once((other.to_owned(), inner)).collect()),
        }))
    }

    /// [`from_wire`](Self::from_wire) from the data's JSON text (an object at the start
    /// of `data`), read straight from the bytes where the text is of the usual shape (one
    /// member, the type's own), and the length of the data's text; `None` for anything
    /// else, for serde to decide. The same result as serde's where it answers.
    #[cfg(feature = "client")]
    pub(crate) fn from_wire_fast(event_type: &str, data: &[u8]) -> Option<(EventData, usize)> {
        use client_core::decode::fast_json::{FastMember, object_member_at, scan_members};

        if data.first() != Some(&b'{') {
            return None;
        }
        if event_type == "labelsChanged" {
            let (labels, length) = LabelsChanged::from_json(data)?;
            return Some((EventData::LabelsChanged(labels), length));
        }
        if !EVENT_TYPES.contains(&event_type) {
            let (data, length) = serde_json::Value::from_json(data)?;
            let unknown = EventData::Unknown {
                event_type: event_type.to_owned(),
                data,
            };
            return Some((unknown, length));
        }
        // The type's own member and nothing else: serde drops other members, which it
        // checks first, so their text is serde's to judge.
        let mut typed = None;
        let length = scan_members(data, |key, text| {
            if key != event_type || typed.is_some() {
                return None;
            }
            fn read<T: client_core::decode::FastJson>(
                text: &[u8],
                variant: fn(T) -> EventData,
            ) -> Option<(EventData, usize)> {
                object_member_at(text).map(|(payload, length)| (variant(payload), length))
            }
            let (data, length) = keyed_data!(event_type, read, text, _ => None)?;
            typed = Some(data);
            Some(length)
        })?;
        Some((typed?, length))
    }
}

/// Declares a payload struct: each field with its name on the wire, optional or
/// defaulted; unknown members kept in `other`. With the client, its fast path (the same
/// result as serde's, see `client_core::decode::FastJson`) reads each member by its
/// type's `FastMember`, so a field added here is read by both at once.
macro_rules! payload {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident as $wire:literal: $ty:ty,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[non_exhaustive]
        pub struct $name {
            $($(#[$fmeta])* #[serde(default, rename = $wire)] pub $field: $ty,)*
            /// Members this version does not know, as sent.
            #[serde(flatten)]
            pub other: Map<String, Value>,
        }

        #[cfg(feature = "client")]
        impl client_core::decode::FastJson for $name {
            fn decode_fast(json: &[u8]) -> Option<(Self, usize)> {
                use client_core::decode::fast_json::{insert_other_at, scan_members, take_member_at};
                $(let mut $field: Option<$ty> = None;)*
                let mut other = Map::new();
                let end = scan_members(json, |key, text| match key {
                    $($wire => take_member_at(&mut $field, text),)*
                    _ => insert_other_at(&mut other, key, text),
                })?;
                let record = $name {
                    $($field: $field.unwrap_or_default(),)*
                    other,
                };
                Some((record, end))
            }
        }

        #[cfg(feature = "client")]
        impl client_core::decode::fast_json::FastMember for $name {
            fn from_flat(value: client_core::decode::fast_json::FlatValue<'_>) -> Option<Self> {
                client_core::decode::fast_json::object_member(value)
            }

            fn from_json(json: &[u8]) -> Option<(Self, usize)> {
                client_core::decode::fast_json::object_member_at(json)
            }
        }
    };
}

payload! {
    /// A touch.
    Touch {
        /// When it happened.
        update_time as "updateTime": Option<Timestamp>,
    }
}

payload! {
    /// A temperature reading, with the samples it summarises.
    Temperature {
        /// Degrees Celsius.
        value as "value": Option<f64>,
        /// When it was taken.
        update_time as "updateTime": Option<Timestamp>,
        /// The samples since the last event.
        samples as "samples": Vec<Sample>,
        /// Whether it was sent late (buffered while offline).
        is_backfilled as "isBackfilled": Option<bool>,
    }
}

payload! {
    /// One temperature sample.
    Sample {
        /// Degrees Celsius.
        value as "value": Option<f64>,
        /// When it was taken.
        sample_time as "sampleTime": Option<Timestamp>,
    }
}

payload! {
    /// A relative humidity reading.
    Humidity {
        /// Degrees Celsius.
        temperature as "temperature": Option<f64>,
        /// Percent.
        relative_humidity as "relativeHumidity": Option<f64>,
        /// When it was taken.
        update_time as "updateTime": Option<Timestamp>,
        /// The samples since the last event.
        samples as "samples": Vec<HumiditySample>,
        /// Whether it was sent late.
        is_backfilled as "isBackfilled": Option<bool>,
    }
}

payload! {
    /// One humidity sample.
    HumiditySample {
        /// Degrees Celsius.
        temperature as "temperature": Option<f64>,
        /// Percent.
        relative_humidity as "relativeHumidity": Option<f64>,
        /// When it was taken.
        sample_time as "sampleTime": Option<Timestamp>,
    }
}

payload! {
    /// A state change (`objectPresent`, `waterPresent`, `motion`, `contact`,
    /// `probeWireStatus`): `state` as sent (`PRESENT`, `NOT_PRESENT`, `OPEN`, ...).
    State {
        /// The state.
        state as "state": Option<String>,
        /// When it changed.
        update_time as "updateTime": Option<Timestamp>,
    }
}

payload! {
    /// A counter (`objectPresentCount`, `touchCount`).
    Count {
        /// The running total.
        total as "total": Option<u64>,
        /// When it changed.
        update_time as "updateTime": Option<Timestamp>,
    }
}

payload! {
    /// Radio link status.
    NetworkStatus {
        /// Signal strength in percent.
        signal_strength as "signalStrength": Option<f64>,
        /// RSSI in dBm.
        rssi as "rssi": Option<f64>,
        /// `LOW_POWER_STANDARD_MODE`, `HIGH_POWER_BOOST_MODE`, ...
        transmission_mode as "transmissionMode": Option<String>,
        /// The Cloud Connectors that heard the device.
        cloud_connectors as "cloudConnectors": Vec<CloudConnectorSignal>,
        /// When it was measured.
        update_time as "updateTime": Option<Timestamp>,
    }
}

payload! {
    /// One Cloud Connector's view of a device's signal.
    CloudConnectorSignal {
        /// The Cloud Connector id.
        id as "id": Option<String>,
        /// Signal strength in percent.
        signal_strength as "signalStrength": Option<f64>,
        /// RSSI in dBm.
        rssi as "rssi": Option<f64>,
    }
}

payload! {
    /// Battery level.
    BatteryStatus {
        /// Percent.
        percentage as "percentage": Option<f64>,
        /// When it was measured.
        update_time as "updateTime": Option<Timestamp>,
    }
}

payload! {
    /// Labels added, modified or removed.
    LabelsChanged {
        /// New labels.
        added as "added": Map<String, Value>,
        /// Changed labels with their new values.
        modified as "modified": Map<String, Value>,
        /// Removed label keys.
        removed as "removed": Vec<String>,
    }
}

payload! {
    /// A Cloud Connector's connection.
    ConnectionStatus {
        /// `ETHERNET`, `CELLULAR` or `OFFLINE`.
        connection as "connection": Option<String>,
        /// The connections available.
        available as "available": Vec<String>,
        /// When it changed.
        update_time as "updateTime": Option<Timestamp>,
    }
}

payload! {
    /// A Cloud Connector's Ethernet link.
    EthernetStatus {
        /// MAC address.
        mac_address as "macAddress": Option<String>,
        /// IP address.
        ip_address as "ipAddress": Option<String>,
        /// Errors, as sent.
        errors as "errors": Vec<Value>,
        /// When it changed.
        update_time as "updateTime": Option<Timestamp>,
    }
}

payload! {
    /// A Cloud Connector's cellular link.
    CellularStatus {
        /// Signal strength in percent.
        signal_strength as "signalStrength": Option<f64>,
        /// Errors, as sent.
        errors as "errors": Vec<Value>,
        /// When it changed.
        update_time as "updateTime": Option<Timestamp>,
    }
}

payload! {
    /// CO2 concentration.
    Co2 {
        /// Parts per million.
        ppm as "ppm": Option<f64>,
        /// When it was measured.
        update_time as "updateTime": Option<Timestamp>,
    }
}

payload! {
    /// Air pressure.
    Pressure {
        /// Pascal.
        pascal as "pascal": Option<f64>,
        /// When it was measured.
        update_time as "updateTime": Option<Timestamp>,
    }
}

payload! {
    /// Desk occupancy.
    DeskOccupancy {
        /// `OCCUPIED` or `NOT_OCCUPIED`.
        state as "state": Option<String>,
        /// Remarks (`INCOMPLETE_DATA`, ...).
        remarks as "remarks": Vec<String>,
        /// When it changed.
        update_time as "updateTime": Option<Timestamp>,
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
