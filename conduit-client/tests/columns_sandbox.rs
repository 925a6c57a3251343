//! A day of datapoints read from the sandbox as `RawDatapoint`s, stored as NDJSON lines
//! (as `conduit-export` stores them), turned into Parquet (feature `parquet`) and read
//! back: a row per line, every typed attribute equal to the line decoded as a
//! `Datapoint`, and a `dev_chid` sent as text kept in `extra`.
#![cfg(feature = "parquet")]

use conduit_client::columns::arrow_array::cast::AsArray;
use conduit_client::columns::arrow_array::types::{
    Float64Type, Int32Type, Int64Type, TimestampMicrosecondType,
};
use conduit_client::columns::arrow_array::{Array, RecordBatch};
use conduit_client::columns::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use conduit_client::columns::{parquet_from_stored, schema};
use conduit_client::{Client, Datapoint, RawDatapoint, Tier};
use futures::TryStreamExt;
use jiff::Timestamp;
use sandbox::conduit::{Config, Readings, Sandbox};
use secrecy::SecretString;

/// 2026-01-01T00:00:00Z.
const START: i64 = 1_767_225_600;

/// val_date µs, dev_netid, dev_chid, val_raw, val_calibrated, dev_site, extra.
type Row = (
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<f64>,
    Option<f64>,
    Option<String>,
    Option<serde_json::Value>,
);

fn rows(batch: &RecordBatch) -> Vec<Row> {
    let schema = schema();
    let column = |name: &str| batch.column(schema.index_of(name).unwrap()).clone();
    let dictionary = |name: &str, i: usize| {
        let column = column(name);
        let column = column.as_dictionary::<Int32Type>();
        column.is_valid(i).then(|| {
            column
                .values()
                .as_string::<i32>()
                .value(column.keys().value(i) as usize)
                .to_owned()
        })
    };
    let float = |name: &str, i: usize| {
        let column = column(name);
        let column = column.as_primitive::<Float64Type>();
        column.is_valid(i).then(|| column.value(i))
    };
    let at = column("val_date");
    let at = at.as_primitive::<TimestampMicrosecondType>();
    let chid = column("dev_chid");
    let chid = chid.as_primitive::<Int64Type>();
    let extra = column("extra");
    let extra = extra.as_string::<i32>();
    (0..batch.num_rows())
        .map(|i| {
            (
                at.is_valid(i).then(|| at.value(i)),
                dictionary("dev_netid", i),
                chid.is_valid(i).then(|| chid.value(i)),
                float("val_raw", i),
                float("val_calibrated", i),
                dictionary("dev_site", i),
                extra
                    .is_valid(i)
                    .then(|| serde_json::from_str(extra.value(i)).unwrap()),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_of_stored_lines_becomes_parquet_with_every_value() {
    for chid_as_text in [false, true] {
        let readings = Readings::default().with_chid_as_text(chid_as_text);
        let sim = Sandbox::start(Config::default().with_readings(readings))
            .await
            .unwrap();
        let client = Client::builder()
            .base_url(sim.base_url())
            .token(SecretString::from(sim.token().to_owned()))
            .tier(Tier::Unlimited)
            .build()
            .unwrap();
        let points: Vec<RawDatapoint> = client
            .datapoints()
            .range(
                Timestamp::from_second(START).unwrap(),
                Timestamp::from_second(START + 86_400).unwrap(),
            )
            .records::<RawDatapoint>()
            .stream()
            .try_collect()
            .await
            .unwrap();
        assert!(points.len() > 5_000, "{}", points.len());
        let mut lines = Vec::new();
        for point in &points {
            lines.extend_from_slice(point.as_str().as_bytes());
            lines.push(b'\n');
        }
        let mut file = Vec::new();
        let written = parquet_from_stored(&lines, 4096, &mut file).unwrap();
        assert_eq!(written as usize, points.len());
        let read: Vec<RecordBatch> =
            ParquetRecordBatchReaderBuilder::try_new(conduit_client::client_core::bytes::Bytes::from(file))
                .unwrap()
                .build()
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
        let got: Vec<Row> = read.iter().flat_map(rows).collect();
        assert_eq!(got.len(), points.len());
        let mut chid_in_extra = 0;
        for (row, point) in got.iter().zip(&points) {
            let typed: Datapoint = point.decode().unwrap();
            let want = (
                typed.val_date.map(|at| at.as_microsecond()),
                typed.dev_netid.clone(),
                typed.dev_chid,
                typed.val_raw,
                typed.val_calibrated,
                typed.dev_site.clone(),
            );
            assert_eq!(
                (row.0, row.1.clone(), row.2, row.3, row.4, row.5.clone()),
                want,
                "{}",
                point.as_str()
            );
            let sent: serde_json::Value = serde_json::from_str(point.as_str()).unwrap();
            if let Some(extra) = &row.6 {
                for (name, value) in extra.as_object().unwrap() {
                    assert_eq!(&sent[name], value, "{name} kept as sent");
                }
                chid_in_extra += usize::from(extra.get("dev_chid").is_some());
            }
        }
        if chid_as_text {
            assert!(chid_in_extra > 0, "a dev_chid sent as text is kept as sent");
        } else {
            assert_eq!(chid_in_extra, 0);
        }
    }
}
