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

/// Which server refused: the API itself, or the token endpoint its credential asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ErrorOrigin {
    /// The API answered the request.
    #[default]
    Api,
    /// The OAuth2 token endpoint refused the credential before the API was asked.
    TokenEndpoint,
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
/// | OAuth2 token endpoints (RFC 6749) | `{"error": "invalid_client", "error_description": ".."}` |
///
/// Members beyond the known ones (Preventos' 413 budget figures, say) are kept in
/// [`ApiError::extra`] so a client crate can read its API's details from them, best
/// through [`crate::ErrorDetail`]. Nothing here holds a secret: of a token endpoint's
/// answer only its `error` and `error_description` are kept.
///
/// `Display` says each thing once: `HTTP 413 Payload Too Large (request_too_large):
/// split the range [correlation id c-1]`, and a code or message that repeats the status
/// is left out.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// Which server answered: the API, or the token endpoint of its credential.
    pub origin: ErrorOrigin,
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
    /// What the request was about, as the client crate attached it (the permission a
    /// call needs, the resource it was for); see [`Error::with_context`].
    pub context: Vec<(String, String)>,
    /// At most [`crate::MAX_ERROR_BODY`] bytes of the body, decoded lossily.
    pub body: Option<String>,
}

impl ApiError {
    /// Parses an error body of any known shape. Anything that is not a JSON object keeps
    /// only its raw text in [`ApiError::body`]. Never fails.
    pub fn parse(status: u16, body: Option<&str>) -> ApiError {
        let mut api = ApiError {
            status,
            origin: ErrorOrigin::Api,
            code: None,
            message: None,
            target: None,
            details: Vec::new(),
            help: None,
            extra: Map::new(),
            correlation_id: None,
            retry_after: None,
            rate_limit: Vec::new(),
            context: Vec::new(),
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
        if api.message.is_none() {
            // RFC 6749 token endpoints.
            api.message = take_text(&mut document, "error_description");
        }
        api.help = take_text(&mut document, "help");
        // APIM repeats the status in the body; it says nothing new.
        document.remove("statusCode");
        api.extra.extend(document);
        api
    }

    /// The API error carried by a status error of `client-core` (a non-success status),
    /// with its correlation id, `Retry-After`, rate-limit headers and context; an error
    /// reported in band with an HTTP status; a token endpoint's refusal (an [`ErrorKind::Auth`] error with a 4xx status), with
    /// [`ErrorOrigin::TokenEndpoint`]. `None` for other errors.
    pub fn from_core(error: &Error) -> Option<ApiError> {
        let status = error.status()?;
        let origin = match error.kind() {
            // An in-band error that names an HTTP status (a stream's `{"error":{"code":403}}`)
            // is the API refusing, like a status line.
            ErrorKind::Status | ErrorKind::Throttled | ErrorKind::InBand => ErrorOrigin::Api,
            ErrorKind::Auth if status.is_client_error() => ErrorOrigin::TokenEndpoint,
            _ => return None,
        };
        let mut api = ApiError::parse(status.as_u16(), error.body());
        api.origin = origin;
        api.correlation_id = error.correlation_id().map(str::to_owned);
        api.retry_after = error.retry_after();
        api.rate_limit = error.rate_limit().to_vec();
        api.context = error
            .context()
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone()))
            .collect();
        Some(api)
    }

    /// The value of the context entry `name` (see [`ApiError::context`]).
    pub fn context_value(&self, name: &str) -> Option<&str> {
        self.context
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The status's reason phrase (`Not Found`), when it is a standard one.
    pub fn reason(&self) -> Option<&'static str> {
        http::StatusCode::from_u16(self.status).ok()?.canonical_reason()
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
        if self.origin == ErrorOrigin::TokenEndpoint {
            f.write_str("token endpoint refused the credential: ")?;
        }
        write!(f, "HTTP {}", self.status)?;
        let reason = self.reason();
        if let Some(reason) = reason {
            write!(f, " {reason}")?;
        }
        // Say each thing once: a code or message that repeats the status or its reason
        // phrase ("401", "Unauthorized") adds nothing.
        let status_text = self.status.to_string();
        let repeats = |text: &str| {
            let text = text.trim();
            text.is_empty() || text == status_text || reason.is_some_and(|r| r.eq_ignore_ascii_case(text))
        };
        let code = self.code_text().filter(|code| !repeats(code));
        if let Some(code) = &code {
            write!(f, " ({code})")?;
        }
        if let Some(message) = self
            .message
            .as_deref()
            .filter(|m| !repeats(m) && Some(m.trim()) != code.as_deref())
        {
            write!(f, ": {message}")?;
        }
        if let Some(target) = &self.target {
            write!(f, " (target {target})")?;
        }
        // What the request was about (the permission an SDS call needs, its iTwin): the
        // reader of a log line sees what to grant without calling `detail`.
        for (index, (name, value)) in self.context.iter().enumerate() {
            let separator = if index == 0 { " (" } else { ", " };
            write!(f, "{separator}{name}: {value}")?;
        }
        if !self.context.is_empty() {
            f.write_str(")")?;
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
            "HTTP 400 Bad Request (bad_range): from after to [correlation id c-1]"
        );
    }

    #[test]
    fn display_says_each_thing_once() {
        // Conduit's 401 body repeats the status as its code and the reason as its error.
        let conduit = ApiError::parse(401, Some(r#"{"code":401,"error":"Unauthorized"}"#));
        assert_eq!(conduit.to_string(), "HTTP 401 Unauthorized");
        let text = ApiError::parse(405, Some(r#"{"code":"405","error":"method not allowed"}"#));
        assert_eq!(text.to_string(), "HTTP 405 Method Not Allowed");
        let odd = ApiError::parse(599, None);
        assert_eq!(odd.to_string(), "HTTP 599");
    }

    #[test]
    fn display_names_what_the_request_was_about() {
        let mut api = ApiError::parse(403, Some(r#"{"error":{"code":"InsufficientPermissions"}}"#));
        api.context = vec![
            ("permission".into(), "sensor_data_read".into()),
            ("itwinId".into(), "tw-1".into()),
        ];
        assert_eq!(
            api.to_string(),
            "HTTP 403 Forbidden (InsufficientPermissions) (permission: sensor_data_read, itwinId: tw-1)"
        );
    }

    #[test]
    fn token_endpoint_refusals_keep_the_oauth_error() {
        let error = Error::new(ErrorKind::Auth, "refused")
            .with_status(http::StatusCode::UNAUTHORIZED)
            .with_body(br#"{"error":"invalid_client","error_description":"bad secret"}"#);
        let api = ApiError::from_core(&error).unwrap();
        assert_eq!(api.origin, ErrorOrigin::TokenEndpoint);
        assert_eq!(api.code_text().as_deref(), Some("invalid_client"));
        assert_eq!(api.message.as_deref(), Some("bad secret"));
        assert_eq!(
            api.to_string(),
            "token endpoint refused the credential: HTTP 401 Unauthorized (invalid_client): bad secret"
        );
        let unreachable = Error::new(ErrorKind::Auth, "down").with_status(http::StatusCode::BAD_GATEWAY);
        assert!(ApiError::from_core(&unreachable).is_none());
    }
}
