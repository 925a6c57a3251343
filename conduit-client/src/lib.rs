//! A typed client of the AlphaX Cloud Conduit HTTP API v6: datapoints of any range,
//! complete and without duplicates, within the API's rate limit.
//!
//! # Quickstart
//!
//! ```no_run
//! use conduit_client::Client;
//! use conduit_client::jiff::{SignedDuration, Timestamp};
//! use conduit_client::prelude::*;
//!
//! # async fn run() -> Result<(), conduit_client::Error> {
//! // CONDUIT_TOKEN (required), CONDUIT_BASE_URL and CONDUIT_TIER (optional).
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
//! # The verbs
//!
//! A request is built, then finished with a verb, the same verbs as every client of the
//! SDK (also as the [`prelude`]'s traits, for generic code):
//!
//! | verb | [`DatapointsQuery`] | [`JsonRequest`] |
//! |---|---|---|
//! | `to_request()` | the request `send()` sends, unsent | the request, unsent |
//! | `send()` | one request: its datapoints as a [`Page`] (`next: None`) | the decoded answer |
//! | `stream()` | every datapoint of the range, once | |
//! | `pages()` | the same, window by window ([`Window`]), each with its checkpoint | |
//! | `checkpointed()` | every datapoint with the [`Checkpoint`] right after it | |
//! | `resume_from(checkpoint)` | the same read, going on after the checkpoint | |
//! | `copy_to(writer)` / `write_to(path)` | NDJSON, each datapoint's text as sent: [`Written`] | |
//!
//! # What it does for you
//!
//! - **Auth**: the token travels only in `X-Api-Key` (never in a URL, a log line or an
//!   error), over HTTPS (plain HTTP only to loopback, for the sandbox). Any
//!   `client-core` [`Credential`] may stand in for it.
//! - **Rate limit**: at most one request per 15 seconds by default, shared by every
//!   clone of a [`Client`] and every task using it; [`Tier`] presets for the vendor's
//!   other tiers, or off. A 429 is waited out (its `Retry-After`, else the client's
//!   interval; with no interval, [`Tier::Unlimited`], the [`RetryPolicy`]'s backoff) and
//!   retried within the [`RetryPolicy`]; when retries run out, [`Error::Throttled`] says
//!   how long to wait (when anyone said).
//! - **Complete ranges**: [`DatapointsQuery::stream`] gives every datapoint *created* in
//!   a range (what `fcdt`/`tcdt` select; a datapoint's `val_date` may lie before or
//!   after the range, and nothing is dropped by it), once, whatever the API means by its
//!   ends, its order or which 10,000 points a capped response keeps: windows of at most
//!   31 days overlap their neighbours, and the overlap is removed by comparing whole
//!   record texts (distinct datapoints sharing `(dev_netid, dev_chid, val_date)` are all
//!   kept); a capped response is never trusted, only measured: the density it shows
//!   cuts its window to a length that fits (a 413 halves it), and window lengths follow
//!   the density seen (dense data costs at most 1.3 times the lower bound of requests
//!   under every cap reading).
//! - **Resuming**: a read killed anywhere goes on from its last [`Checkpoint`]
//!   ([`DatapointsQuery::resume_from`]), each datapoint exactly once across the runs.
//! - **Errors**: [`Error`] is the SDK's shared [`ClientError`],
//!   so its variants and predicates (`status()`, `correlation_id()`, `retry_after()`,
//!   `is_retryable()`, `is_unauthorized()`) are those of every client of the SDK. 304 is
//!   an empty result; 400, 401, 403, 404, 405, 413, 429, 500 and 503 are variants
//!   carrying the body's `code` (string or number) and `error` in an [`ApiError`];
//!   Conduit's own [`ConduitError`] comes under `Error::Api`.
//! - **Records**: [`Datapoint`] keeps every attribute, unknown ones in
//!   [`Datapoint::other`]; [`RawDatapoint`] is the server's text itself, for lossless
//!   copies; [`DatapointsQuery::records`] decodes into your own type (below).
//! - **Sending**: [`Client::request`] for POST/PUT/DELETE with a JSON body,
//!   gzip-compressed above 1 KiB, refused before sending above 5 MB, with optional
//!   `X-HTTP-Method-Override`. Responses are read with gzip.
//!
//! # Your own record type
//!
//! [`DatapointsQuery::records`] decodes each datapoint into any `Deserialize` type: a
//! struct of the attributes you need. Derive it through this crate's `serde`, so your
//! `Cargo.toml` needs no `serde` of its own:
//!
//! ```no_run
//! use conduit_client::Client;
//! use conduit_client::jiff::{SignedDuration, Timestamp};
//! use conduit_client::prelude::*;
//!
//! #[derive(Debug, conduit_client::serde::Deserialize)]
//! #[serde(crate = "conduit_client::serde")]
//! struct Battery {
//!     dev_netid: Option<String>,
//!     val_calibrated: Option<f64>,
//! }
//!
//! # async fn run() -> Result<(), conduit_client::Error> {
//! let client = Client::from_env()?;
//! let to = Timestamp::now();
//! let mut points = client
//!     .datapoints()
//!     .channel(1)
//!     .range(to - SignedDuration::from_hours(24), to)
//!     .records::<Battery>()
//!     .stream();
//! while let Some(battery) = points.try_next().await? {
//!     println!("{battery:?}");
//! }
//! # Ok(()) }
//! ```
//!
//! # Building a client
//!
//! [`Client::builder`] takes the same setters as every client of the SDK (`base_url`,
//! `credential`, `timeout`, `connect_timeout`, `retry_policy`, `throttle`, `clock`,
//! `user_agent_suffix`, `tls_roots`), plus Conduit's `token` and `tier`.
//! [`Client::from_env`] and [`Client::from_vars`] read the variables of [`env`](mod@env):
//! `CONDUIT_TOKEN`, `CONDUIT_BASE_URL` and `CONDUIT_TIER` (`standard`, `10s`, `1s` or
//! `unlimited`), and report every missing or wrong one at once. `futures`, `jiff`,
//! `secrecy`, `serde`, `serde_json` and `client_core` are re-exported, so a `Cargo.toml`
//! lists this crate and tokio only.
//!
//! # The wire
//!
//! `GET <base>?id=<netid>&ch=<channel>&fcdt=<epoch s>&tcdt=<epoch s>` (`id` and `ch`
//! repeated, each optional) answers a JSON array of datapoint objects, at most 10,000,
//! or 304 when there is none. `val_date` is epoch seconds (a number or numeric text);
//! `dev_chid` a number or numeric text. A range longer than 31 days is refused with 413.
//! An error body is `{"code": <string or number>, "error": <text>}`.
//!
//! A response is read whole (at most 64 MiB, each datapoint at most 1 MiB; a larger one
//! is an error, never a cut) so that a body cut short is asked for again.
//!
//! # Ranges
//!
//! A range is half-open, `[from, to)` of creation time, given as instants and sent as
//! `fcdt`/`tcdt` epoch seconds. Giving only one end is an error before anything is sent
//! (the API would ignore it); giving neither asks the API for its default, the last hour
//! (only [`DatapointsQuery::send`] can: the complete-range verbs need both ends). Any
//! instants are accepted, [`Timestamp::MIN`](jiff::Timestamp::MIN) to
//! [`Timestamp::MAX`](jiff::Timestamp::MAX).
//!
//! # Feature flags
//!
//! None is on by default.
//!
//! | feature | what it adds |
//! |---|---|
//! | `arrow` | module `columns`: datapoints (`RawDatapoint`, `Datapoint`) as Arrow `RecordBatch`es of a chosen size (the schema is documented there), through `client-core`'s `columns` |
//! | `parquet` | `columns::parquet_from_stored` (stored NDJSON datapoints to a Parquet file) and Parquet writing of any batches (implies `arrow`) |

// Library code handles every failure; tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod client;
#[cfg(feature = "arrow")]
pub mod columns;
mod datapoint_fast;
mod datapoints;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod json_request;
mod keyed;
mod policy;
mod tier;
mod windows;

pub use client::{Client, ClientBuilder, DEFAULT_BASE_URL, env};
pub use datapoints::{Datapoint, DatapointsQuery, RawDatapoint};
pub use error::{ConduitError, Error, Result};
pub use json_request::{COMPRESS_ABOVE, JsonRequest, MAX_REQUEST_BYTES};
pub use tier::{DEFAULT_INTERVAL, ParseTierError, Tier};
pub use windows::{MAX_DATAPOINTS, MAX_SPAN};

client_core::client_reexports!();
/// Re-exported so that callers name the same versions the client uses.
pub use {jiff, secrecy, serde, serde_json};
