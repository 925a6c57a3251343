//! Planning exports within the raw-DB-point budget, and batch plans from the catalog.

use std::collections::BTreeSet;

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Site};
use crate::error::{Error, Result};
use crate::format::Format;

/// The document's estimate: `ceil(range / baseInterval) * dbQueryCount`.
pub fn estimate_raw_db_points(
    range: SignedDuration,
    base_interval: SignedDuration,
    db_query_count: u64,
) -> u64 {
    let range = range.as_nanos().max(0) as u128;
    let interval = base_interval.as_nanos().max(1) as u128;
    let steps = range.div_ceil(interval);
    u64::try_from(steps.saturating_mul(u128::from(db_query_count))).unwrap_or(u64::MAX)
}

/// What a site-level export of some signals costs per unit of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Cost {
    /// The finest `baseInterval` among the signals.
    pub base_interval: SignedDuration,
    /// The number of distinct underlying DB queries.
    pub db_query_count: u64,
}

impl Cost {
    /// The cost of `signal_ids` at `site`, from the catalog. Signals that share a
    /// `dbQuery` count once; signals without one count once each. A signal without
    /// `baseInterval` makes the size unknowable, as the API's `request_size_unavailable`.
    pub fn of(site: &Site, signal_ids: &[String]) -> Result<Cost> {
        let mut finest: Option<SignedDuration> = None;
        let mut queries = BTreeSet::new();
        for id in signal_ids {
            let signal = site.signal(id).ok_or_else(|| {
                Error::InvalidRequest(format!(
                    "signal `{id}` is not in the catalog of site `{}`",
                    site.id
                ))
            })?;
            let interval = signal.base_interval.ok_or_else(|| {
                Error::InvalidRequest(format!(
                    "signal `{id}` has no baseInterval: the export size cannot be estimated (request_size_unavailable)"
                ))
            })?;
            if interval <= SignedDuration::ZERO {
                return Err(Error::InvalidRequest(format!(
                    "signal `{id}` has a baseInterval of {interval:#} in the catalog: it must be positive"
                )));
            }
            finest = Some(finest.map_or(interval, |f| f.min(interval)));
            queries.insert(signal.db_query.clone().unwrap_or_else(|| format!("signal:{id}")));
        }
        let base_interval = finest.ok_or_else(|| Error::InvalidRequest("no signals to export".into()))?;
        Ok(Cost {
            base_interval,
            db_query_count: queries.len() as u64,
        })
    }

    /// The longest window within `max_raw_db_points`.
    pub fn longest_window(&self, max_raw_db_points: u64) -> Result<SignedDuration> {
        let steps = max_raw_db_points / self.db_query_count.max(1);
        if steps == 0 {
            return Err(Error::InvalidRequest(format!(
                "{} DB queries exceed the budget of {max_raw_db_points} points even for one interval",
                self.db_query_count
            )));
        }
        let nanos = i128::from(steps) * self.base_interval.as_nanos();
        let nanos = i64::try_from(nanos).map_err(|_| {
            Error::InvalidRequest(format!(
                "{steps} steps of {:#} overflow the longest duration: check the catalog's baseInterval and budget",
                self.base_interval
            ))
        })?;
        Ok(SignedDuration::from_nanos(nanos))
    }
}

/// Cuts `[from, to)` into the fewest half-open windows no longer than `longest`: the
/// workspace's one splitter, re-exported from `client-core`.
pub use client_core::split_range;

/// One item of a batch plan, in the document's JSON shape:
/// `{"name","env","siteId","signalIds","timezone","format","csvPreset"?}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BatchItem {
    /// A stable name; also the output folder name.
    pub name: String,
    /// Environment id.
    pub env: String,
    /// Site id.
    pub site_id: String,
    /// Signal ids.
    pub signal_ids: Vec<String>,
    /// IANA time zone of the local days.
    pub timezone: String,
    /// `json`, `ndjson` or `csv`.
    pub format: String,
    /// CSV preset, e.g. `finnish`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csv_preset: Option<String>,
}

impl BatchItem {
    /// The item's format, checked.
    pub fn format(&self) -> Result<Format> {
        self.format.parse()
    }
}

/// A batch plan: one item per site with every signal the application can read there.
pub fn batch_plan(
    catalog: &Catalog,
    timezone: &str,
    format: Format,
    csv_preset: Option<&str>,
) -> Vec<BatchItem> {
    let mut items = Vec::new();
    for env in &catalog.environments {
        for site in &env.sites {
            if site.signals.is_empty() {
                continue;
            }
            items.push(BatchItem {
                name: format!("{}-{}", env.id, site.id),
                env: env.id.clone(),
                site_id: site.id.clone(),
                signal_ids: site.signals.iter().map(|s| s.id.clone()).collect(),
                timezone: timezone.to_owned(),
                format: format.as_str().to_owned(),
                csv_preset: csv_preset.filter(|_| format == Format::Csv).map(str::to_owned),
            });
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_follows_the_document() {
        let day = SignedDuration::from_hours(24);
        let minute = SignedDuration::from_mins(1);
        assert_eq!(estimate_raw_db_points(day * 31, minute, 1), 44_640);
        assert_eq!(estimate_raw_db_points(day * 31, minute, 2), 89_280);
        assert_eq!(
            estimate_raw_db_points(SignedDuration::from_secs(61), minute, 1),
            2
        );
        assert_eq!(estimate_raw_db_points(SignedDuration::ZERO, minute, 3), 0);
    }

    #[test]
    fn one_query_at_pt1m_fits_31_days_two_fit_15_5() {
        let cost = Cost {
            base_interval: SignedDuration::from_mins(1),
            db_query_count: 1,
        };
        assert_eq!(
            cost.longest_window(44_640).unwrap(),
            SignedDuration::from_hours(31 * 24)
        );
        let cost = Cost {
            base_interval: SignedDuration::from_mins(1),
            db_query_count: 2,
        };
        assert_eq!(
            cost.longest_window(44_640).unwrap(),
            SignedDuration::from_hours(31 * 12)
        );
    }

    #[test]
    fn split_gives_the_fewest_windows_within_the_budget() {
        let t0 = jiff::Timestamp::from_second(1_767_225_600).unwrap();
        let day = SignedDuration::from_hours(24);
        let windows = split_range(t0, t0 + day * 40, day * 31 / 2).unwrap();
        assert_eq!(windows.len(), 3);
        assert_eq!(windows[0], (t0, t0 + day * 31 / 2));
        assert_eq!(windows[1].0, windows[0].1);
        assert_eq!(windows[2].1, t0 + day * 40);
        assert!(split_range(t0, t0, day).unwrap().is_empty());
    }

    #[test]
    fn batch_item_round_trips_the_document_example() {
        let text = r#"{
          "name": "site-ref-velocity-depth",
          "env": "100",
          "siteId": "site-ref",
          "signalIds": ["Velocity", "Depth"],
          "timezone": "Europe/Helsinki",
          "format": "csv",
          "csvPreset": "finnish"
        }"#;
        let item: BatchItem = serde_json::from_str(text).unwrap();
        assert_eq!(item.site_id, "site-ref");
        assert_eq!(item.format().unwrap(), Format::Csv);
        let back = serde_json::to_value(&item).unwrap();
        assert_eq!(back, serde_json::from_str::<serde_json::Value>(text).unwrap());
    }
}
