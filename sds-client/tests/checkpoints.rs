//! Kill-and-resume: a read stopped after any observation (or timestamp) and resumed from
//! its last checkpoint yields the simulator's truth exactly, under every reading.

mod common;

use client_core::ManualClock;
use futures::{StreamExt, TryStreamExt};
use jiff::Timestamp;
use sandbox::sds::{CapOffset, Config, ITWIN, PageTotal, Readings, Sandbox};
use sds_client::{Checkpoint, Checkpointed, Client, DataPoint, Error, Observation, RecordStream};

/// One hour, 60 observations at one a minute.
const FROM: &str = "2025-03-01T00:00:00Z";
const TO: &str = "2025-03-01T01:00:00Z";
/// The page size asked for, and the cap of the capped readings.
const PAGE_SIZE: u32 = 10;
const CAP: u32 = 7;
/// How many items each run takes before it is dropped: 1, 2, 3, 7, around the page
/// size and the cap, and more than the whole read.
const STOPS: [usize; 8] = [1, 2, 3, 7, 9, 10, 11, 100];

/// Every paging reading the simulator plays.
fn paging_readings() -> Vec<Readings> {
    let mut readings = Vec::new();
    for total in [PageTotal::Pages, PageTotal::Observations] {
        for one_based in [false, true] {
            let base = if one_based {
                Readings::default().with_page_total(total).with_one_based_pages()
            } else {
                Readings::default().with_page_total(total)
            };
            readings.push(base);
            for offset in [CapOffset::EffectiveSize, CapOffset::RequestedSize] {
                let capped = base.with_page_size_cap(CAP, offset);
                readings.push(capped);
                readings.push(capped.reporting_requested_size().with_ends(false, false));
                if total == PageTotal::Pages {
                    readings.push(capped.with_page_total_of_requested_size());
                }
            }
        }
    }
    // Removed observations leaving holes: the test removes minutes 10 to 24.
    readings.push(Readings::default().with_removals_leaving_holes());
    readings.push(
        Readings::default()
            .with_page_total(PageTotal::Observations)
            .with_one_based_pages()
            .with_removals_leaving_holes(),
    );
    readings
}

/// Runs a read `n` items at a time, each run resumed from the last checkpoint of the
/// one before, until the read is done; returns every item and the number of runs.
async fn in_runs<T, F>(read: F, n: usize) -> (Vec<T>, usize)
where
    F: Fn(Option<Checkpoint>) -> RecordStream<Checkpointed<T>, Error>,
{
    let mut all = Vec::new();
    let mut from: Option<Checkpoint> = None;
    let mut runs = 0;
    loop {
        runs += 1;
        assert!(runs < 10_000, "the read does not end");
        let taken: Vec<Checkpointed<T>> = read(from.clone()).take(n).try_collect().await.unwrap();
        let Some(last) = taken.last() else { break };
        from = Some(last.checkpoint.clone());
        let done = last.checkpoint.is_done();
        all.extend(taken.into_iter().map(|c| c.item));
        if done {
            break;
        }
    }
    (all, runs)
}

fn observations(
    client: &Client,
    resume: Option<Checkpoint>,
) -> RecordStream<Checkpointed<Observation>, Error> {
    let query = client
        .observations(ITWIN, "sensor-1")
        .metric("T")
        .unit("F")
        .range(common::at(FROM), common::at(TO))
        .page_size(PAGE_SIZE);
    match resume {
        Some(checkpoint) => query.resume_from(checkpoint).checkpointed(),
        None => query.checkpointed(),
    }
}

fn pairs(observations: &[Observation]) -> Vec<(i64, f64)> {
    observations
        .iter()
        .map(|o| (o.timestamp.as_millisecond(), o.value.unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observations_killed_anywhere_resume_exactly_under_every_reading() {
    for readings in paging_readings() {
        let sim = Sandbox::start(Config::default().with_readings(readings))
            .await
            .unwrap();
        let client = common::client(&sim, &ManualClock::new());
        if readings.removals_leave_holes {
            let minute = |m: i64| common::at(FROM) + jiff::SignedDuration::from_mins(m);
            client
                .remove_data("sensor-1")
                .range(minute(10), minute(24) + jiff::SignedDuration::from_secs(1))
                .send()
                .await
                .unwrap();
        }
        let truth = sim.observations_in("sensor-1", "T", "F", common::at(FROM), common::at(TO));
        let expected = if readings.removals_leave_holes { 45 } else { 60 };
        assert_eq!(truth.len(), expected);
        let whole: Vec<Observation> = client
            .observations(ITWIN, "sensor-1")
            .metric("T")
            .unit("F")
            .range(common::at(FROM), common::at(TO))
            .page_size(PAGE_SIZE)
            .stream()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(pairs(&whole), truth, "{readings:?}");
        for n in STOPS {
            let (got, runs) = in_runs(|resume| observations(&client, resume), n).await;
            assert_eq!(pairs(&got), truth, "{readings:?}, {n} at a time");
            assert!(runs >= expected / n, "{readings:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_carry_the_checkpoint_after_them_and_a_done_checkpoint_yields_nothing() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = common::client(&sim, &ManualClock::new());
    let query = client
        .observations(ITWIN, "sensor-1")
        .metric("T")
        .unit("F")
        .range(common::at(FROM), common::at(TO))
        .page_size(25);
    let pages: Vec<_> = query.clone().pages().try_collect().await.unwrap();
    assert_eq!(pages.len(), 3);
    let last = pages[2].checkpoint.clone().unwrap();
    assert!(last.is_done(), "{last:?}");
    // Resuming after the first page reads the other two pages' observations.
    let after_first = pages[0].checkpoint.clone().unwrap();
    let text = serde_json::to_string(&after_first).unwrap();
    let rest: Vec<Observation> = query
        .clone()
        .resume_from(serde_json::from_str(&text).unwrap())
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rest.len(), 35);
    assert_eq!(rest[0], pages[1].items[0]);
    let before = sim.observation_pages();
    let none: Vec<Observation> = query.resume_from(last).stream().try_collect().await.unwrap();
    assert!(none.is_empty());
    assert_eq!(sim.observation_pages(), before, "a done read sends nothing");

    // The data query's pages: after each, its last timestamp; after the last, done.
    let data = client
        .query_data("sensor-1")
        .range(common::at(FROM), common::at(TO));
    let pages: Vec<_> = data.clone().pages().try_collect().await.unwrap();
    let positions: Vec<_> = pages
        .iter()
        .map(|page| page.checkpoint.clone().unwrap().position)
        .collect();
    assert_eq!(
        positions,
        [
            sds_client::Position::After {
                at: common::at("2025-03-01T00:59:00Z")
            },
            sds_client::Position::Done
        ]
    );
    let before = sim.data_queries();
    let done = pages[1].checkpoint.clone().unwrap();
    let none: Vec<DataPoint> = data.resume_from(done).stream().try_collect().await.unwrap();
    assert!(none.is_empty());
    assert_eq!(sim.data_queries(), before, "a done read sends nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_reads_checkpoint_is_a_config_error() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = common::client(&sim, &ManualClock::new());
    let query = |unit: &str| {
        client
            .observations(ITWIN, "sensor-1")
            .metric("T")
            .unit(unit)
            .range(common::at(FROM), common::at(TO))
            .page_size(PAGE_SIZE)
    };
    let first = query("F").checkpointed().next().await.unwrap().unwrap();
    let err = query("C")
        .resume_from(first.checkpoint.clone())
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    // Nor does the data query take an observations checkpoint, nor the reverse.
    let err = client
        .query_data("sensor-1")
        .range(common::at(FROM), common::at(TO))
        .resume_from(first.checkpoint)
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    let point = client
        .query_data("sensor-1")
        .range(common::at(FROM), common::at(TO))
        .checkpointed()
        .next()
        .await
        .unwrap()
        .unwrap();
    let err = query("F")
        .resume_from(point.checkpoint)
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
}

fn data(client: &Client, resume: Option<Checkpoint>) -> RecordStream<Checkpointed<DataPoint>, Error> {
    let query = client
        .query_data("sensor-1")
        .range(common::at(FROM), common::at(TO));
    match resume {
        Some(checkpoint) => query.resume_from(checkpoint).checkpointed(),
        None => query.checkpointed(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_queries_killed_anywhere_resume_exactly_under_every_reading() {
    for (start, end) in [(true, true), (true, false), (false, true), (false, false)] {
        for cap in [7, 10, 10_000] {
            let sim = Sandbox::start(
                Config::default()
                    .with_readings(Readings::default().with_ends(start, end))
                    .with_data_response_cap(cap),
            )
            .await
            .unwrap();
            let client = common::client(&sim, &ManualClock::new());
            let truth: Vec<Timestamp> = sim
                .observations_in("sensor-1", "T", "C", common::at(FROM), common::at(TO))
                .iter()
                .map(|(ms, _)| Timestamp::from_millisecond(*ms).unwrap())
                .collect();
            let whole: Vec<DataPoint> = client
                .query_data("sensor-1")
                .range(common::at(FROM), common::at(TO))
                .stream()
                .try_collect()
                .await
                .unwrap();
            let stamps = |points: &[DataPoint]| points.iter().map(|p| p.timestamp).collect::<Vec<_>>();
            assert_eq!(stamps(&whole), truth);
            for n in STOPS {
                let (got, _) = in_runs(|resume| data(&client, resume), n).await;
                assert_eq!(got, whole, "ends {start} {end}, cap {cap}, {n} at a time");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_resumed_inside_its_first_page_with_another_page_size_yields_each_once() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = common::client(&sim, &ManualClock::new());
    let query = |size: u32| {
        client
            .observations(ITWIN, "sensor-1")
            .metric("T")
            .unit("F")
            .range(common::at(FROM), common::at(TO))
            .page_size(size)
    };
    let first: Vec<Checkpointed<Observation>> = query(PAGE_SIZE)
        .checkpointed()
        .take(8)
        .try_collect()
        .await
        .unwrap();
    let resumed: Vec<Observation> = query(4)
        .resume_from(first[7].checkpoint.clone())
        .stream()
        .try_collect()
        .await
        .unwrap();
    let mut all: Vec<Observation> = first.into_iter().map(|c| c.item).collect();
    all.extend(resumed);
    let truth = sim.observations_in("sensor-1", "T", "F", common::at(FROM), common::at(TO));
    assert_eq!(all.len(), truth.len());
    assert_eq!(pairs(&all), truth);
}
