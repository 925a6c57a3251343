//! Streams NDJSON records from the Preventos sandbox over loopback through the typed
//! stream and prints records/s, MB/s and the process's peak RSS.
//!
//! `cargo bench -p preventos-client --bench stream` runs 1 million and 10 million
//! records, each in a child process of its own so each peak RSS is its own; pass
//! `1000000` or `10000000` to run one size in this process.

use jiff::{SignedDuration, Timestamp};
use preventos_client::Client;
use sandbox::preventos::{Config, Sandbox, SignalSpec, SiteSpec};

async fn run(records: u64) {
    // One signal at one value a second, and a budget that lets one request cover it all.
    let mut config = Config::default();
    config.sites = vec![SiteSpec {
        env: "1".into(),
        id: "bench".into(),
        name: "Benchmark".into(),
        signals: vec![SignalSpec {
            id: "Fast".into(),
            unit: "x".into(),
            interval_seconds: Some(1),
            db_query: "q".into(),
        }],
    }];
    config.budget = u64::MAX;
    let sim = Sandbox::start(config).await.expect("sandbox starts");
    let vars = sim.env_vars();
    let client = Client::from_vars(sandbox::env_lookup(&vars)).expect("client builds");
    let from: Timestamp = "2026-01-01T00:00:00Z".parse().expect("timestamp");
    let to = from + SignedDuration::from_secs(records as i64);
    let stream = client
        .signal_values("1", "bench", "Fast")
        .range(from, to)
        .stream();
    let (count, elapsed) = sandbox::bench::drain(stream).await.expect("records decode");
    let seconds = elapsed.as_secs_f64();
    let megabytes = sim.bytes_served() as f64 / 1e6;
    assert_eq!(count, records);
    println!(
        "{count:>10} records {megabytes:>8.1} MB in {seconds:>6.2} s: {:>10.0} records/s {:>7.1} MB/s, peak RSS {} KiB",
        count as f64 / seconds,
        megabytes / seconds,
        sandbox::bench::peak_rss_kib()
    );
}

fn main() {
    sandbox::bench::async_cases_in_children(&["1000000", "10000000"], |count, _| async move {
        run(count.parse().expect("a count")).await;
    });
}
