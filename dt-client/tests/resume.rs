//! Kill-and-resume on the sandbox: a read stopped after any event and resumed from its
//! last checkpoint yields every event exactly once, under every reading the simulator
//! plays.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use dt_client::{Checkpoint, Checkpointed, Error, Position, RawEvent, StreamItem};
use futures::{StreamExt, TryStreamExt};
use jiff::Timestamp;
use sandbox::dt::{Config, InBandShape, PROJECT, Sandbox, StreamFaults, StreamFraming};
use serde_json::json;

/// The history's readings: `startTime` inclusive or exclusive.
fn history_readings() -> Vec<Config> {
    [false, true]
        .into_iter()
        .map(|exclusive| Config::default().with_history_start_exclusive(exclusive))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_stopped_after_every_n_events_and_resumed_yields_each_once() {
    let (from, to): (Timestamp, Timestamp) = (
        "2025-02-01T00:00:00Z".parse().unwrap(),
        "2025-02-02T00:00:00Z".parse().unwrap(),
    );
    for config in history_readings() {
        let reading = format!("startTime exclusive: {}", config.history_start_exclusive);
        let sim = Sandbox::start(config).await.unwrap();
        let client = common::client(&sim);
        let device = sim.devices()[0].id.clone();
        let truth = sim.event_ids(&device, from, to);
        assert_eq!(truth.len(), 96, "{reading}");
        let query = || {
            client
                .events(PROJECT, &device)
                .range(from, to)
                .page_size(10)
                .records::<RawEvent>()
        };
        let whole: Vec<String> = query()
            .stream()
            .map_ok(|e| e.event_id().to_owned())
            .try_collect()
            .await
            .unwrap();
        assert_eq!(whole, truth, "{reading}: an uninterrupted read");
        for n in [1, 2, 3, 7, 9, 10, 11, 95, 96, 97] {
            let mut seen = Vec::new();
            let mut from_checkpoint: Option<Checkpoint> = None;
            let mut runs = 0;
            loop {
                runs += 1;
                assert!(runs < 200, "{reading}: no progress");
                let mut read = query();
                if let Some(checkpoint) = from_checkpoint.clone() {
                    read = read.resume_from(checkpoint);
                }
                let items: Vec<Checkpointed<RawEvent>> =
                    read.checkpointed().take(n).try_collect().await.unwrap();
                let Some(last) = items.last() else { break };
                from_checkpoint = Some(last.checkpoint.clone());
                seen.extend(items.iter().map(|c| c.item.event_id().to_owned()));
                if last.checkpoint.is_done() {
                    break;
                }
            }
            assert_eq!(seen, truth, "{reading}: stopping after every {n} events");
        }
        // A Done checkpoint yields nothing; another read's checkpoint is refused.
        let all: Vec<Checkpointed<RawEvent>> = query().checkpointed().try_collect().await.unwrap();
        let done = all.last().unwrap().checkpoint.clone();
        assert!(done.is_done());
        assert_eq!(query().resume_from(done.clone()).stream().count().await, 0);
        let other = client
            .events(PROJECT, &device)
            .range(from, to)
            .event_types(["touch"])
            .resume_from(all[5].checkpoint.clone())
            .stream()
            .try_collect::<Vec<_>>()
            .await;
        assert!(matches!(other, Err(Error::Config(_))), "{reading}: {other:?}");
        // Pages carry the checkpoint after them.
        let pages: Vec<_> = query().pages().try_collect().await.unwrap();
        assert_eq!(pages.len(), 10);
        assert!(pages.iter().all(|p| p.checkpoint.is_some()));
        assert!(pages.last().unwrap().checkpoint.as_ref().unwrap().is_done());
    }
}

/// The live stream's readings: the framing asked for, and the framing and in-band error
/// shape the server plays.
fn live_readings() -> Vec<(bool, Config)> {
    vec![
        (false, Config::default()),
        (
            true,
            Config::default().with_in_band_shape(InBandShape::GrpcAndHttp),
        ),
        (
            true,
            Config::default()
                .with_stream_framing(StreamFraming::Ndjson)
                .with_in_band_shape(InBandShape::CodeGrpc),
        ),
        (
            false,
            Config::default()
                .with_stream_framing(StreamFraming::Sse)
                .with_in_band_shape(InBandShape::GrpcAndHttp),
        ),
    ]
}

async fn emulated(client: &dt_client::Client) -> String {
    let labels = serde_json::Map::from_iter([("name".to_owned(), json!("resumed"))]);
    client
        .create_emulated_device(PROJECT, "temperature", &labels)
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_stream_stopped_after_n_events_and_resumed_yields_each_published_event_once() {
    const PUBLISHED: usize = 24;
    for (sse, config) in live_readings() {
        let reading = format!(
            "asked sse {sse}, served {:?}, errors {:?}",
            config.stream_framing, config.in_band_shape
        );
        for n in [1, 2, 3, 7] {
            let sim = Sandbox::start(config.clone()).await.unwrap();
            let client = common::client(&sim);
            let device = emulated(&client).await;
            let started = Timestamp::now();
            let query = || {
                client
                    .live_events(PROJECT)
                    .device_ids([device.clone()])
                    .sse(sse)
                    .ping_interval(Duration::from_secs(1))
                    .records::<RawEvent>()
            };
            // The first run's position starts here, before anything is published.
            let mut items = query().checkpointed();
            // The simulator keeps publishing, whether a stream is connected or not; one
            // in-band 503 (in the reading's shape) makes one run reconnect.
            let publisher = {
                let client = client.clone();
                let device = device.clone();
                tokio::spawn(async move {
                    for i in 0..PUBLISHED {
                        client
                            .publish(PROJECT, &device, "temperature", &json!({"value": i}))
                            .await
                            .unwrap();
                        tokio::time::sleep(Duration::from_millis(3)).await;
                    }
                })
            };
            let mut seen: Vec<String> = Vec::new();
            let mut runs = 0;
            let mut checkpoint = None;
            while seen.len() < PUBLISHED {
                runs += 1;
                assert!(runs <= PUBLISHED + 1, "{reading}: no progress");
                if runs == 2 {
                    sim.set_stream_faults(StreamFaults::in_band_status(503));
                }
                for _ in 0..n {
                    let item = tokio::time::timeout(Duration::from_secs(20), items.next())
                        .await
                        .unwrap_or_else(|_| panic!("{reading}: N={n}: only {} events", seen.len()))
                        .expect("the stream runs")
                        .unwrap_or_else(|e| panic!("{reading}: {e}"));
                    match item.item {
                        StreamItem::Event(event) => seen.push(event.event_id().to_owned()),
                        other => panic!("{reading}: {other:?}"),
                    }
                    checkpoint = Some(item.checkpoint);
                    if seen.len() == PUBLISHED {
                        break;
                    }
                }
                // Killed: the stream goes, its last checkpoint stays; then resumed.
                drop(items);
                let stored = serde_json::to_string(checkpoint.as_ref().unwrap()).unwrap();
                let stored: Checkpoint = serde_json::from_str(&stored).unwrap();
                items = query().resume_from(stored).checkpointed();
            }
            publisher.await.unwrap();
            let truth = sim.event_ids(
                &device,
                started,
                Timestamp::now() + jiff::SignedDuration::from_secs(1),
            );
            assert_eq!(truth.len(), PUBLISHED, "{reading}");
            let unique: HashSet<&String> = seen.iter().collect();
            assert_eq!(unique.len(), seen.len(), "{reading}: N={n}: an event twice");
            assert_eq!(unique, truth.iter().collect(), "{reading}: N={n}: every event");
            // Another stream's checkpoint is refused.
            let other = client
                .live_events(PROJECT)
                .event_types(["touch"])
                .resume_from(checkpoint.clone().unwrap())
                .stream()
                .next()
                .await;
            assert!(
                matches!(other, Some(Err(Error::Config(_)))),
                "{reading}: {other:?}"
            );
            // A checkpoint at the end yields nothing.
            let done = checkpoint.unwrap().at(Position::Done);
            assert!(
                query().resume_from(done).stream().next().await.is_none(),
                "{reading}"
            );
        }
    }
}
