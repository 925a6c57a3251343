//! The one error type of `client-core`.
//!
//! Client crates wrap it in their own typed errors; everything here is safe to log: no
//! field ever holds a secret, a token, a key or a URL query string.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;

use crate::redact::Redactor;

/// How many bytes of a response body an [`Error`] keeps at most.
pub const MAX_ERROR_BODY: usize = 4 * 1024;

/// What went wrong, in the categories every client crate maps from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request could not be sent or the connection failed.
    Transport,
    /// A connect, read or overall timeout expired.
    Timeout,
    /// The server answered with a status that is not a success.
    Status,
    /// The server throttled the request (429 or the API's own throttle signal).
    Throttled,
    /// A response (or a record in it) could not be decoded.
    Decode,
    /// A record exceeded the decoder's maximum record size.
    RecordTooLarge,
    /// The response body ended before it was complete.
    Truncated,
    /// Credentials could not be obtained or were refused by a token endpoint.
    Auth,
    /// The client or a request was configured wrongly; nothing was sent.
    Config,
    /// Reading or writing a local file failed.
    Io,
    /// The server reported an error inside a successful response (a stream's
    /// `{"error": ...}` message); the error document is the captured body. What it means
    /// for reconnecting is the API's classifier's call.
    InBand,
    /// A paged answer does not advance: a page token, link or page number came again,
    /// or a page repeated the one before it. Following it would loop.
    RepeatedPage,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Transport => "transport error",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Status => "error status",
            ErrorKind::Throttled => "throttled",
            ErrorKind::Decode => "decode error",
            ErrorKind::RecordTooLarge => "record too large",
            ErrorKind::Truncated => "truncated response",
            ErrorKind::Auth => "authentication error",
            ErrorKind::Config => "configuration error",
            ErrorKind::Io => "I/O error",
            ErrorKind::InBand => "error reported in the response",
            ErrorKind::RepeatedPage => "paging does not advance",
        })
    }
}

/// What an error keeps of the response: the start of its body and its rate-limit
/// headers. Boxed inside [`Error`], so that the error stays small enough to return by
/// value (clippy `result_large_err`) and costs nothing when there was no response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Captured {
    body: Option<String>,
    rate_limit: Vec<(String, String)>,
    context: Vec<(&'static str, String)>,
}

/// An error from the shared transport, auth or decoding layer.
///
/// Cheap to clone (the source is shared), `Send + Sync + 'static`. `Display` gives the
/// kind, the message, the status and the correlation id; the captured body (at most
/// [`MAX_ERROR_BODY`] bytes) is available through [`Error::body`] for client crates that
/// parse the API's error documents.
#[derive(Clone)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    status: Option<StatusCode>,
    retry_after: Option<Duration>,
    correlation_id: Option<String>,
    captured: Option<Box<Captured>>,
    source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
    not_sent: bool,
}

impl Error {
    /// A new error of `kind` with a message that must not contain secrets.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            status: None,
            retry_after: None,
            correlation_id: None,
            captured: None,
            source: None,
            not_sent: false,
        }
    }

    /// Shorthand for a [`ErrorKind::Config`] error.
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    /// Shorthand for a [`ErrorKind::Decode`] error.
    pub fn decode(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Decode, message)
    }

    /// Shorthand for a [`ErrorKind::Truncated`] error.
    pub fn truncated(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Truncated, message)
    }

    /// Shorthand for a [`ErrorKind::Auth`] error.
    pub fn auth(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Auth, message)
    }

    /// Attaches the underlying cause. The cause's `Display` must not contain secrets.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// Attaches the HTTP status.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }

    /// Attaches the delay the server asked for.
    pub fn with_retry_after(mut self, delay: Option<Duration>) -> Self {
        self.retry_after = delay;
        self
    }

    /// Attaches the correlation id the server sent.
    pub fn with_correlation_id(mut self, id: Option<String>) -> Self {
        self.correlation_id = id;
        self
    }

    /// Attaches (the first [`MAX_ERROR_BODY`] bytes of) a response body.
    pub fn with_body(self, body: &[u8]) -> Self {
        self.with_redacted_body(body, &Redactor::new())
    }

    /// Attaches (the first [`MAX_ERROR_BODY`] bytes of) a response body with every
    /// secret `redactor` knows replaced by `[REDACTED]`, in case the server echoed one.
    /// A body of [`MAX_ERROR_BODY`] bytes or more is taken as cut short, so the start of a
    /// secret at its end is replaced too.
    pub fn with_redacted_body(mut self, body: &[u8], redactor: &Redactor) -> Self {
        let cut = &body[..body.len().min(MAX_ERROR_BODY)];
        let text = String::from_utf8_lossy(cut);
        let text = if body.len() >= MAX_ERROR_BODY {
            redactor.redact_truncated(&text)
        } else {
            redactor.redact(&text)
        };
        let mut text = text;
        if text.len() > MAX_ERROR_BODY {
            // A replacement longer than what it replaced: cut again, on a character.
            let mut end = MAX_ERROR_BODY;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
        }
        self.captured.get_or_insert_default().body = Some(text);
        self
    }

    /// Attaches the rate-limit headers of the response (names in lower case).
    pub fn with_rate_limit(mut self, headers: Vec<(String, String)>) -> Self {
        if !headers.is_empty() || self.captured.is_some() {
            self.captured.get_or_insert_default().rate_limit = headers;
        }
        self
    }

    /// Attaches what the request was about, for the API's error details to read (the
    /// permission an SDS call needs, the iTwin it was for). Values must not be secrets.
    pub fn with_context(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.captured
            .get_or_insert_default()
            .context
            .push((name, value.into()));
        self
    }

    /// Attaches several context entries (see [`Error::with_context`]).
    pub fn with_contexts(mut self, entries: &[(&'static str, String)]) -> Self {
        if !entries.is_empty() {
            self.captured
                .get_or_insert_default()
                .context
                .extend(entries.iter().cloned());
        }
        self
    }

    /// Changes the kind, keeping everything else.
    pub fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.kind = kind;
        self
    }

    /// Marks the error as raised before the request left the client (for example a
    /// refused connection), so that even a non-idempotent request may be repeated.
    pub fn with_not_sent(mut self) -> Self {
        self.not_sent = true;
        self
    }

    /// Whether the request certainly never reached the server.
    pub fn is_not_sent(&self) -> bool {
        self.not_sent
    }

    /// The category of the error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The human-readable message, without status or correlation id.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        self.status
    }

    /// The delay the server asked for (`Retry-After`), already parsed.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The correlation id of the failed response, for support requests.
    pub fn correlation_id(&self) -> Option<&str> {
        self.correlation_id.as_deref()
    }

    /// At most [`MAX_ERROR_BODY`] bytes of the response body, decoded lossily as UTF-8.
    pub fn body(&self) -> Option<&str> {
        self.captured.as_ref()?.body.as_deref()
    }

    /// The response's rate-limit headers (every header whose name contains `ratelimit`,
    /// such as `x-ratelimit-remaining` or `itwinplatform-ratelimit-reset`), names in
    /// lower case, values as sent. Empty when there were none.
    pub fn rate_limit(&self) -> &[(String, String)] {
        self.captured
            .as_ref()
            .map_or(&[], |captured| captured.rate_limit.as_slice())
    }

    /// What the request was about (see [`Error::with_context`]), in the order attached.
    pub fn context(&self) -> &[(&'static str, String)] {
        self.captured
            .as_ref()
            .map_or(&[], |captured| captured.context.as_slice())
    }

    /// The value of the context entry `name`, if attached.
    pub fn context_value(&self, name: &str) -> Option<&str> {
        self.context()
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.as_str())
    }

    /// Whether repeating the same request later may succeed: transport failures,
    /// timeouts, throttling and 500/502/503/504, from the API or from its token endpoint
    /// (an [`ErrorKind::Auth`] error with such a status: the endpoint failed, it did not
    /// refuse the credential).
    pub fn is_retryable(&self) -> bool {
        match self.kind {
            ErrorKind::Transport | ErrorKind::Timeout | ErrorKind::Throttled => true,
            ErrorKind::Status | ErrorKind::Auth => self.status.is_some_and(is_transient_status),
            _ => false,
        }
    }

    /// Whether the server throttled the request.
    pub fn is_throttled(&self) -> bool {
        self.kind == ErrorKind::Throttled
    }

    /// Whether the response ended early.
    pub fn is_truncated(&self) -> bool {
        self.kind == ErrorKind::Truncated
    }
}

/// 500, 502, 503 and 504: the statuses worth repeating an idempotent request for.
pub(crate) fn is_transient_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 500 | 502 | 503 | 504)
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)?;
        if let Some(status) = self.status {
            write!(f, " (HTTP {})", status.as_u16())?;
        }
        if let Some(delay) = self.retry_after {
            write!(f, " (retry after {} ms)", delay.as_millis())?;
        }
        if let Some(id) = &self.correlation_id {
            write!(f, " [correlation id {id}]")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("status", &self.status)
            .field("retry_after", &self.retry_after)
            .field("correlation_id", &self.correlation_id)
            .field("body_len", &self.body().map(str::len))
            .field("rate_limit", &self.rate_limit())
            .field("context", &self.context())
            .field("source", &self.source.as_ref().map(|s| s.to_string()))
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|s| s.as_ref() as &(dyn std::error::Error + 'static))
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Error::new(ErrorKind::Io, err.to_string()).with_source(err)
    }
}

/// Maps a reqwest error without its URL (a URL may carry a SAS or other query secret).
pub(crate) fn from_reqwest(err: reqwest::Error, what: &str) -> Error {
    let err = err.without_url();
    let kind = if err.is_timeout() {
        ErrorKind::Timeout
    } else if err.is_body() || err.is_decode() {
        ErrorKind::Truncated
    } else {
        ErrorKind::Transport
    };
    let not_sent = err.is_connect();
    let detail = error_chain(&err);
    let error = Error::new(kind, format!("{what}: {detail}")).with_source(err);
    if not_sent { error.with_not_sent() } else { error }
}

/// The messages of an error and its sources, joined, for errors whose top level says
/// little ("error sending request").
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let next = cause.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = cause.source();
    }
    text
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_capped_at_4_kib() {
        let body = vec![b'x'; 10_000];
        let err = Error::new(ErrorKind::Status, "boom").with_body(&body);
        assert_eq!(err.body().map(str::len), Some(MAX_ERROR_BODY));
    }

    #[test]
    fn display_has_status_and_correlation_id() {
        let err = Error::new(ErrorKind::Status, "GET /values failed")
            .with_status(StatusCode::BAD_REQUEST)
            .with_correlation_id(Some("abc-123".into()));
        assert_eq!(
            err.to_string(),
            "error status: GET /values failed (HTTP 400) [correlation id abc-123]"
        );
    }

    #[test]
    fn retryable_classification() {
        let status =
            |s: u16| Error::new(ErrorKind::Status, "x").with_status(StatusCode::from_u16(s).unwrap());
        assert!(status(503).is_retryable());
        assert!(status(500).is_retryable());
        assert!(!status(501).is_retryable());
        assert!(!status(404).is_retryable());
        assert!(Error::new(ErrorKind::Throttled, "x").is_retryable());
        assert!(!Error::decode("x").is_retryable());
        // A token endpoint that failed may recover; one that refused will not.
        let auth = |s: u16| Error::auth("x").with_status(StatusCode::from_u16(s).unwrap());
        assert!(auth(503).is_retryable());
        assert!(!auth(400).is_retryable());
        assert!(!Error::auth("bad key").is_retryable());
    }

    #[test]
    fn error_is_send_sync_static() {
        fn check<T: Send + Sync + 'static>() {}
        check::<Error>();
    }
}
