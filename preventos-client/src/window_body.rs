//! A window's body cut into its records as the server wrote them: NDJSON lines, CSV rows
//! and JSON array elements keep their exact text; only the timestamp (and the signal)
//! is parsed, for the boundary rule. No value goes through a float.
//!
//! A window holds tens of thousands of records, and cutting them up is most of what the
//! client does for an export: a record's text is a slice of the body (not a copy), the
//! timestamp and signal are read borrowed, records sharing a timestamp text (the
//! signals of one instant) parse it once, and a signal's name is shared by its records.

use std::borrow::Cow;
use std::sync::Arc;

use bytes::Bytes;
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{Error, Result};
use crate::format::Format;

/// One record of a window's body, as the export stores it: when, which signal (CSV rows
/// hold every signal), and its text as sent (with its line terminator, for NDJSON and
/// CSV). Not the public [`RawRecord`](crate::RawRecord), which is one JSON record for
/// callers; this one is any format's record for the export's writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WindowRecord {
    pub(crate) at: Timestamp,
    pub(crate) signal: Option<Arc<str>>,
    /// A slice of the window's body.
    pub(crate) text: Bytes,
}

impl WindowRecord {
    /// Whether the text ends with a line terminator (NDJSON and CSV).
    pub(crate) fn terminated(&self) -> bool {
        self.text.ends_with(b"\n")
    }
}

/// A window's body, cut up.
#[derive(Debug, Default)]
pub(crate) struct WindowBody {
    /// CSV: the header row as sent (terminator included).
    pub(crate) header: Option<Vec<u8>>,
    /// JSON: the `meta` member as sent.
    pub(crate) meta: Option<Box<RawValue>>,
    /// JSON: the records came in an object (`{"meta","values"}`), not a bare array.
    pub(crate) wrapped: bool,
    /// The records, in the server's order.
    pub(crate) records: Vec<WindowRecord>,
    /// NDJSON and CSV: the body ended with a line break (the whole body, before
    /// trimming: how the server ends a body).
    pub(crate) terminated: bool,
}

/// Cuts `body` (a whole window in `format`; CSV with `delimiter`) into records.
/// A byte-order mark the body starts with is not part of its first record.
pub(crate) fn split(format: Format, delimiter: u8, body: &Bytes) -> Result<WindowBody> {
    let body = body.slice_ref(client_core::decode::skip_bom(body));
    let body = &body;
    match format {
        Format::Ndjson => split_ndjson(body),
        Format::Csv => split_csv(body, delimiter),
        Format::Json => split_json(body),
    }
}

/// The fields the boundary rule reads from a JSON record, borrowed from its text when
/// they hold no escape; the rest stays text.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Placement<'a> {
    #[serde(borrow)]
    timestamp: Cow<'a, str>,
    #[serde(default, borrow)]
    signal_id: Option<Cow<'a, str>>,
}

/// Reads where JSON records belong, remembering the last timestamp and signal read so
/// that the records of one instant, or of one signal, share them.
#[derive(Default)]
struct Placer<'a> {
    stamp: Option<(Cow<'a, str>, Timestamp)>,
    signal: Option<Arc<str>>,
}

impl<'a> Placer<'a> {
    /// The timestamp and signal of the JSON record `text`; `what` names it in errors.
    fn place(&mut self, text: &'a str, what: impl Fn() -> String) -> Result<(Timestamp, Option<Arc<str>>)> {
        let placement: Placement<'a> = serde_json::from_str(text)
            .map_err(|e| Error::decode(format!("{}: no usable timestamp: {e}", what())))?;
        let at = self.stamp(placement.timestamp, what)?;
        let signal = placement.signal_id.map(|id| match &self.signal {
            Some(last) if **last == *id => last.clone(),
            _ => {
                let signal: Arc<str> = Arc::from(id.as_ref());
                self.signal = Some(signal.clone());
                signal
            }
        });
        Ok((at, signal))
    }

    /// `text` as a timestamp: the last one again when the text is the same.
    fn stamp(&mut self, text: Cow<'a, str>, what: impl Fn() -> String) -> Result<Timestamp> {
        if let Some((last, at)) = &self.stamp {
            if *last == text {
                return Ok(*at);
            }
        }
        let at = parse_timestamp(&text, what)?;
        self.stamp = Some((text, at));
        Ok(at)
    }
}

/// RFC 3339 with `Z` or an offset, with or without fractional seconds; `what` names the
/// record in the error.
fn parse_timestamp(text: &str, what: impl Fn() -> String) -> Result<Timestamp> {
    text.trim()
        .parse::<Timestamp>()
        .map_err(|e| Error::decode(format!("{}: `{text}` is not a timestamp: {e}", what())))
}

/// Not `client_core::decode::LineSplitter`: that one hands out lines without their
/// terminator (and drops a `\r`), while a stored line must keep its exact bytes; and a
/// window's body is whole in memory here, so there is nothing to stream.
fn split_ndjson(body: &Bytes) -> Result<WindowBody> {
    let mut records = Vec::new();
    let mut placer = Placer::default();
    for (index, line) in body.split_inclusive(|&b| b == b'\n').enumerate() {
        // Blank lines carry no record (NDJSON readers skip them too).
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let what = || format!("NDJSON line {}", index + 1);
        let text =
            std::str::from_utf8(line).map_err(|_| Error::decode(format!("{} is not UTF-8", what())))?;
        let (at, signal) = placer.place(text, what)?;
        records.push(WindowRecord {
            at,
            signal,
            text: body.slice_ref(line),
        });
    }
    Ok(WindowBody {
        records,
        terminated: body.ends_with(b"\n"),
        ..WindowBody::default()
    })
}

/// CSV rows end at a line feed outside quotes; each row keeps its exact text.
fn csv_rows(body: &[u8]) -> Vec<&[u8]> {
    let mut rows = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, &b) in body.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => {
                rows.push(&body[start..=i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if start < body.len() {
        rows.push(&body[start..]);
    }
    rows
}

/// The first field of a CSV row, unquoted.
fn first_field(row: &[u8], delimiter: u8) -> Vec<u8> {
    let row = row.strip_suffix(b"\n").unwrap_or(row);
    let row = row.strip_suffix(b"\r").unwrap_or(row);
    if let Some(rest) = row.strip_prefix(b"\"") {
        let mut field = Vec::new();
        let mut i = 0;
        while i < rest.len() {
            match (rest[i], rest.get(i + 1)) {
                (b'"', Some(b'"')) => {
                    field.push(b'"');
                    i += 2;
                }
                (b'"', _) => break,
                (b, _) => {
                    field.push(b);
                    i += 1;
                }
            }
        }
        return field;
    }
    let end = row.iter().position(|&b| b == delimiter).unwrap_or(row.len());
    row[..end].to_vec()
}

fn split_csv(body: &Bytes, delimiter: u8) -> Result<WindowBody> {
    let mut rows = csv_rows(body).into_iter();
    let Some(header) = rows.next() else {
        return Err(Error::Truncated(client_core::Error::truncated(
            "the CSV body is empty: no header row",
        )));
    };
    let mut records = Vec::new();
    for (index, row) in rows.enumerate() {
        let what = || format!("CSV row {}", index + 1);
        if row.iter().all(u8::is_ascii_whitespace) {
            return Err(Error::decode(format!(
                "{} is blank: a CSV body holds no blank rows",
                what()
            )));
        }
        let field = first_field(row, delimiter);
        let text =
            std::str::from_utf8(&field).map_err(|_| Error::decode(format!("{} is not UTF-8", what())))?;
        records.push(WindowRecord {
            at: parse_timestamp(text, what)?,
            signal: None,
            text: body.slice_ref(row),
        });
    }
    Ok(WindowBody {
        header: Some(header.to_vec()),
        records,
        terminated: body.ends_with(b"\n"),
        ..WindowBody::default()
    })
}

#[derive(Deserialize)]
struct Wrapped<'a> {
    #[serde(default, borrow)]
    meta: Option<&'a RawValue>,
    #[serde(borrow)]
    values: Vec<&'a RawValue>,
}

fn split_json(body: &Bytes) -> Result<WindowBody> {
    let text = std::str::from_utf8(body).map_err(|_| Error::decode("the JSON body is not UTF-8"))?;
    let json_error = |e: serde_json::Error| {
        if e.is_eof() {
            Error::Truncated(client_core::Error::truncated(format!(
                "the JSON body was cut off: {e}"
            )))
        } else {
            Error::decode(format!("invalid JSON body: {e}"))
        }
    };
    let wrapped = !text.trim_start().starts_with('[');
    let (meta, elements) = if wrapped {
        let document: Wrapped<'_> = serde_json::from_str(text).map_err(json_error)?;
        (document.meta.map(RawValue::to_owned), document.values)
    } else {
        let elements: Vec<&RawValue> = serde_json::from_str(text).map_err(json_error)?;
        (None, elements)
    };
    let mut records = Vec::with_capacity(elements.len());
    let mut placer = Placer::default();
    for (index, element) in elements.into_iter().enumerate() {
        let (at, signal) = placer.place(element.get(), || format!("JSON element {}", index + 1))?;
        records.push(WindowRecord {
            at,
            signal,
            text: body.slice_ref(element.get().as_bytes()),
        });
    }
    Ok(WindowBody {
        meta,
        wrapped,
        records,
        ..WindowBody::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`split`] of a body given as bytes.
    fn split(format: Format, delimiter: u8, body: &[u8]) -> Result<WindowBody> {
        super::split(format, delimiter, &Bytes::copy_from_slice(body))
    }

    #[test]
    fn ndjson_lines_keep_their_bytes() {
        let body = b"{\"timestamp\":\"2026-05-31T00:00:00+03:00\",\"signalId\":\"V\",\"value\":120.0,\"q\":1}\r\n\n{\"timestamp\":\"2026-05-30T21:01:00.500Z\",\"signalId\":\"V\",\"value\":1E-5}";
        let window = split(Format::Ndjson, b',', body).unwrap();
        assert_eq!(window.records.len(), 2);
        assert_eq!(
            window.records[0].text[..],
            b"{\"timestamp\":\"2026-05-31T00:00:00+03:00\",\"signalId\":\"V\",\"value\":120.0,\"q\":1}\r\n"[..]
        );
        assert_eq!(window.records[0].at.to_string(), "2026-05-30T21:00:00Z");
        assert!(!window.records[1].terminated());
        assert_eq!(window.records[1].at.to_string(), "2026-05-30T21:01:00.5Z");
        assert_eq!(window.records[1].signal.as_deref(), Some("V"));
    }

    #[test]
    fn csv_rows_keep_their_text_and_quotes() {
        let body = b"timestamp;V;\"D;x\"\n2026-05-31T00:00:00+03:00;120,0;\"a\nb\"\n\"2026-05-31T00:01:00+03:00\";1E-5;\n";
        let window = split(Format::Csv, b';', body).unwrap();
        assert_eq!(window.header.as_deref(), Some(&b"timestamp;V;\"D;x\"\n"[..]));
        assert_eq!(window.records.len(), 2);
        assert_eq!(
            window.records[0].text[..],
            b"2026-05-31T00:00:00+03:00;120,0;\"a\nb\"\n"[..]
        );
        assert_eq!(window.records[1].at.to_string(), "2026-05-30T21:01:00Z");
        assert!(split(Format::Csv, b';', b"timestamp;V\n\n").is_err());
        assert!(split(Format::Csv, b';', b"timestamp;V\nyesterday;1\n").is_err());
    }

    #[test]
    fn json_elements_and_meta_keep_their_text() {
        let body = br#"{"meta":{"a": [1, 2]},"values":[{"timestamp":"2026-05-31T00:00:00Z","signalId":"V","value":120.0} , {"timestamp":"2026-05-31T00:01:00Z","signalId":"V","value":1E-5}],"next":null}"#;
        let window = split(Format::Json, b',', body).unwrap();
        assert_eq!(window.meta.unwrap().get(), r#"{"a": [1, 2]}"#);
        assert_eq!(
            window.records[0].text[..],
            br#"{"timestamp":"2026-05-31T00:00:00Z","signalId":"V","value":120.0}"#[..]
        );
        let bare = split(
            Format::Json,
            b',',
            br#"[{"timestamp":"2026-05-31T00:00:00Z","value":"x"}]"#,
        )
        .unwrap();
        assert!(bare.meta.is_none());
        assert_eq!(bare.records.len(), 1);
        let cut = split(
            Format::Json,
            b',',
            br#"{"values":[{"timestamp":"2026-05-31T00:00:00Z"}"#,
        )
        .unwrap_err();
        assert!(matches!(cut, Error::Truncated(_)), "{cut:?}");
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_record_or_header() {
        let bom = b"\xEF\xBB\xBF";
        let ndjson = b"{\"timestamp\":\"2026-05-31T00:00:00Z\",\"value\":1}\n";
        let window = split(Format::Ndjson, b',', &[&bom[..], ndjson].concat()).unwrap();
        assert_eq!(&window.records[0].text[..], ndjson);
        let csv = b"timestamp;V\n2026-05-31T00:00:00Z;1\n";
        let window = split(Format::Csv, b';', &[&bom[..], csv].concat()).unwrap();
        assert_eq!(window.header.as_deref(), Some(&b"timestamp;V\n"[..]));
        assert_eq!(window.records.len(), 1);
        let json = br#"{"meta":{},"values":[{"timestamp":"2026-05-31T00:00:00Z"}]}"#;
        let window = split(Format::Json, b',', &[&bom[..], json].concat()).unwrap();
        assert_eq!(window.records.len(), 1);
    }

    #[test]
    fn shared_timestamps_and_signals_are_read_once_and_escaped_ones_still_read() {
        let body = concat!(
            "{\"timestamp\":\"2026-05-31T00:00:00Z\",\"signalId\":\"V\",\"value\":1}\n",
            "{\"timestamp\":\"2026-05-31T00:00:00Z\",\"signalId\":\"D\",\"value\":2}\n",
            "{\"timestamp\":\"2026-05-31T00:01:00Z\",\"signalId\":\"D\",\"value\":3}\n",
            "{\"timestamp\":\"\\u0032026-05-31T00:01:00Z\",\"signalId\":\"\\u0056\",\"value\":4}\n",
            "{\"timestamp\":\"2026-05-31T00:01:00Z\",\"value\":5}\n",
        );
        let window = split(Format::Ndjson, b',', body.as_bytes()).unwrap();
        let placed: Vec<(String, Option<&str>)> = window
            .records
            .iter()
            .map(|r| (r.at.to_string(), r.signal.as_deref()))
            .collect();
        assert_eq!(
            placed,
            [
                ("2026-05-31T00:00:00Z".to_owned(), Some("V")),
                ("2026-05-31T00:00:00Z".to_owned(), Some("D")),
                ("2026-05-31T00:01:00Z".to_owned(), Some("D")),
                ("2026-05-31T00:01:00Z".to_owned(), Some("V")),
                ("2026-05-31T00:01:00Z".to_owned(), None),
            ]
        );
        // One signal's records share its name.
        let (one, two) = (&window.records[1].signal, &window.records[2].signal);
        assert!(Arc::ptr_eq(one.as_ref().unwrap(), two.as_ref().unwrap()));
        let err = split(
            Format::Ndjson,
            b',',
            format!("{body}{{\"timestamp\":\"2026-05-31T00:01:00\"}}\n").as_bytes(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("NDJSON line 6"), "{err}");
    }
}
