//! The ends of a values range as the API reads them (instants, zoned or local times,
//! dates in `tzi`), and where they fall in time.

use std::fmt;

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

use crate::error::{Error, Result};

/// One end of a `from`/`to` range.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum TimeBound {
    /// An instant, sent in UTC (`2026-05-30T21:00:00Z`).
    Instant(Timestamp),
    /// An instant with its offset (`2026-05-31T00:00:00+03:00`).
    Zoned(Zoned),
    /// A local date-time without zone, read by the API in `tzi`.
    Local(DateTime),
    /// A date: `from` means its start, `to` the end of that day, in `tzi`.
    Date(Date),
}

impl From<Timestamp> for TimeBound {
    fn from(t: Timestamp) -> Self {
        TimeBound::Instant(t)
    }
}

impl From<Zoned> for TimeBound {
    fn from(z: Zoned) -> Self {
        TimeBound::Zoned(z)
    }
}

impl From<DateTime> for TimeBound {
    fn from(d: DateTime) -> Self {
        TimeBound::Local(d)
    }
}

impl From<Date> for TimeBound {
    fn from(d: Date) -> Self {
        TimeBound::Date(d)
    }
}

impl fmt::Display for TimeBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeBound::Instant(t) => write!(f, "{t}"),
            TimeBound::Zoned(z) => write!(f, "{}", z.strftime("%Y-%m-%dT%H:%M:%S%:z")),
            TimeBound::Local(d) => write!(f, "{}", d.strftime("%Y-%m-%dT%H:%M:%S")),
            TimeBound::Date(d) => write!(f, "{d}"),
        }
    }
}

impl TimeBound {
    /// The instant this bound stands for in `tz`; a date `to` is the end of its day.
    pub(crate) fn instant(&self, tz: &TimeZone, is_end: bool) -> Result<Timestamp> {
        let invalid = |e: jiff::Error| Error::InvalidRequest(format!("cannot place {self} in time: {e}"));
        Ok(match self {
            TimeBound::Instant(t) => *t,
            TimeBound::Zoned(z) => z.timestamp(),
            TimeBound::Local(d) => d.to_zoned(tz.clone()).map_err(invalid)?.timestamp(),
            TimeBound::Date(d) => {
                let day = if is_end {
                    d.tomorrow().map_err(invalid)?
                } else {
                    *d
                };
                day.to_zoned(tz.clone())
                    .map_err(invalid)?
                    .start_of_day()
                    .map_err(invalid)?
                    .timestamp()
            }
        })
    }
}

/// The half-open `[start, end)` of the local day `date` in `tz` (23 or 25 hours on a DST
/// change).
pub(crate) fn local_day(date: Date, tz: &TimeZone) -> Result<(Timestamp, Timestamp)> {
    let day = TimeBound::Date(date);
    Ok((day.instant(tz, false)?, day.instant(tz, true)?))
}

/// The IANA zone `name` (`tzi`), UTC when none is given. The tzdb is bundled, so
/// containers without tzdata work.
pub(crate) fn time_zone(name: Option<&str>) -> Result<TimeZone> {
    match name {
        None => Ok(TimeZone::UTC),
        Some(name) => TimeZone::get(name)
            .map_err(|_| Error::InvalidRequest(format!("`{name}` is not an IANA time zone (tzi)"))),
    }
}
