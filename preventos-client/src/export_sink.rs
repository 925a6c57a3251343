//! Writes the windows of an export as one document of its format, as the one request of
//! the range would have returned it: NDJSON lines and CSV rows as sent (the first
//! window's CSV header, which later ones must repeat), JSON elements as sent inside the
//! first window's `{"meta","values"}` (or a bare array).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::format::Format;
use crate::window_body::WindowBody;

const LF: &[u8] = b"\n";
const CRLF: &[u8] = b"\r\n";

/// Writes windows as one document of the export's format.
pub(crate) struct Sink {
    format: Format,
    meta: Option<bool>,
    started: bool,
    /// CSV: the first window's header, which later ones must repeat.
    header: Option<Vec<u8>>,
    /// JSON: the document is `{"meta","values"}`, not a bare array.
    wrapped: bool,
    /// The line break owed after the last line written: written when another line
    /// follows, or at the end if the server's last body ended with one (so the file
    /// ends as the one request's body would).
    held: Option<&'static [u8]>,
    /// The server's line terminator (`\r\n` or `\n`, from the last line that had
    /// one), owed after a line that had none when another follows.
    line_end: &'static [u8],
    /// The last body with lines ended with a line break.
    last_terminated: bool,
    /// Records written.
    pub(crate) records: u64,
    /// Bytes written.
    pub(crate) bytes: u64,
}

/// What a sink has written so far, kept in a stored export's checkpoint so that a
/// resumed export goes on with the same document (no second CSV header or JSON prefix,
/// a comma before the next JSON element, a line feed after an unterminated line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SinkState {
    started: bool,
    /// The first CSV header, as sent: text when it is UTF-8, else its bytes (the API
    /// names no encoding, so any header must round-trip).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    header: Option<HeaderBytes>,
    wrapped: bool,
    /// The line break owed after the last line (`Some(true)`: `\r\n`).
    #[serde(default)]
    held: Option<bool>,
    /// The line terminator seen last (`\n` unless it was `\r\n`).
    #[serde(default)]
    crlf: bool,
    #[serde(default)]
    last_terminated: bool,
    records: u64,
    bytes: u64,
}

/// A CSV header in a checkpoint: a JSON string when it is UTF-8 (what checkpoints held
/// before, so they still parse), else an array of its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
enum HeaderBytes {
    Text(String),
    Bytes(Vec<u8>),
}

impl HeaderBytes {
    fn new(header: &[u8]) -> HeaderBytes {
        match String::from_utf8(header.to_vec()) {
            Ok(text) => HeaderBytes::Text(text),
            Err(err) => HeaderBytes::Bytes(err.into_bytes()),
        }
    }

    fn into_bytes(self) -> Vec<u8> {
        match self {
            HeaderBytes::Text(text) => text.into_bytes(),
            HeaderBytes::Bytes(bytes) => bytes,
        }
    }
}

impl Sink {
    /// Learns the server's line terminator from a line that has one.
    fn saw_line(&mut self, line: &[u8]) {
        if line.ends_with(CRLF) {
            self.line_end = CRLF;
        } else if line.ends_with(LF) {
            self.line_end = LF;
        }
    }

    /// Where the sink stands, for a checkpoint.
    pub(crate) fn state(&self) -> SinkState {
        SinkState {
            started: self.started,
            header: self.header.as_deref().map(HeaderBytes::new),
            wrapped: self.wrapped,
            held: self.held.map(|end| end == CRLF),
            crlf: self.line_end == CRLF,
            last_terminated: self.last_terminated,
            records: self.records,
            bytes: self.bytes,
        }
    }

    /// A sink that goes on from `state`.
    pub(crate) fn restore(format: Format, meta: Option<bool>, state: SinkState) -> Sink {
        Sink {
            format,
            meta,
            started: state.started,
            header: state.header.map(HeaderBytes::into_bytes),
            wrapped: state.wrapped,
            held: state.held.map(|crlf| if crlf { CRLF } else { LF }),
            line_end: if state.crlf { CRLF } else { LF },
            last_terminated: state.last_terminated,
            records: state.records,
            bytes: state.bytes,
        }
    }

    pub(crate) fn new(format: Format, meta: Option<bool>) -> Sink {
        Sink {
            format,
            meta,
            started: false,
            header: None,
            wrapped: false,
            held: None,
            line_end: LF,
            last_terminated: true,
            records: 0,
            bytes: 0,
        }
    }

    fn put(&mut self, out: &mut Vec<u8>, bytes: &[u8]) {
        out.extend_from_slice(bytes);
        self.bytes += bytes.len() as u64;
    }

    /// Appends to `out` what `window` adds to the document (the caller writes a
    /// window's bytes out whole: line by line into a buffer is a copy each, where an
    /// `AsyncWrite` would be a call each).
    pub(crate) fn write(&mut self, window: WindowBody, out: &mut Vec<u8>) -> Result<()> {
        if !self.started {
            self.started = true;
            match self.format {
                Format::Csv => {
                    let header = window.header.clone().unwrap_or_default();
                    self.put(out, &header);
                    self.saw_line(&header);
                    if !header.ends_with(b"\n") {
                        // A header alone: a row after it needs a break first.
                        self.held = Some(self.line_end);
                    }
                    self.header = Some(header);
                }
                Format::Json => {
                    // The document's shape is the server's: a bare array whether or not
                    // `meta=false` was asked, or the `{"meta","values"}` envelope.
                    self.wrapped = window.wrapped;
                    if self.wrapped {
                        let prefix = match &window.meta {
                            Some(meta) => format!("{{\"meta\":{},\"values\":[", meta.get()),
                            None => "{\"values\":[".to_owned(),
                        };
                        self.put(out, prefix.as_bytes());
                    } else {
                        self.put(out, b"[");
                    }
                }
                Format::Ndjson => {}
            }
        } else if self.format == Format::Csv {
            let trim = |h: &[u8]| {
                h.strip_suffix(b"\n")
                    .map(|h| h.strip_suffix(b"\r").unwrap_or(h))
                    .unwrap_or(h)
                    .to_vec()
            };
            let first = self.header.as_deref().map(trim);
            if window.header.as_deref().map(trim) != first {
                return Err(Error::decode(
                    "the CSV header changed between windows of the export",
                ));
            }
        }
        if window.header.is_some() || !window.records.is_empty() {
            self.last_terminated = window.terminated;
        }
        client_core::metrics::records(crate::client::METRICS_LABEL, window.records.len() as u64);
        for record in window.records {
            match self.format {
                Format::Json => {
                    if self.records > 0 {
                        self.put(out, b",");
                    }
                    self.put(out, &record.text);
                }
                Format::Csv | Format::Ndjson => {
                    if let Some(end) = self.held.take() {
                        self.put(out, end);
                    }
                    self.saw_line(&record.text);
                    let line = without_terminator(&record.text);
                    self.put(out, line);
                    self.held = Some(match record.text.len() - line.len() {
                        2 => CRLF,
                        1 => LF,
                        _ => self.line_end,
                    });
                }
            }
            self.records += 1;
        }
        Ok(())
    }

    /// Appends the end of the document to `out`.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) {
        if self.format == Format::Json {
            if !self.started {
                let empty: &[u8] = if self.meta == Some(false) {
                    b"[]"
                } else {
                    b"{\"values\":[]}"
                };
                self.put(out, empty);
                return;
            }
            let suffix: &[u8] = if self.wrapped { b"]}" } else { b"]" };
            self.put(out, suffix);
        } else if self.last_terminated {
            // The server ends its bodies with a line break: so does the file.
            if let Some(end) = self.held.take() {
                self.put(out, end);
            }
        }
    }
}

/// `line` without its line break (`\r\n` or `\n`).
fn without_terminator(line: &[u8]) -> &[u8] {
    line.strip_suffix(CRLF)
        .or_else(|| line.strip_suffix(LF))
        .unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stored export's state after a header of `header` was written.
    fn state_after(header: &[u8]) -> serde_json::Value {
        let mut sink = Sink::new(Format::Csv, None);
        let window = WindowBody {
            header: Some(header.to_vec()),
            ..WindowBody::default()
        };
        sink.write(window, &mut Vec::new()).unwrap();
        serde_json::to_value(sink.state()).unwrap()
    }

    #[test]
    fn any_csv_header_round_trips_through_the_state() {
        for header in [&b"timestamp;L\xe4mp\xf6tila\n"[..], b"timestamp;Velocity\n"] {
            let state = state_after(header);
            let state: SinkState = serde_json::from_value(state).unwrap();
            let sink = Sink::restore(Format::Csv, None, state);
            assert_eq!(sink.header.as_deref(), Some(header));
        }
        // A UTF-8 header stays a string, as in the checkpoints stored before.
        let state = state_after(b"timestamp;Velocity\n");
        assert_eq!(state["header"], "timestamp;Velocity\n");
    }
}
