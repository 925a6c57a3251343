//! The one paginator: page tokens, page numbers and link continuations, as a stream of
//! pages and a stream of items, refusing a server whose paging does not advance.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::hash::{Hash, Hasher};

use futures::StreamExt;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::checkpoint::{Checkpoint, Position};
use crate::decode::RecordStream;
use crate::error::{Error, ErrorKind};

/// Where a page is read from: what the request for it carries.
///
/// Its `Debug` shows a [`Cursor::Link`] without its query: a next link may carry a
/// signature or token there. (Serialised into a checkpoint, it is kept whole, since the
/// read resumes from it.)
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Cursor {
    /// An opaque page token (DT's `pageToken`, from the previous page's
    /// `nextPageToken`).
    Token(String),
    /// A page number and the page size asked for with it (SDS's `page`/`pageSize`).
    Number {
        /// The page number, as the API counts it.
        page: u64,
        /// The page size asked for.
        size: u32,
    },
    /// A link to the next page (`_links.next.href`), on the API's origin.
    Link(String),
}

impl fmt::Debug for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cursor::Token(token) => f.debug_tuple("Token").field(token).finish(),
            Cursor::Number { page, size } => f
                .debug_struct("Number")
                .field("page", page)
                .field("size", size)
                .finish(),
            Cursor::Link(link) => f
                .debug_tuple("Link")
                .field(&crate::transport::redact_url_text(link))
                .finish(),
        }
    }
}

/// One page of a paged answer: its items, where it was read from, what leads to the
/// next page, and the page-level members the server sent beside the items.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items, in the server's order.
    pub items: Vec<T>,
    /// Where this page was read from; `None` for the first page.
    pub cursor: Option<Cursor>,
    /// Where the next page is; `None` on the last page.
    pub next: Option<Cursor>,
    /// The other members of the page document, as sent (SDS's `pageTotal`, `metric`,
    /// `unit`; DT's `nextPageToken`), for callers that want them.
    pub meta: Map<String, Value>,
    /// Where the read stands after this page: store it with what you made of the page,
    /// and give it to the request's `resume_from` to go on from there. `None` for a read
    /// that cannot be resumed.
    pub checkpoint: Option<Checkpoint>,
}

impl<T> Page<T> {
    /// A page of `items`, with no cursor, no next page and no members.
    pub fn new(items: Vec<T>) -> Self {
        Page {
            items,
            cursor: None,
            next: None,
            meta: Map::new(),
            checkpoint: None,
        }
    }

    /// The same page, read from `cursor`.
    pub fn with_cursor(mut self, cursor: Option<Cursor>) -> Self {
        self.cursor = cursor;
        self
    }

    /// The same page, leading to `next`.
    pub fn with_next(mut self, next: Option<Cursor>) -> Self {
        self.next = next;
        self
    }

    /// The same page, with the page document's other members.
    pub fn with_meta(mut self, meta: Map<String, Value>) -> Self {
        self.meta = meta;
        self
    }

    /// The same page, with where the read stands after it.
    pub fn with_checkpoint(mut self, checkpoint: Option<Checkpoint>) -> Self {
        self.checkpoint = checkpoint;
        self
    }

    /// Whether no page follows.
    pub fn is_last(&self) -> bool {
        self.next.is_none()
    }

    /// The number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the page holds no item.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The same page with each item converted.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            cursor: self.cursor,
            next: self.next,
            meta: self.meta,
            checkpoint: self.checkpoint,
        }
    }

    /// The same page with each item converted, or the first conversion's error.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<Result<_, _>>()?,
            cursor: self.cursor,
            next: self.next,
            meta: self.meta,
            checkpoint: self.checkpoint,
        })
    }
}

impl<T> IntoIterator for Page<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

/// A page as fetched, with a fingerprint of its content for the paginator's check that
/// pages advance.
#[derive(Debug)]
#[non_exhaustive]
pub struct Fetched<T> {
    /// The page.
    pub page: Page<T>,
    /// A hash of the page's content ([`fingerprint`]); a page whose fingerprint equals
    /// the previous page's is a repeated page. `None` skips the check.
    pub fingerprint: Option<u64>,
}

impl<T> Fetched<T> {
    /// A fetched page without a fingerprint.
    pub fn new(page: Page<T>) -> Self {
        Fetched {
            page,
            fingerprint: None,
        }
    }

    /// The same, with the fingerprint of the page's content (its items' text, say).
    pub fn with_fingerprint(mut self, fingerprint: u64) -> Self {
        self.fingerprint = Some(fingerprint);
        self
    }
}

/// A hash of `content` for [`Fetched::with_fingerprint`], stable within the process.
pub fn fingerprint(content: &[u8]) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    content.hash(&mut hasher);
    hasher.finish()
}

/// The `_links.next.href` of a page document (the iTwin Platform's continuation), as a
/// [`Cursor::Link`]; `None` when absent, null or empty.
pub fn next_link(document: &Map<String, Value>) -> Option<Cursor> {
    let href = document.get("_links")?.get("next")?.get("href")?.as_str()?;
    (!href.trim().is_empty()).then(|| Cursor::Link(href.to_owned()))
}

/// How a client crate fetches one page of one of its lists: the API's paging scheme
/// (which parameters carry the cursor, where the next one is in the answer, when a list
/// ends) is the crate's; following the pages is the [`Paginator`]'s.
pub trait PageSource: Send + 'static {
    /// The item type.
    type Item: Send + 'static;
    /// The client crate's error.
    type Error: From<Error> + Send + 'static;

    /// Fetches the page at `cursor` (`None`: the first page). The returned page's
    /// [`Page::next`] says where the next page is; `None` ends the list.
    fn fetch<'a>(
        &'a mut self,
        cursor: Option<&'a Cursor>,
    ) -> BoxFuture<'a, Result<Fetched<Self::Item>, Self::Error>>;

    /// The source's own paging state after the pages fetched so far (an SDS pager's
    /// page size and count), kept in checkpoints; `null` when it has none.
    fn state(&self) -> Value {
        Value::Null
    }

    /// Takes back a state [`PageSource::state`] gave, when a read resumes.
    fn restore(&mut self, state: &Value) -> Result<(), Error> {
        let _ = state;
        Ok(())
    }

    /// The `api` label under which the paginator counts each page's items in
    /// [`metrics::RECORDS`](crate::metrics::RECORDS); `None`, the default, counts nothing.
    fn metrics_label(&self) -> Option<&'static str> {
        None
    }
}

/// Follows the pages of a [`PageSource`], as a stream of pages ([`Paginator::pages`]) or
/// of items ([`Paginator::stream`]), the way every list of every client is read.
///
/// It refuses to loop: a next cursor that was already read (a page token or link that
/// comes again, within the last 10,000 pages) and a page whose content repeats the page
/// before it both end the stream with an [`ErrorKind::RepeatedPage`] error. A repeated
/// page is not yielded; a page whose *next* cursor was already read is yielded (its
/// content is new) and the error follows it.
///
/// Nothing is sent until the stream is polled.
#[derive(Debug)]
#[must_use = "a paginator does nothing until its stream is polled"]
pub struct Paginator<S> {
    source: S,
    start: Option<Cursor>,
    read: Option<String>,
}

/// How many cursors are remembered to find a cycle: enough for any real list, bounded
/// against a server that invents a new token for ever.
const REMEMBERED_CURSORS: usize = 10_000;

impl<S: PageSource> Paginator<S> {
    /// A paginator starting at the first page.
    pub fn new(source: S) -> Self {
        Paginator {
            source,
            start: None,
            read: None,
        }
    }

    /// Starts at `cursor` instead of the first page.
    pub fn start_at(mut self, cursor: Option<Cursor>) -> Self {
        self.start = cursor;
        self
    }

    /// Names the read (see [`Checkpoint::read_id`]): every page then carries the
    /// [`Checkpoint`] after it.
    pub fn checkpoints(mut self, read: impl Into<String>) -> Self {
        self.read = Some(read.into());
        self
    }

    /// Resumes from `checkpoint` (of this read, named with
    /// [`Paginator::checkpoints`]): starts at its page with the source's state as it
    /// was. The items of that page already yielded are dropped by
    /// [`resume_pages`](crate::shape::resume_pages) on the client crate's final pages.
    /// A checkpoint of another read, or not at a page, is a configuration error.
    pub fn resume_from(mut self, checkpoint: &Checkpoint) -> Result<Self, Error> {
        let read = self
            .read
            .as_deref()
            .ok_or_else(|| Error::config("name the read (checkpoints) before resuming it"))?;
        checkpoint.check(read)?;
        self.start = match &checkpoint.position {
            Position::Start => None,
            Position::Page { cursor, .. } => cursor.clone(),
            other => {
                return Err(Error::config(format!(
                    "a paged read resumes from a page, not from {other:?}"
                )));
            }
        };
        self.source.restore(&checkpoint.state)?;
        Ok(self)
    }

    /// Every page, in order, until the last.
    pub fn pages(self) -> RecordStream<Page<S::Item>, S::Error> {
        let Paginator {
            mut source,
            start,
            read,
        } = self;
        RecordStream::new(async_stream::try_stream! {
            let mut cursor = start;
            let mut seen = Remembered::default();
            if let Some(start) = &cursor {
                seen.insert(start.clone());
            }
            let mut previous: Option<u64> = None;
            let mut pages = 0u64;
            loop {
                let fetched = source.fetch(cursor.as_ref()).await?;
                let mut page = fetched.page;
                page.cursor = cursor.clone();
                if let (Some(now), Some(before)) = (fetched.fingerprint, previous) {
                    if now == before && !page.items.is_empty() {
                        Err(S::Error::from(repeated(format!(
                            "page {} repeats the page before it",
                            describe(cursor.as_ref())
                        ))))?;
                    }
                }
                previous = fetched.fingerprint;
                pages += 1;
                if let Some(api) = source.metrics_label() {
                    crate::metrics::records(api, page.items.len() as u64);
                }
                let next = page.next.clone();
                if let Some(read) = &read {
                    let position = match &next {
                        Some(next) => Position::Page { cursor: Some(next.clone()), skip: 0 },
                        None => Position::Done,
                    };
                    page.checkpoint = Some(Checkpoint::new(read.clone(), position).with_state(source.state()));
                }
                let cycle = next.as_ref().filter(|next| !seen.insert((*next).clone())).cloned();
                yield page;
                if let Some(again) = cycle {
                    Err(S::Error::from(repeated(format!(
                        "after {pages} pages the server pointed again at page {}",
                        describe(Some(&again))
                    ))))?;
                }
                match next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
        })
    }

    /// Every item of every page, in order.
    pub fn stream(self) -> RecordStream<S::Item, S::Error> {
        RecordStream::new(self.pages().flat_map(|page| {
            let items: Vec<Result<S::Item, S::Error>> = match page {
                Ok(page) => page.items.into_iter().map(Ok).collect(),
                Err(err) => vec![Err(err)],
            };
            futures::stream::iter(items)
        }))
    }
}

fn repeated(message: String) -> Error {
    Error::new(ErrorKind::RepeatedPage, message)
}

fn describe(cursor: Option<&Cursor>) -> String {
    match cursor {
        None => "1 (the first)".to_owned(),
        Some(Cursor::Token(token)) => format!("token `{token}`"),
        Some(Cursor::Number { page, .. }) => format!("number {page}"),
        Some(Cursor::Link(link)) => format!("link `{}`", crate::transport::redact_url_text(link)),
    }
}

/// The last [`REMEMBERED_CURSORS`] cursors.
#[derive(Default)]
struct Remembered {
    set: HashSet<Cursor>,
    order: VecDeque<Cursor>,
}

impl Remembered {
    /// Whether `cursor` is new (and remembers it).
    fn insert(&mut self, cursor: Cursor) -> bool {
        if self.set.contains(&cursor) {
            return false;
        }
        if self.order.len() >= REMEMBERED_CURSORS {
            if let Some(oldest) = self.order.pop_front() {
                self.set.remove(&oldest);
            }
        }
        self.order.push_back(cursor.clone());
        self.set.insert(cursor);
        true
    }
}

#[cfg(test)]
mod tests {
    use futures::TryStreamExt;

    use super::*;

    #[test]
    fn a_link_cursor_is_shown_without_its_query_and_kept_whole_in_json() {
        let cursor = Cursor::Link("https://api.example/v1/items?page=2&sig=SECRET-SIG".into());
        let shown = format!("{cursor:?}");
        assert!(
            shown.starts_with("Link(\"https://api.example/v1/items"),
            "{shown}"
        );
        assert!(!shown.contains("SECRET-SIG"), "{shown}");
        let json = serde_json::to_string(&cursor).unwrap();
        assert!(
            json.contains("SECRET-SIG"),
            "a checkpoint resumes from the whole link"
        );
        assert_eq!(
            format!("{:?}", Cursor::Number { page: 2, size: 10 }),
            "Number { page: 2, size: 10 }"
        );
    }

    /// A list served as fixed pages; each page names its next cursor.
    struct Fixed {
        pages: Vec<(Option<Cursor>, Vec<u32>, Option<Cursor>)>,
        requests: Vec<Option<Cursor>>,
    }

    impl PageSource for Fixed {
        type Item = u32;
        type Error = Error;

        fn fetch<'a>(&'a mut self, cursor: Option<&'a Cursor>) -> BoxFuture<'a, Result<Fetched<u32>, Error>> {
            self.requests.push(cursor.cloned());
            let found = self
                .pages
                .iter()
                .find(|(at, _, _)| at.as_ref() == cursor)
                .cloned();
            Box::pin(async move {
                let (_, items, next) = found.ok_or_else(|| Error::decode("no such page"))?;
                let text = format!("{items:?}");
                Ok(Fetched::new(Page::new(items).with_next(next))
                    .with_fingerprint(fingerprint(text.as_bytes())))
            })
        }
    }

    fn token(t: &str) -> Option<Cursor> {
        Some(Cursor::Token(t.to_owned()))
    }

    #[tokio::test]
    async fn tokens_are_followed_until_there_is_no_next_page() {
        let source = Fixed {
            pages: vec![
                (None, vec![1, 2], token("a")),
                (token("a"), vec![], token("b")),
                (token("b"), vec![3], None),
            ],
            requests: Vec::new(),
        };
        let items: Vec<u32> = Paginator::new(source).stream().try_collect().await.unwrap();
        assert_eq!(items, vec![1, 2, 3]);
    }

    #[tokio::test]
    async fn pages_know_where_they_were_read_from() {
        let source = Fixed {
            pages: vec![(None, vec![1], token("a")), (token("a"), vec![2], None)],
            requests: Vec::new(),
        };
        let pages: Vec<Page<u32>> = Paginator::new(source).pages().try_collect().await.unwrap();
        assert_eq!(pages[0].cursor, None);
        assert_eq!(pages[1].cursor, token("a"));
        assert!(pages[1].is_last());
    }

    #[tokio::test]
    async fn a_token_that_points_at_its_own_page_is_a_repeated_page() {
        let source = Fixed {
            pages: vec![(None, vec![1], token("a")), (token("a"), vec![2], token("a"))],
            requests: Vec::new(),
        };
        let results: Vec<Result<u32, Error>> = Paginator::new(source).stream().collect().await;
        assert_eq!(results.len(), 3, "{results:?}");
        assert_eq!(results[1].as_ref().unwrap(), &2, "the page's own content is new");
        assert_eq!(results[2].as_ref().unwrap_err().kind(), ErrorKind::RepeatedPage);
    }

    #[tokio::test]
    async fn a_cycle_of_tokens_is_a_repeated_page() {
        let source = Fixed {
            pages: vec![
                (None, vec![1], token("a")),
                (token("a"), vec![2], token("b")),
                (token("b"), vec![3], token("a")),
            ],
            requests: Vec::new(),
        };
        let err = Paginator::new(source)
            .stream()
            .try_collect::<Vec<_>>()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::RepeatedPage);
        assert!(err.message().contains("token `a`"), "{err}");
    }

    #[tokio::test]
    async fn a_page_that_repeats_the_one_before_is_refused_and_not_yielded() {
        let number = |page| Some(Cursor::Number { page, size: 2 });
        let source = Fixed {
            pages: vec![
                (None, vec![1, 2], number(1)),
                // A server that ignores `page` answers the same page again.
                (number(1), vec![1, 2], number(2)),
            ],
            requests: Vec::new(),
        };
        let results: Vec<Result<u32, Error>> = Paginator::new(source).stream().collect().await;
        assert_eq!(results.len(), 3);
        assert_eq!(results[2].as_ref().unwrap_err().kind(), ErrorKind::RepeatedPage);
    }

    #[tokio::test]
    async fn links_are_followed_and_a_start_cursor_is_honoured() {
        let link = |l: &str| Some(Cursor::Link(l.to_owned()));
        let source = Fixed {
            pages: vec![
                (None, vec![1], link("https://api/x?page=2")),
                (
                    link("https://api/x?page=2"),
                    vec![2],
                    link("https://api/x?page=3"),
                ),
                (link("https://api/x?page=3"), vec![3], None),
            ],
            requests: Vec::new(),
        };
        let items: Vec<u32> = Paginator::new(source)
            .start_at(link("https://api/x?page=2"))
            .stream()
            .try_collect()
            .await
            .unwrap();
        assert_eq!(items, vec![2, 3]);
    }

    #[test]
    fn next_links_are_read_from_links_next_href() {
        let document: Map<String, Value> =
            serde_json::from_str(r#"{"_links":{"next":{"href":"https://api.bentley.com/x?$skip=2"}}}"#)
                .unwrap();
        assert_eq!(
            next_link(&document),
            Some(Cursor::Link("https://api.bentley.com/x?$skip=2".into()))
        );
        let none: Map<String, Value> = serde_json::from_str(r#"{"_links":{"next":null}}"#).unwrap();
        assert_eq!(next_link(&none), None);
    }

    #[test]
    fn cursors_round_trip_through_serde() {
        for cursor in [
            Cursor::Token("t".into()),
            Cursor::Number { page: 3, size: 1000 },
            Cursor::Link("https://api/x".into()),
        ] {
            let text = serde_json::to_string(&cursor).unwrap();
            assert_eq!(serde_json::from_str::<Cursor>(&text).unwrap(), cursor);
        }
    }
}
