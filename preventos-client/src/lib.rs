//! A typed, streaming client of the Preventos Data API for unattended daemons: Entra ID
//! client credentials (secret, certificate, or a key in a KMS/HSM), the APIM
//! subscription key, the data catalog, values in JSON, NDJSON and CSV, and the
//! raw-DB-point budget.
//!
//! # Quickstart
//!
//! ```no_run
//! use preventos_client::{Client, TryStreamExt};
//!
//! # async fn run() -> Result<(), preventos_client::Error> {
//! // DATA_API_TENANT_ID, DATA_API_BASE_URL, DATA_API_SCOPE, DATA_API_CLIENT_ID,
//! // DATA_API_CLIENT_SECRET or DATA_API_CERTIFICATE, DATA_API_SUBSCRIPTION_KEY.
//! let client = Client::from_env()?;
//! let catalog = client.catalog().await?;
//! for env in &catalog.environments {
//!     for site in &env.sites {
//!         println!("{} / {}: {} signals", env.id, site.id, site.signals.len());
//!     }
//! }
//! let day = preventos_client::jiff::civil::date(2026, 5, 31);
//! let mut records = client
//!     .site_values("100", "site-ref", ["Velocity", "Depth"])
//!     .date(day)
//!     .time_zone("Europe/Helsinki")
//!     .stream();
//! while let Some(record) = records.try_next().await? {
//!     println!("{} {} {:?}", record.timestamp, record.signal_id, record.value);
//! }
//! // The same day, stored as sent, within the budget whatever its size:
//! client
//!     .export("100", "site-ref", ["Velocity", "Depth"])
//!     .date(day)
//!     .time_zone("Europe/Helsinki")
//!     .write_to("2026-05-31.ndjson")
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! # Configuration
//!
//! There is no default base URL: the document gives each customer its own
//! `<api-base-url>`, so set it with `base_url` or `DATA_API_BASE_URL` (its absence is a
//! [`ClientError::Config`] naming the variable).
//! [`Client::from_env`] reads the variables of [`mod@env`] and reports every missing or
//! contradicting one at once. The identity is the Entra ID registration
//! (`tenant_id`, `scope`, `client_id`, and one of `client_secret`, `certificate` or
//! `assertion_signer`), or any `client-core` credential given to `credential(..)`; the
//! subscription key is needed either way.
//!
//! # Requests
//!
//! Every request carries `Authorization: Bearer` (tokens cached and refreshed by
//! `client-core`), `Ocp-Apim-Subscription-Key` and the `Accept` of its format. Values
//! requests ([`ValuesQuery`]) take every documented parameter and enforce the
//! document's rules before sending: `date` excludes `from`/`to`, a complete export needs
//! `date` or both ends, an open range is a partial read that needs `take`, `tzi` must be
//! an IANA zone (a bundled tzdb is used, so containers without tzdata work).
//!
//! # Shape
//!
//! The same as every client of the SDK. [`Client::builder`] has the shared setters
//! (`base_url`, `credential`, `timeout`, `connect_timeout`, `retry_policy`, `throttle`,
//! `clock`, `user_agent_suffix`, `tls_roots`); [`Error`] is the shared
//! [`ClientError`] (with `status()`, `correlation_id()`,
//! `retry_after()`, `is_retryable()`, `detail::<TooLarge>()`). Requests end in the same
//! verbs: `to_request()`, `send()`, `stream()`, `pages()` (the export's windows),
//! `copy_to(writer)` and `write_to(path)`, also as the traits of [`prelude`]. A values
//! request's `send()` is the [`Page`] of its one response (its records; the JSON `meta`
//! members in [`Page::meta`]; no next page). The export is the long read: it also has
//! `resume_from(checkpoint)` and `checkpointed()` (see [Checkpoints](Export#checkpoints)),
//! and [`Export::stored_windows`] for a stored file that a killed program finishes.
//! The catalog is [`Client::catalog`], filtered with
//! [`CatalogRequest::environments`] (a root-level application must filter it).
//!
//! # Records
//!
//! Records are [`Record`]s by default (one value of one signal), your own type through
//! [`ValuesQuery::records`] or [`Export::records`]. A CSV row is one timestamp with a
//! column per signal, so CSV is read into a row type of your own, decoded by header
//! name (a `Record` is refused, before sending, with an `InvalidRequest` that says so),
//! or as text with [`ValuesQuery::csv_rows`]. Derive `Deserialize` through this
//! crate's re-export:
//!
//! ```no_run
//! use preventos_client::jiff::Timestamp;
//! use preventos_client::{Client, Format, TryStreamExt};
//!
//! /// One CSV row of `timestamp;Velocity;Depth`; an empty field is `None`.
//! #[derive(preventos_client::serde::Deserialize)]
//! #[serde(crate = "preventos_client::serde")]
//! struct Row {
//!     timestamp: Timestamp,
//!     #[serde(rename = "Velocity")]
//!     velocity: Option<f64>,
//!     #[serde(rename = "Depth")]
//!     depth: Option<f64>,
//! }
//!
//! # async fn run(client: Client) -> Result<(), preventos_client::Error> {
//! let mut rows = client
//!     .site_values("100", "site-ref", ["Velocity", "Depth"])
//!     .date(preventos_client::jiff::civil::date(2026, 5, 31))
//!     .format(Format::Csv)
//!     .records::<Row>()
//!     .stream();
//! while let Some(row) = rows.try_next().await? {
//!     println!("{} {:?} {:?}", row.timestamp, row.velocity, row.depth);
//! }
//! # Ok(()) }
//! ```
//!
//! # Budget
//!
//! [`plan::estimate_raw_db_points`] is the document's estimate; [`plan::Cost`] and
//! [`plan::split_range`] (client-core's one splitter) cut a range into the fewest
//! windows within `limits.maxRawDbPoints`; [`Client::export`] reads a whole day or
//! range that way and re-plans from the server's recommendation on a 413.
//!
//! # Wire layouts assumed
//!
//! The record layout, the 413 body and `csvPreset=finnish` are not public. This crate
//! assumes these layouts, all tolerant of added fields, and decodes generically over
//! `T`, so a different real layout needs only a different record type:
//!
//! - NDJSON (`format=ndjson`, the default): one record per line,
//!   `{"timestamp":"2026-05-31T00:00:00+03:00","signalId":"Velocity","value":0.42}`;
//! - JSON (`format=json`): `{"meta":{..},"values":[..records..]}`, or the bare array of
//!   records with `meta=false`;
//! - CSV (`format=csv`): wide, a header `timestamp,Velocity,Depth` and one row per
//!   timestamp with a column per signal (an empty field where a signal has no value);
//!   `csvPreset=finnish` separates fields with `;` and writes a decimal comma
//!   (`timestamp;Velocity;Depth`, `…;0,42;…`);
//! - 413 `request_too_large`: `{"error":"request_too_large","message":..,
//!   "estimatedRawDbPoints":..,"maxRawDbPoints":..,"dbQueryCount":..,
//!   "recommendedRange":{"from":..,"to":..}}`, read as [`TooLarge`]; 413
//!   `request_size_unavailable` (a signal without `baseInterval`) is
//!   [`PreventosError::RequestSizeUnavailable`].
//!
//! For lossless reads, [`ValuesQuery::write_to`] and [`Export::write_to`] store the
//! server's text; the raw record type is [`RawRecord`] (each NDJSON or JSON record's
//! text as sent, with its timestamp and signal read, through `records::<RawRecord>()`)
//! and [`CsvRow`] for CSV ([`ValuesQuery::csv_rows`]). The catalog may name the DB query
//! behind each signal (`dbQuery`); without it every signal counts as its own query,
//! which over-estimates and never under-estimates the budget.
//!
//! # Feature flags
//!
//! None is on by default.
//!
//! | feature | what it adds |
//! |---|---|
//! | `arrow` | module `columns`: values records (`RawRecord`, `Record`, a CSV row's `CsvValue`) as Arrow `RecordBatch`es of a chosen size (the schema is documented there), through `client-core`'s `columns` |
//! | `parquet` | `columns::parquet_from_stored` (a stored day in any format to a Parquet file) and Parquet writing of any batches (implies `arrow`) |

// Library code handles every failure; tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod catalog;
mod catalog_request;
mod client;
#[cfg(feature = "arrow")]
pub mod columns;
mod duration;
mod error;
mod export;
mod export_ahead;
mod export_checkpoint;
mod export_params;
mod export_plan;
mod export_sink;
mod export_stored;
mod export_windows;
mod format;
mod format_decoding;
pub mod plan;
mod raw_record;
mod record;
mod record_order;
mod signal_id;
mod time_bound;
mod values;
mod values_rules;
mod values_terminals;
mod values_url;
mod window_body;

pub use catalog::{ActiveRange, Catalog, DEFAULT_MAX_RAW_DB_POINTS, Environment, Limits, Signal, Site};
pub use catalog_request::CatalogRequest;
pub use client::{Client, ClientBuilder, env};
pub use duration::parse_duration;
pub use error::{Error, PreventosError, Result, TooLarge};
pub use export::{DEFAULT_CONCURRENCY, Export, ExportSummary, MAX_CONCURRENCY};
pub use export_stored::StoredWindow;
pub use format::{CsvPreset, Format};
pub use raw_record::RawRecord;
pub use record::Record;
pub use signal_id::SignalId;
pub use time_bound::TimeBound;
pub use values::ValuesQuery;

/// Re-exported so callers can name every type of this crate's API without naming
/// `client-core`.
#[doc(no_inline)]
pub use client_core::decode::CsvRow;
client_core::client_reexports!();
#[doc(no_inline)]
pub use client_core::{AssertionSigner, CertificateKey, ClientCredentials, JwsAlgorithm, TokenCache};
/// Re-exported because they appear in this crate's signatures (`Page::meta`,
/// `Record::other`, `records::<U>()`), so a user's `Cargo.toml` needs only this crate.
pub use {jiff, secrecy, serde, serde_json};
