//! Reconciliation of a month of a large project against the DT sandbox over loopback:
//! events/s and the peak RSS with the missing pushes kept in memory, against the same
//! read bounded by the default memory limit and by a small one.
//!
//! `cargo bench -p dt-client --bench reconcile` runs each case in a child process of its
//! own (so each peak RSS is its own): `in-memory` (no limit), `bounded` (the default,
//! [`dt_client::DEFAULT_RECONCILE_MEMORY`]) and `small` (8 MiB). Pass a case (and
//! optionally a device count, for instance `-- bounded 480`) to run one here. The
//! simulator runs in the same process in every case, so the differences between the
//! cases' RSS are the reconciliation's.
//!
//! The project: `DEVICES` devices (240 by default), one event each every 15 minutes, 31
//! days; the receiver got every other event of each device; the connector forwards every
//! type with two label keys.

use dt_client::{Client, ConnectorUpdate, NewDataConnector, ReceivedIds};
use jiff::{SignedDuration, Timestamp};
use sandbox::bench::drain;
use sandbox::dt::{Config, PROJECT, Sandbox};

const DEVICES: usize = 240;

async fn run(case: &str, devices: usize) {
    let sim = Sandbox::start(Config::default().with_devices_per_project(devices))
        .await
        .expect("sandbox starts");
    let vars = sim.env_vars();
    let client = Client::from_vars(sandbox::env_lookup(&vars)).expect("client builds");
    let connector = client
        .create_data_connector(
            PROJECT,
            &NewDataConnector::new("bench", "http://127.0.0.1:9/push")
                .with(ConnectorUpdate::new().labels(["name", "floor"])),
        )
        .await
        .expect("connector");
    let connector = connector.id().expect("an id").to_owned();
    // A month of whole quarter hours, ending an hour ago.
    let to = Timestamp::from_second((Timestamp::now().as_second() - 3600) / 900 * 900).expect("a time");
    let from = to - SignedDuration::from_hours(31 * 24);
    let mut received = ReceivedIds::new();
    let mut total = 0u64;
    for device in sim.devices().iter().filter(|d| d.project == PROJECT) {
        let ids = sim.event_ids(&device.id, from, to);
        total += ids.len() as u64;
        received.extend(ids.iter().step_by(2));
    }
    let limit = match case {
        "in-memory" => usize::MAX,
        "small" => 8 * 1024 * 1024,
        _ => dt_client::DEFAULT_RECONCILE_MEMORY,
    };
    let rss_before = sandbox::bench::peak_rss_kib();
    let mut missing = client
        .reconcile(PROJECT, connector)
        .range(from, to)
        .received(received)
        .memory_limit(limit)
        .stream();
    let (count, elapsed) = drain(&mut missing).await.expect("reconciles");
    let summary = missing.summary();
    assert_eq!(summary.in_history, total);
    assert_eq!(count, summary.missing);
    let seconds = elapsed.as_secs_f64();
    println!(
        "{case:>9}: {devices} devices, {total} events in history, {count} missing, {seconds:.2} s: {:.0} events/s; {} MiB spilled; peak RSS {} KiB (before reading {} KiB)",
        total as f64 / seconds,
        summary.spilled_bytes / (1024 * 1024),
        sandbox::bench::peak_rss_kib(),
        rss_before,
    );
}

fn main() {
    sandbox::bench::async_cases_in_children(&["in-memory", "bounded", "small"], |case, rest| async move {
        let devices = rest.first().and_then(|c| c.parse().ok()).unwrap_or(DEVICES);
        run(&case, devices).await;
    });
}
