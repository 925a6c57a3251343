//! `--parquet` of the export programs: the Parquet file beside each stored file holds
//! what the client crate's columns make of the stored bytes, row for row; a missing one
//! is made again from the store without a request.

mod daily_common;

use std::path::Path;

use arrow_array::RecordBatch;
use daily_common::{daemon, output};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use preventos_client::{CsvPreset, Format};
use sandbox::preventos::{Config, Sandbox};

/// Two items: CSV with the Finnish preset, and NDJSON.
const PLAN: &str = r#"[
  {"name": "ref", "env": "100", "siteId": "site-ref", "signalIds": ["Velocity", "Depth"],
   "timezone": "Europe/Helsinki", "format": "csv", "csvPreset": "finnish"},
  {"name": "south", "env": "102", "siteId": "site-south", "signalIds": ["Velocity"],
   "timezone": "UTC", "format": "ndjson"}
]"#;

fn read_parquet(path: &Path) -> Vec<RecordBatch> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// One cell as text: a dictionary's cell by its value (batches cut elsewhere have other
/// dictionaries), any other by its one-row slice.
fn cell(column: &dyn arrow_array::Array, row: usize) -> String {
    use arrow_array::cast::AsArray;
    match column.as_any_dictionary_opt() {
        Some(dictionary) if dictionary.is_valid(row) => {
            let key = dictionary.normalized_keys()[row];
            format!("{:?}", dictionary.values().slice(key, 1))
        }
        _ => format!("{:?}", column.slice(row, 1)),
    }
}

/// The batches' rows, one string per row and column, to compare however they are cut.
fn rows(batches: &[RecordBatch]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for batch in batches {
        for row in 0..batch.num_rows() {
            rows.push(
                batch
                    .columns()
                    .iter()
                    .map(|column| cell(column.as_ref(), row))
                    .collect(),
            );
        }
    }
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_stored_day_gets_its_parquet_file_and_a_missing_one_is_made_without_a_request() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("plan.json"), PLAN).unwrap();
    let args = [
        "--plan",
        "plan.json",
        "--out",
        "out",
        "--date",
        "2026-05-31",
        "--once",
        "--parquet",
    ];
    let run = output(daemon(folder.path(), &args, Some(&sim))).await;
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let days = [
        (
            "ref/2026-05-31.csv",
            Format::Csv,
            Some(CsvPreset::parse("finnish")),
        ),
        ("south/2026-05-31.ndjson", Format::Ndjson, None),
    ];
    for (day, format, preset) in &days {
        let stored = std::fs::read(folder.path().join("out").join(day)).unwrap();
        let expected: Vec<RecordBatch> =
            preventos_client::columns::batches_from_stored(&stored, *format, preset.as_ref(), 1000)
                .map(Result::unwrap)
                .collect();
        let parquet = read_parquet(&folder.path().join("out").join(format!("{day}.parquet")));
        let expected_rows = rows(&expected);
        assert!(expected_rows.len() >= 1440, "{day}: {}", expected_rows.len());
        assert_eq!(rows(&parquet), expected_rows, "{day}");
        assert_eq!(parquet[0].schema(), expected[0].schema(), "{day}");
    }

    // A Parquet file gone (a pass killed before it): the next pass makes it again from
    // the stored day, without asking the API.
    let south = folder.path().join("out/south/2026-05-31.ndjson.parquet");
    let before = std::fs::read(&south).unwrap();
    std::fs::remove_file(&south).unwrap();
    let requests = sim.values_requests();
    let rerun = output(daemon(folder.path(), &args, Some(&sim))).await;
    assert!(
        rerun.status.success(),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    assert_eq!(sim.values_requests(), requests, "no values request");
    assert_eq!(rows(&read_parquet(&south)), rows(&read_parquet_bytes(before)));
}

fn read_parquet_bytes(bytes: Vec<u8>) -> Vec<RecordBatch> {
    ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
        .unwrap()
        .build()
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn conduit_export_writes_its_parquet_file_beside_the_ndjson_and_refuses_csv() {
    let folder = tempfile::tempdir().unwrap();
    let out = folder.path().join("export.ndjson");
    let run = |format: &str| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_conduit-export"));
        command
            .args(["--from", "2026-01-01T00:00:00Z", "--to", "2026-01-02T00:00:00Z"])
            .args(["--min-interval", "0", "--format", format, "--parquet", "--out"])
            .arg(&out)
            .env_remove(conduit_client::env::TOKEN);
        command.output().unwrap()
    };
    let refused = run("csv");
    assert_eq!(
        refused.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let exported = run("ndjson");
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let lines = std::fs::read(&out).unwrap();
    let expected: Vec<RecordBatch> = conduit_client::columns::batches_from_stored(&lines, 1000)
        .map(Result::unwrap)
        .collect();
    let parquet = read_parquet(&folder.path().join("export.ndjson.parquet"));
    assert_eq!(rows(&parquet), rows(&expected));
    assert_eq!(
        rows(&parquet).len(),
        lines.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count()
    );
}
