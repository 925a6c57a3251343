//! Every reading of what the document leaves open, played by the sandbox: the client
//! yields exactly the range's observations, in order, once, whichever the server plays.

mod common;

use client_core::ManualClock;
use futures::TryStreamExt;
use sandbox::sds::{CapOffset, Config, ITWIN, PageTotal, Readings, Sandbox};
use sds_client::{Cursor, DataSource, Error, Node, Observation, ObservationsQuery, RawObservation, Sensor};
use serde_json::json;

/// Two days and a bit, 2,893 observations at one a minute, with the ends on data.
const FROM: &str = "2025-03-01T00:00:00Z";
const TO: &str = "2025-03-03T00:13:00Z";

/// The query of the whole test range in `unit`.
fn query(sim: &Sandbox, unit: &str, page_size: u32) -> ObservationsQuery {
    common::client(sim, &ManualClock::new())
        .observations(ITWIN, "sensor-1")
        .metric("T")
        .unit(unit)
        .range(common::at(FROM), common::at(TO))
        .page_size(page_size)
}

async fn export(sim: &Sandbox, page_size: u32) -> Result<Vec<Observation>, Error> {
    query(sim, "F", page_size).stream().try_collect().await
}

fn truth(sim: &Sandbox) -> Vec<(i64, f64)> {
    sim.observations_in("sensor-1", "T", "F", common::at(FROM), common::at(TO))
}

fn pairs(observations: &[Observation]) -> Vec<(i64, f64)> {
    observations
        .iter()
        .map(|o| (o.timestamp.as_millisecond(), o.value.unwrap()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_paging_reading_gives_every_observation_once_in_order() {
    let mut readings = Vec::new();
    for total in [PageTotal::Pages, PageTotal::Observations] {
        readings.push(("honoured", Readings::default().with_page_total(total)));
        for offset in [CapOffset::EffectiveSize, CapOffset::RequestedSize] {
            readings.push((
                "capped",
                Readings::default()
                    .with_page_total(total)
                    .with_page_size_cap(250, offset),
            ));
            if total == PageTotal::Pages {
                readings.push((
                    "capped, pageTotal in pages of the size asked for",
                    Readings::default()
                        .with_page_size_cap(250, offset)
                        .with_page_total_of_requested_size(),
                ));
            }
            readings.push((
                "capped, reporting the requested size",
                Readings::default()
                    .with_page_total(total)
                    .with_page_size_cap(250, offset)
                    .reporting_requested_size(),
            ));
        }
    }
    // Each of them again, counting pages from 1.
    let one_based: Vec<_> = readings
        .iter()
        .map(|(what, reading)| (*what, reading.with_one_based_pages()))
        .collect();
    readings.extend(one_based);
    for (what, reading) in readings {
        for page_size in [1000, 2893, 5000] {
            let sim = Sandbox::start(Config::default().with_readings(reading))
                .await
                .unwrap();
            let got = export(&sim, page_size)
                .await
                .unwrap_or_else(|e| panic!("{what} {reading:?}: {e}"));
            let expected = truth(&sim);
            assert_eq!(expected.len(), 2893);
            assert_eq!(pairs(&got), expected, "{what} {reading:?} page size {page_size}");
        }
    }
}

/// The test range in pages of 1,000, one page at a time (no page asked for ahead).
async fn sequential(sim: &Sandbox) {
    let got: Vec<Observation> = query(sim, "F", 1000)
        .concurrency(1)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pairs(&got), truth(sim));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_total_as_pages_needs_no_extra_request_and_as_observations_two() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    sequential(&sim).await;
    assert_eq!(sim.observation_pages(), 3);
    let sim = Sandbox::start(
        Config::default().with_readings(Readings::default().with_page_total(PageTotal::Observations)),
    )
    .await
    .unwrap();
    sequential(&sim).await;
    assert_eq!(
        sim.observation_pages(),
        5,
        "an empty page, read as pages, says more remain: the next one confirms the end"
    );
    // Pages asked for ahead, while pageTotal may count pages: up to 3 more (the
    // concurrency less one), and the same observations.
    let ahead: Vec<Observation> = query(&sim, "F", 1000).stream().try_collect().await.unwrap();
    assert_eq!(pairs(&ahead), truth(&sim));
    assert!(
        (5..=5 + 3).contains(&(sim.observation_pages() - 5)),
        "{} pages",
        sim.observation_pages() - 5
    );
    let sim = Sandbox::start(Config::default().with_readings(Readings::default().with_one_based_pages()))
        .await
        .unwrap();
    sequential(&sim).await;
    assert_eq!(
        sim.observation_pages(),
        4,
        "counting from 1 costs the empty page 0"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_range_costs_one_request_under_either_page_count() {
    for readings in [Readings::default(), Readings::default().with_one_based_pages()] {
        let sim = Sandbox::start(Config::default().with_readings(readings))
            .await
            .unwrap();
        let got: Vec<Observation> = common::client(&sim, &ManualClock::new())
            .observations(ITWIN, "sensor-1")
            .metric("T")
            .unit("F")
            .range(
                common::at("2030-01-01T00:00:00Z"),
                common::at("2030-01-02T00:00:00Z"),
            )
            .stream()
            .try_collect()
            .await
            .unwrap();
        assert!(got.is_empty());
        assert_eq!(sim.observation_pages(), 1, "pageTotal 0 ends it: {readings:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reading_of_the_ends_gives_the_half_open_range() {
    for (start, end) in [(true, true), (true, false), (false, true), (false, false)] {
        let sim = Sandbox::start(Config::default().with_readings(Readings::default().with_ends(start, end)))
            .await
            .unwrap();
        let got = export(&sim, 10_000).await.unwrap();
        let expected = truth(&sim);
        assert_eq!(got.first().unwrap().timestamp, common::at(FROM), "{start} {end}");
        assert_eq!(pairs(&got), expected, "ends inclusive: start {start}, end {end}");

        let data: Vec<_> = common::client(&sim, &ManualClock::new())
            .query_data("sensor-1")
            .range(common::at(FROM), common::at(TO))
            .stream()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(data.len(), 2893, "data API, ends {start} {end}");
        assert_eq!(data[0].timestamp, common::at(FROM));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_bare_under_their_key_or_linked_read_the_same() {
    for readings in [
        Readings::default(),
        Readings::default().with_bare_lists(),
        Readings::default().with_linked_list_pages(1),
        Readings::default().with_linked_list_pages(2).with_bare_lists(),
    ] {
        let sim = Sandbox::start(Config::default().with_readings(readings))
            .await
            .unwrap();
        let client = common::client(&sim, &ManualClock::new());
        let sensors: Vec<Sensor> = client.sensors(ITWIN).stream().try_collect().await.unwrap();
        let ids: Vec<_> = sensors.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["sensor-1", "sensor-2", "sensor-3"], "{readings:?}");
        let in_source: Vec<Sensor> = client
            .sensors(ITWIN)
            .data_source("6304AD5893266431E1E9AD71")
            .stream()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(
            in_source.len(),
            2,
            "the filter is kept across pages: {readings:?}"
        );
        let sources: Vec<DataSource> = client.datasources(ITWIN).stream().try_collect().await.unwrap();
        assert_eq!(sources.len(), 2, "{readings:?}");
        let nodes: Vec<Node> = client.nodes(ITWIN).stream().try_collect().await.unwrap();
        assert_eq!(nodes.len(), 1, "{readings:?}");
        let pages = client
            .sensors(ITWIN)
            .pages()
            .try_collect::<Vec<_>>()
            .await
            .unwrap();
        let expected = match readings.list_page_size {
            Some(size) => 3usize.div_ceil(size),
            None => 1,
        };
        assert_eq!(pages.len(), expected, "{readings:?}");
        assert!(pages[..expected - 1].iter().all(|page| !page.is_last()));
    }
}

/// The query of the whole test range, reading the server's texts.
fn raw_query(sim: &Sandbox, page_size: u32) -> ObservationsQuery<RawObservation> {
    query(sim, "C", page_size).records::<RawObservation>()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_hold_the_range_with_each_pages_members_as_sent() {
    let sim = Sandbox::start(
        Config::default()
            .with_readings(Readings::default().with_page_size_cap(1000, CapOffset::RequestedSize)),
    )
    .await
    .unwrap();
    let pages: Vec<_> = raw_query(&sim, 2000).pages().try_collect().await.unwrap();
    let summary: Vec<_> = pages
        .iter()
        .map(|p| (p.cursor.clone(), p.meta["pageSize"].clone(), p.len()))
        .collect();
    // Capped at 1,000: the client asks for 1,000 from page 1 on, so nothing is skipped.
    // The server includes the observation at `endDate` in the last page (1,894 sent);
    // the page holds the 893 of the half-open range. `pageTotal` 3 may count pages of
    // the 2,000 asked for: an empty page confirms the end.
    let number = |page, size| Some(Cursor::Number { page, size });
    assert_eq!(
        summary,
        [
            (None, json!(1000), 1000),
            (number(1, 1000), json!(1000), 1000),
            (number(2, 1000), json!(1000), 893),
            (number(3, 1000), json!(1000), 0)
        ]
    );
    assert_eq!(pages[0].items[0].timestamp(), common::at(FROM));
    assert!(pages[2].items.last().unwrap().timestamp() < common::at(TO));
    assert_eq!(pages[0].meta["metric"], "T");
    assert_eq!(pages[2].meta["pageTotal"], 3, "as sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flattened_pages_are_the_stream_under_every_capped_reading() {
    for offset in [CapOffset::EffectiveSize, CapOffset::RequestedSize] {
        for total in [PageTotal::Pages, PageTotal::Observations] {
            for (start, end) in [(true, true), (false, false)] {
                for one_based in [false, true] {
                    let mut readings = Readings::default()
                        .with_page_total(total)
                        .with_page_size_cap(700, offset)
                        .with_ends(start, end);
                    if one_based {
                        readings = readings.with_one_based_pages();
                    }
                    let sim = Sandbox::start(Config::default().with_readings(readings))
                        .await
                        .unwrap();
                    let pages: Vec<_> = raw_query(&sim, 1000).pages().try_collect().await.unwrap();
                    let streamed: Vec<_> = raw_query(&sim, 1000).stream().try_collect().await.unwrap();
                    let flattened: Vec<_> = pages.into_iter().flatten().collect();
                    assert_eq!(flattened.len(), 2893, "{readings:?}");
                    assert_eq!(flattened, streamed, "{readings:?}");
                    let first = raw_query(&sim, 1000).send().await.unwrap();
                    let first_of_stream = &streamed[..first.len()];
                    assert_eq!(
                        first.items, first_of_stream,
                        "send is the first page: {readings:?}"
                    );
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_cap_that_keeps_the_newest_timestamps_is_an_error_not_a_gap() {
    let (from, to) = (
        common::at("2025-04-01T00:00:00Z"),
        common::at("2025-04-02T00:00:00Z"),
    );
    let newest = Readings::default().with_data_cap_keeping_newest();
    let sim = Sandbox::start(
        Config::default()
            .with_readings(newest)
            .with_data_response_cap(500),
    )
    .await
    .unwrap();
    let err = common::client(&sim, &ManualClock::new())
        .query_data("sensor-1")
        .range(from, to)
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Api(sds_client::SdsError::CapKeepsNewest { .. })),
        "{err:?}"
    );

    // Keeping the oldest, a range starting between two values costs one query more and
    // reads whole.
    let sim = Sandbox::start(Config::default().with_data_response_cap(500))
        .await
        .unwrap();
    let from = from + jiff::SignedDuration::from_secs(30);
    let points: Vec<_> = common::client(&sim, &ManualClock::new())
        .query_data("sensor-1")
        .range(from, to)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(points.len(), 1439);
    assert_eq!(
        sim.data_queries(),
        5,
        "one check before the first answer, three answers, one that ends"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_page_before_the_end_does_not_end_the_read() {
    // Removed observations keep their place in pages: with pages of 10, the minutes
    // 10 to 24 removed leave page 1 empty and page 2 half full.
    let (from, to) = (
        common::at("2025-03-01T00:00:00Z"),
        common::at("2025-03-01T01:00:00Z"),
    );
    let minute = |m: i64| from + jiff::SignedDuration::from_mins(m);
    for total in [PageTotal::Pages, PageTotal::Observations] {
        for one_based in [false, true] {
            let mut readings = Readings::default()
                .with_page_total(total)
                .with_removals_leaving_holes();
            if one_based {
                readings = readings.with_one_based_pages();
            }
            let sim = Sandbox::start(Config::default().with_readings(readings))
                .await
                .unwrap();
            let client = common::client(&sim, &ManualClock::new());
            client
                .remove_data("sensor-1")
                .range(minute(10), minute(24) + jiff::SignedDuration::from_secs(1))
                .send()
                .await
                .unwrap();
            let truth = sim.observations_in("sensor-1", "T", "F", from, to);
            assert_eq!(truth.len(), 45);
            let got: Vec<Observation> = client
                .observations(ITWIN, "sensor-1")
                .metric("T")
                .unit("F")
                .range(from, to)
                .page_size(10)
                .stream()
                .try_collect()
                .await
                .unwrap();
            assert_eq!(pairs(&got), truth, "{readings:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sub_millisecond_end_does_not_lose_the_observation_before_it() {
    // The range ends 0.4 ms after an observation: `endDate` rounded to the nearest
    // millisecond would name the observation's instant, which an exclusive end drops.
    let last = common::at("2025-03-01T00:59:00Z");
    let (from, to) = (
        common::at("2025-03-01T00:00:00Z"),
        last + jiff::SignedDuration::from_micros(400),
    );
    for (start, end) in [(true, false), (false, false), (true, true)] {
        let sim = Sandbox::start(Config::default().with_readings(Readings::default().with_ends(start, end)))
            .await
            .unwrap();
        let client = common::client(&sim, &ManualClock::new());
        let got: Vec<Observation> = client
            .observations(ITWIN, "sensor-1")
            .metric("T")
            .unit("F")
            .range(from, to)
            .stream()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(got.len(), 60, "ends {start} {end}");
        assert_eq!(got.last().unwrap().timestamp, last);
        let points: Vec<_> = client
            .query_data("sensor-1")
            .range(from, to)
            .stream()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(points.len(), 60, "data API, ends {start} {end}");
        assert_eq!(points.last().unwrap().timestamp, last);
    }
}
