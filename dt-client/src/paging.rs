//! DT's paging as a [`PageSource`]: `pageSize` and `pageToken` in, `nextPageToken` out
//! (`""` or absent on the last page). The [`Paginator`] follows the tokens.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::marker::PhantomData;

use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use client_core::decode::FastPath;
use client_core::decode::fast_json::{
    FlatValue, array_fast_at, flat_value, insert_other_at, only_whitespace, scan_members, vec_from_slice_fast,
};
use client_core::shape::Fetched;
use client_core::{Cursor, HttpClient, Page, PageSource, Paginator, RequestBuilder, RequestPreview};

use crate::error::{Error, Result};
use crate::page_ahead::{PageAhead, next_token};

/// One of DT's paged lists: a path, its query, the page size, and the member of the page
/// document that holds the items (`devices`, `events`, `projects`, `dataConnectors`).
#[derive(Debug, Clone)]
pub(crate) struct TokenPages<T> {
    http: HttpClient,
    path: String,
    items: Cow<'static, str>,
    query: Vec<(String, String)>,
    page_size: u32,
    state: Value,
    /// Whether the next page is fetched while a page is decoded (see [`PageAhead`]).
    read_ahead: bool,
    /// Whether a page without the items member but with another array is an error (a
    /// list of [`Client::list`](crate::Client::list), whose items key the caller gave).
    strict_items: bool,
    ahead: PageAhead,
    item: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned + Send + 'static> TokenPages<T> {
    /// The list at `path` whose pages hold their items in `items`.
    pub(crate) fn new(
        http: &HttpClient,
        path: String,
        items: impl Into<Cow<'static, str>>,
        page_size: u32,
    ) -> Self {
        TokenPages {
            http: http.clone(),
            path,
            items: items.into(),
            query: Vec::new(),
            page_size,
            state: Value::Null,
            read_ahead: false,
            strict_items: false,
            ahead: PageAhead::default(),
            item: PhantomData,
        }
    }

    /// Fetches each page after the second while the one before it is decoded (one
    /// request in flight at a time still; a read stopped early may have asked for the
    /// page after the last one it took). Off by default; the first page is never
    /// followed ahead, so that `send` stays one request.
    pub(crate) fn read_ahead(&mut self, on: bool) {
        self.read_ahead = on;
    }

    /// Makes a page that lacks the items member but holds another array an error (see
    /// [`TokenPages::strict_items`]).
    pub(crate) fn strict_items(&mut self) {
        self.strict_items = true;
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
            read_ahead: self.read_ahead,
            strict_items: self.strict_items,
            ahead: PageAhead::default(),
            item: PhantomData,
        }
    }

    /// The request of the page at `cursor` (`None`: the first).
    fn request(&self, cursor: Option<&Cursor>) -> Result<RequestBuilder> {
        if self.page_size == 0 {
            return Err(Error::invalid_request("the page size must be at least 1"));
        }
        if let Some((name, _)) = self
            .query
            .iter()
            .find(|(name, _)| name == "pageSize" || name == "pageToken")
        {
            return Err(Error::invalid_request(format!(
                "`{name}` is the list's own parameter: set the page size with page_size, and let the list follow its page tokens"
            )));
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
            let body = match self.ahead.take(cursor).await {
                Some(body) => body?,
                None => self.request(cursor)?.send_buffered().await?.bytes().await?,
            };
            // From the second page on, the next page's request goes out now, and its
            // response arrives while this page is decoded.
            if self.read_ahead && cursor.is_some() {
                if let Some(token) = next_token(client_core::decode::skip_bom(&body)) {
                    let next = Cursor::Token(token);
                    self.ahead.start(next.clone(), self.request(Some(&next))?);
                }
            }
            let page = page_of(&body, &self.items)?;
            if self.strict_items && page.items.is_empty() {
                missing_items(&body, &self.items, &page.meta)?;
            }
            Ok(Fetched::new(page))
        })
    }

    fn state(&self) -> Value {
        self.state.clone()
    }

    fn metrics_label(&self) -> Option<&'static str> {
        Some(crate::client::METRICS_LABEL)
    }
}

/// Reads a page document: the items from the member `items` (left out when empty, as
/// protobuf JSON does), the next page from `nextPageToken`, and every other member into
/// [`Page::meta`]. The items are decoded from their own text, so that a record type
/// keeping the text as sent (`RawEvent`) gets it byte for byte.
pub(crate) fn page_of<T: DeserializeOwned + 'static>(body: &[u8], items: &str) -> Result<Page<T>> {
    let body = client_core::decode::skip_bom(body);
    // Events of the usual shape are read straight from the text, the page too.
    let fast = client_core::decode::fast_path::<T, crate::Event>()
        .or_else(|| client_core::decode::fast_path::<T, crate::history_event::PageEvent>());
    let (list, meta) = match fast.and_then(|fast| fast_page(body, items, fast)) {
        Some(page) => page,
        None => serde_page(body, items, fast)?,
    };
    let next = meta
        .get("nextPageToken")
        .and_then(Value::as_str)
        .filter(|token| !token.is_empty())
        .map(|token| Cursor::Token(token.to_owned()));
    Ok(Page::new(list).with_next(next).with_meta(meta))
}

/// A page with no items: an error when its document lacks the member `items` but holds
/// another array, whose name is most likely the items key meant.
fn missing_items(body: &[u8], items: &str, meta: &Map<String, Value>) -> Result<()> {
    let members: BTreeMap<String, serde::de::IgnoredAny> =
        serde_json::from_slice(client_core::decode::skip_bom(body))
            .map_err(|e| Error::decode(format!("a page of {items}: {e}")))?;
    if members.contains_key(items) {
        return Ok(());
    }
    match meta.iter().find(|(_, value)| value.is_array()) {
        Some((name, _)) => Err(Error::decode(format!(
            "the page has no member `{items}` but an array `{name}`: is `{name}` the items key?"
        ))),
        None => Ok(()),
    }
}

/// The page's items and other members, by serde (the items by the fast path where it is
/// sure of all of them).
fn serde_page<T: DeserializeOwned>(
    body: &[u8],
    items: &str,
    fast: Option<FastPath<T>>,
) -> Result<(Vec<T>, Map<String, Value>)> {
    let decode = |e: serde_json::Error| Error::decode(format!("a page of {items}: {e}"));
    let mut members: BTreeMap<String, &RawValue> = serde_json::from_slice(body).map_err(decode)?;
    let list: Vec<T> = match members.remove(items) {
        Some(raw) if raw.get() != "null" => {
            vec_from_slice_fast(raw.get().as_bytes(), fast).map_err(decode)?
        }
        _ => Vec::new(),
    };
    let meta: Map<String, Value> = members
        .into_iter()
        .map(|(name, raw)| Ok((name, serde_json::from_str(raw.get()).map_err(decode)?)))
        .collect::<Result<_>>()?;
    Ok((list, meta))
}

/// The page's items and other members in one pass over the text, when the fast path is
/// sure of all of it: what [`serde_page`] gives, or `None` for it to decide. A repeated
/// member (serde keeps the last) is left to serde too.
fn fast_page<T>(body: &[u8], items: &str, fast: FastPath<T>) -> Option<(Vec<T>, Map<String, Value>)> {
    let mut list = None;
    let mut meta = Map::new();
    let end = scan_members(body, |key, text| {
        if key != items {
            return insert_other_at(&mut meta, key, text);
        }
        if list.is_some() {
            return None;
        }
        let (items, length) = match text.first() {
            Some(b'n') => match flat_value(text)? {
                (FlatValue::Null, length) => (Vec::new(), length),
                _ => return None,
            },
            // The items straight from the text, in this pass.
            _ => array_fast_at(text, fast)?,
        };
        list = Some(items);
        Some(length)
    })?;
    only_whitespace(body, end).then(|| (list.unwrap_or_default(), meta))
}

/// Checks the fast page against serde on one body, for tests and the fuzz target: where
/// [`fast_page`] reads a page of [`Event`](crate::Event)s, serde must read the same
/// events (compared by `Debug`, which tells every two doubles apart) and members.
/// Returns whether the fast path took the body, or what differed.
pub(crate) fn check_fast_page(body: &[u8]) -> std::result::Result<bool, String> {
    let Some(fast) = client_core::decode::fast_path::<crate::Event, crate::Event>() else {
        return Ok(false);
    };
    let Some(by_fast) = fast_page(body, "events", fast) else {
        return Ok(false);
    };
    let text = String::from_utf8_lossy(body);
    match serde_page::<crate::Event>(body, "events", None) {
        Ok(by_serde) if format!("{by_serde:?}") == format!("{by_fast:?}") => Ok(true),
        Ok(by_serde) => Err(format!("fast {by_fast:?} but serde {by_serde:?} from {text}")),
        Err(e) => Err(format!("fast {by_fast:?} but serde fails ({e}) on {text}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_of_events_read_fast_as_serde_reads_them() {
        let lines: Vec<&str> = sandbox::fast_json::CORPUS.lines().collect();
        let mut bodies: Vec<String> = lines
            .iter()
            .map(|line| format!(r#"{{"events":[{line}],"nextPageToken":"t"}}"#))
            .collect();
        bodies.push(format!(
            r#"{{"events":[{}],"nextPageToken":""}}"#,
            lines.join(",")
        ));
        let usual = *lines
            .iter()
            .find(|line| line.starts_with(r#"{"eventId":"e1","#))
            .expect("the corpus's usual temperature event");
        bodies.extend([
            format!(r#" {{ "nextPageToken" : "t" , "events" : [ {usual} , {usual} ] }} "#),
            format!(r#"{{"events":[{usual}],"totalSize":{{"a":[1,2.50]}}}}"#),
            r#"{"events":null,"nextPageToken":"t"}"#.to_owned(),
            "{}".to_owned(),
            format!(r#"{{"events":[{usual}],"events":[]}}"#),
            format!(r#"{{"events":[{usual}],"nextPageToken":"t","nextPageToken":"u"}}"#),
            format!(r#"{{"events":[{usual}],"nextPageToken":"\u0074"}}"#),
            format!(r#"{{"events":[{usual}]}} x"#),
            format!(r#"{{"events":[{usual},]}}"#),
            format!(r#"{{"events":{usual}}}"#),
            r#"{"events":"none"}"#.to_owned(),
        ]);
        let mut taken = 0;
        for body in &bodies {
            taken += usize::from(
                check_fast_page(body.as_bytes()).unwrap_or_else(|difference| panic!("{difference}")),
            );
        }
        assert!(taken >= 5, "the fast page took only {taken} bodies");
        // Pages of generated events, one to three of them.
        use proptest::prelude::*;
        use sandbox::fast_json::{DT_EVENT, objects, on_generated};
        // Mostly events the fast path takes (the corpus's), so that whole pages are taken.
        let usual: Vec<String> = lines
            .iter()
            .filter(|line| {
                client_core::decode::fast_json::check_fast_path::<crate::Event>(line.as_bytes()) == Ok(true)
            })
            .map(|line| line.to_string())
            .collect();
        let event = prop_oneof![3 => proptest::sample::select(usual), 1 => objects(DT_EVENT)];
        let pages = proptest::collection::vec(event, 1..4)
            .prop_map(|events| format!(r#"{{"events":[{}],"nextPageToken":"t"}}"#, events.join(",")));
        let taken = on_generated(pages, 1000, check_fast_page);
        assert!(taken >= 150, "the fast page took only {taken} of 1000 pages");
    }

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
