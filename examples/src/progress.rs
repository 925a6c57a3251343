//! Progress on standard error for long work, only when it is a terminal (a pipe or a log
//! file gets the log lines alone).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use jiff::Timestamp;

/// A progress line: done and total, a count, and the time left.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
    from: i64,
    furthest: AtomicI64,
    records: AtomicU64,
}

fn bar(total: u64, template: &str) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

impl Progress {
    /// Over the time range `[from, to)`: how far the records have come, and how many.
    pub fn over_range(from: Timestamp, to: Timestamp) -> Progress {
        let total = to.as_second().saturating_sub(from.as_second()).max(1) as u64;
        Progress {
            bar: bar(
                total,
                "{elapsed_precise} [{bar:30}] {percent:>3}% {msg}, about {eta} left",
            ),
            from: from.as_second(),
            furthest: AtomicI64::new(from.as_second()),
            records: AtomicU64::new(0),
        }
    }

    /// Over `total` steps (days of a backfill, say) named `what`.
    pub fn over_steps(total: u64, what: &str) -> Progress {
        let template =
            format!("{{elapsed_precise}} [{{bar:30}}] {{pos}}/{{len}} {what}{{msg}}, about {{eta}} left");
        Progress {
            bar: bar(total.max(1), &template),
            from: 0,
            furthest: AtomicI64::new(0),
            records: AtomicU64::new(0),
        }
    }

    /// One record more, at `at` (records come roughly in time order).
    pub fn record(&self, at: Option<Timestamp>) {
        let records = self.records.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(at) = at {
            let furthest = self
                .furthest
                .fetch_max(at.as_second(), Ordering::Relaxed)
                .max(at.as_second());
            self.bar
                .set_position(furthest.saturating_sub(self.from).max(0) as u64);
        }
        if records % 1000 == 0 {
            self.bar.set_message(format!("{records} records"));
        }
    }

    /// One step done; `note` is shown beside the count.
    pub fn step(&self, note: &str) {
        self.bar.inc(1);
        self.bar.set_message(format!(" ({note})"));
    }

    /// Clears the line.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
