//! One request: build it, then `send` runs the pipeline (throttle, credentials, retries).

use std::sync::Arc;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::{Instrument, field};
use url::Url;

use super::pipeline::{Exchange, Inner};
use super::preview::RequestPreview;
use super::response::{Response, parse_json};
use crate::error::{Error, Result};

/// A request being built. Finish with [`RequestBuilder::send`].
#[must_use = "a request does nothing until `send` is awaited"]
pub struct RequestBuilder {
    client: Arc<Inner>,
    method: Method,
    url: Result<Url>,
    headers: HeaderMap,
    body: Option<Bytes>,
    idempotent: Option<bool>,
    span: Option<tracing::Span>,
    with_credentials: bool,
    context: Vec<(&'static str, String)>,
}

impl std::fmt::Debug for RequestBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The query string may carry a SAS or other secret, and header values may be
        // credentials: only the method, the path and the header names are shown.
        let url = self
            .url
            .as_ref()
            .map(|url| format!("{}{}", url.origin().ascii_serialization(), url.path()));
        let header_names: Vec<&str> = self.headers.keys().map(HeaderName::as_str).collect();
        f.debug_struct("RequestBuilder")
            .field("method", &self.method)
            .field("url", &url)
            .field("headers", &header_names)
            .field("body_len", &self.body.as_ref().map(Bytes::len))
            .field("idempotent", &self.idempotent)
            .field("with_credentials", &self.with_credentials)
            .field("context", &self.context)
            .finish()
    }
}

impl RequestBuilder {
    pub(crate) fn new(client: Arc<Inner>, method: Method, url: Result<Url>) -> Self {
        RequestBuilder {
            client,
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            idempotent: None,
            span: None,
            with_credentials: true,
            context: Vec::new(),
        }
    }

    /// A request that carries none of the client's credentials (a link to another origin).
    pub(crate) fn without_credentials(mut self) -> Self {
        self.with_credentials = false;
        self
    }

    /// Appends one query parameter (percent-encoded).
    pub fn query(mut self, name: &str, value: impl AsRef<str>) -> Self {
        if let Ok(url) = &mut self.url {
            url.query_pairs_mut().append_pair(name, value.as_ref());
        }
        self
    }

    /// Appends several query parameters.
    pub fn query_pairs<'a, I, V>(mut self, pairs: I) -> Self
    where
        I: IntoIterator<Item = (&'a str, V)>,
        V: AsRef<str>,
    {
        for (name, value) in pairs {
            self = self.query(name, value);
        }
        self
    }

    /// Sets a header (replacing one of the same name).
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// Sets `Accept`.
    pub fn accept(self, media_type: &'static str) -> Self {
        self.header(ACCEPT, HeaderValue::from_static(media_type))
    }

    /// Sets a body with its content type.
    pub fn body(mut self, body: impl Into<Bytes>, content_type: HeaderValue) -> Self {
        self.body = Some(body.into());
        self.headers.insert(CONTENT_TYPE, content_type);
        self
    }

    /// Serialises `value` as the JSON body.
    pub fn json<T: Serialize + ?Sized>(mut self, value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => self.body(body, HeaderValue::from_static("application/json")),
            Err(e) => {
                self.url = Err(Error::config(format!("cannot serialise the request body: {e}")));
                self
            }
        }
    }

    /// Declares whether repeating the request is safe. By default GET, HEAD, OPTIONS, PUT
    /// and DELETE are idempotent and POST and PATCH are not.
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = Some(idempotent);
        self
    }

    /// Runs the request inside `span` (the API's own context: environment, site, range...).
    pub fn span(mut self, span: tracing::Span) -> Self {
        self.span = Some(span);
        self
    }

    /// Attaches what the request is about to every error it ends with (see
    /// [`Error::with_context`]): an API's error details read it, such as the permission
    /// a call needs. Values must not be secrets.
    pub fn context(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.context.push((name, value.into()));
        self
    }

    /// The request as it would be sent, without sending it: method, URL without its
    /// query, the query pairs and the body. Credentials and other headers are not part
    /// of it. An invalid request (a URL refused by the origin rules, a body that could
    /// not be serialised) is its error.
    pub fn to_request(&self) -> Result<RequestPreview> {
        let url = self.url.as_ref().map_err(Clone::clone)?;
        Ok(RequestPreview::new(self.method.clone(), url, self.body.clone()))
    }

    /// Sends the request and returns once response headers of a success status (2xx, or
    /// 304) arrive. The body is read afterwards from the [`Response`].
    ///
    /// Retries follow the client's [`crate::RetryPolicy`]; a 401 makes the credentials
    /// drop a cached token and the request is repeated once. Other statuses give an
    /// [`ErrorKind::Status`](crate::ErrorKind::Status) error (or [`ErrorKind::Throttled`](crate::ErrorKind::Throttled) for 429) carrying the
    /// status, `Retry-After`, the correlation id and the first 4 KiB of the body.
    pub async fn send(self) -> Result<Response> {
        self.execute(false).await
    }

    /// Sends the request and reads the whole body (at most 64 MiB) inside the retry
    /// loop: a body cut short or a connection lost while reading is retried like any
    /// transient failure (for requests that are safe to repeat).
    pub async fn send_buffered(self) -> Result<Response> {
        self.execute(true).await
    }

    /// [`RequestBuilder::send_buffered`], then the body as one JSON document.
    pub async fn json_response<T: DeserializeOwned>(self) -> Result<T> {
        let response = self.send_buffered().await?;
        let correlation_id = response.correlation_id().map(str::to_owned);
        let body = response.bytes().await?;
        parse_json(&body).map_err(|e| e.with_correlation_id(correlation_id))
    }

    async fn execute(self, buffered: bool) -> Result<Response> {
        let context = self.context;
        let url = self.url.map_err(|e| e.with_contexts(&context))?;
        let span = tracing::info_span!(
            parent: self.span.as_ref().and_then(|s| s.id()).or_else(|| tracing::Span::current().id()),
            "http_request",
            method = %self.method,
            path = url.path(),
            attempt = field::Empty,
            status = field::Empty,
            elapsed_ms = field::Empty,
            correlation_id = field::Empty,
        );
        let idempotent = self.idempotent.unwrap_or_else(|| is_idempotent(&self.method));
        let exchange = Exchange {
            inner: &self.client,
            method: self.method,
            url,
            headers: self.headers,
            body: self.body,
            idempotent,
            with_credentials: self.with_credentials,
            buffered,
        };
        exchange
            .run(&span)
            .instrument(span.clone())
            .await
            .map_err(|e| e.with_contexts(&context))
    }
}

fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE | Method::TRACE
    )
}
