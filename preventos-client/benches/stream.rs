//! Streams NDJSON records from the Preventos sandbox over loopback through the typed
//! stream and prints records/s, MB/s and the process's peak RSS; and, side by side on
//! the same sandbox, the same request read by the Python recipe of the Preventos
//! document (`scripts/bench_peer.py`: `requests` and `json.loads` per line).
//!
//! `cargo bench -p preventos-client --bench stream` runs 1 million and 10 million
//! records, each in a child process of its own so each peak RSS is its own, then the
//! side-by-side case `python` when `BENCH_PYTHON` names a Python interpreter with
//! `requests` (`scripts/bench` installs one in `target/bench-peer/venv`; without it the
//! case says it is skipped). The side-by-side case serves one body rendered in advance
//! to both readers. Pass `1000000` or `10000000` to run one size in this process, or
//! `python [RECORDS]` for the side-by-side case alone (default 10 million: the typed
//! read is then timed over most of a second, not over its warm-up). `BENCH_PEER`
//! overrides the peer script's path.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use preventos_client::{Client, ValuesQuery};
use sandbox::preventos::{Config, Sandbox, SignalSpec, SiteSpec};

/// The side-by-side target of issue 19: the typed stream at least this many times the
/// Python recipe's records/s.
const PYTHON_TARGET: f64 = 20.0;

/// A sandbox with one signal at one value a second, and a budget that lets one request
/// cover any range; a client of it; and the request of `records` values. With `cached`,
/// the sandbox keeps the body once rendered (`Config::cache_bodies`), so that serving it
/// again costs next to nothing.
async fn setup(records: u64, cached: bool) -> (Sandbox, ValuesQuery) {
    let mut config = Config::default().with_body_cache(cached);
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
    let query = client.signal_values("1", "bench", "Fast").range(from, to);
    (sim, query)
}

/// Reads `query` through the typed stream: records, bytes served and time taken.
async fn typed(sim: &Sandbox, query: &ValuesQuery) -> (u64, u64, Duration) {
    let before = sim.bytes_served();
    let (count, elapsed) = sandbox::bench::drain(query.clone().stream())
        .await
        .expect("records decode");
    (count, sim.bytes_served() - before, elapsed)
}

async fn run(records: u64) {
    let (sim, query) = setup(records, false).await;
    let (count, bytes, elapsed) = typed(&sim, &query).await;
    let seconds = elapsed.as_secs_f64();
    let megabytes = bytes as f64 / 1e6;
    assert_eq!(count, records);
    println!(
        "{count:>10} records {megabytes:>8.1} MB in {seconds:>6.2} s: {:>10.0} records/s {:>7.1} MB/s, peak RSS {} KiB",
        count as f64 / seconds,
        megabytes / seconds,
        sandbox::bench::peak_rss_kib()
    );
}

/// The typed stream, then the Python peer on the same sandbox, request and bytes.
async fn side_by_side(records: u64) {
    let Some(python) = std::env::var_os("BENCH_PYTHON") else {
        println!("python: skipped (set BENCH_PYTHON to a Python with `requests`, as scripts/bench does)");
        return;
    };
    let peer = std::env::var_os("BENCH_PEER").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/bench_peer.py"),
        PathBuf::from,
    );
    // The body is rendered once, untimed, and served again as it was to both readers:
    // what is timed is each reader, not the sandbox rendering records on the same cores.
    let (sim, query) = setup(records, true).await;
    typed(&sim, &query).await;

    let (count, bytes, elapsed) = typed(&sim, &query).await;
    assert_eq!(count, records);
    let rust = count as f64 / elapsed.as_secs_f64();
    println!(
        "python: typed stream {count} records {:.1} MB in {:.2} s: {rust:.0} records/s",
        bytes as f64 / 1e6,
        elapsed.as_secs_f64()
    );

    // The same request: its path under the base URL and its query pairs.
    let preview = query.to_request().expect("the request");
    let base = sim.base_url();
    let path = preview
        .url
        .as_str()
        .strip_prefix(&base)
        .expect("the values URL is under the base URL")
        .to_owned();
    let mut command = Command::new(&python);
    command
        .arg(&peer)
        .arg(path)
        .args(
            preview
                .query
                .iter()
                .map(|(name, value)| format!("{name}={value}")),
        )
        .envs(sim.env_vars())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let before = sim.bytes_served();
    // The sandbox serves on this runtime: wait for the peer on a blocking thread.
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the peer's thread")
        .unwrap_or_else(|err| panic!("{} does not run: {err}", python.to_string_lossy()));
    let served = sim.bytes_served() - before;
    assert!(
        output.status.success(),
        "the Python peer failed: {}",
        output.status
    );
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("the peer prints one JSON object");
    let python_records = report["records"].as_u64().expect("records");
    let python_seconds = report["seconds"].as_f64().expect("seconds");
    assert_eq!(python_records, records, "the peer's records");
    assert_eq!(served, bytes, "both reads are served the same bytes");
    let peer_rate = python_records as f64 / python_seconds;
    println!(
        "python: python peer {python_records} records {:.1} MB in {python_seconds:.2} s: {peer_rate:.0} records/s (requests, iter_lines, json.loads)",
        served as f64 / 1e6
    );
    println!(
        "python: ratio {:.1} (typed records/s / python records/s; target >= {PYTHON_TARGET})",
        rust / peer_rate
    );
}

fn main() {
    sandbox::bench::async_cases_in_children(&["1000000", "10000000", "python"], |case, rest| async move {
        if case == "python" {
            let records = rest.first().and_then(|c| c.parse().ok()).unwrap_or(10_000_000);
            side_by_side(records).await;
        } else {
            run(case.parse().expect("a count")).await;
        }
    });
}
