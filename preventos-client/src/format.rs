//! The wire formats of values responses: `format=` and `csvPreset=`.

use client_core::CsvFormat;

use crate::error::{Error, Result};

/// The response format (`format=`; it also sets `Accept`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Format {
    /// `{"meta":..,"values":[..]}`, or a bare array with `meta=false`.
    Json,
    /// One record per line.
    #[default]
    Ndjson,
    /// A header row and one row per timestamp.
    Csv,
}

impl Format {
    /// The query value.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Csv => "csv",
        }
    }

    /// The media type sent as `Accept`.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Ndjson => "application/x-ndjson",
            Format::Csv => "text/csv",
        }
    }

    /// The file extension.
    pub fn extension(self) -> &'static str {
        self.as_str()
    }
}

impl std::str::FromStr for Format {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "json" => Ok(Format::Json),
            "ndjson" => Ok(Format::Ndjson),
            "csv" => Ok(Format::Csv),
            other => Err(Error::InvalidRequest(format!(
                "unknown format `{other}` (json, ndjson or csv)"
            ))),
        }
    }
}

/// A CSV preset (`csvPreset=`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CsvPreset {
    /// `finnish`: `;` between fields and a decimal comma (assumed; see the crate docs).
    Finnish,
    /// Another preset, sent as is and decoded as the default format.
    Other(String),
}

impl CsvPreset {
    /// The query value.
    pub fn as_str(&self) -> &str {
        match self {
            CsvPreset::Finnish => "finnish",
            CsvPreset::Other(name) => name,
        }
    }

    /// Parses a preset name.
    pub fn parse(name: &str) -> CsvPreset {
        match name {
            "finnish" => CsvPreset::Finnish,
            other => CsvPreset::Other(other.to_owned()),
        }
    }

    /// The delimiter and decimal separator to decode it with.
    pub fn csv_format(&self) -> CsvFormat {
        match self {
            CsvPreset::Finnish => CsvFormat::FINNISH,
            CsvPreset::Other(_) => CsvFormat::DEFAULT,
        }
    }
}

/// The delimiter and decimal separator of a CSV body asked for with `preset` (none: the
/// default format).
pub(crate) fn csv_format_of(preset: Option<&CsvPreset>) -> CsvFormat {
    preset.map_or(CsvFormat::DEFAULT, CsvPreset::csv_format)
}
