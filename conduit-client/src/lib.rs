//! A typed client of the AlphaX Cloud Conduit HTTP API v6: datapoints of any range,
//! complete and without duplicates, within the API's rate limit.
//!
//! # Quickstart
//!
//! ```no_run
//! use conduit_client::Client;
//! use futures::TryStreamExt;
//! use jiff::{SignedDuration, Timestamp};
//!
//! # async fn run() -> Result<(), conduit_client::Error> {
//! // CONDUIT_TOKEN (required) and CONDUIT_BASE_URL (optional).
//! let client = Client::from_env()?;
//! let to = Timestamp::now();
//! let from = to - SignedDuration::from_hours(24 * 90);
//! let mut points = client.datapoints().id("70B3D54990DC01DA").channel(1).range(from, to).stream();
//! while let Some(point) = points.try_next().await? {
//!     println!("{:?} {:?}", point.val_date, point.val_calibrated);
//! }
//! # Ok(()) }
//! ```
//!
//! # What it does for you
//!
//! - **Auth**: the token travels only in `X-Api-Key` (never in a URL, a log line or an
//!   error), over HTTPS (plain HTTP only to loopback, for the sandbox).
//! - **Rate limit**: at most one request per 15 seconds by default, shared by every
//!   clone of a [`Client`] and every task using it; [`Tier`] presets for the vendor's
//!   other tiers, or off. A 429 is waited out (its `Retry-After`, else the interval) and
//!   retried within the [`client_core::RetryPolicy`]; when retries run out,
//!   [`Error::Throttled`] says how long to wait.
//! - **Complete ranges**: [`DatapointsQuery::stream`] gives every datapoint *created* in
//!   a range (what `fcdt`/`tcdt` select; a late datapoint's `val_date` may lie before
//!   the range), once, whatever the API means by its ends, its order or which 10,000
//!   points a capped response keeps: windows of at most 31 days overlap their neighbours
//!   and are deduplicated by `(dev_netid, dev_chid, val_date)`, a capped response is
//!   halved rather than trusted, and window lengths follow the density seen (dense data
//!   costs about 1.15 times the lower bound of requests).
//! - **Errors**: [`Error`] is the workspace's shared [`client_core::ClientError`], so
//!   its variants and predicates (`status()`, `correlation_id()`, `retry_after()`,
//!   `is_retryable()`) are those of every client of the SDK. 304 is an empty result;
//!   400, 401, 403, 404, 405, 413, 429, 500 and 503 are variants carrying the body's
//!   `code` (string or number) and `error` in an [`ApiError`]; Conduit's own
//!   [`ConduitError`] comes under `Error::Api`.
//! - **Records**: [`Datapoint`] keeps every attribute, unknown ones in
//!   [`Datapoint::other`]; [`DatapointsQuery::records`] decodes into your own type.
//! - **Sending**: [`Client::send`] for POST/PUT/DELETE with a JSON body, gzip-compressed
//!   above 1 KiB, refused before sending above 5 MB, with optional
//!   `X-HTTP-Method-Override`. Responses are read with gzip.
//!
//! # Building a client
//!
//! [`Client::builder`] takes the same setters as every client of the workspace
//! (`base_url`, `timeout`, `connect_timeout`, `retry_policy`, `throttle`, `clock`,
//! `user_agent_suffix`, `tls_roots`); [`Client::from_env`] and [`Client::from_vars`] read
//! `CONDUIT_TOKEN` and `CONDUIT_BASE_URL`. `jiff`, `secrecy` and `client_core` are
//! re-exported, so you never align their versions by hand.
//!
//! # Ranges
//!
//! A range is half-open, `[from, to)` of creation time, given as instants and sent as
//! `fcdt`/`tcdt` epoch seconds. Giving only one end is an error before anything is sent (the API would
//! ignore it); giving neither asks the API for its default, the last hour.

// Library code handles every failure; tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod client;
mod datapoint;
mod error;
mod keyed;
mod query;
mod send;
mod windows;

pub use client::{Client, ClientBuilder, DEFAULT_BASE_URL, DEFAULT_INTERVAL, Tier, env};
pub use datapoint::Datapoint;
pub use error::{ConduitError, Error, Result};
pub use query::DatapointsQuery;

pub use client_core::{ApiError, ErrorCode, RecordStream, RetryPolicy, Throttle, TlsRoots};
pub use send::{COMPRESS_ABOVE, MAX_REQUEST_BYTES, SendRequest};
pub use windows::{MAX_DATAPOINTS, MAX_SPAN};
/// Re-exported so that callers name the same versions the client uses.
pub use {client_core, jiff, secrecy};
