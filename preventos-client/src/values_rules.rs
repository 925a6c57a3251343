//! The document's rules for a values request, checked before anything is sent, and the
//! query they allow.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::error::{Error, Result};
use crate::time_bound::{local_day, time_zone};
use crate::values::ValuesQuery;

impl<T> ValuesQuery<T> {
    /// The time zone (default UTC).
    pub fn zone(&self) -> Result<TimeZone> {
        time_zone(self.params.tzi.as_deref())
    }

    /// The half-open window `[start, end)` the request covers, for a `date` or a bounded
    /// range; `None` for a partial read.
    pub fn window(&self) -> Result<Option<(Timestamp, Timestamp)>> {
        let tz = self.zone()?;
        if let Some(date) = self.params.date {
            return Ok(Some(local_day(date, &tz)?));
        }
        match (&self.params.from, &self.params.to) {
            (Some(from), Some(to)) => Ok(Some((from.instant(&tz, false)?, to.instant(&tz, true)?))),
            _ => Ok(None),
        }
    }

    /// Checks the document's rules.
    pub fn validate(&self) -> Result<()> {
        self.zone()?;
        if self.params.date.is_some() && (self.params.from.is_some() || self.params.to.is_some()) {
            return Err(Error::InvalidRequest(
                "`date` cannot be combined with `from`/`to`".into(),
            ));
        }
        let bounded = self.params.date.is_some() || (self.params.from.is_some() && self.params.to.is_some());
        if !bounded && self.params.take.is_none() {
            return Err(Error::InvalidRequest(
                "a complete export needs `date` or both `from` and `to`; an open range is a partial read and needs `take`"
                    .into(),
            ));
        }
        if self.params.take == Some(0) {
            return Err(Error::InvalidRequest("`take` must be at least 1".into()));
        }
        if self.params.site_level && self.params.signals.is_empty() {
            return Err(Error::InvalidRequest(
                "a site-level request needs at least one signal id".into(),
            ));
        }
        if let Some((start, end)) = self.window()? {
            if start >= end {
                return Err(Error::InvalidRequest(format!(
                    "the range is empty: {start} is not before {end}"
                )));
            }
        }
        Ok(())
    }

    /// The query string pairs, in a stable order.
    pub fn query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if self.params.site_level {
            pairs.push(("signalIds", self.params.signals.join(",")));
        }
        if let Some(date) = self.params.date {
            pairs.push(("date", date.to_string()));
        }
        if let Some(from) = &self.params.from {
            pairs.push(("from", from.to_string()));
        }
        if let Some(to) = &self.params.to {
            pairs.push(("to", to.to_string()));
        }
        if let Some(tzi) = &self.params.tzi {
            pairs.push(("tzi", tzi.clone()));
        }
        pairs.push(("format", self.requested_format().as_str().to_owned()));
        if let Some(preset) = &self.params.csv_preset {
            pairs.push(("csvPreset", preset.as_str().to_owned()));
        }
        if let Some(take) = self.params.take {
            pairs.push(("take", take.to_string()));
        }
        if let Some(mode) = &self.params.aggregation {
            pairs.push(("aggregation", mode.clone()));
        }
        if let Some(interval) = self.params.interval {
            pairs.push(("interval", interval.to_string()));
        }
        if let Some(meta) = self.params.meta {
            pairs.push(("meta", meta.to_string()));
        }
        pairs
    }

    /// The range as a log field: `date 2026-05-31`, `from..to`, `latest`.
    pub(crate) fn range_text(&self) -> String {
        match (self.params.date, &self.params.from, &self.params.to) {
            (Some(date), _, _) => format!("date {date}"),
            (None, Some(from), Some(to)) => format!("{from}..{to}"),
            (None, Some(from), None) => format!("{from}.."),
            (None, None, Some(to)) => format!("..{to}"),
            (None, None, None) => "latest".to_owned(),
        }
    }
}
