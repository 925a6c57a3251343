//! The wall time of a multi-device history read over a network with a fixed latency per
//! response, one device at a time and at the default concurrency: 16 devices of the DT
//! sandbox, each with 8 pages of 100 events in the range. Prints one line per case with
//! its wall time and the ratio to the ideal (requests / concurrency x latency).
//!
//! `cargo bench -p dt-client --bench devices [-- LATENCY_MS [PAGES_PER_DEVICE]]` (default
//! 100 ms and 8 pages: with more pages per device than `DEVICE_PAGES_AHEAD + 1`, the
//! devices read ahead stop at their bound and the ratio grows).

use std::time::{Duration, Instant};

use dt_client::{Client, DEFAULT_DEVICE_CONCURRENCY};
use futures::TryStreamExt;
use jiff::{SignedDuration, Timestamp};
use sandbox::Faults;
use sandbox::dt::{Config, PROJECT, Sandbox};

const DEVICES: usize = 16;
const PAGE_SIZE: u32 = 100;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let numbers: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let latency_ms = numbers.first().copied().unwrap_or(100);
    let pages = numbers.get(1).copied().unwrap_or(8).max(1);
    let latency = Duration::from_millis(latency_ms);
    // One event a minute per device: `pages` pages of 100 in the range, the event at its
    // end (which the API's inclusive `endTime` would add) left out.
    let from: Timestamp = "2025-01-01T00:00:00Z".parse().expect("a timestamp");
    let to = from + SignedDuration::from_mins((pages * u64::from(PAGE_SIZE)) as i64)
        - SignedDuration::from_millis(1);
    println!("{DEVICES} devices x {pages} pages of {PAGE_SIZE} events, {latency_ms} ms per response");
    for concurrency in [1, DEFAULT_DEVICE_CONCURRENCY] {
        let config = Config::default()
            .with_interval_seconds(60)
            .with_data_start(from)
            .with_faults(Faults::none().delay(latency));
        let sim = Sandbox::start(config).await.expect("the sandbox starts");
        let vars = sim.env_vars();
        let client =
            Client::from_vars(sandbox::env_lookup(&vars)).expect("the sandbox's variables make a client");
        let devices: Vec<String> = sim
            .devices()
            .into_iter()
            .filter(|d| d.project == PROJECT)
            .map(|d| d.id)
            .take(DEVICES)
            .collect();
        let started = Instant::now();
        let count = client
            .events_of_devices(PROJECT, devices)
            .range(from, to)
            .page_size(PAGE_SIZE)
            .concurrency(concurrency)
            .stream()
            .try_fold(0u64, |n, _| async move { Ok(n + 1) })
            .await
            .expect("the read");
        let wall = started.elapsed();
        assert_eq!(count, DEVICES as u64 * pages * u64::from(PAGE_SIZE));
        // Every API request waits the latency (the token request does not).
        let requests = sim.requests();
        let ideal = latency.mul_f64(requests.div_ceil(concurrency as u64) as f64);
        println!(
            "concurrency {concurrency}: {count} events, {} pages, {requests} requests, peak {} in flight, {:.2} s wall; ideal {:.2} s, ratio {:.2}",
            sim.history_pages(),
            sim.peak_concurrent_requests(),
            wall.as_secs_f64(),
            ideal.as_secs_f64(),
            wall.as_secs_f64() / ideal.as_secs_f64()
        );
    }
}
