//! The live stream's faults, end to end on the sandbox under its readings: the position
//! starts when the stream is built, an undecodable message is skipped, a failed backfill
//! is a gap, in-band codes (HTTP or gRPC, in either shape) reconnect or end the stream,
//! and the framing follows the response's `Content-Type`.

mod common;

use std::time::Duration;

use client_core::ManualClock;
use dt_client::{Error, RawEvent, RecordStream, StreamItem};
use futures::StreamExt;
use sandbox::dt::{Config, InBandShape, PROJECT, Sandbox, StreamFaults, StreamFraming};
use serde_json::json;

async fn emulated(client: &dt_client::Client) -> String {
    let labels = serde_json::Map::from_iter([("name".to_owned(), json!("faults"))]);
    client
        .create_emulated_device(PROJECT, "temperature", &labels)
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned()
}

async fn next<T>(items: &mut RecordStream<StreamItem<T>, Error>) -> Result<StreamItem<T>, Error> {
    tokio::time::timeout(Duration::from_secs(20), items.next())
        .await
        .expect("an item in time")
        .expect("the stream runs")
}

async fn recv<T>(
    received: &mut tokio::sync::mpsc::UnboundedReceiver<Result<StreamItem<T>, Error>>,
) -> Result<StreamItem<T>, Error> {
    tokio::time::timeout(Duration::from_secs(20), received.recv())
        .await
        .expect("an item in time")
        .expect("the stream runs")
}

fn event_id(item: Result<StreamItem<RawEvent>, Error>) -> String {
    match item {
        Ok(StreamItem::Event(event)) => event.event_id().to_owned(),
        other => panic!("{other:?}"),
    }
}

/// Every framing the server may pick, against each framing asked for.
fn framings() -> Vec<(bool, StreamFraming)> {
    let mut all = Vec::new();
    for served in [StreamFraming::AsAsked, StreamFraming::Ndjson, StreamFraming::Sse] {
        for asked in [false, true] {
            all.push((asked, served));
        }
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_published_after_the_stream_is_built_but_before_it_is_polled_arrives() {
    for (sse, served) in framings() {
        let sim = Sandbox::start(Config::default().with_stream_framing(served))
            .await
            .unwrap();
        let client = common::client(&sim);
        let device = emulated(&client).await;
        let mut items = client
            .live_events(PROJECT)
            .device_ids([device.clone()])
            .sse(sse)
            .records::<RawEvent>()
            .stream();
        client
            .publish(PROJECT, &device, "temperature", &json!({"value": 1}))
            .await
            .unwrap();
        assert_eq!(sim.stream_connections(), 0, "not polled yet");
        let id = event_id(next(&mut items).await);
        assert_eq!(
            id,
            sim.event_ids(&device, jiff::Timestamp::MIN, jiff::Timestamp::MAX)[0]
        );
        // Then live, in whatever framing the server picked.
        client
            .publish(PROJECT, &device, "temperature", &json!({"value": 2}))
            .await
            .unwrap();
        let second = event_id(next(&mut items).await);
        assert_ne!(second, id, "asked sse {sse}, served {served:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undecodable_message_is_an_error_item_and_the_stream_goes_on() {
    for (sse, served) in framings() {
        let sim = Sandbox::start(
            Config::default()
                .with_stream_framing(served)
                .with_stream_faults(StreamFaults::undecodable()),
        )
        .await
        .unwrap();
        let client = common::client(&sim);
        let device = emulated(&client).await;
        let mut items = client
            .live_events(PROJECT)
            .device_ids([device.clone()])
            .sse(sse)
            .records::<RawEvent>()
            .stream();
        match next(&mut items).await {
            Err(Error::Decode(message)) => {
                assert!(message.to_string().contains("stream message"), "{message}")
            }
            other => panic!("asked sse {sse}, served {served:?}: {other:?}"),
        }
        client
            .publish(PROJECT, &device, "temperature", &json!({"value": 1}))
            .await
            .unwrap();
        event_id(next(&mut items).await);
        assert_eq!(sim.stream_connections(), 1, "skipped, not reconnected");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_that_fails_after_a_reconnect_is_a_gap_and_the_stream_goes_on() {
    let sim = Sandbox::start(Config::default().with_stream_faults(StreamFaults::drop_after(1)))
        .await
        .unwrap();
    let client = common::client(&sim);
    let device = emulated(&client).await;
    let mut items = client
        .live_events(PROJECT)
        .device_ids([device.clone()])
        .records::<RawEvent>()
        .stream();
    // Polled on a task, so that the test sees the first connection's backfill done.
    let (sender, mut received) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(item) = items.next().await {
            if sender.send(item).is_err() {
                break;
            }
        }
    });
    for _ in 0..500 {
        if sim.history_pages() >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // From the next connection on, history fails (the client's retries included).
    let mut faults = StreamFaults::drop_after(1);
    faults.fail_history = 1000;
    sim.set_stream_faults(faults);
    client
        .publish(PROJECT, &device, "temperature", &json!({"value": 1}))
        .await
        .unwrap();
    event_id(recv(&mut received).await);
    match recv(&mut received).await {
        Ok(StreamItem::Gap(gap)) => {
            assert!(gap.from < gap.to, "{gap:?}");
            assert!(gap.reason.contains("reading history failed"), "{}", gap.reason);
        }
        other => panic!("{other:?}"),
    }
    // The stream went on: the next event arrives live.
    client
        .publish(PROJECT, &device, "temperature", &json!({"value": 2}))
        .await
        .unwrap();
    event_id(recv(&mut received).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_band_codes_reconnect_or_end_the_stream_in_every_shape() {
    for shape in [
        InBandShape::CodeHttp,
        InBandShape::CodeGrpc,
        InBandShape::GrpcAndHttp,
    ] {
        let sim = Sandbox::start(Config::default().with_in_band_shape(shape))
            .await
            .unwrap();
        let clock = ManualClock::new();
        let client = common::builder(&sim, &clock).build().unwrap();
        // 503 and 429: reconnected, then events flow.
        for status in [503, 429] {
            // A device of its own: a new stream starts a little before it is built.
            let device = emulated(&client).await;
            sim.set_stream_faults(StreamFaults::in_band_status(status));
            let before = sim.stream_connections();
            let mut items = client
                .live_events(PROJECT)
                .device_ids([device.clone()])
                .records::<RawEvent>()
                .stream();
            // The first event comes from history (published before the stream was
            // polled); the second only through the connection after the error.
            for value in [1, 2] {
                client
                    .publish(PROJECT, &device, "temperature", &json!({"value": value}))
                    .await
                    .unwrap();
                event_id(next(&mut items).await);
            }
            assert_eq!(sim.stream_connections(), before + 2, "{shape:?} {status}");
        }
        // 401: the cached token is dropped, and the reconnect fetches a fresh one.
        let device = emulated(&client).await;
        sim.set_stream_faults(StreamFaults::in_band_status(401));
        let tokens = sim.token_requests();
        let mut items = client
            .live_events(PROJECT)
            .device_ids([device.clone()])
            .records::<RawEvent>()
            .stream();
        for value in [1, 2] {
            client
                .publish(PROJECT, &device, "temperature", &json!({"value": value}))
                .await
                .unwrap();
            event_id(next(&mut items).await);
        }
        assert_eq!(sim.token_requests(), tokens + 1, "{shape:?}: a fresh token");
        // 403 and 404 end the stream.
        for status in [403, 404] {
            let device = emulated(&client).await;
            sim.set_stream_faults(StreamFaults::in_band_status(status));
            let before = sim.stream_connections();
            let mut items = client
                .live_events(PROJECT)
                .device_ids([device.clone()])
                .records::<RawEvent>()
                .stream();
            let ended = next(&mut items).await;
            match (status, &ended) {
                (403, Err(Error::Forbidden(_))) => {}
                (404, Err(Error::Api(dt_client::DtError::Stream { .. }))) => {}
                other => panic!("{shape:?}: {other:?}"),
            }
            assert!(items.next().await.is_none(), "{shape:?} {status}: ended");
            assert_eq!(sim.stream_connections(), before + 1, "{shape:?} {status}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpoint_older_than_the_history_kept_resumes_with_a_gap_to_its_horizon() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = common::client(&sim);
    let device = emulated(&client).await;
    let query = || {
        client
            .live_events(PROJECT)
            .device_ids([device.clone()])
            .records::<RawEvent>()
    };
    let mut items = query().checkpointed();
    client
        .publish(PROJECT, &device, "temperature", &json!({"value": 1}))
        .await
        .unwrap();
    let first = tokio::time::timeout(Duration::from_secs(20), items.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    drop(items);
    // Stored 40 days ago, as far as the position says.
    let mut checkpoint = first.checkpoint;
    let long_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(40 * 24);
    std::sync::Arc::make_mut(&mut checkpoint.state)["since"] = json!(long_ago.to_string());
    let checkpoint = checkpoint.at(dt_client::Position::After { at: long_ago });
    let mut items = query().resume_from(checkpoint).stream();
    match next(&mut items).await {
        Ok(StreamItem::Gap(gap)) => {
            assert_eq!(gap.from, long_ago);
            let horizon = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(31 * 24);
            assert!(
                gap.to <= horizon && gap.to > horizon - jiff::SignedDuration::from_secs(60),
                "{gap:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    // The event yielded before is not yielded again; the next one arrives.
    client
        .publish(PROJECT, &device, "temperature", &json!({"value": 2}))
        .await
        .unwrap();
    let second = event_id(next(&mut items).await);
    match &first.item {
        StreamItem::Event(event) => assert_ne!(event.event_id(), second),
        other => panic!("{other:?}"),
    }
}
