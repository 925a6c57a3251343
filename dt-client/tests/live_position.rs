//! The live stream's position against hostile timestamps and a skewed client clock: an
//! event stamped in the future, or a client clock ahead of the server's, must not move
//! the position past what the server has shown (a resume would then read history from
//! the future, find nothing, and lose what was published meanwhile without a gap).

mod common;

use std::time::Duration;

use client_core::ManualClock;
use dt_client::{Checkpoint, Checkpointed, Error, LiveEventsQuery, RawEvent, StreamItem};
use futures::StreamExt;
use sandbox::dt::{Config, PROJECT, Sandbox};
use serde_json::json;
use tokio::sync::mpsc::UnboundedReceiver;

type Item = Result<Checkpointed<StreamItem<RawEvent>>, Error>;

async fn emulated(client: &dt_client::Client) -> String {
    let labels = serde_json::Map::from_iter([("name".to_owned(), json!("position"))]);
    client
        .create_emulated_device(PROJECT, "temperature", &labels)
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned()
}

/// Polls `query.checkpointed()` on a task (dropped with the receiver's task handle), and
/// waits until its connection's backfill read history (the stream is then live).
async fn run(
    sim: &Sandbox,
    query: LiveEventsQuery<RawEvent>,
) -> (UnboundedReceiver<Item>, tokio::task::JoinHandle<()>) {
    let pages = sim.history_pages();
    let mut items = query.checkpointed();
    let (sender, received) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        while let Some(item) = items.next().await {
            if sender.send(item).is_err() {
                break;
            }
        }
    });
    for _ in 0..1000 {
        if sim.history_pages() > pages {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        sim.history_pages() > pages,
        "the stream connected and read history"
    );
    (received, task)
}

async fn event(received: &mut UnboundedReceiver<Item>) -> (String, Checkpoint) {
    let item = tokio::time::timeout(Duration::from_secs(20), received.recv())
        .await
        .expect("an item in time")
        .expect("the stream runs")
        .unwrap();
    match item.item {
        StreamItem::Event(event) => (event.event_id().to_owned(), item.checkpoint),
        other => panic!("{other:?}"),
    }
}

/// Yields the event published while no stream ran first, after resuming from
/// `checkpoint` (then one published live, so that a lost one fails at once).
async fn resumed_yields(sim: &Sandbox, client: &dt_client::Client, device: &str, checkpoint: Checkpoint) {
    let missed = sim
        .publish_at(device, "temperature", json!({"value": 2}), jiff::Timestamp::now())
        .unwrap();
    let query = client
        .live_events(PROJECT)
        .device_ids([device.to_owned()])
        .records::<RawEvent>()
        .resume_from(checkpoint);
    let (mut received, task) = run(sim, query).await;
    let live = sim
        .publish_at(device, "temperature", json!({"value": 3}), jiff::Timestamp::now())
        .unwrap();
    assert_eq!(
        event(&mut received).await.0,
        missed,
        "the event published meanwhile is backfilled"
    );
    assert_eq!(event(&mut received).await.0, live);
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_stamped_in_the_future_does_not_move_the_position_past_the_server() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = common::client(&sim);
    let device = emulated(&client).await;
    let query = client
        .live_events(PROJECT)
        .device_ids([device.clone()])
        .records::<RawEvent>();
    let (mut received, task) = run(&sim, query).await;
    let future = sim
        .publish_at(
            &device,
            "temperature",
            json!({"value": 1}),
            "2099-01-01T00:00:00Z".parse().unwrap(),
        )
        .unwrap();
    let (id, checkpoint) = event(&mut received).await;
    assert_eq!(id, future);
    task.abort();
    resumed_yields(&sim, &client, &device, checkpoint).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_clock_ahead_of_the_server_does_not_move_the_position_past_it() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let clock = ManualClock::new();
    let client = common::builder(&sim, &clock).build().unwrap();
    let device = emulated(&client).await;
    // The client's clock is now an hour ahead of the simulator's.
    clock.advance(Duration::from_secs(3600));
    let query = client
        .live_events(PROJECT)
        .device_ids([device.clone()])
        .records::<RawEvent>();
    let (mut received, task) = run(&sim, query).await;
    let first = sim
        .publish_at(
            &device,
            "temperature",
            json!({"value": 1}),
            jiff::Timestamp::now(),
        )
        .unwrap();
    let (id, checkpoint) = event(&mut received).await;
    assert_eq!(id, first);
    task.abort();
    resumed_yields(&sim, &client, &device, checkpoint).await;
}
