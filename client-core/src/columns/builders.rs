//! The column builders the client crates share.

use std::sync::Arc;

use arrow_array::ArrayRef;
use arrow_array::builder::ArrayBuilder;
use arrow_array::builder::{
    Float64Builder, StringBuilder, StringDictionaryBuilder, TimestampMicrosecondBuilder,
    TimestampNanosecondBuilder,
};
use arrow_array::types::Int32Type;
use arrow_schema::{DataType, Field, TimeUnit};
use jiff::Timestamp;
use serde_json::value::RawValue;

use super::number::{needs_text, number_in_text};
use crate::decode::DecimalSeparator;
use crate::error::{Error, Result};

/// An identifier column: `Dictionary(Int32, Utf8)`, each distinct text stored once per
/// batch.
#[derive(Default)]
pub struct DictionaryColumn {
    builder: StringDictionaryBuilder<Int32Type>,
    /// Bytes of the texts appended since the last batch.
    bytes: usize,
}

impl std::fmt::Debug for DictionaryColumn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DictionaryColumn")
            .field("rows", &self.builder.len())
            .finish()
    }
}

impl DictionaryColumn {
    /// The field of such a column.
    pub fn field(name: &str, nullable: bool) -> Field {
        Field::new(
            name,
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
            nullable,
        )
    }

    /// An empty column.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a text, or null. An error, never a panic, when the batch's texts would
    /// pass what the column's 32-bit offsets and keys hold (2 GiB, 2^31 texts): write
    /// fewer rows per batch.
    pub fn append(&mut self, text: Option<&str>) -> Result<()> {
        match text {
            Some(text) => {
                // An upper bound of the dictionary's bytes (each text counted, repeated
                // or not).
                self.bytes = checked_bytes(self.bytes, text)?;
                self.builder
                    .append(text)
                    .map(|_| ())
                    .map_err(|e| Error::decode(format!("a dictionary column is full: {e}")))
            }
            None => {
                self.builder.append_null();
                Ok(())
            }
        }
    }

    /// The column so far; empty afterwards.
    pub fn finish(&mut self) -> ArrayRef {
        self.bytes = 0;
        Arc::new(self.builder.finish())
    }
}

/// `bytes` and `text`'s, if a column of 32-bit offsets holds them.
fn checked_bytes(bytes: usize, text: &str) -> Result<usize> {
    bytes
        .checked_add(text.len())
        .filter(|total| *total <= i32::MAX as usize)
        .ok_or_else(|| Error::decode("a batch's text column would pass 2 GiB: write fewer rows per batch"))
}

/// A `Utf8` column: free text, or JSON text (the `extra` column).
#[derive(Debug, Default)]
pub struct TextColumn {
    builder: StringBuilder,
    /// Bytes of the texts appended since the last batch.
    bytes: usize,
}

impl TextColumn {
    /// The field of such a column.
    pub fn field(name: &str, nullable: bool) -> Field {
        Field::new(name, DataType::Utf8, nullable)
    }

    /// An empty column.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a text, or null. An error, never a panic, when the batch's texts would
    /// pass the 2 GiB its 32-bit offsets hold: write fewer rows per batch.
    pub fn append(&mut self, text: Option<&str>) -> Result<()> {
        if let Some(text) = text {
            self.bytes = checked_bytes(self.bytes, text)?;
        }
        self.builder.append_option(text);
        Ok(())
    }

    /// The column so far; empty afterwards.
    pub fn finish(&mut self) -> ArrayRef {
        self.bytes = 0;
        Arc::new(self.builder.finish())
    }
}

/// A column of instants: `Timestamp(unit, Some("UTC"))`, in microseconds (years
/// -290,308 to 294,247: any instant `jiff` holds) or nanoseconds (1677-09-21 to
/// 2262-04-11; an instant outside is a [`Decode`](crate::ErrorKind::Decode) error, never a
/// wrapped value).
#[derive(Debug)]
pub enum TimestampColumn {
    /// Microseconds since the Unix epoch.
    Microsecond(TimestampMicrosecondBuilder),
    /// Nanoseconds since the Unix epoch.
    Nanosecond(TimestampNanosecondBuilder),
}

impl TimestampColumn {
    /// The field of such a column in `unit` ([`TimeUnit::Microsecond`] or
    /// [`TimeUnit::Nanosecond`]).
    pub fn field(name: &str, unit: TimeUnit, nullable: bool) -> Field {
        Field::new(name, DataType::Timestamp(unit, Some("UTC".into())), nullable)
    }

    /// An empty column of microseconds.
    pub fn microseconds() -> Self {
        TimestampColumn::Microsecond(TimestampMicrosecondBuilder::new().with_timezone("UTC"))
    }

    /// An empty column of nanoseconds.
    pub fn nanoseconds() -> Self {
        TimestampColumn::Nanosecond(TimestampNanosecondBuilder::new().with_timezone("UTC"))
    }

    /// The value `at` takes in this column: an error when it does not fit (nanoseconds
    /// outside 1677-2262), or when the column is of microseconds and `at` has a
    /// fraction of a microsecond (which would be lost).
    pub fn value_of(&self, at: Timestamp) -> Result<i64> {
        let nanos = at.as_nanosecond();
        match self {
            TimestampColumn::Microsecond(_) => {
                if nanos % 1000 != 0 {
                    return Err(Error::decode(format!(
                        "{at}: a fraction of a microsecond does not fit a microsecond column"
                    )));
                }
                i64::try_from(nanos / 1000)
                    .map_err(|_| Error::decode(format!("{at} is out of a microsecond column's range")))
            }
            TimestampColumn::Nanosecond(_) => i64::try_from(nanos).map_err(|_| {
                Error::decode(format!(
                    "{at} is out of a nanosecond column's range (1677-09-21 to 2262-04-11)"
                ))
            }),
        }
    }

    /// Appends a value of [`value_of`](Self::value_of), or null.
    pub fn append_value(&mut self, value: Option<i64>) {
        match self {
            TimestampColumn::Microsecond(builder) => builder.append_option(value),
            TimestampColumn::Nanosecond(builder) => builder.append_option(value),
        }
    }

    /// Appends an instant, or null ([`value_of`](Self::value_of), then
    /// [`append_value`](Self::append_value)).
    pub fn append(&mut self, at: Option<Timestamp>) -> Result<()> {
        let value = at.map(|at| self.value_of(at)).transpose()?;
        self.append_value(value);
        Ok(())
    }

    /// The column so far; empty afterwards.
    pub fn finish(&mut self) -> ArrayRef {
        match self {
            TimestampColumn::Microsecond(builder) => Arc::new(builder.finish().with_timezone("UTC")),
            TimestampColumn::Nanosecond(builder) => Arc::new(builder.finish().with_timezone("UTC")),
        }
    }
}

/// A number as two columns: its nearest `f64` (`Float64`) and, when the `f64` does not
/// hold it, its text as sent (`Utf8`), by [the module's rule](super#the-exact-text-of-numbers).
#[derive(Debug, Default)]
pub struct NumberColumns {
    value: Float64Builder,
    text: StringBuilder,
}

/// One number read for [`NumberColumns`]: its `f64` and the text to keep, if any.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NumberCell {
    /// The nearest `f64`, if the value is a number.
    pub value: Option<f64>,
    /// The text as sent, when the `f64` does not hold the value.
    pub text: Option<String>,
}

impl NumberCell {
    /// No value (absent, or `null`).
    pub const NULL: NumberCell = NumberCell {
        value: None,
        text: None,
    };

    /// A JSON member's value (`None`: absent): a number, by the rule; a string holding
    /// a number (or `NaN`, `Infinity`, `-Infinity`), that number with the JSON text kept;
    /// any other value, no number and its JSON text.
    pub fn of_json(member: Option<&RawValue>) -> NumberCell {
        let Some(member) = member else {
            return NumberCell::NULL;
        };
        let text = member.get().trim();
        match text.as_bytes().first() {
            None | Some(b'n') => NumberCell::NULL,
            Some(b'-' | b'0'..=b'9') => {
                // Rust's parser reads JSON's number grammar, correctly rounded.
                let value = text.parse::<f64>().ok();
                let keep = value.is_none_or(|value| needs_text(text, value));
                NumberCell {
                    value,
                    text: keep.then(|| text.to_owned()),
                }
            }
            Some(b'"') => NumberCell {
                value: serde_json::from_str::<String>(text)
                    .ok()
                    .and_then(|inner| number_in_text(&inner)),
                text: Some(text.to_owned()),
            },
            Some(_) => NumberCell {
                value: None,
                text: Some(text.to_owned()),
            },
        }
    }

    /// A text field (a CSV cell) written with `decimal` as its decimal separator: empty,
    /// no value; a number, by the rule (a decimal comma read as a point, the text kept as
    /// written); `NaN`, `Infinity` or `-Infinity`, that value with its text; any other
    /// text, no number and the text.
    pub fn of_text(field: &str, decimal: DecimalSeparator) -> NumberCell {
        let trimmed = field.trim();
        if trimmed.is_empty() {
            return NumberCell::NULL;
        }
        let normalised = match decimal {
            DecimalSeparator::Comma => std::borrow::Cow::Owned(trimmed.replacen(',', ".", 1)),
            DecimalSeparator::Point => std::borrow::Cow::Borrowed(trimmed),
        };
        let value = number_in_text(&normalised);
        let keep = match value {
            Some(value) if super::number::is_decimal(&normalised) => needs_text(&normalised, value),
            _ => true,
        };
        NumberCell {
            value,
            text: keep.then(|| field.to_owned()),
        }
    }

    /// A number held as an `f64` already (a typed record's field): no text.
    pub fn of_f64(value: Option<f64>) -> NumberCell {
        NumberCell { value, text: None }
    }
}

impl NumberColumns {
    /// The two fields: `name` (`Float64`) and `text_name` (`Utf8`), both nullable.
    pub fn fields(name: &str, text_name: &str) -> [Field; 2] {
        [
            Field::new(name, DataType::Float64, true),
            Field::new(text_name, DataType::Utf8, true),
        ]
    }

    /// Empty columns.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a number read by [`NumberCell`].
    pub fn append(&mut self, cell: &NumberCell) {
        self.value.append_option(cell.value);
        self.text.append_option(cell.text.as_deref());
    }

    /// The two columns so far (value, text); empty afterwards.
    pub fn finish(&mut self) -> [ArrayRef; 2] {
        [Arc::new(self.value.finish()), Arc::new(self.text.finish())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_column_past_its_offsets_is_an_error_not_a_panic() {
        assert_eq!(checked_bytes(10, "abc").unwrap(), 13);
        assert!(checked_bytes(i32::MAX as usize, "x").is_err());
        assert!(checked_bytes(usize::MAX, "x").is_err());
        let mut column = DictionaryColumn::new();
        column.bytes = i32::MAX as usize;
        assert!(column.append(Some("id")).is_err());
        assert!(column.append(None).is_ok(), "a null takes no bytes");
        let mut column = TextColumn::new();
        column.bytes = i32::MAX as usize - 1;
        assert!(column.append(Some("{}")).is_err());
        column.finish();
        assert!(column.append(Some("{}")).is_ok(), "the next batch starts afresh");
    }
}
