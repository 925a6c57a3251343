//! The live stream's messages from its lines: one JSON message per non-blank line
//! (NDJSON), or for Server-Sent Events the `data:` lines of an event joined by `\n`,
//! ended by a blank line. The lines themselves come from client-core's line splitter,
//! which caps each line; a message of many lines is capped here, at the same limit.

use client_core::ErrorKind;

/// Assembles messages from lines. For SSE, comments and `event:`, `id:` and `retry:`
/// lines are skipped.
#[derive(Debug)]
pub(crate) struct Messages {
    sse: bool,
    max_message: usize,
    pending: Vec<u8>,
}

impl Messages {
    /// Messages of an SSE body when `sse`, else of an NDJSON body, each at most
    /// `max_message` bytes.
    pub(crate) fn new(sse: bool, max_message: usize) -> Self {
        Messages {
            sse,
            max_message,
            pending: Vec::new(),
        }
    }

    /// Takes one line (without its terminator); returns a complete message when the
    /// line completes one, and a [`ErrorKind::RecordTooLarge`] error when an SSE event's
    /// `data:` lines add up to more than the limit (a server that never sends the blank
    /// line must not grow the message without bound).
    pub(crate) fn push(&mut self, line: &[u8]) -> Result<Option<Vec<u8>>, client_core::Error> {
        let blank = line.iter().all(u8::is_ascii_whitespace);
        if !self.sse {
            return Ok((!blank).then(|| line.to_vec()));
        }
        if blank {
            return Ok(self.finish());
        }
        if let Some(data) = line.strip_prefix(b"data:") {
            let data = data.strip_prefix(b" ").unwrap_or(data);
            let separator = usize::from(!self.pending.is_empty());
            if self.pending.len() + separator + data.len() > self.max_message {
                self.pending = Vec::new();
                return Err(client_core::Error::new(
                    ErrorKind::RecordTooLarge,
                    format!(
                        "an event stream message is larger than the {}-byte limit",
                        self.max_message
                    ),
                ));
            }
            if separator == 1 {
                self.pending.push(b'\n');
            }
            self.pending.extend_from_slice(data);
        }
        Ok(None)
    }

    /// What is left when the body ends (an SSE event without its blank line).
    pub(crate) fn finish(&mut self) -> Option<Vec<u8>> {
        (!self.pending.is_empty()).then(|| std::mem::take(&mut self.pending))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_data_lines_make_one_message_per_blank_line() {
        let mut messages = Messages::new(true, 1024);
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
            "data: [1]",
        ] {
            if let Some(m) = messages.push(line.as_bytes()).unwrap() {
                out.push(String::from_utf8(m).unwrap());
            }
        }
        assert_eq!(out, ["{\"a\":\n1}", "{}"]);
        assert_eq!(messages.finish(), Some(b"[1]".to_vec()));
        let mut ndjson = Messages::new(false, 1024);
        assert_eq!(ndjson.push(b"{}").unwrap(), Some(b"{}".to_vec()));
        assert_eq!(ndjson.push(b"  ").unwrap(), None);
        assert_eq!(ndjson.finish(), None);
    }

    #[test]
    fn an_sse_message_over_the_limit_is_refused_not_grown() {
        let mut messages = Messages::new(true, 10);
        // Exactly at the limit: `12345\n6789` is 10 bytes.
        assert_eq!(messages.push(b"data: 12345").unwrap(), None);
        assert_eq!(messages.push(b"data: 6789").unwrap(), None);
        assert_eq!(messages.push(b"").unwrap(), Some(b"12345\n6789".to_vec()));
        // One byte over, by the separator of many short lines.
        for _ in 0..5 {
            assert_eq!(messages.push(b"data: x").unwrap(), None);
        }
        let err = messages.push(b"data: x").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::RecordTooLarge);
        assert_eq!(messages.finish(), None, "the oversized message is dropped");
    }
}
