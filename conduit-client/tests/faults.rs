//! The fault matrix on the sandbox: each fault ends in recovery with every datapoint
//! once, or in a typed error. No test waits for real seconds: backoff and throttle run
//! on a manual clock.

mod common;

use std::sync::Arc;
use std::time::Duration;

use client_core::ManualClock;
use conduit_client::{Client, Datapoint, Error, Tier};
use futures::TryStreamExt;
use jiff::Timestamp;
use sandbox::Faults;
use sandbox::conduit::{Config, Sandbox};
use secrecy::SecretString;

/// 2026-01-01T00:00:00Z, and two days of five channels at one a minute: 14,400 points.
const START: i64 = 1_767_225_600;
const END: i64 = START + 2 * 86_400;

fn client(sim: &Sandbox, clock: &ManualClock, timeout: Option<Duration>) -> Client {
    Client::builder()
        .base_url(sim.base_url())
        .token(SecretString::from(sim.token().to_owned()))
        .tier(Tier::Unlimited)
        .clock(Arc::new(clock.clone()))
        .read_timeout(timeout)
        .build()
        .unwrap()
}

async fn export(
    sim: &Sandbox,
    clock: &ManualClock,
    timeout: Option<Duration>,
) -> Result<Vec<Datapoint>, Error> {
    client(sim, clock, timeout)
        .datapoints()
        .range(
            Timestamp::from_second(START).unwrap(),
            Timestamp::from_second(END).unwrap(),
        )
        .stream()
        .try_collect()
        .await
}

/// Every point created in the range, once (and nothing else but points at its edges).
fn assert_complete(sim: &Sandbox, points: &[Datapoint], what: &str) {
    let got = common::identities(points);
    let truth = sim.points_created_in(START, END);
    let edges = common::edge_identities(sim, START, END);
    if let Err(problem) = common::check_once(&got, &truth, &edges) {
        panic!("{what}: {problem}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_faults_are_recovered_from_with_every_point_once() {
    let cases = [
        ("a burst of 503s", Faults::none().fail_first(3, 503)),
        (
            "429 with Retry-After",
            Faults::none().fail_first(2, 429).with_retry_after(2),
        ),
        ("429 without Retry-After", Faults::none().fail_first(2, 429)),
        ("resets before the headers", Faults::none().reset_connections(2)),
    ];
    for (what, faults) in cases {
        let sim = Sandbox::start(Config::default().with_faults(faults))
            .await
            .unwrap();
        let clock = ManualClock::new();
        let points = export(&sim, &clock, None)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(sim.pending_resets(), 0, "{what}: every reset happened");
        assert_complete(&sim, &points, what);
        match what {
            "429 with Retry-After" => assert!(clock.sleeps().contains(&Duration::from_secs(2)), "{what}"),
            // No interval (unlimited tier) when the server does not say: the retry
            // policy's backoff, at most 0.5 s then 1 s.
            "429 without Retry-After" => assert!(
                clock.sleeps().len() == 2
                    && clock.sleeps().iter().all(|wait| *wait <= Duration::from_secs(1)),
                "{what}: {:?}",
                clock.sleeps()
            ),
            // Each failure was waited out before the retry.
            _ => assert!(clock.sleeps().len() >= 2, "{what}: {:?}", clock.sleeps()),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lasting_faults_end_in_typed_errors() {
    // Every body cut after 500 bytes of an announced length (a short Content-Length, a
    // reset mid-body): retried, then Truncated.
    let sim = Sandbox::start(Config::default().with_faults(Faults::none().cut_body_after(500)))
        .await
        .unwrap();
    let err = export(&sim, &ManualClock::new(), None).await.unwrap_err();
    assert!(matches!(err, Error::Truncated(_)), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(sim.requests(), 4);

    // A server slower than the read timeout: retried, then Timeout.
    let sim = Sandbox::start(Config::default().with_faults(Faults::none().delay(Duration::from_millis(300))))
        .await
        .unwrap();
    let err = export(&sim, &ManualClock::new(), Some(Duration::from_millis(50)))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");

    // 503 for longer than the retry policy lasts.
    let sim = Sandbox::start(Config::default().with_faults(Faults::none().fail_first(100, 503)))
        .await
        .unwrap();
    let err = export(&sim, &ManualClock::new(), None).await.unwrap_err();
    assert!(matches!(&err, Error::Server(api) if api.status == 503), "{err:?}");
    assert_eq!(err.status(), Some(503));
}
