//! Days missed beyond the catch-up window: an item's days between its first stored day
//! and the window that have no file. No pass will fetch them on its own (they are
//! older than --catch-up), so each pass reports them with the backfill that fetches
//! them.

use std::path::Path;

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

/// The days before `window_start` without a `<day>.<ext>` file in `folder`, from the
/// first stored day on; `None` when there are none.
pub fn missed_days(folder: &Path, extension: &str, window_start: Date) -> Option<Missed> {
    let suffix = format!(".{extension}");
    let mut stored: Vec<Date> = std::fs::read_dir(folder)
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            name.strip_suffix(&suffix)?.parse::<Date>().ok()
        })
        .filter(|day| *day < window_start)
        .collect();
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
        let folder = tempfile::tempdir().unwrap();
        for day in ["2026-05-01", "2026-05-04", "2026-05-05", "2026-05-20"] {
            std::fs::write(folder.path().join(format!("{day}.csv")), "").unwrap();
        }
        std::fs::write(folder.path().join("2026-05-02.csv.manifest.json"), "").unwrap();
        let missed = missed_days(folder.path(), "csv", date(2026, 5, 8)).unwrap();
        assert_eq!(missed.days, 4);
        assert_eq!(
            missed.ranges,
            [
                (date(2026, 5, 2), date(2026, 5, 3)),
                (date(2026, 5, 6), date(2026, 5, 7))
            ]
        );
        assert_eq!(missed_days(folder.path(), "csv", date(2026, 5, 2)), None);
        assert_eq!(missed_days(folder.path(), "ndjson", date(2026, 5, 8)), None);
    }
}
