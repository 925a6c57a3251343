//! Observation pages asked for ahead of the paging: pages are numbered, so once a
//! `pageTotal` bounds how many follow, the next few can be in flight while the current
//! one is read. The paging still decides every page it reads; a page fetched ahead is
//! used only when the paging asks for exactly that `(page, pageSize)`.

use std::collections::VecDeque;

use bytes::Bytes;
use tokio::task::JoinHandle;
use tracing::Instrument;

use client_core::RequestBuilder;

use crate::error::Result;

/// The most observation pages in flight at once, whatever the query asks for: each
/// holds a body of up to about 400 KB.
pub const MAX_PAGE_CONCURRENCY: usize = 32;

/// One page's body on its way, on a task of its own so that it arrives while the
/// consumer works; dropping it cancels the request.
struct Ahead {
    page: u64,
    size: u32,
    body: JoinHandle<Result<Bytes>>,
}

impl Drop for Ahead {
    fn drop(&mut self) {
        self.body.abort();
    }
}

/// The pages in flight ahead of the paging, in page order: at most `limit` bodies.
pub(crate) struct PagesAhead {
    limit: usize,
    queue: VecDeque<Ahead>,
}

impl PagesAhead {
    /// Up to `limit` pages in flight (1: none ahead, each page asked for when read),
    /// at most [`MAX_PAGE_CONCURRENCY`].
    pub(crate) fn new(limit: usize) -> Self {
        PagesAhead {
            limit: limit.clamp(1, MAX_PAGE_CONCURRENCY),
            queue: VecDeque::new(),
        }
    }

    /// The body of `(page, size)`: the one fetched ahead, or `request` sent now. Pages
    /// fetched ahead that are not the one asked for are dropped (cancelled).
    pub(crate) async fn body(
        &mut self,
        page: u64,
        size: u32,
        request: impl FnOnce() -> RequestBuilder,
    ) -> Result<Bytes> {
        while let Some(head) = self.queue.pop_front() {
            if (head.page, head.size) == (page, size) {
                let mut head = head;
                match (&mut head.body).await {
                    Ok(Ok(body)) => return Ok(body),
                    // It failed while nobody waited for it (its retries may have run out
                    // long ago): ask again now, with the retry policy's full budget.
                    Ok(Err(err)) => {
                        tracing::debug!(page, %err, "a page fetched ahead failed; asking for it again");
                        break;
                    }
                    Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
                    Err(_) => break,
                }
            }
            // A guess the paging did not follow: everything after it is off too.
            self.queue.clear();
        }
        fetch(request()).await
    }

    /// Starts the pages after `next` (the page the paging asks for next, of `size`) up
    /// to `last`, so that `limit` are in flight with it; `request` makes a page's
    /// request. Nothing beyond `last`, nor without a runtime to run it on.
    pub(crate) fn fill(
        &mut self,
        next: u64,
        size: u32,
        last: u64,
        request: impl Fn(u64, u32) -> RequestBuilder,
    ) {
        if self.limit < 2 || tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        if self
            .queue
            .front()
            .is_some_and(|head| (head.page, head.size) != (next, size))
        {
            self.queue.clear();
        }
        let mut page = match self.queue.back() {
            Some(tail) => tail.page.checked_add(1),
            None => Some(next),
        };
        while let Some(at) = page.filter(|at| self.queue.len() < self.limit && *at <= last) {
            let body = tokio::spawn(fetch(request(at, size)).instrument(tracing::Span::current()));
            self.queue.push_back(Ahead { page: at, size, body });
            page = at.checked_add(1);
        }
    }
}

/// Sends `request` and reads its whole body.
async fn fetch(request: RequestBuilder) -> Result<Bytes> {
    Ok(request.send_buffered().await?.bytes().await?)
}
