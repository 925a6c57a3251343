//! Observations as Arrow batches and Parquet files (features `arrow` and `parquet`):
//! the schema, batch sizes, the exact text of numbers an `f64` cannot hold, members kept
//! in `extra`, and every value read back from Parquet.
#![cfg(feature = "arrow")]

use sds_client::columns::arrow_array::cast::AsArray;
use sds_client::columns::arrow_array::types::{Float64Type, TimestampMicrosecondType};
use sds_client::columns::arrow_array::{Array, RecordBatch};
use sds_client::columns::arrow_schema::{DataType, TimeUnit};
use sds_client::columns::{batches, batches_from_stored, schema};
use sds_client::{Observation, RawObservation};

const LINES: &str = concat!(
    r#"{"timestamp":1676415254000,"value":100.0}"#,
    "\n",
    r#"{ "value" : 0.1000000000000000055511151231257827, "timestamp" : 1676415255000, "quality":"good" }"#,
    "\n",
    r#"{"timestamp":1676415256000.0,"value":9007199254740993}"#,
    "\n",
    r#"{"timestamp":1676415257000,"value":"NaN"}"#,
    "\n",
    r#"{"timestamp":1676415258000,"value":1e400,"flags":[1,2]}"#,
    "\n",
    r#"{"timestamp":1676415259000,"value":null}"#,
    "\n",
);

/// One row: µs, value (NaN as its bits), value_text, extra.
type Row = (i64, Option<u64>, Option<String>, Option<String>);

fn rows(batch: &RecordBatch) -> Vec<Row> {
    let at = batch.column(0).as_primitive::<TimestampMicrosecondType>();
    let value = batch.column(1).as_primitive::<Float64Type>();
    let text = batch.column(2).as_string::<i32>();
    let extra = batch.column(3).as_string::<i32>();
    (0..batch.num_rows())
        .map(|i| {
            (
                at.value(i),
                value.is_valid(i).then(|| value.value(i).to_bits()),
                text.is_valid(i).then(|| text.value(i).to_owned()),
                extra.is_valid(i).then(|| extra.value(i).to_owned()),
            )
        })
        .collect()
}

fn expected() -> Vec<Row> {
    let s = |t: &str| Some(t.to_owned());
    let b = |v: f64| Some(v.to_bits());
    const T: i64 = 1_676_415_254_000_000;
    vec![
        (T, b(100.0), None, None),
        (
            T + 1_000_000,
            b(0.1),
            s("0.1000000000000000055511151231257827"),
            s(r#"{"quality":"good"}"#),
        ),
        (
            T + 2_000_000,
            b(9007199254740992.0),
            s("9007199254740993"),
            s(r#"{"timestamp":1676415256000.0}"#),
        ),
        (T + 3_000_000, b(f64::NAN), s("\"NaN\""), None),
        (
            T + 4_000_000,
            b(f64::INFINITY),
            s("1e400"),
            s(r#"{"flags":[1,2]}"#),
        ),
        (T + 5_000_000, None, None, None),
    ]
}

#[test]
fn the_schema_is_the_documented_one() {
    let schema = schema();
    let types: Vec<(&str, &DataType, bool)> = schema
        .fields()
        .iter()
        .map(|f| (f.name().as_str(), f.data_type(), f.is_nullable()))
        .collect();
    assert_eq!(
        types,
        [
            (
                "timestamp",
                &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                false
            ),
            ("value", &DataType::Float64, true),
            ("value_text", &DataType::Utf8, true),
            ("extra", &DataType::Utf8, true),
        ]
    );
}

#[test]
fn raw_observations_become_batches_with_exact_text_and_extra_members() {
    let observations: Vec<RawObservation> = LINES.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let all: Vec<RecordBatch> = batches(observations.into_iter().map(Ok::<_, sds_client::Error>), 4)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(all.iter().map(RecordBatch::num_rows).collect::<Vec<_>>(), [4, 2]);
    assert_eq!(
        all[0]
            .column(0)
            .as_primitive::<TimestampMicrosecondType>()
            .timezone(),
        Some("UTC")
    );
    let got: Vec<Row> = all.iter().flat_map(rows).collect();
    assert_eq!(got, expected());
}

#[test]
fn typed_observations_share_the_schema() {
    let observations: Vec<Observation> = LINES
        .lines()
        .take(2)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let batch = batches(observations.into_iter().map(Ok::<_, sds_client::Error>), 10)
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(batch.schema(), schema());
    let got = rows(&batch);
    assert_eq!(got[1].1, Some(0.1f64.to_bits()));
    assert_eq!(got[1].2, None, "a typed observation holds the f64 only");
    assert_eq!(got[1].3.as_deref(), Some(r#"{"quality":"good"}"#));
}

#[test]
fn a_line_that_does_not_decode_ends_the_batches_with_an_error() {
    let bad = format!("{LINES}{{\"value\":1}}\n");
    let results: Vec<_> = batches_from_stored(bad.as_bytes(), 100).collect();
    assert_eq!(results.len(), 1);
    assert!(results[0].is_err());
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_files_hold_every_value_of_the_stored_lines() {
    use sds_client::client_core::bytes::Bytes;
    use sds_client::columns::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use sds_client::columns::parquet_from_stored;

    let mut file = Vec::new();
    assert_eq!(parquet_from_stored(LINES.as_bytes(), 4, &mut file).unwrap(), 6);
    let reader = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(file))
        .unwrap()
        .build()
        .unwrap();
    let read: Vec<RecordBatch> = reader.collect::<Result<_, _>>().unwrap();
    assert!(read.iter().all(|b| b.schema() == schema()));
    let got: Vec<Row> = read.iter().flat_map(rows).collect();
    assert_eq!(got, expected());
}

/// Data-query lines of both stored shapes.
const DATA_LINES: &str = concat!(
    r#"{"timestamp":"2025-01-01T00:00:00Z","values":{"T":4.20,"f":0.1000000000000000055511151231257827}}"#,
    "\n",
    r#"{"timestamp":"2025-01-01T00:01:00.500+02:00","value":1e400,"note":"x"}"#,
    "\n",
    r#"{"timestamp":"2025-01-01T00:02:00Z","value":"high"}"#,
    "\n",
);

/// One data row: ns, metric, value, value_text, extra.
type DataRow = (i64, Option<String>, Option<f64>, Option<String>, Option<String>);

fn data_rows(batch: &RecordBatch) -> Vec<DataRow> {
    use sds_client::columns::arrow_array::types::{Int32Type, TimestampNanosecondType};
    let at = batch.column(0).as_primitive::<TimestampNanosecondType>();
    let metric = batch.column(1).as_dictionary::<Int32Type>();
    let value = batch.column(2).as_primitive::<Float64Type>();
    let text = batch.column(3).as_string::<i32>();
    let extra = batch.column(4).as_string::<i32>();
    (0..batch.num_rows())
        .map(|i| {
            (
                at.value(i),
                metric.is_valid(i).then(|| {
                    metric
                        .values()
                        .as_string::<i32>()
                        .value(metric.keys().value(i) as usize)
                        .to_owned()
                }),
                value.is_valid(i).then(|| value.value(i)),
                text.is_valid(i).then(|| text.value(i).to_owned()),
                extra.is_valid(i).then(|| extra.value(i).to_owned()),
            )
        })
        .collect()
}

fn data_expected() -> Vec<DataRow> {
    const T: i64 = 1_735_689_600_000_000_000;
    let s = |t: &str| Some(t.to_owned());
    vec![
        (T, s("T"), Some(4.2), None, None),
        (
            T,
            s("f"),
            Some(0.1),
            s("0.1000000000000000055511151231257827"),
            None,
        ),
        (
            T + 60_500_000_000 - 7_200_000_000_000,
            None,
            Some(f64::INFINITY),
            s("1e400"),
            s(r#"{"note":"x"}"#),
        ),
        (T + 120_000_000_000, None, None, s("\"high\""), None),
    ]
}

#[test]
fn data_query_lines_become_a_row_per_value() {
    use sds_client::columns::{batches_from_stored_data, data_schema};

    let schema = data_schema();
    assert_eq!(
        schema.field(0).data_type(),
        &DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
    );
    assert_eq!(
        schema.field(1).data_type(),
        &DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
    );
    let all: Vec<RecordBatch> = batches_from_stored_data(DATA_LINES.as_bytes(), 3)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(all.iter().map(RecordBatch::num_rows).collect::<Vec<_>>(), [3, 1]);
    let got: Vec<DataRow> = all.iter().flat_map(data_rows).collect();
    assert_eq!(got, data_expected());
    let bad: Vec<_> = batches_from_stored_data(b"{\"timestamp\":\"2025-01-01T00:00:00Z\"}\n", 3).collect();
    assert!(bad.len() == 1 && bad[0].is_err());
}

#[cfg(feature = "parquet")]
#[test]
fn data_query_lines_round_trip_through_parquet() {
    use sds_client::client_core::bytes::Bytes;
    use sds_client::columns::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use sds_client::columns::{data_schema, parquet_from_stored_data};

    let mut file = Vec::new();
    assert_eq!(
        parquet_from_stored_data(DATA_LINES.as_bytes(), 2, &mut file).unwrap(),
        4
    );
    let read: Vec<RecordBatch> = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(file))
        .unwrap()
        .build()
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(read.iter().all(|b| b.schema() == data_schema()));
    let got: Vec<DataRow> = read.iter().flat_map(data_rows).collect();
    assert_eq!(got, data_expected());
}
