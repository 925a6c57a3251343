//! The event stream's framing: one JSON message per line (NDJSON), or SSE `data:` lines
//! ending with a blank line. Lines longer than a limit are an error, never a runaway
//! buffer.

use bytes::Bytes;
use futures::{Stream, StreamExt};

use crate::error::Error;

/// The longest line accepted (1 MiB): a stream message is an event of a few KiB.
pub(crate) const MAX_LINE: usize = 1024 * 1024;

/// Splits a byte stream into lines (without `\n` or `\r\n`).
pub(crate) struct Lines<S> {
    body: S,
    buffer: Vec<u8>,
    scanned: usize,
    ended: bool,
}

impl<S> Lines<S>
where
    S: Stream<Item = Result<Bytes, client_core::Error>> + Unpin,
{
    pub(crate) fn new(body: S) -> Self {
        Lines {
            body,
            buffer: Vec::new(),
            scanned: 0,
            ended: false,
        }
    }

    /// The next line; `None` at the end of the body. A body that ends inside a line gives
    /// that line (a stream has no final-newline promise); a line over [`MAX_LINE`] is a
    /// decode error.
    pub(crate) async fn next_line(&mut self) -> Option<Result<Vec<u8>, Error>> {
        loop {
            if let Some(offset) = memchr::memchr(b'\n', &self.buffer[self.scanned..]) {
                let end = self.scanned + offset;
                let mut line: Vec<u8> = self.buffer.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                self.scanned = 0;
                return Some(Ok(line));
            }
            self.scanned = self.buffer.len();
            if self.buffer.len() > MAX_LINE {
                self.ended = true;
                self.buffer.clear();
                self.scanned = 0;
                return Some(Err(Error::Decode(client_core::Error::decode(format!(
                    "a stream message is longer than {MAX_LINE} bytes"
                )))));
            }
            if self.ended {
                if self.buffer.is_empty() {
                    return None;
                }
                self.scanned = 0;
                return Some(Ok(std::mem::take(&mut self.buffer)));
            }
            match self.body.next().await {
                Some(Ok(chunk)) => self.buffer.extend_from_slice(&chunk),
                Some(Err(err)) => {
                    self.ended = true;
                    self.buffer.clear();
                    self.scanned = 0;
                    return Some(Err(Error::from(err)));
                }
                None => self.ended = true,
            }
        }
    }
}

/// Assembles messages from lines: each non-empty line for NDJSON; for SSE, the `data:`
/// lines of an event joined by `\n`, ended by a blank line (comments, `event:`, `id:` and
/// `retry:` lines are skipped).
#[derive(Debug, Default)]
pub(crate) struct Messages {
    sse: bool,
    pending: Vec<u8>,
}

impl Messages {
    pub(crate) fn new(sse: bool) -> Self {
        Messages {
            sse,
            pending: Vec::new(),
        }
    }

    /// Takes one line; returns a complete message when the line completes one.
    pub(crate) fn push(&mut self, line: Vec<u8>) -> Option<Vec<u8>> {
        let blank = line.iter().all(u8::is_ascii_whitespace);
        if !self.sse {
            return (!blank).then_some(line);
        }
        if blank {
            return (!self.pending.is_empty()).then(|| std::mem::take(&mut self.pending));
        }
        if let Some(data) = line.strip_prefix(b"data:") {
            let data = data.strip_prefix(b" ").unwrap_or(data);
            if !self.pending.is_empty() {
                self.pending.push(b'\n');
            }
            self.pending.extend_from_slice(data);
        }
        None
    }

    /// What is left when the body ends (an SSE event without its blank line).
    pub(crate) fn finish(&mut self) -> Option<Vec<u8>> {
        (!self.pending.is_empty()).then(|| std::mem::take(&mut self.pending))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(chunks: &[&str]) -> impl Stream<Item = Result<Bytes, client_core::Error>> + Unpin + use<> {
        let chunks: Vec<Result<Bytes, client_core::Error>> = chunks
            .iter()
            .map(|c| Ok(Bytes::from(c.as_bytes().to_vec())))
            .collect();
        futures::stream::iter(chunks)
    }

    async fn lines(chunks: &[&str]) -> Vec<String> {
        let mut lines = Lines::new(body(chunks));
        let mut out = Vec::new();
        while let Some(line) = lines.next_line().await {
            out.push(String::from_utf8(line.unwrap()).unwrap());
        }
        out
    }

    #[tokio::test]
    async fn lines_split_across_chunks_and_crlf() {
        assert_eq!(lines(&["a\nb", "c\r\n", "\nlast"]).await, ["a", "bc", "", "last"]);
    }

    #[tokio::test]
    async fn a_huge_line_is_an_error() {
        let huge = "x".repeat(MAX_LINE + 10);
        let mut lines = Lines::new(body(&[&huge, "\n"]));
        assert!(matches!(lines.next_line().await, Some(Err(Error::Decode(_)))));
        assert!(lines.next_line().await.is_none());
    }

    #[test]
    fn sse_data_lines_make_one_message_per_blank_line() {
        let mut messages = Messages::new(true);
        let mut out = Vec::new();
        for line in [
            ": comment",
            "event: message",
            "data: {\"a\":",
            "data: 1}",
            "",
            "",
            "data:{}",
            "",
        ] {
            if let Some(m) = messages.push(line.as_bytes().to_vec()) {
                out.push(String::from_utf8(m).unwrap());
            }
        }
        assert_eq!(out, ["{\"a\":\n1}", "{}"]);
        let mut ndjson = Messages::new(false);
        assert_eq!(ndjson.push(b"{}".to_vec()), Some(b"{}".to_vec()));
        assert_eq!(ndjson.push(b"  ".to_vec()), None);
    }
}
