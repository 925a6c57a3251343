//! Which observations page to ask for next, and when to stop, under every reading of the
//! document's `page`/`pageSize`/`pageTotal`.
//!
//! The document shows the three members but not their meaning. The rules here are right
//! whichever way a server reads them:
//!
//! - **`pageTotal`** may count pages or observations, and a server that caps `pageSize`
//!   may count its pages of the size it was asked for or of the size it used. A page
//!   with observations ends the list only when every reading agrees that nothing is
//!   left (this page is the last by number, as many observations as the total have been
//!   seen, and, after a short first page, as many as the total's pages of the size
//!   first asked for could hold). Each reading's own condition is necessary for it, so
//!   stopping never comes early.
//! - **An empty page** ends the list when `pageTotal` agrees under both readings (no
//!   page of that number, and as many observations as the total seen), or when the page
//!   after it, asked for to confirm, is empty too: a server that leaves a page empty
//!   while more follow (removed observations keeping their place) loses nothing.
//! - **`pageSize`** may be honoured or capped. When the first page holds fewer
//!   observations than asked for, later pages ask for that many: whether the server
//!   offsets pages by the size it was asked for or by the size it used, page `n` then
//!   starts at observation `n * size`, so nothing is skipped.
//! - **`page`** may count from 0 or from 1. Page 0 is asked for first; a 1-based server
//!   answers it empty while its `pageTotal` says there is data (or says nothing), and
//!   page 1 is asked for next. Pages are then counted from the first that held data.
//!
//! A page that repeats the previous one (a server that ignores `page`) is refused by the
//! paginator, which compares the pages' fingerprints.
//!
//! The pager's state is kept in checkpoints (see [`Pager`]'s serde form), so that a
//! resumed read asks for the same pages an uninterrupted one would.

use serde::{Deserialize, Serialize};

/// The paging state of one observations query: what a checkpoint's `state` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Pager {
    /// The page size asked for now.
    size: u32,
    /// The page size first asked for.
    requested: u32,
    /// The first page that held observations.
    first_with_data: Option<u64>,
    /// Observations seen on the pages so far.
    seen: u64,
    /// Whether the last page was empty: the page asked for now confirms the end.
    confirming: bool,
}

impl Pager {
    /// Paging with `size` observations a page.
    pub(crate) fn new(size: u32) -> Pager {
        let size = size.max(1);
        Pager {
            size,
            requested: size,
            first_with_data: None,
            seen: 0,
            confirming: false,
        }
    }

    /// The first `(page, pageSize)` to ask for.
    pub(crate) fn first(&self) -> (u64, u32) {
        (0, self.size)
    }

    /// Takes in the answer to `page`: `count` observations, and the `pageTotal` the
    /// server sent. Returns the next `(page, pageSize)` to ask for, or `None` when the
    /// list is complete.
    pub(crate) fn accept(&mut self, page: u64, count: usize, page_total: Option<u64>) -> Option<(u64, u32)> {
        if count == 0 {
            return self.accept_empty(page, page_total);
        }
        self.confirming = false;
        let first = *self.first_with_data.get_or_insert(page);
        if page == first && count < self.size as usize {
            // Fewer than asked for: either all there is, or the server's cap. Asking for
            // exactly this many from now on is right in both cases.
            self.size = u32::try_from(count).unwrap_or(u32::MAX).max(1);
        }
        self.seen += count as u64;
        if let Some(total) = page_total {
            let last_by_pages = page - first + 1 >= total;
            let last_by_observations = self.seen >= total;
            // A server that capped the first page may count pages of the size asked
            // for: then only that many pages' worth of observations is sure to be all.
            let last_by_requested_pages =
                self.size == self.requested || self.seen >= total.saturating_mul(u64::from(self.requested));
            if last_by_pages && last_by_observations && last_by_requested_pages {
                return None;
            }
        }
        Some((page + 1, self.size))
    }

    /// The last page that may hold observations under any reading of `pageTotal`, after
    /// `page` was accepted with that total: `None` when the server sent none. Pages up
    /// to it are worth asking for ahead; the paging alone decides what is read.
    pub(crate) fn last_page_bound(&self, page: u64, page_total: Option<u64>) -> Option<u64> {
        let total = page_total?;
        let first = self.first_with_data.unwrap_or(page);
        let size = u64::from(self.size.max(1));
        // Pages of the size asked for, or of the size first asked for served smaller.
        let by_pages = first
            .saturating_add(total.saturating_mul(u64::from(self.requested)).div_ceil(size))
            .saturating_sub(1);
        // Observations: those not yet seen, in pages of the size asked for now.
        let by_observations = page.saturating_add(total.saturating_sub(self.seen).div_ceil(size));
        // The pages reading is out when more pages than the total were already read.
        let pages_possible = page.saturating_sub(first) < total;
        let observations_possible = self.seen <= total;
        match (pages_possible, observations_possible) {
            (true, true) => Some(by_pages.max(by_observations)),
            (true, false) => Some(by_pages),
            (false, true) => Some(by_observations),
            (false, false) => Some(page),
        }
    }

    /// An empty answer to `page`.
    fn accept_empty(&mut self, page: u64, page_total: Option<u64>) -> Option<(u64, u32)> {
        if self.confirming {
            // The page after an empty page is empty too.
            return None;
        }
        let Some(first) = self.first_with_data else {
            // Nothing yet: an empty range, or a server counting pages from 1.
            if page_total == Some(0) {
                return None;
            }
            self.confirming = true;
            return Some((page + 1, self.size));
        };
        if let Some(total) = page_total {
            let none_by_pages = page - first >= total;
            let none_by_observations = self.seen >= total;
            if none_by_pages && none_by_observations {
                return None;
            }
        }
        self.confirming = true;
        Some((page + 1, self.size))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server holding `total` observations, as the sandbox can play it.
    struct Server {
        total: u64,
        cap: u32,
        offset_by_requested: bool,
        total_is_pages: bool,
        /// Whether `pageTotal` as pages counts pages of the size asked for.
        total_from_requested: bool,
        one_based: bool,
    }

    impl Server {
        /// The observation indices of `page` asked with `size`, and `pageTotal`.
        fn answer(&self, page: u64, size: u32) -> (Vec<u64>, u64) {
            let effective = size.min(self.cap) as u64;
            let index = match (self.one_based, page) {
                (true, 0) => return (Vec::new(), self.page_total(size)),
                (true, n) => n - 1,
                (false, n) => n,
            };
            let stride = if self.offset_by_requested {
                size as u64
            } else {
                effective
            };
            let items = (index * stride..self.total).take(effective as usize).collect();
            (items, self.page_total(size))
        }

        fn page_total(&self, size: u32) -> u64 {
            if self.total_is_pages {
                let counted = if self.total_from_requested {
                    size
                } else {
                    size.min(self.cap)
                };
                self.total.div_ceil(counted as u64)
            } else {
                self.total
            }
        }
    }

    /// Plays `server` with a pager asking for `asked`; returns the observation indices
    /// collected and the number of requests.
    fn play(server: &Server, asked: u32) -> (Vec<u64>, u32) {
        let mut pager = Pager::new(asked);
        let mut got = Vec::new();
        let mut requests = 0;
        let mut next = Some(pager.first());
        while let Some((page, size)) = next {
            requests += 1;
            assert!(requests < 10_000, "looped");
            let (items, page_total) = server.answer(page, size);
            got.extend(&items);
            next = pager.accept(page, items.len(), Some(page_total));
        }
        (got, requests)
    }

    #[test]
    fn every_reading_yields_every_observation_once() {
        for total in [0, 1, 999, 1000, 1001, 25_000] {
            for (asked, cap) in [(1000, u32::MAX), (1000, 300), (10_000, 1000), (7, 7)] {
                for offset_by_requested in [false, true] {
                    for (total_is_pages, total_from_requested) in
                        [(false, false), (true, false), (true, true)]
                    {
                        for one_based in [false, true] {
                            let server = Server {
                                total,
                                cap,
                                offset_by_requested,
                                total_is_pages,
                                total_from_requested,
                                one_based,
                            };
                            let (got, _) = play(&server, asked);
                            assert_eq!(
                                got,
                                (0..total).collect::<Vec<_>>(),
                                "total {total} asked {asked} cap {cap} requested-offset {offset_by_requested} pages {total_is_pages} from requested {total_from_requested} 1-based {one_based}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn page_total_as_pages_costs_no_extra_request() {
        let server = |total_is_pages, one_based| Server {
            total: 25_000,
            cap: u32::MAX,
            offset_by_requested: false,
            total_is_pages,
            total_from_requested: false,
            one_based,
        };
        assert_eq!(play(&server(true, false), 1000).1, 25);
        // Counting observations needs an empty page and the one after it to be sure.
        assert_eq!(play(&server(false, false), 1000).1, 27);
        // A 1-based server costs the empty page 0.
        assert_eq!(play(&server(true, true), 1000).1, 26);
    }

    #[test]
    fn an_empty_first_page_ends_the_list_unless_the_server_may_count_from_one() {
        let mut pager = Pager::new(2);
        assert_eq!(pager.accept(0, 0, Some(0)), None);
        let mut pager = Pager::new(2);
        assert_eq!(
            pager.accept(0, 0, None),
            Some((1, 2)),
            "nothing said: page 1 is asked"
        );
        assert_eq!(pager.accept(1, 0, None), None);
        let mut pager = Pager::new(2);
        assert_eq!(pager.accept(0, 2, None), Some((1, 2)));
        assert_eq!(
            pager.accept(1, 0, None),
            Some((2, 2)),
            "an empty page after data is confirmed"
        );
        assert_eq!(pager.accept(2, 0, None), None, "two empty pages end the list");
    }

    #[test]
    fn an_empty_page_ends_the_list_at_once_only_when_both_readings_agree() {
        // 4 observations in pages of 2: pageTotal 2 (pages) or 4 (observations).
        for total in [2, 4] {
            let mut pager = Pager::new(2);
            assert_eq!(pager.accept(0, 2, Some(total)), Some((1, 2)));
            let after = pager.accept(1, 2, Some(total));
            if total == 2 {
                // Both readings agree on a full last page (2 pages, and 4 >= 2).
                assert_eq!(after, None);
                continue;
            }
            assert_eq!(after, Some((2, 2)));
            // 4 as pages says two more pages: one more is asked for.
            assert_eq!(pager.accept(2, 0, Some(total)), Some((3, 2)));
            assert_eq!(pager.accept(3, 0, Some(total)), None);
        }
        // An empty page in the middle, pageTotal saying more remain: read on.
        let mut pager = Pager::new(2);
        assert_eq!(pager.accept(0, 2, Some(4)), Some((1, 2)));
        assert_eq!(pager.accept(1, 0, Some(4)), Some((2, 2)));
        assert_eq!(pager.accept(2, 2, Some(4)), Some((3, 2)));
        assert_eq!(pager.accept(3, 2, Some(4)), None);
    }

    #[test]
    fn a_short_first_page_with_a_total_of_the_requested_size_does_not_stop_early() {
        // 2,893 observations, 1,000 asked for, capped at 250, pageTotal 3 (pages of 1,000).
        let mut pager = Pager::new(1000);
        assert_eq!(pager.accept(0, 250, Some(3)), Some((1, 250)));
        assert_eq!(pager.accept(1, 250, Some(3)), Some((2, 250)));
        assert_eq!(
            pager.accept(2, 250, Some(3)),
            Some((3, 250)),
            "3 pages of 250 are not all"
        );
    }

    #[test]
    fn the_last_page_bound_covers_every_reading_of_the_total() {
        // 2,500 observations in pages of 1,000 from page 0: pageTotal 3 (pages) or 2,500.
        let mut pager = Pager::new(1_000);
        assert_eq!(pager.accept(0, 1_000, Some(3)), Some((1, 1_000)));
        assert_eq!(pager.last_page_bound(0, Some(3)), Some(2));
        let mut counted = Pager::new(1_000);
        counted.accept(0, 1_000, Some(2_500));
        // Pages: up to page 2,499; observations: 1,500 left, two more pages.
        assert_eq!(counted.last_page_bound(0, Some(2_500)), Some(2_499));
        // A first page capped at 250 of 1,000 asked for, pageTotal 3 pages of 1,000.
        let mut capped = Pager::new(1_000);
        capped.accept(0, 250, Some(3));
        assert_eq!(capped.last_page_bound(0, Some(3)), Some(11));
        // More seen than the total: only the pages reading is left.
        let mut pages = Pager::new(10);
        pages.accept(0, 10, Some(4));
        pages.accept(1, 10, Some(4));
        assert_eq!(pages.last_page_bound(1, Some(4)), Some(3));
        assert_eq!(pages.last_page_bound(1, None), None);
    }

    #[test]
    fn the_state_round_trips_through_json() {
        let mut pager = Pager::new(1000);
        pager.accept(0, 250, Some(12));
        let text = serde_json::to_value(&pager).unwrap();
        assert_eq!(
            text,
            serde_json::json!({"size": 250, "requested": 1000, "firstWithData": 0, "seen": 250, "confirming": false})
        );
        assert_eq!(serde_json::from_value::<Pager>(text).unwrap(), pager);
    }
}
