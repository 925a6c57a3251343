//! The daily export daemon's work: one pass over a batch plan, one file per item and
//! local day, written atomically and skipped when it already exists.

use std::path::{Path, PathBuf};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};
use preventos_client::plan::BatchItem;

use crate::progress::Progress;
use preventos_client::{Catalog, Client, CsvPreset, Error, Format};

mod plan;

pub use plan::{check_plan, environments, read_plan};

/// Which local days a pass exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Days {
    /// The last `n` completed local days in each item's time zone (yesterday and the
    /// `n - 1` before it): a pass that failed or never ran is made up by the next one.
    CatchUp(u32),
    /// One day.
    One(Date),
    /// Every day from the first to the last, both included.
    Range(Date, Date),
}

impl Days {
    /// The days for an item in `tz`, as of `now`.
    pub fn resolve(self, tz: &TimeZone, now: Timestamp) -> Result<Vec<Date>, String> {
        match self {
            Days::One(day) => Ok(vec![day]),
            Days::Range(first, last) => {
                if last < first {
                    return Err(format!("--to {last} is before --from {first}"));
                }
                let mut days = Vec::new();
                let mut day = first;
                while day <= last {
                    days.push(day);
                    day = day.tomorrow().map_err(|e| e.to_string())?;
                }
                Ok(days)
            }
            Days::CatchUp(n) => {
                let today = now.to_zoned(tz.clone()).date();
                (1..=i64::from(n.max(1)))
                    .rev()
                    .map(|back| {
                        today
                            .checked_sub(jiff::Span::new().days(back))
                            .map_err(|e| e.to_string())
                    })
                    .collect()
            }
        }
    }
}

/// What one pass did.
#[derive(Debug, Default)]
pub struct PassReport {
    /// Files written.
    pub written: Vec<PathBuf>,
    /// Files that existed and were left alone.
    pub skipped: Vec<PathBuf>,
    /// Items or days that failed, with the reason.
    pub failed: Vec<(String, String)>,
}

impl PassReport {
    /// Whether every item succeeded.
    pub fn ok(&self) -> bool {
        self.failed.is_empty()
    }
}

/// The file of `item` for `day`: `DIR/<name>/<YYYY-MM-DD>.<ext>`.
pub fn file_for(out: &Path, item: &BatchItem, day: Date, format: Format) -> PathBuf {
    out.join(&item.name).join(format!("{day}.{}", format.extension()))
}

/// Exports every item of `plan` for its days. Failures are collected, not fatal.
pub async fn run_pass(
    client: &Client,
    catalog: &Catalog,
    plan: &[BatchItem],
    out: &Path,
    days: Days,
    force: bool,
) -> PassReport {
    let mut report = PassReport::default();
    let now = Timestamp::now();
    // Progress counts the item-days of the pass (shown when stderr is a terminal).
    let total: usize = plan
        .iter()
        .filter_map(|item| TimeZone::get(&item.timezone).ok())
        .filter_map(|tz| days.resolve(&tz, now).ok())
        .map(|days| days.len())
        .sum();
    let progress = Progress::over_steps(total as u64, "days");
    for item in plan {
        let prepared = (|| -> Result<(Format, Vec<Date>), String> {
            let format = item.format().map_err(|e| e.to_string())?;
            let tz = TimeZone::get(&item.timezone)
                .map_err(|_| format!("unknown time zone `{}`", item.timezone))?;
            let days = days.resolve(&tz, now)?;
            Ok((format, days))
        })();
        let (format, item_days) = match prepared {
            Ok(prepared) => prepared,
            Err(err) => {
                tracing::error!(item = %item.name, error = %err, "item skipped");
                report.failed.push((item.name.clone(), err));
                continue;
            }
        };
        if let Err(err) = std::fs::create_dir_all(out.join(&item.name)) {
            report.failed.push((
                item.name.clone(),
                format!("cannot create the output folder: {err}"),
            ));
            continue;
        }
        for day in item_days {
            let path = file_for(out, item, day, format);
            if path.exists() && !force {
                tracing::info!(item = %item.name, %day, path = %path.display(), "already exported; skipped");
                report.skipped.push(path);
                progress.step(&item.name);
                continue;
            }
            let exported = export_day(client, catalog, item, day, format, &path).await;
            progress.step(&item.name);
            match exported {
                Ok(()) => {
                    tracing::info!(item = %item.name, %day, path = %path.display(), "exported");
                    report.written.push(path);
                }
                Err(err) => {
                    tracing::error!(item = %item.name, %day, error = %err, "export failed; no file written");
                    report
                        .failed
                        .push((format!("{} {day}", item.name), err.to_string()));
                }
            }
        }
    }
    progress.finish();
    report
}

/// One item, one day, into `path` (atomically), as the one request of the day would
/// have returned it, however many windows the budget needs.
async fn export_day(
    client: &Client,
    catalog: &Catalog,
    item: &BatchItem,
    day: Date,
    format: Format,
    path: &Path,
) -> Result<(), Error> {
    let mut export = client
        .export(&item.env, &item.site_id, item.signal_ids.clone())
        .date(day)
        .time_zone(&item.timezone)
        .format(format)
        .catalog(catalog);
    if let Some(preset) = &item.csv_preset {
        export = export.csv_preset(CsvPreset::parse(preset));
    }
    let summary = export.write_to(path).await?;
    tracing::debug!(item = %item.name, %day, requests = summary.requests, records = summary.records, "day stored");
    Ok(())
}

/// The next `hh:mm` UTC strictly after `now`.
pub fn next_run(now: Timestamp, hour: i8, minute: i8) -> Result<Timestamp, String> {
    let now_utc: Zoned = now.to_zoned(TimeZone::UTC);
    let today = now_utc
        .date()
        .at(hour, minute, 0, 0)
        .to_zoned(TimeZone::UTC)
        .map_err(|e| e.to_string())?;
    if today.timestamp() > now {
        return Ok(today.timestamp());
    }
    let tomorrow = today.tomorrow().map_err(|e| e.to_string())?;
    Ok(tomorrow.timestamp())
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
    fn catch_up_days_are_the_last_completed_local_days() {
        let now: Timestamp = "2026-05-31T22:30:00Z".parse().unwrap();
        let helsinki = TimeZone::get("Europe/Helsinki").unwrap();
        // 01:30 on June 1st in Helsinki: yesterday there is May 31st.
        assert_eq!(
            Days::CatchUp(1).resolve(&helsinki, now).unwrap(),
            [jiff::civil::date(2026, 5, 31)]
        );
        assert_eq!(
            Days::CatchUp(3).resolve(&TimeZone::UTC, now).unwrap(),
            [
                jiff::civil::date(2026, 5, 28),
                jiff::civil::date(2026, 5, 29),
                jiff::civil::date(2026, 5, 30)
            ]
        );
    }

    #[test]
    fn backfill_days_are_inclusive() {
        let days = Days::Range(jiff::civil::date(2026, 2, 27), jiff::civil::date(2026, 3, 1))
            .resolve(&TimeZone::UTC, Timestamp::now())
            .unwrap();
        assert_eq!(days.len(), 3);
        assert!(
            Days::Range(jiff::civil::date(2026, 3, 2), jiff::civil::date(2026, 3, 1))
                .resolve(&TimeZone::UTC, Timestamp::now())
                .is_err()
        );
    }

    #[test]
    fn next_run_is_strictly_later() {
        let now: Timestamp = "2026-05-31T01:59:00Z".parse().unwrap();
        assert_eq!(
            next_run(now, 2, 0).unwrap(),
            "2026-05-31T02:00:00Z".parse::<Timestamp>().unwrap()
        );
        let now: Timestamp = "2026-05-31T02:00:00Z".parse().unwrap();
        assert_eq!(
            next_run(now, 2, 0).unwrap(),
            "2026-06-01T02:00:00Z".parse::<Timestamp>().unwrap()
        );
    }

    #[test]
    fn the_demo_plan_parses() {
        assert_eq!(demo_plan().len(), 2);
    }
}
