//! A day stored by the export on the sandbox, under several readings and in every
//! format, turned into Parquet (feature `parquet`) and read back: one row per record
//! (per non-empty cell for CSV), each instant, signal, value and extra member as the
//! stored file holds it.
#![cfg(feature = "parquet")]

use jiff::Timestamp;
use jiff::civil::date;
use preventos_client::columns::arrow_array::cast::AsArray;
use preventos_client::columns::arrow_array::types::{Float64Type, Int32Type, TimestampNanosecondType};
use preventos_client::columns::arrow_array::{Array, RecordBatch};
use preventos_client::columns::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use preventos_client::columns::parquet_from_stored;
use preventos_client::{Client, CsvPreset, Format};
use sandbox::preventos::{Config, NumberStyle, Readings, Sandbox, TimestampStyle};
use serde_json::Value;

const SIGNALS: [&str; 3] = ["Velocity", "Depth", "Temperature"];

/// nanoseconds, signal, value, value_text, extra (parsed).
type Row = (i64, String, Option<f64>, Option<String>, Option<Value>);

fn read_back(file: Vec<u8>) -> Vec<Row> {
    let reader =
        ParquetRecordBatchReaderBuilder::try_new(preventos_client::client_core::bytes::Bytes::from(file))
            .unwrap()
            .build()
            .unwrap();
    let batches: Vec<RecordBatch> = reader.collect::<Result<_, _>>().unwrap();
    let mut rows = Vec::new();
    for batch in &batches {
        let at = batch.column(0).as_primitive::<TimestampNanosecondType>();
        let signal = batch.column(1).as_dictionary::<Int32Type>();
        let names = signal.values().as_string::<i32>();
        let value = batch.column(2).as_primitive::<Float64Type>();
        let text = batch.column(3).as_string::<i32>();
        let extra = batch.column(4).as_string::<i32>();
        for i in 0..batch.num_rows() {
            rows.push((
                at.value(i),
                names.value(signal.keys().value(i) as usize).to_owned(),
                value.is_valid(i).then(|| value.value(i)),
                text.is_valid(i).then(|| text.value(i).to_owned()),
                extra
                    .is_valid(i)
                    .then(|| serde_json::from_str(extra.value(i)).unwrap()),
            ));
        }
    }
    rows
}

fn nanos(text: &str) -> i64 {
    text.parse::<Timestamp>().unwrap().as_nanosecond() as i64
}

/// The rows the stored file holds, read here without the SDK: JSON records with
/// serde_json, CSV cells by splitting the (unquoted) sandbox lines.
fn expected(stored: &[u8], format: Format, finnish: bool) -> Vec<Row> {
    let record = |record: &Value| {
        let mut members = record.as_object().unwrap().clone();
        let at = nanos(members.remove("timestamp").unwrap().as_str().unwrap());
        let signal = members.remove("signalId").unwrap().as_str().unwrap().to_owned();
        let value = members.remove("value").and_then(|v| v.as_f64());
        let extra = (!members.is_empty()).then_some(Value::Object(members));
        (at, signal, value, None, extra)
    };
    let text = std::str::from_utf8(stored).unwrap();
    match format {
        Format::Ndjson => text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| record(&serde_json::from_str(l).unwrap()))
            .collect(),
        Format::Json => {
            let document: Value = serde_json::from_str(text).unwrap();
            let values = document.get("values").unwrap_or(&document);
            values.as_array().unwrap().iter().map(record).collect()
        }
        Format::Csv => {
            let delimiter = if finnish { ';' } else { ',' };
            let mut lines = text.lines();
            let header: Vec<&str> = lines.next().unwrap().split(delimiter).collect();
            let mut rows = Vec::new();
            for line in lines.filter(|l| !l.is_empty()) {
                let cells: Vec<&str> = line.split(delimiter).collect();
                let at = nanos(cells[0]);
                for (name, cell) in header[1..].iter().zip(&cells[1..]) {
                    if cell.is_empty() {
                        continue;
                    }
                    let value: f64 = cell.replace(',', ".").parse().unwrap();
                    rows.push((at, (*name).to_owned(), Some(value), None, None));
                }
            }
            rows
        }
        _ => unreachable!(),
    }
}

#[tokio::test]
async fn stored_days_become_parquet_with_every_value() {
    let mut extra = Readings::default();
    extra.extra_fields = true;
    extra.numbers = NumberStyle::TrailingZeros;
    extra.timestamps = TimestampStyle::UtcFraction;
    let mut by_signal = Readings::default();
    by_signal.signal_major = true;
    by_signal.numbers = NumberStyle::Exponent;
    by_signal.json_bare = true;
    by_signal.crlf_unterminated = true;
    let cases = [
        (Readings::default(), Format::Ndjson, None),
        (extra, Format::Ndjson, None),
        (by_signal, Format::Ndjson, None),
        (extra, Format::Json, None),
        (by_signal, Format::Json, None),
        (Readings::default(), Format::Csv, Some("finnish")),
        (by_signal, Format::Csv, None),
    ];
    for (readings, format, preset) in cases {
        let what = format!("{format:?} {preset:?} {readings:?}");
        let sim = Sandbox::start(Config::default().with_readings(readings).with_budget(2_000))
            .await
            .unwrap();
        let client = Client::from_vars(sandbox::env_lookup(&sim.env_vars())).unwrap();
        let mut export = client
            .export("100", "site-ref", SIGNALS)
            .date(date(2026, 5, 31))
            .time_zone("Europe/Helsinki")
            .format(format);
        let preset = preset.map(CsvPreset::parse);
        if let Some(preset) = &preset {
            export = export.csv_preset(preset.clone());
        }
        let mut stored = Vec::new();
        let summary = export.copy_to(&mut stored).await.unwrap();
        assert!(summary.requests > 1, "{what}: several windows");
        let mut file = Vec::new();
        let rows = parquet_from_stored(&stored, format, preset.as_ref(), 1000, &mut file).unwrap();
        let got = read_back(file);
        let want = expected(&stored, format, preset.is_some());
        assert_eq!(rows as usize, want.len(), "{what}");
        assert!(want.len() > 1000, "{what}: more rows than a batch");
        assert_eq!(got, want, "{what}");
        assert_eq!(
            got.iter().any(|r| r.4.is_some()),
            readings.extra_fields && format != Format::Csv,
            "{what}"
        );
    }
}
