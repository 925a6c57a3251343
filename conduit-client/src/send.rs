//! Requests with a JSON body: POST, PUT, DELETE.

use std::io::Write;

use client_core::http::header::CONTENT_ENCODING;
use client_core::http::{HeaderName, HeaderValue, Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::client::Client;
use crate::error::{Error, Result};

/// The API's limit on a request before compression.
pub const MAX_REQUEST_BYTES: usize = 5 * 1000 * 1000;
/// Bodies larger than this are sent gzip-compressed.
pub const COMPRESS_ABOVE: usize = 1024;

/// A request with a JSON body. Finish with [`SendRequest::send`].
#[derive(Debug)]
#[must_use = "a request does nothing until sent"]
pub struct SendRequest {
    client: Client,
    method: Method,
    path: String,
    body: Option<Result<Vec<u8>>>,
    method_override: bool,
}

impl SendRequest {
    pub(crate) fn new(client: Client, method: Method, path: &str) -> Self {
        SendRequest {
            client,
            method,
            path: path.to_owned(),
            body: None,
            method_override: false,
        }
    }

    /// Serialises `value` as the JSON body.
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        self.body = Some(
            serde_json::to_vec(value)
                .map_err(|e| Error::invalid_request(format!("cannot serialise the body: {e}"))),
        );
        self
    }

    /// Sends PUT and DELETE as POST with `X-HTTP-Method-Override` (for networks that
    /// block those methods).
    pub fn method_override(mut self, enabled: bool) -> Self {
        self.method_override = enabled;
        self
    }

    /// Sends the request. Bodies over 1 KiB are gzip-compressed (`Content-Encoding:
    /// gzip`); a body over 5 MB uncompressed is refused before sending
    /// ([`client_core::ClientError::InvalidRequest`]). Returns the decoded response body,
    /// or `None` for an empty body or 304.
    pub async fn send<T: DeserializeOwned>(self) -> Result<Option<T>> {
        let body = self.body.transpose()?.unwrap_or_default();
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
            if body.len() > COMPRESS_ABOVE {
                request = request.header(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                request = request.body(gzip(&body)?, content_type);
            } else {
                request = request.body(body, content_type);
            }
        }
        let response = request
            .send_buffered()
            .await
            .map_err(|e| self.client.map_error(e))?;
        if response.status() == StatusCode::NOT_MODIFIED {
            return Ok(None);
        }
        let bytes = response.bytes().await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::Decode(client_core::Error::decode(format!("invalid JSON response: {e}"))))
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
