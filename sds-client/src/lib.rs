//! A typed client of the Bentley iTwin Sensor Data API: the document's data sources,
//! sensors and paged observations, and today's integrations and data API (query,
//! upload, remove).
//!
//! # Quickstart
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use jiff::{SignedDuration, Timestamp};
//! use sds_client::Client;
//!
//! # async fn run() -> Result<(), sds_client::Error> {
//! // SDS_CLIENT_ID and SDS_CLIENT_SECRET (or SDS_ACCESS_TOKEN); SDS_BASE_URL optional.
//! let client = Client::from_env()?;
//! let itwin = "28ba3a8e-bf86-47b6-a37c-6600d9e2e328";
//! let sensors = client.sensors(itwin).send().await?;
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
//! # What it does for you
//!
//! - **Auth**: an IMS service application's client credentials (the secret in the form
//!   body, tokens cached and refreshed, scope `itwin-platform`), or a bearer token you
//!   already hold. Every request sends
//!   `Accept: application/vnd.bentley.itwin-platform.v1+json`.
//! - **Paging under every reading**: the document shows `page`, `pageSize` and
//!   `pageTotal` without saying how to ask for a page. The client sends a 0-based `page`
//!   and `pageSize`, and is right whether `pageTotal` counts pages or observations and
//!   whether the server honours or caps `pageSize`: it stops at an empty page or when
//!   both readings agree that nothing is left, asks for the server's size after a
//!   short first page, and refuses a page that repeats the previous one
//!   ([`SdsError::RepeatedPage`]) rather than loop.
//! - **Exact ranges**: ranges are half-open `[from, to)`. Queries ask from one
//!   millisecond before `from` and trim, so neither end's reading loses or adds an
//!   observation; [`ObservationsQuery::stream`] yields time order without duplicates.
//! - **Lossless**: [`RawObservation`] (or `Box<RawValue>` values in
//!   [`DataQuery::records`]) keeps each observation's text as the server sent it;
//!   [`ObservationsQuery::write_to`] stores a range as NDJSON of those texts in a file
//!   that appears complete or not at all ([`ObservationsQuery::copy_to`] for any
//!   writer).
//! - **Records**: [`Observation`], [`Sensor`], [`DataSource`] and [`Node`] keep unknown
//!   members in `other`; queries decode into your own type with `records::<U>()`.
//! - **Errors**: [`Error`] is the workspace's shared [`client_core::ClientError`], except
//!   that a 403 is [`SdsError::MissingPermission`], naming the micro-permission
//!   (`sensor_data_read` or `sensor_data_manage`) the call needs on the iTwin. A 429 is
//!   waited out with its `Retry-After` within the [`RetryPolicy`]; when retries run out,
//!   [`RateLimit::of`] reads the `iTwinPlatform-RateLimit-*` headers. Bentley's
//!   `{"error":{"code","message","target","details"}}` body is parsed leniently into an
//!   [`ApiError`], and so is anything else.
//!
//! # Good to know
//!
//! - **An empty list may mean "not a member".** The API can answer a caller who is not a
//!   member of the iTwin with an empty list of data sources, sensors or nodes rather
//!   than a 403. A service application's user (`{client_id}@apps.imsoidc.bentley.com`)
//!   needs a role on the iTwin.
//! - **Two generations.** The document describes data sources, sensors and `GET
//!   observations`; today's API adds [`Client::nodes`], [`Client::integrate`],
//!   [`Client::query_data`], [`Client::upload`] and [`Client::remove_data`]. Paths
//!   beyond the document's two curl examples, and the data query's response layout
//!   (`{data: {"<ISO timestamp>": {"<metric>": number}}}`), are assumptions of this
//!   crate; list responses are read bare or under their key.
//! - **Data queries** are continued from the last timestamp returned until a response
//!   brings nothing new, so one extra request ends each range. That reads a range whole
//!   when a response cut at the server's limit keeps the *oldest* timestamps. When the
//!   first answer starts after `from`, one more request checks that nothing lies before
//!   it: a server whose cut keeps the latest timestamps is [`SdsError::CapKeepsNewest`],
//!   and a continuation that brings data from before its start is
//!   [`SdsError::StalledContinuation`], never a silent gap.
//!
//! # Building a client
//!
//! [`Client::builder`] takes the same setters as every client of the workspace
//! (`base_url`, `timeout`, `connect_timeout`, `retry_policy`, `throttle`, `clock`,
//! `user_agent_suffix`, `tls_roots`), plus `client_credentials` or `access_token`,
//! `token_url`, `scope` and `page_size`. [`Client::from_env`] and [`Client::from_vars`]
//! read [`mod@env`]: `SDS_CLIENT_ID` and `SDS_CLIENT_SECRET`, or `SDS_ACCESS_TOKEN`
//! alone, and `SDS_SCOPE`, `SDS_TOKEN_URL`, `SDS_BASE_URL`. `jiff`, `secrecy` and
//! `client_core` are re-exported.

// Library code handles every failure; tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod client;
mod data;
mod datasource;
mod envelope;
mod error;
mod integration;
mod observations;
mod paging;
mod sensor;
mod store;
mod time;

pub use client::{
    ACCEPT, Auth, Client, ClientBuilder, DEFAULT_BASE_URL, DEFAULT_PAGE_SIZE, DEFAULT_SCOPE,
    DEFAULT_TOKEN_URL, env,
};
pub use data::{
    DEFAULT_UPLOAD_BATCH, DataPoint, DataQuery, Removal, Upload, UploadObservation, UploadSummary,
};
pub use datasource::{AuthType, ConnectionType, DataSource, NewDataSource, SUPPORTED_COMBINATIONS};
pub use error::{Error, MicroPermission, RateLimit, Result, SdsError, UnknownChoice};
pub use integration::{ChangeState, DeviceChange, Integration, Node, SensorChange};
pub use observations::{Observation, ObservationPage, ObservationsQuery, RawObservation};
pub use sensor::{Metric, MetricsAndUnits, Selection, Sensor, SensorsRequest, Unit};

pub use client_core::{ApiError, ErrorCode, RecordStream, RetryPolicy, Throttle, TlsRoots};
/// Re-exported so that callers name the same versions the client uses.
pub use {client_core, jiff, secrecy};
