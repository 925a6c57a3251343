//! The request pipeline: the shared state of a client (HTTP client, credentials, retry
//! policy and classifiers, throttle, clock) and one exchange run through it: throttle,
//! credentials, send, one credential refresh on 401, classified retries.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, Method, StatusCode};
use url::Url;

use super::response::{Response, correlation_id, read_error_body};
use crate::auth::Credential;
use crate::clock::Clock;
use crate::error::{Error, ErrorKind, Result, from_reqwest};
use crate::redact::Redactor;
use crate::retry::{Classifiers, FailureClass, Retrier, RetryPolicy, is_throttle_status, parse_retry_after};
use crate::throttle::Throttle;

/// What every clone of a client shares.
pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) base_url: Url,
    pub(crate) credentials: Vec<Arc<dyn Credential>>,
    pub(crate) retry: RetryPolicy,
    pub(crate) classifiers: Classifiers,
    pub(crate) throttle: Option<Throttle>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) correlation_headers: Vec<HeaderName>,
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

impl Exchange<'_> {
    pub(crate) async fn run(&self, span: &tracing::Span) -> Result<Response> {
        let inner = self.inner;
        let mut retrier = Retrier::new(inner.retry.clone(), inner.clock.clone());
        let mut refreshed_credentials = false;
        loop {
            span.record("attempt", retrier.attempt());
            if let Some(throttle) = &inner.throttle {
                // A 429's hold longer than this request may still wait fails it at once.
                throttle.acquire_within(retrier.allowed_wait()).await?;
            }
            let mut headers = self.headers.clone();
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
            let (outcome, from_credential) = match credential_failure {
                Some(error) => (Err(error), true),
                None => (self.attempt_once(headers.clone()).await, false),
            };
            span.record("elapsed_ms", (inner.clock.now() - sent_at).as_millis() as u64);
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
            retrier.wait(delay).await;
        }
    }

    async fn attempt_once(&self, headers: HeaderMap) -> Result<reqwest::Response> {
        let mut request = self
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

    /// Every secret the client's credentials know, to be cut out of an error body in
    /// case the server echoed one.
    fn redactor(&self) -> Redactor {
        let mut redactor = Redactor::new();
        for credential in &self.inner.credentials {
            redactor.extend(&credential.secrets());
        }
        redactor
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
