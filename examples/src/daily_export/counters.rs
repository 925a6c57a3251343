//! The daemon's own counters, beside the SDK's (see [`client_core::metrics`]); served
//! with them at `--metrics-addr`.

use metrics::{counter, describe_counter};

/// Days by what a pass did with them (label `outcome`: `written` for a first file,
/// `revised` for a file replaced because its content changed, `unchanged` for a day
/// fetched again with the same content, `skipped` for a settled day not fetched, `failed`).
pub const DAYS: &str = "preventos_daily_export_days_total";
/// Plan items a pass could not start (a bad format or time zone, an output folder that
/// cannot be made): their days are not counted in [`DAYS`].
pub const ITEMS_FAILED: &str = "preventos_daily_export_items_failed_total";
/// Passes by how they ended (label `result`: `ok`, `incomplete` for a pass with a
/// failed or missed day, `no_catalog` for a pass that could not read the catalog).
pub const PASSES: &str = "preventos_daily_export_passes_total";

/// What a pass did with one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayOutcome {
    /// A file where there was none.
    Written,
    /// A file replaced: its content changed.
    Revised,
    /// Fetched again, same content.
    Unchanged,
    /// Settled and stored: not fetched.
    Skipped,
    /// The day could not be stored.
    Failed,
}

impl DayOutcome {
    fn label(self) -> &'static str {
        match self {
            DayOutcome::Written => "written",
            DayOutcome::Revised => "revised",
            DayOutcome::Unchanged => "unchanged",
            DayOutcome::Skipped => "skipped",
            DayOutcome::Failed => "failed",
        }
    }
}

/// Gives the daemon's counters their help text (after the recorder is installed).
pub fn describe() {
    describe_counter!(DAYS, "Days by what a pass did with them");
    describe_counter!(ITEMS_FAILED, "Plan items a pass could not start");
    describe_counter!(PASSES, "Passes by how they ended");
}

/// Counts a day.
pub fn day(outcome: DayOutcome) {
    counter!(DAYS, "outcome" => outcome.label()).increment(1);
}

/// Counts an item a pass could not start.
pub fn item_failed() {
    counter!(ITEMS_FAILED).increment(1);
}

/// Counts a pass: `ok`, `incomplete` or `no_catalog`.
pub fn pass(result: &'static str) {
    counter!(PASSES, "result" => result).increment(1);
}
