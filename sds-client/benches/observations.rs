//! Streams one million observations from the Sensor Data sandbox over loopback, page by
//! page, and prints observations/s and the process's peak RSS.
//!
//! `cargo bench -p sds-client --bench observations` runs the typed stream
//! ([`sds_client::Observation`]) and the lossless one ([`sds_client::RawObservation`]),
//! each in a child process of its own so each peak RSS is its own. Pass `typed` or `raw`
//! (and optionally a count, for instance `-- typed 10000000`) to run one in this process.

use jiff::{SignedDuration, Timestamp};
use sandbox::bench::drain;
use sandbox::sds::{Config, ITWIN, Sandbox};
use sds_client::{Client, Observation, RawObservation};

async fn run(kind: &str, count: u64) {
    let from: Timestamp = "2025-01-01T00:00:00Z".parse().expect("timestamp");
    // One value a minute.
    let to = from + SignedDuration::from_secs(60 * count as i64);
    // The sandbox's data ends after two years (1,051,200 minutes): a larger count
    // (10 million for scripts/bench) moves its end.
    let mut config = Config::default();
    config.data_end = config.data_end.max(to);
    let sim = Sandbox::start(config).await.expect("sandbox starts");
    let vars = sim.env_vars();
    let client = Client::from_vars(sandbox::env_lookup(&vars)).expect("client builds");
    let query = client
        .observations(ITWIN, "sensor-1")
        .metric("T")
        .unit("C")
        .range(from, to);
    let drained = if kind == "raw" {
        drain(query.records::<RawObservation>().stream()).await
    } else {
        drain(query.records::<Observation>().stream()).await
    };
    let (seen, elapsed) = drained.expect("observations decode");
    let seconds = elapsed.as_secs_f64();
    assert_eq!(seen, count);
    println!(
        "{kind:>5}: {seen:>9} observations in {:>4} pages, {seconds:>6.2} s: {:>9.0} observations/s, peak RSS {} KiB",
        sim.observation_pages(),
        seen as f64 / seconds,
        sandbox::bench::peak_rss_kib()
    );
}

fn main() {
    sandbox::bench::async_cases_in_children(&["typed", "raw"], |kind, rest| async move {
        let count = rest.first().and_then(|c| c.parse().ok()).unwrap_or(1_000_000);
        run(&kind, count).await;
    });
}
