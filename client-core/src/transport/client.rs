//! `HttpClient`: the configured transport every API client sits on.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use url::Url;

use super::pipeline::Inner;
use super::request::RequestBuilder;
use super::{CORE_USER_AGENT, join, normalize_base_url};
use crate::auth::Credential;
use crate::clock::{Clock, TokioClock};
use crate::error::{Error, Result};
use crate::retry::{Classifiers, RetryClassifier, RetryPolicy};
use crate::throttle::Throttle;

/// The response headers that carry a correlation id, in order of preference.
pub const DEFAULT_CORRELATION_HEADERS: [&str; 4] = [
    "x-correlation-id",
    "x-ms-request-id",
    "apim-request-id",
    "request-id",
];

/// A configured HTTP transport: base URL, credentials, retry policy, throttle, timeouts.
///
/// Cheap to clone (an `Arc` inside); clones share the connection pool, the token cache
/// and the throttle. `Send + Sync`.
///
/// ```
/// use client_core::{HttpClient, HeaderCredential, RetryPolicy};
/// use secrecy::SecretString;
///
/// let client = HttpClient::builder("https://app.alphax.cloud/conduitv6")
///     .credential(HeaderCredential::builder().name("X-Api-Key").value(SecretString::from("key")).build()?)
///     .retry_policy(RetryPolicy::default().with_max_attempts(3))
///     .user_agent("conduit-client/0.1.0")
///     .build()?;
/// assert_eq!(client.base_url().as_str(), "https://app.alphax.cloud/conduitv6/");
/// # Ok::<(), client_core::Error>(())
/// ```
#[derive(Clone)]
pub struct HttpClient {
    pub(crate) inner: Arc<Inner>,
}

/// Builder of [`HttpClient`].
pub struct HttpClientBuilder {
    base_url: String,
    credentials: Vec<Arc<dyn Credential>>,
    retry: RetryPolicy,
    classifiers: Classifiers,
    throttle: Option<Throttle>,
    clock: Arc<dyn Clock>,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
    request_timeout: Option<Duration>,
    user_agent: Option<String>,
    user_agent_suffix: Option<String>,
    default_headers: HeaderMap,
    correlation_headers: Vec<String>,
    gzip: bool,
    tls_roots: super::TlsRoots,
    proxy: Option<String>,
    metrics_label: &'static str,
}

impl HttpClient {
    /// Starts a builder for the API at `base_url`.
    pub fn builder(base_url: impl Into<String>) -> HttpClientBuilder {
        HttpClientBuilder {
            base_url: base_url.into(),
            credentials: Vec::new(),
            retry: RetryPolicy::default(),
            classifiers: Classifiers::new(),
            throttle: None,
            clock: Arc::new(TokioClock),
            connect_timeout: Some(crate::DEFAULT_CONNECT_TIMEOUT),
            read_timeout: Some(crate::DEFAULT_READ_TIMEOUT),
            request_timeout: None,
            user_agent: None,
            user_agent_suffix: None,
            default_headers: HeaderMap::new(),
            correlation_headers: DEFAULT_CORRELATION_HEADERS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            gzip: true,
            tls_roots: super::TlsRoots::default(),
            proxy: None,
            metrics_label: "http",
        }
    }

    /// The normalised base URL (always ends in `/`).
    pub fn base_url(&self) -> &Url {
        &self.inner.base_url
    }

    /// The `api` label of the client's [metrics](crate::metrics).
    pub fn metrics_label(&self) -> &'static str {
        self.inner.metrics_label
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The throttle, if any.
    pub fn throttle(&self) -> Option<&Throttle> {
        self.inner.throttle.as_ref()
    }

    /// The clock of retries and the throttle.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// Every secret this client knows (its credentials', and the values of its default
    /// headers marked sensitive), ready to cut out of text a server sent back. The pipeline applies it to
    /// every error body it keeps; a client crate that captures server text on its own
    /// (an error reported inside a stream) applies it there.
    pub fn redactor(&self) -> crate::Redactor {
        self.inner.redactor()
    }

    /// Tells every credential that the API refused what it gives now (a stream's in-band
    /// 401, which the request pipeline never sees): a cached token is dropped, so the
    /// next request fetches a fresh one. Returns whether any credential dropped one.
    pub async fn refuse_credentials(&self) -> Result<bool> {
        let mut headers = HeaderMap::new();
        for credential in &self.inner.credentials {
            credential.apply(&mut headers).await?;
        }
        Ok(self.inner.credentials.iter().fold(false, |any, credential| {
            credential.on_unauthorized(&headers) | any
        }))
    }

    /// The classification of `error` by the chain of [`RetryClassifier`]s this client
    /// was built with (on top of the standard one).
    pub fn classify(&self, error: &Error) -> crate::Classification {
        self.inner.classifiers.classify(error)
    }

    /// A request to `path`, relative to the base URL (a leading `/` is ignored).
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        RequestBuilder::new(self.inner.clone(), method, join(&self.inner.base_url, path))
    }

    /// A request to an absolute URL on the base URL's origin (e.g. a link the API
    /// returned), with the client's credentials. A URL on another origin is refused with
    /// a [`crate::ErrorKind::Config`] error when sent: credentials never leave the API's
    /// origin.
    pub fn request_url(&self, method: Method, url: Url) -> RequestBuilder {
        let checked = super::ensure_same_origin(&self.inner.base_url, &url)
            .and_then(|()| super::ensure_secure(&url))
            .map(|()| url);
        RequestBuilder::new(self.inner.clone(), method, checked)
    }

    /// A request to an absolute URL on any origin (a pre-signed download link, say),
    /// sent explicitly **without** the client's credentials; retries, throttle and
    /// timeouts still apply. The URL must pass the HTTPS rule.
    pub fn request_other_origin(&self, method: Method, url: Url) -> RequestBuilder {
        let checked = super::ensure_secure(&url).map(|()| url);
        RequestBuilder::new(self.inner.clone(), method, checked).without_credentials()
    }

    /// `GET` of `path`.
    pub fn get(&self, path: &str) -> RequestBuilder {
        self.request(Method::GET, path)
    }

    /// `POST` to `path`.
    pub fn post(&self, path: &str) -> RequestBuilder {
        self.request(Method::POST, path)
    }
}

impl HttpClientBuilder {
    /// Adds a credential; several may be added (a bearer token and an API key, say).
    pub fn credential(mut self, credential: impl Credential + 'static) -> Self {
        self.credentials.push(Arc::new(credential));
        self
    }

    /// Adds a shared credential.
    pub fn shared_credential(mut self, credential: Arc<dyn Credential>) -> Self {
        self.credentials.push(credential);
        self
    }

    /// Sets the retry policy (default: [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Adds a [`RetryClassifier`] to the chain that decides what a failure means for
    /// repeating a request (the API's own throttling wait, its own transient codes).
    /// Classifiers run in the order added, after the standard classification.
    pub fn classifier(mut self, classifier: Arc<dyn RetryClassifier>) -> Self {
        self.classifiers.push(classifier);
        self
    }

    /// Limits the request rate; the throttle is shared by every clone of the client.
    pub fn throttle(mut self, throttle: Throttle) -> Self {
        self.throttle = Some(throttle);
        self
    }

    /// Reads time and sleeps through `clock` (tests use [`crate::ManualClock`]).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Time allowed to open a connection (default [`crate::DEFAULT_CONNECT_TIMEOUT`]);
    /// `None` disables it (tests on a
    /// paused clock, where a timer would fire as soon as the runtime idles).
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Longest silence while reading a response: waiting for its headers, or between two
    /// chunks of its body (default [`crate::DEFAULT_READ_TIMEOUT`]); `None` disables it. It
    /// is not a limit on the whole request: a body may stream for hours as long as bytes
    /// keep arriving. See [`HttpClientBuilder::request_timeout`] for that.
    pub fn read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// Limit on each attempt of a request (default none), counted from sending it until
    /// its response headers arrive, and, when the call reads the whole body
    /// ([`RequestBuilder::send_buffered`], [`RequestBuilder::json_response`], the
    /// clients' typed `send`) or the response is an error, until that body is read. An
    /// attempt that overruns it fails with [`crate::ErrorKind::Timeout`] and is retried
    /// like any timeout: each attempt gets the whole limit, and the retry policy's total
    /// budget bounds the call.
    ///
    /// A body read as a stream after `send` returns ([`crate::Response::bytes_stream`],
    /// the decoders, `copy_to`, `write_to`, a client's `stream()`) is never cut by it,
    /// however long it takes: the [read timeout](HttpClientBuilder::read_timeout) guards
    /// it against a silent server.
    pub fn request_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sends every request through the proxy at `url` (`http://proxy.example:3128`,
    /// with `user:password@` when it asks for it) instead of the proxies of the
    /// environment (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`), which apply
    /// otherwise. Requests to a loopback host (`localhost`, 127.0.0.0/8, `::1`) never go
    /// through a proxy, whichever is set: plain HTTP is allowed there only because it
    /// never leaves the machine.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(url.into());
        self
    }

    /// The product token in front of `client-core/x.y.z` in `User-Agent`, e.g.
    /// `preventos-client/0.1.0`.
    pub fn user_agent(mut self, product: impl Into<String>) -> Self {
        self.user_agent = Some(product.into());
        self
    }

    /// Text appended to `User-Agent` (your service's name and version, say).
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.user_agent_suffix = Some(suffix.into());
        self
    }

    /// The trusted TLS roots (default: the bundled Mozilla roots).
    pub fn tls_roots(mut self, roots: super::TlsRoots) -> Self {
        self.tls_roots = roots;
        self
    }

    /// A header sent with every request to the base URL's origin (like credentials, never
    /// to another origin: a link elsewhere or [`HttpClient::request_other_origin`]). A
    /// header of the same name set on a request replaces it.
    ///
    /// A secret value (a tenant key, say) should be a credential
    /// ([`HeaderCredential`](crate::HeaderCredential)), or at least be marked with
    /// [`HeaderValue::set_sensitive`]: a sensitive value is cut out of error bodies that
    /// echo it ([`HttpClient::redactor`]), and hidden from `Debug`.
    pub fn default_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.default_headers.insert(name, value);
        self
    }

    /// The response headers searched for a correlation id, in order (default:
    /// [`DEFAULT_CORRELATION_HEADERS`]).
    pub fn correlation_headers<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.correlation_headers = names.into_iter().map(Into::into).collect();
        self
    }

    /// The `api` label of the client's [metrics](crate::metrics) (default `http`; each
    /// client crate sets its API's: `preventos`, `conduit`, `sds`, `dt`).
    pub fn metrics_label(mut self, api: &'static str) -> Self {
        self.metrics_label = api;
        self
    }

    /// Asks for and decodes gzip responses (default on).
    pub fn gzip(mut self, enabled: bool) -> Self {
        self.gzip = enabled;
        self
    }

    /// Checks the configuration and builds the client.
    pub fn build(self) -> Result<HttpClient> {
        let base_url = normalize_base_url(&self.base_url)?;
        let mut user_agent = match &self.user_agent {
            Some(product) => format!("{product} {CORE_USER_AGENT}"),
            None => CORE_USER_AGENT.to_owned(),
        };
        if let Some(suffix) = self.user_agent_suffix.as_deref().filter(|s| !s.trim().is_empty()) {
            user_agent.push(' ');
            user_agent.push_str(suffix.trim());
        }
        // Proxies come from the `proxy` setting, else from HTTPS_PROXY / HTTP_PROXY /
        // ALL_PROXY and NO_PROXY (reqwest's system proxy). Loopback hosts get a client of
        // their own that never uses one: whatever NO_PROXY says, plain HTTP allowed to
        // `localhost` must not travel to a proxy (whose `localhost` is another machine).
        // Redirects are never followed (see `harden`).
        let mut builder = self.reqwest_builder(&user_agent);
        if let Some(url) = &self.proxy {
            builder = builder.proxy(super::proxy_for_all(url)?);
        }
        let http = super::harden(builder, &self.tls_roots)?;
        let loopback_http = super::harden(self.reqwest_builder(&user_agent).no_proxy(), &self.tls_roots)?;
        let correlation_headers = self
            .correlation_headers
            .iter()
            .map(|name| {
                HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| Error::config(format!("`{name}` is not a valid header name")))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(HttpClient {
            inner: Arc::new(Inner {
                http,
                loopback_http,
                default_headers: self.default_headers,
                request_timeout: self.request_timeout,
                base_url,
                credentials: self.credentials,
                retry: self.retry,
                classifiers: self.classifiers,
                throttle: self.throttle,
                clock: self.clock,
                correlation_headers,
                metrics_label: self.metrics_label,
            }),
        })
    }
}

impl HttpClientBuilder {
    /// A reqwest builder with the settings of every connection (default headers and the
    /// request timeout are applied per request, by the pipeline).
    fn reqwest_builder(&self, user_agent: &str) -> reqwest::ClientBuilder {
        let mut builder = reqwest::Client::builder().user_agent(user_agent).gzip(self.gzip);
        if let Some(timeout) = self.connect_timeout {
            builder = builder.connect_timeout(timeout);
        }
        if let Some(timeout) = self.read_timeout {
            builder = builder.read_timeout(timeout);
        }
        builder
    }
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("base_url", &self.inner.base_url.as_str())
            .field("credentials", &self.inner.credentials)
            .field("retry", &self.inner.retry)
            .field("classifiers", &self.inner.classifiers)
            .field("throttle", &self.inner.throttle)
            .finish()
    }
}

impl fmt::Debug for HttpClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Default header values may be secrets: only their names are shown.
        let header_names: Vec<&str> = self.default_headers.keys().map(HeaderName::as_str).collect();
        f.debug_struct("HttpClientBuilder")
            .field("base_url", &super::redact_url_text(&self.base_url))
            .field("credentials", &self.credentials)
            .field("retry", &self.retry)
            .field("throttle", &self.throttle)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("default_headers", &header_names)
            .field("tls_roots", &self.tls_roots)
            .field("proxy", &self.proxy.as_deref().map(super::redact_url_text))
            .finish()
    }
}
