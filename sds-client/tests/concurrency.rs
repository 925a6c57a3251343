//! Observation pages asked for ahead: with a latency per response the pages overlap, and
//! the read yields the same observations, in the same order, as one page at a time,
//! under every reading of `pageTotal`. (Resuming from checkpoints with pages in flight
//! is tested in `checkpoints.rs`, at the default concurrency.)

mod common;

use std::time::Duration;

use client_core::ManualClock;
use futures::TryStreamExt;
use sandbox::Faults;
use sandbox::sds::{Config, ITWIN, PageTotal, Readings, Sandbox};
use sds_client::{DEFAULT_PAGE_CONCURRENCY, RawObservation};

/// Two days and a bit, 2,893 observations: 12 pages of 250.
const FROM: &str = "2025-03-01T00:00:00Z";
const TO: &str = "2025-03-03T00:13:00Z";

/// Reads the range at `concurrency` from a simulator playing `readings` with a 20 ms
/// latency per response: the texts, and the most requests that were in flight at once.
async fn read(readings: Readings, concurrency: usize) -> (Vec<String>, u64) {
    let config = Config::default()
        .with_readings(readings)
        .with_faults(Faults::none().delay(Duration::from_millis(20)));
    let sim = Sandbox::start(config).await.unwrap();
    let texts: Vec<String> = common::client(&sim, &ManualClock::new())
        .observations(ITWIN, "sensor-1")
        .metric("T")
        .unit("F")
        .range(common::at(FROM), common::at(TO))
        .page_size(250)
        .concurrency(concurrency)
        .records::<RawObservation>()
        .stream()
        .map_ok(|raw| raw.as_str().to_owned())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(texts.len(), 2893, "{readings:?} at {concurrency}");
    (texts, sim.peak_concurrent_requests())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_overlap_and_come_in_order_under_every_page_total_reading() {
    for readings in [
        Readings::default().with_page_total(PageTotal::Pages),
        Readings::default().with_page_total(PageTotal::Observations),
        Readings::default().with_one_based_pages(),
    ] {
        let (one_at_a_time, peak) = read(readings, 1).await;
        assert_eq!(peak, 1, "{readings:?}: one page at a time");
        let (ahead, peak) = read(readings, DEFAULT_PAGE_CONCURRENCY).await;
        assert_eq!(ahead, one_at_a_time, "{readings:?}");
        assert!(
            (2..=DEFAULT_PAGE_CONCURRENCY as u64).contains(&peak),
            "{readings:?}: {peak} in flight at once"
        );
    }
}

#[tokio::test]
async fn a_concurrency_of_zero_is_refused() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let err = common::client(&sim, &ManualClock::new())
        .observations(ITWIN, "sensor-1")
        .metric("T")
        .unit("F")
        .range(common::at(FROM), common::at(TO))
        .concurrency(0)
        .to_request()
        .unwrap_err();
    assert!(err.to_string().contains("concurrency"), "{err}");
    assert_eq!(sim.requests(), 0);
}
