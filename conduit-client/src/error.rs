//! Errors of the Conduit client: the SDK's shared variants, plus Conduit's own.

use client_core::ApiSpecificError;

/// Everything that can go wrong talking to Conduit: the variants every client of the
/// SDK shares (see [`ClientError`](crate::ClientError)), with Conduit's own errors
/// under [`ClientError::Api`](crate::ClientError::Api).
///
/// The document's statuses map as: 400 `BadRequest`, 401 `Unauthorized`, 403
/// `Forbidden`, 404 `NotFound`, 405 `UnexpectedStatus`, 413 `RequestTooLarge` (a range
/// over 31 days), 429 `Throttled` (its `Retry-After`, else the client's interval, which
/// the retries also waited; none without an interval), 500 and 503 `Server`. The body's
/// `code` (string or number) and `error` are in the [`ApiError`](crate::ApiError). A
/// request body over 5 MB is `InvalidRequest`, refused before sending.
pub type Error = client_core::ClientError<ConduitError>;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The errors only Conduit has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConduitError {
    /// A window held more than 10,000 datapoints within one second: it cannot be split.
    #[error("more than 10,000 datapoints at {at}: the range cannot be split finer than a second")]
    TooDense {
        /// The second that holds too many datapoints.
        at: jiff::Timestamp,
    },
}

impl ApiSpecificError for ConduitError {}

/// Shorthand for the API-specific variant.
pub(crate) fn too_dense(at: jiff::Timestamp) -> Error {
    Error::Api(ConduitError::TooDense { at })
}
