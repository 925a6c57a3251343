//! A successful response whose body is still to be read, and the decoders as methods.

use std::path::Path;
use std::pin::Pin;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use http::{HeaderMap, HeaderName, StatusCode};
use serde::de::DeserializeOwned;
use tokio::io::AsyncWrite;

use crate::decode::{self, CsvFormat, CsvRow, DecodeOptions, RecordStream};
use crate::error::{Error, MAX_ERROR_BODY, Result, from_reqwest};

/// A response body as a stream of chunks. A body that ends early (Content-Length not
/// reached, chunked encoding not terminated, connection closed) ends with an
/// [`crate::ErrorKind::Truncated`] error, never silently.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>;

/// The largest body [`Response::bytes`] and [`Response::json`] read into memory.
pub(crate) const MAX_BUFFERED_BODY: usize = 64 * 1024 * 1024;

/// A response with a success status (2xx or 304). Read the body once: as a stream of
/// chunks, whole, or through one of the decoders ([`Response::ndjson`],
/// [`Response::json_array`], [`Response::csv`], [`Response::csv_rows`]), or copy it
/// as it is ([`Response::copy_to`], [`Response::write_to`]).
///
/// `Debug` shows the status, the header names, the correlation id and the body's state,
/// never the URL (its query may carry a SAS or another token) nor a header value.
pub struct Response {
    status: StatusCode,
    headers: HeaderMap,
    correlation_id: Option<String>,
    body: Body,
    /// The `api` label of the body bytes counted (see [`crate::metrics`]).
    metrics_label: &'static str,
}

enum Body {
    /// Not read yet.
    Pending(reqwest::Response),
    /// Read whole inside the request pipeline (so a failed read was retried there).
    Buffered(Bytes),
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let header_names: Vec<&str> = self.headers.keys().map(HeaderName::as_str).collect();
        let body = match &self.body {
            Body::Pending(_) => "pending".to_owned(),
            Body::Buffered(bytes) => format!("{} bytes buffered", bytes.len()),
        };
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("headers", &header_names)
            .field("correlation_id", &self.correlation_id)
            .field("body", &body)
            .finish()
    }
}

impl Response {
    pub(crate) fn new(
        inner: reqwest::Response,
        correlation_id: Option<String>,
        metrics_label: &'static str,
    ) -> Self {
        Response {
            status: inner.status(),
            headers: inner.headers().clone(),
            correlation_id,
            body: Body::Pending(inner),
            metrics_label,
        }
    }

    /// Reads the whole body now (at most 64 MiB), keeping status and headers.
    pub(crate) async fn buffer(self) -> Result<Response> {
        let Response {
            status,
            headers,
            correlation_id,
            body,
            metrics_label,
        } = self;
        let body = match body {
            Body::Buffered(bytes) => bytes,
            Body::Pending(inner) => {
                read_all(body_stream(inner, correlation_id.clone(), metrics_label)).await?
            }
        };
        Ok(Response {
            status,
            headers,
            correlation_id,
            body: Body::Buffered(body),
            metrics_label,
        })
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The correlation id the server sent, if any.
    pub fn correlation_id(&self) -> Option<&str> {
        self.correlation_id.as_deref()
    }

    /// The announced body length (before decompression), if any.
    pub fn content_length(&self) -> Option<u64> {
        match &self.body {
            Body::Pending(inner) => inner.content_length(),
            Body::Buffered(bytes) => Some(bytes.len() as u64),
        }
    }

    /// The body as a stream of chunks.
    pub fn bytes_stream(self) -> ByteStream {
        match self.body {
            Body::Pending(inner) => body_stream(inner, self.correlation_id, self.metrics_label),
            Body::Buffered(bytes) => Box::pin(futures::stream::iter([Ok(bytes)])),
        }
    }

    /// The whole body (at most 64 MiB; stream anything larger).
    pub async fn bytes(self) -> Result<Bytes> {
        match self.body {
            Body::Buffered(bytes) => Ok(bytes),
            Body::Pending(inner) => {
                read_all(body_stream(inner, self.correlation_id, self.metrics_label)).await
            }
        }
    }

    /// The body decoded as one JSON document.
    pub async fn json<T: DeserializeOwned>(self) -> Result<T> {
        let correlation_id = self.correlation_id.clone();
        let body = self.bytes().await?;
        parse_json(&body).map_err(|e| e.with_correlation_id(correlation_id))
    }

    /// The body as NDJSON records of type `T` (see [`decode::ndjson`]).
    pub fn ndjson<T: DeserializeOwned + Send + 'static>(self, options: DecodeOptions) -> RecordStream<T> {
        decode::ndjson(self.bytes_stream(), options)
    }

    /// The elements of a top-level JSON array (`key = None`) or of the array under
    /// `key`, as `T` (see [`decode::json_array`]).
    pub fn json_array<T: DeserializeOwned + Send + 'static>(
        self,
        key: Option<&str>,
        options: DecodeOptions,
    ) -> RecordStream<T> {
        decode::json_array(self.bytes_stream(), key, options)
    }

    /// CSV rows decoded into `T` by header name (see [`decode::csv_records`]).
    pub fn csv<T: DeserializeOwned + Send + 'static>(
        self,
        format: CsvFormat,
        options: DecodeOptions,
    ) -> RecordStream<T> {
        decode::csv_records(self.bytes_stream(), format, options)
    }

    /// CSV rows as text (see [`decode::csv_rows`]).
    pub fn csv_rows(self, format: CsvFormat, options: DecodeOptions) -> RecordStream<CsvRow> {
        decode::csv_rows(self.bytes_stream(), format, options)
    }

    /// Copies the body, as the server sent it, to `writer`; returns the bytes written. A
    /// body that ends early is an error (the writer then holds a partial copy: use
    /// [`Response::write_to`] when that must never be visible).
    pub async fn copy_to<W: AsyncWrite + Unpin + ?Sized>(self, writer: &mut W) -> Result<u64> {
        decode::copy_to_writer(self.bytes_stream(), writer).await
    }

    /// Writes the body, as the server sent it, to `path` atomically: the file appears
    /// complete and synced, or not at all.
    pub async fn write_to(self, path: impl AsRef<Path>) -> Result<u64> {
        decode::write_to_file(self.bytes_stream(), path).await
    }
}

/// The body's chunks, each counted in [`metrics::BYTES`](crate::metrics::BYTES) as it
/// arrives (a buffered body is counted as it is read, once).
fn body_stream(
    inner: reqwest::Response,
    correlation_id: Option<String>,
    metrics_label: &'static str,
) -> ByteStream {
    let bytes = crate::metrics::bytes_counter(metrics_label);
    Box::pin(inner.bytes_stream().map(move |chunk| match chunk {
        Ok(chunk) => {
            bytes.increment(chunk.len() as u64);
            Ok(chunk)
        }
        Err(e) => Err(
            from_reqwest(e, "reading the response body failed").with_correlation_id(correlation_id.clone()),
        ),
    }))
}

async fn read_all(mut stream: ByteStream) -> Result<Bytes> {
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

/// One JSON document (after a byte-order mark, if any); a document cut short is `Truncated`, anything else bad `Decode`.
pub(crate) fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    serde_json::from_slice(decode::skip_bom(body)).map_err(|e| {
        let kind = if e.is_eof() {
            crate::ErrorKind::Truncated
        } else {
            crate::ErrorKind::Decode
        };
        Error::new(kind, format!("invalid JSON response: {e}"))
    })
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
