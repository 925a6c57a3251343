//! Streams one million observations from the Sensor Data sandbox over loopback, page by
//! page, and prints observations/s and the process's peak RSS.
//!
//! `cargo bench -p sds-client --bench observations` runs the typed stream
//! ([`sds_client::Observation`]) and the lossless one ([`sds_client::RawObservation`]),
//! each in a child process of its own so each peak RSS is its own. Pass `typed` or `raw`
//! (and optionally a count) to run one in this process.

use std::time::Instant;

use futures::StreamExt;
use jiff::{SignedDuration, Timestamp};
use sandbox::sds::{Config, ITWIN, Sandbox};
use sds_client::{Client, Observation, RawObservation};

async fn run(kind: &str, count: u64) {
    let sim = Sandbox::start(Config::default()).await.expect("sandbox starts");
    let vars = sim.env_vars();
    let client = Client::from_vars(sandbox::env_lookup(&vars)).expect("client builds");
    let from: Timestamp = "2025-01-01T00:00:00Z".parse().expect("timestamp");
    // One value a minute.
    let to = from + SignedDuration::from_secs(60 * count as i64);
    let query = client
        .observations(ITWIN, "sensor-1")
        .metric("T")
        .unit("C")
        .range(from, to);
    let started = Instant::now();
    let mut seen = 0u64;
    if kind == "raw" {
        let mut stream = query.records::<RawObservation>().stream();
        while let Some(observation) = stream.next().await {
            std::hint::black_box(observation.expect("observation decodes"));
            seen += 1;
        }
    } else {
        let mut stream = query.records::<Observation>().stream();
        while let Some(observation) = stream.next().await {
            std::hint::black_box(observation.expect("observation decodes"));
            seen += 1;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(seen, count);
    println!(
        "{kind:>5}: {seen:>9} observations in {:>4} pages, {seconds:>6.2} s: {:>9.0} observations/s, peak RSS {} KiB",
        sim.observation_pages(),
        seen as f64 / seconds,
        sandbox::bench::peak_rss_kib()
    );
}

fn main() {
    sandbox::bench::cases_in_children(&["typed", "raw"], |kind, rest| {
        let count = rest.first().and_then(|c| c.parse().ok()).unwrap_or(1_000_000);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(run(kind, count));
    });
}
