//! Shared auth, transport and streaming decoders of the industrial IoT measurement-data
//! SDK. Every API client crate of the workspace (`preventos-client`, `conduit-client`,
//! ...) sits on this crate; use it directly to talk to an API that has no client yet.
//!
//! # Quickstart
//!
//! A client with an API key, the default retry policy and a throttle, streaming an
//! NDJSON response into typed records:
//!
//! ```no_run
//! use std::time::Duration;
//! use client_core::{DecodeOptions, HeaderCredential, HttpClient, Throttle, decode};
//! use futures::TryStreamExt;
//! use secrecy::SecretString;
//!
//! #[derive(serde::Deserialize)]
//! struct Point { timestamp: String, value: f64 }
//!
//! # async fn run() -> Result<(), client_core::Error> {
//! let client = HttpClient::builder("https://api.example.com/v1")
//!     .credential(HeaderCredential::new("X-Api-Key", SecretString::from("..."))?)
//!     .throttle(Throttle::min_interval(Duration::from_secs(1)))
//!     .build()?;
//! let response = client
//!     .get("values")
//!     .query("format", "ndjson")
//!     .accept("application/x-ndjson")
//!     .send()
//!     .await?;
//! let mut points = decode::ndjson::<Point, _>(response.bytes_stream(), DecodeOptions::default());
//! while let Some(point) = points.try_next().await? {
//!     println!("{} {}", point.timestamp, point.value);
//! }
//! # Ok(()) }
//! ```
//!
//! # What is here
//!
//! - [`auth`]: the [`Credential`] trait and its implementations (API key header, Basic,
//!   bearer, OAuth2 client credentials with a secret or a certificate assertion, RFC 7523
//!   JWT-bearer), and the single-flight [`TokenCache`].
//! - [`HttpClient`]: base URL, HTTPS-only rule (plain HTTP to loopback only), timeouts,
//!   `User-Agent`, gzip, correlation ids, and the request pipeline: throttle, credentials,
//!   retries by [`RetryPolicy`], one credential refresh on 401.
//! - [`decode`]: NDJSON, JSON array, CSV and raw-byte decoders over response streams,
//!   each with a record-size limit and truncation detection; [`AtomicFile`] for files that
//!   appear complete or not at all.
//! - [`Error`]: one error type with an [`ErrorKind`], status, `Retry-After`, correlation id
//!   and the first 4 KiB of the body.
//!
//! # Secrets
//!
//! Secrets are [`secrecy::SecretString`]s from the moment they are read. No `Debug`
//! output, error message or log line of this crate contains a secret, token, assertion,
//! key or URL query string; headers carrying credentials are marked sensitive.
//!
//! # Logging
//!
//! Each request runs in a `http_request` [`tracing`] span with `method`, `path` (never the
//! query), `attempt`, `status`, `elapsed_ms` and `correlation_id`. The library never
//! prints.
//!
//! # Choices worth knowing
//!
//! - TLS is rustls with the `ring` provider and the Mozilla root store (`webpki-roots`):
//!   nothing depends on OpenSSL, a C toolchain beyond `ring`'s, or the system's
//!   certificate store, so containers without CA bundles work. reqwest 0.12 is used
//!   because its rustls feature uses `ring`; `oauth2` runs without its own HTTP client,
//!   on this crate's reqwest, so `Cargo.lock` holds one reqwest.
//! - Redirects are never followed (by API requests or token requests): a redirect could
//!   carry credentials to another host.
//! - A token response without `expires_in` is cached as if it lived one hour; a 401
//!   corrects a wrong guess.
//! - 304 Not Modified counts as a success (Conduit uses it for "no new data").
//! - Static shared-secret headers (With the Grid forwarding) and API keys are the same
//!   thing on the wire: both are a [`HeaderCredential`].
//! - AWS SigV4 and Azure SAS credentials are not here yet; they arrive with the
//!   forwarded-message delivery work.
//!
//! # Feature flags
//!
//! None yet.

// Library code handles every failure; tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod auth;
mod clock;
pub mod decode;
mod error;
mod file;
mod retry;
mod throttle;
mod transport;

pub use auth::{
    AccessToken, AssertionSigner, BasicAuth, BearerToken, CertificateKey, ClientAssertion, ClientCredentials,
    Credential, HeaderCredential, JwsAlgorithm, JwtBearerGrant, SecretPlacement, TokenCache,
    TokenCacheConfig, TokenSource,
};
pub use clock::{Clock, ManualClock, TokioClock};
pub use decode::{CsvFormat, DecodeOptions, RecordStream};
pub use error::{Error, ErrorKind, MAX_ERROR_BODY, Result};
pub use file::AtomicFile;
pub use retry::{FailureClass, RetryPolicy, classify, parse_retry_after};
pub use throttle::Throttle;
pub use transport::{
    ByteStream, CORE_USER_AGENT, DEFAULT_CORRELATION_HEADERS, HttpClient, HttpClientBuilder, RequestBuilder,
    Response, ensure_secure, is_loopback, join, normalize_base_url,
};

/// Re-exported so users name the same versions the SDK uses.
pub use secrecy;
pub use {bytes, http, url};
