//! How the Conduit simulator reads the points its document leaves open: which 10,000
//! points a capped response holds, whether `fcdt`/`tcdt` are inclusive, the order of a
//! response, when a point is created (what `fcdt`/`tcdt` select) against its
//! `val_date`, what identifies a point, and what a 413 means.

/// Which points a response over the cap holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CapReading {
    /// The 10,000 created first (the default).
    #[default]
    Oldest,
    /// The 10,000 created last.
    Newest,
    /// 10,000 points drawn from the whole window with this seed.
    Arbitrary {
        /// The seed of the draw (the same window gives the same draw).
        seed: u64,
    },
    /// 10,000 points drawn from the whole window afresh for every response: the same
    /// window asked for twice keeps different points.
    Varying {
        /// The seed of the first draw.
        seed: u64,
    },
}

/// Draws made under [`CapReading::Varying`], so each is new.
static VARYING_DRAWS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The order of the points in a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ResponseOrder {
    /// By `val_date`, then device, then channel (the default).
    #[default]
    Ascending,
    /// The reverse.
    Descending,
    /// Shuffled with this seed.
    Shuffled {
        /// The seed of the shuffle.
        seed: u64,
    },
}

/// Points that arrive late: created `delay_seconds` after their `val_date`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LateArrivals {
    /// About one point in `one_in` is late (chosen by a hash of the point).
    pub one_in: u64,
    /// How much later than its `val_date` a late point is created.
    pub delay_seconds: i64,
}

/// Device clocks that run fast or slow: some points carry a `val_date` off their
/// creation time (what `fcdt`/`tcdt` select), ahead of it or behind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockSkew {
    /// About one point in `one_in` is off (chosen by a hash of the point).
    pub one_in: u64,
    /// The most a `val_date` runs ahead of its creation time (seconds).
    pub ahead_seconds: i64,
    /// The most a `val_date` runs behind its creation time (seconds).
    pub behind_seconds: i64,
}

/// The readings the simulator plays; the default is the client's first assumption
/// (oldest 10,000, both ends inclusive, ascending, created at `val_date`, one point per
/// channel and `val_date`, `dev_chid` a number, a capped response rather than a 413).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Readings {
    /// Which points a capped response holds. Default: [`CapReading::Oldest`].
    pub cap: CapReading,
    /// Whether a point created exactly at `fcdt` is selected. Default: `true`.
    pub from_inclusive: bool,
    /// Whether a point created exactly at `tcdt` is selected. Default: `true`.
    pub to_inclusive: bool,
    /// The order of a response. Default: [`ResponseOrder::Ascending`].
    pub order: ResponseOrder,
    /// Points created a fixed delay after their `val_date` (buffered gateways).
    /// Default: none.
    pub late: Option<LateArrivals>,
    /// Points whose `val_date` runs ahead of their creation time or behind it (device
    /// clocks running fast or slow, local time sent as epoch). Default: none.
    pub skew: Option<ClockSkew>,
    /// Points each channel has at each `val_date`, created in the same second, each with
    /// its own value: sub-second sampling (`val_date` is whole seconds), so several
    /// distinct points share `(dev_netid, dev_chid, val_date)`. Default: 1.
    pub samples_per_second: u32,
    /// `dev_chid` written as text (`"2"`) in about half of the points (the same point
    /// always the same way), a number in the others. Default: `false` (always a number).
    pub chid_as_text: bool,
    /// A response that would hold more than this many points is refused with a 413
    /// ("response exceeds limit") instead of being capped. Default: none (capped).
    pub too_large_above: Option<usize>,
}

impl Default for Readings {
    fn default() -> Self {
        Readings {
            cap: CapReading::Oldest,
            from_inclusive: true,
            to_inclusive: true,
            order: ResponseOrder::Ascending,
            late: None,
            skew: None,
            samples_per_second: 1,
            chid_as_text: false,
            too_large_above: None,
        }
    }
}

impl Readings {
    /// Sets the cap reading.
    pub fn with_cap(mut self, cap: CapReading) -> Self {
        self.cap = cap;
        self
    }

    /// Sets whether each end of the range is inclusive.
    pub fn with_ends(mut self, from_inclusive: bool, to_inclusive: bool) -> Self {
        self.from_inclusive = from_inclusive;
        self.to_inclusive = to_inclusive;
        self
    }

    /// Sets the response order.
    pub fn with_order(mut self, order: ResponseOrder) -> Self {
        self.order = order;
        self
    }

    /// Makes some points arrive late.
    pub fn with_late(mut self, late: LateArrivals) -> Self {
        self.late = Some(late);
        self
    }

    /// Makes some points' `val_date` run ahead of their creation time or behind it.
    pub fn with_skew(mut self, skew: ClockSkew) -> Self {
        self.skew = Some(skew);
        self
    }

    /// Sets the points per channel and `val_date` (at least 1).
    pub fn with_samples_per_second(mut self, samples: u32) -> Self {
        self.samples_per_second = samples.max(1);
        self
    }

    /// Writes `dev_chid` as text in about half of the points.
    pub fn with_chid_as_text(mut self, as_text: bool) -> Self {
        self.chid_as_text = as_text;
        self
    }

    /// Refuses a response of more than `points` points with a 413.
    pub fn with_too_large_above(mut self, points: Option<usize>) -> Self {
        self.too_large_above = points;
        self
    }

    /// When sample `sample` of the series keyed `series` at `val_date` was created.
    pub fn created(&self, series: u64, val_date: i64, sample: u32) -> i64 {
        let mut created = val_date;
        if let Some(late) = self.late
            && mix(series, val_date as u64) % late.one_in.max(1) == 0
        {
            created += late.delay_seconds;
        }
        if let Some(skew) = self.skew {
            let draw = mix(
                series ^ 0x5851_F42D_4C95_7F2D ^ u64::from(sample),
                val_date as u64,
            );
            if draw % skew.one_in.max(1) == 0 {
                let ahead = skew.ahead_seconds.max(0);
                let span = (ahead + skew.behind_seconds.max(0) + 1) as u64;
                // The val_date minus the creation time, in [-behind, ahead].
                let offset = ((draw / skew.one_in.max(1)) % span) as i64 - skew.behind_seconds.max(0);
                created -= offset;
            }
        }
        created
    }

    /// Whether sample `sample` of the series keyed `series` at `val_date` has its
    /// `dev_chid` written as text.
    pub(super) fn chid_text(&self, series: u64, val_date: i64, sample: u32) -> bool {
        self.chid_as_text && mix(series ^ 0x2545_F491 ^ u64::from(sample), val_date as u64) & 1 == 1
    }

    /// Whether a point created at `created` is selected by `[from, to]` under these ends.
    pub fn selects(&self, created: i64, from: i64, to: i64) -> bool {
        let after_from = if self.from_inclusive {
            created >= from
        } else {
            created > from
        };
        let before_to = if self.to_inclusive {
            created <= to
        } else {
            created < to
        };
        after_from && before_to
    }

    /// The earliest `val_date` a point created at `from` or later can have.
    pub fn earliest_val_date(&self, from: i64) -> i64 {
        from - self.late.map_or(0, |late| late.delay_seconds.max(0))
            - self.skew.map_or(0, |skew| skew.behind_seconds.max(0))
    }

    /// The latest `val_date` a point created at `to` or earlier can have.
    pub fn latest_val_date(&self, to: i64) -> i64 {
        to + self.late.map_or(0, |late| (-late.delay_seconds).max(0))
            + self.skew.map_or(0, |skew| skew.ahead_seconds.max(0))
    }
}

/// One selected point: when it was created, its `val_date`, and its series index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Candidate {
    pub(super) created: i64,
    pub(super) val_date: i64,
    pub(super) series: usize,
    pub(super) sample: u32,
}

/// Keeps `cap` of the candidates (sorted by creation) as the reading says, then orders
/// them for the response.
pub(super) fn select(mut candidates: Vec<Candidate>, cap: usize, readings: &Readings) -> Vec<Candidate> {
    if candidates.len() > cap {
        candidates = match readings.cap {
            CapReading::Oldest => candidates[..cap].to_vec(),
            CapReading::Newest => candidates[candidates.len() - cap..].to_vec(),
            CapReading::Arbitrary { seed } => {
                let mut rng = SplitMix(seed ^ candidates.len() as u64);
                shuffle(&mut candidates, &mut rng);
                candidates.truncate(cap);
                candidates
            }
            CapReading::Varying { seed } => {
                let draw = VARYING_DRAWS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let mut rng = SplitMix(seed ^ draw.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                shuffle(&mut candidates, &mut rng);
                candidates.truncate(cap);
                candidates
            }
        };
    }
    candidates.sort_by_key(|c| (c.val_date, c.series, c.sample));
    match readings.order {
        ResponseOrder::Ascending => {}
        ResponseOrder::Descending => candidates.reverse(),
        ResponseOrder::Shuffled { seed } => shuffle(&mut candidates, &mut SplitMix(seed)),
    }
    candidates
}

/// A small seeded generator (SplitMix64): deterministic draws without a dependency.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0, 0)
    }
}

fn shuffle<T>(items: &mut [T], rng: &mut SplitMix) {
    for i in (1..items.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
