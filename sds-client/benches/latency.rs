//! The wall time of an observations read over a network with a fixed latency per
//! response, one page at a time and at the default concurrency: 100 pages of 1,000
//! observations from the Sensor Data sandbox. Prints each wall time and its ratio to the
//! ideal (pages / concurrency x latency).
//!
//! `cargo bench -p sds-client --bench latency [-- LATENCY_MS]` (default 100 ms).

use std::time::{Duration, Instant};

use futures::TryStreamExt;
use jiff::{SignedDuration, Timestamp};
use sandbox::Faults;
use sandbox::sds::{Config, ITWIN, Sandbox};
use sds_client::{Client, DEFAULT_PAGE_CONCURRENCY, RawObservation};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let latency_ms: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100);
    let latency = Duration::from_millis(latency_ms);
    let from: Timestamp = "2025-01-01T00:00:00Z".parse().expect("a timestamp");
    // One value a minute: 100,000 observations, 100 pages of 1,000.
    let to = from + SignedDuration::from_mins(100_000);
    println!("100,000 observations in pages of 1,000, {latency_ms} ms per response");
    for concurrency in [1, DEFAULT_PAGE_CONCURRENCY] {
        let sim = Sandbox::start(Config::default().with_faults(Faults::none().delay(latency)))
            .await
            .expect("the sandbox starts");
        let vars = sim.env_vars();
        let client =
            Client::from_vars(sandbox::env_lookup(&vars)).expect("the sandbox's variables make a client");
        let started = Instant::now();
        let count = client
            .observations(ITWIN, "sensor-1")
            .metric("T")
            .unit("C")
            .range(from, to)
            .page_size(1_000)
            .concurrency(concurrency)
            .records::<RawObservation>()
            .stream()
            .try_fold(0u64, |n, _| async move { Ok(n + 1) })
            .await
            .expect("the read");
        let wall = started.elapsed();
        let pages = sim.observation_pages();
        // Every request waits the latency, the token request included.
        let requests = sim.requests();
        let ideal = latency.mul_f64(requests.div_ceil(concurrency as u64) as f64);
        println!(
            "concurrency {concurrency}: {count} observations, {pages} pages, {requests} requests, {:.2} s wall; ideal {:.2} s, ratio {:.2}",
            wall.as_secs_f64(),
            ideal.as_secs_f64(),
            wall.as_secs_f64() / ideal.as_secs_f64()
        );
    }
}
