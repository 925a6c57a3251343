//! Writes the windows of an export as one document of its format, as the one request of
//! the range would have returned it: NDJSON lines and CSV rows as sent (the first
//! window's CSV header, which later ones must repeat), JSON elements as sent inside the
//! first window's `{"meta","values"}` (or a bare array).

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::error::{Error, Result};
use crate::format::Format;
use crate::window_body::WindowBody;

/// Writes windows as one document of the export's format.
pub(crate) struct Sink {
    format: Format,
    meta: Option<bool>,
    started: bool,
    /// CSV: the first window's header, which later ones must repeat.
    header: Option<Vec<u8>>,
    /// JSON: the document is `{"meta","values"}`, not a bare array.
    wrapped: bool,
    /// The last record written had no line terminator.
    open_line: bool,
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
    /// The first CSV header, as sent (UTF-8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    header: Option<String>,
    wrapped: bool,
    open_line: bool,
    records: u64,
    bytes: u64,
}

impl Sink {
    /// Where the sink stands, for a checkpoint.
    pub(crate) fn state(&self) -> Result<SinkState> {
        let header = match &self.header {
            Some(header) => Some(
                String::from_utf8(header.clone())
                    .map_err(|_| Error::decode("the CSV header is not UTF-8"))?,
            ),
            None => None,
        };
        Ok(SinkState {
            started: self.started,
            header,
            wrapped: self.wrapped,
            open_line: self.open_line,
            records: self.records,
            bytes: self.bytes,
        })
    }

    /// A sink that goes on from `state`.
    pub(crate) fn restore(format: Format, meta: Option<bool>, state: SinkState) -> Sink {
        Sink {
            format,
            meta,
            started: state.started,
            header: state.header.map(String::into_bytes),
            wrapped: state.wrapped,
            open_line: state.open_line,
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
            open_line: false,
            records: 0,
            bytes: 0,
        }
    }

    async fn put<W: AsyncWrite + Unpin + ?Sized>(&mut self, writer: &mut W, bytes: &[u8]) -> Result<()> {
        writer.write_all(bytes).await?;
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    pub(crate) async fn write<W: AsyncWrite + Unpin + ?Sized>(
        &mut self,
        window: WindowBody,
        writer: &mut W,
    ) -> Result<()> {
        if !self.started {
            self.started = true;
            match self.format {
                Format::Csv => {
                    let header = window.header.clone().unwrap_or_default();
                    self.put(writer, &header).await?;
                    self.open_line = !header.ends_with(b"\n");
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
                        self.put(writer, prefix.as_bytes()).await?;
                    } else {
                        self.put(writer, b"[").await?;
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
        for record in window.records {
            match self.format {
                Format::Json => {
                    if self.records > 0 {
                        self.put(writer, b",").await?;
                    }
                    self.put(writer, &record.text).await?;
                }
                Format::Csv | Format::Ndjson => {
                    if self.open_line {
                        self.put(writer, b"\n").await?;
                    }
                    self.put(writer, &record.text).await?;
                    self.open_line = !record.terminated();
                }
            }
            self.records += 1;
        }
        Ok(())
    }

    pub(crate) async fn finish<W: AsyncWrite + Unpin + ?Sized>(&mut self, writer: &mut W) -> Result<()> {
        if self.format == Format::Json {
            if !self.started {
                let empty: &[u8] = if self.meta == Some(false) {
                    b"[]"
                } else {
                    b"{\"values\":[]}"
                };
                return self.put(writer, empty).await;
            }
            let suffix: &[u8] = if self.wrapped { b"]}" } else { b"]" };
            self.put(writer, suffix).await?;
        }
        Ok(())
    }
}
