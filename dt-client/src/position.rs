//! The live stream's position: what a [`Checkpoint`] of the stream holds, so that a
//! stream stopped anywhere and resumed yields every event exactly once.
//!
//! The position is [`Position::After`] the newest event time yielded, with a state: an
//! instant `since` and the events yielded with a timestamp at or after it (time and id).
//! Every event stamped at or after `since` that is not in that set has not been yielded.
//! A resumed stream reads the history from `since` and yields what is not in the set,
//! then goes on live. The set is bounded: it keeps the events of the last margin (the
//! stream's backfill margin) before the newest moment heard, and at most
//! [`MAX_REMEMBERED`] events; `since` moves up as older entries are dropped.
//!
//! "Heard" is server time (what the stream's caller measured on the server's clock),
//! never the client's, and an event's timestamp moves the position at most to the
//! margin after it: neither a client clock ahead of DT's nor one event stamped in the
//! future can move `since` past what the server has shown, where every later read of
//! history would find nothing.

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use client_core::{Checkpoint, Position};

use crate::error::{Error, Result};

/// The most events a position remembers (and a checkpoint holds).
pub(crate) const MAX_REMEMBERED: usize = 10_000;

/// The longest event id remembered as it is (256 bytes); a longer one is remembered by
/// its SHA-256 digest, so that what a stream remembers is bounded in bytes, not only in
/// ids (an id may be up to a message long, 1 MiB).
pub(crate) const MAX_ID_REMEMBERED: usize = 256;

/// How the event id `id` is remembered: itself, or `sha256:<hex digest>` when it is over
/// [`MAX_ID_REMEMBERED`] bytes (shorter than that, so never taken for a longer id).
pub(crate) fn remembered(id: &str) -> String {
    if id.len() <= MAX_ID_REMEMBERED {
        return id.to_owned();
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, id.as_bytes());
    let hex: String = digest.as_ref().iter().map(|byte| format!("{byte:02x}")).collect();
    format!("sha256:{hex}")
}

/// `margin` before `at`, or the earliest instant when that is before it.
pub(crate) fn before(at: Timestamp, margin: Duration) -> Timestamp {
    SignedDuration::try_from(margin)
        .ok()
        .and_then(|margin| at.checked_sub(margin).ok())
        .unwrap_or(Timestamp::MIN)
}

/// The checkpoint's state, as serialised.
#[derive(Debug, Serialize, Deserialize)]
struct State {
    since: Timestamp,
    #[serde(default)]
    seen: Vec<(Timestamp, String)>,
}

/// Where a live stream stands.
#[derive(Debug, Clone)]
pub(crate) struct StreamPosition {
    at: Timestamp,
    since: Timestamp,
    seen: BTreeSet<(Timestamp, String)>,
    margin: Duration,
    /// The latest server time heard.
    heard: Timestamp,
}

impl StreamPosition {
    /// A stream that starts at `since`, having yielded nothing.
    pub(crate) fn new(since: Timestamp, margin: Duration) -> Self {
        StreamPosition {
            at: since,
            since,
            seen: BTreeSet::new(),
            margin,
            heard: since,
        }
    }

    /// A new stream's position (nothing yielded) moves back to `start` when it lies
    /// after it: it was set on the client's clock, which may be ahead of the server's.
    pub(crate) fn start_no_later_than(&mut self, start: Timestamp) {
        if self.seen.is_empty() && self.since > start {
            self.since = start;
            self.at = self.at.min(start);
            self.heard = self.heard.min(start);
        }
    }

    /// The position a checkpoint of `read` holds. A checkpoint of another read, or not
    /// at a stream position, is a `Config` error.
    pub(crate) fn restore(checkpoint: &Checkpoint, read: &str, margin: Duration) -> Result<Self> {
        checkpoint.check(read)?;
        let Position::After { at } = checkpoint.position else {
            return Err(Error::config(format!(
                "a live stream resumes from a position after an instant, not from {:?}",
                checkpoint.position
            )));
        };
        if checkpoint.state.is_null() {
            return Ok(StreamPosition::new(at, margin));
        }
        let state: State = serde_json::from_value((*checkpoint.state).clone())
            .map_err(|e| Error::config(format!("the checkpoint's state is not a stream's: {e}")))?;
        let mut position = StreamPosition {
            at,
            since: state.since,
            seen: state
                .seen
                .into_iter()
                .filter(|(t, _)| *t >= state.since)
                .map(|(t, id)| (t, remembered(&id)))
                .collect(),
            margin,
            heard: state.since,
        };
        position.trim();
        Ok(position)
    }

    /// Where history must be read from to find what was not yielded.
    pub(crate) fn since(&self) -> Timestamp {
        self.since
    }

    /// Whether the event `id` stamped `time` lies before the position, or was yielded.
    pub(crate) fn covers(&self, time: Timestamp, id: &str) -> bool {
        time < self.since || self.seen.contains(&(time, remembered(id)))
    }

    /// The event `id` stamped `time` was yielded.
    /// The position moves at most to the margin after the latest server time heard: an
    /// event stamped later (in the future) is remembered, but does not move `since`.
    pub(crate) fn yielded(&mut self, time: Timestamp, id: &str) {
        let limit = self
            .heard
            .checked_add(SignedDuration::try_from(self.margin).unwrap_or(SignedDuration::MAX))
            .unwrap_or(Timestamp::MAX);
        self.at = self.at.max(time.min(limit));
        if time >= self.since {
            self.seen.insert((time, remembered(id)));
        }
        self.trim();
    }

    /// The server was heard at `now` (server time, never the client's clock): events
    /// older than the margin before it are not waited for any more.
    pub(crate) fn heard(&mut self, now: Timestamp) {
        self.heard = self.heard.max(now);
        self.move_since(before(self.heard, self.margin));
    }

    /// The stream gives up on events before `to` (a gap it could not fill).
    pub(crate) fn skip_to(&mut self, to: Timestamp) {
        self.at = self.at.max(to);
        self.heard = self.heard.max(to);
        self.move_since(to);
    }

    fn move_since(&mut self, since: Timestamp) {
        if since <= self.since {
            return;
        }
        self.since = since;
        self.seen = self.seen.split_off(&(since, String::new()));
    }

    /// Keeps the set within its bounds: the margin before the newest event, and
    /// [`MAX_REMEMBERED`] events (dropping the oldest instant whole).
    fn trim(&mut self) {
        self.move_since(before(self.at, self.margin));
        while self.seen.len() > MAX_REMEMBERED {
            let Some((oldest, _)) = self.seen.first().cloned() else {
                break;
            };
            let next = oldest
                .checked_add(SignedDuration::from_nanos(1))
                .unwrap_or(Timestamp::MAX);
            self.move_since(next);
        }
    }

    /// The checkpoint of `read` at this position.
    pub(crate) fn checkpoint(&self, read: &str) -> Checkpoint {
        let state = State {
            since: self.since,
            seen: self.seen.iter().cloned().collect(),
        };
        Checkpoint::new(read, Position::After { at: self.at })
            .with_state(serde_json::to_value(state).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(seconds: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + seconds).unwrap()
    }

    #[test]
    fn a_position_survives_its_checkpoint_and_stays_bounded() {
        let mut position = StreamPosition::new(t(0), Duration::from_secs(10));
        position.yielded(t(1), "a");
        position.yielded(t(1), "b");
        let checkpoint = position.checkpoint("dt.live/x");
        let back = StreamPosition::restore(&checkpoint, "dt.live/x", Duration::from_secs(10)).unwrap();
        assert!(back.covers(t(1), "a") && back.covers(t(1), "b"));
        assert!(!back.covers(t(1), "c") && !back.covers(t(2), "a"));
        assert!(StreamPosition::restore(&checkpoint, "dt.live/y", Duration::from_secs(10)).is_err());
        // Events more than the margin behind the newest are forgotten; `since` follows.
        position.heard(t(30));
        position.yielded(t(30), "z");
        assert_eq!(position.since(), t(20));
        // An event stamped in the future moves the position no further than the margin
        // past the server's time heard.
        position.yielded(t(1_000_000), "future");
        assert_eq!(position.since(), t(30));
        assert!(position.covers(t(1_000_000), "future"));
        assert!(position.covers(t(1), "anything"));
        for i in 0..(MAX_REMEMBERED + 5) {
            position.yielded(t(30), &format!("e{i}"));
        }
        // All at one instant: over the bound, the whole instant goes.
        assert!(position.seen.len() <= MAX_REMEMBERED);
    }

    #[test]
    fn a_long_id_is_remembered_by_its_digest() {
        let mut position = StreamPosition::new(t(0), Duration::from_secs(10));
        let long = "x".repeat(100_000);
        position.yielded(t(1), &long);
        assert!(position.covers(t(1), &long));
        assert!(!position.covers(t(1), &"x".repeat(99_999)));
        assert!(position.seen.iter().all(|(_, id)| id.len() <= MAX_ID_REMEMBERED));
        let checkpoint = position.checkpoint("dt.live/x");
        assert!(checkpoint.state.to_string().len() < 1000);
        let back = StreamPosition::restore(&checkpoint, "dt.live/x", Duration::from_secs(10)).unwrap();
        assert!(back.covers(t(1), &long));
        assert_eq!(remembered("short"), "short");
    }

    #[test]
    fn a_new_position_set_on_a_client_clock_ahead_moves_back_to_the_server_time() {
        let mut position = StreamPosition::new(t(3600), Duration::from_secs(10));
        position.start_no_later_than(t(0));
        assert_eq!(position.since(), t(0));
        position.yielded(t(3600), "skewed");
        assert_eq!(position.since(), t(0));
    }
}
