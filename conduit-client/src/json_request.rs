//! Requests with a JSON body (POST, PUT, DELETE) to any path under the base URL.

use std::io::Write;

use client_core::http::header::CONTENT_ENCODING;
use client_core::http::{HeaderName, HeaderValue, Method, StatusCode};
use client_core::{RequestBuilder, RequestPreview};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::client::Client;
use crate::error::{Error, Result};

/// The API's limit on a request before compression.
pub const MAX_REQUEST_BYTES: usize = 5 * 1000 * 1000;
/// Bodies larger than this are sent gzip-compressed.
pub const COMPRESS_ABOVE: usize = 1024;

impl Client {
    /// A request with a JSON body (POST, PUT or DELETE) to `path` under the base URL;
    /// finish with [`JsonRequest::send`].
    pub fn request(&self, method: Method, path: &str) -> JsonRequest {
        JsonRequest {
            client: self.clone(),
            method,
            path: path.to_owned(),
            body: Ok(Vec::new()),
            method_override: false,
        }
    }
}

/// A request with a JSON body. Bodies over 1 KiB are gzip-compressed
/// (`Content-Encoding: gzip`); a body over 5 MB uncompressed is refused before sending.
///
/// ```no_run
/// use conduit_client::Client;
/// use conduit_client::client_core::http::Method;
///
/// # async fn run() -> Result<(), conduit_client::Error> {
/// let client = Client::from_env()?;
/// let request = client
///     .request(Method::PUT, "devices/70B3D54990DC01DA")
///     .json(&conduit_client::serde_json::json!({"dev_tag": "Pump house"}))
///     .method_override(true);
/// assert_eq!(request.to_request()?.method, Method::POST); // PUT travels as POST
/// let answer: Option<conduit_client::serde_json::Value> = request.send().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct JsonRequest {
    client: Client,
    method: Method,
    path: String,
    /// The serialised body (empty for none), or why it could not be serialised.
    body: std::result::Result<Vec<u8>, String>,
    method_override: bool,
}

impl JsonRequest {
    /// Serialises `value` as the JSON body.
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        self.body = serde_json::to_vec(value).map_err(|e| format!("cannot serialise the body: {e}"));
        self
    }

    /// Sends PUT and DELETE as POST with `X-HTTP-Method-Override` (for networks that
    /// block those methods).
    pub fn method_override(mut self, enabled: bool) -> Self {
        self.method_override = enabled;
        self
    }

    /// The request as it would be sent, without sending it: the method on the wire (POST
    /// when overridden), the URL, and the body before compression. A body that cannot be
    /// serialised or is over 5 MB is refused here as when sending.
    pub fn to_request(&self) -> Result<RequestPreview> {
        Ok(self.build(false)?.to_request()?)
    }

    /// Sends the request. Returns the decoded response body, or `None` for an empty body
    /// or 304. A body over 5 MB uncompressed is
    /// [`ClientError::InvalidRequest`](crate::ClientError::InvalidRequest), refused
    /// before sending.
    pub async fn send<T: DeserializeOwned>(self) -> Result<Option<T>> {
        let response = self.build(true)?.send_buffered().await?;
        if response.status() == StatusCode::NOT_MODIFIED {
            return Ok(None);
        }
        let bytes = response.bytes().await?;
        let bytes = client_core::decode::skip_bom(&bytes);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        serde_json::from_slice(bytes)
            .map(Some)
            .map_err(|e| Error::decode(format!("invalid JSON response: {e}")))
    }

    /// The request to send, its body gzip-compressed above [`COMPRESS_ABOVE`] when
    /// `compress`.
    fn build(&self, compress: bool) -> Result<RequestBuilder> {
        let body = self
            .body
            .as_ref()
            .map_err(|e| Error::invalid_request(e.clone()))?;
        if body.len() > MAX_REQUEST_BYTES {
            return Err(Error::invalid_request(format!(
                "the request body of {} bytes exceeds the API's {MAX_REQUEST_BYTES}-byte limit",
                body.len()
            )));
        }
        let overridden = self.method_override && matches!(self.method, Method::PUT | Method::DELETE);
        let wire_method = if overridden {
            Method::POST
        } else {
            self.method.clone()
        };
        let idempotent = matches!(self.method, Method::PUT | Method::DELETE | Method::GET);
        let mut request = self
            .client
            .http
            .request(wire_method, &self.path)
            .accept("application/json")
            .idempotent(idempotent);
        if overridden {
            request = request.header(
                HeaderName::from_static("x-http-method-override"),
                HeaderValue::from_str(self.method.as_str())
                    .map_err(|_| Error::invalid_request("bad method"))?,
            );
        }
        if !body.is_empty() {
            let content_type = HeaderValue::from_static("application/json");
            if compress && body.len() > COMPRESS_ABOVE {
                request = request
                    .header(CONTENT_ENCODING, HeaderValue::from_static("gzip"))
                    .body(gzip(body)?, content_type);
            } else {
                request = request.body(body.clone(), content_type);
            }
        }
        Ok(request)
    }
}

fn gzip(body: &[u8]) -> Result<Vec<u8>> {
    let mut encoder =
        flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4), flate2::Compression::default());
    encoder
        .write_all(body)
        .and_then(|()| encoder.finish())
        .map_err(Error::from)
}

// Generic code gets the answer as JSON; [`JsonRequest::send`] decodes into any type.
client_core::verbs! {
    impl[] JsonRequest {
        error: Error;
        send: Option<serde_json::Value>;
    }
}
