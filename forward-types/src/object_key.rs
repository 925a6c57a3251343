//! Object keys of the S3 and Azure Blob destinations: `{YYYY}/{MM}/{DD}/{timestamp}`.

use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;

/// The object key the platform appends to the URL of an S3 (`{YYYY}/{MM}/{DD}/{timestamp}`)
/// or Azure Blob (`{YYYY}/{MM}/{DD}/{timestamp}.json`) destination.
///
/// The document does not say how `{timestamp}` is written, so it is kept as text (one
/// non-empty path segment).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectKey {
    date: Date,
    timestamp: String,
    json_suffix: bool,
}

/// A key that does not follow the layout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid object key `{key}`: {reason}")]
pub struct ObjectKeyError {
    key: String,
    reason: &'static str,
}

impl ObjectKey {
    /// An S3 key (no suffix).
    pub fn s3(date: Date, timestamp: impl Into<String>) -> Result<Self, ObjectKeyError> {
        Self::build(date, timestamp.into(), false)
    }

    /// An Azure Blob key (`.json` suffix).
    pub fn azure_blob(date: Date, timestamp: impl Into<String>) -> Result<Self, ObjectKeyError> {
        Self::build(date, timestamp.into(), true)
    }

    fn build(date: Date, timestamp: String, json_suffix: bool) -> Result<Self, ObjectKeyError> {
        if timestamp.is_empty() || timestamp.contains('/') {
            return Err(ObjectKeyError {
                key: timestamp,
                reason: "the timestamp part must be one non-empty segment",
            });
        }
        if !(0..=9999).contains(&date.year()) {
            return Err(ObjectKeyError {
                key: timestamp,
                reason: "the year must have four digits",
            });
        }
        Ok(ObjectKey {
            date,
            timestamp,
            json_suffix,
        })
    }

    /// The date of the key.
    pub fn date(&self) -> Date {
        self.date
    }

    /// The timestamp part, without `.json`.
    pub fn timestamp(&self) -> &str {
        &self.timestamp
    }

    /// Whether the key ends in `.json` (Azure Blob).
    pub fn has_json_suffix(&self) -> bool {
        self.json_suffix
    }

    /// Parses the last four segments of `path` (a key or a URL path ending in one).
    pub fn parse(path: &str) -> Result<Self, ObjectKeyError> {
        let error = |reason| ObjectKeyError {
            key: path.to_owned(),
            reason,
        };
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let [.., year, month, day, last] = segments.as_slice() else {
            return Err(error("expected {YYYY}/{MM}/{DD}/{timestamp}"));
        };
        let number = |text: &str, len: usize| -> Option<i16> {
            (text.len() == len && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok())?
        };
        let (Some(year), Some(month), Some(day)) = (number(year, 4), number(month, 2), number(day, 2)) else {
            return Err(error(
                "the date must be {YYYY}/{MM}/{DD} with zero-padded numbers",
            ));
        };
        let date = Date::new(year, month as i8, day as i8).map_err(|_| error("no such date"))?;
        let (timestamp, json_suffix) = match last.strip_suffix(".json") {
            Some(stem) => (stem, true),
            None => (*last, false),
        };
        if timestamp.is_empty() {
            return Err(error("the timestamp part is empty"));
        }
        Ok(ObjectKey {
            date,
            timestamp: timestamp.to_owned(),
            json_suffix,
        })
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}/{:02}/{:02}/{}{}",
            self.date.year(),
            self.date.month(),
            self.date.day(),
            self.timestamp,
            if self.json_suffix { ".json" } else { "" }
        )
    }
}

impl FromStr for ObjectKey {
    type Err = ObjectKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}
