//! The live stream against the sandbox: every published event exactly once across forced
//! disconnects, gaps reported when the scope is too large, in-band errors, SSE.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use client_core::ManualClock;
use dt_client::{Client, DtError, Error, EventData, LiveEventsQuery, RawEvent, StreamItem};
use futures::StreamExt;
use jiff::Timestamp;
use sandbox::dt::{Config, PROJECT, Sandbox, StreamFaults};
use secrecy::SecretString;
use serde_json::json;

async fn emulated(client: &dt_client::Client) -> String {
    let labels = serde_json::Map::from_iter([("name".to_owned(), json!("emulated"))]);
    client
        .create_emulated_device(PROJECT, "temperature", &labels)
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned()
}

/// Runs `stream` on a task, sending what it yields to a channel.
fn run<T: serde::de::DeserializeOwned + Send + 'static>(
    stream: LiveEventsQuery<T>,
) -> tokio::sync::mpsc::UnboundedReceiver<Result<StreamItem<T>, Error>> {
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut items = stream.stream();
        while let Some(item) = items.next().await {
            let failed = item.is_err();
            if sender.send(item).is_err() || failed {
                break;
            }
        }
    });
    receiver
}

async fn connected(sim: &Sandbox, connections: u64) {
    for _ in 0..500 {
        if sim.stream_connections() >= connections {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the stream did not connect");
}

async fn next<T>(
    items: &mut tokio::sync::mpsc::UnboundedReceiver<Result<StreamItem<T>, Error>>,
) -> Result<StreamItem<T>, Error> {
    tokio::time::timeout(Duration::from_secs(20), items.recv())
        .await
        .expect("an item in time")
        .expect("the stream runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_published_event_arrives_exactly_once_across_forced_disconnects() {
    let sim = Sandbox::start(Config::default().with_stream_faults(StreamFaults::drop_after(7)))
        .await
        .unwrap();
    let clock = ManualClock::new();
    let client = common::builder(&sim, &clock).build().unwrap();
    let device = emulated(&client).await;
    let started = Timestamp::now();
    let mut items = run(client
        .live_events(PROJECT)
        .device_ids([device.clone()])
        .ping_interval(Duration::from_secs(1))
        .records::<RawEvent>());
    connected(&sim, 1).await;
    // In bursts, so that some events go out live, some while a connection is down.
    for i in 0..40 {
        client
            .publish(PROJECT, &device, "temperature", &json!({"value": i}))
            .await
            .unwrap();
        if i % 5 == 4 {
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    }
    let mut ids = Vec::new();
    while ids.len() < 40 {
        match next(&mut items).await.unwrap() {
            StreamItem::Event(event) => ids.push(event.event_id().to_owned()),
            other => panic!("{other:?}"),
        }
    }
    let truth = sim.event_ids(
        &device,
        started,
        Timestamp::now() + jiff::SignedDuration::from_secs(1),
    );
    assert_eq!(truth.len(), 40);
    assert_eq!(
        ids.iter().collect::<HashSet<_>>(),
        truth.iter().collect::<HashSet<_>>(),
        "every event, none twice"
    );
    assert!(
        sim.stream_connections() >= 3,
        "dropped after every 7 events: {}",
        sim.stream_connections()
    );
    // Each reconnect filled its gap from the device's history.
    assert!(sim.history_pages() >= sim.stream_connections() - 1);
    // Reconnects waited on the client's clock, without real sleeps.
    assert!(!clock.sleeps().is_empty());
    assert!(
        tokio::time::timeout(Duration::from_millis(300), items.recv())
            .await
            .is_err(),
        "nothing more"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scope_too_large_to_backfill_yields_a_gap_item() {
    let sim = Sandbox::start(Config::default().with_stream_faults(StreamFaults::drop_after(1)))
        .await
        .unwrap();
    let client = common::client(&sim);
    let device = emulated(&client).await;
    let mut items = run(client
        .live_events(PROJECT)
        .max_devices_to_backfill(10)
        .ping_interval(Duration::from_secs(1)));
    // The stream's position starts when it is built: what was published before it
    // connected cannot be read from history either.
    match next(&mut items).await.unwrap() {
        StreamItem::Gap(gap) => assert!(gap.reason.contains("10 devices"), "{}", gap.reason),
        other => panic!("{other:?}"),
    }
    connected(&sim, 1).await;
    client
        .publish(PROJECT, &device, "temperature", &json!({"value": 21.5}))
        .await
        .unwrap();
    let StreamItem::Event(event) = next(&mut items).await.unwrap() else {
        panic!()
    };
    assert!(matches!(event.data, EventData::Temperature(ref t) if t.value == Some(21.5)));
    match next(&mut items).await.unwrap() {
        StreamItem::Gap(gap) => {
            assert!(gap.from < gap.to);
            assert!(gap.reason.contains("10 devices"), "{}", gap.reason);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_band_errors_end_the_stream_or_reconnect_by_their_code() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = common::client(&sim);
    sim.set_stream_faults(StreamFaults::in_band_error(
        json!({"code": 7, "message": "permission denied"}),
    ));
    let generated = sim.devices()[0].id.clone();
    let mut items = run(client.live_events(PROJECT).device_ids([generated.clone()]));
    match next(&mut items).await {
        Err(Error::Forbidden(api)) => assert_eq!(api.message.as_deref(), Some("permission denied")),
        other => panic!("{other:?}"),
    }
    // Not found is DT's own stream error.
    sim.set_stream_faults(StreamFaults::in_band_error(
        json!({"code": 5, "message": "project not found"}),
    ));
    let mut items = run(client.live_events(PROJECT).device_ids([generated]));
    match next(&mut items).await {
        Err(Error::Api(DtError::Stream {
            code: Some(5),
            message,
            ..
        })) => assert_eq!(message, "project not found"),
        other => panic!("{other:?}"),
    }

    // The other shape, transient: reconnected, then events flow.
    sim.set_stream_faults(StreamFaults::in_band_error(
        json!({"grpcCode": 14, "httpCode": 503, "message": "unavailable"}),
    ));
    let device = emulated(&client).await;
    let before = sim.stream_connections();
    let mut items = run(client
        .live_events(PROJECT)
        .device_ids([device.clone()])
        .ping_interval(Duration::from_secs(1)));
    connected(&sim, before + 2).await;
    client
        .publish(PROJECT, &device, "temperature", &json!({"value": 1}))
        .await
        .unwrap();
    assert!(matches!(next(&mut items).await.unwrap(), StreamItem::Event(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_sent_events_carry_the_same_events() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = common::client(&sim);
    let device = emulated(&client).await;
    let mut items = run(client
        .live_events(PROJECT)
        .device_ids([device.clone()])
        .sse(true)
        .event_types(["touch"])
        .ping_interval(Duration::from_secs(1)));
    connected(&sim, 1).await;
    client
        .publish(PROJECT, &device, "temperature", &json!({"value": 1}))
        .await
        .unwrap();
    client
        .publish(PROJECT, &device, "touch", &json!({}))
        .await
        .unwrap();
    match next(&mut items).await.unwrap() {
        StreamItem::Event(event) => assert_eq!(event.event_type, "touch"),
        other => panic!("{other:?}"),
    }
}

/// Streams one emulated device of a sandbox that drops each connection after 3 events,
/// with `client`; runs `meanwhile` once the stream is up, then publishes 5 events (as a
/// Basic-authenticated publisher, so every token request is the stream's), and checks
/// that each arrives once over exactly 2 connections.
async fn five_events_across_one_drop(sim: &Sandbox, client: &Client, meanwhile: impl FnOnce()) {
    let config = sim.config();
    let publisher = Client::builder()
        .base_url(sim.base_url())
        .emulator_url(sim.emulator_url())
        .basic(
            config.key_id.clone(),
            SecretString::from(config.key_secret.clone()),
        )
        .build()
        .unwrap();
    let device = emulated(&publisher).await;
    let mut items = run(client
        .live_events(PROJECT)
        .device_ids([device.clone()])
        .ping_interval(Duration::from_secs(1))
        .records::<RawEvent>());
    connected(sim, 1).await;
    assert_eq!(sim.token_requests(), 1);
    meanwhile();
    for i in 0..5 {
        publisher
            .publish(PROJECT, &device, "temperature", &json!({"value": i}))
            .await
            .unwrap();
        if i == 2 {
            connected(sim, 2).await;
        }
    }
    let mut ids = HashSet::new();
    while ids.len() < 5 {
        match next(&mut items).await.unwrap() {
            StreamItem::Event(event) => assert!(ids.insert(event.event_id().to_owned()), "twice"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(sim.stream_connections(), 2);
}

fn dropping_after_three() -> Config {
    Config::default().with_stream_faults(StreamFaults::drop_after(3))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_after_the_token_expired_uses_a_fresh_token() {
    let sim = Sandbox::start(dropping_after_three()).await.unwrap();
    let clock = ManualClock::new();
    let client = common::builder(&sim, &clock).build().unwrap();
    // The token outlives its lifetime on the client's clock while the connection is up.
    let lifetime = sim.config().token_lifetime;
    five_events_across_one_drop(&sim, &client, || clock.advance(lifetime + Duration::from_secs(1))).await;
    assert_eq!(sim.token_requests(), 2, "the reconnect asked for a new token");
    assert_eq!(sim.unauthorized(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_refused_for_a_revoked_token_fetches_a_new_one() {
    let sim = Sandbox::start(dropping_after_three()).await.unwrap();
    let client = common::client(&sim);
    // The server forgets the token the client still thinks valid.
    five_events_across_one_drop(&sim, &client, || sim.revoke_tokens()).await;
    assert_eq!(sim.token_requests(), 2, "the 401 dropped the token");
    assert_eq!(
        sim.unauthorized(),
        1,
        "one refusal, then the retry with the new token"
    );
}
