//! What a Preventos export counts (`client_core::metrics`), read back from a debugging
//! recorder: each record of the typed stream once, whatever the format, and every
//! request the sandbox received.
//!
//! The recorder is this thread's, and the tests run on a current-thread runtime, so that
//! what the client's tasks record lands in it.

use std::collections::HashMap;

use futures::TryStreamExt;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use preventos_client::{Client, Format, Record};
use sandbox::preventos::{Config, Sandbox};

/// Each counter labelled `api="preventos"`, summed over its other labels. A snapshot
/// takes the counts (the next one starts from zero): take one per check.
fn counted(snapshotter: &Snapshotter) -> HashMap<String, u64> {
    let mut counters = HashMap::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let key = key.key();
        if !key.labels().any(|l| l.key() == "api" && l.value() == "preventos") {
            continue;
        }
        match value {
            DebugValue::Counter(n) => *counters.entry(key.name().to_owned()).or_default() += n,
            other => panic!("{}: {other:?}", key.name()),
        }
    }
    counters
}

#[tokio::test]
async fn an_exports_records_are_counted_once_in_every_format() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = Client::from_vars(sandbox::env_lookup(&sim.env_vars())).unwrap();
    let day = jiff::civil::date(2026, 5, 31);
    for format in [Format::Ndjson, Format::Json] {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        let _recording = metrics::set_default_local_recorder(&recorder);
        let before = sim.requests();
        let records: Vec<Record> = client
            .export("100", "site-ref", ["Velocity", "Depth"])
            .date(day)
            .time_zone("Europe/Helsinki")
            .format(format)
            .stream()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(records.len(), 2 * 1440, "{format:?}");
        let counted = counted(&snapshotter);
        let count = |name: &str| counted.get(name).copied().unwrap_or(0);
        assert_eq!(
            count(preventos_client::metrics::RECORDS),
            records.len() as u64,
            "{format:?}"
        );
        assert_eq!(
            count(preventos_client::metrics::REQUESTS),
            sim.requests() - before,
            "{format:?}"
        );
        assert!(count(preventos_client::metrics::BYTES) > 0, "{format:?}");
    }
}
