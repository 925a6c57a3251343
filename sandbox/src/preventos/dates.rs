//! Dates and times as the values endpoints read and write them: a local day in `tzi`,
//! a `from`/`to` bound, and an instant with the offset of `tzi`.

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// The first second of the local day `date` in `tz`, and the first of the next day.
pub(super) fn day_bounds(date: &str, tz: &TimeZone) -> Option<(i64, i64)> {
    let date: jiff::civil::Date = date.parse().ok()?;
    let start = date.to_zoned(tz.clone()).ok()?.start_of_day().ok()?;
    let end = date
        .tomorrow()
        .ok()?
        .to_zoned(tz.clone())
        .ok()?
        .start_of_day()
        .ok()?;
    Some((start.timestamp().as_second(), end.timestamp().as_second()))
}

/// A `from`/`to` value: date-only (start of the day, or the end of it for `to`),
/// date-time with offset, or local date-time in `tz`.
pub(super) fn bound(text: &str, tz: &TimeZone, is_end: bool) -> Option<i64> {
    if text.len() == 10 && text.parse::<jiff::civil::Date>().is_ok() {
        let (start, end) = day_bounds(text, tz)?;
        return Some(if is_end { end } else { start });
    }
    if let Ok(t) = text.parse::<Timestamp>() {
        return Some(t.as_second());
    }
    let local: jiff::civil::DateTime = text.parse().ok()?;
    Some(local.to_zoned(tz.clone()).ok()?.timestamp().as_second())
}

/// `t` as `2026-05-31T00:00:00+03:00` in `tz` (`meta` and a 413's recommended range).
pub(super) fn format_time(t: i64, tz: &TimeZone) -> String {
    Timestamp::from_second(t)
        .map(|ts| {
            ts.to_zoned(tz.clone())
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string()
        })
        .unwrap_or_default()
}
