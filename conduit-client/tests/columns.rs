//! Datapoints as Arrow batches and Parquet files (features `arrow` and `parquet`): the
//! schema, batch sizes, the exact text of numbers an `f64` cannot hold, attributes kept
//! in `extra`, and every value read back from Parquet.
#![cfg(feature = "arrow")]

use conduit_client::columns::arrow_array::cast::AsArray;
use conduit_client::columns::arrow_array::types::{
    Float64Type, Int32Type, Int64Type, TimestampMicrosecondType,
};
use conduit_client::columns::arrow_array::{Array, RecordBatch};
use conduit_client::columns::arrow_schema::{DataType, TimeUnit};
use conduit_client::columns::{batches, batches_from_stored, schema};
use conduit_client::{Datapoint, RawDatapoint};

const LINES: &str = concat!(
    r#"{"val_date":1614054737,"dev_netid":"70B3D54990DC01DA","dev_chid":1,"val_raw":4.10,"val_calibrated":0.1000000000000000055511151231257827,"dev_site":"Site A","val_description":"Battery"}"#,
    "\n",
    r#"{"val_date":"1614054738","dev_netid":12345,"dev_chid":"2","val_raw":9007199254740993,"new_attribute":{"x":1.50},"dev_error":0}"#,
    "\n",
    r#"{"dev_netid":"70B3D54990DC01DA","val_raw":"n/a","val_calibrated":1e400,"dev_site":7,"loc_lat":-0,"loc_lng":60.1699}"#,
    "\n",
);

/// One row: val_date µs, netid, chid, val_raw, val_raw_text, val_calibrated,
/// val_calibrated_text, dev_site, extra.
type Row = (
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<f64>,
    Option<String>,
    Option<f64>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn index(name: &str) -> usize {
    schema().index_of(name).unwrap()
}

fn dictionary(batch: &RecordBatch, name: &str, i: usize) -> Option<String> {
    let column = batch.column(index(name)).as_dictionary::<Int32Type>();
    column.is_valid(i).then(|| {
        column
            .values()
            .as_string::<i32>()
            .value(column.keys().value(i) as usize)
            .to_owned()
    })
}

fn float(batch: &RecordBatch, name: &str, i: usize) -> Option<f64> {
    let column = batch.column(index(name)).as_primitive::<Float64Type>();
    column.is_valid(i).then(|| column.value(i))
}

fn text(batch: &RecordBatch, name: &str, i: usize) -> Option<String> {
    let column = batch.column(index(name)).as_string::<i32>();
    column.is_valid(i).then(|| column.value(i).to_owned())
}

fn rows(batch: &RecordBatch) -> Vec<Row> {
    let at = batch.column(0).as_primitive::<TimestampMicrosecondType>();
    let chid = batch.column(2).as_primitive::<Int64Type>();
    (0..batch.num_rows())
        .map(|i| {
            (
                at.is_valid(i).then(|| at.value(i)),
                dictionary(batch, "dev_netid", i),
                chid.is_valid(i).then(|| chid.value(i)),
                float(batch, "val_raw", i),
                text(batch, "val_raw_text", i),
                float(batch, "val_calibrated", i),
                text(batch, "val_calibrated_text", i),
                dictionary(batch, "dev_site", i),
                text(batch, "extra", i),
            )
        })
        .collect()
}

fn expected() -> Vec<Row> {
    let s = |t: &str| Some(t.to_owned());
    vec![
        (
            Some(1_614_054_737_000_000),
            s("70B3D54990DC01DA"),
            Some(1),
            Some(4.1),
            None,
            Some(0.1),
            s("0.1000000000000000055511151231257827"),
            s("Site A"),
            None,
        ),
        (
            Some(1_614_054_738_000_000),
            s("12345"),
            Some(2),
            Some(9007199254740992.0),
            s("9007199254740993"),
            None,
            None,
            None,
            s(r#"{"val_date":"1614054738","dev_netid":12345,"dev_chid":"2","new_attribute":{"x":1.50}}"#),
        ),
        (
            None,
            s("70B3D54990DC01DA"),
            None,
            None,
            s("\"n/a\""),
            Some(f64::INFINITY),
            s("1e400"),
            None,
            s(r#"{"dev_site":7}"#),
        ),
    ]
}

#[test]
fn the_schema_has_utc_microseconds_dictionaries_and_text_beside_numbers() {
    let schema = schema();
    let field = |name: &str| schema.field_with_name(name).unwrap().data_type().clone();
    let dictionary = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    assert_eq!(
        field("val_date"),
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
    );
    for id in ["dev_netid", "dev_site", "val_type", "dev_serial"] {
        assert_eq!(field(id), dictionary, "{id}");
    }
    assert_eq!(field("dev_chid"), DataType::Int64);
    for number in [
        "val_raw",
        "val_calibrated",
        "val_cal",
        "val_offset",
        "loc_lat",
        "loc_lng",
    ] {
        assert_eq!(field(number), DataType::Float64);
        assert_eq!(field(&format!("{number}_text")), DataType::Utf8);
    }
    assert_eq!(field("extra"), DataType::Utf8);
    assert!(schema.fields().iter().all(|f| f.is_nullable()));
    assert_eq!(schema.fields().len(), 3 + 6 * 2 + 12 + 2 + 1);
}

#[test]
fn raw_datapoints_become_batches_with_exact_text_and_extra_attributes() {
    let points: Vec<RawDatapoint> = LINES.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let all: Vec<RecordBatch> = batches(points.into_iter().map(Ok::<_, conduit_client::Error>), 2)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(all.iter().map(RecordBatch::num_rows).collect::<Vec<_>>(), [2, 1]);
    assert_eq!(
        all[0]
            .column(0)
            .as_primitive::<TimestampMicrosecondType>()
            .timezone(),
        Some("UTC")
    );
    let got: Vec<Row> = all.iter().flat_map(rows).collect();
    assert_eq!(got, expected());
    let last = &all[1];
    assert_eq!(float(last, "loc_lat", 0).map(f64::is_sign_negative), Some(true));
    assert_eq!(text(last, "loc_lat_text", 0), None, "-0 is held by the f64");
    assert_eq!(float(last, "loc_lng", 0), Some(60.1699));
    assert_eq!(text(&all[0], "val_description", 0).as_deref(), Some("Battery"));
}

#[test]
fn typed_datapoints_share_the_schema() {
    let line = LINES.lines().next().unwrap();
    let point: Datapoint = serde_json::from_str(line).unwrap();
    let batch = batches([Ok::<_, conduit_client::Error>(point)], 10)
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(batch.schema(), schema());
    let row = &rows(&batch)[0];
    assert_eq!(
        (row.0, row.2, row.3, row.5, &row.6),
        (Some(1_614_054_737_000_000), Some(1), Some(4.1), Some(0.1), &None)
    );
}

#[test]
fn a_line_that_does_not_decode_ends_the_batches_with_an_error() {
    let bad = format!("{LINES}[1,2]\n");
    let results: Vec<_> = batches_from_stored(bad.as_bytes(), 2).collect();
    assert_eq!(results.len(), 2);
    assert!(results[0].is_ok() && results[1].is_err());
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_files_hold_every_value_of_the_stored_lines() {
    use conduit_client::columns::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use conduit_client::columns::parquet_from_stored;

    let mut file = Vec::new();
    assert_eq!(parquet_from_stored(LINES.as_bytes(), 2, &mut file).unwrap(), 3);
    let reader =
        ParquetRecordBatchReaderBuilder::try_new(conduit_client::client_core::bytes::Bytes::from(file))
            .unwrap()
            .build()
            .unwrap();
    let read: Vec<RecordBatch> = reader.collect::<Result<_, _>>().unwrap();
    assert!(read.iter().all(|b| b.schema() == schema()));
    let got: Vec<Row> = read.iter().flat_map(rows).collect();
    assert_eq!(got, expected());
    let written: Vec<RecordBatch> = batches_from_stored(LINES.as_bytes(), 3)
        .collect::<Result<_, _>>()
        .unwrap();
    // Every column (NaN-free data): equal to what was written.
    for (i, field) in schema().fields().iter().enumerate() {
        let read_column: Vec<_> = read.iter().map(|b| b.column(i).to_data()).collect();
        assert_eq!(read_column.len(), 1, "{}", field.name());
        assert_eq!(read_column[0], written[0].column(i).to_data(), "{}", field.name());
    }
}
