//! The request pipeline: the shared state of a client (HTTP client, credentials, retry
//! policy and classifiers, throttle, clock) and one exchange run through it: throttle,
//! credentials, send, one credential refresh on 401, classified retries.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, Method, StatusCode};
use url::Url;

use super::response::{Response, correlation_id, read_error_body};
use crate::auth::Credential;
use crate::clock::Clock;
use crate::error::{Error, ErrorKind, Result, from_reqwest};
use crate::metrics;
use crate::redact::Redactor;
use crate::retry::{Classifiers, FailureClass, Retrier, RetryPolicy, is_throttle_status, parse_retry_after};
use crate::throttle::Throttle;

/// What every clone of a client shares.
pub(crate) struct Inner {
    /// The client of every host but loopback ones (proxies as configured).
    pub(crate) http: reqwest::Client,
    /// The client of loopback hosts: never through a proxy.
    pub(crate) loopback_http: reqwest::Client,
    /// Sent only to the base URL's origin, like credentials.
    pub(crate) default_headers: HeaderMap,
    /// The limit on each attempt (see `HttpClientBuilder::request_timeout`).
    pub(crate) request_timeout: Option<Duration>,
    pub(crate) base_url: Url,
    pub(crate) credentials: Vec<Arc<dyn Credential>>,
    pub(crate) retry: RetryPolicy,
    pub(crate) classifiers: Classifiers,
    pub(crate) throttle: Option<Throttle>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) correlation_headers: Vec<HeaderName>,
    /// The `api` label of every metric the client records.
    pub(crate) metrics_label: &'static str,
}

pub(crate) struct Exchange<'a> {
    pub(crate) inner: &'a Inner,
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<Bytes>,
    pub(crate) idempotent: bool,
    pub(crate) with_credentials: bool,
    pub(crate) buffered: bool,
}

impl Inner {
    /// Every secret the client knows: its credentials', and the values of its default
    /// headers marked sensitive (a tenant key is as secret as a credential; an `Accept`
    /// media type is not, and hiding it would only make errors unreadable).
    pub(crate) fn redactor(&self) -> Redactor {
        let mut redactor = Redactor::new();
        for credential in &self.credentials {
            redactor.extend(&credential.secrets());
        }
        for value in self.default_headers.values().filter(|value| value.is_sensitive()) {
            let text = String::from_utf8_lossy(value.as_bytes()).into_owned();
            redactor.add(&secrecy::SecretString::from(text));
        }
        redactor
    }
}

impl Exchange<'_> {
    pub(crate) async fn run(&self, span: &tracing::Span) -> Result<Response> {
        let inner = self.inner;
        let mut retrier = Retrier::new(inner.retry.clone(), inner.clock.clone());
        let mut refreshed_credentials = false;
        let api = inner.metrics_label;
        loop {
            span.record("attempt", retrier.attempt());
            if let Some(throttle) = &inner.throttle {
                // A 429's hold longer than this request may still wait fails it at once.
                let asked_at = inner.clock.now();
                throttle.acquire_within(retrier.allowed_wait()).await?;
                metrics::throttle_waited(api, inner.clock.now().saturating_duration_since(asked_at));
            }
            let mut headers = self.headers.clone();
            // Default headers may be as secret as credentials (a tenant key): like them,
            // they go to the API's origin only; the request's own headers win.
            if self.url.origin() == inner.base_url.origin() {
                for (name, value) in &inner.default_headers {
                    if let http::header::Entry::Vacant(entry) = headers.entry(name) {
                        entry.insert(value.clone());
                    }
                }
            }
            // A credential that could not be had (its token endpoint failing) sends
            // nothing: it is retried like a request that never left, when it may pass.
            let mut credential_failure = None;
            if self.with_credentials {
                for credential in &inner.credentials {
                    if let Err(error) = credential.apply(&mut headers).await {
                        credential_failure = Some(error);
                        break;
                    }
                }
            }
            let sent_at = inner.clock.now();
            // The request timeout runs on Tokio's timer, like reqwest's connect and read
            // timeouts, and ends when the response headers (or a buffered body) are in:
            // a streamed body is the read timeout's.
            let deadline = inner
                .request_timeout
                .map(|limit| tokio::time::Instant::now() + limit);
            let (outcome, from_credential) = match credential_failure {
                Some(error) => (Err(error), true),
                None => match self.within(deadline, self.attempt_once(headers.clone())).await {
                    Some(outcome) => (outcome, false),
                    None => (Err(self.timed_out()), false),
                },
            };
            span.record("elapsed_ms", (inner.clock.now() - sent_at).as_millis() as u64);
            // A credential that could not be had sent nothing: no request to count.
            if !from_credential {
                metrics::request(
                    api,
                    outcome.as_ref().ok().map(|response| response.status().as_u16()),
                );
            }
            let error = match outcome {
                Ok(response) => {
                    let status = response.status();
                    span.record("status", status.as_u16());
                    let correlation_id = correlation_id(response.headers(), &inner.correlation_headers);
                    if let Some(id) = &correlation_id {
                        span.record("correlation_id", id.as_str());
                    }
                    if status.is_success() || status == StatusCode::NOT_MODIFIED {
                        tracing::debug!("response received");
                        let response = Response::new(response, correlation_id, api);
                        if !self.buffered {
                            return Ok(response);
                        }
                        match self.within(deadline, response.buffer()).await {
                            Some(Ok(response)) => return Ok(response),
                            Some(Err(error)) => error,
                            None => self.timed_out(),
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
                            metrics::retried(api);
                            refreshed_credentials = true;
                            continue;
                        }
                        self.within(deadline, self.status_error(response, correlation_id))
                            .await
                            .unwrap_or_else(|| self.timed_out())
                    } else {
                        self.within(deadline, self.status_error(response, correlation_id))
                            .await
                            .unwrap_or_else(|| self.timed_out())
                    }
                }
                Err(error) => error,
            };
            let classification = inner.classifiers.classify(&error);
            let mut error = error;
            if classification.class == FailureClass::Throttled {
                if let Some(wait) = classification.wait {
                    // Every clone waits for the server, whether or not this request
                    // retries, but never longer than the policy's longest wait: a
                    // `Retry-After` of a day must not hold every request for a day. A
                    // throttled token endpoint is not the API: its wait holds no one.
                    if let (Some(throttle), false) = (&inner.throttle, from_credential) {
                        throttle.defer_for(wait.min(inner.retry.max_delay));
                    }
                    // A caller who gets this error learns how long to wait: the server's
                    // `Retry-After`, or the API's documented wait when it sent none.
                    if error.retry_after().is_none() {
                        error = error.with_retry_after(Some(wait));
                    }
                }
            }
            let Some(delay) = retrier.next_delay(classification, self.idempotent || from_credential) else {
                tracing::debug!(error = %error, "request failed; not retrying");
                return Err(error);
            };
            tracing::info!(error = %error, delay_ms = delay.as_millis() as u64, "retrying request");
            metrics::retried(api);
            retrier.wait(delay).await;
        }
    }

    /// `future`'s output, or `None` when `deadline` passes first.
    async fn within<T>(
        &self,
        deadline: Option<tokio::time::Instant>,
        future: impl Future<Output = T>,
    ) -> Option<T> {
        match deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, future).await.ok(),
            None => Some(future.await),
        }
    }

    fn timed_out(&self) -> Error {
        let limit = self.inner.request_timeout.unwrap_or_default();
        Error::new(
            ErrorKind::Timeout,
            format!(
                "{} {}: no response within the request timeout ({} ms)",
                self.method,
                self.url.path(),
                limit.as_millis()
            ),
        )
    }

    async fn attempt_once(&self, headers: HeaderMap) -> Result<reqwest::Response> {
        let http = if super::is_loopback(&self.url) {
            &self.inner.loopback_http
        } else {
            &self.inner.http
        };
        let mut request = http
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

    /// Every secret the client knows, to be cut out of an error body in case the
    /// server echoed one (see [`Inner::redactor`]).
    fn redactor(&self) -> Redactor {
        self.inner.redactor()
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
        .with_redacted_body(&body, &self.redactor())
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
