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
//! use client_core::{DecodeOptions, HeaderCredential, HttpClient, Throttle};
//! use futures::TryStreamExt;
//! use secrecy::SecretString;
//!
//! #[derive(serde::Deserialize)]
//! struct Point { timestamp: String, value: f64 }
//!
//! # async fn run() -> Result<(), client_core::Error> {
//! let client = HttpClient::builder("https://api.example.com/v1")
//!     .credential(HeaderCredential::builder().name("X-Api-Key").value(SecretString::from("...")).build()?)
//!     .throttle(Throttle::min_interval(Duration::from_secs(1)))
//!     .build()?;
//! let response = client
//!     .get("values")
//!     .query("format", "ndjson")
//!     .accept("application/x-ndjson")
//!     .send()
//!     .await?;
//! let mut points = response.ndjson::<Point>(DecodeOptions::default());
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
//! - [`HttpClient`]: base URL, HTTPS-only rule (plain HTTP to loopback only), path
//!   segments checked ([`join`] refuses `.` and `..`), timeouts (connect, read-idle,
//!   per-attempt request), proxies, `User-Agent`, gzip, correlation ids, and the request
//!   pipeline: throttle, credentials, retries by [`RetryPolicy`], one credential refresh
//!   on 401.
//! - [`decode`]: NDJSON, JSON array, CSV and raw-byte decoders over response streams,
//!   each with a record-size limit and truncation detection; [`AtomicFile`] for files that
//!   appear complete or not at all.
//! - [`Error`]: one error type with an [`ErrorKind`], status, `Retry-After`, correlation id
//!   and the first 4 KiB of the body; [`ApiError`], any vendor's error document parsed
//!   leniently; [`ClientError`], the error enum every client crate exposes (the same
//!   variants in every crate, one mapping from [`Error`]).
//! - [`RecordStream`]: the one boxed, `Send` stream type of every client;
//!   [`split_range`]: the one splitter of half-open time ranges.
//! - [`shape`]: the client shape in code. [`ClientBuilderShape`] and [`ClientConfig`],
//!   the one builder with the same setters and the same `from_env`/`from_vars` in every
//!   client; [`RetryClassifier`], the policy an API plugs into the pipeline;
//!   [`Paginator`], the one paginator (page tokens, numbers, links); [`ErrorDetail`],
//!   details read off errors the same way; and the verbs every request ends in
//!   ([`Request::to_request`], [`Sendable::send`], [`Streamable::stream`],
//!   [`Pageable::pages`], [`Storable::copy_to`] and [`Storable::write_to`]).
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
//!   because its rustls feature uses `ring`. The OAuth2 grants (feature `oauth2`) are
//!   written here, on this crate's reqwest: the `oauth2` crate is not a dependency, and
//!   `Cargo.lock` holds one reqwest. No public signature takes a reqwest type: token
//!   requests are tuned through `TokenEndpointConfig`'s own settings.
//! - Redirects are never followed (by API requests or token requests): a redirect could
//!   carry credentials to another host. Credentials and default headers go only to the
//!   base URL's origin: an absolute URL elsewhere is refused, or sent without either
//!   through [`HttpClient::request_other_origin`].
//! - A path segment that is `.` or `..`, or decodes to one (`%2e%2E`), is refused before
//!   anything is sent: the URL parser would resolve it, and `delete(.., "..")` would act
//!   on the parent resource.
//! - Timeouts: the read timeout ([`DEFAULT_READ_TIMEOUT`], 120 s) is the longest silence while
//!   reading a response, so bodies may stream for hours while bytes arrive; the request
//!   timeout (none by default) limits each attempt up to its response headers, or its
//!   whole body when the call buffers it, and never cuts a streamed body.
//! - Proxies: `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` are honoured, or
//!   one proxy set with [`HttpClientBuilder::proxy`]. Loopback hosts (`localhost`,
//!   127.0.0.0/8, `::1`) never go through a proxy, whatever the environment says: plain
//!   HTTP is allowed there only because it never leaves the machine.
//! - A token response without `expires_in` is cached as if it lived one hour; a 401
//!   corrects a wrong guess. A negative `expires_in` is an [`ErrorKind::Auth`] error, and
//!   one beyond a week is taken as a week. A token that lives only a few seconds (or 0)
//!   still serves the requests that waited for it.
//! - A 429's `Retry-After` (seconds, or an HTTP-date in any of RFC 9110's three forms) is
//!   believed up to [`MAX_RETRY_AFTER`] (a day). A wait longer than the retry policy's
//!   `max_delay` fails the call with [`ErrorKind::Throttled`] naming the wait; the shared
//!   [`Throttle`] holds the other requests back for at most `max_delay`, and a request
//!   whose own policy allows less fails at once instead of sleeping on it.
//! - Error bodies kept in errors have every secret the client's credentials know
//!   ([`Credential::secrets`]) replaced by `[REDACTED]`, in case a server echoes one.
//! - 304 Not Modified counts as a success (Conduit uses it for "no new data").
//! - Static shared-secret headers (With the Grid forwarding) and API keys are the same
//!   thing on the wire: both are a [`HeaderCredential`].
//! - AWS SigV4 (feature `sigv4`) uses AWS's own `aws-sigv4` signer with S3's settings;
//!   Azure SAS (feature `sas`) is computed here and checked against a vector.
//!
//! # Feature flags
//!
//! Pay only for what you use: an API-key client compiles no OAuth2 or certificate code.
//!
//! | feature | what it adds |
//! |---|---|
//! | `oauth2` | OAuth2 token grants, implemented in this crate (no `oauth2` crate): `ClientCredentials` (client secret in the body or a Basic header, or a `private_key_jwt` assertion through `AssertionSigner` / `ClientAssertion`), `JwtBearerGrant` (RFC 7523, HS256), and `TokenEndpointConfig` (timeouts, roots, clock of token requests); each builds a `TokenCache` credential |
//! | `certificate` | `CertificateKey`: PKCS#12/PFX and PEM keys for client assertions (implies `oauth2`) |
//! | `sigv4` | `SigV4`: AWS Signature Version 4 with the S3 settings, through the `aws-sigv4` crate |
//! | `sas` | `EventHubsSas` (Event Hubs `SharedAccessSignature` tokens) and `BlobSasUrl` (Blob Storage SAS URLs used as given) |
//! | `native-roots` | `TlsRoots::os_store`: trust the operating system's certificate store |
//! | `arrow` | `columns`: the `Columnar` trait, batching into Arrow `RecordBatch`es, the shared column builders and the exact-text rule of numbers |
//! | `parquet` | `columns::write_parquet`: batches to a Parquet file (Snappy; implies `arrow`) |

// Library code handles every failure; tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod api_error;
pub mod auth;
mod client_error;
mod clock;
#[cfg(feature = "arrow")]
pub mod columns;
pub mod decode;
mod error;
mod error_detail;
mod file;
mod http_date;
pub mod metrics;
mod range;
mod redact;
mod retry;
pub mod shape;
#[cfg(feature = "object-store")]
pub mod store;
mod throttle;
mod transport;

pub use api_error::{ApiError, ErrorCode, ErrorOrigin};
#[cfg(feature = "certificate")]
pub use auth::CertificateKey;
#[cfg(feature = "sigv4")]
pub use auth::SigV4;
pub use auth::{
    AccessToken, BasicAuth, BearerToken, Credential, HeaderCredential, TokenCache, TokenCacheConfig,
    TokenSource,
};
#[cfg(feature = "oauth2")]
pub use auth::{
    AssertionSigner, ClientAssertion, ClientCredentials, JwsAlgorithm, JwtBearerGrant, SecretPlacement,
    TokenEndpointConfig,
};
#[cfg(feature = "sas")]
pub use auth::{BLOB_TYPE_HEADER, BlobSasUrl, EventHubsSas};
pub use client_error::{ApiSpecificError, ClientError, NoApiError};
pub use clock::{Clock, ManualClock, TokioClock};
pub use decode::{CsvFormat, DecodeOptions, RecordStream};
pub use error::{Error, ErrorKind, MAX_ERROR_BODY, Result};
pub use error_detail::{ErrorDetail, RateLimit};
pub use file::AtomicFile;
pub use range::split_range;
pub use redact::{MIN_REDACTED_LEN, REDACTED, Redactor};
pub use retry::MAX_RETRY_AFTER;
pub use retry::{
    Classification, Classifiers, FailureClass, Retrier, RetryClassifier, RetryPolicy, classify,
    parse_retry_after,
};
pub use shape::{
    ApiDefaults, CHECKPOINT_VERSION, Checkpoint, Checkpointed, ClientBuilderShape, ClientConfig, Cursor,
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT, Page, PageSource, Pageable, Paginator, Position, Request,
    Resumable, Sendable, Storable, Streamable, Vars, Window, Written,
};
pub use throttle::Throttle;
pub use transport::{
    ByteStream, CORE_USER_AGENT, DEFAULT_CORRELATION_HEADERS, HttpClient, HttpClientBuilder, RequestBuilder,
    RequestPreview, Response, TlsRoots, TransportSettings, decode_segment, encode_segment,
    ensure_same_origin, ensure_secure, is_loopback, join, normalize_base_url,
};

/// Enums of wire strings that keep values they do not know (from the `open-enums` crate).
pub use open_enums::open_enum;
/// Re-exported so users name the same versions the SDK uses.
pub use secrecy;
pub use {bytes, futures, http, jiff, url};

/// What the SDK's macros expand to; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use tokio::io::AsyncWrite;
}
