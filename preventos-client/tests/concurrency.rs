//! Windows fetched at once: with a latency per response the windows' requests overlap up
//! to the export's concurrency and never beyond, the first window does not hold the
//! others back (they go out with it, on the guess that records come by time), the
//! windows are written in order, and the stored document is the same at any concurrency
//! under every reading, including the one the guess gets wrong (records by signal).
//! (Resuming from checkpoints with windows in flight is tested in `resume.rs`, at the
//! default concurrency.)

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use jiff::{SignedDuration, Timestamp};
use preventos_client::{Client, DEFAULT_CONCURRENCY, Export, Format, RawRecord, Window};
use sandbox::Faults;
use sandbox::preventos::{Config, Readings, Sandbox, TimestampStyle};

const SIGNALS: [&str; 3] = ["Velocity", "Depth", "Temperature"];
/// 24 points over three DB queries at PT1M: windows of 7 minutes, 18 in the two hours
/// below (read signal by signal: 6 of 23 minutes for each PT1M signal, one for
/// Temperature).
const BUDGET: u64 = 24;
const LATENCY: Duration = Duration::from_millis(20);

fn client(sim: &Sandbox) -> Client {
    Client::from_vars(sandbox::env_lookup(&sim.env_vars())).unwrap()
}

fn two_hours() -> (Timestamp, Timestamp) {
    let from: Timestamp = "2026-05-31T06:00:00Z".parse().unwrap();
    (from, from + SignedDuration::from_hours(2))
}

/// A simulator playing `readings` with a small budget and 20 ms per values response.
async fn slow_sim(readings: Readings) -> Sandbox {
    let config = Config::default()
        .with_readings(readings)
        .with_budget(BUDGET)
        .with_faults(Faults::none().delay(LATENCY));
    Sandbox::start(config).await.unwrap()
}

async fn export_on(sim: &Sandbox, format: Format, concurrency: usize) -> Export<RawRecord> {
    let client = client(sim);
    let catalog = client.catalog().await.unwrap();
    let (from, to) = two_hours();
    client
        .export("100", "site-ref", SIGNALS)
        .range(from, to)
        .time_zone("Europe/Helsinki")
        .format(format)
        .catalog(&catalog)
        .concurrency(concurrency)
        .records::<RawRecord>()
}

fn readings() -> Vec<(&'static str, Readings, Format)> {
    vec![
        ("by time", Readings::default(), Format::Ndjson),
        (
            "ends exclusive/inclusive",
            Readings::default().with_ends(false, true),
            Format::Ndjson,
        ),
        (
            "by signal, extra fields",
            Readings::default()
                .with_signal_major(true)
                .with_extra_fields(true),
            Format::Ndjson,
        ),
        (
            "by signal, JSON",
            Readings::default().with_signal_major(true),
            Format::Json,
        ),
        (
            "UTC timestamps, CSV",
            Readings::default().with_timestamps(TimestampStyle::Utc),
            Format::Csv,
        ),
        (
            "CRLF lines",
            Readings::default().with_crlf_unterminated(true),
            Format::Ndjson,
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_overlap_up_to_the_concurrency_and_are_stored_in_order_under_every_reading() {
    for (what, readings, format) in readings() {
        let mut one_at_a_time = None;
        for concurrency in [1, 2, DEFAULT_CONCURRENCY, 7] {
            let sim = slow_sim(readings).await;
            let export = export_on(&sim, format, concurrency).await;
            let mut document = Vec::new();
            let summary = export.copy_to(&mut document).await.unwrap();
            let peak = sim.peak_concurrent_requests();
            assert!(
                peak <= concurrency as u64,
                "{what} at {concurrency}: {peak} requests in flight at once"
            );
            if readings.signal_major {
                // Some windows fetched with every signal may be dropped on their way.
                assert!(
                    summary.requests >= sim.values_requests(),
                    "{what} at {concurrency}"
                );
            } else {
                assert_eq!(summary.requests, sim.values_requests(), "{what} at {concurrency}");
            }
            match &one_at_a_time {
                None => {
                    assert_eq!(peak, 1, "{what}: one window at a time");
                    assert!(summary.records > 0);
                    one_at_a_time = Some(document);
                }
                Some(expected) => {
                    assert!(peak >= 2, "{what} at {concurrency}: windows never overlapped");
                    assert!(
                        *expected == document,
                        "{what} at {concurrency}: not the document of one window at a time"
                    );
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_window_goes_out_with_the_ones_after_it() {
    // Records by time (the guess holds): while the first window is in flight, so are
    // the next ones, and none of them is asked for twice.
    let sim = slow_sim(Readings::default()).await;
    let export = export_on(&sim, Format::Ndjson, DEFAULT_CONCURRENCY).await;
    let planned = export.plan(&client(&sim).catalog().await.unwrap()).unwrap();
    assert_eq!(planned.len(), 18);
    let mut pages = export.clone().pages();
    let first: Window<RawRecord> = pages.next().await.unwrap().unwrap();
    assert_eq!((first.from, first.to), planned[0]);
    // All four go out at once; at least one went with the first.
    let peak = sim.peak_concurrent_requests();
    assert!(
        (2..=DEFAULT_CONCURRENCY as u64).contains(&peak),
        "the first window's request was not alone: {peak} in flight at once"
    );
    let rest: Vec<Window<RawRecord>> = pages.try_collect().await.unwrap();
    let spans: Vec<(Timestamp, Timestamp)> = std::iter::once(&first)
        .chain(&rest)
        .map(|w| (w.from, w.to))
        .collect();
    assert_eq!(spans, planned, "in order");
    assert_eq!(sim.values_requests(), 18, "each window asked for once");

    // Records by signal (the guess fails): the windows fetched with every signal are
    // dropped, each signal is read alone, and the requests stay within the concurrency.
    let sim = slow_sim(Readings::default().with_signal_major(true)).await;
    let export = export_on(&sim, Format::Ndjson, DEFAULT_CONCURRENCY).await;
    let windows: Vec<Window<RawRecord>> = export.pages().try_collect().await.unwrap();
    assert_eq!(windows.len(), 13, "6 + 6 + 1 windows, signal by signal");
    let requests = sim.values_requests();
    assert!(
        (14..=13 + 2 * DEFAULT_CONCURRENCY as u64).contains(&requests),
        "{requests} requests: the first window, those fetched with it, then 13"
    );
    assert!(sim.peak_concurrent_requests() <= DEFAULT_CONCURRENCY as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_stops_holds_at_most_twice_the_concurrency_of_windows() {
    let concurrency = 2;
    let sim = slow_sim(Readings::default()).await;
    let export = export_on(&sim, Format::Ndjson, concurrency).await;
    let mut pages = export.pages();
    let first = pages.next().await.unwrap().unwrap();
    // The reader takes its time with the first window: the windows after it are fetched
    // meanwhile, but no more than twice the concurrency of windows, its own included.
    tokio::time::sleep(LATENCY * 2).await;
    let sent = sim.values_requests();
    assert!(
        (2..=2 * concurrency as u64).contains(&sent),
        "{sent} requests while the reader held the first window"
    );
    assert!(sim.peak_concurrent_requests() <= concurrency as u64);
    let rest: Vec<Window<RawRecord>> = pages.try_collect().await.unwrap();
    assert_eq!(1 + rest.len(), 18);
    assert!(rest.iter().all(|w| w.from >= first.to));
    assert_eq!(sim.values_requests(), 18);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_concurrency_is_taken_within_the_maximum() {
    // `usize::MAX` windows at once is taken as MAX_CONCURRENCY: the export runs, within
    // it, and stores what one window at a time stores.
    let sim = slow_sim(Readings::default()).await;
    let mut all_at_once = Vec::new();
    export_on(&sim, Format::Ndjson, usize::MAX)
        .await
        .copy_to(&mut all_at_once)
        .await
        .unwrap();
    assert!(sim.peak_concurrent_requests() <= preventos_client::MAX_CONCURRENCY as u64);
    let sim = slow_sim(Readings::default()).await;
    let mut one_at_a_time = Vec::new();
    export_on(&sim, Format::Ndjson, 1)
        .await
        .copy_to(&mut one_at_a_time)
        .await
        .unwrap();
    assert!(
        all_at_once == one_at_a_time,
        "not the document of one window at a time"
    );
}
