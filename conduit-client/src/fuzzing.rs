//! Entry points for the fuzz targets in `fuzz/`: the window logic over keyed datapoints,
//! without a server. Hidden: not part of the API, no stability promise. (The datapoints
//! themselves are read with the public `client_core::decode::json_array` into
//! [`RawDatapoint`]s, as the client reads them.)

use jiff::Timestamp;

use crate::datapoints::RawDatapoint;
use crate::error::Result;
use crate::windows::{Outcome, Planner};

/// Judges `points` as the response of a window, then the same points again as the
/// response of the next window (which overlaps it): the datapoints each yields, sorted.
/// `None` for a response at the cap (the window is cut shorter).
pub fn windows(points: Vec<RawDatapoint>) -> Result<Option<(Vec<RawDatapoint>, Vec<RawDatapoint>)>> {
    let from = Timestamp::UNIX_EPOCH;
    // Longer than one window: the second one overlaps the first.
    let to = Timestamp::from_second(90 * 24 * 3600).unwrap_or(Timestamp::MAX);
    let mut planner = Planner::new(from, to);
    let (Some(first), again) = (planner.next_window(), points.clone()) else {
        return Ok(None);
    };
    let Outcome::Complete(yielded) = planner.assess(first, points)? else {
        return Ok(None);
    };
    let Some(second) = planner.next_window() else {
        return Ok(Some((yielded, Vec::new())));
    };
    let Outcome::Complete(repeated) = planner.assess(second, again)? else {
        return Ok(None);
    };
    Ok(Some((yielded, repeated)))
}
