//! The event ids a receiver already has, for [`Client::reconcile`](crate::Client::reconcile):
//! a compact set, filled from any iterator of ids or from a file of push bodies.

use std::collections::HashSet;
use std::fmt;
use std::io::{BufRead, Read};

use serde::Deserialize;

/// The longest line [`ReceivedIds::add_pushes`] reads: a push body is a few hundred
/// bytes, and a line without end must not take the memory.
pub const MAX_PUSH_LINE: usize = 1 << 20;

/// The set of event ids a receiver got, as [`Client::reconcile`](crate::Client::reconcile)
/// takes it.
///
/// Each id is kept as a 128-bit digest of its text (SHA-256, truncated) in a hash set:
/// about 20 to 40 bytes an id whatever its length (the set's spare room included), so
/// a million pushes take a few tens of megabytes. Two ids sharing a digest is as likely
/// as guessing a random 128-bit key.
///
/// ```
/// use dt_client::ReceivedIds;
///
/// let mut received: ReceivedIds = ["e1", "e2"].into_iter().collect();
/// assert!(received.insert("e3"));
/// assert!(!received.insert("e1"), "already there");
/// assert!(received.contains("e2") && !received.contains("e4"));
///
/// // Push bodies, one per line, as a receiver (dt-receiver) writes them.
/// let lines = br#"{"event":{"eventId":"e5","eventType":"touch"},"labels":{},"metadata":{}}
/// {"event":{"eventId":"e6","eventType":"touch"},"labels":{},"metadata":{}}
/// "#;
/// let read = received.add_pushes(&lines[..])?;
/// assert_eq!((read.pushes, received.len()), (2, 5));
/// # Ok::<(), dt_client::ReceivedError>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ReceivedIds {
    digests: HashSet<u128>,
}

/// What [`ReceivedIds::add_pushes`] read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PushesRead {
    /// Push bodies read (blank lines are not counted).
    pub pushes: u64,
    /// Whether the last line had no line end and its JSON ended early, and was left out:
    /// a receiver killed while writing it, which had not answered 200, so DT sent it
    /// again or it is missing.
    pub partial_last_line: bool,
}

/// A line of received pushes that is not a push body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceivedError {
    /// The line (counted from 1) is not a push body with `event.eventId`.
    #[error("line {line}: not a push body with event.eventId ({reason})")]
    NotAPush {
        /// The line number, from 1.
        line: u64,
        /// Why, as the JSON parser said it (never the line's text).
        reason: String,
    },
    /// The line (counted from 1) is longer than [`MAX_PUSH_LINE`].
    #[error("line {line}: longer than {MAX_PUSH_LINE} bytes")]
    LineTooLong {
        /// The line number, from 1.
        line: u64,
    },
    /// Reading failed.
    #[error("reading the received pushes: {0}")]
    Io(String),
}

/// The part of a push body that names the event.
#[derive(Deserialize)]
struct PushEvent {
    event: EventId,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventId {
    event_id: String,
}

/// The digest an id is kept as.
pub(crate) fn digest(event_id: &str) -> u128 {
    let hash = ring::digest::digest(&ring::digest::SHA256, event_id.as_bytes());
    let mut first = [0u8; 16];
    first.copy_from_slice(&hash.as_ref()[..16]);
    u128::from_le_bytes(first)
}

impl ReceivedIds {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an id; `false` if it was there.
    pub fn insert(&mut self, event_id: &str) -> bool {
        self.digests.insert(digest(event_id))
    }

    /// Whether the id is in the set.
    pub fn contains(&self, event_id: &str) -> bool {
        self.digests.contains(&digest(event_id))
    }

    pub(crate) fn contains_digest(&self, digest: u128) -> bool {
        self.digests.contains(&digest)
    }

    /// How many distinct ids the set holds.
    pub fn len(&self) -> usize {
        self.digests.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    /// Adds the event id of each push body in `reader`, one body per line (blank lines
    /// skipped), as a receiver writes them: `{"event":{"eventId":..},..}`. A line that is
    /// not such a body is an error naming its number (never its text); so is a line
    /// over [`MAX_PUSH_LINE`] bytes. A last line without line end whose JSON ends early
    /// (cut short) is left out and reported in [`PushesRead::partial_last_line`].
    pub fn add_pushes<R: BufRead>(&mut self, mut reader: R) -> Result<PushesRead, ReceivedError> {
        let mut read = PushesRead::default();
        let mut line = Vec::new();
        let mut number = 0u64;
        loop {
            line.clear();
            let limit = MAX_PUSH_LINE as u64 + 1;
            let length = (&mut reader)
                .take(limit)
                .read_until(b'\n', &mut line)
                .map_err(|e| ReceivedError::Io(e.to_string()))?;
            if length == 0 {
                return Ok(read);
            }
            number += 1;
            let ended = line.last() == Some(&b'\n');
            if !ended && line.len() > MAX_PUSH_LINE {
                return Err(ReceivedError::LineTooLong { line: number });
            }
            let text = crate::without_bom(&line);
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<PushEvent>(text) {
                Ok(push) => {
                    self.insert(&push.event.event_id);
                    read.pushes += 1;
                }
                // Cut short, not malformed: the JSON ended early.
                Err(e) if !ended && e.is_eof() => {
                    read.partial_last_line = true;
                    return Ok(read);
                }
                Err(e) => {
                    return Err(ReceivedError::NotAPush {
                        line: number,
                        reason: e.to_string(),
                    });
                }
            }
        }
    }
}

impl<S: AsRef<str>> FromIterator<S> for ReceivedIds {
    fn from_iter<I: IntoIterator<Item = S>>(ids: I) -> Self {
        let mut set = ReceivedIds::new();
        set.extend(ids);
        set
    }
}

impl<S: AsRef<str>> Extend<S> for ReceivedIds {
    fn extend<I: IntoIterator<Item = S>>(&mut self, ids: I) {
        for id in ids {
            self.insert(id.as_ref());
        }
    }
}

impl fmt::Debug for ReceivedIds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceivedIds")
            .field("len", &self.digests.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_line_is_named_by_number_and_a_partial_last_line_is_left_out() {
        let mut ids = ReceivedIds::new();
        let good = br#"{"event":{"eventId":"a"}}"#;
        let text = [&good[..], b"\n\n{\"event\":{}}\n"].concat();
        let error = ids.add_pushes(&text[..]).unwrap_err();
        assert!(
            matches!(error, ReceivedError::NotAPush { line: 3, .. }),
            "{error:?}"
        );

        let text = [&good[..], b"\n{\"event\":{\"eventId\":\"b"].concat();
        let mut ids = ReceivedIds::new();
        let read = ids.add_pushes(&text[..]).unwrap();
        assert_eq!(read.pushes, 1);
        assert!(read.partial_last_line);
        assert!(ids.contains("a") && !ids.contains("b"));

        // A last line without its end that is not cut short but wrong is an error.
        let text = [&good[..], b"\n[{\"kind\": 1}]"].concat();
        let error = ReceivedIds::new().add_pushes(&text[..]).unwrap_err();
        assert!(
            matches!(error, ReceivedError::NotAPush { line: 2, .. }),
            "{error:?}"
        );

        // A last line without its end that parses counts.
        let mut ids = ReceivedIds::new();
        let read = ids.add_pushes(&good[..]).unwrap();
        assert_eq!((read.pushes, read.partial_last_line), (1, false));
    }

    #[test]
    fn a_line_without_end_is_refused_past_the_limit() {
        let text = vec![b'x'; MAX_PUSH_LINE + 10];
        let error = ReceivedIds::new().add_pushes(&text[..]).unwrap_err();
        assert_eq!(error, ReceivedError::LineTooLong { line: 1 });
    }

    #[test]
    fn digests_tell_ids_apart() {
        let ids: ReceivedIds = (0..10_000).map(|i| format!("event-{i}")).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids.contains("event-9999") && !ids.contains("event-10000"));
        assert_eq!(format!("{ids:?}"), "ReceivedIds { len: 10000 }");
    }
}
