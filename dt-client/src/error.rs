//! Errors of the DT client: the workspace's shared variants, plus DT's own.

use client_core::ApiSpecificError;
use serde_json::Value;

/// Everything that can go wrong talking to DT: the variants every client of the
/// workspace shares (see [`client_core::ClientError`]), with DT's own errors under
/// [`client_core::ClientError::Api`].
///
/// DT's error body (`{"error":..,"code":..,"help":..}`) is parsed into the
/// [`client_core::ApiError`] of the shared variants; a 429 carries its `Retry-After`.
pub type Error = client_core::ClientError<DtError>;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The errors only DT has.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DtError {
    /// The event stream sent an error in band (`{"error":{...}}`) that reconnecting does
    /// not cure (permission denied, not found, bad filter), or a transient one that
    /// persisted past the reconnect limit.
    #[error("the event stream reported an error{}{}: {message}", code.map(|c| format!(" (code {c})")).unwrap_or_default(), http_code.map(|c| format!(" (HTTP {c})")).unwrap_or_default())]
    Stream {
        /// The gRPC code (`code` or `grpcCode`), when sent.
        code: Option<i64>,
        /// The HTTP status (`httpCode`), when sent.
        http_code: Option<u16>,
        /// The message.
        message: String,
        /// The error object as sent.
        error: Value,
    },
    /// A list answered the same `nextPageToken` twice in a row: following it would loop.
    #[error("the list repeated page token `{token}`: the server does not advance")]
    RepeatedPageToken {
        /// The repeated token.
        token: String,
    },
}

impl DtError {
    /// The stream error of an in-band `{"error": ...}` in either known shape.
    pub(crate) fn stream(error: Value) -> DtError {
        let number = |key: &str| error.get(key).and_then(Value::as_i64);
        let code = number("code").or_else(|| number("grpcCode"));
        let http_code = number("httpCode").and_then(|c| u16::try_from(c).ok());
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .map_or_else(|| error.to_string(), str::to_owned);
        DtError::Stream {
            code,
            http_code,
            message,
            error,
        }
    }
}

impl ApiSpecificError for DtError {
    fn is_retryable(&self) -> bool {
        match self {
            DtError::Stream { code, http_code, .. } => stream_error_is_transient(*code, *http_code),
            DtError::RepeatedPageToken { .. } => false,
        }
    }
}

/// Whether an in-band stream error is worth reconnecting for: HTTP 401 (a fresh token),
/// 408, 429 and 5xx, or gRPC DEADLINE_EXCEEDED (4), RESOURCE_EXHAUSTED (8), ABORTED (10),
/// INTERNAL (13), UNAVAILABLE (14) and UNAUTHENTICATED (16). Unknown codes are transient.
pub(crate) fn stream_error_is_transient(code: Option<i64>, http_code: Option<u16>) -> bool {
    match (http_code, code) {
        (Some(status), _) => matches!(status, 401 | 408 | 429 | 500..=599),
        (None, Some(code)) => matches!(code, 4 | 8 | 10 | 13 | 14 | 16),
        (None, None) => true,
    }
}
