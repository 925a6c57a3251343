//! CSV as the document describes it and the simulator plays it: wide, one row per
//! timestamp with a column per signal (`timestamp;Velocity;Depth;Temperature`), so rows
//! decode into a row type of the caller's, and the crate's one-value `Record` is refused
//! before anything is sent.

use futures::TryStreamExt;
use jiff::Timestamp;
use jiff::civil::date;
use preventos_client::prelude::Streamable;
use preventos_client::{Client, CsvPreset, CsvRow, Error, Export, Format, RawRecord, Record, ValuesQuery};
use sandbox::preventos::{Config, Sandbox};

/// A row of the site's three signals; Temperature (PT10M) is empty on most rows.
#[derive(Debug, Clone, PartialEq, preventos_client::serde::Deserialize)]
#[serde(crate = "preventos_client::serde")]
struct Row {
    timestamp: Timestamp,
    #[serde(rename = "Velocity")]
    velocity: Option<f64>,
    #[serde(rename = "Depth")]
    depth: Option<f64>,
    #[serde(rename = "Temperature")]
    temperature: Option<f64>,
}

const SIGNALS: [&str; 3] = ["Velocity", "Depth", "Temperature"];

fn client(sim: &Sandbox) -> Client {
    Client::from_vars(sandbox::env_lookup(&sim.env_vars())).unwrap()
}

fn finnish_day(client: &Client) -> ValuesQuery {
    client
        .site_values("100", "site-ref", SIGNALS)
        .date(date(2026, 5, 31))
        .time_zone("Europe/Helsinki")
        .format(Format::Csv)
        .csv_preset(CsvPreset::Finnish)
}

/// The value of `signal` at `at` among one-value records.
fn value_of(records: &[Record], signal: &str, at: Timestamp) -> Option<f64> {
    records
        .iter()
        .find(|r| r.signal_id == signal && r.timestamp == at)
        .and_then(|r| r.value)
}

/// Every record a values request or an export streams.
async fn one_value_records(read: impl Streamable<Item = Record, Error = Error>) -> Vec<Record> {
    read.stream().try_collect().await.unwrap()
}

/// Every row holds the values the NDJSON records of the same day hold, an empty field
/// where a signal has none.
fn assert_rows_match(rows: &[Row], records: &[Record]) {
    assert_eq!(rows.len(), 1440);
    for row in rows {
        assert_eq!(row.velocity, value_of(records, "Velocity", row.timestamp));
        assert_eq!(row.depth, value_of(records, "Depth", row.timestamp));
        assert_eq!(row.temperature, value_of(records, "Temperature", row.timestamp));
    }
}

/// Asserts `err` is the refusal that points to the ways of reading wide rows.
fn assert_refused(err: &Error, text_terminal: &str) {
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    let text = err.to_string();
    for hint in ["timestamp;Velocity;Depth", "records::<Row>()", text_terminal] {
        assert!(text.contains(hint), "{hint} in {text}");
    }
}

#[tokio::test]
async fn wide_rows_decode_into_a_row_type_of_your_own() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = client(&sim);
    let request = finnish_day(&client);
    let records = one_value_records(request.clone().format(Format::Ndjson)).await;

    let rows: Vec<Row> = request
        .clone()
        .records::<Row>()
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_rows_match(&rows, &records);
    assert_eq!(rows[0].timestamp.to_string(), "2026-05-30T21:00:00Z");
    assert!(rows[0].temperature.is_some() && rows[1].temperature.is_none());

    let page = request.clone().records::<Row>().send().await.unwrap();
    assert_eq!(page.items, rows);
    assert!(page.meta.is_empty() && page.next.is_none());

    // The same rows as text, decimal commas as sent.
    let text: Vec<CsvRow> = request.csv_rows().try_collect().await.unwrap();
    assert_eq!(text.len(), rows.len());
    assert_eq!(
        text[0].header(),
        ["timestamp", "Velocity", "Depth", "Temperature"]
    );
    assert_eq!(text[1].get("Temperature"), Some(""));
    let velocity = text[0].get_f64("Velocity").unwrap().unwrap();
    assert_eq!(Some(velocity), rows[0].velocity);
}

#[tokio::test]
async fn a_one_value_record_is_refused_for_csv_before_sending() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = client(&sim);
    let request = finnish_day(&client);

    let err = request.clone().send().await.unwrap_err();
    assert_refused(&err, "csv_rows()");
    let err = request.clone().stream().try_next().await.unwrap_err();
    assert_refused(&err, "csv_rows()");
    let err = request.clone().records::<RawRecord>().send().await.unwrap_err();
    assert_refused(&err, "csv_rows()");
    let export: Export = client
        .export("100", "site-ref", SIGNALS)
        .date(date(2026, 5, 31))
        .format(Format::Csv);
    let err = export.stream().try_next().await.unwrap_err();
    assert_refused(&err, "write_to");
    assert_eq!(sim.requests() + sim.token_requests(), 0, "nothing was sent");

    // Only decoding is refused: the request itself is valid, and its body is stored.
    assert_eq!(request.to_request().unwrap().query_value("format"), Some("csv"));
    let mut body = Vec::new();
    let written = request.copy_to(&mut body).await.unwrap();
    assert_eq!(written.records, 1440);
}

#[tokio::test]
async fn an_export_of_several_windows_streams_wide_rows() {
    // Three DB queries at PT1M within 2,160 points: windows of 719 minutes.
    let sim = Sandbox::start(Config::default().with_budget(2160)).await.unwrap();
    let client = client(&sim);
    let export = client
        .export("100", "site-ref", SIGNALS)
        .date(date(2026, 5, 31))
        .time_zone("Europe/Helsinki")
        .format(Format::Csv)
        .csv_preset(CsvPreset::Finnish);
    let records = one_value_records(export.clone().format(Format::Ndjson)).await;
    let windows: Vec<_> = export.records::<Row>().pages().try_collect().await.unwrap();
    assert_eq!(windows.len(), 3);
    let rows: Vec<Row> = windows.into_iter().flat_map(|w| w.items).collect();
    assert_rows_match(&rows, &records);
}
