//! Cutting a range into windows the API answers completely, whatever it means by a
//! window's ends, by a capped or refused response, or by the order of a response; and
//! where such a read stands, so that it resumes exactly.
//!
//! `fcdt`/`tcdt` select datapoints by creation time, which a response does not show, so
//! nothing can be trimmed by time (`val_date` runs ahead of or behind creation). Instead:
//! - each window `[a, b)` (whole seconds) is asked for as `fcdt = a - 1`, `tcdt = b`, so
//!   it is covered whether the API's ends are inclusive or exclusive; adjacent windows'
//!   requests then overlap (by up to two seconds of creation time), and a datapoint may
//!   come in the responses of several consecutive windows (three, when windows are one
//!   second long). A window yields its response less the previous window's *whole*
//!   response, compared as multisets of record texts: a record text the previous
//!   response held `k` times is dropped `k` times. Distinct datapoints that share
//!   `(dev_netid, dev_chid, val_date)` (sub-second sampling, corrections) differ in
//!   their text and are all kept; each datapoint is yielded in the first window whose
//!   response holds it, and only there;
//! - a response at the cap is never trusted to cover its window (which 10,000 it keeps is
//!   not documented), and none of its datapoints is yielded. It still shows the density:
//!   the span of its `val_date`s, and the share of each series' neighbouring samples it
//!   holds, estimate how many datapoints the window has (see [`capped_density`]). The
//!   window is cut to the length that density fills to the target, at most half of it,
//!   and asked for again. A 413 (the response, or the range, too large) halves it, and
//!   lowers the number of datapoints later windows aim at;
//! - window lengths follow the density seen so far, so dense data costs one capped
//!   request and then windows that fit.
//!
//! Everything that decides the next window is in [`PlannerState`], which a checkpoint
//! carries: a resumed read cuts exactly the windows the first run would have cut.

use std::collections::{HashMap, VecDeque};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::{Error, too_dense};
use crate::keyed::Keyed;

/// The most datapoints one response holds; a response of this size may be cut off.
pub const MAX_DATAPOINTS: usize = 10_000;
/// The longest range one request may ask for (the vendor's pages: 31 days, else 413).
pub const MAX_SPAN: SignedDuration = SignedDuration::from_hours(31 * 24);

/// A window aims at this many datapoints at the density seen so far (95 % of the cap):
/// room for the density to vary without hitting the cap.
const TARGET_POINTS: u64 = 9_500;

/// A half-open window `[from, to)` of creation time, in whole seconds: one cut of the
/// range, asked for in one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// A stable 64-bit digest of a record's text (FNV-1a): the same on every machine and
/// version, so that a checkpoint's digests compare with a later run's.
fn digest(text: &str) -> u64 {
    text.bytes().fold(0xCBF2_9CE4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

/// The windows still to fetch, and what the fetched ones taught: everything that decides
/// the next window and what it yields.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Planner {
    pending: VecDeque<Cut>,
    /// The density: datapoints and seconds asked for of the last complete window, or
    /// the estimate of the last capped response (see [`capped_density`]).
    last: Option<(u64, i64)>,
    /// Datapoints a window aims at (lowered by a 413).
    target: u64,
    /// Digests of the last complete window's whole response, each with its count: only
    /// it can overlap the next one. Fewer than [`MAX_DATAPOINTS`] entries.
    previous: HashMap<u64, u32>,
}

/// A [`Planner`] as a checkpoint's `state` holds it (JSON).
///
/// `pending`: the windows still to fetch, `[from, to)` epoch seconds; `last`: the
/// density, the datapoints and seconds of the last complete window's request or of a
/// capped response's estimate;
/// `target`: the datapoints a window aims at; `previous`: the FNV-1a 64-bit digests of
/// the last complete window's response (one per datapoint, 16 hex digits each, sorted),
/// at most 9,999 of them (about 160 KB).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PlannerState {
    pending: Vec<Cut>,
    last: Option<(u64, i64)>,
    target: u64,
    previous: String,
}

/// What to do with one window's response.
#[derive(Debug)]
pub(crate) enum Outcome<T> {
    /// The window is complete: these are its datapoints, new ones only, sorted.
    Complete(Vec<T>),
    /// The response held the cap: the window was cut shorter (see [`capped_density`])
    /// and both pieces queued.
    Split,
}

impl Planner {
    /// `[from, to)` (rounded out to whole seconds), cut at the API's longest span.
    pub(crate) fn new(from: Timestamp, to: Timestamp) -> Planner {
        let (from, to) = seconds(from, to);
        let mut pending = VecDeque::new();
        if from < to {
            pending.push_back(Cut { from, to });
        }
        Planner {
            pending,
            last: None,
            target: TARGET_POINTS,
            previous: HashMap::new(),
        }
    }

    /// What a checkpoint stores.
    pub(crate) fn state(&self) -> PlannerState {
        let mut digests: Vec<u64> = self
            .previous
            .iter()
            .flat_map(|(digest, count)| std::iter::repeat_n(*digest, *count as usize))
            .collect();
        digests.sort_unstable();
        PlannerState {
            pending: self.pending.iter().copied().collect(),
            last: self.last,
            target: self.target,
            previous: digests.iter().map(|d| format!("{d:016x}")).collect(),
        }
    }

    /// The planner a checkpoint of the read of `[from, to)` stored, checked: windows
    /// within the range, one after the other, and no more digests than a window holds.
    pub(crate) fn restore(from: Timestamp, to: Timestamp, state: PlannerState) -> Result<Planner, Error> {
        let invalid = |what: &str| {
            Error::config(format!(
                "the checkpoint's state is not a Conduit datapoints read's: {what}"
            ))
        };
        let (from, to) = seconds(from, to);
        let mut at = state.pending.first().map_or(from, |cut| cut.from);
        if at < from {
            return Err(invalid("a window starts before the range"));
        }
        for cut in &state.pending {
            if cut.from != at || cut.to <= cut.from || cut.to > to {
                return Err(invalid("its windows do not cut the range"));
            }
            at = cut.to;
        }
        if !state.pending.is_empty() && at != to {
            return Err(invalid("its windows do not reach the end of the range"));
        }
        if state.target == 0 || state.target > TARGET_POINTS {
            return Err(invalid("its target is out of bounds"));
        }
        let text = state.previous.as_bytes();
        if text.len() % 16 != 0 || text.len() / 16 >= MAX_DATAPOINTS {
            return Err(invalid("its digests are malformed"));
        }
        let mut previous = HashMap::new();
        for chunk in text.chunks(16) {
            let digest = std::str::from_utf8(chunk)
                .ok()
                .and_then(|hex| u64::from_str_radix(hex, 16).ok())
                .ok_or_else(|| invalid("its digests are malformed"))?;
            *previous.entry(digest).or_insert(0) += 1;
        }
        Ok(Planner {
            pending: state.pending.into_iter().collect(),
            last: state.last,
            target: state.target,
            previous,
        })
    }

    /// The start of the next window, if any is left.
    pub(crate) fn next_start(&self) -> Option<i64> {
        self.pending.front().map(|cut| cut.from)
    }

    /// The next window: no longer than the API serves (one second of each request goes
    /// to the overlap), nor than the density seen so far fills to the target.
    pub(crate) fn next_window(&mut self) -> Option<Cut> {
        let mut window = self.pending.pop_front()?;
        let mut longest = MAX_SPAN.as_secs() - 1;
        if let Some((count, seconds)) = self.last.filter(|(count, _)| *count > 0) {
            // Integer arithmetic: a resumed read computes exactly the same length.
            let target = (i128::from(self.target) * i128::from(seconds) / i128::from(count)).max(1);
            longest = longest.min(i64::try_from(target).unwrap_or(i64::MAX));
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

    /// Halves `window` and queues both halves; false when it is a second long.
    fn halve(&mut self, window: Cut) -> bool {
        self.cut(window, window.seconds() / 2)
    }

    /// Queues `window` as `[from, from + length)` and the rest, `length` clamped to at
    /// most half the window; false when it is a second long.
    fn cut(&mut self, window: Cut, length: i64) -> bool {
        if window.seconds() < 2 {
            return false;
        }
        let middle = window.from + length.clamp(1, window.seconds() / 2);
        self.pending.push_front(Cut {
            from: middle,
            to: window.to,
        });
        self.pending.push_front(Cut {
            from: window.from,
            to: middle,
        });
        true
    }

    /// The server refused `window` with a 413: the response (or the range) is too large.
    /// Halves it, and aims later windows at no more than three quarters of the
    /// datapoints the refused one was estimated to hold (at the density seen so far);
    /// false when it is a second long (the refusal stands).
    pub(crate) fn too_large(&mut self, window: Cut) -> bool {
        if let Some((count, seconds)) = self.last.filter(|(count, _)| *count > 0) {
            let estimate = i128::from(count) * i128::from(window.seconds() + 1) / i128::from(seconds.max(1));
            let lowered = u64::try_from(estimate * 3 / 4).unwrap_or(u64::MAX).max(1);
            self.target = self.target.min(lowered);
        }
        self.halve(window)
    }

    /// Judges a window's response.
    pub(crate) fn assess<T: Keyed>(&mut self, window: Cut, response: Vec<T>) -> Result<Outcome<T>, Error> {
        if response.len() >= MAX_DATAPOINTS {
            // Learn the density, trust nothing else: the window is asked for again in
            // pieces that density fills to the target.
            let mut length = window.seconds() / 2;
            if let Some((count, seconds)) = capped_density(&response, window) {
                self.last = Some((count, seconds));
                let fits = i128::from(self.target) * i128::from(seconds) / i128::from(count.max(1));
                // An estimate of under a 64th of the window is not trusted (val_dates
                // bunched by a stuck device clock would cut one second at a time, and
                // an empty piece would send the rest back whole): halve instead.
                if fits.saturating_mul(64) >= i128::from(window.seconds()) {
                    length = length.min(i64::try_from(fits).unwrap_or(i64::MAX));
                }
            }
            if !self.cut(window, length) {
                return Err(too_dense(
                    Timestamp::from_second(window.from).unwrap_or(Timestamp::MIN),
                ));
            }
            return Ok(Outcome::Split);
        }
        // The request also covered the second before the window.
        self.last = Some((response.len() as u64, window.seconds() + 1));
        let mut previous = std::mem::take(&mut self.previous);
        let mut fresh = Vec::with_capacity(response.len());
        for point in response {
            let digest = digest(point.text());
            *self.previous.entry(digest).or_insert(0) += 1;
            match previous.get_mut(&digest) {
                // The previous response held this text: the same datapoint, yielded there.
                Some(count) if *count > 0 => *count -= 1,
                _ => fresh.push(point),
            }
        }
        // By val_date, dev_netid, dev_chid, then the text: the same window sorts the same
        // whatever order the server sent, so a position within it is stable.
        fresh.sort_by(|a, b| a.key().cmp(b.key()).then_with(|| a.text().cmp(b.text())));
        Ok(Outcome::Complete(fresh))
    }
}

/// The density a capped response of `window` shows, as (datapoints, seconds): `None`
/// when no datapoint has a `val_date`.
///
/// Whichever datapoints the server kept, two figures estimate how many the window holds:
/// - the span of their `val_date`s: the kept ones cover it (the oldest or newest 10,000
///   cover a part of the window, a sample covers all of it);
/// - the share of the span's datapoints they are. Within each series (`dev_netid`,
///   `dev_chid`), a kept datapoint is followed at the series' smallest step by a kept one
///   in that share of cases: all of them when the server kept a contiguous run, about a
///   quarter when it kept a random quarter. Gaps up to 1.5 times the step count as one
///   step, so jitter does not read as sampling. The share is taken as at least 1/64.
///
/// Integer arithmetic only: a resumed read computes the same windows.
pub(crate) fn capped_density<T: Keyed>(response: &[T], window: Cut) -> Option<(u64, i64)> {
    let mut series: HashMap<(Option<&str>, Option<i64>), Vec<i64>> = HashMap::new();
    for point in response {
        let key = point.key();
        if let Some(at) = key.val_date {
            series
                .entry((key.dev_netid.as_deref(), key.dev_chid))
                .or_default()
                .push(at.as_second());
        }
    }
    let (mut earliest, mut latest) = (i64::MAX, i64::MIN);
    let (mut neighbours, mut steps) = (0u64, 0u64);
    for seconds in series.values_mut() {
        seconds.sort_unstable();
        seconds.dedup();
        earliest = earliest.min(seconds[0]);
        latest = latest.max(seconds[seconds.len() - 1]);
        let gaps = seconds.windows(2).map(|pair| pair[1].saturating_sub(pair[0]));
        let Some(step) = gaps.clone().min() else {
            continue;
        };
        for gap in gaps {
            steps += 1;
            if i128::from(gap) * 2 <= i128::from(step) * 3 {
                neighbours += 1;
            }
        }
    }
    if earliest > latest {
        return None;
    }
    let span = latest
        .saturating_sub(earliest)
        .saturating_add(1)
        .clamp(1, window.seconds() + 1);
    let held = response.len() as u64;
    let count = if steps == 0 {
        held
    } else {
        held.saturating_mul(steps) / neighbours.max(steps.div_ceil(64))
    };
    Some((count.max(held), span))
}

/// `[from, to)` rounded out to whole seconds.
fn seconds(from: Timestamp, to: Timestamp) -> (i64, i64) {
    let to = if to.subsec_nanosecond() > 0 {
        to.as_second() + 1
    } else {
        to.as_second()
    };
    (from.as_second(), to)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyed::Key;

    /// A datapoint: a key and a text.
    #[derive(Debug, Clone, PartialEq)]
    struct Point {
        key: Key,
        text: String,
    }

    impl Keyed for Point {
        fn key(&self) -> &Key {
            &self.key
        }

        fn text(&self) -> &str {
            &self.text
        }
    }

    fn sample(seconds: i64, channel: i64, value: u32) -> Point {
        Point {
            key: Key {
                val_date: Some(Timestamp::from_second(seconds).unwrap()),
                dev_netid: Some("A".into()),
                dev_chid: Some(channel),
            },
            text: format!(r#"{{"val_date":{seconds},"dev_netid":"A","dev_chid":{channel},"v":{value}}}"#),
        }
    }

    fn point(seconds: i64, channel: i64) -> Point {
        sample(seconds, channel, 0)
    }

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).unwrap()
    }

    fn complete(planner: &mut Planner, window: Cut, response: Vec<Point>) -> Vec<Point> {
        match planner.assess(window, response).unwrap() {
            Outcome::Complete(points) => points,
            Outcome::Split => panic!("complete"),
        }
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
        let capped: Vec<Point> = (0..MAX_DATAPOINTS as i64)
            .map(|i| point(i % 1000, i / 1000))
            .collect();
        assert!(matches!(planner.assess(window, capped).unwrap(), Outcome::Split));
        assert_eq!(planner.next_window(), Some(Cut { from: 0, to: 500 }));
        assert_eq!(planner.next_window(), Some(Cut { from: 500, to: 1000 }));
    }

    #[test]
    fn a_capped_run_of_the_oldest_cuts_the_window_to_what_its_density_fills() {
        // Two channels at one a minute over 14 days; the server kept the oldest 10,000,
        // which cover the first 5,000 minutes.
        let day = 86_400;
        let mut planner = Planner::new(at(0), at(14 * day));
        let window = planner.next_window().unwrap();
        let oldest: Vec<Point> = (0..5_000)
            .flat_map(|m| [point(m * 60, 1), point(m * 60, 2)])
            .collect();
        assert_eq!(capped_density(&oldest, window), Some((10_000, 299_941)));
        assert!(matches!(planner.assess(window, oldest).unwrap(), Outcome::Split));
        // 9,500 datapoints at that density: 284,943 seconds, then the rest.
        assert_eq!(planner.next_window(), Some(Cut { from: 0, to: 284_943 }));
        assert_eq!(planner.pending.front().map(|cut| cut.to), Some(14 * day));
    }

    #[test]
    fn a_capped_sample_is_read_as_the_share_of_the_window_it_holds() {
        // One channel at one a minute over 40,000 minutes; the server kept every fourth
        // minute and every odd multiple of three: 5/12 of them, 16,667.
        let window = Cut {
            from: 0,
            to: 40_000 * 60,
        };
        let kept: Vec<Point> = (0..40_000)
            .filter(|m| m % 4 == 0 || (m % 3 == 0 && m % 2 == 1))
            .map(|m| point(m * 60, 1))
            .collect();
        let (count, seconds) = capped_density(&kept, window).unwrap();
        assert_eq!(seconds, 39_999 * 60 + 1);
        // About 2.4 times what it holds: the window holds 40,000.
        let ratio = count as f64 / kept.len() as f64;
        assert!((1.6..=2.6).contains(&ratio), "{count} of {}", kept.len());
        // Nothing with a val_date: no estimate, the window is halved.
        let undated = vec![Point {
            key: Key::default(),
            text: "{}".into(),
        }];
        assert_eq!(capped_density(&undated, window), None);
    }

    #[test]
    fn a_refused_window_is_halved_and_later_windows_aim_lower() {
        let mut planner = Planner::new(at(0), at(100_000));
        planner.last = Some((1000, 1000));
        let window = planner.next_window().unwrap();
        assert_eq!(window, Cut { from: 0, to: 9_500 });
        assert!(planner.too_large(window));
        assert_eq!(planner.next_window(), Some(Cut { from: 0, to: 4_750 }));
        assert_eq!(
            planner.pending.front(),
            Some(&Cut {
                from: 4_750,
                to: 9_500
            })
        );
        planner.pending = VecDeque::from([Cut {
            from: 9_500,
            to: 100_000,
        }]);
        // Three quarters of the refused window's 9,501: shorter windows at that density.
        assert_eq!(planner.target, 7_125);
        assert_eq!(
            planner.next_window(),
            Some(Cut {
                from: 9_500,
                to: 16_625
            })
        );
        assert!(!planner.too_large(Cut { from: 7, to: 8 }));
    }

    #[test]
    fn the_overlap_is_removed_by_record_text_and_nothing_is_trimmed_by_val_date() {
        let mut planner = Planner::new(at(0), at(200));
        // A point whose val_date lies far outside the window is kept; so are two distinct
        // points of one channel in one second.
        let points = complete(
            &mut planner,
            Cut { from: 0, to: 100 },
            vec![point(99, 1), point(5000, 1), point(100, 1), sample(100, 1, 7)],
        );
        assert_eq!(points.len(), 4);
        // The next response repeats two of them and brings a third sample of that second.
        let points = complete(
            &mut planner,
            Cut { from: 100, to: 200 },
            vec![sample(100, 1, 7), point(150, 1), point(100, 1), sample(100, 1, 8)],
        );
        let texts: Vec<&str> = points.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(texts, [sample(100, 1, 8).text, point(150, 1).text]);
    }

    #[test]
    fn identical_texts_count_per_window() {
        let mut planner = Planner::new(at(0), at(200));
        let twice = vec![point(50, 1), point(50, 1)];
        assert_eq!(complete(&mut planner, Cut { from: 0, to: 100 }, twice).len(), 2);
        // The next response holds the text three times: one of them is new.
        let thrice = vec![point(50, 1), point(50, 1), point(50, 1)];
        assert_eq!(
            complete(&mut planner, Cut { from: 100, to: 200 }, thrice).len(),
            1
        );
    }

    #[test]
    fn a_point_in_three_one_second_windows_is_yielded_once() {
        // With inclusive ends, the request of [a, a+1) is [a-1, a+1]: a point created at
        // a+1 is in the responses of three consecutive one-second windows.
        let mut planner = Planner::new(at(0), at(3));
        let mut yielded = Vec::new();
        for (a, response) in [
            (0, vec![point(0, 1), point(1, 1)]),
            (1, vec![point(0, 1), point(1, 1), point(2, 1)]),
            (2, vec![point(1, 1), point(2, 1)]),
        ] {
            yielded.extend(complete(&mut planner, Cut { from: a, to: a + 1 }, response));
        }
        assert_eq!(yielded, [point(0, 1), point(1, 1), point(2, 1)]);
    }

    #[test]
    fn a_window_sorts_the_same_whatever_the_order_sent() {
        let response = vec![sample(3, 1, 2), point(1, 2), sample(3, 1, 1), point(1, 1)];
        let mut reversed = response.clone();
        reversed.reverse();
        let one = complete(&mut Planner::new(at(0), at(9)), Cut { from: 0, to: 9 }, response);
        let other = complete(&mut Planner::new(at(0), at(9)), Cut { from: 0, to: 9 }, reversed);
        assert_eq!(one, other);
    }

    #[test]
    fn the_state_round_trips_and_a_foreign_one_is_refused() {
        let end = at(90 * 86_400);
        let mut planner = Planner::new(at(0), end);
        let window = planner.next_window().unwrap();
        let _ = complete(&mut planner, window, vec![point(5, 1), point(5, 1), point(6, 1)]);
        let state = planner.state();
        let json = serde_json::to_value(&state).unwrap();
        let back: PlannerState = serde_json::from_value(json).unwrap();
        assert_eq!(Planner::restore(at(0), end, back.clone()).unwrap(), planner);
        assert!(Planner::restore(at(0), at(80 * 86_400), back.clone()).is_err());
        let mut bad = back;
        bad.previous.push('x');
        assert!(Planner::restore(at(0), end, bad).is_err());
    }

    #[test]
    fn windows_follow_the_density() {
        let mut planner = Planner::new(at(0), at(1_000_000));
        let window = Cut { from: 0, to: 999 };
        let response: Vec<Point> = (0..5000).map(|i| point(i, 1)).collect();
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
        let response: Vec<Point> = (0..MAX_DATAPOINTS as i64).map(|i| point(7, i)).collect();
        assert!(matches!(
            planner.assess(window, response),
            Err(Error::Api(crate::ConduitError::TooDense { .. }))
        ));
    }
}
