//! The live stream's messages from its lines: one JSON message per non-blank line
//! (NDJSON), or for Server-Sent Events the `data:` lines of an event joined by `\n`,
//! ended by a blank line. The lines themselves come from client-core's line splitter.

/// Assembles messages from lines. For SSE, comments and `event:`, `id:` and `retry:`
/// lines are skipped.
#[derive(Debug, Default)]
pub(crate) struct Messages {
    sse: bool,
    pending: Vec<u8>,
}

impl Messages {
    /// Messages of an SSE body when `sse`, else of an NDJSON body.
    pub(crate) fn new(sse: bool) -> Self {
        Messages {
            sse,
            pending: Vec::new(),
        }
    }

    /// Takes one line (without its terminator); returns a complete message when the
    /// line completes one.
    pub(crate) fn push(&mut self, line: &[u8]) -> Option<Vec<u8>> {
        let blank = line.iter().all(u8::is_ascii_whitespace);
        if !self.sse {
            return (!blank).then(|| line.to_vec());
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
            "data: [1]",
        ] {
            if let Some(m) = messages.push(line.as_bytes()) {
                out.push(String::from_utf8(m).unwrap());
            }
        }
        assert_eq!(out, ["{\"a\":\n1}", "{}"]);
        assert_eq!(messages.finish(), Some(b"[1]".to_vec()));
        let mut ndjson = Messages::new(false);
        assert_eq!(ndjson.push(b"{}"), Some(b"{}".to_vec()));
        assert_eq!(ndjson.push(b"  "), None);
        assert_eq!(ndjson.finish(), None);
    }
}
