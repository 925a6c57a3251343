//! DT's lists: `pageSize` and `pageToken` in, `nextPageToken` out (`""` on the last
//! page), as a stream of pages and a stream of items.

use std::marker::PhantomData;

use futures::StreamExt;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use client_core::{HttpClient, RecordStream};

use crate::error::{DtError, Error};

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items, in the server's order.
    pub items: Vec<T>,
    /// The token of the next page; empty on the last.
    pub next_page_token: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", bound = "T: DeserializeOwned")]
struct WirePage<T> {
    // Empty lists may be left out, as protobuf JSON does.
    #[serde(
        default,
        alias = "devices",
        alias = "events",
        alias = "dataConnectors",
        alias = "projects"
    )]
    items: Vec<T>,
    #[serde(default)]
    next_page_token: String,
}

/// A list request; [`List::stream`] gives every item of every page, [`List::pages`] the
/// pages. Generic over the item type (`records::<U>()` decodes into your own type).
#[must_use = "a list does nothing until it is streamed"]
pub struct List<T> {
    http: HttpClient,
    path: String,
    query: Vec<(String, String)>,
    page_size: u32,
    item: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for List<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("List")
            .field("path", &self.path)
            .field("query", &self.query)
            .field("page_size", &self.page_size)
            .finish()
    }
}

impl<T: DeserializeOwned + Send + 'static> List<T> {
    pub(crate) fn new(http: HttpClient, path: String, query: Vec<(String, String)>, page_size: u32) -> Self {
        List {
            http,
            path,
            query,
            page_size,
            item: PhantomData,
        }
    }

    /// The page size to ask for (default the client's).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size.max(1);
        self
    }

    /// Decodes items into `U` instead.
    pub fn records<U: DeserializeOwned + Send + 'static>(self) -> List<U> {
        List::new(self.http, self.path, self.query, self.page_size)
    }

    /// Every page, until the one whose `nextPageToken` is empty. A token repeated by the
    /// page after it is [`DtError::RepeatedPageToken`] rather than a loop.
    pub fn pages(self) -> RecordStream<Page<T>, Error> {
        RecordStream::new(async_stream::try_stream! {
            let mut token = String::new();
            loop {
                let mut request = self.http.get(&self.path);
                for (name, value) in &self.query {
                    request = request.query(name, value);
                }
                request = request.query("pageSize", self.page_size.to_string());
                if !token.is_empty() {
                    request = request.query("pageToken", &token);
                }
                let page: WirePage<T> = request.json_response().await?;
                let next = page.next_page_token;
                if !next.is_empty() && next == token {
                    Err(Error::Api(DtError::RepeatedPageToken { token: next.clone() }))?;
                }
                let last = next.is_empty();
                yield Page { items: page.items, next_page_token: next.clone() };
                if last {
                    break;
                }
                token = next;
            }
        })
    }

    /// Every item of every page, in order.
    pub fn stream(self) -> RecordStream<T, Error> {
        let pages = self.pages();
        RecordStream::new(pages.flat_map(|page| {
            let items: Vec<Result<T, Error>> = match page {
                Ok(page) => page.items.into_iter().map(Ok).collect(),
                Err(err) => vec![Err(err)],
            };
            futures::stream::iter(items)
        }))
    }
}
