//! `preventos-daily-export --metrics-addr`: `/metrics` scraped during a pass and after
//! it, checked against what the sandbox received and what the pass wrote.

mod daily_common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use std::time::Duration;

use daily_common::{SOUTH, daemon};
use sandbox::Faults;
use sandbox::preventos::{Config, Sandbox};

/// Each sample of a Prometheus text body: `name{labels}` as written, and its value.
fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect()
}

async fn scrape(url: &str) -> HashMap<String, f64> {
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    samples(&response.text().await.unwrap())
}

fn value(samples: &HashMap<String, f64>, series: &str) -> f64 {
    samples.get(series).copied().unwrap_or(0.0)
}

/// The daemon, killed when the test ends, however it ends (it waits for its next pass).
struct Daemon(std::process::Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn lines_and_bytes(folder: &Path) -> (u64, u64) {
    let mut lines = 0;
    let mut bytes = 0;
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "ndjson") {
            let body = std::fs::read(&path).unwrap();
            lines += body.iter().filter(|&&b| b == b'\n').count() as u64;
            bytes += body.len() as u64;
        }
    }
    (lines, bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_during_a_pass_and_count_what_happened() {
    // Each response takes half a second: the second and third days take a second at the
    // least, so that a scrape lands inside the pass.
    let sim = Sandbox::start(Config::default().with_faults(Faults::none().delay(Duration::from_millis(500))))
        .await
        .unwrap();
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("plan.json"), SOUTH).unwrap();
    let command = daemon(
        folder.path(),
        &[
            "--plan",
            "plan.json",
            "--out",
            "out",
            "--from",
            "2026-05-29",
            "--to",
            "2026-05-31",
            "--metrics-addr",
            "127.0.0.1:0",
        ],
        Some(&sim),
    );
    let mut command = command;
    let mut running = Daemon(command.spawn().unwrap());
    let child = &mut running.0;
    // The address comes first on stderr; the rest of stderr is drained (and kept).
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (address, rest) = tokio::task::spawn_blocking(move || {
        let mut lines = stderr.lines();
        let url = lines
            .by_ref()
            .map(Result::unwrap)
            .find_map(|line| line.strip_prefix("metrics: ").map(str::to_owned))
            .expect("the metrics address on stderr");
        (
            url,
            std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>()),
        )
    })
    .await
    .unwrap();
    assert!(
        address.starts_with("http://127.0.0.1:") && address.ends_with("/metrics"),
        "{address}"
    );

    // During the pass: the first day is written, the last is not yet.
    let written = r#"preventos_daily_export_days_total{outcome="written"}"#;
    let mut during = HashMap::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        during = scrape(&address).await;
        if value(&during, written) >= 1.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(value(&during, written) >= 1.0, "no day written: {during:?}");
    assert!(
        value(&during, written) < 3.0,
        "the scrape came after the pass: {during:?}"
    );
    let ok_requests = r#"iiot_client_requests_total{api="preventos",status="200"}"#;
    assert!(value(&during, ok_requests) >= 2.0, "{during:?}");

    // The pass ends when its files are listed; the daemon then waits for its next pass.
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let listed: Vec<String> =
        tokio::task::spawn_blocking(move || stdout.lines().take(3).map(Result::unwrap).collect())
            .await
            .unwrap();
    assert_eq!(listed.len(), 3, "{listed:?}");
    let after = scrape(&address).await;
    let text = reqwest::get(&address).await.unwrap().text().await.unwrap();
    drop(running);
    let log = rest.join().unwrap().join("\n");

    let (lines, bytes) = lines_and_bytes(&folder.path().join("out/south"));
    assert_eq!(value(&after, written), 3.0, "{log}");
    assert_eq!(
        value(&after, r#"preventos_daily_export_days_total{outcome="failed"}"#),
        0.0
    );
    assert_eq!(
        value(&after, r#"preventos_daily_export_passes_total{result="ok"}"#),
        1.0
    );
    // Every request the sandbox received, counted once, all answered 200.
    assert_eq!(value(&after, ok_requests), sim.requests() as f64, "{after:?}");
    assert_eq!(
        after
            .keys()
            .filter(|k| k.starts_with("iiot_client_requests_total") && !k.ends_with(r#"status="200"}"#))
            .count(),
        0,
        "{after:?}"
    );
    assert_eq!(
        value(&after, r#"iiot_client_retries_total{api="preventos"}"#),
        0.0
    );
    // The records stored are the records counted; the bytes received hold them (and the
    // catalog, and the windows' overlap).
    assert_eq!(
        value(&after, r#"iiot_client_records_total{api="preventos"}"#),
        lines as f64
    );
    assert!(value(&after, r#"iiot_client_bytes_total{api="preventos"}"#) >= bytes as f64);
    // Help text for the SDK's counters and the daemon's.
    assert!(text.contains("# HELP iiot_client_requests_total "), "{text}");
    assert!(
        text.contains("# HELP preventos_daily_export_days_total "),
        "{text}"
    );
}
