//! Events as Arrow columns (feature `arrow`) and Parquet files (feature `parquet`).
//!
//! [`RawEvent`] implements [`Columnar`]: cut any iterator of them into batches with
//! [`batches`], a stream with [`batch_stream`] (feature `client`), and write Parquet
//! with `write_records_parquet`; stored NDJSON events (one [`RawEvent`] a line, as
//! `dt-stream` writes them) become a Parquet file with `parquet_from_stored`. The
//! typed [`Event`] has the same columns, from its typed data written back as JSON (an
//! `f64` field as its shortest text, so its `value_text` is null; `data` is the typed
//! data's JSON, not the text sent): read [`RawEvent`]s to keep the server's text.
//!
//! The functions here return `client_core`'s [`Error`] (a `Decode`
//! error for an event that does not fit, `Io` for Parquet), in every build: with the
//! `client` feature, `?` turns it into the crate's `Error`.
//!
//! # Schema
//!
//! One row per event:
//!
//! | column | Arrow type | nullable | what |
//! |---|---|---|---|
//! | `event_id` | `Utf8` | no | `eventId` |
//! | `target_name` | `Dictionary(Int32, Utf8)` | no | `targetName` (`projects/{project}/devices/{device}`) |
//! | `project_id` | `Dictionary(Int32, Utf8)` | yes | the project in `targetName` |
//! | `device_id` | `Dictionary(Int32, Utf8)` | yes | the device in `targetName` |
//! | `event_type` | `Dictionary(Int32, Utf8)` | no | `eventType` |
//! | `timestamp` | `Timestamp(Nanosecond, Some("UTC"))` | no | `timestamp` |
//! | `update_time` | `Timestamp(Nanosecond, Some("UTC"))` | yes | `data.<eventType>.updateTime` |
//! | `value` | `Float64` | yes | the event type's number (below) |
//! | `value_text` | `Utf8` | yes | its text as sent, when the `f64` does not hold it |
//! | `state` | `Dictionary(Int32, Utf8)` | yes | `data.<eventType>.state` (`objectPresent`, `waterPresent`, `motion`, `contact`, `probeWireStatus`, `deskOccupancy`), `connectionStatus.connection` |
//! | `data` | `Utf8` | yes | the `data` member whole, its JSON text as sent (samples, every other member) |
//! | `extra` | `Utf8` | yes | the other envelope members, as one JSON object (names and values as sent, in order); null when there are none |
//!
//! The number of each event type in `value`: `temperature.value`,
//! `humidity.relativeHumidity`, `co2.ppm`, `pressure.pascal`, `objectPresentCount.total`,
//! `touchCount.total`, `batteryStatus.percentage`, `networkStatus.signalStrength`,
//! `cellularStatus.signalStrength`; null for other types (their data is in `data`).
//!
//! Nanoseconds because DT's timestamps are RFC 3339 with up to nine fractional digits;
//! an instant outside 1677-09-21 to 2262-04-11 is an error, never a wrapped value. A
//! `timestamp` sent otherwise than as its UTC rendering (`+02:00`, no fraction digits
//! where the instant has some...) is in the column all the same and also kept, as sent,
//! in `extra`. `update_time` is read from `data`, which keeps its text: it is null when
//! `data` has no `updateTime` that is an RFC 3339 instant within the column's range (the
//! text is then in `data` alone).
//!
//! `value_text` follows the
//! [exact-text rule](client_core::columns#the-exact-text-of-numbers): set when the
//! value's decimal value differs from that of the `f64`'s shortest rendering
//! (`0.1000000000000000055511151231257827`, `9007199254740993`, `1e400`), or when it
//! is not a JSON number (a string, with its quotes); null for `21.50`, `-0`.

#[cfg(feature = "parquet")]
use std::io::Write;

/// The error of this module's functions: `client_core`'s.
pub use client_core::Error;
use client_core::Result;
use client_core::columns::{
    DictionaryColumn, JsonObject, NumberColumns, TextColumn, TimestampColumn, record_batch,
    schema as schema_of,
};
use jiff::Timestamp;
use serde_json::value::RawValue;

use crate::events::{Event, EventData, target_part};
use crate::raw_event::RawEvent;

#[cfg(feature = "client")]
pub use client_core::columns::batch_stream;
pub use client_core::columns::{
    BatchBuilder, Batches, Columnar, DEFAULT_BATCH_ROWS, NumberCell, arrow_array, arrow_schema, batches,
    needs_text,
};
#[cfg(feature = "parquet")]
pub use client_core::columns::{parquet, write_parquet, write_records_parquet, writer_properties};

/// The member of `data.<eventType>` in the `value` column, by event type.
const VALUES: &[(&str, &str)] = &[
    ("temperature", "value"),
    ("humidity", "relativeHumidity"),
    ("co2", "ppm"),
    ("pressure", "pascal"),
    ("objectPresentCount", "total"),
    ("touchCount", "total"),
    ("batteryStatus", "percentage"),
    ("networkStatus", "signalStrength"),
    ("cellularStatus", "signalStrength"),
];

/// The member of `data.<eventType>` in the `state` column, by event type.
const STATES: &[(&str, &str)] = &[
    ("objectPresent", "state"),
    ("waterPresent", "state"),
    ("motion", "state"),
    ("contact", "state"),
    ("probeWireStatus", "state"),
    ("deskOccupancy", "state"),
    ("connectionStatus", "connection"),
];

/// The schema of every batch of events (see [the table](self#schema)).
pub fn schema() -> arrow_schema::SchemaRef {
    let [value, value_text] = NumberColumns::fields("value", "value_text");
    schema_of(vec![
        TextColumn::field("event_id", false),
        DictionaryColumn::field("target_name", false),
        DictionaryColumn::field("project_id", true),
        DictionaryColumn::field("device_id", true),
        DictionaryColumn::field("event_type", false),
        TimestampColumn::field("timestamp", arrow_schema::TimeUnit::Nanosecond, false),
        TimestampColumn::field("update_time", arrow_schema::TimeUnit::Nanosecond, true),
        value,
        value_text,
        DictionaryColumn::field("state", true),
        TextColumn::field("data", true),
        TextColumn::field("extra", true),
    ])
}

/// The column builders of event batches: what [`Columnar::batch_builder`] gives for
/// [`RawEvent`].
#[derive(Debug)]
pub struct EventsBuilder {
    schema: arrow_schema::SchemaRef,
    event_id: TextColumn,
    target_name: DictionaryColumn,
    project_id: DictionaryColumn,
    device_id: DictionaryColumn,
    event_type: DictionaryColumn,
    timestamp: TimestampColumn,
    update_time: TimestampColumn,
    value: NumberColumns,
    state: DictionaryColumn,
    data: TextColumn,
    extra: TextColumn,
    rows: usize,
}

impl Columnar for RawEvent {
    type Builder = EventsBuilder;
    fn batch_builder() -> EventsBuilder {
        EventsBuilder {
            schema: schema(),
            event_id: TextColumn::new(),
            target_name: DictionaryColumn::new(),
            project_id: DictionaryColumn::new(),
            device_id: DictionaryColumn::new(),
            event_type: DictionaryColumn::new(),
            timestamp: TimestampColumn::nanoseconds(),
            update_time: TimestampColumn::nanoseconds(),
            value: NumberColumns::new(),
            state: DictionaryColumn::new(),
            data: TextColumn::new(),
            extra: TextColumn::new(),
            rows: 0,
        }
    }
}

/// What the typed columns read from `data.<eventType>`.
struct Payload {
    update_time: Option<Timestamp>,
    value: NumberCell,
    state: Option<String>,
}

/// Reads the payload of `data` (`{"<eventType>":{..}}`); whatever is not of the
/// expected shape gives nulls (the `data` column keeps it as sent).
fn payload(data: Option<&RawValue>, event_type: &str) -> Payload {
    let mut payload = Payload {
        update_time: None,
        value: NumberCell::NULL,
        state: None,
    };
    let Some(inner) = data
        .and_then(|data| JsonObject::parse(data.get()).ok())
        .and_then(|data| data.get(event_type))
        .and_then(|inner| JsonObject::parse(inner.get()).ok())
    else {
        return payload;
    };
    let mut inner = inner;
    payload.update_time = inner
        .take_string("updateTime")
        .and_then(|text| text.parse::<Timestamp>().ok());
    if let Some((_, member)) = VALUES.iter().find(|(kind, _)| *kind == event_type) {
        payload.value = NumberCell::of_json(inner.take(member));
    }
    if let Some((_, member)) = STATES.iter().find(|(kind, _)| *kind == event_type) {
        payload.state = inner.take_string(member);
    }
    payload
}

impl BatchBuilder<RawEvent> for EventsBuilder {
    fn schema(&self) -> arrow_schema::SchemaRef {
        self.schema.clone()
    }

    fn append(&mut self, event: &RawEvent) -> Result<()> {
        let mut object = JsonObject::parse(event.as_str())?;
        let timestamp = self.timestamp.value_of(event.timestamp())?;
        let rendered = serde_json::to_string(&event.timestamp().to_string()).unwrap_or_default();
        object.take_if_rendered("timestamp", Some(&rendered));
        object.take("eventId");
        object.take("eventType");
        let target_name = object
            .take_string("targetName")
            .ok_or_else(|| Error::decode(format!("event {}: no targetName string", event.event_id())))?;
        let data = object.take("data");
        let payload = payload(data, event.event_type());
        let update_time = payload
            .update_time
            .and_then(|at| self.update_time.value_of(at).ok());
        self.event_id.append(Some(event.event_id()))?;
        self.target_name.append(Some(&target_name))?;
        self.project_id.append(target_part(&target_name, "projects"))?;
        self.device_id.append(target_part(&target_name, "devices"))?;
        self.event_type.append(Some(event.event_type()))?;
        self.timestamp.append_value(Some(timestamp));
        self.update_time.append_value(update_time);
        self.value.append(&payload.value);
        self.state.append(payload.state.as_deref())?;
        self.data.append(data.map(RawValue::get))?;
        self.extra.append(object.rest().as_deref())?;
        self.rows += 1;
        Ok(())
    }

    fn rows(&self) -> usize {
        self.rows
    }

    fn finish(&mut self) -> Result<arrow_array::RecordBatch> {
        self.rows = 0;
        let [value, value_text] = self.value.finish();
        record_batch(
            self.schema.clone(),
            vec![
                self.event_id.finish(),
                self.target_name.finish(),
                self.project_id.finish(),
                self.device_id.finish(),
                self.event_type.finish(),
                self.timestamp.finish(),
                self.update_time.finish(),
                value,
                value_text,
                self.state.finish(),
                self.data.finish(),
                self.extra.finish(),
            ],
        )
    }
}

impl Columnar for Event {
    type Builder = EventsBuilder;
    fn batch_builder() -> EventsBuilder {
        RawEvent::batch_builder()
    }
}

/// The `data` member of `event` as JSON: `{"<eventType>":<payload>}` (a `labelsChanged`
/// payload bare, as the API sends it; an unknown type's data as it was kept).
fn data_of(event: &Event) -> serde_json::Result<serde_json::Value> {
    let keyed = |payload: serde_json::Result<serde_json::Value>| {
        payload.map(|payload| {
            serde_json::Value::Object(std::iter::once((event.event_type.clone(), payload)).collect())
        })
    };
    use serde_json::to_value;
    match &event.data {
        EventData::Touch(p) => keyed(to_value(p)),
        EventData::Temperature(p) => keyed(to_value(p)),
        EventData::ObjectPresent(p)
        | EventData::WaterPresent(p)
        | EventData::Motion(p)
        | EventData::Contact(p)
        | EventData::ProbeWireStatus(p) => keyed(to_value(p)),
        EventData::Humidity(p) => keyed(to_value(p)),
        EventData::ObjectPresentCount(p) | EventData::TouchCount(p) => keyed(to_value(p)),
        EventData::NetworkStatus(p) => keyed(to_value(p)),
        EventData::BatteryStatus(p) => keyed(to_value(p)),
        EventData::LabelsChanged(p) => to_value(p),
        EventData::ConnectionStatus(p) => keyed(to_value(p)),
        EventData::EthernetStatus(p) => keyed(to_value(p)),
        EventData::CellularStatus(p) => keyed(to_value(p)),
        EventData::Co2(p) => keyed(to_value(p)),
        EventData::Pressure(p) => keyed(to_value(p)),
        EventData::DeskOccupancy(p) => keyed(to_value(p)),
        EventData::Unknown { data, .. } => Ok(data.clone()),
    }
}

impl BatchBuilder<Event> for EventsBuilder {
    fn schema(&self) -> arrow_schema::SchemaRef {
        self.schema.clone()
    }

    /// The event as the envelope it was decoded from (its typed data written back as
    /// JSON), in the columns of a [`RawEvent`].
    fn append(&mut self, event: &Event) -> Result<()> {
        let mut envelope = event.other.clone();
        envelope.insert("eventId".to_owned(), event.event_id.clone().into());
        envelope.insert("targetName".to_owned(), event.target_name.clone().into());
        envelope.insert("eventType".to_owned(), event.event_type.clone().into());
        envelope.insert("timestamp".to_owned(), event.timestamp.to_string().into());
        let raw: RawEvent = data_of(event)
            .and_then(|data| {
                envelope.insert("data".to_owned(), data);
                serde_json::to_string(&envelope)
            })
            .and_then(|text| serde_json::from_str(&text))
            .map_err(|e| Error::decode(format!("event {} as JSON: {e}", event.event_id)))?;
        self.append(&raw)
    }

    fn rows(&self) -> usize {
        self.rows
    }

    fn finish(&mut self) -> Result<arrow_array::RecordBatch> {
        BatchBuilder::<RawEvent>::finish(self)
    }
}

/// The batches of stored NDJSON events (one [`RawEvent`] a line, as the server sent
/// it), of at most `batch_rows` rows. Lazy: the bytes are decoded a slice at a time. A
/// line that does not decode is the last item, an error; nothing is skipped.
pub fn batches_from_stored(
    bytes: &[u8],
    batch_rows: usize,
) -> impl Iterator<Item = Result<arrow_array::RecordBatch>> + '_ {
    client_core::columns::ndjson_batches::<RawEvent, Error>(bytes, batch_rows)
}

/// Stored NDJSON events as one Parquet file written to `out`, in batches of
/// `batch_rows` rows ([`DEFAULT_BATCH_ROWS`] is a good size); returns the rows written.
/// The schema is [the module's](self#schema). A line that does not decode fails the
/// call: the Parquet file is then unfinished, to be discarded.
///
/// ```
/// use dt_client::columns::{DEFAULT_BATCH_ROWS, parquet_from_stored};
///
/// let lines = br#"{"eventId":"e9","targetName":"projects/p/devices/d","eventType":"temperature","data":{"temperature":{"value":21.50}},"timestamp":"2024-01-01T00:00:00Z"}
/// "#;
/// let mut parquet = Vec::new();
/// assert_eq!(parquet_from_stored(lines, DEFAULT_BATCH_ROWS, &mut parquet)?, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[cfg(feature = "parquet")]
pub fn parquet_from_stored<W: Write + Send>(bytes: &[u8], batch_rows: usize, out: W) -> Result<u64> {
    write_parquet(schema(), batches_from_stored(bytes, batch_rows), out)
}
