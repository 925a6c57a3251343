//! Checkpoints: where a long read stands, so that a read killed anywhere resumes with
//! nothing lost or repeated.

use std::sync::Arc;

use futures::StreamExt;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::paging::{Cursor, Page};
use super::window::Window;
use crate::decode::RecordStream;
use crate::error::{Error, Result};

/// The version of the checkpoint format this SDK writes and reads.
pub const CHECKPOINT_VERSION: u32 = 1;

/// Where a long read stands: give it to the same request's `.resume_from(..)` and the
/// read goes on after the last item it yielded, so that a read killed at any point and
/// resumed from its last checkpoint yields every item exactly once across both runs.
///
/// Serialise it with serde (JSON, say) and store it with your output: the format is
/// stable within a major version of the SDK ([`CHECKPOINT_VERSION`]). A checkpoint names
/// the read it belongs to ([`Checkpoint::read`]: the API, the resource and a digest of
/// the request's parameters), and resuming another read from it is refused.
///
/// ```
/// use client_core::{Checkpoint, Cursor, Position};
///
/// let read = Checkpoint::read_id("dt.history", &[("project", "p1"), ("device", "d1")]);
/// let checkpoint = Checkpoint::new(read.clone(), Position::Page {
///     cursor: Some(Cursor::Token("t2".into())),
///     skip: 3,
/// });
/// let text = serde_json::to_string(&checkpoint)?;
/// let back: Checkpoint = serde_json::from_str(&text)?;
/// assert_eq!(back, checkpoint);
/// assert!(back.check(&read).is_ok());
/// assert!(back.check("dt.history/another").is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Checkpoint {
    /// The format's version ([`CHECKPOINT_VERSION`]).
    pub version: u32,
    /// The read it belongs to (see [`Checkpoint::read_id`]).
    pub read: String,
    /// Where the next unread item is.
    pub position: Position,
    /// The read's own state at that position (an API's paging or windowing state), as
    /// JSON; `null` when it has none. Shared: the checkpoints of the items of one page or
    /// window hold the same state, so cloning a checkpoint never copies it.
    #[serde(default, skip_serializing_if = "no_state")]
    pub state: Arc<Value>,
}

/// Where in a read the next unread item is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Position {
    /// Nothing has been read.
    Start,
    /// In the page read from `cursor` (`None`: the first page), after its first `skip`
    /// items.
    Page {
        /// Where the page is read from.
        cursor: Option<Cursor>,
        /// Items of that page already yielded.
        skip: u64,
    },
    /// In the window starting at `from`, after its first `skip` items.
    Window {
        /// The window's start.
        from: Timestamp,
        /// Items of that window already yielded.
        skip: u64,
    },
    /// After the instant `at`: a read ordered by time (a continuation, a live stream)
    /// goes on with what comes after it.
    After {
        /// The last instant read.
        at: Timestamp,
    },
    /// The read is complete: resuming yields nothing.
    Done,
}

impl Position {
    /// Items of the current page or window already yielded (0 elsewhere).
    pub fn skip(&self) -> u64 {
        match self {
            Position::Page { skip, .. } | Position::Window { skip, .. } => *skip,
            _ => 0,
        }
    }
}

fn no_state(state: &Arc<Value>) -> bool {
    state.is_null()
}

impl Checkpoint {
    /// A checkpoint of `read` at `position`, without state.
    pub fn new(read: impl Into<String>, position: Position) -> Self {
        Checkpoint {
            version: CHECKPOINT_VERSION,
            read: read.into(),
            position,
            state: Arc::new(Value::Null),
        }
    }

    /// The same checkpoint with the read's own state.
    pub fn with_state(mut self, state: Value) -> Self {
        self.state = Arc::new(state);
        self
    }

    /// The same checkpoint at `position`, keeping the state.
    pub fn at(&self, position: Position) -> Self {
        Checkpoint {
            position,
            ..self.clone()
        }
    }

    /// The name of a read: `api` (`"sds.observations"`) and a digest of its parameters
    /// (the first 16 hex digits of the SHA-256 of each name and value, in order, each
    /// written as its length in bytes, `:`, and itself), the same on every machine and
    /// version. The lengths make the text unambiguous: a value holding `=` or a line
    /// break cannot make one parameter list read as another.
    pub fn read_id(api: &str, parameters: &[(&str, &str)]) -> String {
        let mut text = String::new();
        for (name, value) in parameters {
            for part in [name, value] {
                text.push_str(&part.len().to_string());
                text.push(':');
                text.push_str(part);
            }
        }
        let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
        let hex: String = digest.as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect();
        format!("{api}/{hex}")
    }

    /// Whether the read is complete.
    pub fn is_done(&self) -> bool {
        self.position == Position::Done
    }

    /// Checks that this checkpoint can resume `read`: the same read, a version this SDK
    /// reads. Anything else is an [`ErrorKind::Config`](crate::ErrorKind::Config) error:
    /// resuming another read would lose or repeat items.
    pub fn check(&self, read: &str) -> Result<()> {
        if self.version != CHECKPOINT_VERSION {
            return Err(Error::config(format!(
                "the checkpoint has format version {}; this SDK reads version {CHECKPOINT_VERSION}",
                self.version
            )));
        }
        if self.read != read {
            return Err(Error::config(format!(
                "the checkpoint belongs to the read `{}`, not `{read}`: a read resumes only from its own checkpoints",
                self.read
            )));
        }
        Ok(())
    }
}

/// An item of a read, with the checkpoint right after it: resuming from `checkpoint`
/// yields the items after this one.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Checkpointed<T> {
    /// The item.
    pub item: T,
    /// Where the read stands after it.
    pub checkpoint: Checkpoint,
}

impl<T> Checkpointed<T> {
    /// `item`, with the checkpoint right after it (for reads that are not paged, such as
    /// a live stream, which build their checkpoints themselves).
    pub fn new(item: T, checkpoint: Checkpoint) -> Self {
        Checkpointed { item, checkpoint }
    }
}

/// A page of a read that knows where the read stands after it: [`Page`] and [`Window`].
pub trait CheckpointedPage: Send + 'static {
    /// The item type.
    type Item: Send + 'static;

    /// The page's items, to take or trim.
    fn items_mut(&mut self) -> &mut Vec<Self::Item>;

    /// Where the read stands after this page.
    fn checkpoint(&self) -> Option<&Checkpoint>;

    /// The position inside this page after its first `skip` items.
    fn position_within(&self, skip: u64) -> Position;
}

impl<T: Send + 'static> CheckpointedPage for Page<T> {
    type Item = T;

    fn items_mut(&mut self) -> &mut Vec<T> {
        &mut self.items
    }

    fn checkpoint(&self) -> Option<&Checkpoint> {
        self.checkpoint.as_ref()
    }

    fn position_within(&self, skip: u64) -> Position {
        Position::Page {
            cursor: self.cursor.clone(),
            skip,
        }
    }
}

impl<T: Send + 'static> CheckpointedPage for Window<T> {
    type Item = T;

    fn items_mut(&mut self) -> &mut Vec<T> {
        &mut self.items
    }

    fn checkpoint(&self) -> Option<&Checkpoint> {
        self.checkpoint.as_ref()
    }

    fn position_within(&self, skip: u64) -> Position {
        Position::Window {
            from: self.from,
            skip,
        }
    }
}

/// The pages of a read resumed from `start`: the first page loses the items `start`
/// says were already yielded (its [`Position::skip`]). A client crate's `pages()` of a
/// resumed read is its page stream through this.
pub fn resume_pages<P, E>(pages: RecordStream<P, E>, start: Option<&Checkpoint>) -> RecordStream<P, E>
where
    P: CheckpointedPage,
    E: Send + 'static,
{
    let mut skip = start.map_or(0, |checkpoint| checkpoint.position.skip());
    if skip == 0 {
        return pages;
    }
    RecordStream::new(pages.map(move |page| {
        page.map(|mut page| {
            if skip > 0 {
                let items = page.items_mut();
                let dropped = usize::try_from(skip).unwrap_or(usize::MAX).min(items.len());
                items.drain(..dropped);
                skip = 0;
            }
            page
        })
    }))
}

/// Every item of `pages` with the checkpoint after it. `pages` is a read's (resumed)
/// page stream, each page carrying the checkpoint after it; `start` is where the read
/// began (the checkpoint it resumed from, or [`Position::Start`]). Within a page, an
/// item's checkpoint is the page's own start (its cursor, or its window) with the items
/// yielded so far and the read's state before the page; the last item's is the page's
/// own checkpoint.
pub fn checkpointed<P, E>(
    pages: RecordStream<P, E>,
    start: Checkpoint,
) -> RecordStream<Checkpointed<P::Item>, E>
where
    P: CheckpointedPage,
    E: From<Error> + Send + 'static,
{
    RecordStream::new(async_stream::try_stream! {
        let mut pages = pages;
        let mut before = start;
        let mut first = true;
        while let Some(page) = pages.next().await {
            let mut page = page?;
            let Some(after) = page.checkpoint().cloned() else {
                Err(E::from(Error::config("this read's pages carry no checkpoint")))?;
                return;
            };
            // Items of the page yielded in an earlier run (resume_pages dropped them).
            let mut yielded = if first { before.position.skip() } else { 0 };
            first = false;
            let items = std::mem::take(page.items_mut());
            let count = items.len();
            for (index, item) in items.into_iter().enumerate() {
                yielded += 1;
                // Inside the page: where the page starts, with the read's state before it.
                let checkpoint = if index + 1 == count {
                    after.clone()
                } else {
                    before.at(page.position_within(yielded))
                };
                yield Checkpointed { item, checkpoint };
            }
            before = after;
        }
    })
}

#[cfg(test)]
mod tests {
    use futures::TryStreamExt;

    use super::*;

    fn page(items: &[u32], cursor: Option<&str>, next: Option<&str>) -> Page<u32> {
        let read = "test/read";
        let after = match next {
            Some(token) => Position::Page {
                cursor: Some(Cursor::Token(token.into())),
                skip: 0,
            },
            None => Position::Done,
        };
        Page::new(items.to_vec())
            .with_cursor(cursor.map(|c| Cursor::Token(c.into())))
            .with_next(next.map(|c| Cursor::Token(c.into())))
            .with_checkpoint(Some(Checkpoint::new(read, after)))
    }

    /// A read of three pages from `start`, as a server answers it.
    fn read_from(start: &Checkpoint) -> RecordStream<Page<u32>, Error> {
        let all = [
            (None, page(&[1, 2, 3], None, Some("b"))),
            (Some("b"), page(&[4, 5], Some("b"), Some("c"))),
            (Some("c"), page(&[6], Some("c"), None)),
        ];
        let from = match &start.position {
            Position::Start => None,
            Position::Page { cursor: None, .. } => None,
            Position::Page {
                cursor: Some(Cursor::Token(token)),
                ..
            } => Some(token.clone()),
            Position::Done => return RecordStream::new(futures::stream::empty()),
            other => panic!("{other:?}"),
        };
        let pages: Vec<Result<Page<u32>, Error>> = all
            .into_iter()
            .skip_while(|(cursor, _)| cursor.map(str::to_owned) != from)
            .map(|(_, page)| Ok(page))
            .collect();
        resume_pages(RecordStream::new(futures::stream::iter(pages)), Some(start))
    }

    #[tokio::test]
    async fn a_read_stopped_after_any_item_and_resumed_yields_each_item_once() {
        let start = Checkpoint::new("test/read", Position::Start);
        let whole: Vec<u32> = checkpointed(read_from(&start), start.clone())
            .map_ok(|c| c.item)
            .try_collect()
            .await
            .unwrap();
        assert_eq!(whole, vec![1, 2, 3, 4, 5, 6]);
        for stop_after in 1..=6 {
            // Run until `stop_after` items, keep the last checkpoint, resume, repeat.
            let mut seen = Vec::new();
            let mut from = start.clone();
            loop {
                let items: Vec<Checkpointed<u32>> = checkpointed(read_from(&from), from.clone())
                    .take(stop_after)
                    .try_collect()
                    .await
                    .unwrap();
                let Some(last) = items.last() else { break };
                from = last.checkpoint.clone();
                seen.extend(items.into_iter().map(|c| c.item));
                if from.is_done() {
                    break;
                }
            }
            assert_eq!(seen, whole, "stopping after every {stop_after} items");
        }
    }

    #[test]
    fn read_ids_are_stable_and_distinguish_parameters() {
        let a = Checkpoint::read_id("sds.observations", &[("sensorId", "s1"), ("metric", "T")]);
        assert_eq!(
            a,
            Checkpoint::read_id("sds.observations", &[("sensorId", "s1"), ("metric", "T")])
        );
        assert_ne!(
            a,
            Checkpoint::read_id("sds.observations", &[("sensorId", "s2"), ("metric", "T")])
        );
        assert!(a.starts_with("sds.observations/"));
        // The digest does not depend on the machine or the Rust version.
        assert_eq!(Checkpoint::read_id("x", &[]), "x/e3b0c44298fc1c14");
        assert_eq!(a, "sds.observations/9bbdd726ae1a7279");
    }

    #[test]
    fn read_ids_of_values_holding_separators_do_not_collide() {
        let id = |parameters: &[(&str, &str)]| Checkpoint::read_id("x", parameters);
        assert_ne!(id(&[("a", "1\nb=2")]), id(&[("a", "1"), ("b", "2")]));
        assert_ne!(id(&[("a=b", "c")]), id(&[("a", "b=c")]));
        assert_ne!(id(&[("a", "1:b")]), id(&[("a", "1"), ("", "b")]));
    }

    #[test]
    fn another_version_or_read_is_refused() {
        let mut checkpoint = Checkpoint::new("a/1", Position::Done);
        assert!(checkpoint.check("a/1").is_ok());
        assert!(checkpoint.check("a/2").is_err());
        checkpoint.version = 2;
        assert_eq!(
            checkpoint.check("a/1").unwrap_err().kind(),
            crate::ErrorKind::Config
        );
    }

    #[test]
    fn positions_serialise_with_a_tag() {
        let checkpoint = Checkpoint::new(
            "w/1",
            Position::Window {
                from: "2026-01-01T00:00:00Z".parse().unwrap(),
                skip: 2,
            },
        )
        .with_state(serde_json::json!({"length_s": 3600}));
        let text = serde_json::to_string(&checkpoint).unwrap();
        assert_eq!(
            text,
            r#"{"version":1,"read":"w/1","position":{"kind":"window","from":"2026-01-01T00:00:00Z","skip":2},"state":{"length_s":3600}}"#
        );
    }
}
