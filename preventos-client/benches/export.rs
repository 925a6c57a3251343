//! The concurrency of a multi-window export, against the sandbox with a fixed latency
//! per response: one year of two PT1M signals (two DB queries, so 24 windows within the
//! default budget), exported to nowhere sequentially and at the default concurrency.
//! Prints each wall time and its ratio to the ideal (windows / N x latency), one line
//! per case, with the machine's load average over the last minute when the case ended.
//!
//! The sandbox keeps the bodies it rendered (`Config::cache_bodies`), and one untimed
//! export without latency renders them all first: the timed runs are served prepared
//! bytes, so serving is not what is measured.
//!
//! `cargo bench -p preventos-client --bench export [-- LATENCY_MS]` (default 200 ms).

use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use preventos_client::{Client, DEFAULT_CONCURRENCY};
use sandbox::Faults;
use sandbox::preventos::{Config, Sandbox};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let latency_ms: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200);
    let latency = Duration::from_millis(latency_ms);
    let sim = Sandbox::start(Config::default().with_body_cache(true))
        .await
        .expect("the sandbox starts");
    let vars = sim.env_vars();
    let client =
        Client::from_vars(sandbox::env_lookup(&vars)).expect("the sandbox's variables make a client");
    let catalog = client.catalog().await.expect("the catalog");
    let from: Timestamp = "2025-01-01T00:00:00Z".parse().expect("a timestamp");
    let to = from + SignedDuration::from_hours(24 * 365);
    let export = client
        .export("100", "site-ref", ["Velocity", "Depth"])
        .range(from, to)
        .catalog(&catalog);
    let windows = export.plan(&catalog).expect("a plan").len();
    // Untimed, without latency: every window's body rendered and kept.
    export
        .clone()
        .copy_to(&mut tokio::io::sink())
        .await
        .expect("the warm-up export");
    assert_eq!(sim.cached_bodies(), windows, "every window's body is kept");
    sim.set_faults(Faults::none().delay(latency));
    println!(
        "one year of Velocity and Depth (PT1M, two DB queries): {windows} windows, {latency_ms} ms per response, bodies prepared"
    );
    for concurrency in [1, DEFAULT_CONCURRENCY] {
        let started = Instant::now();
        let summary = export
            .clone()
            .concurrency(concurrency)
            .copy_to(&mut tokio::io::sink())
            .await
            .expect("the export");
        let wall = started.elapsed();
        let ideal = latency.mul_f64(windows.div_ceil(concurrency) as f64);
        let load = sandbox::bench::load_average().map_or("unknown".to_owned(), |l| format!("{l:.2}"));
        println!(
            "concurrency {concurrency}: {:.2} s wall, {} records, {:.1} MB, {} requests; ideal {:.2} s, ratio {:.2}; load {load}",
            wall.as_secs_f64(),
            summary.records,
            summary.bytes as f64 / 1e6,
            summary.requests,
            ideal.as_secs_f64(),
            wall.as_secs_f64() / ideal.as_secs_f64()
        );
    }
}
