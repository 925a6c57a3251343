//! Errors of the Conduit client: the API's statuses as variants.

use std::time::Duration;

use client_core::ErrorKind;
use serde::Deserialize;

/// The error document the API sends (`{"code":"405","error":"Method Not Allowed"}`; `code`
/// may be a string or a number), with the status and correlation id of the response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// The body's `code`, as text whether it was sent as a string or a number.
    pub code: Option<String>,
    /// The body's `error` text.
    pub message: Option<String>,
    /// The correlation id the server sent, if any.
    pub correlation_id: Option<String>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(code) = &self.code {
            write!(f, " code {code}")?;
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong talking to Conduit.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request was refused before sending (half a range, an empty range...).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The uncompressed request body is over the API's 5 MB limit; nothing was sent.
    #[error("request body of {size} bytes exceeds the {limit}-byte limit")]
    RequestTooLarge {
        /// Uncompressed body size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// 400: the request was invalid.
    #[error("bad request ({0})")]
    BadRequest(ApiError),
    /// 401: the token was refused.
    #[error("unauthorized: the Conduit token was refused ({0})")]
    Unauthorized(ApiError),
    /// 403: no permission for the method or resource.
    #[error("forbidden ({0})")]
    Forbidden(ApiError),
    /// 404: no such resource.
    #[error("not found ({0})")]
    NotFound(ApiError),
    /// 405: the resource does not support the method.
    #[error("method not allowed ({0})")]
    MethodNotAllowed(ApiError),
    /// 413: the request or the response exceeds a limit (e.g. a range over 31 days).
    #[error("request too large ({0})")]
    TooLarge(ApiError),
    /// 429, still throttled when the retry policy ran out.
    #[error("throttled; retry after {} s ({api})", retry_after.as_secs())]
    Throttled {
        /// How long to wait before the next request.
        retry_after: Duration,
        /// The response's error document.
        api: ApiError,
    },
    /// 500 or 503 (after retries), or another 5xx.
    #[error("server error ({0})")]
    Server(ApiError),
    /// A status the document does not list.
    #[error("unexpected status ({0})")]
    UnexpectedStatus(ApiError),
    /// A window held more than 10,000 datapoints within one second: it cannot be split.
    #[error("more than 10,000 datapoints at {at}: the range cannot be split finer than a second")]
    TooDense {
        /// The second that holds too many datapoints.
        at: jiff::Timestamp,
    },
    /// Transport, timeout, decoding or configuration failures from `client-core`.
    #[error(transparent)]
    Core(client_core::Error),
}

impl Error {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        self.api().map(|api| api.status).or_else(|| match self {
            Error::Core(err) => err.status().map(|s| s.as_u16()),
            _ => None,
        })
    }

    /// The API's error document, for status errors.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::BadRequest(api)
            | Error::Unauthorized(api)
            | Error::Forbidden(api)
            | Error::NotFound(api)
            | Error::MethodNotAllowed(api)
            | Error::TooLarge(api)
            | Error::Server(api)
            | Error::UnexpectedStatus(api)
            | Error::Throttled { api, .. } => Some(api),
            _ => None,
        }
    }

    /// The correlation id of the failed response, if the server sent one.
    pub fn correlation_id(&self) -> Option<&str> {
        match self {
            Error::Core(err) => err.correlation_id(),
            _ => self.api().and_then(|api| api.correlation_id.as_deref()),
        }
    }

    /// Whether the same request may succeed later (throttling, 5xx, transport failures).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Throttled { .. } | Error::Server(_) => true,
            Error::Core(err) => err.is_retryable(),
            _ => false,
        }
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    code: Option<serde_json::Value>,
    error: Option<String>,
}

impl From<client_core::Error> for Error {
    fn from(err: client_core::Error) -> Self {
        let Some(status) = err.status() else {
            return Error::Core(err);
        };
        if !matches!(err.kind(), ErrorKind::Status | ErrorKind::Throttled) {
            return Error::Core(err);
        }
        let body: Option<ErrorBody> = err.body().and_then(|body| serde_json::from_str(body).ok());
        let (code, message) = match body {
            Some(ErrorBody { code, error }) => (
                code.map(|code| match code {
                    serde_json::Value::String(text) => text,
                    other => other.to_string(),
                }),
                error,
            ),
            None => (None, None),
        };
        let api = ApiError {
            status: status.as_u16(),
            code,
            message,
            correlation_id: err.correlation_id().map(str::to_owned),
        };
        match status.as_u16() {
            400 => Error::BadRequest(api),
            401 => Error::Unauthorized(api),
            403 => Error::Forbidden(api),
            404 => Error::NotFound(api),
            405 => Error::MethodNotAllowed(api),
            413 => Error::TooLarge(api),
            429 => Error::Throttled {
                retry_after: err.retry_after().unwrap_or(crate::DEFAULT_INTERVAL),
                api,
            },
            500..=599 => Error::Server(api),
            _ => Error::UnexpectedStatus(api),
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
