//! Kill-and-resume on the sandbox: a read stopped after any event and resumed from its
//! last checkpoint yields every event exactly once, under every reading the simulator
//! plays.

mod common;

use dt_client::{Checkpoint, Checkpointed, Error, RawEvent};
use futures::{StreamExt, TryStreamExt};
use jiff::Timestamp;
use sandbox::dt::{Config, PROJECT, Sandbox};

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
