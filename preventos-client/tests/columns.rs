//! Values records as Arrow batches and Parquet files (features `arrow` and `parquet`):
//! the schema, batch sizes, the exact text of numbers an `f64` cannot hold, the extra
//! members, and every value read back from Parquet.
#![cfg(feature = "arrow")]

use preventos_client::columns::arrow_array::cast::AsArray;
use preventos_client::columns::arrow_array::types::{Float64Type, Int32Type, TimestampNanosecondType};
use preventos_client::columns::arrow_array::{Array, RecordBatch};
use preventos_client::columns::arrow_schema::{DataType, TimeUnit};
use preventos_client::columns::{Columnar, batches, batches_from_stored, schema};
use preventos_client::{CsvPreset, Format, RawRecord, Record};

/// One row as plain values: nanoseconds, signal, value, value_text, extra.
type Row = (i64, String, Option<f64>, Option<String>, Option<String>);

fn rows(batch: &RecordBatch) -> Vec<Row> {
    let at = batch.column(0).as_primitive::<TimestampNanosecondType>();
    let signal = batch.column(1).as_dictionary::<Int32Type>();
    let names = signal.values().as_string::<i32>();
    let value = batch.column(2).as_primitive::<Float64Type>();
    let text = batch.column(3).as_string::<i32>();
    let extra = batch.column(4).as_string::<i32>();
    (0..batch.num_rows())
        .map(|i| {
            (
                at.value(i),
                names.value(signal.keys().value(i) as usize).to_owned(),
                value.is_valid(i).then(|| value.value(i)),
                text.is_valid(i).then(|| text.value(i).to_owned()),
                extra.is_valid(i).then(|| extra.value(i).to_owned()),
            )
        })
        .collect()
}

const NDJSON: &str = concat!(
    r#"{"timestamp":"2026-05-31T00:00:00+03:00","signalId":"Velocity","value":0.420}"#,
    "\n",
    r#"{"timestamp":"2026-05-31T00:00:00.000000001+03:00","signalId":"Depth","value":0.1000000000000000055511151231257827}"#,
    "\n",
    r#"{ "value" : 9007199254740993, "signalId" : "Velocity", "quality" : 3, "timestamp" : "2026-05-30T21:00:01Z", "note":{"a":[1.50]} }"#,
    "\n",
    r#"{"timestamp":"2026-05-30T21:00:02Z","signalId":"Depth","value":1e400}"#,
    "\n",
    r#"{"timestamp":"2026-05-30T21:00:03Z","signalId":"Depth","value":-0}"#,
    "\n",
    r#"{"timestamp":"2026-05-30T21:00:04Z","signalId":"Velocity","value":null}"#,
    "\n",
    r#"{"timestamp":"2026-05-30T21:00:05Z","signalId":"Velocity","value":"12.5"}"#,
    "\n",
);

const T0: i64 = 1_780_174_800_000_000_000; // 2026-05-30T21:00:00Z

fn expected() -> Vec<Row> {
    let s = |t: &str| Some(t.to_owned());
    vec![
        (T0, "Velocity".into(), Some(0.42), None, None),
        (
            T0 + 1,
            "Depth".into(),
            Some(0.1),
            s("0.1000000000000000055511151231257827"),
            None,
        ),
        (
            T0 + 1_000_000_000,
            "Velocity".into(),
            Some(9007199254740992.0),
            s("9007199254740993"),
            s(r#"{"quality":3,"note":{"a":[1.50]}}"#),
        ),
        (
            T0 + 2_000_000_000,
            "Depth".into(),
            Some(f64::INFINITY),
            s("1e400"),
            None,
        ),
        (T0 + 3_000_000_000, "Depth".into(), Some(-0.0), None, None),
        (T0 + 4_000_000_000, "Velocity".into(), None, None, None),
        (
            T0 + 5_000_000_000,
            "Velocity".into(),
            Some(12.5),
            s("\"12.5\""),
            None,
        ),
    ]
}

fn raw_records() -> Vec<RawRecord> {
    NDJSON
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn the_schema_is_the_documented_one() {
    let schema = schema();
    let types: Vec<(&str, &DataType, bool)> = schema
        .fields()
        .iter()
        .map(|f| (f.name().as_str(), f.data_type(), f.is_nullable()))
        .collect();
    let dictionary = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    assert_eq!(
        types,
        [
            (
                "timestamp",
                &DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
                false
            ),
            ("signal_id", &dictionary, false),
            ("value", &DataType::Float64, true),
            ("value_text", &DataType::Utf8, true),
            ("extra", &DataType::Utf8, true),
        ]
    );
    assert_eq!(<RawRecord as Columnar>::batch_builder().schema_of(), schema);
}

/// The builder's schema, through the trait.
trait SchemaOf {
    fn schema_of(&self) -> preventos_client::columns::arrow_schema::SchemaRef;
}

impl<B: preventos_client::columns::BatchBuilder<RawRecord>> SchemaOf for B {
    fn schema_of(&self) -> preventos_client::columns::arrow_schema::SchemaRef {
        self.schema()
    }
}

#[test]
fn raw_records_become_batches_with_exact_text_and_extra_members() {
    let all: Vec<RecordBatch> = batches(raw_records().into_iter().map(Ok::<_, preventos_client::Error>), 3)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        all.iter().map(RecordBatch::num_rows).collect::<Vec<_>>(),
        [3, 3, 1]
    );
    for batch in &all {
        assert_eq!(batch.schema(), schema());
        let at = batch.column(0).as_primitive::<TimestampNanosecondType>();
        assert_eq!(at.timezone(), Some("UTC"));
    }
    let got: Vec<Row> = all.iter().flat_map(rows).collect();
    assert_eq!(got, expected());
    assert!(got[4].2.unwrap().is_sign_negative(), "-0 keeps its sign");
}

#[test]
fn typed_records_have_the_same_columns_without_text() {
    let records: Vec<Record> = raw_records()[..3].iter().map(|r| r.decode().unwrap()).collect();
    let all: Vec<RecordBatch> = batches(records.into_iter().map(Ok::<_, preventos_client::Error>), 2)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(all.iter().map(RecordBatch::num_rows).collect::<Vec<_>>(), [2, 1]);
    let got: Vec<Row> = all.iter().flat_map(rows).collect();
    assert_eq!(got[1].2, Some(0.1));
    assert_eq!(got[1].3, None, "a typed record holds the f64 only");
    // serde_json's map is ordered by name.
    assert_eq!(got[2].4.as_deref(), Some(r#"{"note":{"a":[1.5]},"quality":3}"#));
}

#[test]
fn stored_files_in_every_format_give_the_same_rows() {
    let ndjson: Vec<Row> = batches_from_stored(NDJSON.as_bytes(), Format::Ndjson, None, 2)
        .map(|b| b.map(|b| rows(&b)))
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
        .concat();
    assert_eq!(ndjson, expected());
    let elements: Vec<&str> = NDJSON.lines().collect();
    let json = format!(
        "{{\"meta\":{{\"tzi\":\"Europe/Helsinki\"}},\"values\":[{}]}}",
        elements.join(",")
    );
    let bare = format!("\u{feff}[{}]", elements.join(",\n"));
    for document in [json, bare] {
        let sizes: Vec<usize> = batches_from_stored(document.as_bytes(), Format::Json, None, 4)
            .map(|b| b.unwrap().num_rows())
            .collect();
        assert_eq!(sizes, [4, 3]);
        let all: Vec<Row> = batches_from_stored(document.as_bytes(), Format::Json, None, 4)
            .map(|b| rows(&b.unwrap()))
            .collect::<Vec<_>>()
            .concat();
        assert_eq!(all, expected(), "{document}");
    }
}

#[test]
fn wide_csv_rows_become_a_value_per_cell() {
    let csv = "timestamp;Velocity;Depth\n\
               2026-05-31T00:00:00+03:00;0,42;0,1000000000000000055511151231257827\n\
               2026-05-30T21:00:01Z;;n/a\n";
    let got: Vec<Row> = batches_from_stored(csv.as_bytes(), Format::Csv, Some(&CsvPreset::Finnish), 2)
        .map(|b| rows(&b.unwrap()))
        .collect::<Vec<_>>()
        .concat();
    let s = |t: &str| Some(t.to_owned());
    assert_eq!(
        got,
        [
            (T0, "Velocity".into(), Some(0.42), None, None),
            (
                T0,
                "Depth".into(),
                Some(0.1),
                s("0,1000000000000000055511151231257827"),
                None
            ),
            (T0 + 1_000_000_000, "Depth".into(), None, s("n/a"), None),
        ]
    );
    let bad = "timestamp,V\nyesterday,1\n";
    let mut out = batches_from_stored(bad.as_bytes(), Format::Csv, None, 2);
    assert!(out.next().unwrap().is_err());
    assert!(out.next().is_none());
}

#[test]
fn a_record_that_does_not_decode_is_an_error_not_a_skip() {
    let cut = &NDJSON[..NDJSON.len() - 10];
    let results: Vec<_> = batches_from_stored(cut.as_bytes(), Format::Ndjson, None, 100).collect();
    assert_eq!(results.len(), 1);
    assert!(results[0].is_err());
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_files_hold_every_value_of_the_stored_file() {
    use preventos_client::columns::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use preventos_client::columns::parquet_from_stored;

    let mut file = Vec::new();
    let written = parquet_from_stored(NDJSON.as_bytes(), Format::Ndjson, None, 3, &mut file).unwrap();
    assert_eq!(written, 7);
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(file))
        .unwrap()
        .with_batch_size(1024)
        .build()
        .unwrap();
    let read: Vec<RecordBatch> = reader.collect::<Result<_, _>>().unwrap();
    for batch in &read {
        assert_eq!(batch.schema(), schema(), "dictionary and UTC come back");
    }
    let got: Vec<Row> = read.iter().flat_map(rows).collect();
    assert_eq!(got, expected());

    // An empty day is a file with the schema and no rows.
    let mut empty = Vec::new();
    assert_eq!(
        parquet_from_stored(b"", Format::Ndjson, None, 3, &mut empty).unwrap(),
        0
    );
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(empty)).unwrap();
    assert_eq!(reader.schema().as_ref(), schema().as_ref());
}
