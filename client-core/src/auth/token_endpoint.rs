//! Sending token requests: one retry with backoff on 5xx or connect errors, one
//! token-response parser for every grant, errors without secrets.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue};
use secrecy::SecretString;
use serde::Deserialize;

use super::AccessToken;
use crate::clock::{Clock, TokioClock};
use crate::error::{Error, ErrorKind, Result, from_reqwest};
use crate::redact::Redactor;
use crate::retry::{Classification, FailureClass, Retrier, RetryPolicy, parse_retry_after};
use crate::transport::{TlsRoots, ensure_secure, token_http_client};

/// The largest token response read; real ones are a few KiB.
const MAX_TOKEN_RESPONSE: usize = 256 * 1024;

/// The longest lifetime believed from `expires_in`: a larger value (or one that would
/// overflow the clock) is clamped to this.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// How token requests are sent, shared by every grant: timeouts, the trusted roots, the
/// clock and the wait before the one retry.
///
/// Token requests go through this crate's own HTTP client (reqwest, rustls), never
/// following redirects (a redirect could carry the secret to another host), through the
/// proxy set with [`proxy`](Self::proxy), else the one that `HTTPS_PROXY` / `HTTP_PROXY`
/// / `ALL_PROXY` / `NO_PROXY` name; a token endpoint on a loopback host is never reached
/// through a proxy.
///
/// ```
/// use std::time::Duration;
/// use client_core::auth::TokenEndpointConfig;
///
/// let config = TokenEndpointConfig::default()
///     .connect_timeout(Duration::from_secs(5))
///     .request_timeout(Duration::from_secs(20))
///     .retry_delay(Duration::from_millis(200));
/// ```
pub struct TokenEndpointConfig {
    connect_timeout: Duration,
    request_timeout: Duration,
    tls_roots: TlsRoots,
    pub(crate) clock: Arc<dyn Clock>,
    retry_delay: Duration,
    proxy: Option<String>,
}

impl Default for TokenEndpointConfig {
    /// 10 s to connect, 30 s for a whole token request, the bundled roots, the Tokio
    /// clock, and a retry after 250 to 500 ms.
    fn default() -> Self {
        TokenEndpointConfig {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            tls_roots: TlsRoots::default(),
            clock: Arc::new(TokioClock),
            retry_delay: Duration::from_millis(500),
            proxy: None,
        }
    }
}

impl TokenEndpointConfig {
    /// Time allowed to open a connection to the token endpoint (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time allowed for one whole token request, response included (default 30 s): the
    /// same meaning as the client builders' `request_timeout` for a call that reads its
    /// body whole.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The trusted TLS roots of the token endpoint.
    pub fn tls_roots(mut self, roots: TlsRoots) -> Self {
        self.tls_roots = roots;
        self
    }

    /// The clock the retry waits on, and the token cache's clock when the grant is built
    /// with `build_cached` (tests use [`crate::ManualClock`]).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The wait before the one retry is drawn from `[delay / 2, delay]`.
    pub fn retry_delay(mut self, delay: Duration) -> Self {
        self.retry_delay = delay;
        self
    }

    /// Sends token requests through the proxy at `url` (`http://proxy.example:3128`,
    /// `http://user:password@proxy.example:3128`), as
    /// [`HttpClientBuilder::proxy`](crate::HttpClientBuilder::proxy) does for API
    /// requests: it replaces the environment's proxies. A token endpoint on a loopback
    /// host is never reached through a proxy. An invalid URL is a configuration error
    /// when the grant is built, which, like `Debug`, never shows the URL's password.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(url.into());
        self
    }

    pub(crate) fn build(self) -> Result<TokenEndpoint> {
        Ok(TokenEndpoint {
            http: token_http_client(
                self.connect_timeout,
                self.request_timeout,
                &self.tls_roots,
                self.proxy.as_deref(),
            )?,
            clock: self.clock,
            retry_delay: self.retry_delay,
        })
    }
}

impl fmt::Debug for TokenEndpointConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenEndpointConfig")
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("tls_roots", &self.tls_roots)
            .field("retry_delay", &self.retry_delay)
            .field(
                "proxy",
                &self.proxy.as_deref().map(crate::transport::redact_url_text),
            )
            .finish()
    }
}

/// The HTTP side of token requests, shared by every grant.
#[derive(Clone)]
pub(crate) struct TokenEndpoint {
    http: crate::transport::TokenHttp,
    clock: Arc<dyn Clock>,
    retry_delay: Duration,
}

impl fmt::Debug for TokenEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenEndpoint")
            .field("retry_delay", &self.retry_delay)
            .finish()
    }
}

/// One token request as a grant prepares it: its extra headers, its form, and the
/// secrets it carries (to be cut out of whatever the endpoint answers).
pub(crate) struct TokenRequest {
    pub(crate) headers: HeaderMap,
    pub(crate) form: String,
    pub(crate) redactor: Redactor,
}

impl TokenEndpoint {
    /// POSTs the form `prepare` gives to `token_url` and parses the token. The request is
    /// repeated once, after a short backoff, on a connect error or a 5xx without
    /// `Retry-After`; never on 4xx. `prepare` runs again for the repeat, so that a grant
    /// sends a fresh assertion each time.
    pub(crate) async fn request_token<F, Fut>(&self, token_url: &str, mut prepare: F) -> Result<AccessToken>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<TokenRequest>>,
    {
        let url = url::Url::parse(token_url).map_err(|e| Error::config(format!("invalid token URL: {e}")))?;
        ensure_secure(&url)?;
        // The workspace's one loop of attempts, with the token endpoint's own policy: two
        // attempts, the second after half to all of `retry_delay`.
        let policy = RetryPolicy::default()
            .with_max_attempts(2)
            .with_max_delay(self.retry_delay)
            .with_total_budget(Duration::MAX);
        let mut retrier = Retrier::new(policy, self.clock.clone());
        loop {
            let TokenRequest {
                headers,
                form,
                redactor,
            } = prepare().await?;
            let request = self
                .http
                .post(url.clone())
                .header(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/x-www-form-urlencoded"),
                )
                .header(ACCEPT, HeaderValue::from_static("application/json"))
                .headers(headers)
                .body(Bytes::from(form));
            let err = match self.send_once(request, &redactor).await {
                Ok(body) => return parse_token_response(&body),
                Err(err) => err,
            };
            let classification = if retry_token_request(&err) {
                let wait = self.retry_delay.mul_f64(0.5 + fastrand::f64() / 2.0);
                Classification::new(FailureClass::Transient).with_wait(Some(wait))
            } else {
                Classification::new(FailureClass::Final)
            };
            let Some(delay) = retrier.next_delay(classification, true) else {
                return Err(err);
            };
            tracing::debug!(error = %err, delay_ms = delay.as_millis() as u64, "token request failed; retrying once");
            retrier.wait(delay).await;
        }
    }

    async fn send_once(&self, request: reqwest::RequestBuilder, redactor: &Redactor) -> Result<Bytes> {
        let response = request
            .send()
            .await
            .map_err(|e| from_reqwest(e, "token request failed"))?;
        let status = response.status();
        let retry_after = parse_retry_after(response.headers());
        let body = read_limited(response).await?;
        if status.is_success() {
            return Ok(body);
        }
        let kind = if status.as_u16() == 429 {
            ErrorKind::Throttled
        } else {
            ErrorKind::Auth
        };
        let what = if status.is_redirection() {
            "token endpoint answered with a redirect, which is never followed".to_owned()
        } else {
            format!(
                "token endpoint refused the request: {}",
                describe_oauth_error(&body, redactor)
            )
        };
        let error = Error::new(kind, what)
            .with_status(status)
            .with_retry_after(retry_after);
        // Of the body, only the RFC 6749 error and its description are kept, with the
        // request's secrets cut out: a token endpoint's answer could echo what it was sent.
        Err(match oauth_error_document(&body, redactor) {
            Some(document) => error.with_body(document.as_bytes()),
            None => error,
        })
    }
}

/// Token requests are repeated once for connect failures and 5xx, but not when the
/// server asked for a delay (Retry-After) and never for 4xx.
fn retry_token_request(err: &Error) -> bool {
    if err.retry_after().is_some() {
        return false;
    }
    match err.status() {
        Some(status) => status.is_server_error(),
        None => matches!(err.kind(), ErrorKind::Transport | ErrorKind::Timeout),
    }
}

async fn read_limited(mut response: reqwest::Response) -> Result<Bytes> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| from_reqwest(e, "reading the token response failed"))?
    {
        if body.len() + chunk.len() > MAX_TOKEN_RESPONSE {
            return Err(Error::new(
                ErrorKind::Auth,
                "token response is larger than 256 KiB",
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(body))
}

#[derive(Deserialize, serde::Serialize)]
struct OAuthError {
    error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_description: Option<String>,
}

/// The RFC 6749 error document of a refusal, rebuilt with only `error` and
/// `error_description` (at most 300 characters), for the error's `ApiError`.
fn oauth_error_document(body: &[u8], redactor: &Redactor) -> Option<String> {
    let OAuthError {
        error,
        error_description,
    } = serde_json::from_slice(body).ok()?;
    let error = redactor.redact(&error);
    let error_description = error_description.map(|d| shorten(&d, redactor));
    serde_json::to_string(&OAuthError {
        error,
        error_description,
    })
    .ok()
}

/// `error: error_description` from an RFC 6749 error body, else a generic text. The body
/// itself is not kept: token endpoint bodies are not shown to avoid echoing credentials.
fn describe_oauth_error(body: &[u8], redactor: &Redactor) -> String {
    match serde_json::from_slice::<OAuthError>(body) {
        Ok(OAuthError {
            error,
            error_description: Some(description),
        }) => {
            format!("{}: {}", redactor.redact(&error), shorten(&description, redactor))
        }
        Ok(OAuthError {
            error,
            error_description: None,
        }) => redactor.redact(&error),
        Err(_) => "no OAuth2 error document in the response".to_owned(),
    }
}

/// At most 300 characters of an endpoint's text, with the request's secrets cut out
/// first (a secret cut in two by the shortening would show its start) and at the cut.
fn shorten(text: &str, redactor: &Redactor) -> String {
    let text = redactor.redact(text);
    if text.chars().count() <= 300 {
        return text;
    }
    redactor.redact_truncated(&text.chars().take(300).collect::<String>())
}

/// Decodes an RFC 6749 access token response.
pub(crate) fn parse_token_response(body: &[u8]) -> Result<AccessToken> {
    #[derive(Deserialize)]
    struct TokenResponse {
        access_token: String,
        #[serde(default)]
        expires_in: Option<serde_json::Value>,
    }
    // The error is rebuilt without serde's message: it could quote the token.
    let parsed: TokenResponse = serde_json::from_slice(body).map_err(|e| {
        Error::new(
            ErrorKind::Auth,
            format!(
                "the token response is not a valid access token document (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })?;
    if parsed.access_token.is_empty() {
        return Err(Error::auth("the token response holds an empty access token"));
    }
    let expires_in = match parsed.expires_in {
        None | Some(serde_json::Value::Null) => None,
        Some(value) => Some(lifetime_seconds(&value)?),
    };
    Ok(AccessToken::new(
        SecretString::from(parsed.access_token),
        expires_in.map(|secs| Duration::from_secs(secs).min(MAX_TOKEN_LIFETIME)),
    ))
}

/// `expires_in` in seconds: a number, or a string holding one (some endpoints send
/// `"3599"`, others `3599.0`). A negative or unreadable lifetime is an error: guessing
/// (an hour, say) would send a token the endpoint says is already dead, or worse.
fn lifetime_seconds(value: &serde_json::Value) -> Result<u64> {
    let seconds = match value {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match seconds {
        // Saturating: a lifetime beyond u64 is clamped with the others.
        Some(seconds) if seconds >= 0.0 => Ok(seconds as u64),
        Some(seconds) if seconds.is_nan() => {
            Err(Error::auth("the token response's expires_in is not a number"))
        }
        Some(seconds) => Err(Error::auth(format!(
            "the token response's expires_in is negative ({seconds} s): the token endpoint is misconfigured"
        ))),
        None => Err(Error::auth("the token response's expires_in is not a number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_response_with_string_expiry() {
        let token =
            parse_token_response(br#"{"access_token":"abc","token_type":"Bearer","expires_in":"3599"}"#)
                .unwrap();
        assert_eq!(token.expires_in(), Some(Duration::from_secs(3599)));
    }

    #[test]
    fn huge_expiry_is_clamped() {
        let token =
            parse_token_response(br#"{"access_token":"abc","expires_in":18446744073709551615}"#).unwrap();
        assert_eq!(token.expires_in(), Some(MAX_TOKEN_LIFETIME));
        let float = parse_token_response(br#"{"access_token":"abc","expires_in":1e300}"#).unwrap();
        assert_eq!(float.expires_in(), Some(MAX_TOKEN_LIFETIME));
    }

    #[test]
    fn negative_or_unreadable_expiry_is_an_error() {
        for body in [
            r#"{"access_token":"abc","expires_in":-1}"#,
            r#"{"access_token":"abc","expires_in":-3600}"#,
            r#"{"access_token":"abc","expires_in":"-5"}"#,
            r#"{"access_token":"abc","expires_in":-1e300}"#,
        ] {
            let err = parse_token_response(body.as_bytes()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Auth, "{body}");
            assert!(err.message().contains("negative"), "{body}: {err}");
            assert!(!err.message().contains("abc"), "{err}");
        }
        for body in [
            r#"{"access_token":"abc","expires_in":"soon"}"#,
            r#"{"access_token":"abc","expires_in":"NaN"}"#,
            r#"{"access_token":"abc","expires_in":[1]}"#,
        ] {
            let err = parse_token_response(body.as_bytes()).unwrap_err();
            assert!(err.message().contains("not a number"), "{body}: {err}");
        }
        // Absent or null: the cache's default lifetime applies.
        for body in [
            r#"{"access_token":"abc"}"#,
            r#"{"access_token":"abc","expires_in":null}"#,
        ] {
            assert_eq!(parse_token_response(body.as_bytes()).unwrap().expires_in(), None);
        }
        let zero = parse_token_response(br#"{"access_token":"abc","expires_in":0}"#).unwrap();
        assert_eq!(zero.expires_in(), Some(Duration::ZERO));
        let float = parse_token_response(br#"{"access_token":"abc","expires_in":3599.9}"#).unwrap();
        assert_eq!(float.expires_in(), Some(Duration::from_secs(3599)));
    }

    #[test]
    fn bad_token_response_does_not_quote_the_body() {
        let err = parse_token_response(br#"{"access_token":12345678}"#).unwrap_err();
        assert!(!err.to_string().contains("12345678"), "{err}");
    }

    #[test]
    fn oauth_error_text() {
        assert_eq!(
            describe_oauth_error(
                br#"{"error":"invalid_client","error_description":"bad secret"}"#,
                &Redactor::new()
            ),
            "invalid_client: bad secret"
        );
        assert_eq!(
            describe_oauth_error(b"<html>", &Redactor::new()),
            "no OAuth2 error document in the response"
        );
    }
}
