//! The list request: the builder behind
//! [`Client::data_connectors`](crate::Client::data_connectors) and, with their filters,
//! [`Client::projects`](crate::Client::projects) and
//! [`Client::devices`](crate::Client::devices).

use futures::TryStreamExt;
use serde::de::DeserializeOwned;

use client_core::{Page, RecordStream, RequestPreview};

use crate::error::{Error, Result};
use crate::paging::TokenPages;

/// A list request: [`List::stream`] gives every item of every page, [`List::pages`] the
/// pages, [`List::send`] the first page. Generic over the item type (`records::<U>()`
/// decodes into your own type). A page token that comes again is
/// [`ClientError::RepeatedPage`](crate::ClientError::RepeatedPage), not a loop.
///
/// ```no_run
/// use dt_client::prelude::*;
///
/// # async fn run(client: dt_client::Client) -> Result<(), dt_client::Error> {
/// let mut projects = client.projects().page_size(100).stream();
/// while let Some(project) = projects.try_next().await? {
///     println!("{} {:?}", project.name, project.display_name);
/// }
/// let request = client.data_connectors("my-project").to_request()?;
/// assert_eq!(request.query_value("pageSize"), Some("1000"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a list does nothing until it is sent or streamed"]
pub struct List<T> {
    pages: TokenPages<T>,
}

impl<T: DeserializeOwned + Send + 'static> List<T> {
    pub(crate) fn new(pages: TokenPages<T>) -> Self {
        List { pages }
    }

    /// Appends a query parameter to every page's request (call again with the same name
    /// for a repeated key, as DT's list parameters are). For the lists of
    /// [`Client::list`](crate::Client::list); the modelled lists have a method for each
    /// of their parameters. `pageSize` and `pageToken` are the list's own: naming one
    /// is refused when sent ([`ClientError::InvalidRequest`](crate::ClientError::InvalidRequest)).
    pub fn param(mut self, name: &str, value: impl Into<String>) -> Self {
        self.pages.param(name, value);
        self
    }

    /// The page size to ask for (default the client's). 0 is refused when sent.
    pub fn page_size(mut self, size: u32) -> Self {
        self.pages.set_page_size(size);
        self
    }

    /// Decodes items into `U` instead.
    pub fn records<U: DeserializeOwned + Send + 'static>(self) -> List<U> {
        List {
            pages: self.pages.retype(),
        }
    }

    /// The first page's request, without sending it.
    pub fn to_request(&self) -> Result<RequestPreview> {
        self.pages.to_request()
    }

    /// The first page.
    pub async fn send(self) -> Result<Page<T>> {
        let first = self.pages().try_next().await?;
        first.ok_or_else(|| Error::decode("the list answered no page"))
    }

    /// Every page, until the one without a `nextPageToken`.
    pub fn pages(self) -> RecordStream<Page<T>, Error> {
        self.pages.paginator().pages()
    }

    /// Every item of every page, in order.
    pub fn stream(self) -> RecordStream<T, Error> {
        self.pages.paginator().stream()
    }
}

client_core::verbs! {
    impl[T: DeserializeOwned + Send + 'static] List<T> {
        error: Error;
        send: Page<T>;
        stream: T;
        pages: Page<T>;
    }
}

/// The terminals of a filtered list that wraps a [`List`] in its field `list`:
/// `page_size`, `records`, `to_request`, `send`, `pages`, `stream`, and the verbs' traits.
macro_rules! list_terminals {
    ($query:ident, $item:literal) => {
        impl<T: serde::de::DeserializeOwned + Send + 'static> $query<T> {
            /// The page size to ask for (default the client's). 0 is refused when sent.
            pub fn page_size(self, size: u32) -> Self {
                $query {
                    list: self.list.page_size(size),
                }
            }

            #[doc = concat!("Decodes ", $item, "s into `U` instead.")]
            pub fn records<U: serde::de::DeserializeOwned + Send + 'static>(self) -> $query<U> {
                $query {
                    list: self.list.records(),
                }
            }

            /// The first page's request, without sending it.
            pub fn to_request(&self) -> $crate::error::Result<client_core::RequestPreview> {
                self.list.to_request()
            }

            /// The first page.
            pub async fn send(self) -> $crate::error::Result<client_core::Page<T>> {
                self.list.send().await
            }

            /// Every page.
            pub fn pages(self) -> client_core::RecordStream<client_core::Page<T>, $crate::error::Error> {
                self.list.pages()
            }

            #[doc = concat!("Every ", $item, " of every page, in order.")]
            pub fn stream(self) -> client_core::RecordStream<T, $crate::error::Error> {
                self.list.stream()
            }
        }

        client_core::verbs! {
            impl[T: serde::de::DeserializeOwned + Send + 'static] $query<T> {
                error: $crate::error::Error;
                send: client_core::Page<T>;
                stream: T;
                pages: client_core::Page<T>;
            }
        }
    };
}
pub(crate) use list_terminals;
