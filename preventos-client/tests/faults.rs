//! The fault matrix on the sandbox: each fault ends in recovery with the day stored as
//! the one request returns it, or in a typed error with no file under the final name. No
//! test waits for real seconds: backoff runs on a manual clock.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use client_core::ManualClock;
use jiff::civil::date;
use preventos_client::{Catalog, Client, Error, Export};
use sandbox::Faults;
use sandbox::preventos::{Config, Sandbox};

const ZONE: &str = "Europe/Helsinki";
const SIGNALS: [&str; 2] = ["Velocity", "Depth"];
/// Two DB queries of PT1M in 1,500 points: three windows a day.
const BUDGET: u64 = 1_500;

fn client(sim: &Sandbox, clock: &ManualClock, timeout: Option<Duration>) -> Client {
    let vars = sim.env_vars();
    let get = |name: &str| {
        vars.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    Client::builder()
        .tenant_id(get("DATA_API_TENANT_ID"))
        .authority(get("DATA_API_AUTHORITY"))
        .base_url(get("DATA_API_BASE_URL"))
        .scope(get("DATA_API_SCOPE"))
        .client_id(get("DATA_API_CLIENT_ID"))
        .client_secret(get("DATA_API_CLIENT_SECRET").into())
        .subscription_key(get("DATA_API_SUBSCRIPTION_KEY").into())
        .clock(Arc::new(clock.clone()))
        .read_timeout(timeout)
        .build()
        .unwrap()
}

fn day_export(client: &Client, catalog: &Catalog) -> Export {
    client
        .export("100", "site-ref", SIGNALS)
        .date(date(2026, 5, 31))
        .time_zone(ZONE)
        .catalog(catalog)
}

/// The day as the one request of a well-behaved server returns it.
async fn expected() -> Vec<u8> {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let mut body = Vec::new();
    client(&sim, &ManualClock::new(), None)
        .site_values("100", "site-ref", SIGNALS)
        .date(date(2026, 5, 31))
        .time_zone(ZONE)
        .copy_to(&mut body)
        .await
        .unwrap();
    body
}

fn files_in(folder: &Path) -> Vec<String> {
    std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// Stores the day under `faults`; returns the outcome and what the folder holds.
async fn store(
    faults: Faults,
    timeout: Option<Duration>,
) -> (Result<Vec<u8>, Error>, Vec<String>, ManualClock) {
    let sim = Sandbox::start(Config::default().with_budget(BUDGET))
        .await
        .unwrap();
    let clock = ManualClock::new();
    let client = client(&sim, &clock, timeout);
    // The token and the catalog first; the faults hit the export.
    let catalog = client.catalog().await.unwrap();
    sim.set_faults(faults);
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("2026-05-31.ndjson");
    let outcome = day_export(&client, &catalog).write_to(&path).await;
    let files = files_in(folder.path());
    (outcome.map(|_| std::fs::read(&path).unwrap()), files, clock)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_faults_are_recovered_from_losslessly() {
    let expected = expected().await;
    let cases = [
        ("a burst of 503s", Faults::none().fail_first(3, 503)),
        (
            "429 with Retry-After",
            Faults::none().fail_first(2, 429).with_retry_after(3),
        ),
        ("429 without Retry-After", Faults::none().fail_first(2, 429)),
    ];
    for (what, faults) in cases {
        let (stored, files, clock) = store(faults, None).await;
        let stored = stored.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            stored == expected,
            "{what}: the stored day differs from the one request"
        );
        assert_eq!(files, ["2026-05-31.ndjson"], "{what}");
        assert!(!clock.sleeps().is_empty(), "{what}: retried after a wait");
        if what == "429 with Retry-After" {
            assert!(clock.sleeps().contains(&Duration::from_secs(3)), "{what}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_reset_before_the_headers_is_recovered_from() {
    // The first connection a new client opens (its token request) is reset.
    let sim = Sandbox::start(
        Config::default()
            .with_budget(BUDGET)
            .with_faults(Faults::none().reset_connections(1)),
    )
    .await
    .unwrap();
    let clock = ManualClock::new();
    let client = client(&sim, &clock, None);
    let catalog = client.catalog().await.unwrap();
    assert_eq!(sim.pending_resets(), 0, "the reset happened");
    assert!(
        !clock.sleeps().is_empty(),
        "the token request was retried after a wait"
    );
    let mut stored = Vec::new();
    day_export(&client, &catalog).copy_to(&mut stored).await.unwrap();
    assert!(stored == expected().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lasting_faults_end_in_typed_errors_and_no_file() {
    let cases: [(&str, Faults, Option<Duration>); 3] = [
        (
            "every body cut mid-way",
            Faults::none().cut_body_after(2_000),
            None,
        ),
        (
            "a server slower than the read timeout",
            Faults::none().delay(Duration::from_millis(300)),
            Some(Duration::from_millis(50)),
        ),
        (
            "503 for longer than the retries",
            Faults::none().fail_first(100, 503),
            None,
        ),
    ];
    for (what, faults, timeout) in cases {
        let (stored, files, _) = store(faults, timeout).await;
        let err = stored.expect_err(what);
        let typed = match what {
            "every body cut mid-way" => matches!(err, Error::Truncated(_)),
            "a server slower than the read timeout" => matches!(err, Error::Timeout(_)),
            _ => matches!(&err, Error::Server(api) if api.status == 503),
        };
        assert!(typed, "{what}: {err:?}");
        assert!(files.is_empty(), "{what}: {files:?} left behind");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_endpoint_down_while_the_token_is_valid_does_not_stop_an_export() {
    let sim = Sandbox::start(Config::default().with_budget(BUDGET))
        .await
        .unwrap();
    let clock = ManualClock::new();
    let client = client(&sim, &clock, None);
    let catalog = client.catalog().await.unwrap();
    assert_eq!(sim.token_requests(), 1);
    // 56 minutes into a one-hour token: due for refresh, still valid.
    clock.advance(Duration::from_secs(56 * 60));
    sim.set_token_endpoint_down(true);
    let mut stored = Vec::new();
    let summary = day_export(&client, &catalog).copy_to(&mut stored).await.unwrap();
    assert!(summary.records > 0);
    assert_eq!(stored, expected().await);
    // Past the token's life, with the endpoint still down: a typed error.
    clock.advance(Duration::from_secs(10 * 60));
    let err = day_export(&client, &catalog)
        .copy_to(&mut Vec::new())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Auth(_)), "{err:?}");
}
