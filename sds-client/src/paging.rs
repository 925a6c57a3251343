//! Which page to ask for next, and when to stop, under every reading of the document's
//! `page`/`pageSize`/`pageTotal`.
//!
//! The document shows the three members but not their meaning. The rules here are right
//! whichever way a server reads them:
//!
//! - **`pageTotal`** may count pages or observations. The list ends when an empty page
//!   comes, or when both readings agree that nothing is left (this page is the last by
//!   number, *and* as many observations as the total have been seen). Each reading's own
//!   condition is necessary for it, so stopping never comes early; at worst one empty
//!   page is asked for.
//! - **`pageSize`** may be honoured or capped. When the first page holds fewer
//!   observations than asked for, later pages ask for that many: whether the server
//!   offsets pages by the size it was asked for or by the size it used, page `n` then
//!   starts at observation `n * size`, so nothing is skipped.
//! - A page identical to the previous one (a server that ignores `page`, or clamps it to
//!   the last page) is an error, never followed.

use crate::error::SdsError;

/// What identifies a page's content cheaply: its length and the text of its first and
/// last observations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    count: usize,
    first: String,
    last: String,
}

impl Fingerprint {
    pub(crate) fn of(observations: &[&str]) -> Option<Fingerprint> {
        Some(Fingerprint {
            count: observations.len(),
            first: (*observations.first()?).to_owned(),
            last: (*observations.last()?).to_owned(),
        })
    }
}

/// The paging state of one query.
#[derive(Debug)]
pub(crate) struct Pager {
    size: u32,
    next: u64,
    seen: u64,
    previous: Option<Fingerprint>,
    done: bool,
}

impl Pager {
    /// Starts at page 0 asking for `size` observations a page.
    pub(crate) fn new(size: u32) -> Pager {
        Pager {
            size: size.max(1),
            next: 0,
            seen: 0,
            previous: None,
            done: false,
        }
    }

    /// The next `(page, pageSize)` to ask for, or `None` when the list is complete.
    pub(crate) fn next_request(&self) -> Option<(u64, u32)> {
        (!self.done).then_some((self.next, self.size))
    }

    /// Takes in the answer to the last request: `count` observations identified by
    /// `fingerprint` (`None` when empty), and the `pageTotal` the server sent.
    pub(crate) fn accept(
        &mut self,
        count: usize,
        fingerprint: Option<Fingerprint>,
        page_total: Option<u64>,
    ) -> Result<(), SdsError> {
        let page = self.next;
        let Some(fingerprint) = fingerprint else {
            self.done = true;
            return Ok(());
        };
        if self.previous.as_ref() == Some(&fingerprint) {
            self.done = true;
            return Err(SdsError::RepeatedPage { page });
        }
        self.previous = Some(fingerprint);
        self.seen += count as u64;
        if page == 0 && count < self.size as usize {
            // Fewer than asked for: either all there is, or the server's cap. Asking for
            // exactly this many from now on is right in both cases.
            self.size = u32::try_from(count).unwrap_or(u32::MAX).max(1);
        }
        self.next = page + 1;
        if let Some(total) = page_total {
            let last_by_pages = self.next >= total;
            let last_by_observations = self.seen >= total;
            if last_by_pages && last_by_observations {
                self.done = true;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(first: i64, count: usize) -> Option<Fingerprint> {
        Some(Fingerprint {
            count,
            first: first.to_string(),
            last: (first + count as i64 - 1).to_string(),
        })
    }

    /// Plays a server holding `total` observations that caps pages at `cap`, offsets by
    /// the requested (or effective) size and reports `pageTotal` as pages or
    /// observations; returns the observation indices the pager collected and the number
    /// of requests.
    fn play(
        total: u64,
        asked: u32,
        cap: u32,
        offset_by_requested: bool,
        total_is_pages: bool,
    ) -> (Vec<u64>, u32) {
        let mut pager = Pager::new(asked);
        let mut got = Vec::new();
        let mut requests = 0;
        while let Some((page, size)) = pager.next_request() {
            requests += 1;
            assert!(requests < 10_000, "looped");
            let effective = size.min(cap) as u64;
            let offset = page
                * if offset_by_requested {
                    size as u64
                } else {
                    effective
                };
            let items: Vec<u64> = (offset..total).take(effective as usize).collect();
            let page_total = if total_is_pages {
                total.div_ceil(effective)
            } else {
                total
            };
            got.extend(&items);
            let fingerprint = items.first().map(|f| fp(*f as i64, items.len()).unwrap());
            pager.accept(items.len(), fingerprint, Some(page_total)).unwrap();
        }
        (got, requests)
    }

    #[test]
    fn every_reading_yields_every_observation_once() {
        for total in [0, 1, 999, 1000, 1001, 25_000] {
            for (asked, cap) in [(1000, u32::MAX), (1000, 300), (10_000, 1000), (7, 7)] {
                for offset_by_requested in [false, true] {
                    for total_is_pages in [false, true] {
                        let (got, _) = play(total, asked, cap, offset_by_requested, total_is_pages);
                        assert_eq!(
                            got,
                            (0..total).collect::<Vec<_>>(),
                            "total {total} asked {asked} cap {cap} requested-offset {offset_by_requested} pages {total_is_pages}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn page_total_as_pages_costs_no_extra_request() {
        assert_eq!(play(25_000, 1000, u32::MAX, false, true).1, 25);
        // Counting observations needs one empty page to be sure.
        assert_eq!(play(25_000, 1000, u32::MAX, false, false).1, 26);
    }

    #[test]
    fn a_repeated_page_is_an_error() {
        let mut pager = Pager::new(2);
        pager.accept(2, fp(0, 2), None).unwrap();
        assert!(matches!(
            pager.accept(2, fp(0, 2), None),
            Err(SdsError::RepeatedPage { page: 1 })
        ));
        assert_eq!(pager.next_request(), None);
    }

    #[test]
    fn without_page_total_an_empty_page_ends_the_list() {
        let mut pager = Pager::new(2);
        pager.accept(2, fp(0, 2), None).unwrap();
        assert_eq!(pager.next_request(), Some((1, 2)));
        pager.accept(0, None, None).unwrap();
        assert_eq!(pager.next_request(), None);
    }
}
