//! The UTF-8 byte-order mark: some servers (and every spreadsheet export) start a body
//! with one. It is not part of the data: every decoder skips it at the start of a body,
//! so that it never ends up in a first CSV header name or fails a JSON parse. Raw copies
//! ([`copy_to_writer`](super::copy_to_writer)) keep it: they store the bytes as sent.

use std::borrow::Cow;

/// The UTF-8 encoding of U+FEFF.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// `body` without the byte-order mark it starts with, if any (for a body read whole).
pub fn skip_bom(body: &[u8]) -> &[u8] {
    body.strip_prefix(UTF8_BOM).unwrap_or(body)
}

/// Skips a byte-order mark at the start of a body read in chunks, even when it is split
/// across them: the bytes that may start one are held back until the mark is complete
/// (and dropped) or ruled out (and handed on).
#[derive(Debug, Default)]
pub struct BomSkipper {
    /// The bytes of a possible mark seen so far (a proper prefix of it).
    held: Vec<u8>,
    /// The start of the body is behind: every chunk goes through unchanged.
    decided: bool,
}

impl BomSkipper {
    /// A skipper at the start of a body.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bytes of `chunk` to decode: the chunk without the mark (or the part of it
    /// that completes one), the held bytes in front once a mark is ruled out, or nothing
    /// while a mark may still be coming.
    pub fn strip<'a>(&mut self, chunk: &'a [u8]) -> Cow<'a, [u8]> {
        if self.decided {
            return Cow::Borrowed(chunk);
        }
        let wanted = UTF8_BOM.len() - self.held.len();
        let take = wanted.min(chunk.len());
        let (head, rest) = chunk.split_at(take);
        if UTF8_BOM[self.held.len()..self.held.len() + take] != *head {
            // Not a mark: what was held is data, in front of this chunk.
            self.decided = true;
            if self.held.is_empty() {
                return Cow::Borrowed(chunk);
            }
            let mut joined = std::mem::take(&mut self.held);
            joined.extend_from_slice(chunk);
            return Cow::Owned(joined);
        }
        if take < wanted {
            // Still a prefix of a mark: hold it.
            self.held.extend_from_slice(head);
            return Cow::Borrowed(&[]);
        }
        self.decided = true;
        self.held = Vec::new();
        Cow::Borrowed(rest)
    }

    /// At the end of the body: the bytes held back (a body that is only the start of a
    /// mark), which are data.
    pub fn finish(&mut self) -> Vec<u8> {
        self.decided = true;
        std::mem::take(&mut self.held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `chunks` through a skipper and joins what comes out.
    fn through(chunks: &[&[u8]]) -> Vec<u8> {
        let mut skipper = BomSkipper::new();
        let mut out = Vec::new();
        for chunk in chunks {
            out.extend_from_slice(&skipper.strip(chunk));
        }
        out.extend(skipper.finish());
        out
    }

    #[test]
    fn a_mark_is_dropped_however_it_is_split() {
        let body = b"\xEF\xBB\xBF{\"a\":1}";
        for first in 0..=body.len() {
            for second in first..=body.len() {
                let out = through(&[&body[..first], &body[first..second], &body[second..]]);
                assert_eq!(out, b"{\"a\":1}", "cut at {first} and {second}");
            }
        }
    }

    #[test]
    fn bytes_that_only_start_like_a_mark_are_kept() {
        assert_eq!(through(&[b"\xEF", b"x"]), b"\xEFx");
        assert_eq!(through(&[b"\xEF\xBB", b"\xBE"]), b"\xEF\xBB\xBE");
        assert_eq!(through(&[b"\xEF\xBB"]), b"\xEF\xBB");
        assert_eq!(through(&[b"a\xEF\xBB\xBF"]), b"a\xEF\xBB\xBF");
        // Only the first mark is the body's: a second one is data.
        assert_eq!(through(&[b"\xEF\xBB\xBF\xEF\xBB\xBF"]), b"\xEF\xBB\xBF");
        assert_eq!(skip_bom(b"\xEF\xBB\xBFx"), b"x");
        assert_eq!(skip_bom(b"x"), b"x");
    }
}
