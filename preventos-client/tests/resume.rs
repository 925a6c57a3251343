//! Kill and resume: an export stopped after any N records and resumed from its last
//! checkpoint (stored as JSON in between), again and again until done, yields exactly
//! the records of the range, once each, in the order of an uninterrupted export and of
//! the one request, under every reading the simulator plays, in every format.

use futures::{StreamExt, TryStreamExt};
use jiff::{SignedDuration, Timestamp};
use preventos_client::{
    Checkpoint, Checkpointed, Client, CsvPreset, CsvRow, Error, Export, Format, Position, RawRecord,
    StoredWindow, TimeBound,
};
use sandbox::preventos::{Config, NumberStyle, Readings, Sandbox, TimestampStyle};

const ZONE: &str = "Europe/Helsinki";
const SIGNALS: [&str; 3] = ["Velocity", "Depth", "Temperature"];
/// 24 points over three DB queries at PT1M: windows of 7 minutes (one interval less
/// for the overlap), five in the half hour below (about 14 NDJSON records, 7 CSV rows).
const BUDGET: u64 = 24;

fn client(sim: &Sandbox) -> Client {
    Client::from_vars(sandbox::env_lookup(&sim.env_vars())).unwrap()
}

fn half_hour() -> (Timestamp, Timestamp) {
    let from: Timestamp = "2026-05-31T06:00:00Z".parse().unwrap();
    (from, from + SignedDuration::from_mins(30))
}

/// A record as text: a JSON record's text as sent, a CSV row's fields.
trait Text {
    fn text(&self) -> String;
}

impl Text for RawRecord {
    fn text(&self) -> String {
        self.as_str().to_owned()
    }
}

impl Text for CsvRow {
    /// The fields as written, with the decimal point a typed row is decoded with.
    fn text(&self) -> String {
        self.fields().join("|").replace(',', ".")
    }
}

/// A CSV row of the three signals, decoded by header name, its fields as text.
#[derive(Debug, preventos_client::serde::Deserialize)]
#[serde(crate = "preventos_client::serde")]
struct Row {
    timestamp: String,
    #[serde(rename = "Velocity")]
    velocity: Option<String>,
    #[serde(rename = "Depth")]
    depth: Option<String>,
    #[serde(rename = "Temperature")]
    temperature: Option<String>,
}

impl Text for Row {
    fn text(&self) -> String {
        let field = |f: &Option<String>| f.clone().unwrap_or_default();
        [
            self.timestamp.clone(),
            field(&self.velocity),
            field(&self.depth),
            field(&self.temperature),
        ]
        .join("|")
    }
}

/// The records of `[from, to)` through the one request of a generous server (asked
/// with a second to spare at both ends, whatever its convention, and trimmed).
async fn truth(readings: Readings, format: Format) -> Vec<String> {
    let sim = Sandbox::start(Config::default().with_readings(readings).with_budget(1_000_000))
        .await
        .unwrap();
    let (from, to) = half_hour();
    let second = SignedDuration::from_secs(1);
    let request = client(&sim)
        .site_values("100", "site-ref", SIGNALS)
        .range(TimeBound::Instant(from - second), TimeBound::Instant(to + second))
        .time_zone(ZONE);
    if format == Format::Csv {
        let rows: Vec<CsvRow> = request
            .csv_preset(CsvPreset::Finnish)
            .csv_rows()
            .try_collect()
            .await
            .unwrap();
        rows.into_iter()
            .filter(|row| {
                let at: Timestamp = row.fields()[0].parse().unwrap();
                from <= at && at < to
            })
            .map(|row| row.text())
            .collect()
    } else {
        let records: Vec<RawRecord> = request
            .format(format)
            .records::<RawRecord>()
            .stream()
            .try_collect()
            .await
            .unwrap();
        records
            .into_iter()
            .filter(|r| from <= r.timestamp() && r.timestamp() < to)
            .map(|r| r.text())
            .collect()
    }
}

/// Takes `n` records with their checkpoints, drops the stream (the kill), stores the
/// last checkpoint as JSON, resumes from it; until the checkpoint says done.
async fn killed_every<T>(export: &Export<T>, n: usize) -> Vec<String>
where
    T: Text + Send + 'static + preventos_client::serde::de::DeserializeOwned,
{
    let mut seen = Vec::new();
    let mut from: Option<Checkpoint> = None;
    for _ in 0..10_000 {
        let mut run = export.clone();
        if let Some(checkpoint) = &from {
            run = run.resume_from(checkpoint.clone());
        }
        let items: Vec<Checkpointed<T>> = run.checkpointed().take(n).try_collect().await.unwrap();
        let Some(last) = items.last() else {
            return seen;
        };
        let stored = serde_json::to_string(&last.checkpoint).unwrap();
        let checkpoint: Checkpoint = serde_json::from_str(&stored).unwrap();
        seen.extend(items.iter().map(|c| c.item.text()));
        if checkpoint.is_done() {
            return seen;
        }
        from = Some(checkpoint);
    }
    panic!("the export never finished");
}

fn readings() -> Vec<(String, Readings, bool)> {
    let mut all = Vec::new();
    for (from_inclusive, to_inclusive) in [(true, false), (true, true), (false, false), (false, true)] {
        all.push((
            format!("ends {from_inclusive}/{to_inclusive}"),
            Readings::default().with_ends(from_inclusive, to_inclusive),
            false,
        ));
    }
    all.push((
        "by signal, extra fields".into(),
        Readings::default()
            .with_signal_major(true)
            .with_extra_fields(true),
        false,
    ));
    for (style, number) in [
        (TimestampStyle::OffsetFraction, NumberStyle::TrailingZeros),
        (TimestampStyle::Utc, NumberStyle::Exponent),
        (TimestampStyle::UtcFraction, NumberStyle::Shortest),
    ] {
        all.push((
            format!("{style:?} {number:?}"),
            Readings::default().with_timestamps(style).with_numbers(number),
            false,
        ));
    }
    all.push((
        "CRLF lines, the last NDJSON one without".into(),
        Readings::default().with_crlf_unterminated(true),
        false,
    ));
    all.push((
        "JSON as a bare array".into(),
        Readings::default().with_json_bare(true),
        false,
    ));
    for inclusive in [false, true] {
        // The catalog claims three times the budget: windows of 23 minutes, each a 413
        // first, then cut to the server's recommendation.
        all.push((
            format!("413, recommended end inclusive {inclusive}"),
            Readings::default().with_recommended_to_inclusive(inclusive),
            true,
        ));
    }
    all
}

async fn export_on<T>(sim: &Sandbox, format: Format, claim_more: bool) -> Export<T> {
    let client = client(sim);
    let mut catalog = client.catalog().await.unwrap();
    if claim_more {
        catalog.limits.max_raw_db_points = 3 * BUDGET;
    }
    let (from, to) = half_hour();
    let mut export = client
        .export("100", "site-ref", SIGNALS)
        .range(from, to)
        .time_zone(ZONE)
        .format(format)
        .catalog(&catalog);
    if format == Format::Csv {
        export = export.csv_preset(CsvPreset::Finnish);
    }
    export.records::<T>()
}

async fn check_reading<T>(what: &str, readings: Readings, claim_more: bool, format: Format)
where
    T: Text + Send + 'static + preventos_client::serde::de::DeserializeOwned,
{
    let truth = truth(readings, format).await;
    assert!(truth.len() >= 30, "{what} {format:?}: {} records", truth.len());
    let sim = Sandbox::start(Config::default().with_readings(readings).with_budget(BUDGET))
        .await
        .unwrap();
    let export: Export<T> = export_on(&sim, format, claim_more).await;
    let whole: Vec<String> = export
        .clone()
        .stream()
        .map_ok(|r| r.text())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(whole, truth, "{what} {format:?}: uninterrupted");
    for n in [1, 2, 3, 6, 7, 8, 13, 14, 15] {
        let resumed = killed_every(&export, n).await;
        assert_eq!(resumed, truth, "{what} {format:?}: killed every {n} records");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ndjson_killed_anywhere_resumes_exactly_under_every_reading() {
    for (what, readings, claim_more) in readings() {
        check_reading::<RawRecord>(&what, readings, claim_more, Format::Ndjson).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_killed_anywhere_resumes_exactly_under_every_reading() {
    for (what, readings, claim_more) in readings() {
        check_reading::<RawRecord>(&what, readings, claim_more, Format::Json).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_killed_anywhere_resumes_exactly_under_every_reading() {
    for (what, readings, claim_more) in readings() {
        check_reading::<Row>(&what, readings, claim_more, Format::Csv).await;
    }
}

#[tokio::test]
async fn a_checkpoint_of_another_export_is_a_config_error() {
    let sim = Sandbox::start(Config::default().with_budget(BUDGET))
        .await
        .unwrap();
    let export: Export<RawRecord> = export_on(&sim, Format::Ndjson, false).await;
    let first = export
        .clone()
        .checkpointed()
        .next()
        .await
        .unwrap()
        .unwrap()
        .checkpoint;
    let (from, to) = half_hour();
    let others = [
        export.clone().range(from, to + SignedDuration::from_mins(1)),
        export.clone().format(Format::Json),
        export.clone().time_zone("UTC"),
        client(&sim)
            .export("100", "site-ref", ["Velocity", "Depth"])
            .range(from, to)
            .time_zone(ZONE)
            .records::<RawRecord>(),
    ];
    let before = sim.values_requests();
    for other in others {
        let err = other
            .resume_from(first.clone())
            .checkpointed()
            .next()
            .await
            .unwrap()
            .unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err:?}");
    }
    assert_eq!(
        sim.values_requests(),
        before,
        "nothing sent for a wrong checkpoint"
    );
    // The same export with another concurrency takes it.
    let again = export.clone().concurrency(1).resume_from(first.clone());
    assert!(again.checkpointed().next().await.unwrap().is_ok());
}

#[tokio::test]
async fn a_done_checkpoint_yields_nothing_and_sends_nothing() {
    let sim = Sandbox::start(Config::default().with_budget(BUDGET))
        .await
        .unwrap();
    let export: Export<RawRecord> = export_on(&sim, Format::Ndjson, false).await;
    let windows: Vec<_> = export.clone().pages().try_collect().await.unwrap();
    let last = windows.last().unwrap().checkpoint.clone().unwrap();
    assert_eq!(last.position, Position::Done);
    let before = sim.requests();
    let rest: Vec<_> = export
        .resume_from(last)
        .checkpointed()
        .try_collect()
        .await
        .unwrap();
    assert!(rest.is_empty());
    assert_eq!(sim.requests(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_fetched_at_once_still_carry_their_checkpoints_in_order() {
    let sim = Sandbox::start(Config::default().with_budget(BUDGET))
        .await
        .unwrap();
    // Each answer waits a little, so that the four windows in flight finish in any order.
    sim.set_faults(sandbox::Faults::none().delay(std::time::Duration::from_millis(5)));
    let export: Export<RawRecord> = export_on(&sim, Format::Ndjson, false).await;
    let positions = |windows: Vec<preventos_client::Window<RawRecord>>| -> Vec<Position> {
        windows
            .into_iter()
            .map(|w| w.checkpoint.unwrap().position)
            .collect()
    };
    let four = positions(export.clone().concurrency(4).pages().try_collect().await.unwrap());
    let one = positions(export.clone().concurrency(1).pages().try_collect().await.unwrap());
    assert_eq!(four, one);
    assert_eq!(four.len(), 5);
    let (_, to) = half_hour();
    let mut previous = None;
    for position in &four {
        if let Position::Window { from, skip } = position {
            assert_eq!(*skip, 0);
            assert!(*from < to && previous.is_none_or(|p| p < *from), "{four:?}");
            previous = Some(*from);
        }
    }
    assert_eq!(four.last(), Some(&Position::Done));
}

/// The stored document, taking `k` windows per run and resuming from the checkpoint
/// stored after the last one, until done.
async fn stored_killed_every(export: &Export<RawRecord>, k: usize) -> (Vec<u8>, u64) {
    let mut file = Vec::new();
    let mut from: Option<Checkpoint> = None;
    let mut runs = 0;
    loop {
        runs += 1;
        assert!(runs < 1_000, "the export never finished");
        let mut run = export.clone();
        if let Some(checkpoint) = &from {
            run = run.resume_from(checkpoint.clone());
        }
        let windows: Vec<StoredWindow> = run.stored_windows().take(k).try_collect().await.unwrap();
        let Some(last) = windows.last() else {
            return (file, runs);
        };
        for window in &windows {
            file.extend_from_slice(&window.bytes);
        }
        assert_eq!(last.bytes_total, file.len() as u64);
        let stored = serde_json::to_string(&last.checkpoint).unwrap();
        let checkpoint: Checkpoint = serde_json::from_str(&stored).unwrap();
        if checkpoint.is_done() {
            return (file, runs);
        }
        from = Some(checkpoint);
    }
}

/// The one request's document for `[from, to)`: a generous server, the document's `date`
/// being a day, compared through the export of one window (a budget for the range).
async fn one_window_document(readings: Readings, format: Format) -> Vec<u8> {
    let sim = Sandbox::start(Config::default().with_readings(readings).with_budget(1_000_000))
        .await
        .unwrap();
    let export: Export<RawRecord> = export_on(&sim, format, false).await;
    let mut document = Vec::new();
    let summary = export.copy_to(&mut document).await.unwrap();
    assert_eq!(summary.requests, 1);
    document
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_file_killed_after_any_window_is_finished_byte_for_byte() {
    for (what, readings, claim_more) in readings() {
        for format in [Format::Ndjson, Format::Json, Format::Csv] {
            let what = format!("{what} {format:?}");
            let sim = Sandbox::start(Config::default().with_readings(readings).with_budget(BUDGET))
                .await
                .unwrap();
            let export: Export<RawRecord> = export_on(&sim, format, claim_more).await;
            let mut whole = Vec::new();
            let summary = export.clone().copy_to(&mut whole).await.unwrap();
            assert_eq!(summary.bytes, whole.len() as u64, "{what}");
            // One window of the whole range writes the same document (JSON: the same
            // elements; `meta` describes the first request).
            let one = one_window_document(readings, format).await;
            if format == Format::Json {
                let one: serde_json::Value = serde_json::from_slice(&one).unwrap();
                let split: serde_json::Value = serde_json::from_slice(&whole).unwrap();
                assert_eq!(split["values"], one["values"], "{what}");
            } else {
                assert!(one == whole, "{what}: not the one window's document");
            }
            let windows = export
                .clone()
                .stored_windows()
                .try_collect::<Vec<_>>()
                .await
                .unwrap()
                .len();
            assert!(windows >= 2, "{what}: {windows} windows");
            for k in [1, 2, 3] {
                let (file, runs) = stored_killed_every(&export, k).await;
                assert!(file == whole, "{what}: killed every {k} windows");
                assert_eq!(
                    runs as usize,
                    windows.div_ceil(k),
                    "{what}: killed every {k} windows"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_stored_file_resumes_only_from_a_stored_checkpoint() {
    let sim = Sandbox::start(Config::default().with_budget(BUDGET))
        .await
        .unwrap();
    let export: Export<RawRecord> = export_on(&sim, Format::Ndjson, false).await;
    let inside = export
        .clone()
        .checkpointed()
        .next()
        .await
        .unwrap()
        .unwrap()
        .checkpoint;
    let err = export
        .clone()
        .resume_from(inside.clone())
        .stored_windows()
        .next()
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    let err = export
        .clone()
        .resume_from(inside)
        .copy_to(&mut Vec::new())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    // A stored checkpoint resumes `pages` too (the document's state is ignored there).
    let stored = export
        .clone()
        .stored_windows()
        .next()
        .await
        .unwrap()
        .unwrap()
        .checkpoint;
    let rest: Vec<_> = export
        .clone()
        .resume_from(stored)
        .stream()
        .try_collect()
        .await
        .unwrap();
    let all: Vec<_> = export.stream().try_collect().await.unwrap();
    assert!(!rest.is_empty() && rest.len() < all.len());
}
