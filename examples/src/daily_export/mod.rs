//! The daily export daemon's work: one pass over a batch plan, one object per item and
//! local day with a manifest beside it, in a folder or an object store, written
//! create-only.
//!
//! - `days.rs`: which days a pass looks at, and when a day has settled;
//! - `plan.rs`: the plan, checked before any request;
//! - `catalog_check.rs`: the plan against each pass's catalog;
//! - `store.rs`: one day fetched, compared and put in place;
//! - `output.rs`: the folder or store the days go to, its conditional puts, and crash
//!   leftovers;
//! - `manifest.rs`: the manifest beside each day;
//! - `columns.rs`: `--parquet`, a Parquet file beside each day;
//! - `requests.rs`: each day's requests and correlation ids, from the client's spans;
//! - `missed.rs`: days missed beyond the catch-up window.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use preventos_client::plan::BatchItem;
use preventos_client::{Catalog, Client, CsvPreset, Format};

use client_core::store::object_store::ObjectMeta;
use client_core::store::object_store::path::Path as ObjectPath;

use crate::progress::Progress;
use counters::DayOutcome;

mod catalog_check;
mod columns;
pub mod counters;
mod days;
mod manifest;
mod missed;
mod output;
mod plan;
mod requests;
mod shard;
mod store;

pub use catalog_check::{CatalogCheck, CatalogWatch, check as check_catalog};
pub use columns::PARQUET_SUFFIX;
pub use days::{Days, day_end, next_run, settling};
pub use manifest::{MANIFEST_SUFFIX, MANIFEST_VERSION, Manifest, ManifestRequest, ManifestWindow};
pub use missed::{Missed, missed_days};
pub use output::{Conflict, DayOutput, ItemObjects, Write};
pub use plan::{check_plan, environments, read_plan};
pub use requests::{DAY_SPAN, RequestLayer, RequestLog, day_span};
pub use shard::{MAX_SHARDS, Shard, shard_of};
pub use store::{DayError, Listed, Stored, store_day};

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
    /// Check every stored day against its manifest; fetch again a day whose object is
    /// missing or altered.
    pub verify: bool,
    /// The items of the plan this process exports (default: all).
    pub shard: Shard,
    /// Write a Parquet file beside each stored day (`<day>.<ext>.parquet`).
    pub parquet: bool,
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
            parquet: false,
        }
    }
}

/// What one pass did. Objects are named as a person reads them: the output as given,
/// then the path under it (`exports/south/2026-05-31.csv`, `s3://bucket/p/south/...`).
#[derive(Debug, Default)]
pub struct PassReport {
    /// Days stored for the first time.
    pub written: Vec<String>,
    /// Days replaced because their content changed (late data, or an object that failed
    /// --verify).
    pub replaced: Vec<String>,
    /// Days fetched again whose content had not changed (left untouched).
    pub unchanged: Vec<String>,
    /// Days stored with their manifest and left alone without a request.
    pub skipped: Vec<String>,
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

/// Why a day is fetched, or `None` when it stays as it is without a request. A day is
/// done when its object and its manifest both exist, the manifest written after the
/// object: a done day is fetched again only while it settles, or with --force, or when
/// --verify finds it altered.
async fn reason_to_fetch(
    out: &DayOutput,
    path: &ObjectPath,
    listed: Listed<'_>,
    day: Date,
    tz: &TimeZone,
    now: Timestamp,
    options: &PassOptions,
) -> Result<Option<&'static str>, String> {
    if listed.data.is_none() {
        return Ok(Some("not stored yet"));
    }
    if listed.manifest.is_none() {
        return Ok(Some("no manifest yet"));
    }
    if !listed.manifest_current() {
        return Ok(Some(
            "the object is newer than its manifest (an interrupted replacement)",
        ));
    }
    if options.force {
        return Ok(Some("--force"));
    }
    if settling(day, tz, now, options.settle) {
        return Ok(Some("not settled yet"));
    }
    if options.verify {
        let Some(manifest) = out.read_manifest(path).await? else {
            return Ok(Some("no manifest of this version (--verify)"));
        };
        if out.digest(path).await? != Some((manifest.sha256.clone(), manifest.bytes)) {
            return Ok(Some("object differs from its manifest (--verify)"));
        }
    }
    Ok(None)
}

/// Exports every item of `plan` for its days (those of `options.shard`). Failures are
/// collected, not fatal: an item whose signals left the catalog fails, the others go
/// on. The catalog is checked against the whole plan, whatever the shard: a signal
/// another shard exports is not reported as unexported.
pub async fn run_pass(
    client: &Client,
    catalog: &Catalog,
    plan: &[BatchItem],
    out: &DayOutput,
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
        let listed = match out.list_item(&item.name).await {
            Ok(listed) => listed,
            Err(err) => {
                tracing::error!(item = %item.name, output = %out.shown_root(), error = %err, "item skipped: cannot list its stored days");
                report
                    .failed
                    .push((item.name.clone(), format!("cannot list the stored days: {err}")));
                counters::item_failed();
                continue;
            }
        };
        out.remove_leftovers(&item.name);
        for &day in &item_days {
            let path = match out.day_path(item, day, format) {
                Ok(path) => path,
                Err(err) => {
                    report.failed.push((format!("{} {day}", item.name), err));
                    counters::day(DayOutcome::Failed);
                    continue;
                }
            };
            let shown = out.shown(&path);
            let name = path.filename().unwrap_or_default().to_owned();
            let on_store = Listed {
                data: listed.get(&name),
                manifest: listed.get(&format!("{name}{MANIFEST_SUFFIX}")),
            };
            let reason = match reason_to_fetch(out, &path, on_store, day, &tz, now, options).await {
                Ok(reason) => reason,
                Err(err) => {
                    tracing::error!(item = %item.name, %day, path = %shown, error = %err, "cannot check the stored day");
                    report.failed.push((format!("{} {day}", item.name), err));
                    counters::day(DayOutcome::Failed);
                    progress.step(&item.name);
                    continue;
                }
            };
            let parquet = Parquet {
                listed: listed.get(&format!("{name}{PARQUET_SUFFIX}")),
                format,
                preset: item.csv_preset.as_deref().map(CsvPreset::parse),
            };
            let Some(reason) = reason else {
                tracing::debug!(item = %item.name, %day, path = %shown, "stored and settled; skipped");
                if options.parquet && columns::stale(on_store.data, parquet.listed) {
                    let written = match out.read(&path).await {
                        Ok(bytes) => parquet.store(out, &path, bytes).await,
                        Err(err) => Err(err),
                    };
                    parquet.report(&mut report, item, day, &shown, written);
                }
                report.skipped.push(shown);
                counters::day(DayOutcome::Skipped);
                progress.step(&item.name);
                continue;
            };
            let stored = store_day(client, catalog, item, day, format, out, on_store, requests).await;
            progress.step(&item.name);
            if let (true, Ok((stored, bytes))) = (options.parquet, &stored) {
                if *stored != Stored::Unchanged || columns::stale(on_store.data, parquet.listed) {
                    let written = parquet.store(out, &path, bytes.clone()).await;
                    parquet.report(&mut report, item, day, &shown, written);
                }
            }
            match stored.map(|(stored, _)| stored) {
                Ok(Stored::New) => {
                    tracing::info!(item = %item.name, %day, reason, path = %shown, "exported");
                    report.written.push(shown);
                    counters::day(DayOutcome::Written);
                }
                Ok(Stored::Replaced(revision)) => {
                    tracing::info!(item = %item.name, %day, revision, reason, path = %shown, "content changed; replaced");
                    report.replaced.push(shown);
                    counters::day(DayOutcome::Revised);
                }
                Ok(Stored::Unchanged) => {
                    tracing::info!(item = %item.name, %day, reason, path = %shown, "fetched again; unchanged");
                    report.unchanged.push(shown);
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
            if let Some(missed) = missed_days(listed.days(format.extension(), *first), *first) {
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

/// A day's Parquet file as a pass finds it, and how to make it.
struct Parquet<'a> {
    /// The Parquet object listed beside the day.
    listed: Option<&'a ObjectMeta>,
    format: Format,
    preset: Option<CsvPreset>,
}

impl Parquet<'_> {
    /// Writes the Parquet file of the day object at `path` from its `bytes`.
    async fn store(&self, out: &DayOutput, path: &ObjectPath, bytes: bytes::Bytes) -> Result<u64, String> {
        columns::store_parquet(out, path, bytes, self.format, self.preset.clone(), self.listed).await
    }

    /// Logs what writing the Parquet file did; a failure fails the pass (the day itself
    /// is stored).
    fn report(
        &self,
        report: &mut PassReport,
        item: &BatchItem,
        day: Date,
        shown: &str,
        written: Result<u64, String>,
    ) {
        match written {
            Ok(rows) => {
                tracing::info!(item = %item.name, %day, rows, path = %format!("{shown}{PARQUET_SUFFIX}"), "Parquet written")
            }
            Err(err) => {
                tracing::error!(item = %item.name, %day, path = %shown, error = %err, "cannot write the day's Parquet file");
                report
                    .failed
                    .push((format!("{} {day} (Parquet)", item.name), err));
            }
        }
    }
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
