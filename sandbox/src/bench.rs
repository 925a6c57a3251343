//! What the benchmark binaries against the simulators share: the peak RSS, the load
//! average, each case in a child process of its own (on a tokio runtime), and draining a
//! record stream.

use std::future::Future;
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};

/// The peak resident set size of this process in KiB (Linux `VmHWM`); 0 where unknown.
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// The load average over the last minute (Linux `/proc/loadavg`), to print beside a
/// wall time measured on a machine shared with other work; `None` where unknown.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Runs a benchmark's cases, each in a child process of its own so that each peak RSS is
/// its own. With a case among the arguments (as the child gets it), runs that case here:
/// `run(case, other arguments)`. Without, runs this binary again once per case and
/// fails if a child fails. Arguments starting with `--` (cargo's `--bench`) are ignored.
pub fn cases_in_children(cases: &[&str], run: impl FnOnce(&str, &[String])) {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if let Some(case) = args.first().filter(|a| cases.contains(&a.as_str())) {
        run(case, &args[1..]);
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        eprintln!("bench: cannot find its own executable");
        std::process::exit(2);
    };
    for case in cases {
        match std::process::Command::new(&exe).arg(case).status() {
            Ok(status) if status.success() => {}
            other => {
                eprintln!("bench: case {case} failed: {other:?}");
                std::process::exit(1);
            }
        }
    }
}

/// [`cases_in_children`] with each case's `run` a future, driven on a multi-threaded
/// tokio runtime of the child's own.
pub fn async_cases_in_children<F>(cases: &[&str], run: impl FnOnce(String, Vec<String>) -> F)
where
    F: Future<Output = ()>,
{
    cases_in_children(cases, |case, rest| {
        let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
            Ok(runtime) => runtime,
            Err(err) => {
                eprintln!("bench: no tokio runtime: {err}");
                std::process::exit(2);
            }
        };
        runtime.block_on(run(case.to_owned(), rest.to_vec()));
    });
}

/// Reads `stream` to its end, keeping nothing (each item goes through
/// [`std::hint::black_box`]): how many items it yielded and how long that took, or its
/// first error.
pub async fn drain<T, E>(stream: impl Stream<Item = Result<T, E>>) -> Result<(u64, Duration), E> {
    let started = Instant::now();
    let mut stream = std::pin::pin!(stream);
    let mut count = 0u64;
    while let Some(item) = stream.next().await {
        std::hint::black_box(item?);
        count += 1;
    }
    Ok((count, started.elapsed()))
}
