//! Complete under every reading of the document: which 10,000 points a capped response
//! holds, inclusive or exclusive ends, any response order, points created later than
//! their `val_date`. The sandbox plays each reading; the client must not care.

mod common;

use std::collections::HashSet;

use conduit_client::{Client, Tier};
use futures::TryStreamExt;
use jiff::{SignedDuration, Timestamp};
use sandbox::conduit::{CapReading, Config, LateArrivals, Readings, ResponseOrder, Sandbox};
use secrecy::SecretString;

use common::Identity;

fn client_for(sim: &Sandbox) -> Client {
    Client::builder()
        .base_url(sim.base_url())
        .token(SecretString::from(sim.token().to_owned()))
        .tier(Tier::Unlimited)
        .build()
        .unwrap()
}

/// Streams `[from, to)` and checks it against the simulator's truth: every point created
/// in the range exactly once, and nothing else but points created in the second before
/// `from` (the API's start convention is unknown) or exactly at `to`. Returns the
/// request count.
async fn check_range(readings: Readings, from: i64, to: i64) -> u64 {
    let sim = Sandbox::start(Config::default().with_readings(readings))
        .await
        .unwrap();
    let points: Vec<conduit_client::Datapoint> = client_for(&sim)
        .datapoints()
        .range(
            Timestamp::from_second(from).unwrap(),
            Timestamp::from_second(to).unwrap(),
        )
        .stream()
        .try_collect()
        .await
        .unwrap_or_else(|e| panic!("{readings:?}: {e}"));
    let got = common::identities(&points);
    let distinct: HashSet<&Identity> = got.iter().collect();
    assert_eq!(distinct.len(), got.len(), "{readings:?}: duplicates");
    let truth: HashSet<Identity> = sim.points_created_in(from, to).into_iter().collect();
    let missing: Vec<&Identity> = truth.iter().filter(|p| !distinct.contains(p)).collect();
    assert!(
        missing.is_empty(),
        "{readings:?}: {} lost, e.g. {:?}",
        missing.len(),
        missing.first()
    );
    let allowed: HashSet<Identity> = sim
        .points_created_in(from - 1, from)
        .into_iter()
        .chain(sim.points_created_in(to, to + 1))
        .collect();
    let extra: Vec<&&Identity> = distinct
        .iter()
        .filter(|p| !truth.contains(**p) && !allowed.contains(**p))
        .collect();
    assert!(
        extra.is_empty(),
        "{readings:?}: {} outside the range, e.g. {:?}",
        extra.len(),
        extra.first()
    );
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
    // 90 days of one device's three channels at one a minute: 388,800 points.
    let days = 90;
    let from = Timestamp::from_second(START).unwrap();
    let to = from + SignedDuration::from_hours(24 * days);
    // Lower bound: ceil(points / 10,000) within each of the three 31-day cuts.
    let lower_bound: u64 = [31u64, 31, 28]
        .iter()
        .map(|d| (d * 1440 * 3).div_ceil(10_000))
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
            .id("70B3D54990DC01DA")
            .range(from, to)
            .stream()
            .try_fold(0usize, |n, _| async move { Ok(n + 1) })
            .await
            .unwrap();
        assert_eq!(count, 90 * 1440 * 3, "{cap:?}");
        let requests = sim.requests();
        eprintln!(
            "cap {cap:?}: {count} datapoints in {requests} requests, lower bound {lower_bound}, ratio {:.2}",
            requests as f64 / lower_bound as f64
        );
        assert!(
            requests as f64 <= 1.3 * lower_bound as f64,
            "{cap:?}: {requests} requests for a lower bound of {lower_bound}"
        );
    }
}
