//! Errors of the Preventos client: the document's statuses as variants.

use std::time::Duration;

use client_core::ErrorKind;
use jiff::Timestamp;
use serde::Deserialize;

/// The status, error code, message and correlation id of a refused request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// The body's `error` code, if it had one.
    pub code: Option<String>,
    /// The body's `message`, if it had one.
    pub message: Option<String>,
    /// The correlation id (`x-correlation-id`, `x-ms-request-id`, `apim-request-id`, ...).
    pub correlation_id: Option<String>,
    /// Up to 4 KiB of the body.
    pub body: Option<String>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        if let Some(id) = &self.correlation_id {
            write!(f, " [correlation id {id}]")?;
        }
        Ok(())
    }
}

/// The details of a 413 `request_too_large`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TooLarge {
    /// The server's estimate of raw DB points for the request.
    pub estimated_raw_db_points: Option<u64>,
    /// The budget (`limits.maxRawDbPoints`).
    pub max_raw_db_points: Option<u64>,
    /// The number of underlying DB queries the request needs.
    pub db_query_count: Option<u64>,
    /// The smaller range the server recommends, when it sent one it could parse.
    pub recommended_range: Option<(Timestamp, Timestamp)>,
    /// The status, code, message, correlation id and raw body.
    pub api: ApiError,
}

/// Everything that can go wrong talking to the Preventos Data API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is incomplete or contradictory (names the variables).
    #[error("configuration error: {0}")]
    Config(String),
    /// The request breaks a rule of the API document; nothing was sent.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// 400: invalid environment, site, signal, date range or query parameter.
    #[error("bad request ({0})")]
    BadRequest(ApiError),
    /// 401: token acquisition or validation problem.
    #[error("unauthorized: the token was not accepted ({0})")]
    Unauthorized(ApiError),
    /// 403: missing, changed or revoked Data API permission.
    #[error("forbidden: missing or revoked Data API permission ({0})")]
    Forbidden(ApiError),
    /// 406: unsupported `format` or `Accept`.
    #[error("not acceptable: unsupported format ({0})")]
    NotAcceptable(ApiError),
    /// 413 `request_too_large`: split the range (see the recommended range).
    #[error("request too large: estimated {:?} raw DB points over the budget of {:?} ({})", .0.estimated_raw_db_points, .0.max_raw_db_points, .0.api)]
    RequestTooLarge(Box<TooLarge>),
    /// 413 `request_size_unavailable`: a selected range has no `baseInterval`.
    #[error("request size unavailable: a signal has no baseInterval ({0})")]
    RequestSizeUnavailable(ApiError),
    /// 429 after the retry policy ran out.
    #[error("throttled; retry after {} s ({api})", retry_after.map_or(0, |d| d.as_secs()))]
    Throttled {
        /// The server's `Retry-After`.
        retry_after: Option<Duration>,
        /// The response's details.
        api: ApiError,
    },
    /// 5xx after retries.
    #[error("server error ({0})")]
    Server(ApiError),
    /// A status the document does not list.
    #[error("unexpected status ({0})")]
    UnexpectedStatus(ApiError),
    /// Transport, timeout, token, decoding, truncation and file errors from `client-core`.
    #[error(transparent)]
    Core(client_core::Error),
}

impl Error {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::RequestTooLarge(details) => Some(details.api.status),
            Error::Core(err) => err.status().map(|s| s.as_u16()),
            other => other.api().map(|api| api.status),
        }
    }

    /// The API details of a status error.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::BadRequest(api)
            | Error::Unauthorized(api)
            | Error::Forbidden(api)
            | Error::NotAcceptable(api)
            | Error::RequestSizeUnavailable(api)
            | Error::Server(api)
            | Error::UnexpectedStatus(api)
            | Error::Throttled { api, .. } => Some(api),
            Error::RequestTooLarge(details) => Some(&details.api),
            _ => None,
        }
    }

    /// The correlation id of the failed response.
    pub fn correlation_id(&self) -> Option<&str> {
        match self {
            Error::Core(err) => err.correlation_id(),
            other => other.api().and_then(|api| api.correlation_id.as_deref()),
        }
    }

    /// Whether repeating the request later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Throttled { .. } | Error::Server(_) => true,
            Error::Core(err) => err.is_retryable(),
            _ => false,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorBody {
    error: Option<String>,
    message: Option<String>,
    estimated_raw_db_points: Option<u64>,
    max_raw_db_points: Option<u64>,
    db_query_count: Option<u64>,
    recommended_range: Option<RangeBody>,
}

#[derive(Deserialize)]
struct RangeBody {
    from: Option<String>,
    to: Option<String>,
}

fn parse_instant(text: &str) -> Option<Timestamp> {
    text.parse::<Timestamp>()
        .ok()
        .or_else(|| text.parse::<jiff::Zoned>().ok().map(|z| z.timestamp()))
}

impl From<client_core::Error> for Error {
    fn from(err: client_core::Error) -> Self {
        let (Some(status), ErrorKind::Status | ErrorKind::Throttled) = (err.status(), err.kind()) else {
            return Error::Core(err);
        };
        let body: Option<ErrorBody> = err.body().and_then(|b| serde_json::from_str(b).ok());
        let api = ApiError {
            status: status.as_u16(),
            code: body.as_ref().and_then(|b| b.error.clone()),
            message: body.as_ref().and_then(|b| b.message.clone()),
            correlation_id: err.correlation_id().map(str::to_owned),
            body: err.body().map(str::to_owned),
        };
        match status.as_u16() {
            400 => Error::BadRequest(api),
            401 => Error::Unauthorized(api),
            403 => Error::Forbidden(api),
            406 => Error::NotAcceptable(api),
            413 if api.code.as_deref() == Some("request_size_unavailable") => {
                Error::RequestSizeUnavailable(api)
            }
            413 => {
                let body = body.unwrap_or(ErrorBody {
                    error: None,
                    message: None,
                    estimated_raw_db_points: None,
                    max_raw_db_points: None,
                    db_query_count: None,
                    recommended_range: None,
                });
                let recommended_range = body.recommended_range.and_then(|range| {
                    Some((
                        parse_instant(range.from.as_deref()?)?,
                        parse_instant(range.to.as_deref()?)?,
                    ))
                });
                Error::RequestTooLarge(Box::new(TooLarge {
                    estimated_raw_db_points: body.estimated_raw_db_points,
                    max_raw_db_points: body.max_raw_db_points,
                    db_query_count: body.db_query_count,
                    recommended_range,
                    api,
                }))
            }
            429 => Error::Throttled {
                retry_after: err.retry_after(),
                api,
            },
            500..=599 => Error::Server(api),
            _ => Error::UnexpectedStatus(api),
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
