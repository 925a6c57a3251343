//! The error document of a refused request, parsed leniently from any vendor's body.

use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind};

/// An error `code` as the server sent it: some APIs send `"405"`, others `405`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// A code sent as a string (`"request_too_large"`, `"405"`).
    Text(String),
    /// A code sent as a JSON number (`405`, `-1`), as written.
    Number(serde_json::Number),
}

impl ErrorCode {
    /// The code as text, whichever way it was sent.
    pub fn as_text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            ErrorCode::Text(text) => text.as_str().into(),
            ErrorCode::Number(number) => number.to_string().into(),
        }
    }

    fn from_value(value: &Value) -> Option<ErrorCode> {
        match value {
            Value::String(text) => Some(ErrorCode::Text(text.clone())),
            Value::Number(number) => Some(ErrorCode::Number(number.clone())),
            _ => None,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_text())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_text() == *other
    }
}

/// What the server said when it refused a request: the status, the parts of its error
/// document that every vendor shares, and the raw text.
///
/// [`ApiError::parse`] understands these shapes, and keeps the raw text of anything else:
///
/// | vendor | body |
/// |---|---|
/// | Azure APIM | `{"statusCode": 401, "message": ".."}` |
/// | Preventos | `{"error": "request_too_large", "message": "..", ...details}` |
/// | Conduit | `{"code": "405" or 405, "error": "Method Not Allowed"}` |
/// | Disruptive Technologies | `{"error": "..", "code": 7, "help": ".."}` |
/// | Bentley iTwin | `{"error": {"code": "..", "message": "..", "target": "..", "details": [..]}}` |
///
/// Members beyond the known ones (Preventos' 413 budget figures, say) are kept in
/// [`ApiError::extra`] so a client crate can read its API's details from them. Nothing
/// here holds a secret: error bodies never echo credentials, and token endpoint bodies
/// never reach an `ApiError`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// The vendor's error code, string or number.
    pub code: Option<ErrorCode>,
    /// The human-readable message.
    pub message: Option<String>,
    /// What the error is about (Bentley `target`).
    pub target: Option<String>,
    /// Nested details (Bentley `details`), as sent.
    pub details: Vec<Value>,
    /// A link or hint for the user (DT `help`).
    pub help: Option<String>,
    /// The other members of the error document, as sent.
    pub extra: Map<String, Value>,
    /// The correlation id the server sent (`x-correlation-id`, `x-ms-request-id`, ...).
    pub correlation_id: Option<String>,
    /// The delay the server asked for (`Retry-After`).
    pub retry_after: Option<Duration>,
    /// The response's rate-limit headers (names containing `ratelimit`, in lower case),
    /// values as sent; see [`Error::rate_limit`].
    pub rate_limit: Vec<(String, String)>,
    /// At most [`crate::MAX_ERROR_BODY`] bytes of the body, decoded lossily.
    pub body: Option<String>,
}

impl ApiError {
    /// Parses an error body of any known shape. Anything that is not a JSON object keeps
    /// only its raw text in [`ApiError::body`]. Never fails.
    pub fn parse(status: u16, body: Option<&str>) -> ApiError {
        let mut api = ApiError {
            status,
            code: None,
            message: None,
            target: None,
            details: Vec::new(),
            help: None,
            extra: Map::new(),
            correlation_id: None,
            retry_after: None,
            rate_limit: Vec::new(),
            body: body.map(str::to_owned),
        };
        let Some(Value::Object(mut document)) = body.and_then(|b| serde_json::from_str::<Value>(b).ok())
        else {
            return api;
        };
        match document.remove("error") {
            // Bentley (and OData): everything is under `error`.
            Some(Value::Object(mut inner)) => {
                api.code = inner.get("code").and_then(ErrorCode::from_value);
                api.message = take_text(&mut inner, "message");
                api.target = take_text(&mut inner, "target");
                if let Some(Value::Array(details)) = inner.remove("details") {
                    api.details = details;
                }
                inner.remove("code");
                api.extra.extend(inner);
            }
            // Preventos: `error` is the code; Conduit and DT: `error` is the message.
            Some(Value::String(text)) => {
                if document.contains_key("code") {
                    api.message = Some(text);
                } else {
                    api.code = Some(ErrorCode::Text(text));
                }
            }
            Some(other) => {
                api.extra.insert("error".into(), other);
            }
            None => {}
        }
        if api.code.is_none() {
            api.code = document.get("code").and_then(ErrorCode::from_value);
        }
        if api.code.is_some() {
            document.remove("code");
        }
        if api.message.is_none() {
            api.message = take_text(&mut document, "message");
        }
        api.help = take_text(&mut document, "help");
        // APIM repeats the status in the body; it says nothing new.
        document.remove("statusCode");
        api.extra.extend(document);
        api
    }

    /// The API error carried by a status error of `client-core` (a non-success status),
    /// with its correlation id and `Retry-After`; `None` for other errors.
    pub fn from_core(error: &Error) -> Option<ApiError> {
        if !matches!(error.kind(), ErrorKind::Status | ErrorKind::Throttled) {
            return None;
        }
        let status = error.status()?;
        let mut api = ApiError::parse(status.as_u16(), error.body());
        api.correlation_id = error.correlation_id().map(str::to_owned);
        api.retry_after = error.retry_after();
        api.rate_limit = error.rate_limit().to_vec();
        Some(api)
    }

    /// The code as text, if one was sent.
    pub fn code_text(&self) -> Option<std::borrow::Cow<'_, str>> {
        self.code.as_ref().map(ErrorCode::as_text)
    }
}

fn take_text(map: &mut Map<String, Value>, key: &str) -> Option<String> {
    match map.remove(key)? {
        Value::String(text) => Some(text),
        other => {
            map.insert(key.to_owned(), other);
            None
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        if let Some(target) = &self.target {
            write!(f, " (target {target})")?;
        }
        if let Some(id) = &self.correlation_id {
            write!(f, " [correlation id {id}]")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apim_shape() {
        let api = ApiError::parse(
            401,
            Some(r#"{"statusCode":401,"message":"Access denied due to invalid subscription key."}"#),
        );
        assert_eq!(api.code, None);
        assert_eq!(
            api.message.as_deref(),
            Some("Access denied due to invalid subscription key.")
        );
        assert!(api.extra.is_empty());
    }

    #[test]
    fn preventos_shape_keeps_its_details() {
        let api = ApiError::parse(
            413,
            Some(
                r#"{"error":"request_too_large","message":"split","maxRawDbPoints":44640,"recommendedRange":{"from":"a","to":"b"}}"#,
            ),
        );
        assert_eq!(api.code, Some(ErrorCode::Text("request_too_large".into())));
        assert_eq!(api.message.as_deref(), Some("split"));
        assert_eq!(api.extra["maxRawDbPoints"], 44640);
        assert_eq!(api.extra["recommendedRange"]["to"], "b");
    }

    #[test]
    fn conduit_shape_with_string_or_number_code() {
        let text = ApiError::parse(405, Some(r#"{"code":"405","error":"Method Not Allowed"}"#));
        assert_eq!(text.code, Some(ErrorCode::Text("405".into())));
        assert_eq!(text.message.as_deref(), Some("Method Not Allowed"));
        let number = ApiError::parse(405, Some(r#"{"code":405,"error":"Method Not Allowed"}"#));
        assert_eq!(number.code_text().as_deref(), Some("405"));
        assert!(matches!(number.code, Some(ErrorCode::Number(_))));
        assert_eq!(number.message.as_deref(), Some("Method Not Allowed"));
    }

    #[test]
    fn dt_shape() {
        let api = ApiError::parse(
            404,
            Some(r#"{"error":"not found","code":5,"help":"https://developer.d21s.com/docs"}"#),
        );
        assert_eq!(api.code_text().as_deref(), Some("5"));
        assert_eq!(api.message.as_deref(), Some("not found"));
        assert_eq!(api.help.as_deref(), Some("https://developer.d21s.com/docs"));
    }

    #[test]
    fn bentley_shape() {
        let api = ApiError::parse(
            422,
            Some(
                r#"{"error":{"code":"InvalidSensorDataRequest","message":"bad","target":"iTwinId","details":[{"code":"MissingRequiredProperty","message":"x"}]}}"#,
            ),
        );
        assert_eq!(api.code_text().as_deref(), Some("InvalidSensorDataRequest"));
        assert_eq!(api.message.as_deref(), Some("bad"));
        assert_eq!(api.target.as_deref(), Some("iTwinId"));
        assert_eq!(api.details.len(), 1);
        assert_eq!(api.details[0]["code"], "MissingRequiredProperty");
    }

    #[test]
    fn anything_else_keeps_the_raw_text() {
        let api = ApiError::parse(502, Some("<html>Bad Gateway</html>"));
        assert_eq!((api.code, api.message), (None, None));
        assert_eq!(api.body.as_deref(), Some("<html>Bad Gateway</html>"));
        let array = ApiError::parse(500, Some("[1,2]"));
        assert_eq!(array.body.as_deref(), Some("[1,2]"));
        let odd = ApiError::parse(400, Some(r#"{"error":[1],"message":7}"#));
        assert_eq!(odd.message, None);
        assert_eq!(odd.extra["error"], serde_json::json!([1]));
        assert_eq!(odd.extra["message"], 7);
    }

    #[test]
    fn display_is_one_line() {
        let mut api = ApiError::parse(400, Some(r#"{"error":"bad_range","message":"from after to"}"#));
        api.correlation_id = Some("c-1".into());
        assert_eq!(
            api.to_string(),
            "HTTP 400 bad_range: from after to [correlation id c-1]"
        );
    }
}
