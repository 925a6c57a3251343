//! A typed client of the Bentley iTwin Sensor Data API: the document's data sources,
//! sensors and paged observations, and today's integrations and data API (query,
//! upload, remove).
//!
//! # Quickstart
//!
//! ```no_run
//! use sds_client::Client;
//! use sds_client::jiff::{SignedDuration, Timestamp};
//! use sds_client::prelude::*;
//!
//! # async fn run() -> Result<(), sds_client::Error> {
//! // SDS_CLIENT_ID and SDS_CLIENT_SECRET (or SDS_ACCESS_TOKEN); SDS_BASE_URL optional.
//! let client = Client::from_env()?;
//! let itwin = "28ba3a8e-bf86-47b6-a37c-6600d9e2e328";
//! let sensors: Vec<_> = client.sensors(itwin).stream().try_collect().await?;
//! let sensor = &sensors[0];
//! // The metric "T" in its default unit, checked against the sensor's metricsAndUnits.
//! let choice = sensor.pick("T", None)?;
//! let to = Timestamp::now();
//! let mut observations = client
//!     .observations(itwin, &sensor.id)
//!     .selection(&choice)
//!     .range(to - SignedDuration::from_hours(24), to)
//!     .stream();
//! while let Some(o) = observations.try_next().await? {
//!     println!("{} {:?}", o.timestamp, o.value);
//! }
//! # Ok(()) }
//! ```
//!
//! # The verbs
//!
//! Every request builder ends in the verbs every client of the SDK has, as inherent
//! methods and through the traits of [`prelude`]:
//!
//! | request | `send()` | `stream()` | `pages()` | `copy_to` / `write_to` | `to_request()` |
//! |---|---|---|---|---|---|
//! | [`Client::observations`] ([`ObservationsQuery`]) | the first [`Page`] | observations of the range (`checkpointed()`, `resume_from`) | the stream's observations, by [`Page`] | NDJSON of the texts as sent | page 0 |
//! | [`Client::query_data`] ([`DataQuery`]) | one response as a [`Page`] | timestamps of the range (`checkpointed()`, `resume_from`) | one [`Page`] per response | NDJSON, a line per timestamp | the first query |
//! | [`Client::datasources`], [`Client::sensors`], [`Client::nodes`] ([`List`]) | the first [`Page`] | every item | every [`Page`] | | the first page |
//! | [`Client::upload`] ([`Upload`]) | an [`UploadSummary`] | | | | the batches' request |
//! | [`Client::remove_data`] ([`Removal`]) | `()` | | | | the request |
//!
//! # What it does for you
//!
//! - **Auth**: an IMS service application's client credentials (the secret in the form
//!   body, tokens cached and refreshed, scope `itwin-platform`), a bearer token you
//!   already hold, or any `client-core` [`Credential`] through `credential(..)`. Every
//!   request sends `Accept: application/vnd.bentley.itwin-platform.v1+json`.
//! - **Paging under every reading**: the document shows `page`, `pageSize` and
//!   `pageTotal` without saying how to ask for a page. The client sends `page` from 0
//!   and `pageSize`, and is right whether `pageTotal` counts pages or observations,
//!   whether the server honours or caps `pageSize`, and whether it counts pages from 0
//!   or 1: it stops when every reading agrees that nothing is left (a server that
//!   capped the first page may count its pages of the size asked for), reads on past
//!   an empty page unless `pageTotal` agrees under both readings or the next page is
//!   empty too, asks for the server's size after a short first page, asks for page 1
//!   when page 0 is empty but `pageTotal` says there is data, and refuses a page that
//!   repeats the previous one ([`ClientError::RepeatedPage`]) rather than loop.
//! - **Pages in flight**: once a page's `pageTotal` bounds how many follow, the next
//!   pages are asked for ahead, up to [`ObservationsQuery::concurrency`] at once
//!   (default [`DEFAULT_PAGE_CONCURRENCY`]), so a read over a network waits about one
//!   latency per that many pages. They come, and checkpoint, in order; a page fetched
//!   ahead that the paging does not ask for is dropped unread.
//! - **Checkpoints**: [`ObservationsQuery`] and [`DataQuery`] take
//!   `.resume_from(checkpoint)` and give `.checkpointed()` (every item with the
//!   [`Checkpoint`] after it); their pages carry the checkpoint after them. A read
//!   killed anywhere and resumed from its last stored checkpoint yields each item
//!   exactly once across both runs (see [`ObservationsQuery::resume_from`] and
//!   [`DataQuery::resume_from`] for what a checkpoint holds).
//! - **Exact ranges**: ranges are half-open `[from, to)`. Queries ask from one
//!   millisecond before `from` (a range from `Timestamp::MIN` from `from` itself) and
//!   trim, so neither end's reading loses or adds an observation;
//!   [`ObservationsQuery::stream`] yields time order without duplicates, and
//!   [`ObservationsQuery::pages`] the same observations page by page.
//! - **Lossless**: [`RawObservation`] (or `Box<RawValue>` values through
//!   [`DataQuery::values_as`]) keeps each observation's text as the server sent it;
//!   `write_to` stores a range as NDJSON of those texts in a file that appears complete
//!   or not at all (`copy_to` for any writer).
//! - **Records**: [`Observation`], [`Sensor`], [`DataSource`] and [`Node`] keep unknown
//!   members in `other`; observation queries and lists decode into your own type with
//!   `records::<U>()` (see [Your own record type](#your-own-record-type)), a data
//!   query's values with [`DataQuery::values_as`].
//! - **Errors**: [`Error`] is the SDK's shared [`ClientError`]. A 403 is
//!   [`ClientError::Forbidden`] as in every client, and
//!   `err.detail::<`[`MissingPermission`]`>()` names the micro-permission
//!   (`sensor_data_read` or `sensor_data_manage`) the call needs on the iTwin. A 429 is
//!   waited out with its `Retry-After` within the [`RetryPolicy`]; when retries run out,
//!   `err.detail::<`[`RateLimit`]`>()` reads the `iTwinPlatform-RateLimit-*` headers.
//!   Bentley's `{"error":{"code","message","target","details"}}` body is parsed
//!   leniently into an [`ApiError`], and so is anything else. A refused credential is
//!   [`ClientError::Unauthorized`] whether IMS or the API refused it
//!   (`err.is_unauthorized()`).
//!
//! # Your own record type
//!
//! `records::<U>()` decodes each observation (or list item) into any `Deserialize`
//! type. Derive it through this crate's re-export of `serde`, so that your
//! `Cargo.toml` needs nothing else:
//!
//! ```no_run
//! use sds_client::Client;
//! use sds_client::jiff::{SignedDuration, Timestamp};
//! use sds_client::prelude::*;
//!
//! #[derive(sds_client::serde::Deserialize)]
//! #[serde(crate = "sds_client::serde")]
//! struct Reading {
//!     timestamp: i64,
//!     value: Option<f64>,
//! }
//!
//! # async fn run() -> Result<(), sds_client::Error> {
//! let client = Client::from_env()?;
//! let to = Timestamp::now();
//! let readings: Vec<Reading> = client
//!     .observations("28ba3a8e-bf86-47b6-a37c-6600d9e2e328", "sensor-1")
//!     .metric("T")
//!     .unit("C")
//!     .range(to - SignedDuration::from_hours(1), to)
//!     .records::<Reading>()
//!     .stream()
//!     .try_collect()
//!     .await?;
//! println!("{} readings, the last {:?}", readings.len(), readings.last().map(|r| (r.timestamp, r.value)));
//! # Ok(()) }
//! ```
//!
//! # The wire layouts this crate assumes
//!
//! The document shows the data sources, the sensors and `GET observations` with two
//! curl examples; everything else is read leniently:
//!
//! - **Observations**: `GET observations?iTwinId=&sensorId=&metric=&unit=&startDate=&endDate=&page=&pageSize=`
//!   answers `{"page", "pageSize", "pageTotal", "metric", "unit", "observations":
//!   [{"timestamp": <epoch ms>, "value": <number>}]}`; the members other than
//!   `observations` are kept in [`Page::meta`] as sent.
//! - **Lists** (`GET datasources`, `sensors`, `integrations/nodes`, each with
//!   `iTwinId`) come bare (`[...]`) or under their key (`{"sensors": [...]}`); an answer
//!   with `_links.next.href` continues at that link (same origin only).
//! - **One data source** comes bare or under `dataSource`.
//! - **Data query**: `POST data/observations` with `{"sensorId", "startDate",
//!   "endDate"}` answers `{sensor, sensorName, metricsAndUnits, data: {"<ISO
//!   timestamp>": {"<metric>": number}}}`.
//! - **Upload**: `POST data/upload` with `{"observations": [{"sensorId", "timestamp",
//!   "values": {"<metric>": number}}]}`; **removal**: `DELETE data/observations` with
//!   `{"sensorId", "startDate", "endDate"}` or `{"sensorId", "timestamps"}`.
//! - **Integrations**: `POST integrations/integrate?iTwinId=` with `{"integration":
//!   {...}}`.
//!
//! # Good to know
//!
//! - **An empty list may mean "not a member".** The API can answer a caller who is not a
//!   member of the iTwin with an empty list of data sources, sensors or nodes rather
//!   than a 403. A service application's user (`{client_id}@apps.imsoidc.bentley.com`)
//!   needs a role on the iTwin.
//! - **Data queries** are continued from the last timestamp returned until a response
//!   brings nothing new, so one extra request ends each range. That reads a range whole
//!   when a response cut at the server's limit keeps the *oldest* timestamps. When the
//!   first answer starts after `from`, one more request checks that nothing lies before
//!   it: a server whose cut keeps the latest timestamps is [`SdsError::CapKeepsNewest`],
//!   and a continuation that brings data from before its start is
//!   [`SdsError::StalledContinuation`], never a silent gap.
//! - **Memory**: each observations page and each data-query response is one JSON
//!   document, read whole before its records are used (a page of 10,000 observations
//!   is about 400 KB; besides the one being read, up to the query's concurrency of them
//!   are held at once). A smaller `page_size` bounds the pages; the
//!   data API's responses are as large as the server makes them.
//!
//! # Building a client
//!
//! [`Client::builder`] takes the setters every client of the SDK has (`base_url`,
//! `credential`, `timeout`, `connect_timeout`, `retry_policy`, `throttle`, `clock`,
//! `user_agent_suffix`, `tls_roots`), plus `client_credentials` or `access_token`,
//! `token_url`, `scope` and `page_size`. [`Client::from_env`] and [`Client::from_vars`]
//! read [`mod@env`]: `SDS_CLIENT_ID` and `SDS_CLIENT_SECRET`, or `SDS_ACCESS_TOKEN`
//! alone, and `SDS_SCOPE`, `SDS_TOKEN_URL`, `SDS_BASE_URL`; every missing or
//! contradicting variable is reported at once. `futures`, `jiff`, `secrecy`, `serde`,
//! `serde_json` and `client_core` are re-exported, so a project needs only this crate
//! and Tokio.
//!
//! # Feature flags
//!
//! None is on by default.
//!
//! | feature | what it adds |
//! |---|---|
//! | `arrow` | module `columns`: observations (`RawObservation`, `Observation`) as Arrow `RecordBatch`es of a chosen size (the schema is documented there), through `client-core`'s `columns` |
//! | `parquet` | `columns::parquet_from_stored` (stored NDJSON observations to a Parquet file) and Parquet writing of any batches (implies `arrow`) |

// Library code handles every failure; tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod client;
#[cfg(feature = "arrow")]
pub mod columns;
mod data_query;
mod datasources;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod integrations;
mod list;
mod observation_fast;
mod observations;
mod observations_ahead;
mod observations_pages;
mod observations_query;
mod paging;
mod removals;
mod sensors;
mod time;
mod uploads;

pub use client::{
    ACCEPT, Client, ClientBuilder, DEFAULT_BASE_URL, DEFAULT_PAGE_SIZE, DEFAULT_SCOPE, DEFAULT_TOKEN_URL, env,
};
pub use data_query::{DataPoint, DataQuery};
pub use datasources::{AuthType, ConnectionType, DataSource, NewDataSource, SUPPORTED_COMBINATIONS};
pub use error::{Error, MicroPermission, MissingPermission, Result, SdsError, UnknownChoice};
pub use integrations::{ChangeState, DeviceChange, Integration, Node, SensorChange};
pub use list::List;
pub use observations::{Observation, RawObservation};
pub use observations_ahead::MAX_PAGE_CONCURRENCY;
pub use observations_query::{DEFAULT_PAGE_CONCURRENCY, ObservationsQuery};
pub use removals::Removal;
pub use sensors::{Metric, MetricsAndUnits, Selection, Sensor, Unit};
pub use uploads::{DEFAULT_UPLOAD_BATCH, Upload, UploadObservation, UploadSummary};

client_core::client_reexports!();
#[doc(no_inline)]
pub use client_core::{ClientCredentials, TokenCache};
/// Re-exported so that callers name the same versions the client uses.
pub use {jiff, secrecy, serde, serde_json};
