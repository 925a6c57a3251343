//! What a Conduit read counts (`client_core::metrics`), read back from a debugging
//! recorder: a dense range whose windows the server refuses as too large is re-planned,
//! and every datapoint yielded is counted once.
//!
//! The recorder is this thread's, and the test runs on a current-thread runtime, so that
//! what the client's tasks record lands in it.

use conduit_client::{Client, Tier};
use futures::TryStreamExt;
use jiff::{SignedDuration, Timestamp};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use sandbox::conduit::{CapReading, Config, Readings, Sandbox};
use secrecy::SecretString;

#[tokio::test]
async fn refused_windows_are_counted_as_re_plans_and_datapoints_once() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _recording = metrics::set_default_local_recorder(&recorder);
    let sim = Sandbox::start(
        Config::default().with_readings(
            Readings::default()
                .with_cap(CapReading::Oldest)
                .with_too_large_above(Some(5_000)),
        ),
    )
    .await
    .unwrap();
    let client = Client::builder()
        .base_url(sim.base_url())
        .token(SecretString::from(sim.token().to_owned()))
        .tier(Tier::Unlimited)
        .build()
        .unwrap();
    // 14 days of two channels at one a minute: 40,320 points, in windows the client aims
    // at the 10,000 cap and the server refuses (413) above 5,000.
    let from = Timestamp::from_second(1_767_225_600).unwrap();
    let to = from + SignedDuration::from_hours(24 * 14);
    let points = client
        .datapoints()
        .id("70B3D54990DC02EB")
        .range(from, to)
        .stream()
        .try_fold(0u64, |n, _| async move { Ok(n + 1) })
        .await
        .unwrap();
    // One snapshot: a snapshot takes the counts, the next one starts from zero.
    let snapshot = snapshotter.snapshot().into_vec();
    let counter = |name: &str| -> u64 {
        snapshot
            .iter()
            .filter(|(key, ..)| key.key().name() == name)
            .filter(|(key, ..)| {
                key.key()
                    .labels()
                    .any(|l| l.key() == "api" && l.value() == "conduit")
            })
            .map(|(.., value)| match value {
                DebugValue::Counter(n) => *n,
                other => panic!("{name}: {other:?}"),
            })
            .sum()
    };
    assert_eq!(counter(conduit_client::metrics::RECORDS), points);
    assert!(
        counter(conduit_client::metrics::REPLANS) >= 1,
        "the refused windows were cut again"
    );
    // Every request the sandbox answered, and nothing else.
    assert_eq!(counter(conduit_client::metrics::REQUESTS), sim.requests());
}
