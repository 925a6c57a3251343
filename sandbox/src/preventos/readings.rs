//! How the Preventos simulator reads what its document leaves open: the ends of an
//! explicit range, the order of records, extra fields, the text of timestamps and
//! numbers, and the end of a 413's recommended range.

use jiff::Timestamp;
use jiff::tz::TimeZone;

/// How record timestamps are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TimestampStyle {
    /// `2026-05-31T00:00:00+03:00`: the offset of `tzi` (the default).
    #[default]
    Offset,
    /// `2026-05-31T00:00:00.000+03:00`.
    OffsetFraction,
    /// `2026-05-30T21:00:00Z`.
    Utc,
    /// `2026-05-30T21:00:00.000Z`.
    UtcFraction,
}

/// How values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum NumberStyle {
    /// The shortest text (`0.42`, `120`; the default).
    #[default]
    Shortest,
    /// Four decimals (`0.4200`, `120.0000`).
    TrailingZeros,
    /// Exponent form (`4.2E-1`).
    Exponent,
}

/// The readings the simulator plays; the default is the client's first assumption.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Readings {
    /// Whether a record exactly at an explicit `from` is included (default yes).
    pub from_inclusive: bool,
    /// Whether a record exactly at an explicit `to` is included (default no).
    pub to_inclusive: bool,
    /// Records by signal, then time (default: by time, then signal).
    pub signal_major: bool,
    /// NDJSON and JSON records carry fields beyond the three known ones.
    pub extra_fields: bool,
    /// Timestamp text.
    pub timestamps: TimestampStyle,
    /// Number text.
    pub numbers: NumberStyle,
    /// A 413's `recommendedRange.to` is the last instant included (default: the end).
    pub recommended_to_inclusive: bool,
    /// JSON values come as a bare array even without `meta=false` (default: under
    /// `{"meta","values"}` unless `meta=false`).
    pub json_bare: bool,
    /// NDJSON and CSV lines end in `\r\n`, and the last NDJSON line of a body has
    /// none (default: `\n` after every line). CSV keeps its last `\r\n`: a CSV row
    /// without a line break at the end of a body reads as cut off.
    pub crlf_unterminated: bool,
}

impl Default for Readings {
    fn default() -> Self {
        Readings {
            from_inclusive: true,
            to_inclusive: false,
            signal_major: false,
            extra_fields: false,
            timestamps: TimestampStyle::Offset,
            numbers: NumberStyle::Shortest,
            recommended_to_inclusive: false,
            json_bare: false,
            crlf_unterminated: false,
        }
    }
}

impl Readings {
    /// Sets whether each end of an explicit range is inclusive.
    pub fn with_ends(mut self, from_inclusive: bool, to_inclusive: bool) -> Self {
        self.from_inclusive = from_inclusive;
        self.to_inclusive = to_inclusive;
        self
    }

    /// Orders records by signal, then time.
    pub fn with_signal_major(mut self, signal_major: bool) -> Self {
        self.signal_major = signal_major;
        self
    }

    /// Adds fields beyond the three known ones to NDJSON and JSON records.
    pub fn with_extra_fields(mut self, extra: bool) -> Self {
        self.extra_fields = extra;
        self
    }

    /// Sets the timestamp text.
    pub fn with_timestamps(mut self, style: TimestampStyle) -> Self {
        self.timestamps = style;
        self
    }

    /// Sets the number text.
    pub fn with_numbers(mut self, style: NumberStyle) -> Self {
        self.numbers = style;
        self
    }

    /// Makes a 413's `recommendedRange.to` inclusive.
    pub fn with_recommended_to_inclusive(mut self, inclusive: bool) -> Self {
        self.recommended_to_inclusive = inclusive;
        self
    }

    /// Sends JSON values as a bare array whatever `meta` says.
    pub fn with_json_bare(mut self, bare: bool) -> Self {
        self.json_bare = bare;
        self
    }

    /// Ends NDJSON and CSV lines with `\r\n`, the last NDJSON line with nothing.
    pub fn with_crlf_unterminated(mut self, crlf: bool) -> Self {
        self.crlf_unterminated = crlf;
        self
    }

    /// The first and past-the-last second of records an explicit `[from, to]` selects.
    pub(super) fn explicit_bounds(&self, from: i64, to: i64) -> (i64, i64) {
        (
            if self.from_inclusive { from } else { from + 1 },
            if self.to_inclusive { to + 1 } else { to },
        )
    }

    /// A record's timestamp text.
    pub(super) fn timestamp(&self, t: i64, tz: &TimeZone) -> String {
        let Ok(ts) = Timestamp::from_second(t) else {
            return String::new();
        };
        match self.timestamps {
            TimestampStyle::Offset => ts
                .to_zoned(tz.clone())
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string(),
            TimestampStyle::OffsetFraction => ts
                .to_zoned(tz.clone())
                .strftime("%Y-%m-%dT%H:%M:%S.000%:z")
                .to_string(),
            TimestampStyle::Utc => ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            TimestampStyle::UtcFraction => ts.strftime("%Y-%m-%dT%H:%M:%S.000Z").to_string(),
        }
    }

    /// A value's text (with a point; CSV's decimal comma is applied after).
    pub(super) fn number(&self, value: f64) -> String {
        match self.numbers {
            NumberStyle::Shortest => value.to_string(),
            NumberStyle::TrailingZeros => format!("{value:.4}"),
            NumberStyle::Exponent => format!("{value:E}"),
        }
    }
}
