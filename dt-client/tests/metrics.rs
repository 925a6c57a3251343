//! What the DT live stream counts (`client_core::metrics`), read back from a debugging
//! recorder: each reconnection whose gap history filled, the events history repeated
//! (dropped as duplicates), and no gap reported when none was.
//!
//! The recorder is this thread's, and the test runs on a current-thread runtime, so that
//! what the stream's tasks record lands in it.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use dt_client::metrics::{DUPLICATES_DROPPED, GAPS, GAPS_FILLED, RECORDS};
use dt_client::{RawEvent, StreamItem};
use futures::StreamExt;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use sandbox::dt::{Config, PROJECT, Sandbox, StreamFaults};
use serde_json::json;

/// Each counter labelled `api="dt"`, summed over its other labels.
fn counted(snapshotter: &Snapshotter) -> HashMap<String, u64> {
    let mut counters = HashMap::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let key = key.key();
        if !key.labels().any(|l| l.key() == "api" && l.value() == "dt") {
            continue;
        }
        if let DebugValue::Counter(n) = value {
            *counters.entry(key.name().to_owned()).or_default() += n;
        }
    }
    counters
}

#[tokio::test]
async fn a_reconnection_counts_its_filled_gap_and_the_repeated_events() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _recording = metrics::set_default_local_recorder(&recorder);
    // Every connection drops after its first event: each event is heard live, then read
    // again by the backfill of the next connection.
    let sim = Sandbox::start(Config::default().with_stream_faults(StreamFaults::drop_after(1)))
        .await
        .unwrap();
    let client = common::client(&sim);
    let labels = serde_json::Map::from_iter([("name".to_owned(), json!("metrics"))]);
    let device = client
        .create_emulated_device(PROJECT, "temperature", &labels)
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let mut items = client
        .live_events(PROJECT)
        .device_ids([device.clone()])
        .records::<RawEvent>()
        .stream();
    let (sender, mut received) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(item) = items.next().await {
            if sender.send(item).is_err() {
                break;
            }
        }
    });
    for _ in 0..500 {
        if sim.history_pages() >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut events = 0;
    for value in 1..=3 {
        client
            .publish(PROJECT, &device, "temperature", &json!({ "value": value }))
            .await
            .unwrap();
        let item = tokio::time::timeout(Duration::from_secs(20), received.recv())
            .await
            .expect("an item in time")
            .expect("the stream runs");
        match item {
            Ok(StreamItem::Event(_)) => events += 1,
            other => panic!("{other:?}"),
        }
    }
    // The third event's connection has dropped too: wait until its reconnection's
    // history read is over, so that every count is in.
    let connections = sim.stream_connections();
    for _ in 0..500 {
        if sim.history_pages() >= connections as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let counted = counted(&snapshotter);
    let count = |name: &str| counted.get(name).copied().unwrap_or(0);
    assert_eq!(events, 3);
    assert!(count(RECORDS) >= 3, "{counted:?}");
    assert!(count(GAPS_FILLED) >= 2, "each reconnection's gap: {counted:?}");
    assert!(
        count(GAPS_FILLED) < sim.stream_connections() as u64,
        "never the first connection's: {counted:?}"
    );
    assert!(
        count(DUPLICATES_DROPPED) >= 2,
        "the events read again: {counted:?}"
    );
    assert_eq!(count(GAPS), 0, "no gap was reported: {counted:?}");
}
