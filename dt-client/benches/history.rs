//! Typed decoding of one million historical events from the DT sandbox over loopback,
//! page by page: events/s and the peak RSS of the process reading them.
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
//!
//! The simulator serves from a process of its own (this executable again, as `serve KIND
//! COUNT`), so that the peak RSS printed is the reader's alone: the DT simulator renders
//! and compresses pages of a thousand events and, in the reader's process, its allocations
//! alone kept about 33 MiB resident whatever the count.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use dt_client::{Client, Event, RawEvent};
use jiff::{SignedDuration, Timestamp};
use sandbox::bench::drain;
use sandbox::dt::{Config, PROJECT, Sandbox};

/// The argument that makes this executable the simulator of another run of it.
const SERVE: &str = "serve";

/// One temperature event a minute from 2024-01-01: a million minutes ends in 2025. The
/// sandbox has no events after now, so a larger count (10 million for scripts/bench)
/// starts that many minutes earlier and ends where a million does.
fn first_event(count: u64) -> Timestamp {
    let start: Timestamp = "2024-01-01T00:00:00Z".parse().expect("timestamp");
    start - SignedDuration::from_mins(count.saturating_sub(1_000_000) as i64)
}

/// The simulator of a case (`serve KIND COUNT`): prints one JSON line (the client's
/// variables and the temperature device's id), serves until its standard input closes,
/// then prints the count of history pages it served.
async fn serve(kind: &str, count: u64) {
    let config = Config::default()
        .with_prerendered_history(kind.ends_with("-prerendered"))
        .with_interval_seconds(60)
        .with_data_start(first_event(count))
        .with_devices_per_project(6);
    let sim = Sandbox::start(config).await.expect("sandbox starts");
    let device = sim
        .devices()
        .into_iter()
        .find(|d| d.device_type == "temperature")
        .expect("a temperature device");
    let vars: HashMap<&str, String> = sim.env_vars().into_iter().collect();
    let line = serde_json::json!({ "vars": vars, "device": device.id });
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .expect("stdout");
    tokio::task::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new()))
        .await
        .expect("the stdin thread")
        .expect("stdin");
    println!("{}", sim.history_pages());
}

/// The simulator in its child process, and what it said. Dropped without
/// [`Served::stop`] (a panic), it kills the process.
struct Served {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    vars: HashMap<String, String>,
    device: String,
}

impl Served {
    fn start(kind: &str, count: u64) -> Served {
        let exe = std::env::current_exe().expect("its own executable");
        let mut child = Command::new(exe)
            .args([SERVE, kind, &count.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the simulator's process starts");
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().expect("its stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("the simulator's first line");
        if line.is_empty() {
            let status = child.wait().expect("the simulator ends");
            panic!("the simulator ended before serving: {status}");
        }
        let said: serde_json::Value = serde_json::from_str(&line).expect("one JSON line");
        let vars = serde_json::from_value(said["vars"].clone()).expect("the variables");
        let device = said["device"].as_str().expect("the device").to_owned();
        Served {
            child,
            stdin,
            stdout,
            vars,
            device,
        }
    }

    /// Stops the simulator: the count of history pages it served.
    fn stop(mut self) -> u64 {
        drop(self.stdin.take());
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .expect("the simulator's last line");
        let status = self.child.wait().expect("the simulator ends");
        assert!(status.success(), "the simulator failed: {status}");
        line.trim().parse().expect("a page count")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        // After `stop` the process is gone and this does nothing.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn run(kind: &str, count: u64) {
    let prerendered = kind.ends_with("-prerendered");
    let decode_only = kind.ends_with("-decode");
    let served = Served::start(kind, count);
    let client = Client::from_vars(|name| served.vars.get(name).cloned()).expect("client builds");
    let start = first_event(count);
    let end = start + SignedDuration::from_mins(count as i64) - SignedDuration::from_millis(1);
    let list = client.events(PROJECT, &served.device).range(start, end);
    if prerendered {
        // The untimed read that renders the pages.
        drain(list.clone().records::<RawEvent>().stream())
            .await
            .expect("events decode");
    }
    if decode_only {
        decode_pages(list, kind == "typed-decode").await;
        served.stop();
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
    let pages = served.stop();
    println!(
        "{kind:>17}: {seen:>9} events in {:>5} pages, {seconds:>6.2} s: {:>8.0} events/s, peak RSS {} KiB",
        pages / if prerendered { 2 } else { 1 },
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
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [serve_arg, kind, count] = args.as_slice() {
        if serve_arg == SERVE {
            let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
            runtime.block_on(serve(kind, count.parse().expect("a count")));
            return;
        }
    }
    sandbox::bench::async_cases_in_children(
        &["typed", "raw", "typed-prerendered", "typed-decode", "raw-decode"],
        |kind, rest| async move {
            let count = rest.first().and_then(|c| c.parse().ok()).unwrap_or(1_000_000);
            run(&kind, count).await;
        },
    );
}
