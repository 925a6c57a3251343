//! Complete under every reading of the document: which 10,000 points a capped response
//! holds, inclusive or exclusive ends, any response order, points created later than
//! their `val_date`. The sandbox plays each reading; the client must not care.

mod common;

use conduit_client::{Client, RawDatapoint, Tier};
use futures::TryStreamExt;
use jiff::{SignedDuration, Timestamp};
use sandbox::conduit::{
    CapReading, ClockSkew, Config, Device, LateArrivals, Readings, ResponseOrder, Sandbox,
};
use secrecy::SecretString;

fn client_for(sim: &Sandbox) -> Client {
    Client::builder()
        .base_url(sim.base_url())
        .token(SecretString::from(sim.token().to_owned()))
        .tier(Tier::Unlimited)
        .build()
        .unwrap()
}

/// Streams `[from, to)` and checks it against the simulator's truth: every point created
/// in the range exactly once (compared by record text, as multisets: distinct points may
/// share `(dev_netid, dev_chid, val_date)`), and nothing else but points created in the
/// second before `from` (the API's start convention is unknown) or exactly at `to`.
/// Returns the request count.
async fn check_range(readings: Readings, from: i64, to: i64) -> u64 {
    check_range_of(Config::default().with_readings(readings), from, to).await
}

/// [`check_range`] on a simulator of `config`.
async fn check_range_of(config: Config, from: i64, to: i64) -> u64 {
    let readings = config.readings;
    let sim = Sandbox::start(config).await.unwrap();
    let points: Vec<RawDatapoint> = client_for(&sim)
        .datapoints()
        .range(
            Timestamp::from_second(from).unwrap(),
            Timestamp::from_second(to).unwrap(),
        )
        .records::<RawDatapoint>()
        .stream()
        .try_collect()
        .await
        .unwrap_or_else(|e| panic!("{readings:?}: {e}"));
    let got: Vec<String> = points.iter().map(|p| p.as_str().to_owned()).collect();
    let truth = sim.records_created_in(from, to);
    let edges = common::edge_records(&sim, from, to);
    if let Err(problem) = common::check_once(&got, &truth, &edges) {
        panic!("{readings:?}: {problem}");
    }
    sim.requests()
}

/// 2026-01-01T00:00:00Z.
const START: i64 = 1_767_225_600;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_cap_end_and_order_reading_gives_the_whole_range_once() {
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
    let mut case = 0;
    for cap in caps {
        for (from_inclusive, to_inclusive) in ends {
            let readings = Readings::default()
                .with_cap(cap)
                .with_ends(from_inclusive, to_inclusive)
                .with_order(orders[case % orders.len()]);
            case += 1;
            // Three days of five channels at one a minute: 21,600 points, over the cap.
            // The range starts and ends on a point, where the end conventions bite.
            check_range(readings, START, START + 3 * 86_400).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_points_belong_to_the_range_they_were_created_in() {
    // One point in five arrives six hours after its val_date.
    let late = LateArrivals {
        one_in: 5,
        delay_seconds: 6 * 3600,
    };
    for cap in [
        CapReading::Oldest,
        CapReading::Newest,
        CapReading::Arbitrary { seed: 11 },
    ] {
        let readings = Readings::default()
            .with_cap(cap)
            .with_late(late)
            .with_ends(true, false);
        // A day that starts late: some points it holds have a val_date of the day before.
        check_range(readings, START + 86_400, START + 2 * 86_400).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dense_ranges_stay_near_the_lower_bound_under_every_cap_reading() {
    // 14 days of two channels (40,320 points: 5 requests at the least), and 90 days of
    // three (388,800 points), each at one a minute.
    for (device, channels, days) in [("70B3D54990DC02EB", 2, 14), ("70B3D54990DC01DA", 3, 90)] {
        check_near_lower_bound(device, channels, days).await;
    }
}

/// Streams `days` of `device` under each cap reading: every point once, in at most 1.3
/// times the lower bound of requests, ceil(points / 10,000) within each 31-day cut.
async fn check_near_lower_bound(device: &str, channels: u64, days: u64) {
    let from = Timestamp::from_second(START).unwrap();
    let to = from + SignedDuration::from_hours(24 * days as i64);
    let per_day = 1440 * channels;
    let lower_bound: u64 = (0..days)
        .step_by(31)
        .map(|start| ((days - start).min(31) * per_day).div_ceil(10_000))
        .sum();
    for cap in [
        CapReading::Oldest,
        CapReading::Newest,
        CapReading::Arbitrary { seed: 5 },
    ] {
        let sim = Sandbox::start(Config::default().with_readings(Readings::default().with_cap(cap)))
            .await
            .unwrap();
        let count = client_for(&sim)
            .datapoints()
            .id(device)
            .range(from, to)
            .stream()
            .try_fold(0u64, |n, _| async move { Ok(n + 1) })
            .await
            .unwrap();
        // The points created exactly at `to` come along (the end may be inclusive).
        let points = days * per_day;
        assert!((points..=points + channels).contains(&count), "{cap:?}: {count}");
        let requests = sim.requests();
        eprintln!(
            "{device}, {days} days, cap {cap:?}: {count} datapoints in {requests} requests, lower bound {lower_bound}, ratio {:.2}",
            requests as f64 / lower_bound as f64
        );
        assert!(
            requests as f64 <= 1.3 * lower_bound as f64,
            "{device}, {days} days, {cap:?}: {requests} requests for a lower bound of {lower_bound}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn val_dates_ahead_of_or_behind_creation_are_never_dropped() {
    // One point in four has a val_date up to 12 hours ahead of its creation, or behind.
    let skew = ClockSkew {
        one_in: 4,
        ahead_seconds: 12 * 3600,
        behind_seconds: 12 * 3600,
    };
    for (cap, ends) in [
        (CapReading::Oldest, (true, true)),
        (CapReading::Newest, (false, true)),
        (CapReading::Arbitrary { seed: 2 }, (true, false)),
    ] {
        let readings = Readings::default()
            .with_cap(cap)
            .with_skew(skew)
            .with_ends(ends.0, ends.1);
        check_range(readings, START + 86_400, START + 3 * 86_400).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distinct_points_of_one_channel_and_second_are_all_kept() {
    // Three points per channel and val_date, each its own value; dev_chid as text in
    // about half of them.
    for (cap, chid_as_text) in [
        (CapReading::Oldest, false),
        (CapReading::Arbitrary { seed: 9 }, true),
    ] {
        let readings = Readings::default()
            .with_cap(cap)
            .with_samples_per_second(3)
            .with_chid_as_text(chid_as_text)
            .with_order(ResponseOrder::Shuffled { seed: 4 });
        check_range(readings, START, START + 86_400).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_boundary_point_is_yielded_once_with_one_second_windows() {
    // 3,000 channels with a point every second: a three-second request is capped, so the
    // windows shrink to one second, and with inclusive ends a point is in the responses
    // of three consecutive windows.
    let mut config = Config::default()
        .with_interval_seconds(1)
        .with_readings(Readings::default().with_ends(true, true));
    config.devices = vec![Device {
        netid: "DENSE".into(),
        channels: (1..=3000).collect(),
    }];
    check_range_of(config, START, START + 4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_refused_as_too_large_splits_the_window() {
    for cap in [CapReading::Oldest, CapReading::Newest] {
        let readings = Readings::default()
            .with_cap(cap)
            .with_too_large_above(Some(4_000));
        let requests = check_range(readings, START, START + 3 * 86_400).await;
        // 21,600 points at most 4,000 a response: a few refusals, then windows that fit.
        assert!(requests < 20, "{cap:?}: {requests} requests");
    }
}
