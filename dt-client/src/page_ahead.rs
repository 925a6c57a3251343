//! One page of a token-paged list fetched ahead: while a page is decoded, the request
//! of the next one (whose token the page's text names) is already on its way, on a task
//! of its own, so that a long read waits for each response while it decodes the last,
//! not after. At most one request of a read is in flight at any time: the next one
//! starts only once a page's body has arrived.

use client_core::bytes::Bytes;
use client_core::decode::fast_json::{FlatValue, flat_value, scan_members};
use client_core::{Cursor, RequestBuilder};
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::error::Result;

/// The body of the page after the one being decoded, being fetched; none at first, and
/// none in a clone (a clone of a list starts its own read).
#[derive(Default)]
pub(crate) struct PageAhead {
    next: Option<(Cursor, JoinHandle<Result<Bytes>>)>,
}

impl PageAhead {
    /// Starts fetching the page at `cursor` with `request`, on a task of its own (not
    /// without a tokio runtime to spawn on: the page is then fetched when asked for).
    pub(crate) fn start(&mut self, cursor: Cursor, request: RequestBuilder) {
        self.cancel();
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        let fetch = async move { Ok(request.send_buffered().await?.bytes().await?) };
        let task = tokio::spawn(fetch.instrument(tracing::Span::current()));
        self.next = Some((cursor, task));
    }

    /// The body of the page at `cursor` if it is the one fetched ahead (awaited here),
    /// `None` otherwise (anything fetched ahead is then dropped).
    pub(crate) async fn take(&mut self, cursor: Option<&Cursor>) -> Option<Result<Bytes>> {
        let (ahead, _) = self.next.as_ref()?;
        if Some(ahead) != cursor {
            self.cancel();
            return None;
        }
        let (_, task) = self.next.take()?;
        match task.await {
            Ok(body) => Some(body),
            Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            // Only `cancel` aborts the task, and then nobody awaits it: ask again.
            Err(_) => None,
        }
    }

    fn cancel(&mut self) {
        if let Some((_, task)) = self.next.take() {
            task.abort();
        }
    }
}

impl Drop for PageAhead {
    fn drop(&mut self) {
        self.cancel();
    }
}

impl Clone for PageAhead {
    fn clone(&self) -> Self {
        PageAhead::default()
    }
}

impl std::fmt::Debug for PageAhead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageAhead")
            .field("next", &self.next.as_ref().map(|(cursor, _)| cursor))
            .finish()
    }
}

/// The `nextPageToken` of a page document, found without decoding its items (the text
/// of the member `items` is only stepped over): `None` on the last page, and whenever
/// the text is not one this quick look is sure of. Only a guess to fetch ahead on: the
/// page's own decoding decides which page comes next.
pub(crate) fn next_token(body: &[u8]) -> Option<String> {
    let mut token = None;
    scan_members(body, |key, text| {
        let (value, length) = flat_value(text)?;
        if key == "nextPageToken" {
            let FlatValue::Str(value) = value else {
                return None;
            };
            token = Some(value);
        }
        Some(length)
    })?;
    token.filter(|token| !token.is_empty()).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_token_is_found_without_decoding_the_items() {
        let page = br#"{"events":[{"a":[1,{"nextPageToken":"inner"}]}],"nextPageToken":"t2"}"#;
        assert_eq!(next_token(page).as_deref(), Some("t2"));
        assert_eq!(
            next_token(br#"{"nextPageToken":"t3","events":[]}"#).as_deref(),
            Some("t3")
        );
        for last in [
            &br#"{"events":[],"nextPageToken":""}"#[..],
            br#"{"events":[]}"#,
            br#"{"nextPageToken":null}"#,
            br#"{"nextPageToken":"t\u0032"}"#,
            b"not json",
        ] {
            assert_eq!(next_token(last), None, "{}", String::from_utf8_lossy(last));
        }
    }
}
