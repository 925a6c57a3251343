//! Storing records as the server sent them, one per line: the lossless NDJSON that a
//! read of several pages or windows writes.

use tokio::io::{AsyncWrite, AsyncWriteExt, BufWriter};

use crate::error::Result;
use crate::shape::Written;

/// Writes records' texts as NDJSON, one per line, and counts what it wrote: the body of
/// every `copy_to` that stores a paged or windowed read losslessly.
///
/// A record's text is written as sent, except that line breaks between its tokens
/// become spaces (JSON allows them there, NDJSON does not; a JSON string cannot hold a
/// raw line break, so no value changes).
///
/// ```
/// # async fn run() -> client_core::Result<()> {
/// use client_core::decode::NdjsonWriter;
///
/// let mut file = Vec::new();
/// let mut lines = NdjsonWriter::new(&mut file);
/// lines.request();
/// lines.record(r#"{"value":1.50}"#).await?;
/// lines.record("{\"a\":\n 1}").await?;
/// let written = lines.finish().await?;
/// assert_eq!(file, b"{\"value\":1.50}\n{\"a\":  1}\n");
/// assert_eq!((written.requests, written.records, written.bytes), (1, 2, 24));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct NdjsonWriter<'a, W: AsyncWrite + Unpin + ?Sized> {
    out: BufWriter<&'a mut W>,
    line: Vec<u8>,
    written: Written,
}

impl<'a, W: AsyncWrite + Unpin + ?Sized> NdjsonWriter<'a, W> {
    /// A writer into `writer` (buffered here).
    pub fn new(writer: &'a mut W) -> Self {
        NdjsonWriter {
            out: BufWriter::new(writer),
            line: Vec::new(),
            written: Written::default(),
        }
    }

    /// Counts a request sent for the records (a page, a window).
    pub fn request(&mut self) {
        self.requests(1);
    }

    /// Counts `count` requests sent for the records.
    pub fn requests(&mut self, count: u64) {
        self.written.requests += count;
    }

    /// Writes one record's text as one line.
    pub async fn record(&mut self, text: &str) -> Result<()> {
        self.line.clear();
        self.line.extend_from_slice(text.as_bytes());
        for byte in &mut self.line {
            if matches!(*byte, b'\n' | b'\r') {
                *byte = b' ';
            }
        }
        self.line.push(b'\n');
        self.out.write_all(&self.line).await?;
        self.written.records += 1;
        self.written.bytes += self.line.len() as u64;
        Ok(())
    }

    /// Flushes everything to the writer and says what was written.
    pub async fn finish(mut self) -> Result<Written> {
        self.out.flush().await?;
        Ok(self.written)
    }
}
