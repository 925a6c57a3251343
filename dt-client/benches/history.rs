//! Typed decoding of one million historical events from the DT sandbox over loopback,
//! page by page: events/s and the process's peak RSS.
//!
//! `cargo bench -p dt-client --bench history` runs the typed stream ([`dt_client::Event`])
//! and the lossless one ([`dt_client::RawEvent`]) with the simulator rendering each page,
//! and the typed stream again from pre-rendered pages (`typed-prerendered`: the pages of
//! a first, untimed read are served again as they were, so that what is timed is the
//! client: HTTP, gzip and decoding), each in a child process of its own so each peak RSS
//! is its own; and decoding alone (`typed-decode` and `raw-decode`: the pages' bodies in
//! memory, decoded as the history read decodes them into `Event`s or `RawEvent`s, in one
//! thread). Pass a case (and optionally a count, for instance `-- typed 10000000`) to run
//! one in this process.

use dt_client::{Client, Event, RawEvent};
use jiff::{SignedDuration, Timestamp};
use sandbox::bench::drain;
use sandbox::dt::{Config, PROJECT, Sandbox};

async fn run(kind: &str, count: u64) {
    // One temperature event a minute from 2024-01-01: a million minutes ends in 2025.
    // The sandbox has no events after now, so a larger count (10 million for
    // scripts/bench) starts that many minutes earlier and ends where a million does.
    let start: Timestamp = "2024-01-01T00:00:00Z".parse().expect("timestamp");
    let start = start - SignedDuration::from_mins(count.saturating_sub(1_000_000) as i64);
    let prerendered = kind.ends_with("-prerendered");
    let decode_only = kind.ends_with("-decode");
    let config = Config::default()
        .with_prerendered_history(prerendered)
        .with_interval_seconds(60)
        .with_data_start(start)
        .with_devices_per_project(6);
    let sim = Sandbox::start(config).await.expect("sandbox starts");
    let vars = sim.env_vars();
    let client = Client::from_vars(sandbox::env_lookup(&vars)).expect("client builds");
    let device = sim
        .devices()
        .into_iter()
        .find(|d| d.device_type == "temperature")
        .expect("a temperature device");
    let end = start + SignedDuration::from_mins(count as i64) - SignedDuration::from_millis(1);
    let list = client.events(PROJECT, &device.id).range(start, end);
    if prerendered {
        // The untimed read that renders the pages.
        drain(list.clone().records::<RawEvent>().stream())
            .await
            .expect("events decode");
    }
    if decode_only {
        decode_pages(list, kind == "typed-decode").await;
        return;
    }
    let drained = if kind == "raw" {
        drain(list.records::<RawEvent>().stream()).await
    } else {
        drain(list.records::<Event>().stream()).await
    };
    let (seen, elapsed) = drained.expect("events decode");
    let seconds = elapsed.as_secs_f64();
    assert_eq!(seen, count);
    println!(
        "{kind:>17}: {seen:>9} events in {:>5} pages, {seconds:>6.2} s: {:>8.0} events/s, peak RSS {} KiB",
        sim.history_pages() / if prerendered { 2 } else { 1 },
        seen as f64 / seconds,
        sandbox::bench::peak_rss_kib()
    );
}

/// Typed decoding alone: the pages' bodies are read first (and written again from their
/// events' text, as compact as the server's), then decoded one after another as the
/// history read decodes them, in this thread, with nothing else timed: the best of five.
async fn decode_pages(list: dt_client::EventsQuery, typed: bool) {
    use futures::TryStreamExt;

    let bodies: Vec<String> = list
        .records::<RawEvent>()
        .pages()
        .map_ok(|page| {
            let events: Vec<&str> = page.items.iter().map(RawEvent::as_str).collect();
            format!(r#"{{"events":[{}],"nextPageToken":"next"}}"#, events.join(","))
        })
        .try_collect()
        .await
        .expect("pages");
    let bytes: usize = bodies.iter().map(String::len).sum();
    // The best of five rounds: the machine's other work slows some.
    let mut seconds = f64::INFINITY;
    let mut seen = 0usize;
    for _ in 0..5 {
        let started = std::time::Instant::now();
        seen = 0;
        for body in &bodies {
            if !typed {
                seen += dt_client::fuzzing::history_page_raw(body.as_bytes())
                    .expect("a page decodes")
                    .len();
            } else {
                seen += dt_client::fuzzing::history_page::<Event>(body.as_bytes())
                    .expect("a page decodes")
                    .len();
            }
        }
        seconds = seconds.min(started.elapsed().as_secs_f64());
    }
    println!(
        "{:>17}: {seen:>9} events in {:>5} pages, {seconds:>6.2} s: {:>8.0} events/s, {:.0} MB/s",
        if typed { "typed-decode" } else { "raw-decode" },
        bodies.len(),
        seen as f64 / seconds,
        bytes as f64 / 1e6 / seconds
    );
}

fn main() {
    sandbox::bench::async_cases_in_children(
        &["typed", "raw", "typed-prerendered", "typed-decode", "raw-decode"],
        |kind, rest| async move {
            let count = rest.first().and_then(|c| c.parse().ok()).unwrap_or(1_000_000);
            run(&kind, count).await;
        },
    );
}
