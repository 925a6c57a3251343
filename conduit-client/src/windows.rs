//! Cutting a range into windows the API answers completely.

use std::collections::VecDeque;

use jiff::{SignedDuration, Timestamp};

use crate::error::{Error, too_dense};
use crate::keyed::Keyed;

/// The most datapoints one response holds; a response of this size may be cut off.
pub const MAX_DATAPOINTS: usize = 10_000;
/// The longest range one request may ask for (the vendor's pages: 31 days, else 413).
pub const MAX_SPAN: SignedDuration = SignedDuration::from_hours(31 * 24);

/// A half-open window `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub(crate) from: Timestamp,
    pub(crate) to: Timestamp,
}

/// `[from, to)` cut into windows no longer than `max_span`, in time order (client-core's
/// one splitter).
pub(crate) fn cut(
    from: Timestamp,
    to: Timestamp,
    max_span: SignedDuration,
) -> Result<VecDeque<Window>, Error> {
    Ok(client_core::split_range(from, to, max_span)?
        .into_iter()
        .map(|(from, to)| Window { from, to })
        .collect())
}

/// What to do with one window's response.
#[derive(Debug)]
pub(crate) enum Outcome<T> {
    /// The window is complete: these are its datapoints.
    Complete(Vec<Keyed<T>>),
    /// The response hit the cap but came oldest first: everything before `next_from` is
    /// complete; fetch `[next_from, to)` next.
    Resume {
        complete: Vec<Keyed<T>>,
        next_from: Timestamp,
    },
    /// The response hit the cap in no usable order: fetch both halves instead.
    Split { middle: Timestamp },
}

/// Judges a window's response. Datapoints outside `[from, to)` are dropped (the server
/// may include `tcdt` itself, and the next window starts there), which is what keeps
/// window boundaries free of duplicates. Undated datapoints are kept only when
/// `keep_undated` (they cannot be placed in a window, and every window would repeat them).
pub(crate) fn assess<T>(
    window: Window,
    response: Vec<Keyed<T>>,
    keep_undated: bool,
) -> Result<Outcome<T>, Error> {
    let capped = response.len() >= MAX_DATAPOINTS;
    let in_window = |p: &Keyed<T>| match p.val_date {
        Some(t) => window.from <= t && t < window.to,
        None => keep_undated,
    };
    if !capped {
        return Ok(Outcome::Complete(sorted(
            response.into_iter().filter(in_window).collect(),
        )));
    }
    let oldest_first = response
        .windows(2)
        .all(|pair| match (pair[0].val_date, pair[1].val_date) {
            (Some(a), Some(b)) => a <= b,
            _ => false,
        })
        && response.first().is_some_and(|p| p.val_date.is_some());
    if oldest_first {
        // All datapoints before the last timestamp came; those at it may be cut.
        let last = response.last().and_then(|p| p.val_date).unwrap_or(window.to);
        if last > window.from {
            let complete = response
                .into_iter()
                .filter(|p| p.val_date.is_some_and(|t| t < last) && in_window(p))
                .collect();
            return Ok(Outcome::Resume {
                complete: sorted(complete),
                next_from: last,
            });
        }
        return Err(too_dense(window.from));
    }
    let span = window.to.duration_since(window.from);
    if span <= SignedDuration::from_secs(1) {
        return Err(too_dense(window.from));
    }
    let half = SignedDuration::from_secs(span.as_secs() / 2);
    let middle = window
        .from
        .checked_add(half)
        .map_err(|_| too_dense(window.from))?;
    Ok(Outcome::Split { middle })
}

/// Ascending `val_date`, ties by device and channel; undated datapoints first.
fn sorted<T>(mut points: Vec<Keyed<T>>) -> Vec<Keyed<T>> {
    points
        .sort_by(|a, b| (a.val_date, &a.dev_netid, a.dev_chid).cmp(&(b.val_date, &b.dev_netid, b.dev_chid)));
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).unwrap()
    }

    fn point(seconds: i64) -> Keyed<()> {
        Keyed {
            val_date: Some(at(seconds)),
            dev_netid: None,
            dev_chid: Some(1),
            record: (),
        }
    }

    #[test]
    fn cuts_at_the_longest_span() {
        let day = 86_400;
        let windows = cut(at(0), at(90 * day), MAX_SPAN).unwrap();
        let spans: Vec<i64> = windows
            .iter()
            .map(|w| (w.to.as_second() - w.from.as_second()) / day)
            .collect();
        assert_eq!(spans, [31, 31, 28]);
        assert_eq!(windows[1].from, windows[0].to);
        assert!(cut(at(5), at(5), MAX_SPAN).unwrap().is_empty());
    }

    #[test]
    fn a_small_response_is_complete_and_trimmed_to_the_window() {
        let window = Window {
            from: at(100),
            to: at(200),
        };
        let Outcome::Complete(points) =
            assess(window, vec![point(200), point(150), point(100), point(99)], false).unwrap()
        else {
            panic!("expected complete")
        };
        let seconds: Vec<i64> = points.iter().map(|p| p.val_date.unwrap().as_second()).collect();
        assert_eq!(seconds, [100, 150]);
    }

    #[test]
    fn a_capped_ordered_response_resumes_at_its_last_second() {
        let window = Window {
            from: at(0),
            to: at(1_000_000),
        };
        let response: Vec<Keyed<()>> = (0..MAX_DATAPOINTS as i64).map(|i| point(i / 3)).collect();
        let Outcome::Resume { complete, next_from } = assess(window, response, false).unwrap() else {
            panic!("expected resume")
        };
        let last = (MAX_DATAPOINTS as i64 - 1) / 3;
        assert_eq!(next_from, at(last));
        assert!(complete.iter().all(|p| p.val_date.unwrap() < at(last)));
        assert_eq!(complete.len(), (last * 3) as usize);
    }

    #[test]
    fn a_capped_unordered_response_is_split() {
        let window = Window {
            from: at(0),
            to: at(1000),
        };
        let mut response: Vec<Keyed<()>> = (0..MAX_DATAPOINTS as i64).map(|i| point(i % 1000)).collect();
        response.swap(0, 1);
        assert!(
            matches!(assess(window, response, false).unwrap(), Outcome::Split { middle } if middle == at(500))
        );
    }

    #[test]
    fn a_second_with_too_many_points_is_an_error() {
        let window = Window {
            from: at(7),
            to: at(8),
        };
        let response: Vec<Keyed<()>> = (0..MAX_DATAPOINTS).map(|_| point(7)).collect();
        assert!(matches!(
            assess(window, response, false),
            Err(Error::Api(crate::ConduitError::TooDense { .. }))
        ));
    }
}
