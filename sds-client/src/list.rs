//! The lists of an iTwin (data sources, sensors, nodes) as one request builder, read
//! bare or under their key, and followed along `_links.next` when the server pages them.

use std::marker::PhantomData;

use futures::TryStreamExt;
use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use client_core::http::Method;
use client_core::shape::{Fetched, fingerprint, next_link};
use client_core::{Cursor, Page, PageSource, Paginator, RecordStream, RequestBuilder, RequestPreview};

use crate::client::Client;
use crate::error::{Error, Needs, Result};

/// `GET` of one of an iTwin's lists (`datasources`, `sensors`, `integrations/nodes`),
/// built by [`Client::datasources`], [`Client::sensors`] and [`Client::nodes`].
///
/// The list is read bare (`[...]`) or under its key (`{"sensors": [...]}`, or the only
/// array member under another key); when the answer holds `_links.next.href`, the next
/// page is read from that link (on the API's origin only: the client's credentials never
/// leave it), until an answer without one. The other members of each answer are in
/// [`Page::meta`].
///
/// Terminals: [`send`](Self::send) (the first page), [`stream`](Self::stream) (every
/// item), [`pages`](Self::pages) and [`to_request`](Self::to_request).
///
/// An empty list can also mean that the caller is not a member of the iTwin.
///
/// ```no_run
/// use sds_client::Client;
/// use sds_client::prelude::*;
///
/// # async fn run() -> Result<(), sds_client::Error> {
/// let client = Client::from_env()?;
/// let itwin = "28ba3a8e-bf86-47b6-a37c-6600d9e2e328";
/// let sources: Vec<_> = client.datasources(itwin).stream().try_collect().await?;
/// let sensors = client.sensors(itwin).data_source(&sources[0].id);
/// println!("{}", sensors.to_request()?);
/// let first_page = sensors.send().await?;
/// for sensor in first_page {
///     println!("{}", sensor.id);
/// }
/// let mut pages = client.nodes(itwin).pages();
/// while let Some(page) = pages.try_next().await? {
///     println!("{} nodes", page.len());
/// }
/// # Ok(()) }
/// ```
#[must_use = "a request does nothing until it is sent or streamed"]
pub struct List<T> {
    spec: ListSpec,
    item: PhantomData<fn() -> T>,
}

/// Which list of which iTwin, and how to find it in an answer.
#[derive(Clone, Debug)]
struct ListSpec {
    client: Client,
    path: &'static str,
    keys: &'static [&'static str],
    what: &'static str,
    itwin_id: String,
    filters: Vec<(&'static str, String)>,
}

impl<T> List<T> {
    /// The list at `path` of `itwin_id`, found under one of `keys`, named `what` in
    /// messages.
    pub(crate) fn new(
        client: &Client,
        path: &'static str,
        keys: &'static [&'static str],
        what: &'static str,
        itwin_id: String,
    ) -> Self {
        List {
            spec: ListSpec {
                client: client.clone(),
                path,
                keys,
                what,
                itwin_id,
                filters: Vec::new(),
            },
            item: PhantomData,
        }
    }

    /// Adds a query parameter narrowing the list.
    pub(crate) fn filter(mut self, name: &'static str, value: String) -> Self {
        self.spec.filters.push((name, value));
        self
    }
}

impl ListSpec {
    fn needs(&self) -> Needs<'_> {
        Needs::read().on_itwin(&self.itwin_id)
    }

    /// The request of the first page.
    fn first_request(&self) -> RequestBuilder {
        let request = self
            .client
            .http
            .get(self.path)
            .query("iTwinId", &self.itwin_id)
            .query_pairs(self.filters.iter().map(|(name, value)| (*name, value)));
        self.needs().attach(request)
    }

    /// The request of the page a `_links.next.href` points at (relative links are read
    /// against the base URL).
    fn link_request(&self, href: &str) -> Result<RequestBuilder> {
        let url =
            self.client.http.base_url().join(href).map_err(|e| {
                Error::decode(format!("{}: the next page's link is not a URL: {e}", self.what))
            })?;
        Ok(self
            .needs()
            .attach(self.client.http.request_url(Method::GET, url)))
    }
}

impl<T: DeserializeOwned + Send + 'static> List<T> {
    /// Decodes items into `U` instead (your own type, or `serde_json::Value`).
    pub fn records<U: DeserializeOwned + Send + 'static>(self) -> List<U> {
        List {
            spec: self.spec,
            item: PhantomData,
        }
    }

    /// The first request, without sending it.
    pub fn to_request(&self) -> Result<RequestPreview> {
        Ok(self.spec.first_request().to_request()?)
    }

    /// The first page of the list.
    pub async fn send(self) -> Result<Page<T>> {
        let what = self.spec.what;
        self.pages()
            .try_next()
            .await?
            .ok_or_else(|| Error::decode(format!("{what}: the list ended without a page")))
    }

    /// Every item of every page, in the server's order.
    pub fn stream(self) -> RecordStream<T, Error> {
        self.paginator().stream()
    }

    fn paginator(self) -> Paginator<ListPages<T>> {
        Paginator::new(ListPages {
            spec: self.spec,
            item: PhantomData,
        })
    }

    /// Every page, in order, until one without `_links.next`. A link that comes again is
    /// [`Error::RepeatedPage`](crate::ClientError::RepeatedPage).
    pub fn pages(self) -> RecordStream<Page<T>, Error> {
        self.paginator().pages()
    }
}

/// The page source of a list: the first request, then `_links.next`.
struct ListPages<T> {
    spec: ListSpec,
    item: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned + Send + 'static> PageSource for ListPages<T> {
    type Item = T;
    type Error = Error;

    fn fetch<'a>(&'a mut self, cursor: Option<&'a Cursor>) -> BoxFuture<'a, Result<Fetched<T>>> {
        Box::pin(async move {
            let list = &self.spec;
            let request = match cursor {
                None => list.first_request(),
                Some(Cursor::Link(href)) => list.link_request(href)?,
                Some(other) => {
                    return Err(Error::invalid_request(format!(
                        "{} are paged by link, not {other:?}",
                        list.what
                    )));
                }
            };
            let body: Value = request.json_response().await?;
            let (items, meta) = read_list(body, list.keys, list.what)?;
            let text =
                serde_json::to_vec(&items).map_err(|e| Error::decode(format!("{}: {e}", list.what)))?;
            let items = items
                .into_iter()
                .enumerate()
                .map(|(index, item)| {
                    serde_json::from_value(item)
                        .map_err(|e| Error::decode(format!("{}: item {index}: {e}", list.what)))
                })
                .collect::<Result<Vec<T>>>()?;
            let next = next_link(&meta);
            let page = Page::new(items).with_next(next).with_meta(meta);
            Ok(Fetched::new(page).with_fingerprint(fingerprint(&text)))
        })
    }

    fn metrics_label(&self) -> Option<&'static str> {
        Some(crate::client::METRICS_LABEL)
    }
}

/// The items of a list answer and its other members: a bare array, or the first array
/// among `keys` (then any array member, for a renamed key) of an object.
pub(crate) fn read_list(body: Value, keys: &[&str], what: &str) -> Result<(Vec<Value>, Map<String, Value>)> {
    match body {
        Value::Array(items) => Ok((items, Map::new())),
        Value::Object(mut object) => {
            let key = keys
                .iter()
                .find(|k| object.get(**k).is_some_and(Value::is_array))
                .map(|k| (*k).to_owned())
                .or_else(|| object.iter().find(|(_, v)| v.is_array()).map(|(k, _)| k.clone()));
            match key.and_then(|k| object.remove(&k)) {
                Some(Value::Array(items)) => Ok((items, object)),
                _ => Err(Error::decode(format!("{what}: the response holds no list"))),
            }
        }
        _ => Err(Error::decode(format!("{what}: the response is not a list"))),
    }
}

impl<T> Clone for List<T> {
    fn clone(&self) -> Self {
        List {
            spec: self.spec.clone(),
            item: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for List<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("List").field(&self.spec).finish()
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn lists_are_read_bare_under_their_key_or_under_another_key() {
        let keys = &["sensors"];
        let read = |body| read_list(body, keys, "x").map(|(items, meta)| (items, meta.len()));
        assert_eq!(read(json!([1, 2])).unwrap(), (vec![json!(1), json!(2)], 0));
        assert_eq!(
            read(json!({"sensors": [3], "_links": {}})).unwrap(),
            (vec![json!(3)], 1),
            "the other members are kept"
        );
        assert_eq!(read(json!({"items": [4]})).unwrap(), (vec![json!(4)], 0));
        assert!(matches!(read(json!({"a": 1})), Err(Error::Decode(_))));
        assert!(matches!(read(json!("x")), Err(Error::Decode(_))));
    }
}
