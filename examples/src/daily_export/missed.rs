//! Days missed beyond the catch-up window: an item's days between its first stored day
//! and the window that have no object. No pass will fetch them on its own (they are
//! older than --catch-up), so each pass reports them with the backfill that fetches
//! them.

use jiff::civil::Date;

/// Reported ranges per item at most (the count of missed days is always exact).
const MAX_RANGES: usize = 20;

/// Missed days of one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missed {
    /// Missed days in all.
    pub days: u64,
    /// The first ranges of consecutive missed days, both ends included.
    pub ranges: Vec<(Date, Date)>,
}

/// The days before `window_start` missing from `stored` (an item's stored days, in any
/// order), from the first stored day on; `None` when there are none.
pub fn missed_days(mut stored: Vec<Date>, window_start: Date) -> Option<Missed> {
    stored.retain(|day| *day < window_start);
    stored.sort_unstable();
    let first = *stored.first()?;
    let mut missed = Missed {
        days: 0,
        ranges: Vec::new(),
    };
    let mut stored = stored.into_iter().peekable();
    let mut day = first;
    let mut open: Option<Date> = None;
    while day < window_start {
        if stored.peek() == Some(&day) {
            while stored.peek() == Some(&day) {
                stored.next();
            }
            if let Some(start) = open.take() {
                push(&mut missed, start, day.yesterday().ok()?);
            }
        } else {
            missed.days += 1;
            open.get_or_insert(day);
        }
        day = day.tomorrow().ok()?;
    }
    if let Some(start) = open {
        push(&mut missed, start, window_start.yesterday().ok()?);
    }
    (missed.days > 0).then_some(missed)
}

fn push(missed: &mut Missed, first: Date, last: Date) {
    if missed.ranges.len() < MAX_RANGES {
        missed.ranges.push((first, last));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn gaps_before_the_window_are_ranges() {
        let stored = vec![
            date(2026, 5, 20),
            date(2026, 5, 1),
            date(2026, 5, 4),
            date(2026, 5, 5),
        ];
        let missed = missed_days(stored.clone(), date(2026, 5, 8)).unwrap();
        assert_eq!(missed.days, 4);
        assert_eq!(
            missed.ranges,
            [
                (date(2026, 5, 2), date(2026, 5, 3)),
                (date(2026, 5, 6), date(2026, 5, 7))
            ]
        );
        assert_eq!(missed_days(stored, date(2026, 5, 2)), None);
        assert_eq!(missed_days(Vec::new(), date(2026, 5, 8)), None);
    }
}
