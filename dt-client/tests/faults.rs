//! The fault matrix on the DT sandbox: each fault ends in recovery with every event
//! once, or in a typed error. Backoff runs on a manual clock: no real waits.

mod common;

use std::time::Duration;

use client_core::ManualClock;
use dt_client::{Client, Error, RawEvent};
use futures::TryStreamExt;
use jiff::Timestamp;
use sandbox::Faults;
use sandbox::dt::{Config, PROJECT, Sandbox};

const FROM: &str = "2025-06-01T00:00:00Z";
const TO: &str = "2025-06-03T00:00:00Z";

/// With Basic auth: the identity endpoint shares the listener, and its faults are
/// another matter (client-core's token tests).
fn basic(sim: &Sandbox, clock: &ManualClock, timeout: Option<Duration>) -> Client {
    let config = sim.config();
    Client::builder()
        .base_url(sim.base_url())
        .basic(
            config.key_id.clone(),
            secrecy::SecretString::from(config.key_secret.clone()),
        )
        .clock(std::sync::Arc::new(clock.clone()))
        .read_timeout(timeout)
        .page_size(40)
        .build()
        .unwrap()
}

async fn history(client: &Client, device: &str) -> Result<Vec<String>, Error> {
    let events: Vec<RawEvent> = client
        .events(PROJECT, device)
        .range(FROM.parse().unwrap(), TO.parse::<Timestamp>().unwrap())
        .records::<RawEvent>()
        .stream()
        .try_collect()
        .await?;
    Ok(events.iter().map(|e| e.event_id().to_owned()).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_faults_are_recovered_from_with_every_event_once() {
    let cases = [
        ("a burst of 503s", Faults::none().fail_first(3, 503)),
        (
            "429 with Retry-After",
            Faults::none().fail_first(2, 429).with_retry_after(3),
        ),
        ("resets before the headers", Faults::none().reset_connections(2)),
    ];
    for (what, faults) in cases {
        let sim = Sandbox::start(Config::default().with_faults(faults))
            .await
            .unwrap();
        let clock = ManualClock::new();
        let device = sim.devices()[1].id.clone();
        let ids = history(&basic(&sim, &clock, None), &device)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let truth = sim.event_ids(&device, FROM.parse().unwrap(), TO.parse::<Timestamp>().unwrap());
        assert_eq!(ids, truth, "{what}");
        assert_eq!(ids.len(), 192, "{what}");
        assert_eq!(sim.pending_resets(), 0, "{what}");
        if what == "429 with Retry-After" {
            assert_eq!(
                clock.sleeps(),
                [Duration::from_secs(3), Duration::from_secs(3)],
                "{what}"
            );
        } else {
            assert!(clock.sleeps().len() >= 2, "{what}: {:?}", clock.sleeps());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lasting_faults_end_in_typed_errors() {
    let sim = Sandbox::start(Config::default().with_faults(Faults::none().cut_body_after(500)))
        .await
        .unwrap();
    let device = sim.devices()[1].id.clone();
    let err = history(&basic(&sim, &ManualClock::new(), None), &device)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Truncated(_)), "{err:?}");

    let sim = Sandbox::start(Config::default().with_faults(Faults::none().delay(Duration::from_millis(300))))
        .await
        .unwrap();
    let err = history(
        &basic(&sim, &ManualClock::new(), Some(Duration::from_millis(50))),
        &device,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");

    let sim = Sandbox::start(Config::default().with_faults(Faults::none().fail_first(100, 503)))
        .await
        .unwrap();
    let err = history(&basic(&sim, &ManualClock::new(), None), &device)
        .await
        .unwrap_err();
    match &err {
        Error::Server(api) => {
            assert_eq!(api.status, 503);
            assert_eq!(api.message.as_deref(), Some("sandbox fault"));
            assert!(api.help.is_some());
        }
        other => panic!("{other:?}"),
    }
}
