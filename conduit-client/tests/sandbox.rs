//! End to end against the Conduit sandbox.

use std::time::Duration;

use conduit_client::{Client, Error, Tier};
use futures::TryStreamExt;
use jiff::{SignedDuration, Timestamp};
use sandbox::Faults;
use sandbox::conduit::{Config, Sandbox};
use secrecy::SecretString;

fn client_for(sim: &Sandbox, tier: Tier) -> Client {
    Client::builder()
        .base_url(sim.base_url())
        .token(SecretString::from(sim.token().to_owned()))
        .tier(tier)
        // Paused-clock tests: no timers besides the throttle and retries.
        .connect_timeout(None)
        .read_timeout(None)
        .build()
        .unwrap()
}

/// An unthrottled client whose retries wait on a manual clock (no real sleeps).
fn manual_client(sim: &Sandbox) -> (Client, client_core::ManualClock) {
    let clock = client_core::ManualClock::new();
    let client = Client::builder()
        .base_url(sim.base_url())
        .token(SecretString::from(sim.token().to_owned()))
        .tier(Tier::Unlimited)
        .clock(std::sync::Arc::new(clock.clone()))
        .build()
        .unwrap();
    (client, clock)
}

#[tokio::test(start_paused = true)]
async fn a_throttled_server_is_waited_out() {
    let sim = Sandbox::start(Config::default().with_throttle(Some(Duration::from_secs(15))))
        .await
        .unwrap();
    // No client throttle: the server's 429s and Retry-After do the pacing.
    let client = client_for(&sim, Tier::Unlimited);
    let from = Timestamp::from_second(1_767_225_600).unwrap();
    for hour in 0..4 {
        let start = from + SignedDuration::from_hours(hour);
        let points = client
            .datapoints()
            .id("70B3D54990DC02EB")
            .range(start, start + SignedDuration::from_hours(1))
            .send()
            .await
            .unwrap();
        assert_eq!(
            points.len(),
            61 * 2,
            "fcdt and tcdt are both inclusive on the server"
        );
    }
    assert_eq!(sim.throttled(), 3);
    assert_eq!(sim.requests(), 7);
}

#[tokio::test(start_paused = true)]
async fn requests_from_clones_and_tasks_are_spaced_by_the_interval() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = client_for(&sim, Tier::Standard);
    let from = Timestamp::from_second(1_767_225_600).unwrap();
    let mut tasks = Vec::new();
    for clone in [client.clone(), client.clone()] {
        for task in 0..4 {
            let client = clone.clone();
            let start = from + SignedDuration::from_hours(task);
            tasks.push(tokio::spawn(async move {
                client
                    .datapoints()
                    .channel(1)
                    .range(start, start + SignedDuration::from_mins(10))
                    .send()
                    .await
            }));
        }
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let mut arrivals = sim.arrivals();
    arrivals.sort();
    assert_eq!(arrivals.len(), 8);
    for pair in arrivals.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_secs(15),
            "{:?}",
            pair[1] - pair[0]
        );
    }
}

#[tokio::test]
async fn a_cut_body_fails_the_export() {
    let sim = Sandbox::start(Config::default().with_faults(Faults::none().cut_body_after(500)))
        .await
        .unwrap();
    let (client, clock) = manual_client(&sim);
    let from = Timestamp::from_second(1_767_225_600).unwrap();
    let err = client
        .datapoints()
        .range(from, from + SignedDuration::from_hours(6))
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Truncated(_)),
        "expected a truncation, got {err}"
    );
    // A cut body is transient: the window was asked for again, four times in all.
    assert_eq!(sim.requests(), 4);
    assert_eq!(clock.sleeps().len(), 3);
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized_and_more_than_31_days_is_too_large() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let wrong = Client::builder()
        .base_url(sim.base_url())
        .token(SecretString::from("wrong"))
        .tier(Tier::Unlimited)
        .build()
        .unwrap();
    let err = wrong.datapoints().send().await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized(_)), "{err}");

    let client = client_for(&sim, Tier::Unlimited);
    let from = Timestamp::from_second(1_767_225_600).unwrap();
    let err = client
        .datapoints()
        .range(from, from + SignedDuration::from_hours(24 * 32))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RequestTooLarge(_)), "{err}");
    // An empty range of data is a 304 on the wire and an empty result here.
    let points = client
        .datapoints()
        .id("NO-SUCH-DEVICE")
        .range(from, from + SignedDuration::from_hours(1))
        .send()
        .await
        .unwrap();
    assert!(points.is_empty());
}

#[tokio::test]
async fn injected_503s_are_retried_with_the_servers_delay() {
    let sim =
        Sandbox::start(Config::default().with_faults(Faults::none().fail_first(2, 503).with_retry_after(4)))
            .await
            .unwrap();
    let (client, clock) = manual_client(&sim);
    let from = Timestamp::from_second(1_767_225_600).unwrap();
    let points = client
        .datapoints()
        .channel(1)
        .range(from, from + SignedDuration::from_mins(5))
        .send()
        .await
        .unwrap();
    assert_eq!(points.len(), 2 * 6);
    assert_eq!(sim.requests(), 3);
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(4); 2]);
}

#[tokio::test]
async fn the_simulators_variables_give_a_usable_client() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = Client::from_vars(sandbox::env_lookup(&sim.env_vars())).unwrap();
    // No client throttle: the simulator has none, so the real 15 s would only slow tests.
    assert_eq!(client.interval(), None);
    let from = Timestamp::from_second(1_767_225_600).unwrap();
    let query = client
        .datapoints()
        .id("70B3D54990DC02EB")
        .range(from, from + SignedDuration::from_mins(10));
    // Three requests in well under one interval: a throttled client would wait 30 s.
    let points = tokio::time::timeout(Duration::from_secs(10), async {
        let first = query.clone().send().await?;
        query.clone().send().await?;
        query.clone().send().await?;
        Ok::<_, Error>(first)
    })
    .await
    .expect("the client waited between requests")
    .unwrap();
    assert_eq!(points.len(), 2 * 11);
    assert_eq!(sim.requests(), 3);
    // A simulator that throttles gives the tier that matches it.
    let throttled = Sandbox::start(Config::default().with_throttle(Some(Duration::from_secs(10))))
        .await
        .unwrap();
    let client = Client::from_vars(sandbox::env_lookup(&throttled.env_vars())).unwrap();
    assert_eq!(client.interval(), Some(Duration::from_secs(10)));
}

#[tokio::test]
async fn a_wrong_token_from_the_variables_is_unauthorized() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let mut vars = sim.env_vars();
    vars.retain(|(name, _)| *name != conduit_client::env::TOKEN);
    vars.push((conduit_client::env::TOKEN, "wrong".to_owned()));
    let client = Client::from_vars(sandbox::env_lookup(&vars)).unwrap();
    let err = client.datapoints().send().await.unwrap_err();
    assert!(err.is_unauthorized(), "{err:?}");
}
