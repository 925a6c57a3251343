//! Half-open time ranges cut into windows an API answers in one request.

use jiff::{SignedDuration, Timestamp};

use crate::error::{Error, Result};

/// Cuts `[from, to)` into the fewest half-open windows no longer than `longest`, in time
/// order: every window but the last is exactly `longest`, and the windows tile the range
/// with no gap and no overlap (each window's `to` is the next one's `from`).
///
/// An empty range (`from >= to`) gives no window. A `longest` of zero or less is a
/// [`crate::ErrorKind::Config`] error: it would never cover the range.
///
/// ```
/// use client_core::split_range;
/// use jiff::{SignedDuration, Timestamp};
///
/// let from: Timestamp = "2026-01-01T00:00:00Z".parse()?;
/// let to: Timestamp = "2026-03-01T00:00:00Z".parse()?;
/// let windows = split_range(from, to, SignedDuration::from_hours(31 * 24))?;
/// assert_eq!(windows.len(), 2);
/// assert_eq!(windows[0].1, windows[1].0);
/// assert_eq!(windows[1].1, to);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn split_range(
    from: Timestamp,
    to: Timestamp,
    longest: SignedDuration,
) -> Result<Vec<(Timestamp, Timestamp)>> {
    if longest <= SignedDuration::ZERO {
        return Err(Error::config(format!(
            "cannot split a range into windows of {longest:#}: the window length must be positive"
        )));
    }
    let mut windows = Vec::new();
    let mut start = from;
    while start < to {
        // Past the end of time, the window simply ends at `to`.
        let end = start.checked_add(longest).map_or(to, |end| end.min(to));
        windows.push((start, end));
        start = end;
    }
    Ok(windows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn fewest_windows_tiling_the_range() {
        let windows = split_range(
            t("2026-01-01T00:00:00Z"),
            t("2026-01-01T10:00:00Z"),
            SignedDuration::from_hours(4),
        )
        .unwrap();
        assert_eq!(
            windows,
            vec![
                (t("2026-01-01T00:00:00Z"), t("2026-01-01T04:00:00Z")),
                (t("2026-01-01T04:00:00Z"), t("2026-01-01T08:00:00Z")),
                (t("2026-01-01T08:00:00Z"), t("2026-01-01T10:00:00Z")),
            ]
        );
        let exact = split_range(
            t("2026-01-01T00:00:00Z"),
            t("2026-01-01T08:00:00Z"),
            SignedDuration::from_hours(4),
        )
        .unwrap();
        assert_eq!(exact.len(), 2);
    }

    #[test]
    fn empty_and_reversed_ranges_have_no_window() {
        let at = t("2026-01-01T00:00:00Z");
        assert!(
            split_range(at, at, SignedDuration::from_hours(1))
                .unwrap()
                .is_empty()
        );
        assert!(
            split_range(
                at,
                at - SignedDuration::from_hours(1),
                SignedDuration::from_hours(1)
            )
            .unwrap()
            .is_empty()
        );
    }

    #[test]
    fn a_window_length_that_is_not_positive_is_an_error() {
        let at = t("2026-01-01T00:00:00Z");
        let to = at + SignedDuration::from_hours(1);
        for bad in [SignedDuration::ZERO, SignedDuration::from_secs(-5)] {
            let err = split_range(at, to, bad).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::Config);
        }
    }

    #[test]
    fn windows_near_the_end_of_time_do_not_overflow() {
        let from = Timestamp::MAX - SignedDuration::from_hours(3);
        let windows = split_range(from, Timestamp::MAX, SignedDuration::from_hours(2)).unwrap();
        assert_eq!(windows.len(), 2);
        assert_eq!(windows[1].1, Timestamp::MAX);
        let huge = split_range(from, Timestamp::MAX, SignedDuration::MAX).unwrap();
        assert_eq!(huge, vec![(from, Timestamp::MAX)]);
    }
}
