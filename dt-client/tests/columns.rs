//! Events as Arrow batches and Parquet files (features `arrow` and `parquet`): the
//! schema, batch sizes, the exact text of numbers an `f64` cannot hold, envelope members
//! kept in `extra`, `data` kept whole, and every value read back from Parquet.
#![cfg(feature = "arrow")]

use dt_client::RawEvent;
use dt_client::columns::arrow_array::cast::AsArray;
use dt_client::columns::arrow_array::types::{Float64Type, Int32Type, TimestampNanosecondType};
use dt_client::columns::arrow_array::{Array, RecordBatch};
use dt_client::columns::arrow_schema::{DataType, TimeUnit};
use dt_client::columns::{batches, batches_from_stored, schema};

const LINES: &str = concat!(
    r#"{"eventId":"e1","targetName":"projects/p1/devices/d1","eventType":"temperature","data":{"temperature":{"value":21.50,"updateTime":"2024-05-29T10:34:03.970415123Z","samples":[{"value":21.5,"sampleTime":"2024-05-29T10:34:03.970415Z"}]}},"timestamp":"2024-05-29T10:34:03.970415123Z"}"#,
    "\n",
    r#"{"eventId":"e2","targetName":"projects/p1/devices/d2","eventType":"humidity","data":{"humidity":{"temperature":22,"relativeHumidity":0.1000000000000000055511151231257827,"updateTime":"2024-05-29T10:35:00Z"}},"timestamp":"2024-05-29T12:35:00+02:00","newMember":{"x":1.50}}"#,
    "\n",
    r#"{"eventId":"e3","targetName":"projects/p1/devices/d1","eventType":"objectPresentCount","data":{"objectPresentCount":{"total":9007199254740993,"updateTime":"2024-05-29T10:36:00Z"}},"timestamp":"2024-05-29T10:36:00Z"}"#,
    "\n",
    r#"{"eventId":"e4","targetName":"projects/p1/devices/d3","eventType":"waterPresent","data":{"waterPresent":{"state":"PRESENT","updateTime":"2024-05-29T10:37:00Z"}},"timestamp":"2024-05-29T10:37:00Z"}"#,
    "\n",
    r#"{"eventId":"e5","targetName":"projects/p1/devices/d3","eventType":"futureType","data":{"futureType":{"level":1e400}},"timestamp":"2024-05-29T10:38:00Z"}"#,
    "\n",
);

/// One row: id, target, project, device, type, ns, update ns, value, value_text, state,
/// data, extra.
type Row = (
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    i64,
    Option<i64>,
    Option<f64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn dictionary(batch: &RecordBatch, column: usize, i: usize) -> Option<String> {
    let column = batch.column(column).as_dictionary::<Int32Type>();
    column.is_valid(i).then(|| {
        column
            .values()
            .as_string::<i32>()
            .value(column.keys().value(i) as usize)
            .to_owned()
    })
}

fn text(batch: &RecordBatch, column: usize, i: usize) -> Option<String> {
    let column = batch.column(column).as_string::<i32>();
    column.is_valid(i).then(|| column.value(i).to_owned())
}

fn rows(batch: &RecordBatch) -> Vec<Row> {
    let at = batch.column(5).as_primitive::<TimestampNanosecondType>();
    let update = batch.column(6).as_primitive::<TimestampNanosecondType>();
    let value = batch.column(7).as_primitive::<Float64Type>();
    (0..batch.num_rows())
        .map(|i| {
            (
                text(batch, 0, i).unwrap(),
                dictionary(batch, 1, i).unwrap(),
                dictionary(batch, 2, i),
                dictionary(batch, 3, i),
                dictionary(batch, 4, i).unwrap(),
                at.value(i),
                update.is_valid(i).then(|| update.value(i)),
                value.is_valid(i).then(|| value.value(i)),
                text(batch, 8, i),
                dictionary(batch, 9, i),
                text(batch, 10, i),
                text(batch, 11, i),
            )
        })
        .collect()
}

fn expected() -> Vec<Row> {
    let s = |t: &str| Some(t.to_owned());
    let line = |i: usize| LINES.lines().nth(i).unwrap();
    let data = |i: usize| {
        let event: std::collections::BTreeMap<String, Box<serde_json::value::RawValue>> =
            serde_json::from_str(line(i)).unwrap();
        Some(event["data"].get().to_owned())
    };
    const T: i64 = 1_716_978_843_970_415_123;
    const M: i64 = 1_716_978_900_000_000_000; // 10:35:00Z
    vec![
        (
            "e1".into(),
            "projects/p1/devices/d1".into(),
            s("p1"),
            s("d1"),
            "temperature".into(),
            T,
            Some(T),
            Some(21.5),
            None,
            None,
            data(0),
            None,
        ),
        (
            "e2".into(),
            "projects/p1/devices/d2".into(),
            s("p1"),
            s("d2"),
            "humidity".into(),
            M,
            Some(M),
            Some(0.1),
            s("0.1000000000000000055511151231257827"),
            None,
            data(1),
            s(r#"{"timestamp":"2024-05-29T12:35:00+02:00","newMember":{"x":1.50}}"#),
        ),
        (
            "e3".into(),
            "projects/p1/devices/d1".into(),
            s("p1"),
            s("d1"),
            "objectPresentCount".into(),
            M + 60_000_000_000,
            Some(M + 60_000_000_000),
            Some(9007199254740992.0),
            s("9007199254740993"),
            None,
            data(2),
            None,
        ),
        (
            "e4".into(),
            "projects/p1/devices/d3".into(),
            s("p1"),
            s("d3"),
            "waterPresent".into(),
            M + 120_000_000_000,
            Some(M + 120_000_000_000),
            None,
            None,
            s("PRESENT"),
            data(3),
            None,
        ),
        (
            "e5".into(),
            "projects/p1/devices/d3".into(),
            s("p1"),
            s("d3"),
            "futureType".into(),
            M + 180_000_000_000,
            None,
            None,
            None,
            None,
            s(r#"{"futureType":{"level":1e400}}"#),
            None,
        ),
    ]
}

#[test]
fn the_schema_is_the_documented_one() {
    let schema = schema();
    let dictionary = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    let nanos = DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()));
    let types: Vec<(&str, &DataType, bool)> = schema
        .fields()
        .iter()
        .map(|f| (f.name().as_str(), f.data_type(), f.is_nullable()))
        .collect();
    assert_eq!(
        types,
        [
            ("event_id", &DataType::Utf8, false),
            ("target_name", &dictionary, false),
            ("project_id", &dictionary, true),
            ("device_id", &dictionary, true),
            ("event_type", &dictionary, false),
            ("timestamp", &nanos, false),
            ("update_time", &nanos, true),
            ("value", &DataType::Float64, true),
            ("value_text", &DataType::Utf8, true),
            ("state", &dictionary, true),
            ("data", &DataType::Utf8, true),
            ("extra", &DataType::Utf8, true),
        ]
    );
}

#[test]
fn raw_events_become_batches_with_exact_text_data_and_extra_members() {
    let events: Vec<RawEvent> = LINES.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let all: Vec<RecordBatch> = batches(events.into_iter().map(Ok::<_, dt_client::columns::Error>), 2)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        all.iter().map(RecordBatch::num_rows).collect::<Vec<_>>(),
        [2, 2, 1]
    );
    assert_eq!(
        all[0]
            .column(5)
            .as_primitive::<TimestampNanosecondType>()
            .timezone(),
        Some("UTC")
    );
    let got: Vec<Row> = all.iter().flat_map(rows).collect();
    assert_eq!(got, expected());
}

#[test]
fn a_line_that_does_not_decode_ends_the_batches_with_an_error() {
    let bad = format!("{LINES}{{\"eventId\":\"e6\"}}\n");
    let results: Vec<_> = batches_from_stored(bad.as_bytes(), 100).collect();
    assert_eq!(results.len(), 1);
    assert!(results[0].is_err());
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_files_hold_every_value_of_the_stored_lines() {
    use client_core::bytes::Bytes;
    use dt_client::columns::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use dt_client::columns::parquet_from_stored;

    let mut file = Vec::new();
    assert_eq!(parquet_from_stored(LINES.as_bytes(), 2, &mut file).unwrap(), 5);
    let reader = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(file))
        .unwrap()
        .build()
        .unwrap();
    let read: Vec<RecordBatch> = reader.collect::<Result<_, _>>().unwrap();
    assert!(read.iter().all(|b| b.schema() == schema()));
    let got: Vec<Row> = read.iter().flat_map(rows).collect();
    assert_eq!(got, expected());
}

#[test]
fn typed_events_have_the_columns_of_their_raw_text() {
    // The first four lines: the fifth's 1e400 is no number a typed event holds.
    let events: Vec<dt_client::Event> = LINES
        .lines()
        .take(4)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let all: Vec<RecordBatch> = batches(events.into_iter().map(Ok::<_, dt_client::columns::Error>), 3)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(all.iter().map(RecordBatch::num_rows).collect::<Vec<_>>(), [3, 1]);
    assert!(all.iter().all(|b| b.schema() == schema()));
    let got: Vec<Row> = all.iter().flat_map(rows).collect();
    for (typed, raw) in got.iter().zip(expected()) {
        // Ids, type, times, the value and the state: as from the text.
        assert_eq!(
            (
                &typed.0, &typed.1, &typed.2, &typed.3, &typed.4, typed.5, typed.6, typed.7, &typed.9
            ),
            (
                &raw.0, &raw.1, &raw.2, &raw.3, &raw.4, raw.5, raw.6, raw.7, &raw.9
            )
        );
    }
    // A typed f64 keeps no text; the data is the typed payload's JSON.
    assert_eq!(got[1].8, None);
    let data: serde_json::Value = serde_json::from_str(got[3].10.as_deref().unwrap()).unwrap();
    assert_eq!(data["waterPresent"]["state"], "PRESENT");
    // An envelope member the typed event kept is in extra, as the typed event holds it.
    let extra: serde_json::Value = serde_json::from_str(got[1].11.as_deref().unwrap()).unwrap();
    assert_eq!(extra["newMember"]["x"], 1.5);
}
