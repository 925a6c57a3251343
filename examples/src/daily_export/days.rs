//! Which local days a pass looks at, when a day has settled, and when the next pass is.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, Zoned};

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

/// The instant local `day` ends in `tz` (the next day's first instant: a local day
/// can be 23 or 25 hours).
pub fn day_end(day: Date, tz: &TimeZone) -> Result<Timestamp, String> {
    let next = day.tomorrow().map_err(|e| e.to_string())?;
    Ok(next.to_zoned(tz.clone()).map_err(|e| e.to_string())?.timestamp())
}

/// Whether `day` ended less than `settle` ago: late data may still arrive for it, so
/// each pass fetches it again. A `settle` of zero settles every day at once.
pub fn settling(day: Date, tz: &TimeZone, now: Timestamp, settle: SignedDuration) -> bool {
    if settle.is_zero() {
        return false;
    }
    day_end(day, tz).is_ok_and(|end| now.duration_since(end) < settle)
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
    fn a_day_settles_a_settle_duration_after_its_local_end() {
        let helsinki = TimeZone::get("Europe/Helsinki").unwrap();
        let day = jiff::civil::date(2026, 5, 31); // ends 2026-05-31T21:00:00Z
        let h48 = SignedDuration::from_hours(48);
        assert!(settling(
            day,
            &helsinki,
            "2026-06-02T20:59:59Z".parse().unwrap(),
            h48
        ));
        assert!(!settling(
            day,
            &helsinki,
            "2026-06-02T21:00:00Z".parse().unwrap(),
            h48
        ));
        assert!(!settling(
            day,
            &helsinki,
            "2026-06-01T00:00:00Z".parse().unwrap(),
            SignedDuration::ZERO
        ));
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
}
