//! Cutting a range into windows the API answers completely, whatever it means by a
//! window's ends, by a capped response, or by the order of a response.
//!
//! `fcdt`/`tcdt` select datapoints by creation time, which a response does not show, so
//! nothing can be trimmed by time. Instead:
//! - each window `[a, b)` (whole seconds) is asked for as `fcdt = a - 1`, `tcdt = b`, so
//!   it is covered whether the API's ends are inclusive or exclusive; adjacent windows
//!   then overlap by up to two seconds, and a datapoint the previous window already gave
//!   (same `dev_netid`, `dev_chid`, `val_date`) is dropped;
//! - a response at the cap is never trusted to cover its window (which 10,000 it keeps is
//!   not documented): the window is halved and asked for again;
//! - window lengths follow the density seen so far, so dense data costs few capped
//!   requests.

use std::collections::{HashSet, VecDeque};

use jiff::{SignedDuration, Timestamp};

use crate::error::{Error, too_dense};
use crate::keyed::{Key, Keyed};

/// The most datapoints one response holds; a response of this size may be cut off.
pub const MAX_DATAPOINTS: usize = 10_000;
/// The longest range one request may ask for (the vendor's pages: 31 days, else 413).
pub const MAX_SPAN: SignedDuration = SignedDuration::from_hours(31 * 24);

/// A window is sized to hold this share of the cap at the density seen so far: room for
/// the density to vary without hitting the cap.
const TARGET_FILL: f64 = 0.95;

/// A half-open window `[from, to)` of creation time, in whole seconds: one cut of the
/// range, asked for in one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cut {
    pub(crate) from: i64,
    pub(crate) to: i64,
}

impl Cut {
    /// The `fcdt` and `tcdt` that cover the window under every end convention.
    pub(crate) fn query(self) -> (i64, i64) {
        (self.from - 1, self.to)
    }

    /// The window as instants, within the range `[from, to)` it was cut from (the
    /// range's ends need not be whole seconds).
    pub(crate) fn within(self, from: Timestamp, to: Timestamp) -> (Timestamp, Timestamp) {
        let start = Timestamp::from_second(self.from).map_or(from, |start| start.max(from));
        let end = Timestamp::from_second(self.to).map_or(to, |end| end.min(to));
        (start, end)
    }

    fn seconds(self) -> i64 {
        self.to - self.from
    }
}

/// The windows still to fetch, and what the fetched ones taught.
#[derive(Debug)]
pub(crate) struct Planner {
    pending: VecDeque<Cut>,
    /// Datapoints per second in the last complete window.
    density: Option<f64>,
    /// The keys of the last window yielded: only it can overlap the next one.
    previous: HashSet<Key>,
}

/// What to do with one window's response.
#[derive(Debug)]
pub(crate) enum Outcome<T> {
    /// The window is complete: these are its datapoints, new ones only, sorted.
    Complete(Vec<T>),
    /// The response held the cap: the window was halved and both halves queued.
    Split,
}

impl Planner {
    /// `[from, to)` (rounded out to whole seconds), cut at the API's longest span.
    pub(crate) fn new(from: Timestamp, to: Timestamp) -> Planner {
        let from = from.as_second();
        let to = if to.subsec_nanosecond() > 0 {
            to.as_second() + 1
        } else {
            to.as_second()
        };
        let mut pending = VecDeque::new();
        if from < to {
            pending.push_back(Cut { from, to });
        }
        Planner {
            pending,
            density: None,
            previous: HashSet::new(),
        }
    }

    /// The next window: no longer than the API serves (one second of each request goes
    /// to the overlap), nor than the density seen so far fills to [`TARGET_FILL`] of the
    /// cap.
    pub(crate) fn next_window(&mut self) -> Option<Cut> {
        let mut window = self.pending.pop_front()?;
        let mut longest = MAX_SPAN.as_secs() - 1;
        if let Some(density) = self.density.filter(|d| *d > 0.0) {
            let target = ((MAX_DATAPOINTS as f64 * TARGET_FILL) / density).floor().max(1.0) as i64;
            longest = longest.min(target);
        }
        if window.seconds() > longest {
            self.pending.push_front(Cut {
                from: window.from + longest,
                to: window.to,
            });
            window.to = window.from + longest;
        }
        Some(window)
    }

    /// Judges a window's response.
    pub(crate) fn assess<T: Keyed>(&mut self, window: Cut, response: Vec<T>) -> Result<Outcome<T>, Error> {
        if response.len() >= MAX_DATAPOINTS {
            if window.seconds() < 2 {
                return Err(too_dense(
                    Timestamp::from_second(window.from).unwrap_or(Timestamp::MIN),
                ));
            }
            let middle = window.from + window.seconds() / 2;
            self.pending.push_front(Cut {
                from: middle,
                to: window.to,
            });
            self.pending.push_front(Cut {
                from: window.from,
                to: middle,
            });
            return Ok(Outcome::Split);
        }
        // The request also covered the second before the window.
        self.density = Some(response.len() as f64 / (window.seconds() + 1) as f64);
        let mut seen = HashSet::with_capacity(response.len());
        let mut fresh = Vec::with_capacity(response.len());
        for point in response {
            if self.previous.contains(point.key()) || !seen.insert(point.key().clone()) {
                continue;
            }
            fresh.push(point);
        }
        self.previous = seen;
        // By val_date, then dev_netid, then dev_chid: the key's order.
        fresh.sort_by(|a, b| a.key().cmp(b.key()));
        Ok(Outcome::Complete(fresh))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Keyed for Key {
        fn key(&self) -> &Key {
            self
        }
    }

    fn point(seconds: i64, channel: i64) -> Key {
        Key {
            val_date: Some(Timestamp::from_second(seconds).unwrap()),
            dev_netid: Some("A".into()),
            dev_chid: Some(channel),
        }
    }

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).unwrap()
    }

    #[test]
    fn cuts_at_the_longest_span_less_the_overlap() {
        let day = 86_400;
        let mut planner = Planner::new(at(0), at(90 * day));
        let mut windows = Vec::new();
        while let Some(window) = planner.next_window() {
            windows.push(window);
        }
        assert_eq!(windows.len(), 3);
        assert_eq!(
            windows[0],
            Cut {
                from: 0,
                to: 31 * day - 1
            }
        );
        assert_eq!(windows[1].from, windows[0].to);
        assert_eq!(windows[2].to, 90 * day);
        let (fcdt, tcdt) = windows[0].query();
        assert_eq!(tcdt - fcdt, 31 * day);
        assert!(Planner::new(at(5), at(5)).next_window().is_none());
    }

    #[test]
    fn a_capped_response_is_halved_never_trusted() {
        let mut planner = Planner::new(at(0), at(1000));
        let window = planner.next_window().unwrap();
        let capped: Vec<Key> = (0..MAX_DATAPOINTS as i64)
            .map(|i| point(i % 1000, i / 1000))
            .collect();
        assert!(matches!(planner.assess(window, capped).unwrap(), Outcome::Split));
        assert_eq!(planner.next_window(), Some(Cut { from: 0, to: 500 }));
        assert_eq!(planner.next_window(), Some(Cut { from: 500, to: 1000 }));
    }

    #[test]
    fn the_overlap_is_deduplicated_and_nothing_is_trimmed_by_val_date() {
        let mut planner = Planner::new(at(0), at(200));
        let first = Cut { from: 0, to: 100 };
        let Outcome::Complete(points) = planner
            .assess(first, vec![point(99, 1), point(5000, 1), point(100, 1)])
            .unwrap()
        else {
            panic!("complete")
        };
        // A point whose val_date lies far outside the window is kept.
        assert_eq!(points.len(), 3);
        let second = Cut { from: 100, to: 200 };
        let Outcome::Complete(points) = planner
            .assess(second, vec![point(100, 1), point(150, 1), point(150, 1)])
            .unwrap()
        else {
            panic!("complete")
        };
        let seconds: Vec<i64> = points.iter().map(|p| p.val_date.unwrap().as_second()).collect();
        assert_eq!(seconds, [150]);
    }

    #[test]
    fn windows_follow_the_density() {
        let mut planner = Planner::new(at(0), at(1_000_000));
        let window = Cut { from: 0, to: 999 };
        planner.density = None;
        let response: Vec<Key> = (0..5000).map(|i| point(i, 1)).collect();
        planner.assess(window, response).unwrap();
        // 5 points a second: 9,500 points fit 1,900 seconds.
        planner.pending = VecDeque::from([Cut {
            from: 999,
            to: 1_000_000,
        }]);
        assert_eq!(
            planner.next_window(),
            Some(Cut {
                from: 999,
                to: 999 + 1900
            })
        );
    }

    #[test]
    fn a_second_with_too_many_points_is_an_error() {
        let mut planner = Planner::new(at(7), at(8));
        let window = planner.next_window().unwrap();
        let response: Vec<Key> = (0..MAX_DATAPOINTS as i64).map(|i| point(7, i)).collect();
        assert!(matches!(
            planner.assess(window, response),
            Err(Error::Api(crate::ConduitError::TooDense { .. }))
        ));
    }
}
