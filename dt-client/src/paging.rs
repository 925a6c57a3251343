//! DT's paging as a [`PageSource`]: `pageSize` and `pageToken` in, `nextPageToken` out
//! (`""` or absent on the last page). The [`Paginator`] follows the tokens.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use client_core::shape::Fetched;
use client_core::{Cursor, HttpClient, Page, PageSource, Paginator, RequestBuilder, RequestPreview};

use crate::error::{Error, Result};

/// One of DT's paged lists: a path, its query, the page size, and the member of the page
/// document that holds the items (`devices`, `events`, `projects`, `dataConnectors`).
#[derive(Debug, Clone)]
pub(crate) struct TokenPages<T> {
    http: HttpClient,
    path: String,
    items: &'static str,
    query: Vec<(String, String)>,
    page_size: u32,
    state: Value,
    item: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned + Send + 'static> TokenPages<T> {
    /// The list at `path` whose pages hold their items in `items`.
    pub(crate) fn new(http: &HttpClient, path: String, items: &'static str, page_size: u32) -> Self {
        TokenPages {
            http: http.clone(),
            path,
            items,
            query: Vec::new(),
            page_size,
            state: Value::Null,
            item: PhantomData,
        }
    }

    /// The state every checkpoint of this list holds (what a resumed read needs to ask
    /// exactly what the first run asked).
    pub(crate) fn set_state(&mut self, state: Value) {
        self.state = state;
    }

    /// Appends a query parameter (list parameters are repeated keys).
    pub(crate) fn param(&mut self, name: &str, value: impl Into<String>) {
        self.query.push((name.to_owned(), value.into()));
    }

    /// Sets the page size (0 is refused when sent).
    pub(crate) fn set_page_size(&mut self, size: u32) {
        self.page_size = size;
    }

    /// The same list, decoding items into `U`.
    pub(crate) fn retype<U>(self) -> TokenPages<U> {
        TokenPages {
            http: self.http,
            path: self.path,
            items: self.items,
            query: self.query,
            page_size: self.page_size,
            state: self.state,
            item: PhantomData,
        }
    }

    /// The request of the page at `cursor` (`None`: the first).
    fn request(&self, cursor: Option<&Cursor>) -> Result<RequestBuilder> {
        if self.page_size == 0 {
            return Err(Error::invalid_request("the page size must be at least 1"));
        }
        let mut request = self.http.get(&self.path);
        for (name, value) in &self.query {
            request = request.query(name, value);
        }
        request = request.query("pageSize", self.page_size.to_string());
        match cursor {
            None => Ok(request),
            Some(Cursor::Token(token)) => Ok(request.query("pageToken", token)),
            Some(other) => Err(Error::invalid_request(format!(
                "DT pages by token, not by {other:?}"
            ))),
        }
    }

    /// The first page's request, without sending it.
    pub(crate) fn to_request(&self) -> Result<RequestPreview> {
        Ok(self.request(None)?.to_request()?)
    }

    /// The paginator over every page.
    pub(crate) fn paginator(self) -> Paginator<Self> {
        Paginator::new(self)
    }
}

impl<T: DeserializeOwned + Send + 'static> PageSource for TokenPages<T> {
    type Item = T;
    type Error = Error;

    fn fetch<'a>(&'a mut self, cursor: Option<&'a Cursor>) -> BoxFuture<'a, Result<Fetched<T>>> {
        Box::pin(async move {
            let response = self.request(cursor)?.send_buffered().await?;
            let body = response.bytes().await?;
            Ok(Fetched::new(page_of(&body, self.items)?))
        })
    }

    fn state(&self) -> Value {
        self.state.clone()
    }
}

/// Reads a page document: the items from the member `items` (left out when empty, as
/// protobuf JSON does), the next page from `nextPageToken`, and every other member into
/// [`Page::meta`]. The items are decoded from their own text, so that a record type
/// keeping the text as sent (`RawEvent`) gets it byte for byte.
pub(crate) fn page_of<T: DeserializeOwned + 'static>(body: &[u8], items: &str) -> Result<Page<T>> {
    let decode = |e: serde_json::Error| Error::decode(format!("a page of {items}: {e}"));
    let mut members: BTreeMap<String, &RawValue> =
        serde_json::from_slice(client_core::decode::skip_bom(body)).map_err(decode)?;
    let list: Vec<T> = match members.remove(items) {
        // Events of the usual shape are read straight from the text.
        Some(raw) if raw.get() != "null" => {
            let fast = client_core::decode::fast_path::<T, crate::Event>();
            client_core::decode::fast_json::vec_from_slice_fast(raw.get().as_bytes(), fast).map_err(decode)?
        }
        _ => Vec::new(),
    };
    let meta: Map<String, Value> = members
        .into_iter()
        .map(|(name, raw)| Ok((name, serde_json::from_str(raw.get()).map_err(decode)?)))
        .collect::<Result<_>>()?;
    let next = meta
        .get("nextPageToken")
        .and_then(Value::as_str)
        .filter(|token| !token.is_empty())
        .map(|token| Cursor::Token(token.to_owned()));
    Ok(Page::new(list).with_next(next).with_meta(meta))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_reads_its_items_token_and_other_members() {
        let page: Page<u32> = page_of(
            br#"{"devices":[1,2],"nextPageToken":"t2","totalSize":9}"#,
            "devices",
        )
        .unwrap();
        assert_eq!(page.items, [1, 2]);
        assert_eq!(page.next, Some(Cursor::Token("t2".into())));
        assert_eq!(page.meta["totalSize"], 9);
        assert_eq!(page.meta["nextPageToken"], "t2");
        for last in [r#"{"nextPageToken":""}"#, r#"{"devices":null}"#, "{}"] {
            let page: Page<u32> = page_of(last.as_bytes(), "devices").unwrap();
            assert!(page.is_last() && page.is_empty(), "{last}");
        }
        assert!(matches!(
            page_of::<u32>(br#"{"devices":[true]}"#, "devices"),
            Err(Error::Decode(_))
        ));
    }
}
