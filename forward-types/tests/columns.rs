//! Measurement observations as Arrow batches and Parquet files (features `arrow` and
//! `parquet`): the schema, batch sizes, identifiers, and exact decimals at the ends of
//! what the decoder accepts, read back from Parquet.
#![cfg(feature = "arrow")]

use forward_types::columns::arrow_array::cast::AsArray;
use forward_types::columns::arrow_array::types::{
    Float64Type, Int32Type, Int64Type, TimestampNanosecondType,
};
use forward_types::columns::arrow_array::{Array, RecordBatch};
use forward_types::columns::arrow_schema::{DataType, TimeUnit};
use forward_types::columns::{batches, batches_from_body, observation_rows, schema};
use forward_types::{Decimal, ForwardMessage, MeasurementMessage, decode_body};
use serde_json::{Value, json};

const MEASUREMENT: &str = include_str!("fixtures/measurement.json");
const NOTIFICATION: &str = include_str!("fixtures/notification.json");

/// Values at the ends of the decoder's range, and ones an `f64` cannot hold.
const DECIMALS: [(i64, i32); 7] = [
    (7827, 3),
    (i64::MAX, 127),
    (i64::MIN, -128),
    (0, 0),
    (-1, -128),
    (9_007_199_254_740_993, 0),
    (1_000_000_000_000_000_001, -19),
];

/// A body of the document's measurement (its observations replaced by one per
/// [`DECIMALS`], `performance` 1.0 on the third), a notification, and the measurement
/// again with attempt 1.
fn body() -> String {
    let mut body: Vec<Value> = serde_json::from_str(MEASUREMENT).unwrap();
    let template = body[0]["observations"][0].clone();
    let observations: Vec<Value> = DECIMALS
        .iter()
        .enumerate()
        .map(|(i, &(significand, order))| {
            let mut o = template.clone();
            o["significand"] = json!(significand);
            o["orderOfMagnitude"] = json!(order);
            o["formattedValue"] = json!(format!("text {i}"));
            o["channelIndex"] = json!(i);
            if i == 2 {
                o["performance"] = json!(1.0);
                o["unit"] = Value::Null;
            }
            o
        })
        .collect();
    body[0]["observations"] = Value::Array(observations);
    let mut again = body[0].clone();
    again["attempt"] = json!(1);
    let notification: Vec<Value> = serde_json::from_str(NOTIFICATION).unwrap();
    body.extend(notification);
    body.push(again);
    Value::Array(body).to_string()
}

fn measurements() -> Vec<MeasurementMessage> {
    decode_body(body().as_bytes())
        .unwrap()
        .into_iter()
        .filter_map(|m| match m {
            ForwardMessage::Measurement(m) => Some(m),
            ForwardMessage::Notification(_) => None,
        })
        .collect()
}

fn dictionary(batch: &RecordBatch, name: &str, i: usize) -> Option<String> {
    let column = batch
        .column(schema().index_of(name).unwrap())
        .as_dictionary::<Int32Type>();
    column.is_valid(i).then(|| {
        column
            .values()
            .as_string::<i32>()
            .value(column.keys().value(i) as usize)
            .to_owned()
    })
}

/// Per row: report id, attempt, channel, significand, order, value bits, formatted,
/// unit, generated_at, performance, performance_text, device_fields.
type Row = (
    String,
    i64,
    i64,
    i64,
    i32,
    u64,
    String,
    Option<String>,
    i64,
    f64,
    Option<String>,
    Option<String>,
);

fn rows(batch: &RecordBatch) -> Vec<Row> {
    let column = |name: &str| batch.column(schema().index_of(name).unwrap()).clone();
    let attempt = column("attempt");
    let attempt = attempt.as_primitive::<Int64Type>();
    let channel = column("channel_index");
    let channel = channel.as_primitive::<Int64Type>();
    let significand = column("significand");
    let significand = significand.as_primitive::<Int64Type>();
    let order = column("order_of_magnitude");
    let order = order.as_primitive::<Int32Type>();
    let value = column("value");
    let value = value.as_primitive::<Float64Type>();
    let formatted = column("formatted_value");
    let formatted = formatted.as_string::<i32>();
    let at = column("generated_at");
    let at = at.as_primitive::<TimestampNanosecondType>();
    let performance = column("performance");
    let performance = performance.as_primitive::<Float64Type>();
    let performance_text = column("performance_text");
    let performance_text = performance_text.as_string::<i32>();
    let device_fields = column("device_fields");
    let device_fields = device_fields.as_string::<i32>();
    (0..batch.num_rows())
        .map(|i| {
            (
                dictionary(batch, "report_hash_id", i).unwrap(),
                attempt.value(i),
                channel.value(i),
                significand.value(i),
                order.value(i),
                value.value(i).to_bits(),
                formatted.value(i).to_owned(),
                dictionary(batch, "unit", i),
                at.value(i),
                performance.value(i),
                performance_text
                    .is_valid(i)
                    .then(|| performance_text.value(i).to_owned()),
                device_fields
                    .is_valid(i)
                    .then(|| device_fields.value(i).to_owned()),
            )
        })
        .collect()
}

fn expected() -> Vec<Row> {
    let mut rows = Vec::new();
    for attempt in [0, 1] {
        for (i, &(significand, order)) in DECIMALS.iter().enumerate() {
            rows.push((
                "qoa978".to_owned(),
                attempt,
                i as i64,
                significand,
                order,
                Decimal::new(significand, order).to_f64().to_bits(),
                format!("text {i}"),
                (i != 2).then(|| "W".to_owned()),
                1_672_531_200_000_000_000,
                1.0,
                None,
                Some(r#"{"brand":"ExampleBrand","model":"X100"}"#.to_owned()),
            ));
        }
    }
    rows
}

#[test]
fn the_schema_has_exact_decimal_columns_dictionaries_and_utc() {
    let schema = schema();
    let field = |name: &str| schema.field_with_name(name).unwrap().clone();
    let dictionary = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    for id in [
        "report_hash_id",
        "environment_hash_id",
        "device_hash_id",
        "port_hash_id",
        "unit",
    ] {
        assert_eq!(field(id).data_type(), &dictionary, "{id}");
    }
    for at in ["generated_at", "report_generated_at", "report_created_at"] {
        assert_eq!(
            field(at).data_type(),
            &DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
        );
        assert!(!field(at).is_nullable());
    }
    assert_eq!(field("significand").data_type(), &DataType::Int64);
    assert_eq!(field("order_of_magnitude").data_type(), &DataType::Int32);
    assert_eq!(field("value").data_type(), &DataType::Float64);
    assert!(!field("significand").is_nullable() && !field("order_of_magnitude").is_nullable());
}

#[test]
fn observations_become_batches_with_exact_decimals() {
    let rows_in = observation_rows(measurements());
    let all: Vec<RecordBatch> = batches(rows_in.map(Ok::<_, forward_types::columns::Error>), 4)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        all.iter().map(RecordBatch::num_rows).collect::<Vec<_>>(),
        [4, 4, 4, 2]
    );
    let got: Vec<Row> = all.iter().flat_map(rows).collect();
    assert_eq!(got, expected());
    assert_eq!(
        dictionary(&all[0], "location_hash_id", 0).as_deref(),
        Some("dao97")
    );
    assert_eq!(dictionary(&all[0], "user_hash_id", 0), None);
}

#[test]
fn a_body_that_does_not_decode_is_an_error() {
    assert!(batches_from_body(b"[{\"hashId\":1}]", 10).is_err());
    assert_eq!(batches_from_body(NOTIFICATION.as_bytes(), 10).unwrap().len(), 0);
}

#[cfg(feature = "parquet")]
#[test]
fn decimals_round_trip_exactly_through_parquet() {
    use forward_types::columns::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use forward_types::columns::parquet_from_body;

    let mut file = Vec::new();
    assert_eq!(parquet_from_body(body().as_bytes(), 3, &mut file).unwrap(), 14);
    let mut stored = tempfile::tempfile().unwrap();
    std::io::Write::write_all(&mut stored, &file).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(stored)
        .unwrap()
        .build()
        .unwrap();
    let read: Vec<RecordBatch> = reader.collect::<Result<_, _>>().unwrap();
    assert!(read.iter().all(|b| b.schema() == schema()));
    let got: Vec<Row> = read.iter().flat_map(rows).collect();
    assert_eq!(got, expected());
    let decimals: Vec<Decimal> = got.iter().map(|r| Decimal::new(r.3, r.4)).collect();
    let sent: Vec<Decimal> = DECIMALS
        .iter()
        .chain(&DECIMALS)
        .map(|&(s, e)| Decimal::new(s, e))
        .collect();
    assert_eq!(decimals, sent);
    for (read, sent) in decimals.iter().zip(&sent) {
        assert_eq!(
            (read.significand(), read.exponent()),
            (sent.significand(), sent.exponent())
        );
    }
}
