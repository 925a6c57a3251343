//! Errors of the DT client: the SDK's shared variants, plus DT's own.

use client_core::{ApiSpecificError, ErrorKind};
use serde_json::Value;

use crate::policy::{InBandCodes, in_band_object};

/// Everything that can go wrong talking to DT: the variants every client of the SDK
/// shares (see [`ClientError`](client_core::ClientError)), with DT's own errors under
/// [`ClientError::Api`](client_core::ClientError::Api).
///
/// DT's error body (`{"error":..,"code":..,"help":..}`) is parsed into the
/// [`ApiError`](client_core::ApiError) of the shared variants; a 429 carries its
/// `Retry-After`. A list whose page tokens do not advance is
/// [`ClientError::RepeatedPage`](client_core::ClientError::RepeatedPage).
pub type Error = client_core::ClientError<DtError>;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The errors only DT has.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum DtError {
    /// The live stream sent an error in band (`{"error":{...}}`) that reconnecting does
    /// not cure (permission denied, not found, a bad filter), or a transient one that
    /// persisted past the reconnect limit.
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
    /// Claims the live stream's in-band errors, whose body is the error object.
    fn from_core(error: &client_core::Error) -> Option<Self> {
        (error.kind() == ErrorKind::InBand).then(|| DtError::stream(in_band_object(error)))
    }

    fn is_retryable(&self) -> bool {
        match self {
            DtError::Stream { error, .. } => InBandCodes::of(error).is_transient(),
        }
    }
}
