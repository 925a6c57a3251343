//! A typed client of the Disruptive Technologies REST API v2 (projects, devices, claims,
//! event history, the live event stream, data connectors, the emulator, and the
//! directory: organizations, members, roles, permissions, service accounts and their
//! keys; any other endpoint through [`Client::request`]), the reconciliation of what a
//! data connector's receiver got with history, and verification of the signed pushes DT
//! data connectors send.
//!
//! # Quickstart
//!
//! ```no_run
//! # #[cfg(feature = "client")]
//! # async fn run() -> Result<(), dt_client::Error> {
//! use dt_client::prelude::*;
//! use dt_client::{Client, StreamItem};
//!
//! // DT_SERVICE_ACCOUNT_KEY_ID, DT_SERVICE_ACCOUNT_SECRET and DT_SERVICE_ACCOUNT_EMAIL.
//! let client = Client::from_env()?;
//! let mut events = client.live_events("my-project-id").event_types(["temperature"]).stream();
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
//! use dt_client::{SecretString, VerifyError, Verifier};
//!
//! let verifier = Verifier::new(SecretString::from("the connector's signature secret"));
//! let refused = verifier.verify(None, b"{}").unwrap_err();
//! assert_eq!(refused, VerifyError::MissingSignature);
//! assert!(refused.is_unauthorized()); // answer 401
//! ```
//!
//! # The verbs
//!
//! Every request is a builder ending in the SDK's verbs (the traits of [`prelude`]):
//!
//! | request | `to_request` | `send` | `stream` | `pages` | `copy_to` / `write_to` | `checkpointed` / `resume_from` |
//! |---|---|---|---|---|---|---|
//! | [`Client::data_connectors`] ([`List`]) | first page | first [`Page`] | every item | every [`Page`] | | |
//! | [`Client::projects`] ([`ProjectsQuery`]: by organization, by text) | first page | first [`Page`] | every project | every [`Page`] | | |
//! | [`Client::organizations`], [`Client::organization_members`], [`Client::project_members`], [`Client::roles`], [`Client::service_accounts`], [`Client::service_account_keys`], [`Client::project_permissions`], [`Client::organization_permissions`] ([`List`]) | first page | first [`Page`] | every item | every [`Page`] | | |
//! | [`Client::devices`], [`Client::organization_devices`] ([`DevicesQuery`]) | first page | first [`Page`] | every device | every [`Page`] | | |
//! | [`Client::events`] ([`EventsQuery`], history) | first page | first [`Page`] | every event | every [`Page`] (with its [`Checkpoint`]) | NDJSON, each event as sent | by page token |
//! | [`Client::events_of_devices`] ([`DevicesEventsQuery`], several devices' history, read at once) | the first device's first page | the first device's first [`Page`] | every event, device after device | every device's every [`Page`] | NDJSON, each event as sent | by device and page token |
//! | [`Client::live_events`] ([`LiveEventsQuery`]) | the connect request | | events and gaps, for ever | | | by the last event's time, read back from history |
//! | [`Client::reconcile`] ([`ReconcileQuery`], what a connector's receiver lacks) | the connector's request | | every missing push, in time order ([`Reconciliation`]) | | | run again with what was received since |
//! | [`Client::request`] ([`AnyRequest`], any endpoint) | the request | the answer, decoded | | | | |
//! | [`Client::list`] ([`List`], any paged endpoint) | first page | first [`Page`] | every item | every [`Page`] | | |
//!
//! # What it does for you
//!
//! - **Auth**: a service account through the RFC 7523 JWT-bearer grant (HS256 with
//!   `kid`, tokens cached and refreshed), or HTTP Basic with the key id and secret, or
//!   any `client-core` [`Credential`] given to [`ClientBuilder::credential`]; the same
//!   credential serves the API and the emulator. The official Python client's
//!   credentials file ([`CredentialsFile`], `DT_CREDENTIALS_FILE` or
//!   [`ClientBuilder::credentials_file`]) is read too: HS256 only, its `tokenEndpoint`
//!   under the same HTTPS rule as every token URL, at most
//!   [`MAX_CREDENTIALS_FILE_BYTES`], problems naming the member and never a value; set
//!   beside the `DT_SERVICE_ACCOUNT_*` variables, it is a configuration error rather
//!   than a guess (see [`env::CREDENTIALS_FILE`]).
//! - **Projects**: [`Client::create_project`], [`Client::update_project`] (a PATCH of
//!   exactly the fields of a [`ProjectUpdate`]), [`Client::delete_project`] (DT deletes
//!   only an empty project), and lists by organization and text ([`ProjectsQuery`]).
//! - **Claims**: [`Client::claim_info`] says what an identifier names ([`ClaimInfo`], a
//!   kit or a device by its open [`ClaimType`]), and [`Client::claim`] claims kits and
//!   devices into a project, as a dry run or for real ([`ClaimRequest`] has no default),
//!   answering the devices claimed and, per device and kit, what was not
//!   ([`ClaimOutcome`]).
//! - **Devices without a project**: [`Client::lookup_device`] finds a device by its id
//!   alone, and [`Client::organization_devices`] lists an organization's devices with
//!   the usual filters (both through the project `-`).
//! - **Lists** follow DT's page tokens through client-core's paginator: `pageSize` and
//!   `pageToken` in, `nextPageToken` out (`""` or absent ends the list), list parameters
//!   as repeated keys. A page token that comes again is
//!   [`ClientError::RepeatedPage`], not a loop.
//!   [`Page::meta`] keeps the page document's other members.
//! - **History ranges** are half-open, `[from, to)`, like every range of the SDK: the
//!   client sends `startTime` (a millisecond early, whether the server's is inclusive or
//!   exclusive) and `endTime`, and keeps only what lies in the range.
//! - **Checkpoints**: the history and the live stream yield [`Checkpoint`]s
//!   (`checkpointed()`, serde) and resume from them (`resume_from`), each event exactly
//!   once across the runs; see [`EventsQuery`] and [`LiveEventsQuery`].
//! - **Many devices at once**: [`Client::events_of_devices`] reads the history of
//!   several devices with up to [`DevicesEventsQuery::concurrency`] of them in flight
//!   (default [`DEFAULT_DEVICE_CONCURRENCY`], 4), so a backfill over a network waits
//!   about one response's latency per that many requests; what it yields does not
//!   depend on timing (the devices in the order given, each one's events in history
//!   order), and a device read ahead holds at most [`DEVICE_PAGES_AHEAD`] + 1 pages.
//! - **Typed events**: [`Event`] with its [`EventData`] for every event type DT
//!   documents, and [`EventData::Unknown`] for new ones, so a new type is never a decode
//!   error. [`RawEvent`] keeps the server's text for lossless storage
//!   ([`EventsQuery::write_to`]). `records::<U>()` decodes events (or list items) into
//!   a type of your own, with the `serde` this crate re-exports:
//!
//!   ```no_run
//!   # #[cfg(feature = "client")]
//!   # async fn run(client: dt_client::Client) -> Result<(), dt_client::Error> {
//!   use dt_client::prelude::*;
//!
//!   #[derive(dt_client::serde::Deserialize)]
//!   #[serde(crate = "dt_client::serde", rename_all = "camelCase")]
//!   struct Reading {
//!       event_id: String,
//!       timestamp: dt_client::jiff::Timestamp,
//!       data: dt_client::serde_json::Value,
//!   }
//!
//!   let mut readings = client.events("my-project", "my-device").records::<Reading>().stream();
//!   while let Some(reading) = readings.try_next().await? {
//!       println!("{} {} {}", reading.event_id, reading.timestamp, reading.data);
//!   }
//!   # Ok(()) }
//!   ```
//! - **No silent gap** in the live stream ([`LiveEventsQuery`]): NDJSON or SSE, pings
//!   used for liveness and hidden, in-band errors in either known shape, reconnects with
//!   jittered backoff that resets when data arrives (or the server's `Retry-After`), and
//!   on each connection, the first included, what was published since the stream's
//!   position read from history (deduplicated by `eventId`) or reported as a
//!   [`StreamItem::Gap`]. The
//!   official Python client drops these events; this one does not. (DT's own backfilled
//!   events, `isBackfilled` with older timestamps, that arrive during a disconnect lie
//!   before the gap: see [`LiveEventsQuery`].)
//! - **Data connectors**: [`ConnectorUpdate`] PATCHes exactly the fields set, as the
//!   document's examples do, so one change never resets another; secrets and header
//!   values never reach `Debug` ([`DataConnector::redacted`] for printing).
//! - **The directory**: [`Organization`]s; the [`Member`]s of projects and
//!   organizations (add by email, get, update roles, remove, a pending member's invite
//!   URL) with their [`Role`]s, sent as `roles/{name}` as DT's bodies want them and read
//!   back without the prefix; [`RoleInfo`] with each role's permissions; the
//!   permissions the caller holds in a project or an organization; [`ServiceAccount`]s
//!   ([`ServiceAccountUpdate`] PATCHes only the fields set) and their keys, whose secret
//!   ([`CreatedKey`]) comes once, as a [`SecretString`] `Debug` never shows. Roles,
//!   member status and account type are open enums: a value this version does not know
//!   is kept as `Unknown`, never a decode error.
//! - **Reconciliation**: DT does not backfill what a disabled connector did not forward,
//!   and gives up on a push after 12 hours of retries. [`Client::reconcile`] reads the
//!   connector's scope (its event types and label keys), reads every device's history of
//!   the range, and gives each event the receiver lacks ([`ReceivedIds`]: any iterator
//!   of ids, or the push bodies it stored, one per line) as the push body the connector
//!   would have sent, in time order, each once, in bounded memory (a temporary file past
//!   [`ReconcileQuery::memory_limit`]), whatever order history answers in.
//! - **Any endpoint**: [`Client::request`] and [`Client::list`] reach an endpoint this
//!   version does not model with the client's credential, retries, throttle, errors and
//!   paging; a path that would leave the API's origin is refused.
//! - **Signed pushes**: [`Verifier`] checks the HS256 signature (every other `alg`
//!   refused), `exp`/`iat` with a leeway on an injectable clock, the body's SHA-256 in
//!   constant time (SHA-1 only as an opt-in fallback), then parses the [`Push`].
//!   [`ReplayGuard`] then tells a replayed push (the same `jti`, or the same event id
//!   under a new signature, as DT's retries are) from a new one, in bounded memory
//!   within the token's lifetime.
//! - **Secrets in URLs**: a receiver's URL can hold a key in its query; `Debug` and
//!   [`DataConnector::redacted`] show it as `?[REDACTED]`.
//! - **Errors**: [`Error`] is the SDK's shared
//!   [`ClientError`]; DT's body `{"error","code","help"}` is
//!   parsed into its [`ApiError`], and a 429 is waited out with its `Retry-After`.
//! - **Ids**: the methods that return a request builder take project, organization,
//!   device, connector and service account ids as `impl Into<String>` (the builder
//!   keeps them); the methods that send at once borrow them (and member and key ids)
//!   as `&str`.
//!
//! # The wire, as this client reads it
//!
//! - Base URL `https://api.disruptive-technologies.com/v2/`; service-account tokens
//!   from `https://identity.disruptive-technologies.com/oauth2/token` (form
//!   `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>`, the JWT's
//!   `aud` the token URL); the emulator at `https://emulator.disruptive-technologies.com/v2/`.
//! - Pages: `{"<items>": [..], "nextPageToken": ".."}`, the items under `projects`,
//!   `devices`, `events`, `dataConnectors`, `organizations`, `members`, `roles`,
//!   `permissions`, `serviceAccounts` or `keys`, left out when empty.
//! - The directory: `GET /organizations`, `GET /organizations/{o}`; members under
//!   `/projects/{p}/members` and `/organizations/{o}/members` (`POST` with
//!   `{"email", "roles": ["roles/{name}"]}`, `PATCH` with `{"roles"}` for a project's,
//!   `GET …/{m}:getInviteUrl` → `{"inviteUrl"}`); `GET …/permissions`; `GET /roles`,
//!   `GET /roles/{name}`; `/projects/{p}/serviceaccounts` (`POST`/`PATCH` with
//!   `displayName` and `enableBasicAuth`) and `…/{sa}/keys` (`POST` answers
//!   `{"key": {..}, "secret"}`).
//! - History: `GET /projects/{p}/devices/{d}/events` with `eventTypes` (repeated),
//!   `startTime` and `endTime` (RFC 3339); without them the last 24 hours.
//! - Events: `{"eventId", "targetName": "projects/{p}/devices/{d}", "eventType",
//!   "data": {"<eventType>": {..}}, "timestamp"}` (`labelsChanged` data is not keyed).
//! - The live stream: `GET /projects/{p}/devices:stream` with `device_ids`,
//!   `device_types`, `label_filters`, `event_types` (repeated) and `ping_interval`
//!   (`10s`); one message per line (`Accept: application/json`) or per SSE event
//!   (`text/event-stream`): `{"result":{"event":{..}}}`, pings as events of type `ping`,
//!   and errors in band as `{"error":{"code","message"}}` (`code` a gRPC code, or from
//!   100 on an HTTP status) or `{"error":{"grpcCode","httpCode","message"}}`. HTTP
//!   401/408/429/5xx and gRPC 4, 8, 10, 13, 14 and 16 reconnect (the HTTP status decides
//!   when both are sent). What ends the stream (at once, or once the reconnects are
//!   spent) is, for HTTP 401 or gRPC 16, [`ClientError::Unauthorized`]; for HTTP 403 or
//!   gRPC 7, [`ClientError::Forbidden`] (the error object as the [`ApiError`]'s body);
//!   for every other code, [`DtError::Stream`]. An in-band 401 also drops the cached
//!   token. The framing is the one the response's `Content-Type` names. A message that
//!   does not decode is a [`ClientError::Decode`] item, and the stream goes on. A message
//!   is at most 1 MiB, an SSE event's `data:` lines together included; a larger one ends
//!   the stream as [`ClientError::Decode`].
//! - Projects: `GET /projects` (`organization=organizations/{o}`, `query`),
//!   `POST /projects` (`{"displayName", "organization": "organizations/{o}"}`),
//!   `GET`/`PATCH`/`DELETE /projects/{p}`. Devices of any project: `GET
//!   /projects/-/devices/{d}`, and `GET /projects/-/devices` with
//!   `organization=organizations/{o}` (and `projects=projects/{p}`, repeated).
//! - Claims: `GET /claimInfo?identifier=..[&organization=organizations/{o}]` →
//!   `{"type": "KIT"|"DEVICE", "kit"|"device": {..}}`; `POST
//!   /projects/{p}/devices:claim?dryRun=true|false` with `{"kitIds", "deviceIds"}` →
//!   `{"claimedDevices": [..], "claimErrors": {"devices": [..], "kits": [..]}}`.
//! - Errors: `{"error": "..", "code": <status>, "help": "<url>"}`.
//! - Pushes: the `X-Dt-Signature` header, an HS256 JWT whose `checksum_sha256` is the
//!   body's SHA-256.
//!
//! # Feature flags
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `client` | yes | the REST API client (`Client`, lists, history, the live stream, connectors, emulator) on `client-core` |
//! | `arrow` | no | module `columns`: events (`RawEvent`, `Event`) as Arrow `RecordBatch`es of a chosen size (the schema is documented there), with or without `client` |
//! | `parquet` | no | `columns::parquet_from_stored` (stored NDJSON events to a Parquet file) and Parquet writing of any batches (implies `arrow`) |
//!
//! Without `client` the crate is the event model and push verification, with no HTTP
//! stack: what a receiver behind another web framework needs.

// Library code handles every failure; tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

#[cfg(feature = "client")]
mod any_endpoint;
#[cfg(feature = "client")]
mod claims;
#[cfg(feature = "client")]
mod client;
#[cfg(feature = "arrow")]
pub mod columns;
#[cfg(feature = "client")]
mod connectors;
#[cfg(feature = "client")]
mod credentials_file;
#[cfg(feature = "client")]
mod devices;
#[cfg(feature = "client")]
mod devices_ahead;
#[cfg(feature = "client")]
mod emulator;
#[cfg(feature = "client")]
mod error;
#[cfg(feature = "client")]
mod event_fast;
mod events;
#[cfg(feature = "client")]
#[doc(hidden)]
pub mod fuzzing;
#[cfg(feature = "client")]
mod history;
#[cfg(feature = "client")]
mod history_devices;
#[cfg(feature = "client")]
mod history_event;
#[cfg(feature = "client")]
mod list;
#[cfg(feature = "client")]
mod live;
#[cfg(feature = "client")]
mod members;
#[cfg(feature = "client")]
mod organizations;
#[cfg(feature = "client")]
mod page_ahead;
#[cfg(feature = "client")]
mod paging;
#[cfg(feature = "client")]
mod policy;
#[cfg(feature = "client")]
mod position;
#[cfg(feature = "client")]
mod projects;
mod raw_event;
#[cfg(feature = "client")]
mod received;
#[cfg(feature = "client")]
mod reconcile;
#[cfg(feature = "client")]
mod redact;
mod replay;
#[cfg(feature = "client")]
mod roles;
#[cfg(feature = "client")]
mod service_accounts;
#[cfg(feature = "client")]
mod spill;
#[cfg(feature = "client")]
mod sse;
mod verify;

#[cfg(feature = "client")]
pub use any_endpoint::AnyRequest;
#[cfg(feature = "client")]
pub use claims::{
    ClaimCounts, ClaimDevice, ClaimError, ClaimErrorCode, ClaimErrors, ClaimInfo, ClaimKit, ClaimOutcome,
    ClaimRequest, ClaimType,
};
#[cfg(feature = "client")]
pub use client::{
    Client, ClientBuilder, DEFAULT_BASE_URL, DEFAULT_EMULATOR_URL, DEFAULT_PAGE_SIZE, DEFAULT_TOKEN_URL, env,
};
#[cfg(feature = "client")]
pub use connectors::{
    ConnectorMetrics, ConnectorStatus, ConnectorUpdate, DataConnector, HttpConfig, NewDataConnector,
};
#[cfg(feature = "client")]
pub use credentials_file::{CredentialsFile, MAX_CREDENTIALS_FILE_BYTES};
#[cfg(feature = "client")]
pub use devices::{Device, DevicesQuery, ItemError, LabelChanges};
#[cfg(feature = "client")]
pub use devices_ahead::{DEVICE_PAGES_AHEAD, MAX_DEVICE_CONCURRENCY};
#[cfg(feature = "client")]
pub use error::{DtError, Error, Result};
pub use events::{
    BatteryStatus, CellularStatus, CloudConnectorSignal, Co2, ConnectionStatus, Count, DeskOccupancy,
    EVENT_TYPES, EthernetStatus, Event, EventData, Humidity, HumiditySample, LabelsChanged, NetworkStatus,
    Pressure, Sample, State, Temperature, Touch,
};
#[cfg(feature = "client")]
pub use history::EventsQuery;
#[cfg(feature = "client")]
pub use history_devices::{DEFAULT_DEVICE_CONCURRENCY, DevicesEventsQuery};
#[cfg(feature = "client")]
pub use list::List;
#[cfg(feature = "client")]
pub use live::{Gap, LiveEventsQuery, StreamItem};
#[cfg(feature = "client")]
pub use members::{AccountType, Member, MemberStatus};
#[cfg(feature = "client")]
pub use organizations::Organization;
#[cfg(feature = "client")]
pub use projects::{Project, ProjectUpdate, ProjectsQuery};
pub use raw_event::{EventDecodeError, RawEvent};
#[cfg(feature = "client")]
pub use received::{MAX_PUSH_LINE, PushesRead, ReceivedError, ReceivedIds};
#[cfg(feature = "client")]
pub use reconcile::{
    DEFAULT_RECONCILE_MEMORY, ForwardScope, MissingPush, ReconcileQuery, ReconcileSummary, Reconciliation,
};
pub use replay::{Admitted, ReplayGuard, ReplayKey, Replayed};
#[cfg(feature = "client")]
pub use roles::{Role, RoleInfo};
#[cfg(feature = "client")]
pub use service_accounts::{CreatedKey, ServiceAccount, ServiceAccountKey, ServiceAccountUpdate};
pub use verify::{Claims, Push, PushMetadata, SIGNATURE_HEADER, Verifier, VerifyError, without_bom};

#[cfg(feature = "client")]
client_core::client_reexports!();
#[cfg(feature = "client")]
#[doc(no_inline)]
pub use client_core::{BasicAuth, JwtBearerGrant, TokenCache};
/// Re-exported so that callers name the same versions the crate uses (`serde` and
/// `serde_json` appear in public signatures: `other` maps, `Page::meta`,
/// `records::<U>()`).
pub use {jiff, secrecy, serde, serde_json};
