//! DT's reading of its own failures: the in-band errors of the live stream, which arrive
//! inside a successful response as `{"error":{..}}` and carry either an HTTP status or a
//! gRPC code.

use client_core::http::StatusCode;
use client_core::{Classification, ErrorKind, FailureClass, RetryClassifier};
use serde_json::Value;

/// The codes of an in-band error object. DT sends two shapes: `{"code", "message"}`,
/// whose `code` is a gRPC code or, from 100 on, an HTTP status; and `{"grpcCode",
/// "httpCode", "message"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InBandCodes {
    /// The HTTP status: `httpCode`, or `code` when it is 100 or more.
    pub(crate) http: Option<u16>,
    /// The gRPC code: `grpcCode`, or `code` when it is below 100.
    pub(crate) grpc: Option<i64>,
}

impl InBandCodes {
    /// The codes of `error`, the in-band error object.
    pub(crate) fn of(error: &Value) -> Self {
        let number = |key: &str| error.get(key).and_then(Value::as_i64);
        let code = number("code");
        let http = number("httpCode")
            .or(code.filter(|c| *c >= 100))
            .and_then(|c| u16::try_from(c).ok());
        let grpc = number("grpcCode").or(code.filter(|c| *c < 100));
        InBandCodes { http, grpc }
    }

    /// Whether reconnecting may cure the error: HTTP 401 (a fresh token), 408, 429 and
    /// 5xx; or gRPC DEADLINE_EXCEEDED (4), RESOURCE_EXHAUSTED (8), ABORTED (10),
    /// INTERNAL (13), UNAVAILABLE (14) and UNAUTHENTICATED (16). The HTTP status decides
    /// when both are sent; an error with neither is transient.
    pub(crate) fn is_transient(self) -> bool {
        match (self.http, self.grpc) {
            (Some(status), _) => matches!(status, 401 | 408 | 429 | 500..=599),
            (None, Some(code)) => matches!(code, 4 | 8 | 10 | 13 | 14 | 16),
            (None, None) => true,
        }
    }

    /// The status of a refused credential or permission, which ends a stream like the
    /// same status on any request: HTTP 401 or 403, or their gRPC equivalents
    /// UNAUTHENTICATED (16) and PERMISSION_DENIED (7). The HTTP status decides when both
    /// are sent.
    pub(crate) fn refusal_status(self) -> Option<StatusCode> {
        let status = match (self.http, self.grpc) {
            (Some(status), _) => status,
            (None, Some(16)) => 401,
            (None, Some(7)) => 403,
            (None, _) => return None,
        };
        match status {
            401 => Some(StatusCode::UNAUTHORIZED),
            403 => Some(StatusCode::FORBIDDEN),
            _ => None,
        }
    }
}

/// The in-band error object an [`ErrorKind::InBand`] error carries as its body; a body
/// that is not JSON is kept as a string.
pub(crate) fn in_band_object(error: &client_core::Error) -> Value {
    let body = error.body().unwrap_or_default();
    serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_owned()))
}

/// The error of an in-band error object (its JSON text): an [`ErrorKind::InBand`] error
/// whose body is the object, for DT's classifier and [`DtError`](crate::DtError). A
/// refusal also carries its HTTP status ([`InBandCodes::refusal_status`]), so that it
/// ends a stream as `Unauthorized` or `Forbidden`, like the same refusal of any request.
/// Every secret `redactor` knows is cut out of the kept body, in case the server echoed
/// one.
pub(crate) fn in_band_error(object: &str, redactor: &client_core::Redactor) -> client_core::Error {
    let error = client_core::Error::new(ErrorKind::InBand, "the event stream reported an error")
        .with_redacted_body(object.as_bytes(), redactor);
    let codes = InBandCodes::of(&serde_json::from_str(object).unwrap_or(Value::Null));
    match codes.refusal_status() {
        Some(status) => error.with_status(status),
        None => error,
    }
}

/// The classifier DT plugs into its clients' pipeline: an in-band stream error is
/// transient or final by its codes ([`InBandCodes::is_transient`]). Every other failure
/// keeps the standard classification.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct InBandErrors;

impl RetryClassifier for InBandErrors {
    fn classify(&self, error: &client_core::Error, prior: Classification) -> Classification {
        if error.kind() != ErrorKind::InBand {
            return prior;
        }
        let class = if InBandCodes::of(&in_band_object(error)).is_transient() {
            FailureClass::Transient
        } else {
            FailureClass::Final
        };
        Classification::new(class)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn in_band(error: Value) -> client_core::Error {
        in_band_error(&error.to_string(), &client_core::Redactor::new())
    }

    fn class(error: Value) -> FailureClass {
        let error = in_band(error);
        InBandErrors
            .classify(&error, Classification::standard(&error))
            .class
    }

    #[test]
    fn both_shapes_are_read_by_their_codes() {
        use FailureClass::{Final, Transient};
        for (error, expected) in [
            // `code` from 100 on is an HTTP status, not an unknown gRPC code.
            (json!({"code": 503}), Transient),
            (json!({"code": 404}), Final),
            (json!({"code": 401}), Transient),
            (json!({"code": 7, "message": "permission denied"}), Final),
            (json!({"code": 14}), Transient),
            (json!({"grpcCode": 14, "httpCode": 503}), Transient),
            (json!({"grpcCode": 5, "httpCode": 404}), Final),
            (json!({"grpcCode": 16}), Transient),
            (json!({"grpcCode": 3}), Final),
            (json!({"httpCode": 429}), Transient),
            (json!({"message": "no code"}), Transient),
        ] {
            assert_eq!(class(error.clone()), expected, "{error}");
        }
    }

    #[test]
    fn refusals_name_their_http_status() {
        for (error, expected) in [
            (json!({"code": 401}), Some(401)),
            (json!({"code": 16}), Some(401)),
            (json!({"grpcCode": 16, "httpCode": 401}), Some(401)),
            (json!({"code": 403}), Some(403)),
            (json!({"code": 7, "message": "permission denied"}), Some(403)),
            (json!({"grpcCode": 7}), Some(403)),
            // The HTTP status decides when both are sent.
            (json!({"grpcCode": 7, "httpCode": 503}), None),
            (json!({"code": 404}), None),
            (json!({"code": 14}), None),
            (json!({"message": "no code"}), None),
        ] {
            let status = InBandCodes::of(&error).refusal_status();
            assert_eq!(status.map(|s| s.as_u16()), expected, "{error}");
        }
    }

    #[test]
    fn other_failures_keep_their_classification() {
        let status = client_core::Error::new(ErrorKind::Status, "x")
            .with_status(client_core::http::StatusCode::NOT_FOUND);
        let prior = Classification::standard(&status);
        assert_eq!(InBandErrors.classify(&status, prior), prior);
    }
}
