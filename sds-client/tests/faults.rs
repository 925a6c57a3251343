//! The fault matrix on the sandbox: each fault ends in recovery with every observation
//! once, or in a typed error. No test waits for real seconds: backoff runs on a manual
//! clock.

mod common;

use std::sync::Arc;
use std::time::Duration;

use client_core::ManualClock;
use futures::TryStreamExt;
use sandbox::Faults;
use sandbox::sds::{Config, ITWIN, Sandbox};
use sds_client::{Client, Error, Observation, RateLimit, RetryPolicy};
use secrecy::SecretString;

const FROM: &str = "2025-05-01T00:00:00Z";
const TO: &str = "2025-05-02T00:00:00Z";

fn client(sim: &Sandbox, clock: &ManualClock, timeout: Option<Duration>) -> Client {
    common::builder(sim, clock)
        .read_timeout(timeout)
        .page_size(500)
        .build()
        .unwrap()
}

async fn export(client: &Client) -> Result<Vec<Observation>, Error> {
    client
        .observations(ITWIN, "sensor-3")
        .metric("f")
        .unit("digits")
        .range(common::at(FROM), common::at(TO))
        .stream()
        .try_collect()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_faults_are_recovered_from_with_every_observation_once() {
    // With a bearer token: the token endpoint shares the listener, and its faults are
    // another matter (client-core's token tests).
    let cases = [
        ("a burst of 503s", Faults::none().fail_first(3, 503)),
        (
            "429 with Retry-After",
            Faults::none().fail_first(2, 429).with_retry_after(2),
        ),
        ("resets before the headers", Faults::none().reset_connections(2)),
    ];
    for (what, faults) in cases {
        let sim = Sandbox::start(Config::default().with_faults(faults))
            .await
            .unwrap();
        let clock = ManualClock::new();
        let client = Client::builder()
            .base_url(sim.base_url())
            .access_token(SecretString::from(sim.config().access_token.clone()))
            .clock(Arc::new(clock.clone()))
            .page_size(500)
            .build()
            .unwrap();
        let got = export(&client).await.unwrap_or_else(|e| panic!("{what}: {e}"));
        let truth = sim.observations_in("sensor-3", "f", "digits", common::at(FROM), common::at(TO));
        let pairs: Vec<_> = got
            .iter()
            .map(|o| (o.timestamp.as_millisecond(), o.value.unwrap()))
            .collect();
        assert_eq!(pairs, truth, "{what}");
        assert_eq!(sim.pending_resets(), 0, "{what}: every reset happened");
        if what == "429 with Retry-After" {
            assert_eq!(
                clock.sleeps(),
                [Duration::from_secs(2), Duration::from_secs(2)],
                "{what}"
            );
        } else {
            assert!(clock.sleeps().len() >= 2, "{what}: {:?}", clock.sleeps());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lasting_faults_end_in_typed_errors() {
    let sim = Sandbox::start(Config::default().with_faults(Faults::none().cut_body_after(300)))
        .await
        .unwrap();
    let err = export(&client(&sim, &ManualClock::new(), None))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Truncated(_)), "{err:?}");

    let sim = Sandbox::start(Config::default().with_faults(Faults::none().delay(Duration::from_millis(300))))
        .await
        .unwrap();
    let err = export(&client(
        &sim,
        &ManualClock::new(),
        Some(Duration::from_millis(50)),
    ))
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");

    let sim = Sandbox::start(Config::default().with_faults(Faults::none().fail_first(100, 503)))
        .await
        .unwrap();
    let err = export(&client(&sim, &ManualClock::new(), None))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Server(api) if api.status == 503 && api.code_text().as_deref() == Some("SandboxFault"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_rate_limit_surfaces_retry_after_and_the_rate_limit_headers() {
    let sim = Sandbox::start(Config::default().with_rate_limit(2, Duration::from_secs(3600)))
        .await
        .unwrap();
    let clock = ManualClock::new();
    let client = common::builder(&sim, &clock)
        .retry_policy(RetryPolicy::default().with_max_delay(Duration::from_secs(60)))
        .build()
        .unwrap();
    client.nodes(ITWIN).send().await.unwrap();
    client.sensors(ITWIN).send().await.unwrap();
    let err = client.datasources(ITWIN).send().await.unwrap_err();
    let Error::Throttled { retry_after, api } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(*retry_after, Some(Duration::from_secs(3600)));
    assert_eq!(
        api.as_ref().unwrap().code_text().as_deref(),
        Some("RateLimitExceeded")
    );
    let limit = err.detail::<RateLimit>().unwrap();
    assert_eq!(
        (limit.limit, limit.remaining, limit.reset.as_deref()),
        (Some(2), Some(0), Some("3600"))
    );
    // Not retried: the server asked for longer than the policy waits.
    assert!(clock.sleeps().is_empty(), "{:?}", clock.sleeps());
    assert_eq!(sim.throttled(), 1);
}
