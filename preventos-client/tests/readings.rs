//! Lossless under every reading of the document: a day stored through the export, in
//! as many windows as a small budget needs, is the content of the one request of that
//! day, whatever the server means by explicit ends, however it orders records, writes
//! timestamps and numbers, adds fields, or ends a recommended range.

use jiff::civil::date;
use preventos_client::{Client, CsvPreset, Format};
use sandbox::preventos::{Config, NumberStyle, Readings, Sandbox, TimestampStyle};

const ZONE: &str = "Europe/Helsinki";
const SIGNALS: [&str; 3] = ["Velocity", "Depth", "Temperature"];

fn client(sim: &Sandbox) -> Client {
    let vars = sim.env_vars();
    Client::from_vars(sandbox::env_lookup(&vars)).unwrap()
}

/// The day through the one request (a large budget) and through the export (a budget
/// of `budget` points, or a catalog that claims `claimed` when given, to draw 413s).
async fn both(
    readings: Readings,
    format: Format,
    preset: Option<&str>,
    budget: u64,
    claimed: Option<u64>,
) -> (Vec<u8>, Vec<u8>, u64) {
    both_with(readings, format, preset, budget, claimed, true).await
}

/// [`both`], with a catalog that names each signal's DB query or not.
async fn both_with(
    readings: Readings,
    format: Format,
    preset: Option<&str>,
    budget: u64,
    claimed: Option<u64>,
    named_queries: bool,
) -> (Vec<u8>, Vec<u8>, u64) {
    let day = date(2026, 5, 31);
    let whole = Sandbox::start(Config::default().with_readings(readings).with_budget(1_000_000))
        .await
        .unwrap();
    let mut one = client(&whole)
        .site_values("100", "site-ref", SIGNALS)
        .date(day)
        .time_zone(ZONE)
        .format(format);
    if let Some(preset) = preset {
        one = one.csv_preset(CsvPreset::parse(preset));
    }
    let mut expected = Vec::new();
    one.copy_to(&mut expected).await.unwrap();

    let split = Sandbox::start(
        Config::default()
            .with_readings(readings)
            .with_budget(budget)
            .with_catalog_db_queries(named_queries),
    )
    .await
    .unwrap();
    let client = client(&split);
    let mut catalog = client.catalog().await.unwrap();
    if let Some(claimed) = claimed {
        catalog.limits.max_raw_db_points = claimed;
    }
    let mut export = client
        .export("100", "site-ref", SIGNALS)
        .date(day)
        .time_zone(ZONE)
        .format(format)
        .catalog(&catalog);
    if let Some(preset) = preset {
        export = export.csv_preset(CsvPreset::parse(preset));
    }
    let mut stored = Vec::new();
    let summary = export.copy_to(&mut stored).await.unwrap();
    (expected, stored, summary.requests)
}

/// Byte for byte (NDJSON, CSV), or the same values (JSON: `meta` describes each request).
fn assert_lossless(format: Format, expected: &[u8], stored: &[u8], what: &str) {
    if format == Format::Json {
        let expected: serde_json::Value = serde_json::from_slice(expected).unwrap();
        let stored: serde_json::Value = serde_json::from_slice(stored).unwrap();
        assert_eq!(stored["values"], expected["values"], "{what}");
        assert!(stored["meta"].is_object(), "{what}: meta kept");
    } else {
        assert!(
            expected == stored,
            "{what}: stored {} bytes, the one request {} bytes\n{}\n---\n{}",
            stored.len(),
            expected.len(),
            String::from_utf8_lossy(&stored[..stored.len().min(400)]),
            String::from_utf8_lossy(&expected[..expected.len().min(400)])
        );
    }
}

// 1,500 points over three DB queries: windows of 500 minutes, about three a day.
const SMALL: u64 = 1_500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_end_convention_in_every_format() {
    for (from_inclusive, to_inclusive) in [(true, false), (true, true), (false, false), (false, true)] {
        for (format, preset) in [
            (Format::Ndjson, None),
            (Format::Csv, Some("finnish")),
            (Format::Json, None),
        ] {
            let readings = Readings::default().with_ends(from_inclusive, to_inclusive);
            let (expected, stored, requests) = both(readings, format, preset, SMALL, None).await;
            let what = format!("ends {from_inclusive}/{to_inclusive}, {format:?}");
            assert!(requests >= 3, "{what}: {requests} requests");
            assert_lossless(format, &expected, &stored, &what);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_by_signal_then_time_are_stored_in_that_order() {
    for format in [Format::Ndjson, Format::Json] {
        let readings = Readings::default()
            .with_signal_major(true)
            .with_extra_fields(true);
        let (expected, stored, _) = both(readings, format, None, SMALL, None).await;
        assert_lossless(format, &expected, &stored, &format!("by signal, {format:?}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timestamps_and_numbers_in_any_text_pass_through_untouched() {
    let styles = [
        TimestampStyle::Offset,
        TimestampStyle::OffsetFraction,
        TimestampStyle::Utc,
        TimestampStyle::UtcFraction,
    ];
    let numbers = [
        NumberStyle::TrailingZeros,
        NumberStyle::Exponent,
        NumberStyle::Shortest,
        NumberStyle::TrailingZeros,
    ];
    for (style, number) in styles.into_iter().zip(numbers) {
        for (format, preset) in [(Format::Ndjson, None), (Format::Csv, Some("finnish"))] {
            let readings = Readings::default()
                .with_timestamps(style)
                .with_numbers(number)
                .with_extra_fields(true);
            let (expected, stored, _) = both(readings, format, preset, SMALL, None).await;
            assert_lossless(
                format,
                &expected,
                &stored,
                &format!("{style:?} {number:?} {format:?}"),
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_413_with_either_end_of_its_recommended_range_is_replanned_losslessly() {
    for inclusive in [false, true] {
        let readings = Readings::default().with_recommended_to_inclusive(inclusive);
        // The catalog claims ten times the server's budget: every planned window is a 413.
        let (expected, stored, requests) =
            both(readings, Format::Ndjson, None, SMALL, Some(10 * SMALL)).await;
        assert!(
            requests > 3,
            "413s were answered and re-planned: {requests} requests"
        );
        assert_lossless(
            Format::Ndjson,
            &expected,
            &stored,
            &format!("recommended end inclusive: {inclusive}"),
        );
    }
}

#[tokio::test]
async fn a_zero_or_overflowing_interval_from_the_catalog_is_an_error() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = client(&sim);
    let mut catalog = client.catalog().await.unwrap();
    let day = jiff::Timestamp::from_second(1_780_000_000).unwrap();
    let export = client
        .export("100", "site-ref", ["Velocity"])
        .range(day, day + jiff::SignedDuration::from_hours(24));
    for interval in [
        jiff::SignedDuration::ZERO,
        jiff::SignedDuration::from_secs(-60),
        jiff::SignedDuration::MAX,
    ] {
        let site = catalog.environments[0]
            .sites
            .iter_mut()
            .find(|s| s.id == "site-ref")
            .unwrap();
        let velocity = site.signals.iter_mut().find(|s| s.id == "Velocity").unwrap();
        velocity.base_interval = Some(interval);
        assert!(export.plan(&catalog).is_err(), "{interval:?}");
    }
    assert_eq!(sim.values_requests(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalog_without_db_queries_still_stores_the_day_losslessly() {
    // Without dbQuery every signal counts as a query of its own: more, smaller windows.
    let (expected, stored, requests) = both_with(
        Readings::default(),
        Format::Csv,
        Some("finnish"),
        SMALL,
        None,
        false,
    )
    .await;
    let (_, _, named) = both_with(
        Readings::default(),
        Format::Csv,
        Some("finnish"),
        SMALL,
        None,
        true,
    )
    .await;
    assert!(
        requests >= named,
        "{requests} requests without dbQuery, {named} with"
    );
    assert_lossless(Format::Csv, &expected, &stored, "no dbQuery");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bare_json_array_sent_without_meta_false_is_stored_bare() {
    // The server answers a bare array although `meta=false` was not asked: the stored
    // document is what it sent, not an envelope the client made up.
    let readings = Readings::default().with_json_bare(true);
    let (expected, stored, requests) = both(readings, Format::Json, None, SMALL, None).await;
    assert!(requests >= 3, "{requests} requests");
    assert!(expected.starts_with(b"["), "the one request is a bare array");
    assert!(
        stored == expected,
        "stored {}",
        String::from_utf8_lossy(&stored[..stored.len().min(200)])
    );
}

#[tokio::test]
async fn a_values_request_reads_a_bare_json_array_it_did_not_ask_for() {
    let sim = Sandbox::start(Config::default().with_readings(Readings::default().with_json_bare(true)))
        .await
        .unwrap();
    let page = client(&sim)
        .site_values("100", "site-ref", SIGNALS)
        .date(date(2026, 5, 31))
        .time_zone(ZONE)
        .format(Format::Json)
        .send()
        .await
        .unwrap();
    assert_eq!(page.items.len(), 2 * 1440 + 144);
    assert!(page.meta.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crlf_lines_without_a_final_break_are_stitched_with_the_servers_break() {
    // Each NDJSON body ends without a line break: between windows, the stored file gets
    // the server's `\r\n`, not a `\n` of the client's, and ends as the server's
    // bodies do. CSV rows end in `\r\n`, kept as sent.
    for (format, preset) in [(Format::Ndjson, None), (Format::Csv, Some("finnish"))] {
        let readings = Readings::default().with_crlf_unterminated(true);
        let (expected, stored, requests) = both(readings, format, preset, SMALL, None).await;
        assert!(requests >= 3, "{requests} requests");
        assert_eq!(expected.ends_with(b"\r\n"), format == Format::Csv);
        assert_lossless(format, &expected, &stored, &format!("CRLF {format:?}"));
    }
}
