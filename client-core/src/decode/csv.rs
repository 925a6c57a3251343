//! CSV with a header row, in the delimiter and decimal separator of a preset.

use std::marker::PhantomData;
use std::sync::Arc;

use bytes::Bytes;
use csv_core::ReadRecordResult;
use futures::Stream;
use serde::de::DeserializeOwned;

use super::driver::{ChunkDecoder, RecordStream, decode_stream};
use super::{DecodeOptions, too_large};
use crate::error::{Error, Result};

/// The character between the integer and fractional part of numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecimalSeparator {
    /// `0.42`
    Point,
    /// `0,42`
    Comma,
}

/// How a CSV body is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CsvFormat {
    /// The field delimiter.
    pub delimiter: u8,
    /// The decimal separator of numbers.
    pub decimal: DecimalSeparator,
}

impl CsvFormat {
    /// `,` between fields, `.` in numbers.
    pub const DEFAULT: CsvFormat = CsvFormat {
        delimiter: b',',
        decimal: DecimalSeparator::Point,
    };
    /// `;` between fields, `,` in numbers (Preventos `csvPreset=finnish`, as assumed until
    /// the real API shows otherwise).
    pub const FINNISH: CsvFormat = CsvFormat {
        delimiter: b';',
        decimal: DecimalSeparator::Comma,
    };

    /// A custom format.
    pub fn new(delimiter: u8, decimal: DecimalSeparator) -> Self {
        CsvFormat { delimiter, decimal }
    }
}

impl Default for CsvFormat {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// One CSV row as text, with the header names.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvRow {
    header: Arc<[String]>,
    fields: Vec<String>,
    decimal: DecimalSeparator,
}

impl CsvRow {
    /// The header names.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The fields, in header order, exactly as written.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// The field under column `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        let index = self.header.iter().position(|h| h == name)?;
        self.fields.get(index).map(String::as_str)
    }

    /// The field under column `name` as a number, read with the format's decimal
    /// separator. `None` when the column is missing or the field is empty; an error when
    /// the field is not a number.
    pub fn get_f64(&self, name: &str) -> Option<Result<f64>> {
        let text = self.get(name)?.trim();
        if text.is_empty() {
            return None;
        }
        let normalised = match self.decimal {
            DecimalSeparator::Comma => text.replacen(',', ".", 1),
            DecimalSeparator::Point => text.to_owned(),
        };
        Some(
            normalised
                .parse()
                .map_err(|_| Error::decode(format!("column `{name}`: `{text}` is not a number"))),
        )
    }
}

/// Decodes CSV rows into `T` with serde, matching struct fields to header names.
///
/// With [`DecimalSeparator::Comma`], a field that is a number written with a decimal comma
/// (`-0,42`, `1,5e3`) is given to serde with a point, so `f64` fields work; other fields
/// are untouched. A row whose field count differs from the header's is an error (it is
/// also how a body cut mid-row shows). An empty body is an error: there is no header.
pub fn csv_records<T, S>(body: S, format: CsvFormat, options: DecodeOptions) -> RecordStream<T>
where
    T: DeserializeOwned + Send + 'static,
    S: Stream<Item = Result<Bytes>> + Send + 'static,
{
    decode_stream(
        body,
        Typed {
            csv: CsvDecoder::new(format, options, true),
            _records: PhantomData,
        },
    )
}

/// Decodes CSV rows as text ([`CsvRow`]).
pub fn csv_rows<S>(body: S, format: CsvFormat, options: DecodeOptions) -> RecordStream<CsvRow>
where
    S: Stream<Item = Result<Bytes>> + Send + 'static,
{
    decode_stream(
        body,
        Rows {
            csv: CsvDecoder::new(format, options, false),
            header: None,
        },
    )
}

/// The decoder of [`csv_rows`] on its own, to feed bytes held in memory (with
/// [`decode_slice`](super::decode_slice)) rather than a stream.
pub fn csv_row_decoder(format: CsvFormat, options: DecodeOptions) -> impl ChunkDecoder<CsvRow> {
    Rows {
        csv: CsvDecoder::new(format, options, false),
        header: None,
    }
}

/// Frames rows and checks them against the header, for [`csv_records`] and [`csv_rows`].
#[derive(Debug)]
struct CsvDecoder {
    reader: csv_core::Reader,
    format: CsvFormat,
    max_record_size: usize,
    output: Vec<u8>,
    output_len: usize,
    ends: Vec<usize>,
    ends_len: usize,
    header: Option<csv::ByteRecord>,
    row: csv::ByteRecord,
    scratch: Vec<u8>,
    row_number: u64,
    /// Rewrite decimal commas to points (for typed decoding; text rows stay as written).
    normalize_decimals: bool,
    require_final_newline: bool,
    /// The last byte fed, to tell a body that ends with a line terminator.
    last_byte: Option<u8>,
    /// See [`DecodeOptions::metrics_label`].
    metrics_label: Option<&'static str>,
}

impl CsvDecoder {
    fn new(format: CsvFormat, options: DecodeOptions, normalize_decimals: bool) -> Self {
        let reader = csv_core::ReaderBuilder::new().delimiter(format.delimiter).build();
        CsvDecoder {
            reader,
            format,
            max_record_size: options.max_record_size,
            metrics_label: options.metrics_label,
            output: vec![0; 4096.min(options.max_record_size.max(1))],
            output_len: 0,
            ends: vec![0; 64],
            ends_len: 0,
            header: None,
            row: csv::ByteRecord::new(),
            scratch: Vec::new(),
            row_number: 0,
            normalize_decimals: normalize_decimals && format.decimal == DecimalSeparator::Comma,
            require_final_newline: options.require_final_newline,
            last_byte: None,
        }
    }

    /// The bytes the row being read holds: its text and its field boundaries.
    fn buffered_bytes(&self) -> usize {
        self.output.len() + self.ends.len() * std::mem::size_of::<usize>()
    }

    /// Feeds input (empty input means the end of the body) and calls `on_row` with the
    /// header and each complete data row.
    fn run(
        &mut self,
        mut input: &[u8],
        on_row: &mut dyn FnMut(&csv::ByteRecord, &csv::ByteRecord, u64) -> Result<()>,
    ) -> Result<()> {
        let at_end = input.is_empty();
        if let Some(&last) = input.last() {
            self.last_byte = Some(last);
        }
        loop {
            let (result, read, written, ended) = self.reader.read_record(
                input,
                &mut self.output[self.output_len..],
                &mut self.ends[self.ends_len..],
            );
            input = &input[read..];
            self.output_len += written;
            self.ends_len += ended;
            match result {
                ReadRecordResult::InputEmpty => {
                    if !at_end {
                        return Ok(());
                    }
                }
                ReadRecordResult::OutputFull => {
                    if self.buffered_bytes() > self.max_record_size {
                        return Err(too_large("CSV row", self.row_number + 1, self.max_record_size));
                    }
                    let grown = (self.output.len() * 2).min(self.max_record_size + 1);
                    self.output.resize(grown.max(self.output.len() + 1), 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    // A row of many empty fields grows only this buffer: it counts too.
                    if self.buffered_bytes() > self.max_record_size {
                        return Err(too_large("CSV row", self.row_number + 1, self.max_record_size));
                    }
                    let grown = self.ends.len() * 2;
                    self.ends.resize(grown, 0);
                }
                ReadRecordResult::Record => {
                    self.complete_row(on_row)?;
                }
                ReadRecordResult::End => return Ok(()),
            }
        }
    }

    fn complete_row(
        &mut self,
        on_row: &mut dyn FnMut(&csv::ByteRecord, &csv::ByteRecord, u64) -> Result<()>,
    ) -> Result<()> {
        let ends = &self.ends[..self.ends_len];
        let data = &self.output[..self.output_len];
        self.row.clear();
        let mut start = 0;
        for &end in ends {
            let field = &data[start..end];
            if self.normalize_decimals && self.header.is_some() && is_comma_decimal(field) {
                self.scratch.clear();
                self.scratch
                    .extend(field.iter().map(|&b| if b == b',' { b'.' } else { b }));
                self.row.push_field(&self.scratch);
            } else {
                self.row.push_field(field);
            }
            start = end;
        }
        self.output_len = 0;
        self.ends_len = 0;
        match &self.header {
            None => {
                self.header = Some(self.row.clone());
                Ok(())
            }
            Some(header) => {
                self.row_number += 1;
                if self.row.len() != header.len() {
                    return Err(Error::decode(format!(
                        "CSV row {} has {} fields; the header has {} (a cut-off body looks like this too)",
                        self.row_number,
                        self.row.len(),
                        header.len()
                    )));
                }
                on_row(header, &self.row, self.row_number)
            }
        }
    }

    fn finish_body(
        &mut self,
        on_row: &mut dyn FnMut(&csv::ByteRecord, &csv::ByteRecord, u64) -> Result<()>,
    ) -> Result<()> {
        if self.require_final_newline && self.last_byte.is_some_and(|b| b != b'\n' && b != b'\r') {
            return Err(Error::truncated(format!(
                "the CSV body ends without a line terminator after row {}: the last row may be cut",
                self.row_number
            )));
        }
        // A body cut right after a line break inside a quoted field ends with a line
        // terminator, and csv-core would close the open field: a short, wrong record.
        if self.ends_inside_quotes() {
            return Err(Error::truncated(format!(
                "the CSV body ends inside a quoted field of row {}: it was cut",
                self.row_number + 1
            )));
        }
        self.run(&[], on_row)?;
        if self.header.is_none() {
            return Err(Error::truncated("the CSV body is empty: no header row"));
        }
        Ok(())
    }
}

impl CsvDecoder {
    /// Whether the body ended inside a quoted field, right after a line break in it.
    /// Outside quotes a line terminator completes the row (and empties the row's
    /// buffers); a row still pending after one means the terminator was field text.
    fn ends_inside_quotes(&self) -> bool {
        matches!(self.last_byte, Some(b'\n' | b'\r')) && (self.output_len > 0 || self.ends_len > 0)
    }
}

/// `[+-]digits,digits[(e|E)[+-]digits]`: a number with a decimal comma.
fn is_comma_decimal(field: &[u8]) -> bool {
    let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    fn unsigned(s: &[u8]) -> &[u8] {
        match s.first() {
            Some(b'+' | b'-') => &s[1..],
            _ => s,
        }
    }
    let body = unsigned(field);
    let (mantissa, exponent) = match body.iter().position(|&b| b == b'e' || b == b'E') {
        Some(i) => (&body[..i], Some(unsigned(&body[i + 1..]))),
        None => (body, None),
    };
    let Some(comma) = mantissa.iter().position(|&b| b == b',') else {
        return false;
    };
    digits(&mantissa[..comma]) && digits(&mantissa[comma + 1..]) && exponent.is_none_or(digits)
}

struct Typed<T> {
    csv: CsvDecoder,
    _records: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Typed<T> {
    fn emit(out: &mut Vec<T>) -> impl FnMut(&csv::ByteRecord, &csv::ByteRecord, u64) -> Result<()> + '_ {
        move |header, row, row_number| {
            let record = row
                .deserialize(Some(header))
                .map_err(|e| Error::decode(format!("CSV row {row_number}: {e}")))?;
            out.push(record);
            Ok(())
        }
    }
}

impl<T: DeserializeOwned> ChunkDecoder<T> for Typed<T> {
    fn feed(&mut self, chunk: &[u8], out: &mut Vec<T>) -> Result<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        self.csv.run(chunk, &mut Self::emit(out))
    }

    fn finish(&mut self, out: &mut Vec<T>) -> Result<()> {
        self.csv.finish_body(&mut Self::emit(out))
    }

    fn metrics_label(&self) -> Option<&'static str> {
        self.csv.metrics_label
    }
}

struct Rows {
    csv: CsvDecoder,
    header: Option<Arc<[String]>>,
}

impl Rows {
    fn feed_rows(&mut self, chunk: Option<&[u8]>, out: &mut Vec<CsvRow>) -> Result<()> {
        let decimal = self.csv.format.decimal;
        let header_cache = &mut self.header;
        let mut on_row = |header: &csv::ByteRecord, row: &csv::ByteRecord, _row_number: u64| -> Result<()> {
            let header = match header_cache {
                Some(header) => header.clone(),
                None => {
                    let names = text_fields(header, "the CSV header")?;
                    let names: Arc<[String]> = names.into();
                    *header_cache = Some(names.clone());
                    names
                }
            };
            out.push(CsvRow {
                header,
                fields: text_fields(row, "a CSV row")?,
                decimal,
            });
            Ok(())
        };
        match chunk {
            Some([]) => Ok(()),
            Some(chunk) => self.csv.run(chunk, &mut on_row),
            None => self.csv.finish_body(&mut on_row),
        }
    }
}

fn text_fields(record: &csv::ByteRecord, what: &str) -> Result<Vec<String>> {
    record
        .iter()
        .map(|field| {
            std::str::from_utf8(field)
                .map(str::to_owned)
                .map_err(|_| Error::decode(format!("{what} is not valid UTF-8")))
        })
        .collect()
}

impl ChunkDecoder<CsvRow> for Rows {
    fn feed(&mut self, chunk: &[u8], out: &mut Vec<CsvRow>) -> Result<()> {
        self.feed_rows(Some(chunk), out)
    }

    fn finish(&mut self, out: &mut Vec<CsvRow>) -> Result<()> {
        self.feed_rows(None, out)
    }

    fn metrics_label(&self) -> Option<&'static str> {
        self.csv.metrics_label
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comma_decimals() {
        for yes in ["0,42", "-12,5", "+1,0", "1,5e3", "2,0E-4"] {
            assert!(is_comma_decimal(yes.as_bytes()), "{yes}");
        }
        for no in [
            "",
            "42",
            "1.5",
            "a,b",
            ",5",
            "5,",
            "1,2,3",
            "2026-05-31T00:00:00+03:00",
            "1,5e",
        ] {
            assert!(!is_comma_decimal(no.as_bytes()), "{no}");
        }
    }
}
