//! One request: build it, then `send` runs the pipeline (throttle, credentials, retries).

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::{Instrument, field};
use url::Url;

use super::client::HttpClient;
use super::response::{Response, parse_json, read_error_body};
use crate::error::{Error, ErrorKind, Result, from_reqwest};
use crate::retry::{is_throttle_status, parse_retry_after};

/// A request being built. Finish with [`RequestBuilder::send`].
#[must_use = "a request does nothing until `send` is awaited"]
pub struct RequestBuilder {
    client: HttpClient,
    method: Method,
    url: Result<Url>,
    headers: HeaderMap,
    body: Option<Bytes>,
    idempotent: Option<bool>,
    span: Option<tracing::Span>,
    with_credentials: bool,
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
            .finish()
    }
}

impl RequestBuilder {
    pub(crate) fn new(client: HttpClient, method: Method, url: Result<Url>) -> Self {
        RequestBuilder {
            client,
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
            idempotent: None,
            span: None,
            with_credentials: true,
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

    /// Sends the request and returns once response headers of a success status (2xx, or
    /// 304) arrive. The body is read afterwards from the [`Response`].
    ///
    /// Retries follow the client's [`crate::RetryPolicy`]; a 401 makes the credentials
    /// drop a cached token and the request is repeated once. Other statuses give an
    /// [`ErrorKind::Status`] error (or [`ErrorKind::Throttled`] for 429) carrying the
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
        let url = self.url?;
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
            client: &self.client,
            method: self.method,
            url,
            headers: self.headers,
            body: self.body,
            idempotent,
            with_credentials: self.with_credentials,
            buffered,
        };
        exchange.run(&span).instrument(span.clone()).await
    }
}

struct Exchange<'a> {
    client: &'a HttpClient,
    method: Method,
    url: Url,
    headers: HeaderMap,
    body: Option<Bytes>,
    idempotent: bool,
    with_credentials: bool,
    buffered: bool,
}

impl Exchange<'_> {
    async fn run(&self, span: &tracing::Span) -> Result<Response> {
        let inner = &self.client.inner;
        let started = inner.clock.now();
        let mut attempt: u32 = 1;
        let mut refreshed_credentials = false;
        loop {
            span.record("attempt", attempt);
            if let Some(throttle) = &inner.throttle {
                throttle.acquire().await;
            }
            let mut headers = self.headers.clone();
            if self.with_credentials {
                for credential in &inner.credentials {
                    credential.apply(&mut headers).await?;
                }
            }
            let sent_at = inner.clock.now();
            let outcome = self.attempt_once(headers.clone()).await;
            span.record("elapsed_ms", (inner.clock.now() - sent_at).as_millis() as u64);
            let error = match outcome {
                Ok(response) => {
                    let status = response.status();
                    span.record("status", status.as_u16());
                    let correlation_id =
                        super::response::correlation_id(response.headers(), &inner.correlation_headers);
                    if let Some(id) = &correlation_id {
                        span.record("correlation_id", id.as_str());
                    }
                    if status.is_success() || status == StatusCode::NOT_MODIFIED {
                        tracing::debug!("response received");
                        let response = Response::new(response, correlation_id);
                        if !self.buffered {
                            return Ok(response);
                        }
                        match response.buffer().await {
                            Ok(response) => return Ok(response),
                            Err(error) => error,
                        }
                    } else if status == StatusCode::UNAUTHORIZED
                        && self.with_credentials
                        && !refreshed_credentials
                    {
                        // Every credential hears of the 401 (no short circuit): each may
                        // hold a token of its own to drop.
                        let retry = inner
                            .credentials
                            .iter()
                            .fold(false, |any, c| c.on_unauthorized(&headers) | any);
                        if retry {
                            tracing::info!("API answered 401; retrying once with fresh credentials");
                            refreshed_credentials = true;
                            continue;
                        }
                        self.status_error(response, correlation_id).await
                    } else {
                        self.status_error(response, correlation_id).await
                    }
                }
                Err(error) => error,
            };
            if error.is_throttled() {
                // Every clone waits for the server, whether or not this request retries.
                if let (Some(throttle), Some(wait)) = (&inner.throttle, inner.retry.throttle_wait(&error)) {
                    throttle.defer_for(wait);
                }
            }
            let Some(delay) = inner.retry.delay_after(&error, attempt, self.idempotent) else {
                tracing::debug!(error = %error, "request failed; not retrying");
                return Err(error);
            };
            if (inner.clock.now() - started) + delay > inner.retry.total_budget {
                tracing::debug!(error = %error, "request failed; retry budget spent");
                return Err(error);
            }
            tracing::info!(error = %error, delay_ms = delay.as_millis() as u64, "retrying request");
            inner.clock.sleep(delay).await;
            attempt += 1;
        }
    }

    async fn attempt_once(&self, headers: HeaderMap) -> Result<reqwest::Response> {
        let mut request = self
            .client
            .inner
            .http
            .request(self.method.clone(), self.url.clone())
            .headers(headers);
        if let Some(body) = &self.body {
            request = request.body(body.clone());
        }
        request
            .send()
            .await
            .map_err(|e| from_reqwest(e, &format!("{} {}", self.method, self.url.path())))
    }

    async fn status_error(&self, response: reqwest::Response, correlation_id: Option<String>) -> Error {
        let status = response.status();
        let retry_after = parse_retry_after(response.headers());
        let rate_limit = rate_limit_headers(response.headers());
        let body = read_error_body(response).await;
        let kind = if is_throttle_status(status) {
            ErrorKind::Throttled
        } else {
            ErrorKind::Status
        };
        let reason = status.canonical_reason().unwrap_or("unknown status");
        Error::new(
            kind,
            format!("{} {} answered {reason}", self.method, self.url.path()),
        )
        .with_status(status)
        .with_retry_after(retry_after)
        .with_correlation_id(correlation_id)
        .with_rate_limit(rate_limit)
        .with_body(&body)
    }
}

/// The headers that describe a rate limit (`X-RateLimit-*`, `RateLimit-*`, Bentley's
/// `iTwinPlatform-RateLimit-*`): never secret, and what a caller needs to pace itself.
fn rate_limit_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(name, _)| name.as_str().contains("ratelimit"))
        .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
        .collect()
}

fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE | Method::TRACE
    )
}
