//! A typed, streaming client of the Preventos Data API for unattended daemons: Entra ID
//! client credentials (secret or certificate), the APIM subscription key, the data
//! catalog, values in JSON, NDJSON and CSV, and the raw-DB-point budget.
//!
//! # Quickstart
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use preventos_client::Client;
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
//! let day = jiff::civil::date(2026, 5, 31);
//! let mut records = client
//!     .site_values("100", "site-ref", ["Velocity", "Depth"])
//!     .date(day)
//!     .time_zone("Europe/Helsinki")
//!     .ndjson();
//! while let Some(record) = records.try_next().await? {
//!     println!("{} {} {:?}", record.timestamp, record.signal_id, record.value);
//! }
//! # Ok(()) }
//! ```
//!
//! # Requests
//!
//! Every request carries `Authorization: Bearer` (tokens cached and refreshed by
//! `client-core`), `Ocp-Apim-Subscription-Key` and the `Accept` of its format. Values
//! requests ([`ValuesRequest`]) take every documented parameter and enforce the
//! document's rules before sending: `date` excludes `from`/`to`, a complete export needs
//! `date` or both ends, an open range is a partial read that needs `take`, `tzi` must be
//! an IANA zone (a bundled tzdb is used, so containers without tzdata work).
//!
//! # Shape
//!
//! The same as every client of the workspace: [`Client::builder`] with the shared
//! setters (`base_url`, `timeout`, `connect_timeout`, `retry_policy`, `throttle`,
//! `clock`, `user_agent_suffix`, `tls_roots`), [`Client::from_env`] and
//! [`Client::from_vars`]; [`Error`] is the shared [`client_core::ClientError`] (with
//! `status()`, `correlation_id()`, `retry_after()`, `is_retryable()`); streams are
//! [`RecordStream`]s of [`Record`] by default, of your type through
//! [`ValuesRequest::records`]; [`ValuesRequest::write_to`] and
//! [`ValuesRequest::copy_to`] store the server's bytes as sent.
//!
//! # Budget
//!
//! [`plan::estimate_raw_db_points`] is the document's estimate; [`plan::Cost`] and
//! [`plan::split_range`] (client-core's one splitter) cut a range into the fewest windows within
//! `limits.maxRawDbPoints`; [`Client::export`] streams a whole range that way and
//! re-plans from the server's recommendation on a 413.
//!
//! # Assumptions
//!
//! The record layout, the 413 body and `csvPreset=finnish` are not public. This crate
//! assumes the layouts of the workspace's DESIGN.md (NDJSON
//! `{"timestamp","signalId","value"}`, JSON `{"meta","values"}`, CSV with `;` and a
//! decimal comma for `finnish`) and decodes generically over `T`, so a different real
//! layout needs only a different record type. The catalog may name the DB query behind
//! each signal (`dbQuery`); without it every signal counts as its own query, which
//! over-estimates and never under-estimates the budget.

// Library code handles every failure; tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod catalog;
mod client;
mod duration;
mod error;
mod export;
pub mod plan;
mod record;
mod stitch;
mod values;

pub use catalog::{ActiveRange, Catalog, DEFAULT_MAX_RAW_DB_POINTS, Environment, Limits, Signal, Site};
pub use client::{Client, ClientAuth, ClientBuilder, env};
pub use duration::parse_duration;
pub use error::{Error, PreventosError, Result, TooLarge};
pub use export::{DEFAULT_CONCURRENCY, Export, ExportSummary};
pub use record::Record;
pub use values::{CsvPreset, Format, TimeBound, ValuesRequest};

/// Re-exported so callers can name every type of this crate's API without naming
/// `client-core`.
pub use client_core::decode::CsvRow;
pub use client_core::{ApiError, CertificateKey, ErrorCode, RecordStream, RetryPolicy, Throttle, TlsRoots};
/// Re-exported so that callers name the same versions the client uses.
pub use {client_core, jiff, secrecy};
