//! How the Sensor Data simulator reads what its document leaves open: what `pageTotal`
//! counts, whether `pageSize` is honoured or capped (and how a capped server offsets its
//! pages, and whether `pageTotal` counts pages of the size asked for or used), whether
//! removed observations leave holes in pages, whether `page` counts from 0 or 1,
//! whether `startDate`/`endDate` are
//! inclusive, whether lists come bare, under their key or in pages linked by
//! `_links.next`, and which timestamps a cut data query keeps.

/// What `pageTotal` counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PageTotal {
    /// The number of pages (the default).
    #[default]
    Pages,
    /// The number of observations.
    Observations,
}

/// How a server that caps `pageSize` finds page `n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CapOffset {
    /// At `n` times the size it used (the default).
    #[default]
    EffectiveSize,
    /// At `n` times the size it was asked for, serving only the capped count from there:
    /// a client that keeps asking for more than the cap skips observations.
    RequestedSize,
}

/// The readings the simulator plays. The default: `pageTotal` counts pages, `pageSize`
/// honoured up to 10,000, pages counted from 0, both ends inclusive, lists whole under
/// their key, cut data queries keeping the oldest timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Readings {
    /// What `pageTotal` counts.
    pub page_total: PageTotal,
    /// The most observations a page holds, whatever was asked for.
    pub page_size_cap: u32,
    /// How a capped server offsets pages.
    pub cap_offset: CapOffset,
    /// Whether `pageTotal` counted as pages counts pages of the size asked for (`true`)
    /// rather than of the size used (`false`, the default): a capped server then
    /// announces fewer pages than it serves.
    pub page_total_of_requested_size: bool,
    /// Whether removed observations keep their place in pages (a store that marks them
    /// removed and drops them after cutting the page): pages before the last can hold
    /// fewer observations than asked for, even none, and `pageTotal` counts the removed
    /// ones too. By default removed observations are gone before pages are cut.
    pub removals_leave_holes: bool,
    /// Whether the response's `pageSize` reports the size used (`true`) or the size asked
    /// for (`false`).
    pub report_effective_size: bool,
    /// Whether an observation exactly at `startDate` is included.
    pub start_inclusive: bool,
    /// Whether an observation exactly at `endDate` is included.
    pub end_inclusive: bool,
    /// Whether `page` counts from 1: page 0 then answers no observations (with the
    /// `pageTotal` of the whole range), page 1 the first ones.
    pub one_based_pages: bool,
    /// Whether lists come bare (`[...]`) rather than under their key (`{"sensors": [...]}`).
    pub bare_lists: bool,
    /// Lists (data sources, sensors, nodes) in pages of this many items, under their key
    /// (even with [`Readings::bare_lists`]: a bare list has nowhere to put the link), each
    /// page but the last with `_links.next.href` pointing at the next one on the
    /// simulator's origin (the same query with `$skip`). `None`: whole lists.
    pub list_page_size: Option<usize>,
    /// Whether a data query cut at the limit keeps the latest timestamps rather than the
    /// oldest.
    pub data_cap_keeps_newest: bool,
}

impl Default for Readings {
    fn default() -> Self {
        Readings {
            page_total: PageTotal::Pages,
            page_size_cap: 10_000,
            cap_offset: CapOffset::EffectiveSize,
            page_total_of_requested_size: false,
            removals_leave_holes: false,
            report_effective_size: true,
            one_based_pages: false,
            start_inclusive: true,
            end_inclusive: true,
            bare_lists: false,
            list_page_size: None,
            data_cap_keeps_newest: false,
        }
    }
}

impl Readings {
    /// Sets what `pageTotal` counts.
    pub fn with_page_total(mut self, total: PageTotal) -> Self {
        self.page_total = total;
        self
    }

    /// Caps pages at `cap` observations, offsetting pages as `offset` says.
    pub fn with_page_size_cap(mut self, cap: u32, offset: CapOffset) -> Self {
        self.page_size_cap = cap.max(1);
        self.cap_offset = offset;
        self
    }

    /// Counts `pageTotal` (as pages) in pages of the size asked for, whatever the cap.
    pub fn with_page_total_of_requested_size(mut self) -> Self {
        self.page_total_of_requested_size = true;
        self
    }

    /// Lets removed observations keep their place in pages (holes, even empty pages).
    pub fn with_removals_leaving_holes(mut self) -> Self {
        self.removals_leave_holes = true;
        self
    }

    /// Reports the size asked for rather than the size used.
    pub fn reporting_requested_size(mut self) -> Self {
        self.report_effective_size = false;
        self
    }

    /// Sets whether each end of a range is inclusive.
    pub fn with_ends(mut self, start_inclusive: bool, end_inclusive: bool) -> Self {
        self.start_inclusive = start_inclusive;
        self.end_inclusive = end_inclusive;
        self
    }

    /// Counts pages from 1 (page 0 is empty).
    pub fn with_one_based_pages(mut self) -> Self {
        self.one_based_pages = true;
        self
    }

    /// Sends lists bare.
    pub fn with_bare_lists(mut self) -> Self {
        self.bare_lists = true;
        self
    }

    /// Sends lists in pages of `size` items (at least 1) linked by `_links.next.href`.
    pub fn with_linked_list_pages(mut self, size: usize) -> Self {
        self.list_page_size = Some(size.max(1));
        self
    }

    /// Cuts data queries to their latest timestamps.
    pub fn with_data_cap_keeping_newest(mut self) -> Self {
        self.data_cap_keeps_newest = true;
        self
    }

    /// The inclusive millisecond bounds a `[startDate, endDate]` request selects.
    pub(crate) fn bounds(&self, start_ms: i64, end_ms: i64) -> (i64, i64) {
        let low = if self.start_inclusive {
            start_ms
        } else {
            start_ms + 1
        };
        let high = if self.end_inclusive { end_ms } else { end_ms - 1 };
        (low, high)
    }

    /// `(offset, count, reported pageSize)` of page `page` asked with `size`.
    pub(crate) fn page_window(&self, page: u64, size: u32) -> (u64, u32, u32) {
        let effective = size.min(self.page_size_cap).max(1);
        let reported = if self.report_effective_size {
            effective
        } else {
            size
        };
        let index = match (self.one_based_pages, page) {
            // A 1-based server has nothing at page 0.
            (true, 0) => return (0, 0, reported),
            (true, page) => page - 1,
            (false, page) => page,
        };
        let stride = match self.cap_offset {
            CapOffset::EffectiveSize => effective,
            CapOffset::RequestedSize => size.max(1),
        };
        (index.saturating_mul(u64::from(stride)), effective, reported)
    }

    /// `pageTotal` for `total` observations in pages of `size` (as asked): of the size
    /// used, or asked for under [`Readings::page_total_of_requested_size`].
    pub(crate) fn page_total(&self, total: u64, size: u32) -> u64 {
        match self.page_total {
            PageTotal::Observations => total,
            PageTotal::Pages if self.page_total_of_requested_size => total.div_ceil(u64::from(size.max(1))),
            PageTotal::Pages => total.div_ceil(u64::from(size.min(self.page_size_cap).max(1))),
        }
    }
}
