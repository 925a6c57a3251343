//! A successful response whose body is still to be read.

use std::pin::Pin;

use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use http::{HeaderMap, HeaderName, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::{Error, MAX_ERROR_BODY, Result, from_reqwest};

/// A response body as a stream of chunks. A body that ends early (Content-Length not
/// reached, chunked encoding not terminated, connection closed) ends with an
/// [`crate::ErrorKind::Truncated`] error, never silently.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>;

/// The largest body [`Response::bytes`] and [`Response::json`] read into memory.
const MAX_BUFFERED_BODY: usize = 64 * 1024 * 1024;

/// A response with a success status (2xx or 304). Read the body once, as a stream or
/// whole.
#[derive(Debug)]
pub struct Response {
    inner: reqwest::Response,
    correlation_id: Option<String>,
}

impl Response {
    pub(crate) fn new(inner: reqwest::Response, correlation_id: Option<String>) -> Self {
        Response {
            inner,
            correlation_id,
        }
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.inner.status()
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        self.inner.headers()
    }

    /// The correlation id the server sent, if any.
    pub fn correlation_id(&self) -> Option<&str> {
        self.correlation_id.as_deref()
    }

    /// The announced body length (before decompression), if any.
    pub fn content_length(&self) -> Option<u64> {
        self.inner.content_length()
    }

    /// The body as a stream of chunks.
    pub fn bytes_stream(self) -> ByteStream {
        let correlation_id = self.correlation_id;
        Box::pin(self.inner.bytes_stream().map_err(move |e| {
            from_reqwest(e, "reading the response body failed").with_correlation_id(correlation_id.clone())
        }))
    }

    /// The whole body (at most 64 MiB; stream anything larger).
    pub async fn bytes(self) -> Result<Bytes> {
        let mut stream = self.bytes_stream();
        let mut body = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            if body.len() + chunk.len() > MAX_BUFFERED_BODY {
                return Err(Error::new(
                    crate::ErrorKind::RecordTooLarge,
                    "response body is larger than 64 MiB; read it as a stream",
                ));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(body))
    }

    /// The body decoded as one JSON document.
    pub async fn json<T: DeserializeOwned>(self) -> Result<T> {
        let correlation_id = self.correlation_id.clone();
        let body = self.bytes().await?;
        serde_json::from_slice(&body).map_err(|e| {
            let kind = if e.is_eof() {
                crate::ErrorKind::Truncated
            } else {
                crate::ErrorKind::Decode
            };
            Error::new(kind, format!("invalid JSON response: {e}")).with_correlation_id(correlation_id)
        })
    }
}

/// The first header among `names` that is present and readable.
pub(crate) fn correlation_id(headers: &HeaderMap, names: &[HeaderName]) -> Option<String> {
    names
        .iter()
        .find_map(|name| headers.get(name)?.to_str().ok().map(str::to_owned))
}

/// Up to [`MAX_ERROR_BODY`] bytes of an error response; the rest is not read.
pub(crate) async fn read_error_body(mut response: reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < MAX_ERROR_BODY {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body.truncate(MAX_ERROR_BODY);
    body
}
