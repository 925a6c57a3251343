//! The elements of a JSON array, top-level or under a named key, one at a time.

use std::marker::PhantomData;

use bytes::Bytes;
use futures::Stream;
use serde::de::DeserializeOwned;

use super::driver::{ChunkDecoder, RecordStream, decode_stream};
use super::fast_json::{FastPath, from_slice_fast};
use super::{DecodeOptions, too_large};
use crate::error::{Error, Result};

/// Decodes the elements of a JSON array as they arrive.
///
/// With `key = None` the body must be an array (`[{..},{..}]`). With `key = Some("values")`
/// the body must be an object whose member `values` is the array
/// (`{"meta":{..},"values":[..]}`); other members, before or after it, are skipped without
/// being kept in memory. The stream fails with [`crate::ErrorKind::Truncated`] unless it
/// sees the closing `]` (and, for an object, the closing `}`).
pub fn json_array<T, S>(body: S, key: Option<&str>, options: DecodeOptions) -> RecordStream<T>
where
    T: DeserializeOwned + Send + 'static,
    S: Stream<Item = Result<Bytes>> + Send + 'static,
{
    decode_stream(body, JsonArrayDecoder::new(key, options))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before the opening `[` or `{`.
    Start,
    /// After `{` or a `,` in the wrapping object: a key (or `}` right after `{`).
    ObjectKey { first: bool },
    /// Inside a key string that started at `start`.
    KeyString { start: usize },
    /// After a key, before `:`.
    Colon { target: bool },
    /// After `:`, before the value.
    MemberValue { target: bool },
    /// Inside a member value that is being skipped.
    SkipValue,
    /// After a member value: `,` or `}`.
    AfterMember,
    /// After `[` or a `,` in the array: an element (or `]` right after `[`).
    Element { first: bool },
    /// Inside an element that started at `start`.
    InElement { start: usize },
    /// After an element: `,` or `]`.
    AfterElement,
    /// After the closing bracket: only whitespace may follow.
    Done,
}

/// Finds where one JSON value ends, resumably, without parsing it.
#[derive(Debug, Default, Clone, Copy)]
struct ValueScanner {
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// The value is a bare scalar (number, literal) that ends at a delimiter.
    scalar: bool,
    started: bool,
}

impl ValueScanner {
    /// Scans from `pos`; returns the end (exclusive) of the value, or `None` when the
    /// bytes end first (the state is kept for the next call).
    fn scan(&mut self, bytes: &[u8], mut pos: usize) -> (Option<usize>, usize) {
        if !self.started {
            self.started = true;
            match bytes[pos] {
                b'{' | b'[' => self.depth = 1,
                b'"' => self.in_string = true,
                _ => self.scalar = true,
            }
            pos += 1;
        }
        if self.scalar {
            return match bytes[pos..]
                .iter()
                .position(|b| matches!(b, b',' | b']' | b'}' | b' ' | b'\n' | b'\r' | b'\t'))
            {
                Some(offset) => (Some(pos + offset), pos + offset),
                None => (None, bytes.len()),
            };
        }
        while pos < bytes.len() {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                    pos += 1;
                    continue;
                }
                match memchr::memchr2(b'"', b'\\', &bytes[pos..]) {
                    None => return (None, bytes.len()),
                    Some(offset) => {
                        pos += offset;
                        if bytes[pos] == b'\\' {
                            self.escaped = true;
                        } else {
                            self.in_string = false;
                            if self.depth == 0 {
                                return (Some(pos + 1), pos + 1);
                            }
                        }
                        pos += 1;
                    }
                }
                continue;
            }
            match bytes[pos] {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        return (Some(pos + 1), pos + 1);
                    }
                }
                _ => {}
            }
            pos += 1;
        }
        (None, bytes.len())
    }
}

/// The push decoder behind [`json_array`].
#[derive(Debug)]
pub struct JsonArrayDecoder<T> {
    buf: Vec<u8>,
    pos: usize,
    phase: Phase,
    scanner: ValueScanner,
    /// The current element is being scanned for its end (it did not fit one chunk).
    element_scan: bool,
    key: Option<Vec<u8>>,
    key_found: bool,
    max_record_size: usize,
    index: u64,
    fast: Option<FastPath<T>>,
    _records: PhantomData<fn() -> T>,
    metrics_label: Option<&'static str>,
}

impl<T> JsonArrayDecoder<T> {
    /// A decoder of a top-level array (`key = None`) or of the array under `key`.
    pub fn new(key: Option<&str>, options: DecodeOptions) -> Self {
        JsonArrayDecoder {
            metrics_label: options.metrics_label,
            buf: Vec::new(),
            pos: 0,
            phase: Phase::Start,
            scanner: ValueScanner::default(),
            element_scan: false,
            key: key.map(|k| k.as_bytes().to_vec()),
            key_found: false,
            max_record_size: options.max_record_size,
            index: 0,
            fast: None,
            _records: PhantomData,
        }
    }

    /// Decodes each element by `fast` first when it is `Some` (see
    /// [`super::fast_path`]); serde decodes the elements it declines. The records and
    /// errors are the same.
    pub fn with_fast_path(mut self, fast: Option<FastPath<T>>) -> Self {
        self.fast = fast;
        self
    }

    fn where_(&self) -> String {
        match &self.key {
            Some(key) => format!("the `{}` array", String::from_utf8_lossy(key)),
            None => "the JSON array".to_owned(),
        }
    }

    /// The next non-whitespace byte at or after `pos`, moving `pos` to it.
    fn next_token(&mut self) -> Option<u8> {
        while let Some(&b) = self.buf.get(self.pos) {
            if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(b);
            }
            self.pos += 1;
        }
        None
    }

    fn unexpected(&self, byte: u8, expected: &str) -> Error {
        Error::decode(format!(
            "invalid JSON in {}: found `{}` where {expected} was expected",
            self.where_(),
            byte.escape_ascii()
        ))
    }

    /// Where the bytes still needed start: everything before can be dropped.
    fn keep_from(&self) -> usize {
        match self.phase {
            Phase::InElement { start } | Phase::KeyString { start } => start,
            _ => self.pos,
        }
    }
}

impl<T: DeserializeOwned> JsonArrayDecoder<T> {
    /// Runs the state machine over the buffered bytes.
    fn process(&mut self, out: &mut Vec<T>) -> Result<()> {
        loop {
            match self.phase {
                Phase::Start => {
                    let Some(b) = self.next_token() else { return Ok(()) };
                    self.pos += 1;
                    self.phase = match (b, &self.key) {
                        (b'[', None) => Phase::Element { first: true },
                        (b'{', Some(_)) => Phase::ObjectKey { first: true },
                        (b, None) => return Err(self.unexpected(b, "`[`")),
                        (b, Some(_)) => return Err(self.unexpected(b, "`{`")),
                    };
                }
                Phase::ObjectKey { first } => {
                    let Some(b) = self.next_token() else { return Ok(()) };
                    self.pos += 1;
                    self.phase = match b {
                        b'"' => {
                            self.scanner = ValueScanner {
                                in_string: true,
                                started: true,
                                ..Default::default()
                            };
                            Phase::KeyString { start: self.pos }
                        }
                        b'}' if first => Phase::Done,
                        b => return Err(self.unexpected(b, "a member name")),
                    };
                }
                Phase::KeyString { start } => match self.scanner.scan(&self.buf, self.pos) {
                    (Some(end), _) => {
                        let name = &self.buf[start..end - 1];
                        let target = self.key.as_deref() == Some(name);
                        self.pos = end;
                        self.phase = Phase::Colon { target };
                    }
                    (None, pos) => {
                        // The scan resumes at `pos` with the next chunk: linear in the key.
                        self.pos = pos;
                        if self.buf.len() - start > self.max_record_size {
                            return Err(too_large(
                                "member name at element",
                                self.index,
                                self.max_record_size,
                            ));
                        }
                        return Ok(());
                    }
                },
                Phase::Colon { target } => {
                    let Some(b) = self.next_token() else { return Ok(()) };
                    if b != b':' {
                        return Err(self.unexpected(b, "`:`"));
                    }
                    self.pos += 1;
                    self.phase = Phase::MemberValue { target };
                }
                Phase::MemberValue { target } => {
                    let Some(b) = self.next_token() else { return Ok(()) };
                    if target {
                        if b != b'[' {
                            return Err(self.unexpected(b, "an array"));
                        }
                        self.key_found = true;
                        self.pos += 1;
                        self.phase = Phase::Element { first: true };
                    } else {
                        self.scanner = ValueScanner::default();
                        self.phase = Phase::SkipValue;
                    }
                }
                Phase::SkipValue => match self.scanner.scan(&self.buf, self.pos) {
                    (Some(end), _) => {
                        self.pos = end;
                        self.phase = Phase::AfterMember;
                    }
                    (None, pos) => {
                        self.pos = pos;
                        return Ok(());
                    }
                },
                Phase::AfterMember => {
                    let Some(b) = self.next_token() else { return Ok(()) };
                    self.pos += 1;
                    self.phase = match b {
                        b',' => Phase::ObjectKey { first: false },
                        b'}' => Phase::Done,
                        b => return Err(self.unexpected(b, "`,` or `}`")),
                    };
                }
                Phase::Element { first } => {
                    let Some(b) = self.next_token() else { return Ok(()) };
                    if b == b']' && first {
                        self.pos += 1;
                        self.phase = self.after_array();
                    } else {
                        self.scanner = ValueScanner::default();
                        self.element_scan = false;
                        self.phase = Phase::InElement { start: self.pos };
                    }
                }
                Phase::InElement { start } => {
                    let complete = if self.element_scan || !matches!(self.buf[start], b'{' | b'[' | b'"') {
                        self.scan_element(start, out)?
                    } else {
                        self.parse_element(start, out)?
                    };
                    if !complete {
                        if self.buf.len() - start > self.max_record_size {
                            return Err(too_large("array element", self.index + 1, self.max_record_size));
                        }
                        return Ok(());
                    }
                    self.phase = Phase::AfterElement;
                }
                Phase::AfterElement => {
                    let Some(b) = self.next_token() else { return Ok(()) };
                    self.pos += 1;
                    self.phase = match b {
                        b',' => Phase::Element { first: false },
                        b']' => self.after_array(),
                        b => return Err(self.unexpected(b, "`,` or `]`")),
                    };
                }
                Phase::Done => {
                    return match self.next_token() {
                        None => Ok(()),
                        Some(b) => Err(self.unexpected(b, "the end of the body")),
                    };
                }
            }
        }
    }

    /// Parses the object, array or string element at `start` straight from the buffer:
    /// serde_json finds its end, so the bytes are read once. An element cut by the chunk
    /// boundary fails with an end-of-input error and is parsed again from `start` when
    /// more bytes arrive (at most one element per chunk pays this). Returns whether the
    /// element was complete.
    fn parse_element(&mut self, start: usize, out: &mut Vec<T>) -> Result<bool> {
        if let Some((record, length)) = self.fast.and_then(|fast| fast(&self.buf[start..])) {
            self.index += 1;
            if length > self.max_record_size {
                return Err(too_large("array element", self.index, self.max_record_size));
            }
            out.push(record);
            self.pos = start + length;
            return Ok(true);
        }
        let mut records = serde_json::Deserializer::from_slice(&self.buf[start..]).into_iter::<T>();
        match records.next() {
            Some(Ok(record)) => {
                let end = start + records.byte_offset();
                self.index += 1;
                if end - start > self.max_record_size {
                    return Err(too_large("array element", self.index, self.max_record_size));
                }
                out.push(record);
                self.pos = end;
                Ok(true)
            }
            // Cut by the chunk boundary. serde_json reports most cuts as the end of the
            // input, but a number it skips rather than parses (an unknown member, an
            // `IgnoredAny`) cut after `-`, `.` or `e` comes back as an invalid number.
            // So any error hands the element to the resumable scanner: an element whose
            // end is not in the buffer yet waits for more bytes, and a complete one is
            // parsed alone, which reports its real error. From then on the element's end
            // is found by the scanner, so a large element arriving in many small chunks
            // is read once, not re-parsed from its start at every chunk.
            Some(Err(_)) => {
                self.element_scan = true;
                self.scanner = ValueScanner::default();
                self.pos = start;
                self.scan_element(start, out)
            }
            None => Ok(false),
        }
    }

    /// Finds the element's end with the resumable scanner, then parses it once. Used for
    /// numbers and literals (a number at the end of the buffer may continue in the next
    /// chunk) and for elements split across chunks.
    fn scan_element(&mut self, start: usize, out: &mut Vec<T>) -> Result<bool> {
        let (Some(end), _) = self.scanner.scan(&self.buf, self.pos) else {
            self.pos = self.buf.len();
            return Ok(false);
        };
        self.element_scan = false;
        self.index += 1;
        if end - start > self.max_record_size {
            return Err(too_large("array element", self.index, self.max_record_size));
        }
        let record = from_slice_fast(&self.buf[start..end], self.fast)
            .map_err(|e| Error::decode(format!("element {} of {}: {e}", self.index, self.where_())))?;
        out.push(record);
        self.pos = end;
        Ok(true)
    }

    fn after_array(&self) -> Phase {
        if self.key.is_some() {
            Phase::AfterMember
        } else {
            Phase::Done
        }
    }
}

impl<T: DeserializeOwned> ChunkDecoder<T> for JsonArrayDecoder<T> {
    fn feed(&mut self, chunk: &[u8], out: &mut Vec<T>) -> Result<()> {
        self.buf.extend_from_slice(chunk);
        let result = self.process(out);
        let keep = self.keep_from();
        self.buf.drain(..keep);
        self.pos -= keep;
        if let Phase::InElement { start } | Phase::KeyString { start } = &mut self.phase {
            *start -= keep;
        }
        result
    }

    fn finish(&mut self, out: &mut Vec<T>) -> Result<()> {
        self.process(out)?;
        match self.phase {
            Phase::Done if self.key.is_none() || self.key_found => Ok(()),
            Phase::Done => Err(Error::decode(format!("the response has no {}", self.where_()))),
            Phase::Start => Err(Error::truncated(format!(
                "the body is empty; expected {}",
                self.where_()
            ))),
            _ => Err(Error::truncated(format!(
                "the body ended before the end of {} (after {} elements): the response was cut off",
                self.where_(),
                self.index
            ))),
        }
    }

    fn metrics_label(&self) -> Option<&'static str> {
        self.metrics_label
    }
}
