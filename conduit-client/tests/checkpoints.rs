//! Kill and resume: a read stopped after any datapoint and resumed from its last
//! checkpoint yields each datapoint exactly once across the runs, under every reading the
//! simulator plays.

mod common;

use conduit_client::{Checkpoint, Checkpointed, Client, ClientError, Position, RawDatapoint, Tier};
use futures::{StreamExt, TryStreamExt};
use jiff::Timestamp;
use sandbox::conduit::{CapReading, ClockSkew, Config, LateArrivals, Readings, ResponseOrder, Sandbox};
use secrecy::SecretString;

fn client_for(sim: &Sandbox) -> Client {
    Client::builder()
        .base_url(sim.base_url())
        .token(SecretString::from(sim.token().to_owned()))
        .tier(Tier::Unlimited)
        .build()
        .unwrap()
}

/// 2026-01-01T00:00:00Z.
const START: i64 = 1_767_225_600;
const DAY: i64 = 86_400;

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).unwrap()
}

/// Every reading the simulator plays: each cap reading under each end convention (the
/// orders in turn), and each other reading.
fn every_reading() -> Vec<Readings> {
    let caps = [
        CapReading::Oldest,
        CapReading::Newest,
        CapReading::Arbitrary { seed: 7 },
    ];
    let orders = [
        ResponseOrder::Ascending,
        ResponseOrder::Descending,
        ResponseOrder::Shuffled { seed: 3 },
    ];
    let ends = [(true, true), (true, false), (false, true), (false, false)];
    let mut readings = Vec::new();
    for (i, cap) in caps.into_iter().enumerate() {
        for (j, (from_inclusive, to_inclusive)) in ends.into_iter().enumerate() {
            readings.push(
                Readings::default()
                    .with_cap(cap)
                    .with_ends(from_inclusive, to_inclusive)
                    .with_order(orders[(i + j) % orders.len()]),
            );
        }
    }
    readings.push(Readings::default().with_late(LateArrivals {
        one_in: 3,
        delay_seconds: 5 * DAY,
    }));
    readings.push(Readings::default().with_skew(ClockSkew {
        one_in: 3,
        ahead_seconds: 12 * 3600,
        behind_seconds: 12 * 3600,
    }));
    readings.push(
        Readings::default()
            .with_samples_per_second(3)
            .with_chid_as_text(true)
            .with_order(ResponseOrder::Shuffled { seed: 5 }),
    );
    readings.push(Readings::default().with_too_large_above(Some(60)));
    readings
}

fn query(sim: &Sandbox, from: i64, to: i64) -> conduit_client::DatapointsQuery<RawDatapoint> {
    client_for(sim)
        .datapoints()
        .range(at(from), at(to))
        .records::<RawDatapoint>()
}

/// The whole read, uninterrupted: its texts, and the sizes of its windows.
async fn uninterrupted(sim: &Sandbox, from: i64, to: i64) -> (Vec<String>, Vec<usize>) {
    let windows: Vec<_> = query(sim, from, to).pages().try_collect().await.unwrap();
    let last = windows.last().and_then(|w| w.checkpoint.clone()).unwrap();
    assert!(last.is_done(), "the last window's checkpoint is Done");
    // The sizes of the windows that cover time (a capped window yields one of no length).
    let sizes = windows
        .iter()
        .filter(|w| w.from < w.to)
        .map(|w| w.items.len())
        .collect();
    let texts = windows
        .iter()
        .flat_map(|w| w.items.iter().map(|p| p.as_str().to_owned()))
        .collect();
    (texts, sizes)
}

/// Takes `n` datapoints with `.checkpointed()`, drops the stream, resumes from the last
/// checkpoint (through its JSON), and so on until the read is done.
async fn killed_every(sim: &Sandbox, from: i64, to: i64, n: usize) -> Vec<String> {
    let mut texts = Vec::new();
    let mut checkpoint: Option<Checkpoint> = None;
    loop {
        let read = match checkpoint.clone() {
            Some(checkpoint) => query(sim, from, to).resume_from(checkpoint),
            None => query(sim, from, to),
        };
        let items: Vec<Checkpointed<RawDatapoint>> = read.checkpointed().take(n).try_collect().await.unwrap();
        let Some(last) = items.last() else { break };
        let stored = serde_json::to_string(&last.checkpoint).unwrap();
        checkpoint = Some(serde_json::from_str(&stored).unwrap());
        texts.extend(items.iter().map(|c| c.item.as_str().to_owned()));
        if last.checkpoint.is_done() {
            break;
        }
    }
    texts
}

/// For each reading: the uninterrupted read is the truth, once; a read killed every `n`
/// datapoints (for each `n` of `ns` and around the first window's size) is the same.
async fn resume_everywhere(config: Config, from: i64, to: i64, ns: &[usize]) {
    let readings = config.readings;
    let sim = Sandbox::start(config).await.unwrap();
    let (whole, sizes) = uninterrupted(&sim, from, to).await;
    let truth = sim.records_created_in(from, to);
    let edges = common::edge_records(&sim, from, to);
    if let Err(problem) = common::check_once(&whole, &truth, &edges) {
        panic!("{readings:?}: uninterrupted: {problem}");
    }
    assert!(sizes.len() >= 2, "{readings:?}: several windows: {sizes:?}");
    let first = sizes[0];
    let mut ns = ns.to_vec();
    ns.extend([first - 1, first + 1]);
    for n in ns {
        let resumed = killed_every(&sim, from, to, n).await;
        assert!(
            resumed == whole,
            "{readings:?}: killed every {n}: {} datapoints, uninterrupted {}",
            resumed.len(),
            whole.len()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_killed_anywhere_resumes_exactly_under_every_reading() {
    // 40 days, one point every two days per channel: two windows (31 days at most each).
    for readings in every_reading() {
        let config = Config::default()
            .with_interval_seconds(2 * DAY)
            .with_readings(readings);
        resume_everywhere(config, START, START + 40 * DAY, &[1, 2, 3, 7]).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_of_capped_windows_killed_mid_window_resumes_exactly() {
    // A day of five channels every 30 s: 14,400 points, over the cap, so windows are
    // cut by the density a capped response shows; killed around the first window's
    // size. Under the varying draw, asking for a capped window again would cut it
    // elsewhere: a resumed read must ask for the window its checkpoint was inside.
    let cases = [
        (CapReading::Oldest, (true, true), ResponseOrder::Descending),
        (CapReading::Newest, (false, true), ResponseOrder::Ascending),
        (
            CapReading::Arbitrary { seed: 3 },
            (true, false),
            ResponseOrder::Shuffled { seed: 1 },
        ),
        (
            CapReading::Varying { seed: 8 },
            (true, true),
            ResponseOrder::Ascending,
        ),
    ];
    for (cap, (from_inclusive, to_inclusive), order) in cases {
        let readings = Readings::default()
            .with_cap(cap)
            .with_ends(from_inclusive, to_inclusive)
            .with_order(order);
        let config = Config::default()
            .with_interval_seconds(30)
            .with_readings(readings);
        resume_everywhere(config, START, START + DAY, &[]).await;
    }
    // Two days, with val_dates up to two hours off their creation, so that a window's
    // order is not creation order: a resumed read that cut its window elsewhere than
    // the killed one would skip the wrong datapoints. Each run cuts its own windows
    // (each draw differs), so the order differs between runs; each datapoint must come
    // once.
    let skew = ClockSkew {
        one_in: 3,
        ahead_seconds: 7200,
        behind_seconds: 7200,
    };
    let readings = Readings::default()
        .with_cap(CapReading::Varying { seed: 12 })
        .with_skew(skew);
    let config = Config::default()
        .with_interval_seconds(30)
        .with_readings(readings);
    let sim = Sandbox::start(config).await.unwrap();
    let (from, to) = (START, START + 2 * DAY);
    let truth = sim.records_created_in(from, to);
    let edges = common::edge_records(&sim, from, to);
    for n in [3_000, 4_000, 7_000] {
        let resumed = killed_every(&sim, from, to, n).await;
        if let Err(problem) = common::check_once(&resumed, &truth, &edges) {
            panic!("varying draws, killed every {n}: {problem}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_reads_checkpoint_is_refused_and_a_done_one_yields_nothing() {
    let sim = Sandbox::start(Config::default().with_interval_seconds(2 * DAY))
        .await
        .unwrap();
    let first = query(&sim, START, START + 40 * DAY)
        .checkpointed()
        .try_next()
        .await
        .unwrap()
        .unwrap();
    let requests = sim.requests();
    // Another range, or another channel: refused when the read starts, nothing sent.
    for other in [
        query(&sim, START, START + 41 * DAY),
        query(&sim, START, START + 40 * DAY).channel(1),
    ] {
        let err = other
            .resume_from(first.checkpoint.clone())
            .stream()
            .try_next()
            .await
            .unwrap_err();
        assert!(matches!(err, ClientError::Config(_)), "{err:?}");
    }
    assert_eq!(sim.requests(), requests);
    // The record type is not part of the read: a typed read resumes a raw one.
    let rest: Vec<conduit_client::Datapoint> = client_for(&sim)
        .datapoints()
        .range(at(START), at(START + 40 * DAY))
        .resume_from(first.checkpoint.clone())
        .stream()
        .try_collect()
        .await
        .unwrap();
    let (whole, _) = uninterrupted(&sim, START, START + 40 * DAY).await;
    assert_eq!(rest.len() + 1, whole.len());
    let done = first.checkpoint.at(Position::Done);
    let requests = sim.requests();
    let nothing: Vec<_> = query(&sim, START, START + 40 * DAY)
        .resume_from(done)
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert!(nothing.is_empty());
    assert_eq!(sim.requests(), requests);
}
