//! End to end against the Preventos sandbox: auth, catalog, formats, budget, export.

use std::collections::HashSet;

use futures::TryStreamExt;
use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use preventos_client::{
    Client, CsvPreset, CsvRow, Error, Format, PreventosError, Record, SignalId, TimeBound, TooLarge, Window,
};
use sandbox::Faults;
use sandbox::preventos::{Config, Sandbox};

fn client(sim: &Sandbox) -> Client {
    let vars = sim.env_vars();
    Client::from_vars(sandbox::env_lookup(&vars)).unwrap()
}

fn fixture(name: &str) -> String {
    format!(
        "{}/../client-core/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[tokio::test]
async fn secret_auth_and_the_catalog() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = client(&sim);
    let catalog = client.catalog().await.unwrap();
    let ids: Vec<&str> = catalog.environments.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["100", "102"]);
    let site = catalog.site("100", "site-ref").unwrap();
    let velocity = site.signal("Velocity").unwrap();
    assert_eq!(velocity.base_interval, Some(SignedDuration::from_mins(1)));
    assert_eq!(velocity.unit.as_deref(), Some("m/s"));
    assert_eq!(velocity.ranges[0].to, None);
    assert_eq!(
        site.signal("Depth").unwrap().db_query,
        site.signal("Flow").unwrap().db_query
    );
    assert_eq!(
        catalog
            .site("100", "site-east")
            .unwrap()
            .signal("Pump")
            .unwrap()
            .base_interval,
        None
    );
    assert_eq!(catalog.limits.max_raw_db_points, 44_640);
    let filtered = client.catalog_for(&["102"]).await.unwrap();
    assert_eq!(filtered.environments.len(), 1);
    assert_eq!(client.version().await.unwrap()["version"], "sandbox-1");
    assert_eq!(sim.token_requests(), 1, "one token for all requests");
}

#[tokio::test]
async fn certificate_auth_is_verified_by_the_token_endpoint() {
    let cert = rustls_pki_types_der(&fixture("test-cert.pem"));
    let sim = Sandbox::start(Config::default().with_certificate(cert))
        .await
        .unwrap();
    let mut vars: Vec<(&str, String)> = sim
        .env_vars()
        .into_iter()
        .filter(|(n, _)| *n != "DATA_API_CLIENT_SECRET")
        .collect();
    vars.push(("DATA_API_CERTIFICATE", fixture("test-cert.pfx")));
    vars.push(("DATA_API_CERTIFICATE_PASSWORD", "fixture-pfx-password".into()));
    let client = Client::from_vars(sandbox::env_lookup(&vars)).unwrap();
    assert!(!client.catalog().await.unwrap().environments.is_empty());

    // A certificate the sandbox does not know is refused.
    let other = Sandbox::start(Config::default().with_certificate(vec![1, 2, 3]))
        .await
        .unwrap();
    let mut vars: Vec<(&str, String)> = other
        .env_vars()
        .into_iter()
        .filter(|(n, _)| *n != "DATA_API_CLIENT_SECRET")
        .collect();
    vars.push(("DATA_API_CERTIFICATE", fixture("test-cert.pfx")));
    vars.push(("DATA_API_CERTIFICATE_PASSWORD", "fixture-pfx-password".into()));
    let client = Client::from_vars(sandbox::env_lookup(&vars)).unwrap();
    let err = client.catalog().await.unwrap_err();
    assert!(err.to_string().contains("invalid_client"), "{err}");
}

fn rustls_pki_types_der(pem_path: &str) -> Vec<u8> {
    let pem = std::fs::read_to_string(pem_path).unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(body).unwrap()
}

#[tokio::test]
async fn one_local_day_in_each_format() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = client(&sim);
    let day = date(2026, 5, 31);
    let request = client
        .site_values("100", "site-ref", ["Velocity", "Depth"])
        .date(day)
        .time_zone("Europe/Helsinki");

    let records: Vec<Record> = request.clone().stream().try_collect().await.unwrap();
    assert_eq!(records.len(), 2 * 1440);
    assert_eq!(
        records[0].timestamp,
        "2026-05-31T00:00:00+03:00".parse::<Timestamp>().unwrap()
    );
    assert_eq!(
        (records[0].signal_id.as_str(), records[1].signal_id.as_str()),
        ("Velocity", "Depth")
    );
    assert_eq!(
        records.last().unwrap().timestamp,
        "2026-05-31T23:59:00+03:00".parse::<Timestamp>().unwrap()
    );

    let json: Vec<Record> = request
        .clone()
        .format(Format::Json)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(json, records);
    // `send` is the page of the one response: no next page; JSON's `meta` members.
    let bare = request
        .clone()
        .format(Format::Json)
        .meta(false)
        .send()
        .await
        .unwrap();
    assert_eq!(bare.items, records);
    assert!(bare.meta.is_empty() && bare.next.is_none());
    let with_meta = request.clone().format(Format::Json).send().await.unwrap();
    assert_eq!(with_meta.items, records);
    assert_eq!(with_meta.meta["site"], "site-ref");
    assert_eq!(with_meta.meta["tzi"], "Europe/Helsinki");
    assert_eq!(with_meta.meta["from"], "2026-05-31T00:00:00+03:00");
    assert!(with_meta.next.is_none());
    let ndjson = request.clone().send().await.unwrap();
    assert_eq!(ndjson.items, records);
    assert!(ndjson.meta.is_empty());

    let rows: Vec<CsvRow> = request
        .clone()
        .csv_preset(CsvPreset::Finnish)
        .csv_rows()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rows.len(), 1440);
    assert_eq!(rows[0].header(), ["timestamp", "Velocity", "Depth"]);
    assert_eq!(rows[0].get("timestamp"), Some("2026-05-31T00:00:00+03:00"));
    let velocity = rows[0].get_f64("Velocity").unwrap().unwrap();
    assert_eq!(Some(velocity), records[0].value);
}

#[tokio::test]
async fn a_dst_day_has_23_hours() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let records: Vec<Record> = client(&sim)
        .signal_values("100", "site-ref", "Velocity")
        .date(date(2026, 3, 29))
        .time_zone("Europe/Helsinki")
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(records.len(), 23 * 60);
}

#[tokio::test]
async fn the_budget_gives_413_with_details_and_unknown_size() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = client(&sim);
    let err = client
        .site_values("100", "site-ref", ["Velocity", "Depth", "Flow"])
        .range(date(2026, 1, 1), date(2026, 1, 31))
        .send()
        .await
        .unwrap_err();
    let Some(details) = err.detail::<TooLarge>() else {
        panic!("expected 413, got {err}")
    };
    assert_eq!(
        details.db_query_count,
        Some(2),
        "Depth and Flow share one raw query"
    );
    assert_eq!(details.estimated_raw_db_points, Some(31 * 1440 * 2));
    assert_eq!(details.max_raw_db_points, Some(44_640));
    let (from, to) = details.recommended_range.unwrap();
    assert_eq!(to.duration_since(from), SignedDuration::from_hours(31 * 12));

    let err = client
        .site_values("100", "site-east", ["Level", "Pump"])
        .date(date(2026, 1, 1))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Api(PreventosError::RequestSizeUnavailable(_))),
        "{err}"
    );
}

#[tokio::test]
async fn export_splits_from_the_catalog_and_loses_nothing() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = client(&sim);
    let catalog = client.catalog().await.unwrap();
    let from: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let to = from + SignedDuration::from_hours(24 * 40);
    let export = client
        .export("100", "site-ref", ["Velocity", "Depth", "Flow"])
        .range(from, to);
    assert_eq!(
        export.plan(&catalog).unwrap().len(),
        3,
        "two DB queries at PT1M: 15.5-day windows"
    );
    let records: Vec<Record> = export.catalog(&catalog).stream().try_collect().await.unwrap();
    assert_eq!(records.len(), 40 * 1440 * 3);
    let distinct: HashSet<(Timestamp, SignalId)> = records
        .iter()
        .map(|r| (r.timestamp, r.signal_id.clone()))
        .collect();
    assert_eq!(distinct.len(), records.len());
    assert!(records.iter().all(|r| from <= r.timestamp && r.timestamp < to));
    assert_eq!(sim.values_requests(), 3);
}

#[tokio::test]
async fn export_replans_when_the_server_still_says_413() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = client(&sim);
    let mut catalog = client.catalog().await.unwrap();
    // A catalog that overstates the budget: the planned window is refused.
    catalog.limits.max_raw_db_points *= 3;
    let from: Timestamp = "2026-02-01T00:00:00Z".parse().unwrap();
    let to = from + SignedDuration::from_hours(24 * 60);
    let records: Vec<Record> = client
        .export("102", "site-south", ["Velocity"])
        .range(from, to)
        .catalog(&catalog)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(records.len(), 60 * 1440);
    // One refused 60-day window, then 31 + 29 days.
    assert_eq!(sim.values_requests(), 3);
}

#[tokio::test]
async fn a_truncated_body_is_an_error_and_leaves_no_file() {
    let sim = Sandbox::start(Config::default().with_faults(Faults::none().cut_body_after(10_000)))
        .await
        .unwrap();
    let client = client(&sim);
    let request = client
        .site_values("100", "site-ref", ["Velocity"])
        .date(date(2026, 5, 31));
    let err = request
        .clone()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::Truncated(_)), "{err}");

    let folder = tempfile::tempdir().unwrap();
    let target = folder.path().join("2026-05-31.ndjson");
    assert!(request.clone().write_to(&target).await.is_err());
    assert_eq!(std::fs::read_dir(folder.path()).unwrap().count(), 0);

    sim.set_faults(Faults::none());
    let written = request.write_to(&target).await.unwrap();
    assert_eq!((written.requests, written.records), (1, 1440));
    assert_eq!(written.bytes, std::fs::metadata(&target).unwrap().len());
    assert_eq!(std::fs::read_to_string(&target).unwrap().lines().count(), 1440);
}

#[tokio::test]
async fn a_catalog_values_url_can_be_followed() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = client(&sim);
    let catalog = client.catalog().await.unwrap();
    let site = catalog.site("100", "site-ref").unwrap();
    let records: Vec<Record> = client
        .values_url(site.values_url.as_deref().unwrap())
        .unwrap()
        .range(
            TimeBound::Instant("2026-05-31T00:00:00Z".parse().unwrap()),
            TimeBound::Instant("2026-05-31T01:00:00Z".parse().unwrap()),
        )
        .stream()
        .try_collect()
        .await
        .unwrap();
    // Velocity, Depth, Flow every minute and Temperature every 10 minutes, for an hour.
    assert_eq!(records.len(), 60 * 3 + 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_of_a_date_is_the_values_request_of_that_date_byte_for_byte() {
    let day = date(2026, 5, 31);
    let zone = "Europe/Helsinki";
    let signals = ["Velocity", "Depth", "Temperature"];
    // The one request of the day, from a server with a budget that allows it.
    let whole = Sandbox::start(Config::default().with_budget(1_000_000))
        .await
        .unwrap();
    // The default budget holds the day in one window; 1,500 points need several.
    for budget in [sandbox::preventos::DEFAULT_BUDGET, 1_500] {
        for (format, preset) in [
            (Format::Ndjson, None),
            (Format::Csv, Some(CsvPreset::Finnish)),
            (Format::Json, None),
        ] {
            let mut one = client(&whole)
                .site_values("100", "site-ref", signals)
                .date(day)
                .time_zone(zone)
                .format(format)
                .meta(false);
            let sim = Sandbox::start(Config::default().with_budget(budget))
                .await
                .unwrap();
            let mut export = client(&sim)
                .export("100", "site-ref", signals)
                .date(day)
                .time_zone(zone)
                .format(format)
                .meta(false);
            if let Some(preset) = preset {
                one = one.csv_preset(preset.clone());
                export = export.csv_preset(preset);
            }
            let mut expected = Vec::new();
            let sent = one.copy_to(&mut expected).await.unwrap();
            let mut stored = Vec::new();
            let summary = export.copy_to(&mut stored).await.unwrap();
            let what = format!("budget {budget}, {format:?}");
            assert!(expected == stored, "{what}: the stored day differs");
            assert_eq!(summary.records, sent.records, "{what}");
            assert_eq!(summary.bytes, sent.bytes, "{what}");
            // The catalog, read once, and the windows.
            assert_eq!(sim.requests(), 1 + summary.requests, "{what}");
            if budget == 1_500 {
                assert!(summary.requests > 1, "{what}: {} requests", summary.requests);
            }
        }
    }
}

#[tokio::test]
async fn export_pages_are_the_planned_windows() {
    let sim = Sandbox::start(Config::default().with_budget(1_000))
        .await
        .unwrap();
    let client = client(&sim);
    let windows: Vec<Window<Record>> = client
        .export("102", "site-south", ["Velocity"])
        .date(date(2026, 5, 31))
        .pages()
        .try_collect()
        .await
        .unwrap();
    // 1,000 points at PT1M, less one interval for the overlap: 999-minute windows.
    assert_eq!(windows.len(), 2);
    assert_eq!(windows[0].to, windows[1].from);
    assert_eq!(
        windows[0].to.duration_since(windows[0].from),
        SignedDuration::from_mins(999)
    );
    for window in &windows {
        assert_eq!(window.requests, 1);
        assert!(
            window
                .items
                .iter()
                .all(|r| window.from <= r.timestamp && r.timestamp < window.to)
        );
    }
    let records: usize = windows.iter().map(|w| w.items.len()).sum();
    assert_eq!(records, 1440);
}

#[tokio::test]
async fn raw_records_are_the_lines_the_server_sent() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = client(&sim);
    let request = client
        .site_values("100", "site-ref", ["Velocity", "Depth"])
        .date(date(2026, 5, 31))
        .time_zone("Europe/Helsinki");
    let mut body = Vec::new();
    request.clone().copy_to(&mut body).await.unwrap();
    let raw: Vec<preventos_client::RawRecord> = request
        .clone()
        .records::<preventos_client::RawRecord>()
        .stream()
        .try_collect()
        .await
        .unwrap();
    let lines: Vec<&str> = std::str::from_utf8(&body).unwrap().lines().collect();
    assert_eq!(raw.len(), lines.len());
    for (record, line) in raw.iter().zip(&lines) {
        assert_eq!(record.as_str(), *line);
    }
    let typed: Vec<Record> = request.stream().try_collect().await.unwrap();
    let decoded: Vec<Record> = raw.iter().map(|r| r.decode().unwrap()).collect();
    assert_eq!(decoded, typed);
    assert_eq!(raw[1].signal_id(), "Depth");
}

#[tokio::test]
async fn a_root_application_reads_the_catalog_of_its_environments() {
    let sim = Sandbox::start(Config::default().with_root_application(true))
        .await
        .unwrap();
    let client = client(&sim);
    // Unfiltered, the server refuses a root-level application (the document's rule).
    let err = client.catalog().await.unwrap_err();
    assert!(matches!(err, Error::BadRequest(_)), "{err:?}");
    assert_eq!(err.status(), Some(400));
    assert!(err.to_string().contains("environment_filter_required"), "{err}");
    // Filtered, as the plan's environments.
    let catalog = client.catalog().environments(["100", "102"]).await.unwrap();
    let ids: Vec<&str> = catalog.environments.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["100", "102"]);
    let planned = vec!["102".to_owned()];
    let south = client.catalog_for(&planned).await.unwrap();
    assert_eq!(south.environments.len(), 1);
    assert!(south.site("102", "site-south").is_some());
    // An export without a catalog reads its environment's.
    let from: Timestamp = "2026-05-31T00:00:00Z".parse().unwrap();
    let records: Vec<Record> = client
        .export("102", "site-south", ["Velocity"])
        .range(from, from + SignedDuration::from_hours(1))
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(records.len(), 60);
    // A bad id is refused before sending.
    let requests = sim.requests();
    let err = client.catalog().environments(["1,2"]).await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert_eq!(sim.requests(), requests);
    assert_eq!(
        client
            .catalog()
            .environments(["100", "102"])
            .to_request()
            .unwrap()
            .query,
        [("environments".to_owned(), "100,102".to_owned())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_body_cache_serves_the_generated_bytes_under_every_reading() {
    use sandbox::preventos::{NumberStyle, Readings, TimestampStyle};
    let all = [
        Readings::default(),
        Readings::default().with_ends(false, true),
        Readings::default()
            .with_signal_major(true)
            .with_extra_fields(true),
        Readings::default()
            .with_timestamps(TimestampStyle::UtcFraction)
            .with_numbers(NumberStyle::Exponent),
        Readings::default().with_json_bare(true),
        Readings::default().with_crlf_unterminated(true),
    ];
    let day = date(2026, 5, 31);
    for readings in all {
        let plain = Sandbox::start(Config::default().with_readings(readings))
            .await
            .unwrap();
        let cached = Sandbox::start(Config::default().with_readings(readings).with_body_cache(true))
            .await
            .unwrap();
        for (format, preset) in [
            (Format::Ndjson, None),
            (Format::Json, None),
            (Format::Csv, Some(CsvPreset::Finnish)),
        ] {
            let body = |sim: &Sandbox| {
                let mut request = client(sim)
                    .site_values("100", "site-ref", ["Velocity", "Depth", "Temperature"])
                    .range(
                        TimeBound::Instant("2026-05-31T10:00:00Z".parse().unwrap()),
                        TimeBound::Instant("2026-05-31T12:00:00Z".parse().unwrap()),
                    )
                    .time_zone("Europe/Helsinki")
                    .format(format);
                if let Some(preset) = &preset {
                    request = request.csv_preset(preset.clone());
                }
                async move {
                    let mut bytes = Vec::new();
                    request.copy_to(&mut bytes).await.unwrap();
                    bytes
                }
            };
            let generated = body(&plain).await;
            let first = body(&cached).await;
            let again = body(&cached).await;
            let what = format!("{readings:?} {format:?}");
            assert!(first == generated, "{what}: the first (rendered) body");
            assert!(again == generated, "{what}: the cached body");
        }
        assert_eq!(cached.cached_bodies(), 3, "{readings:?}");
        assert_eq!(plain.cached_bodies(), 0);
        // Each cached body counts as served each time it is sent.
        assert_eq!(cached.records_served(), 2 * plain.records_served());
        assert_eq!(cached.bytes_served(), 2 * plain.bytes_served());
    }

    // Late data makes another body; a cut fault cuts a cached body too.
    let sim = Sandbox::start(Config::default().with_body_cache(true))
        .await
        .unwrap();
    let request = client(&sim)
        .site_values("100", "site-ref", ["Velocity"])
        .date(day);
    let whole: Vec<Record> = request.clone().stream().try_collect().await.unwrap();
    sim.hold_back_from(Some("2026-05-31T12:00:00Z".parse().unwrap()));
    let early: Vec<Record> = request.clone().stream().try_collect().await.unwrap();
    assert_eq!((whole.len(), early.len()), (1440, 720));
    sim.hold_back_from(None);
    let again: Vec<Record> = request.clone().stream().try_collect().await.unwrap();
    assert_eq!(again, whole);
    assert_eq!(sim.cached_bodies(), 2);
    sim.set_faults(Faults::none().cut_body_after(10_000));
    let err = request
        .clone()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::Truncated(_)), "{err}");
}
