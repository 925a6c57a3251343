//! The daily export daemon's work: one pass over a batch plan, one file per item and
//! local day with a manifest beside it, written atomically.
//!
//! - `days.rs`: which days a pass looks at, and when a day has settled;
//! - `plan.rs`: the plan, checked before any request;
//! - `catalog_check.rs`: the plan against each pass's catalog;
//! - `store.rs`: one day fetched, compared and put in place, and crash leftovers;
//! - `manifest.rs`: the manifest beside each day;
//! - `requests.rs`: each day's requests and correlation ids, from the client's spans;
//! - `missed.rs`: days missed beyond the catch-up window.

use std::path::{Path, PathBuf};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use preventos_client::plan::BatchItem;
use preventos_client::{Catalog, Client, Format};

use crate::progress::Progress;
use counters::DayOutcome;

mod catalog_check;
pub mod counters;
mod days;
mod manifest;
mod missed;
mod plan;
mod requests;
mod shard;
mod store;

pub use catalog_check::{CatalogCheck, CatalogWatch, check as check_catalog};
pub use days::{Days, day_end, next_run, settling};
pub use manifest::{
    MANIFEST_VERSION, Manifest, ManifestRequest, ManifestWindow, manifest_path, matches_manifest,
    read_manifest,
};
pub use missed::{Missed, missed_days};
pub use plan::{check_plan, environments, read_plan};
pub use requests::{DAY_SPAN, RequestLayer, RequestLog, day_span};
pub use shard::{MAX_SHARDS, Shard, shard_of};
pub use store::{DayError, Stored, remove_leftovers, store_day};

/// The settle duration by default: days that ended less than 48 hours ago are fetched
/// again by every pass.
pub const DEFAULT_SETTLE: SignedDuration = SignedDuration::from_hours(48);

/// How a pass treats the days it looks at.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct PassOptions {
    /// Which days.
    pub days: Days,
    /// Fetch every day again, settled or not.
    pub force: bool,
    /// Days that ended less than this ago are fetched again (zero: never).
    pub settle: SignedDuration,
    /// Check every stored day against its manifest; fetch again a day whose file is
    /// missing or altered.
    pub verify: bool,
    /// The items of the plan this process exports (default: all).
    pub shard: Shard,
}

impl PassOptions {
    /// `days` with the defaults: no force, [`DEFAULT_SETTLE`], no verify.
    pub fn new(days: Days) -> Self {
        PassOptions {
            days,
            force: false,
            settle: DEFAULT_SETTLE,
            verify: false,
            shard: Shard::ALL,
        }
    }
}

/// What one pass did.
#[derive(Debug, Default)]
pub struct PassReport {
    /// Files written for the first time.
    pub written: Vec<PathBuf>,
    /// Files replaced because their content changed (late data, or a file that failed
    /// --verify).
    pub replaced: Vec<PathBuf>,
    /// Days fetched again whose content had not changed (left untouched).
    pub unchanged: Vec<PathBuf>,
    /// Files that existed and were left alone without a request.
    pub skipped: Vec<PathBuf>,
    /// Items or days that failed, with the reason.
    pub failed: Vec<(String, String)>,
    /// Per item, the days missed beyond the catch-up window.
    pub missed: Vec<(String, Missed)>,
    /// Signals of the catalog that no item exports (`env/site/signal`).
    pub unexported: Vec<String>,
}

impl PassReport {
    /// Whether every item succeeded and no day is missing.
    pub fn ok(&self) -> bool {
        self.failed.is_empty() && self.missed.is_empty()
    }
}

/// The file of `item` for `day`: `DIR/<name>/<YYYY-MM-DD>.<ext>`.
pub fn file_for(out: &Path, item: &BatchItem, day: Date, format: Format) -> PathBuf {
    out.join(&item.name).join(format!("{day}.{}", format.extension()))
}

/// Why a day is fetched, or `None` when its file stays as it is without a request.
fn reason_to_fetch(
    path: &Path,
    day: Date,
    tz: &TimeZone,
    now: Timestamp,
    options: &PassOptions,
) -> Option<&'static str> {
    if !path.exists() {
        return Some("no file yet");
    }
    if options.force {
        return Some("--force");
    }
    if settling(day, tz, now, options.settle) {
        return Some("not settled yet");
    }
    if options.verify {
        match read_manifest(path) {
            None => return Some("no manifest (--verify)"),
            Some(manifest) if !matches_manifest(path, &manifest) => {
                return Some("file differs from its manifest (--verify)");
            }
            Some(_) => {}
        }
    }
    None
}

/// Exports every item of `plan` for its days (those of `options.shard`). Failures are
/// collected, not fatal: an item whose signals left the catalog fails, the others go
/// on. The catalog is checked against the whole plan, whatever the shard: a signal
/// another shard exports is not reported as unexported.
pub async fn run_pass(
    client: &Client,
    catalog: &Catalog,
    plan: &[BatchItem],
    out: &Path,
    options: &PassOptions,
    requests: &RequestLog,
) -> PassReport {
    let mut report = PassReport::default();
    let now = Timestamp::now();
    let checked = check_catalog(plan, catalog);
    report.unexported = checked.unexported.iter().cloned().collect();
    // Progress counts the item-days of the pass (shown when stderr is a terminal).
    let plan: Vec<&BatchItem> = plan
        .iter()
        .filter(|item| options.shard.owns(&item.name))
        .collect();
    let total: usize = plan
        .iter()
        .filter_map(|item| TimeZone::get(&item.timezone).ok())
        .filter_map(|tz| options.days.resolve(&tz, now).ok())
        .map(|days| days.len())
        .sum();
    let progress = Progress::over_steps(total as u64, "days");
    for item in plan {
        let prepared = (|| -> Result<(Format, TimeZone, Vec<Date>), String> {
            if let Some(missing) = checked.missing.get(&item.name) {
                return Err(missing.clone());
            }
            let format = item.format().map_err(|e| e.to_string())?;
            let tz = TimeZone::get(&item.timezone)
                .map_err(|_| format!("unknown time zone `{}`", item.timezone))?;
            let days = options.days.resolve(&tz, now)?;
            Ok((format, tz, days))
        })();
        let (format, tz, item_days) = match prepared {
            Ok(prepared) => prepared,
            Err(err) => {
                tracing::error!(
                    item = %item.name,
                    environment = %item.env,
                    site = %item.site_id,
                    signals = %item.signal_ids.join(","),
                    format = %item.format,
                    error = %err,
                    "item skipped"
                );
                report.failed.push((item.name.clone(), err));
                counters::item_failed();
                continue;
            }
        };
        let folder = out.join(&item.name);
        if let Err(err) = std::fs::create_dir_all(&folder) {
            report.failed.push((
                item.name.clone(),
                format!("cannot create the output folder: {err}"),
            ));
            counters::item_failed();
            continue;
        }
        remove_leftovers(&folder);
        for &day in &item_days {
            let path = file_for(out, item, day, format);
            let Some(reason) = reason_to_fetch(&path, day, &tz, now, options) else {
                tracing::debug!(item = %item.name, %day, path = %path.display(), "stored and settled; skipped");
                report.skipped.push(path);
                counters::day(DayOutcome::Skipped);
                progress.step(&item.name);
                continue;
            };
            let stored = store_day(client, catalog, item, day, format, &path, requests).await;
            progress.step(&item.name);
            match stored {
                Ok(Stored::New) => {
                    tracing::info!(item = %item.name, %day, path = %path.display(), "exported");
                    report.written.push(path);
                    counters::day(DayOutcome::Written);
                }
                Ok(Stored::Replaced(revision)) => {
                    tracing::info!(item = %item.name, %day, revision, reason, path = %path.display(), "content changed; replaced");
                    report.replaced.push(path);
                    counters::day(DayOutcome::Revised);
                }
                Ok(Stored::Unchanged) => {
                    tracing::info!(item = %item.name, %day, reason, path = %path.display(), "fetched again; unchanged");
                    report.unchanged.push(path);
                    counters::day(DayOutcome::Unchanged);
                }
                Err(err) => {
                    tracing::error!(
                        item = %item.name,
                        environment = %item.env,
                        site = %item.site_id,
                        signals = %item.signal_ids.join(","),
                        %day,
                        format = %format.as_str(),
                        correlation_id = %err.correlation_id.as_deref().unwrap_or("none"),
                        error = %err.message,
                        "export failed; the stored day (if any) is unchanged"
                    );
                    let id = err
                        .correlation_id
                        .map(|id| format!(" [correlation id {id}]"))
                        .unwrap_or_default();
                    report
                        .failed
                        .push((format!("{} {day}", item.name), format!("{}{id}", err.message)));
                    counters::day(DayOutcome::Failed);
                }
            }
        }
        if let (Days::CatchUp(_), Some(first)) = (options.days, item_days.first()) {
            if let Some(missed) = missed_days(&folder, format.extension(), *first) {
                let ranges: Vec<String> = missed.ranges.iter().map(|(a, b)| format!("{a}..{b}")).collect();
                tracing::warn!(
                    item = %item.name,
                    days = missed.days,
                    ranges = %ranges.join(","),
                    "days missed beyond --catch-up; backfill them with --from/--to"
                );
                report.missed.push((item.name.clone(), missed));
            }
        }
    }
    progress.finish();
    report
}

/// The demo plan written in sandbox mode: the document's example item and one more.
pub fn demo_plan() -> Vec<BatchItem> {
    serde_json::from_value(serde_json::json!([
        {"name": "site-ref-velocity-depth", "env": "100", "siteId": "site-ref",
         "signalIds": ["Velocity", "Depth"], "timezone": "Europe/Helsinki", "format": "csv", "csvPreset": "finnish"},
        {"name": "site-south-velocity", "env": "102", "siteId": "site-south",
         "signalIds": ["Velocity"], "timezone": "UTC", "format": "ndjson"}
    ]))
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_plan_parses() {
        assert_eq!(demo_plan().len(), 2);
    }
}
