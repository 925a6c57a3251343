//! Planning an export: its range, the windows the catalog's budget allows, the values
//! request of one window, and the shorter windows after a 413.

use client_core::split_range;
use jiff::{SignedDuration, Timestamp};

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::export_params::{ExportParams, ExportRange};
use crate::plan::Cost;
use crate::record::Record;
use crate::time_bound::{TimeBound, local_day, time_zone};
use crate::values::ValuesQuery;

/// How far each window's request reaches past its ends, so that no convention of the
/// API at an explicit `from` or `to` (inclusive or exclusive) loses a record; what the
/// overlap brings is trimmed away locally.
const OVERLAP: SignedDuration = SignedDuration::from_secs(1);

impl ExportParams {
    /// The half-open range `[from, to)` of the export: its `date` in its time zone, or
    /// its `range`.
    pub(crate) fn bounds(&self) -> Result<(Timestamp, Timestamp)> {
        if self.concurrency == 0 {
            return Err(Error::invalid_request(
                "an export's concurrency must be at least 1 window",
            ));
        }
        let (from, to) = match self.range {
            Some(ExportRange::Date(date)) => local_day(date, &time_zone(self.tzi.as_deref())?)?,
            Some(ExportRange::Instants(from, to)) => (from, to),
            None => {
                return Err(Error::invalid_request("an export needs `date` or `range`"));
            }
        };
        if from >= to {
            return Err(Error::invalid_request(format!(
                "the range is empty: {from} is not before {to}"
            )));
        }
        Ok((from, to))
    }

    /// The windows the catalog plans for this export: the longest window within the
    /// budget, less one base interval for the overlap. A signal without `baseInterval`
    /// gives one window (the server decides).
    pub(crate) fn plan(&self, catalog: &Catalog) -> Result<Vec<(Timestamp, Timestamp)>> {
        let (from, to) = self.bounds()?;
        Ok(split_range(from, to, self.window_length(catalog)?)?)
    }

    /// The length of the windows the catalog plans for this export (see
    /// [`ExportParams::plan`]); the whole range for a signal without `baseInterval`.
    pub(crate) fn window_length(&self, catalog: &Catalog) -> Result<SignedDuration> {
        let (from, to) = self.bounds()?;
        let site = catalog.site(&self.env, &self.site).ok_or_else(|| {
            Error::InvalidRequest(format!(
                "site `{}` of environment `{}` is not in the catalog",
                self.site, self.env
            ))
        })?;
        let cost = match Cost::of(site, &self.signals) {
            Ok(cost) => cost,
            Err(_)
                if site
                    .signals
                    .iter()
                    .any(|s| self.signals.contains(&s.id) && s.base_interval.is_none()) =>
            {
                return Ok(to.duration_since(from));
            }
            Err(err) => return Err(err),
        };
        let longest = cost.longest_window(catalog.limits.max_raw_db_points)?;
        // The overlap adds up to one interval to the server's rounded-up estimate.
        Ok(if longest > cost.base_interval {
            longest - cost.base_interval
        } else {
            longest
        })
    }

    /// The values request of the window `[start, end)`: the export's parameters, with
    /// the overlap at both ends. At the ends of time the overlap is cut short there
    /// (nothing lies beyond [`Timestamp::MIN`] or [`Timestamp::MAX`] to lose).
    pub(crate) fn window_request(&self, start: Timestamp, end: Timestamp) -> ValuesQuery<Record> {
        let from = start.checked_sub(OVERLAP).unwrap_or(Timestamp::MIN);
        let to = end.checked_add(OVERLAP).unwrap_or(Timestamp::MAX);
        let mut request = self
            .client
            .site_values(&self.env, &self.site, self.signals.clone())
            .range(TimeBound::Instant(from), TimeBound::Instant(to))
            .format(self.format);
        if let Some(tzi) = &self.tzi {
            request = request.time_zone(tzi);
        }
        if let Some(preset) = &self.csv_preset {
            request = request.csv_preset(preset.clone());
        }
        if let Some(meta) = self.meta {
            request = request.meta(meta);
        }
        request
    }
}

/// The most windows one 413 may cut a window into: a server that recommends a few
/// seconds for a long window would otherwise have millions of windows planned at once.
pub(crate) const MAX_SPLIT: i128 = 10_000;

/// The window length to use after a 413: the server's recommendation if it is shorter
/// than the window (whether its end is inclusive or not, the length up to it is safe,
/// less the overlap), else half of it; never below one second, and never cutting the
/// window into more than [`MAX_SPLIT`] windows.
pub(crate) fn replan_length(
    start: Timestamp,
    end: Timestamp,
    recommended: Option<(Timestamp, Timestamp)>,
) -> Result<SignedDuration> {
    let current = end.duration_since(start);
    let length = match recommended {
        Some((from, to)) if to > from && to.duration_since(from) < current => {
            to.duration_since(from) - OVERLAP * 2
        }
        _ => current / 2,
    };
    if length < SignedDuration::from_secs(1) {
        return Err(Error::InvalidRequest(format!(
            "the server refuses even a one-second window at {start}"
        )));
    }
    // Both lengths are positive here (the window's is at least the new length's).
    let windows = (current.as_nanos() + length.as_nanos() - 1) / length.as_nanos();
    if windows > MAX_SPLIT {
        let recommended = match recommended {
            Some((from, to)) => format!("its recommended range {from}..{to}"),
            None => "halving it".to_owned(),
        };
        return Err(Error::InvalidRequest(format!(
            "the server refuses the window [{start}, {end}): {recommended} would cut it into \
             {windows} windows, more than the {MAX_SPLIT} one refusal may cause; export a \
             shorter range"
        )));
    }
    Ok(length)
}
