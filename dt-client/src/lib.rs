//! A typed client of the Disruptive Technologies REST API v2 (projects, devices, event
//! history, the live event stream, data connectors, the emulator), and verification of
//! the signed pushes DT data connectors send.
//!
//! # Quickstart
//!
//! ```no_run
//! # #[cfg(feature = "client")]
//! # async fn run() -> Result<(), dt_client::Error> {
//! use dt_client::{Client, StreamItem};
//! use futures::TryStreamExt;
//!
//! // DT_SERVICE_ACCOUNT_KEY_ID, DT_SERVICE_ACCOUNT_SECRET and DT_SERVICE_ACCOUNT_EMAIL.
//! let client = Client::from_env()?;
//! let mut events = client.stream("my-project-id").event_types(["temperature"]).start();
//! while let Some(item) = events.try_next().await? {
//!     match item {
//!         StreamItem::Event(event) => println!("{} {:?}", event.timestamp, event.data),
//!         StreamItem::Gap(gap) => eprintln!("events from {} to {} may be missing", gap.from, gap.to),
//!         _ => {}
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! Verifying a push in a receiver, without the HTTP client (`default-features = false`):
//!
//! ```
//! use dt_client::{VerifyError, Verifier};
//! use secrecy::SecretString;
//!
//! let verifier = Verifier::new(SecretString::from("the connector's signature secret"));
//! let refused = verifier.verify(None, b"{}").unwrap_err();
//! assert_eq!(refused, VerifyError::MissingSignature);
//! assert!(refused.is_unauthorized()); // answer 401
//! ```
//!
//! # What it does for you
//!
//! - **Auth**: a service account through the RFC 7523 JWT-bearer grant (HS256 with
//!   `kid`, tokens cached and refreshed), or HTTP Basic with the key id and secret.
//! - **Lists** are streams over pages (`pageSize`/`pageToken` in, `nextPageToken` out,
//!   `""` ends), with list parameters as repeated keys; [`List::pages`] gives the pages.
//!   A repeated page token is [`DtError::RepeatedPageToken`], not a loop.
//! - **Typed events**: [`Event`] with its [`EventData`] for every event type DT
//!   documents, and [`EventData::Unknown`] for new ones, so a new type is never a decode
//!   error. [`RawEvent`] keeps the server's text for lossless storage.
//! - **No silent gap** in [`EventStream`]: NDJSON or SSE, pings used for liveness and
//!   hidden, in-band errors in either known shape, reconnects with backoff that resets
//!   when data arrives, and after each reconnect the gap filled from history
//!   (deduplicated by `eventId`) or reported as a [`StreamItem::Gap`]. The official
//!   Python client drops these events; this one does not. (DT's own backfilled events,
//!   `isBackfilled` with older timestamps, that arrive during a disconnect lie before the
//!   gap: see [`EventStream`].)
//! - **Data connectors**: [`ConnectorUpdate`] PATCHes exactly the fields set, as the
//!   document's examples do, so one change never resets another; secrets and header
//!   values never reach `Debug` ([`DataConnector::redacted`] for printing).
//! - **Signed pushes**: [`Verifier`] checks the HS256 signature (every other `alg`
//!   refused), `exp`/`iat` with a leeway on an injectable clock, the body's SHA-256 in
//!   constant time (SHA-1 only as an opt-in fallback), then parses the [`Push`].
//! - **Errors**: [`Error`] is the workspace's shared [`client_core::ClientError`]; DT's
//!   body `{"error","code","help"}` is parsed into its [`client_core::ApiError`], and a
//!   429 is waited out with its `Retry-After`.
//!
//! # Feature flags
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `client` | yes | the REST API client (`Client`, lists, the stream, connectors, emulator) on `client-core` |
//!
//! Without `client` the crate is the event model and push verification, with no HTTP
//! stack: what a receiver behind another web framework needs.

// Library code handles every failure; tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

#[cfg(feature = "client")]
mod client;
#[cfg(feature = "client")]
mod connectors;
#[cfg(feature = "client")]
mod devices;
#[cfg(feature = "client")]
mod emulator;
#[cfg(feature = "client")]
mod error;
mod events;
#[cfg(feature = "client")]
mod framing;
#[cfg(feature = "client")]
mod history;
#[cfg(feature = "client")]
mod paging;
#[cfg(feature = "client")]
mod projects;
#[cfg(feature = "client")]
mod stream;
mod verify;

#[cfg(feature = "client")]
pub use client::{
    Auth, Client, ClientBuilder, DEFAULT_API_URL, DEFAULT_EMULATOR_URL, DEFAULT_PAGE_SIZE, DEFAULT_TOKEN_URL,
    env,
};
#[cfg(feature = "client")]
pub use connectors::{
    ConnectorMetrics, ConnectorStatus, ConnectorUpdate, DataConnector, HttpConfig, NewDataConnector,
};
#[cfg(feature = "client")]
pub use devices::{Device, DevicesQuery, ItemError, LabelChanges};
#[cfg(feature = "client")]
pub use error::{DtError, Error, Result};
pub use events::{
    BatteryStatus, CellularStatus, CloudConnectorSignal, Co2, ConnectionStatus, Count, DeskOccupancy,
    EVENT_TYPES, EthernetStatus, Event, EventData, Humidity, HumiditySample, LabelsChanged, NetworkStatus,
    Pressure, RawEvent, Sample, State, Temperature, Touch,
};
#[cfg(feature = "client")]
pub use history::EventsQuery;
#[cfg(feature = "client")]
pub use paging::{List, Page};
#[cfg(feature = "client")]
pub use projects::Project;
#[cfg(feature = "client")]
pub use stream::{EventStream, Gap, StreamItem};
pub use verify::{Claims, Push, PushMetadata, SIGNATURE_HEADER, Verifier, VerifyError};

#[cfg(feature = "client")]
pub use client_core::{self, ApiError, ErrorCode, RecordStream, RetryPolicy, Throttle, TlsRoots};
/// Re-exported so that callers name the same versions the crate uses.
pub use {jiff, secrecy};
