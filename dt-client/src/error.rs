//! Errors of the DT client: the SDK's shared variants, plus DT's own.

use client_core::{ApiSpecificError, ErrorKind};
use serde_json::Value;

use crate::policy::{InBandCodes, in_band_object};
use crate::raw_event::EventDecodeError;

/// Everything that can go wrong talking to DT: the variants every client of the SDK
/// shares (see [`ClientError`](crate::ClientError)), with DT's own errors under
/// [`ClientError::Api`](crate::ClientError::Api).
///
/// DT's error body (`{"error":..,"code":..,"help":..}`) is parsed into the
/// [`ApiError`](crate::ApiError) of the shared variants; a 429 carries its
/// `Retry-After`. A list whose page tokens do not advance is
/// [`ClientError::RepeatedPage`](crate::ClientError::RepeatedPage).
pub type Error = client_core::ClientError<DtError>;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The errors only DT has.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DtError {
    /// The live stream sent an error in band (`{"error":{...}}`) that reconnecting does
    /// not cure (not found, a bad filter), or a transient one that persisted past the
    /// reconnect limit. A refused credential or permission (HTTP 401 or 403, gRPC
    /// UNAUTHENTICATED or PERMISSION_DENIED) is not a stream error: it ends the stream
    /// as [`ClientError::Unauthorized`](crate::ClientError::Unauthorized) or
    /// [`ClientError::Forbidden`](crate::ClientError::Forbidden), with the error object
    /// as the [`ApiError`](crate::ApiError)'s body.
    #[error("the event stream reported an error{}{}: {message}", code.map(|c| format!(" (code {c})")).unwrap_or_default(), http_code.map(|c| format!(" (HTTP {c})")).unwrap_or_default())]
    Stream {
        /// The gRPC code (`grpcCode`, or `code` below 100), when sent.
        code: Option<i64>,
        /// The HTTP status (`httpCode`, or `code` of 100 and more), when sent.
        http_code: Option<u16>,
        /// The message.
        message: String,
        /// The error object as sent.
        error: Value,
    },
}

impl DtError {
    /// The stream error of an in-band error object, in either of DT's shapes.
    fn stream(error: Value) -> DtError {
        let codes = InBandCodes::of(&error);
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .map_or_else(|| error.to_string(), str::to_owned);
        DtError::Stream {
            code: codes.grpc,
            http_code: codes.http,
            message,
            error,
        }
    }
}

impl ApiSpecificError for DtError {
    /// Claims the live stream's in-band errors, whose body is the error object, except
    /// refusals: those carry their HTTP status and map like it (`Unauthorized`,
    /// `Forbidden`), as everywhere in the SDK.
    fn from_core(error: &client_core::Error) -> Option<Self> {
        (error.kind() == ErrorKind::InBand && error.status().is_none())
            .then(|| DtError::stream(in_band_object(error)))
    }

    fn is_retryable(&self) -> bool {
        match self {
            DtError::Stream { error, .. } => InBandCodes::of(error).is_transient(),
        }
    }
}

impl From<EventDecodeError> for Error {
    /// A [`RawEvent`](crate::RawEvent) that does not decode is a `Decode` error.
    fn from(error: EventDecodeError) -> Self {
        Error::decode(error.to_string())
    }
}
