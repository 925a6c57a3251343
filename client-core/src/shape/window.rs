//! One window of a windowed read: what `.pages()` yields where the client, not the API,
//! cuts a long range into requests.

use jiff::Timestamp;

use super::checkpoint::Checkpoint;

/// The items of one window `[from, to)` of a range the client cut into requests
/// (Conduit's 31-day windows, Preventos' budget windows), after trimming to the window:
/// each item of the range is in exactly one window.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Window<T> {
    /// The window's start (inclusive).
    pub from: Timestamp,
    /// The window's end (exclusive).
    pub to: Timestamp,
    /// The items, in the order the read yields them.
    pub items: Vec<T>,
    /// The requests this window took (a window answered at a cap or refused as too
    /// large is asked for again, smaller).
    pub requests: u64,
    /// Where the read stands after this window: store it with what you made of the
    /// window, and give it to the request's `resume_from` to go on from there.
    pub checkpoint: Option<Checkpoint>,
}

impl<T> Window<T> {
    /// The window `[from, to)` with `items`, read in `requests` requests.
    pub fn new(from: Timestamp, to: Timestamp, items: Vec<T>, requests: u64) -> Self {
        Window {
            from,
            to,
            items,
            requests,
            checkpoint: None,
        }
    }

    /// The same window, with where the read stands after it.
    pub fn with_checkpoint(mut self, checkpoint: Option<Checkpoint>) -> Self {
        self.checkpoint = checkpoint;
        self
    }

    /// The same window with each item converted, or the first conversion's error.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Window<U>, E> {
        Ok(Window {
            from: self.from,
            to: self.to,
            items: self.items.into_iter().map(f).collect::<Result<_, _>>()?,
            requests: self.requests,
            checkpoint: self.checkpoint,
        })
    }
}

impl<T> IntoIterator for Window<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}
