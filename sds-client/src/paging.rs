//! Which observations page to ask for next, and when to stop, under every reading of the
//! document's `page`/`pageSize`/`pageTotal`.
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
//! - **`page`** may count from 0 or from 1. Page 0 is asked for first; a 1-based server
//!   answers it empty while its `pageTotal` says there is data (or says nothing), and
//!   page 1 is asked for next. Pages are then counted from the first that held data.
//!
//! A page that repeats the previous one (a server that ignores `page`) is refused by the
//! paginator, which compares the pages' fingerprints.

/// The paging state of one observations query.
#[derive(Debug)]
pub(crate) struct Pager {
    size: u32,
    first_with_data: Option<u64>,
    seen: u64,
}

impl Pager {
    /// Paging with `size` observations a page.
    pub(crate) fn new(size: u32) -> Pager {
        Pager {
            size: size.max(1),
            first_with_data: None,
            seen: 0,
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
            let one_based = page == 0 && self.first_with_data.is_none() && page_total != Some(0);
            return one_based.then_some((1, self.size));
        }
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
            if last_by_pages && last_by_observations {
                return None;
            }
        }
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
                self.total.div_ceil(size.min(self.cap) as u64)
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
                    for total_is_pages in [false, true] {
                        for one_based in [false, true] {
                            let server = Server {
                                total,
                                cap,
                                offset_by_requested,
                                total_is_pages,
                                one_based,
                            };
                            let (got, _) = play(&server, asked);
                            assert_eq!(
                                got,
                                (0..total).collect::<Vec<_>>(),
                                "total {total} asked {asked} cap {cap} requested-offset {offset_by_requested} pages {total_is_pages} 1-based {one_based}"
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
            one_based,
        };
        assert_eq!(play(&server(true, false), 1000).1, 25);
        // Counting observations needs one empty page to be sure.
        assert_eq!(play(&server(false, false), 1000).1, 26);
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
            None,
            "an empty page after data ends the list"
        );
    }
}
