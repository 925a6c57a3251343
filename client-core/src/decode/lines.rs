//! The one line splitter: NDJSON bodies and line-framed streams (DT's NDJSON and SSE)
//! are cut into lines here, each line bounded in size.

use bytes::Bytes;
use futures::Stream;

use super::driver::{ChunkDecoder, RecordStream, decode_stream};
use super::{DecodeOptions, too_large};
use crate::error::Result;

/// Cuts bytes fed one chunk at a time into lines (`\n`-terminated; a `\r` before the
/// `\n` is removed). Whole lines are handed out straight from the chunk, without
/// copying; only a line split across chunks is buffered, and a line longer than the
/// limit is an [`ErrorKind::RecordTooLarge`](crate::ErrorKind::RecordTooLarge) error
/// instead of a growing buffer.
#[derive(Debug)]
pub struct LineSplitter {
    /// The start of a line whose end has not arrived yet.
    partial: Vec<u8>,
    max_line: usize,
    /// Lines completed so far.
    line: u64,
    /// What a line is called in errors (`NDJSON line`).
    what: &'static str,
}

impl LineSplitter {
    /// A splitter refusing lines over `max_line` bytes, naming them `what` in errors.
    pub fn new(max_line: usize, what: &'static str) -> Self {
        LineSplitter {
            partial: Vec::new(),
            max_line: max_line.max(1),
            line: 0,
            what,
        }
    }

    /// The number of lines handed out so far (the 1-based number of the last one).
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Calls `on_line` with the number and the text of each line `chunk` completes. An
    /// error from `on_line` stops the feed and is returned.
    pub fn feed(
        &mut self,
        mut chunk: &[u8],
        mut on_line: impl FnMut(u64, &[u8]) -> Result<()>,
    ) -> Result<()> {
        if !self.partial.is_empty() {
            let Some(newline) = memchr::memchr(b'\n', chunk) else {
                if self.partial.len() + chunk.len() > self.max_line {
                    return Err(too_large(self.what, self.line + 1, self.max_line));
                }
                self.partial.extend_from_slice(chunk);
                return Ok(());
            };
            if self.partial.len() + newline > self.max_line {
                return Err(too_large(self.what, self.line + 1, self.max_line));
            }
            let mut line = std::mem::take(&mut self.partial);
            line.extend_from_slice(&chunk[..newline]);
            self.line += 1;
            let result = on_line(self.line, trim_cr(&line));
            // Keep the allocation for the next partial line.
            line.clear();
            self.partial = line;
            result?;
            chunk = &chunk[newline + 1..];
        }
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', chunk) {
            let line = &chunk[start..end];
            start = end + 1;
            if line.len() > self.max_line {
                return Err(too_large(self.what, self.line + 1, self.max_line));
            }
            self.line += 1;
            on_line(self.line, trim_cr(line))?;
        }
        let rest = &chunk[start..];
        if rest.len() > self.max_line {
            return Err(too_large(self.what, self.line + 1, self.max_line));
        }
        self.partial.extend_from_slice(rest);
        Ok(())
    }

    /// At the end of the body: the last line when it has no terminator (`None` when
    /// the body ended with one), with its number.
    pub fn finish(&mut self) -> Option<(u64, Vec<u8>)> {
        if self.partial.is_empty() {
            return None;
        }
        self.line += 1;
        let mut last = std::mem::take(&mut self.partial);
        if last.last() == Some(&b'\r') {
            last.pop();
        }
        Some((self.line, last))
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// The lines of a body, without their terminators; a last line without one is given
/// too (a stream has no final-newline promise). Lines over
/// [`DecodeOptions::max_record_size`] are an error.
pub fn lines<S>(body: S, options: DecodeOptions) -> RecordStream<Bytes>
where
    S: Stream<Item = Result<Bytes>> + Send + 'static,
{
    decode_stream(
        body,
        LinesDecoder {
            splitter: LineSplitter::new(options.max_record_size, "line"),
        },
    )
}

/// The push decoder behind [`lines`].
#[derive(Debug)]
struct LinesDecoder {
    splitter: LineSplitter,
}

impl ChunkDecoder<Bytes> for LinesDecoder {
    fn feed(&mut self, chunk: &[u8], out: &mut Vec<Bytes>) -> Result<()> {
        self.splitter.feed(chunk, |_, line| {
            out.push(Bytes::copy_from_slice(line));
            Ok(())
        })
    }

    fn finish(&mut self, out: &mut Vec<Bytes>) -> Result<()> {
        if let Some((_, last)) = self.splitter.finish() {
            out.push(Bytes::from(last));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use futures::TryStreamExt;

    use super::*;

    async fn split(chunks: &[&str], max: usize) -> Result<Vec<String>> {
        let body: Vec<Result<Bytes>> = chunks
            .iter()
            .map(|c| Ok(Bytes::from(c.as_bytes().to_vec())))
            .collect();
        let options = DecodeOptions::default().with_max_record_size(max);
        let lines: Vec<Bytes> = lines(futures::stream::iter(body), options).try_collect().await?;
        Ok(lines
            .iter()
            .map(|l| String::from_utf8(l.to_vec()).unwrap())
            .collect())
    }

    #[tokio::test]
    async fn lines_split_across_chunks_with_crlf_and_a_last_line_without_newline() {
        assert_eq!(
            split(&["a\nb", "c\r\n", "\nlast"], 100).await.unwrap(),
            ["a", "bc", "", "last"]
        );
    }

    #[tokio::test]
    async fn a_line_over_the_limit_is_an_error_wherever_it_is_cut() {
        for chunks in [&["0123456789\n"][..], &["01234", "56789\n"], &["0123456789"]] {
            let err = split(chunks, 5).await.unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::RecordTooLarge, "{chunks:?}");
        }
        assert_eq!(split(&["01234\n", "56789"], 5).await.unwrap(), ["01234", "56789"]);
    }
}
