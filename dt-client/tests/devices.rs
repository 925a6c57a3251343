//! The history of several devices read at once (`events_of_devices`) on the sandbox:
//! the same events in the same order as the devices' reads one after the other, at any
//! concurrency and with a latency per response; requests overlapping up to the
//! concurrency; kill-and-resume from checkpoints anywhere, device boundaries included;
//! a dropped read cancelling its requests in flight; errors in order.

mod common;

use std::time::{Duration, Instant};

use dt_client::{Checkpoint, Checkpointed, DEFAULT_DEVICE_CONCURRENCY, Error, Position, RawEvent};
use futures::{StreamExt, TryStreamExt};
use jiff::Timestamp;
use sandbox::Faults;
use sandbox::dt::{Config, PROJECT, Sandbox};

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// The first `count` devices of the default project.
fn devices(sim: &Sandbox, count: usize) -> Vec<String> {
    let devices: Vec<String> = sim
        .devices()
        .into_iter()
        .filter(|d| d.project == PROJECT)
        .map(|d| d.id)
        .take(count)
        .collect();
    assert_eq!(devices.len(), count);
    devices
}

/// What each device's read yields, one device after the other: the truth.
async fn one_after_the_other(
    client: &dt_client::Client,
    devices: &[String],
    (from, to): (Timestamp, Timestamp),
    page_size: u32,
) -> Vec<String> {
    let mut ids = Vec::new();
    for device in devices {
        let events: Vec<RawEvent> = client
            .events(PROJECT, device)
            .range(from, to)
            .page_size(page_size)
            .records::<RawEvent>()
            .stream()
            .try_collect()
            .await
            .unwrap();
        ids.extend(events.iter().map(|e| e.event_id().to_owned()));
    }
    ids
}

/// One day: 96 events per device, 4 pages of 25.
const DAY: (&str, &str) = ("2025-02-01T00:00:00Z", "2025-02-02T00:00:00Z");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn devices_come_in_order_as_read_one_after_the_other_and_requests_overlap() {
    let range = (at(DAY.0), at(DAY.1));
    let mut reads = Vec::new();
    for concurrency in [1, DEFAULT_DEVICE_CONCURRENCY] {
        let config = Config::default().with_faults(Faults::none().delay(Duration::from_millis(20)));
        let sim = Sandbox::start(config).await.unwrap();
        let client = common::client(&sim);
        let devices = devices(&sim, 6);
        let truth: Vec<String> = devices
            .iter()
            .flat_map(|device| sim.event_ids(device, range.0, range.1))
            .collect();
        assert_eq!(truth.len(), 6 * 96);
        let ids: Vec<String> = client
            .events_of_devices(PROJECT, devices.clone())
            .range(range.0, range.1)
            .page_size(25)
            .concurrency(concurrency)
            .records::<RawEvent>()
            .stream()
            .map_ok(|e| e.event_id().to_owned())
            .try_collect()
            .await
            .unwrap();
        assert_eq!(ids, truth, "at {concurrency}");
        assert_eq!(
            sim.history_pages(),
            6 * 4,
            "at {concurrency}: each page asked once"
        );
        let peak = sim.peak_concurrent_requests();
        if concurrency == 1 {
            assert_eq!(peak, 1, "one device at a time, one page at a time");
        } else {
            assert!(
                (2..=concurrency as u64).contains(&peak),
                "{peak} in flight at {concurrency}"
            );
        }
        assert_eq!(one_after_the_other(&client, &devices, range, 25).await, truth);
        reads.push(ids);
    }
    assert_eq!(reads[0], reads[1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lossless_copy_is_each_devices_copy_one_after_the_other() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = common::client(&sim);
    let devices = devices(&sim, 5);
    let (from, to) = (at(DAY.0), at(DAY.1));
    let mut expected = Vec::new();
    for device in &devices {
        client
            .events(PROJECT, device)
            .range(from, to)
            .page_size(40)
            .copy_to(&mut expected)
            .await
            .unwrap();
    }
    let mut copied = Vec::new();
    let written = client
        .events_of_devices(PROJECT, devices.clone())
        .range(from, to)
        .page_size(40)
        .copy_to(&mut copied)
        .await
        .unwrap();
    assert_eq!(copied, expected);
    assert_eq!((written.records, written.requests), (5 * 96, 5 * 3));
    // `send` is the first device's first page, and asks only that device.
    let before = sim.history_pages();
    let first = client
        .events_of_devices(PROJECT, devices)
        .range(from, to)
        .page_size(40)
        .send()
        .await
        .unwrap();
    assert_eq!(first.items.len(), 40);
    assert_eq!(sim.history_pages() - before, 1);
}

/// Stops the read after every `n` events and resumes it from the last checkpoint (as
/// stored: JSON), until it is done; what all the runs yielded.
async fn stopped_every(
    read: impl Fn() -> dt_client::DevicesEventsQuery<RawEvent>,
    n: usize,
) -> (Vec<String>, Vec<Checkpoint>) {
    let mut seen = Vec::new();
    let mut stops = Vec::new();
    let mut stored: Option<String> = None;
    for _ in 0..1000 {
        let mut query = read();
        if let Some(text) = &stored {
            query = query.resume_from(serde_json::from_str(text).unwrap());
        }
        let items: Vec<Checkpointed<RawEvent>> = query.checkpointed().take(n).try_collect().await.unwrap();
        let Some(last) = items.last() else { break };
        stored = Some(serde_json::to_string(&last.checkpoint).unwrap());
        seen.extend(items.iter().map(|c| c.item.event_id().to_owned()));
        stops.push(last.checkpoint.clone());
        if last.checkpoint.is_done() {
            return (seen, stops);
        }
    }
    (seen, stops)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_stopped_anywhere_and_resumed_yields_each_event_once() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = common::client(&sim);
    let devices = devices(&sim, 4);
    // Six hours: 24 events per device, pages of 10, 10 and 4.
    let (from, to) = (at("2025-02-01T00:00:00Z"), at("2025-02-01T06:00:00Z"));
    let truth = one_after_the_other(&client, &devices, (from, to), 10).await;
    assert_eq!(truth.len(), 96);
    let read = || {
        client
            .events_of_devices(PROJECT, devices.clone())
            .range(from, to)
            .page_size(10)
            .records::<RawEvent>()
    };
    // Mid-page, at page ends, at device ends (24, 48), just after them, everywhere.
    for n in [1, 5, 10, 23, 24, 25, 48, 50, 95, 96] {
        let (seen, stops) = stopped_every(read, n).await;
        assert_eq!(seen, truth, "stopping after every {n} events");
        assert!(stops.last().unwrap().is_done());
    }
    for concurrency in [1, 2, 4, 32] {
        let (seen, _) = stopped_every(|| read().concurrency(concurrency), 7).await;
        assert_eq!(seen, truth, "at {concurrency}");
    }
    // The checkpoints: a device's position inside it, the next device's start after its
    // last event, done after the last device's.
    let all: Vec<Checkpointed<RawEvent>> = read().checkpointed().try_collect().await.unwrap();
    let device_of = |c: &Checkpoint| c.state["device"].as_u64().unwrap();
    assert_eq!(device_of(&all[4].checkpoint), 0);
    assert_eq!(all[4].checkpoint.position.skip(), 5);
    assert_eq!(all[4].checkpoint.state["deviceId"], devices[0].as_str());
    assert_eq!(all[23].checkpoint.position, Position::Start);
    assert_eq!(device_of(&all[23].checkpoint), 1);
    assert_eq!(device_of(&all[24].checkpoint), 1);
    assert!(all[95].checkpoint.is_done());
    // Resumed from a device boundary, the read starts at the next device's first event.
    let rest: Vec<String> = read()
        .resume_from(all[47].checkpoint.clone())
        .stream()
        .map_ok(|e| e.event_id().to_owned())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rest, truth[48..]);
    // Done yields nothing; another read's checkpoint (the same devices in another order)
    // is refused.
    assert_eq!(
        read()
            .resume_from(all[95].checkpoint.clone())
            .stream()
            .count()
            .await,
        0
    );
    let mut reversed = devices.clone();
    reversed.reverse();
    let other = client
        .events_of_devices(PROJECT, reversed)
        .range(from, to)
        .page_size(10)
        .resume_from(all[30].checkpoint.clone())
        .stream()
        .try_collect::<Vec<_>>()
        .await;
    assert!(matches!(other, Err(Error::Config(_))), "{other:?}");
    // A single device's checkpoint is not one of this read's either.
    let single: Vec<Checkpointed<RawEvent>> = client
        .events(PROJECT, &devices[0])
        .range(from, to)
        .page_size(10)
        .records::<RawEvent>()
        .checkpointed()
        .take(3)
        .try_collect()
        .await
        .unwrap();
    let other = read()
        .resume_from(single[2].checkpoint.clone())
        .stream()
        .try_collect::<Vec<_>>()
        .await;
    assert!(matches!(other, Err(Error::Config(_))), "{other:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_without_a_start_pins_one_for_every_device_and_its_resume() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = common::client(&sim);
    let devices = devices(&sim, 3);
    let read = || {
        client
            .events_of_devices(PROJECT, devices.clone())
            .page_size(50)
            .records::<RawEvent>()
    };
    let first: Vec<Checkpointed<RawEvent>> = read().checkpointed().take(120).try_collect().await.unwrap();
    let pinned = first[0].checkpoint.state["from"].as_str().unwrap().to_owned();
    assert!(
        first
            .iter()
            .all(|c| c.checkpoint.state["from"] == pinned.as_str())
    );
    assert_eq!(first[119].checkpoint.state["device"], 1);
    let pinned: Timestamp = pinned.parse().unwrap();
    // The same events as a read from the pinned start, devices one after the other.
    let rest: Vec<String> = read()
        .resume_from(first[119].checkpoint.clone())
        .stream()
        .map_ok(|e| e.event_id().to_owned())
        .take(20)
        .try_collect()
        .await
        .unwrap();
    let mut whole = Vec::new();
    for device in &devices {
        let events: Vec<RawEvent> = client
            .events(PROJECT, device)
            .since(pinned)
            .records::<RawEvent>()
            .stream()
            .try_collect()
            .await
            .unwrap();
        whole.extend(events.iter().map(|e| e.event_id().to_owned()));
    }
    let ids: Vec<String> = first.iter().map(|c| c.item.event_id().to_owned()).collect();
    assert_eq!(ids, whole[..120]);
    assert_eq!(rest, whole[120..140]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_read_cancels_the_requests_in_flight() {
    let delay = Duration::from_millis(100);
    let sim = Sandbox::start(Config::default().with_faults(Faults::none().delay(delay)))
        .await
        .unwrap();
    let client = common::client(&sim);
    let devices = devices(&sim, 8);
    let mut read = client
        .events_of_devices(PROJECT, devices)
        .range(at(DAY.0), at(DAY.1))
        .page_size(25)
        .records::<RawEvent>()
        .stream();
    read.try_next().await.unwrap().unwrap();
    // The four device reads ask for their next pages (the caller does not wait for
    // that): once the four are inside the server's delay, none is on its way there.
    let asked = Instant::now();
    while sim.concurrent_requests() < DEFAULT_DEVICE_CONCURRENCY as u64 {
        assert!(asked.elapsed() < Duration::from_secs(5), "no request in flight");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let served = sim.history_pages();
    let requests = sim.requests();
    let dropped = Instant::now();
    drop(read);
    while sim.concurrent_requests() > 0 {
        assert!(
            dropped.elapsed() < Duration::from_secs(5),
            "requests left in flight"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // Gone before their delay was out, answered never, and nothing asked since.
    assert!(dropped.elapsed() < delay, "{:?}", dropped.elapsed());
    tokio::time::sleep(delay * 2).await;
    assert_eq!(sim.history_pages(), served);
    assert_eq!(sim.requests(), requests);
}

#[tokio::test]
async fn a_concurrency_of_zero_is_refused() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = common::client(&sim);
    let devices = devices(&sim, 2);
    let query = client
        .events_of_devices(PROJECT, devices)
        .range(at(DAY.0), at(DAY.1))
        .concurrency(0);
    let err = query.to_request().unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert!(err.to_string().contains("concurrency"), "{err}");
    let streamed = query.stream().try_collect::<Vec<_>>().await.unwrap_err();
    assert!(streamed.to_string().contains("concurrency"), "{streamed}");
    assert_eq!(sim.requests(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_in_one_device_comes_after_the_devices_before_it_and_ends_the_read() {
    let config = Config::default().with_faults(Faults::none().delay(Duration::from_millis(20)));
    let sim = Sandbox::start(config).await.unwrap();
    let client = common::client(&sim);
    let mut devices = devices(&sim, 4);
    devices.insert(2, "no-such-device".into());
    let (from, to) = (at(DAY.0), at(DAY.1));
    let truth = one_after_the_other(&client, &devices[..2], (from, to), 25).await;
    for concurrency in [1, 4] {
        let items: Vec<Result<RawEvent, Error>> = client
            .events_of_devices(PROJECT, devices.clone())
            .range(from, to)
            .page_size(25)
            .concurrency(concurrency)
            .records::<RawEvent>()
            .stream()
            .collect()
            .await;
        assert_eq!(
            items.len(),
            truth.len() + 1,
            "at {concurrency}: the error ends the read"
        );
        let ids: Vec<String> = items[..truth.len()]
            .iter()
            .map(|e| e.as_ref().unwrap().event_id().to_owned())
            .collect();
        assert_eq!(ids, truth, "at {concurrency}: the devices before it, whole");
        let last = items.last().unwrap();
        assert!(matches!(last, Err(Error::NotFound(_))), "{last:?}");
    }
}
