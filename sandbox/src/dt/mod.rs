//! Disruptive Technologies REST API v2, its emulator API and its identity endpoint.
//!
//! - `POST /oauth2/token`: the RFC 7523 JWT-bearer grant, the assertion verified as DT
//!   does (HS256 with the key's secret, `kid`, `iss` = the account email, `aud` = the
//!   token URL, `exp - iat` at most 3600); API requests also accept HTTP Basic with the
//!   key id and secret.
//! - `/v2/`: projects (list, only those the caller may read, by `organization` and
//!   `query`, a case-insensitive substring of the project's or its organization's
//!   display name (the Python client's docs say DT searches both); get; create, by
//!   organization admins, the new project without members of its own; update; delete,
//!   refused with 400 while the project holds devices or data connectors, as DT does,
//!   and taking the project's service accounts, their keys and tokens with it),
//!   devices (list with `query`, `device_ids`, `device_types`, `label_filters`,
//!   `order_by`; get; `:batchUpdate`; `:transfer`; with the project `-`, a device by id
//!   in any project the caller may read, and the devices of the organization
//!   `organization=organizations/{o}` names, kept to `projects=projects/{p}` when given),
//!   claiming (`GET /claimInfo`; `:claim`, which moves unclaimed devices into the
//!   project, a dry run answering the same and changing nothing; without `dryRun`,
//!   400, so that a client leaving it out is caught), event history
//!   (generated lazily, one event per device every `interval_seconds`, plus everything
//!   published), the live stream (`devices:stream`, NDJSON or SSE, pings), data
//!   connectors (CRUD, `:sync` that really pushes signed events, `:metrics`).
//! - `/v2/` directory: organizations (those the caller is a member of, directly or
//!   through one of their projects), the members of projects and organizations (list;
//!   add by email with `roles/{name}` roles of the parent's kind, 409 for an email
//!   already there; get; a project member's roles replaced by `PATCH`; remove), roles
//!   (`GET /roles`, `GET /roles/{name}`, readable by any signed-in caller),
//!   `GET …/permissions` (the permissions the caller holds there, a project's including
//!   its organization's), and service accounts with their keys (CRUD; `POST …/keys`
//!   answers `{"key": {..}, "secret"}` once). Every request is checked against the
//!   caller's roles (`membership.*`, `serviceaccount.*`, `serviceaccount.key.*`, ...):
//!   403 without the permission, 404 for an unknown project or organization.
//!   Adding the email of an existing service account makes an `ACCEPTED` member of
//!   `accountType` `SERVICE_ACCOUNT` at once; any other email, a `PENDING` `USER`
//!   member whose `:getInviteUrl` answers `{"inviteUrl"}` (400 once accepted). A
//!   created account's email is `{id}@{project}.serviceaccount.d21s.com`; its keys sign
//!   in through the token endpoint, and with Basic while its `enableBasicAuth` is true.
//!   Deleting an account removes its keys and memberships; removing a member takes its
//!   access away at its next request.
//! - `/emulator/v2/`: create and delete emulated devices, and `:publish`, whose events
//!   flow into the stream, the history and the active connectors.
//!
//! Lists page with `pageSize` (capped at [`Config::max_page_size`]) and an opaque
//! `pageToken`; `nextPageToken` is `""` on the last page.

// Handlers bail out with the response to send; its size does not matter here.
#![allow(clippy::result_large_err)]

mod access;
mod auth;
mod claims;
mod connectors;
mod devices;
mod emulator;
mod http;
mod members;
mod organizations;
mod projects;
mod push;
mod roles;
mod service_accounts;
mod stream;
mod world;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use jiff::Timestamp;
use serde_json::Value;
use tokio::sync::broadcast;

use crate::entra::Issuer;
use crate::faults::Faults;
use crate::in_flight::InFlight;
use crate::server::{Resets, Running, serve_listener};
pub use access::ORGANIZATION;
pub use claims::{CLAIMABLE_DEVICES, CLAIMABLE_KIT, CLAIMABLE_KIT_DEVICES};
pub use world::Device;
use world::StoredEvent;

/// The default project.
pub const PROJECT: &str = "sandbox-project";
/// A second project (transfers, multi-project listings).
pub const OTHER_PROJECT: &str = "sandbox-project-2";

/// The `X-Dt-Signature` a connector with `secret` sends with `body`, as the sandbox's
/// pushes carry it: HS256 over `{checksum, checksum_sha256, iat, exp, jti}`, issued now,
/// valid one hour, with a fresh `jti` at each call (as each retry of a push has). For
/// testing a receiver with requests of one's own (replays, tampered bodies).
pub fn push_signature(secret: &str, body: &[u8]) -> String {
    push::signature(secret, body)
}

/// How the live stream misbehaves on purpose.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct StreamFaults {
    /// Close each connection after sending this many events.
    pub drop_after: Option<u32>,
    /// Send this `{"error": ...}` object in band, once, to the next connection.
    pub in_band_error: Option<Value>,
    /// Send an in-band error for this HTTP status, once, to the next connection, in the
    /// shape [`Config::in_band_shape`] says.
    pub in_band_status: Option<u16>,
    /// Send one message that is not JSON, once, first on the next connection (the
    /// events then flow as usual).
    pub undecodable: bool,
    /// Answer this many history requests with 503 (counted down as they come).
    pub fail_history: u32,
}

impl StreamFaults {
    /// Sends an in-band error for HTTP `status`, once, to the next connection, in the
    /// configured shape ([`Config::in_band_shape`]).
    pub fn in_band_status(status: u16) -> Self {
        StreamFaults {
            in_band_status: Some(status),
            ..Self::default()
        }
    }

    /// Sends one message that is not JSON first on the next connection.
    pub fn undecodable() -> Self {
        StreamFaults {
            undecodable: true,
            ..Self::default()
        }
    }

    /// Answers the next `count` history requests with 503.
    pub fn fail_history(count: u32) -> Self {
        StreamFaults {
            fail_history: count,
            ..Self::default()
        }
    }

    /// Closes each connection after `events` events.
    pub fn drop_after(events: u32) -> Self {
        StreamFaults {
            drop_after: Some(events),
            ..Self::default()
        }
    }

    /// Sends `error` in band, once, to the next connection.
    pub fn in_band_error(error: Value) -> Self {
        StreamFaults {
            in_band_error: Some(error),
            ..Self::default()
        }
    }
}

/// The framing of the live stream's answer (a reading: the document shows NDJSON, and
/// SSE when `Accept: text/event-stream` asks for it; a server may answer either).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamFraming {
    /// What `Accept` asked for (the default).
    #[default]
    AsAsked,
    /// Always NDJSON (`application/json`), whatever was asked.
    Ndjson,
    /// Always Server-Sent Events (`text/event-stream`), whatever was asked.
    Sse,
}

/// The shape of the live stream's in-band errors (a reading: DT sends both).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum InBandShape {
    /// `{"error":{"code":<HTTP status>,"message"}}` (the default).
    #[default]
    CodeHttp,
    /// `{"error":{"code":<gRPC code>,"message"}}`.
    CodeGrpc,
    /// `{"error":{"grpcCode","httpCode","message"}}`.
    GrpcAndHttp,
}

impl InBandShape {
    /// The in-band error object for HTTP `status` in this shape.
    pub fn error(self, status: u16) -> Value {
        let grpc = match status {
            400 => 3,
            401 => 16,
            403 => 7,
            404 => 5,
            408 | 504 => 4,
            429 => 8,
            500 => 13,
            501 => 12,
            503 => 14,
            _ => 2,
        };
        let message = format!("sandbox in-band error {status}");
        match self {
            InBandShape::CodeHttp => serde_json::json!({"code": status, "message": message}),
            InBandShape::CodeGrpc => serde_json::json!({"code": grpc, "message": message}),
            InBandShape::GrpcAndHttp => {
                serde_json::json!({"grpcCode": grpc, "httpCode": status, "message": message})
            }
        }
    }
}

/// What the simulator serves.
///
/// # Defaults
///
/// [`Config::default`] accepts one service-account key ([`Sandbox::env_vars`] gives
/// these variables):
///
/// | what | variable | default |
/// |---|---|---|
/// | API | `DT_BASE_URL` | `http://127.0.0.1:PORT/v2/` |
/// | emulator | `DT_EMULATOR_URL` | `http://127.0.0.1:PORT/emulator/v2/` |
/// | token endpoint | `DT_TOKEN_URL` | `http://127.0.0.1:PORT/oauth2/token` |
/// | key id (`kid`, Basic user) | `DT_SERVICE_ACCOUNT_KEY_ID` | `sandbox-key` |
/// | key secret (HS256 key, Basic password) | `DT_SERVICE_ACCOUNT_SECRET` | `sandbox-key-secret` |
/// | account email (`iss`) | `DT_SERVICE_ACCOUNT_EMAIL` | `sandbox@sandbox-project.serviceaccount.d21s.com` |
///
/// API requests take a bearer token from the token endpoint (opaque, living 3,600
/// seconds) or HTTP Basic with the key id and secret (enabled).
///
/// It serves the projects [`PROJECT`] (`sandbox-project`) and [`OTHER_PROJECT`]
/// (`sandbox-project-2`) with 120 devices each. Device `i` (0 to 119) of a project has
/// the type at `i % 6` in the table below, the id `sb` + the project's number (`98` in
/// `sandbox-project`, `45` in `sandbox-project-2`) + the first three letters of its
/// type + `i` in four digits (`sb98tem0000`, `sb98hum0001`, ..., `sb45co20004`,
/// `sb45wat0119`), and the labels `name` = `{type} {i}` (`temperature 0`) and `floor`
/// = `i % 5 + 1` (`1` to `5`).
///
/// | `i % 6` | type | event type | generated data |
/// |---|---|---|---|
/// | 0 | `temperature` | `temperature` | `value` from -5.00 to 34.99 |
/// | 1 | `humidity` | `humidity` | `temperature` 0.00 to 29.99, `relativeHumidity` 0.00 to 99.99 |
/// | 2 | `touch` | `touch` | `updateTime` only |
/// | 3 | `proximity` | `objectPresent` | `state` `PRESENT` or `NOT_PRESENT` |
/// | 4 | `co2` | `co2` | `ppm` from 400 to 1999 |
/// | 5 | `waterDetector` | `waterPresent` | `state` `PRESENT` or `NOT_PRESENT` |
///
/// Each device has one generated event every 900 seconds from `2025-01-01T00:00:00Z`
/// up to now (deterministic per device and time), plus whatever is published through
/// the emulator. Pages hold at most 1,000 items; a connector push is tried 3 times
/// without waiting; no faults, no stream faults.
///
/// Claims draw from an inventory of unclaimed devices: the kit [`CLAIMABLE_KIT`]
/// (`sandbox-kit`) of [`CLAIMABLE_KIT_DEVICES`] (`sbkitdev0001` `temperature`,
/// `sbkitdev0002` `touch`, `sbkitdev0003` `ccon`) and, in no kit,
/// [`CLAIMABLE_DEVICES`] (`sbfree0001` `temperature`, `sbfree0002` `humidity`);
/// [`Sandbox::add_claimable_device`] and [`Sandbox::add_claimable_kit`] add more. A
/// claimed device joins the project without generated history.
///
/// Who may do what follows DT's roles ([`Config::account_role`]): creating a project and
/// claiming need `organization.admin`; updating and deleting a project,
/// `project.admin`; reading, any role.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The service account's key id (`kid`, Basic user).
    pub key_id: String,
    /// The key's secret.
    pub key_secret: String,
    /// The service account's email (`iss`).
    pub email: String,
    /// Whether Basic auth is enabled for the account.
    pub basic_enabled: bool,
    /// Lifetime of issued tokens.
    pub token_lifetime: Duration,
    /// The projects.
    pub projects: Vec<String>,
    /// Generated devices per project.
    pub devices_per_project: usize,
    /// Each generated device has one event every this many seconds.
    pub interval_seconds: i64,
    /// The first generated event.
    pub data_start: Timestamp,
    /// The largest page served, whatever `pageSize` asks.
    pub max_page_size: u32,
    /// Stream faults.
    pub stream_faults: StreamFaults,
    /// Reading: the live stream's framing, as asked or one of its own whatever was asked
    /// (the `Content-Type` says which).
    pub stream_framing: StreamFraming,
    /// Reading: the shape of in-band errors ([`StreamFaults::in_band_status`]), with an
    /// HTTP status or a gRPC code.
    pub in_band_shape: InBandShape,
    /// Reading: whether the history's `startTime` excludes an event at exactly that
    /// instant (the document does not say; `false`, the default, includes it).
    pub history_start_exclusive: bool,
    /// Reading: history pages hold the latest events first, each page older than the one
    /// before (the document does not give the order; `false`, the default, is oldest
    /// first).
    pub history_newest_first: bool,
    /// Reading: a push carries a connector's label key the device lacks as `""` (the
    /// document does not say; `false`, the default, leaves it out).
    pub push_absent_labels_empty: bool,
    /// Keep each history page as first rendered and serve it again as is when the same
    /// request comes (same device and query): benchmarks time the client, not the
    /// simulator, this way. Off by default; pages then follow the world as it changes.
    pub prerendered_history: bool,
    /// How many times a push is attempted before it counts as an error.
    pub push_attempts: u32,
    /// The wait between push attempts.
    pub push_retry_delay: Duration,
    /// Fault settings of the API (not the token endpoint).
    pub faults: Faults,
    /// The role of the configured key's service account: an `organization.` role makes
    /// it a member of [`ORGANIZATION`], which holds every project; a `project.` role, a
    /// member of each project. Default `organization.admin` (everything allowed).
    pub account_role: String,
}

impl Default for Config {
    /// Key `sandbox-key` / `sandbox-key-secret` of `sandbox@sandbox-project.serviceaccount.d21s.com`
    /// (Basic enabled); projects [`PROJECT`] and [`OTHER_PROJECT`] of 120 devices each
    /// (temperature, humidity, touch, proximity, co2, waterDetector); one event per device
    /// every 15 minutes from 2025-01-01; pages of at most 1,000; pushes tried 3 times
    /// without waiting.
    fn default() -> Self {
        Config {
            key_id: "sandbox-key".into(),
            key_secret: "sandbox-key-secret".into(),
            email: "sandbox@sandbox-project.serviceaccount.d21s.com".into(),
            basic_enabled: true,
            token_lifetime: Duration::from_secs(3600),
            projects: vec![PROJECT.into(), OTHER_PROJECT.into()],
            devices_per_project: 120,
            interval_seconds: 900,
            data_start: Timestamp::from_second(1_735_689_600).unwrap_or(Timestamp::UNIX_EPOCH),
            max_page_size: 1000,
            stream_faults: StreamFaults::default(),
            stream_framing: StreamFraming::AsAsked,
            in_band_shape: InBandShape::CodeHttp,
            history_start_exclusive: false,
            history_newest_first: false,
            push_absent_labels_empty: false,
            prerendered_history: false,
            push_attempts: 3,
            push_retry_delay: Duration::ZERO,
            faults: Faults::none(),
            account_role: "organization.admin".into(),
        }
    }
}

impl Config {
    /// Sets the faults.
    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Sets the stream faults.
    pub fn with_stream_faults(mut self, faults: StreamFaults) -> Self {
        self.stream_faults = faults;
        self
    }

    /// Sets the stream's framing (a reading).
    pub fn with_stream_framing(mut self, framing: StreamFraming) -> Self {
        self.stream_framing = framing;
        self
    }

    /// Sets the shape of in-band errors (a reading).
    pub fn with_in_band_shape(mut self, shape: InBandShape) -> Self {
        self.in_band_shape = shape;
        self
    }

    /// Sets [`Config::prerendered_history`].
    pub fn with_prerendered_history(mut self, prerendered: bool) -> Self {
        self.prerendered_history = prerendered;
        self
    }

    /// Makes the history's `startTime` exclusive or inclusive (a reading).
    pub fn with_history_start_exclusive(mut self, exclusive: bool) -> Self {
        self.history_start_exclusive = exclusive;
        self
    }

    /// Pushes a label key the device lacks as `""` (a reading).
    pub fn with_push_absent_labels_empty(mut self, empty: bool) -> Self {
        self.push_absent_labels_empty = empty;
        self
    }

    /// Serves history newest first (a reading).
    pub fn with_history_newest_first(mut self, newest_first: bool) -> Self {
        self.history_newest_first = newest_first;
        self
    }

    /// Sets the event interval of generated devices.
    pub fn with_interval_seconds(mut self, seconds: i64) -> Self {
        self.interval_seconds = seconds.max(1);
        self
    }

    /// Sets the number of generated devices per project.
    pub fn with_devices_per_project(mut self, devices: usize) -> Self {
        self.devices_per_project = devices;
        self
    }

    /// Sets when generated history starts.
    pub fn with_data_start(mut self, start: Timestamp) -> Self {
        self.data_start = start;
        self
    }

    /// Sets [`Config::account_role`] (`project.user`, `project.developer`,
    /// `project.admin` or `organization.admin`).
    pub fn with_account_role(mut self, role: impl Into<String>) -> Self {
        self.account_role = role.into();
        self
    }

    /// Enables or disables Basic auth.
    pub fn with_basic(mut self, enabled: bool) -> Self {
        self.basic_enabled = enabled;
        self
    }
}

/// A data connector as the simulator keeps it.
#[derive(Debug, Clone)]
struct Connector {
    id: String,
    project: String,
    display_name: String,
    status: String,
    events: Vec<String>,
    labels: Vec<String>,
    url: String,
    secret: String,
    headers: BTreeMap<String, String>,
    successes: u64,
    errors: u64,
}

#[derive(Debug)]
struct World {
    devices: Vec<Device>,
    published: HashMap<String, BTreeMap<(i64, String), StoredEvent>>,
    connectors: Vec<Connector>,
    next_id: u64,
    organizations: Vec<access::Organization>,
    projects: Vec<access::ProjectRecord>,
    members: Vec<access::Membership>,
    accounts: Vec<access::ServiceAccount>,
    /// Devices not claimed yet (those of kits included).
    claimable: Vec<claims::Claimable>,
    kits: Vec<claims::Kit>,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    history_pages: AtomicU64,
    events_served: AtomicU64,
    stream_connections: AtomicU64,
    pushes: AtomicU64,
    dropped_pushes: AtomicU64,
    unauthorized: AtomicU64,
    /// API requests inside the configured delay now, and the most there ever were.
    in_delay: InFlight,
}

#[derive(Debug)]
struct Shared {
    config: Config,
    token_url: String,
    issuer: Issuer,
    faults: Mutex<Faults>,
    stream_faults: Mutex<StreamFaults>,
    world: Mutex<World>,
    live: broadcast::Sender<(Device, StoredEvent)>,
    counters: Counters,
    resets: Resets,
    http: reqwest::Client,
    /// History pages as first rendered, by request (see [`Config::prerendered_history`]).
    history_cache: Mutex<std::collections::HashMap<String, crate::server::EncodedJson>>,
    /// `http` without any proxy, for receivers on a loopback host.
    loopback_http: reqwest::Client,
    /// The email of the account each issued token was issued to.
    token_owners: Mutex<HashMap<String, String>>,
    /// While set, pushes are dropped instead of sent (see [`Sandbox::drop_pushes`]).
    drop_pushes: std::sync::atomic::AtomicBool,
}

use crate::server::lock;

/// A running DT simulator. Dropping it stops it.
#[derive(Debug)]
pub struct Sandbox {
    running: Running,
    shared: Arc<Shared>,
}

impl Sandbox {
    /// Starts the simulator on `127.0.0.1` with a free port.
    pub async fn start(config: Config) -> std::io::Result<Sandbox> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let resets = Resets::default();
        resets.set(config.faults.reset_connections);
        let (live, _) = broadcast::channel(16_384);
        let builder = || {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
        };
        let http = builder().build().map_err(std::io::Error::other)?;
        // Plain HTTP to a loopback receiver is allowed only because it never leaves the
        // machine: a proxy (HTTP_PROXY, ALL_PROXY) would carry the push's headers
        // elsewhere, in clear. Pushes to a loopback host use this client.
        let loopback_http = builder().no_proxy().build().map_err(std::io::Error::other)?;
        let (organizations, projects, members, accounts) = access::initial(
            &config.projects,
            &config.key_id,
            &config.key_secret,
            &config.email,
            config.basic_enabled,
            &config.account_role,
        );
        let (claimable, kits) = claims::initial();
        let shared = Arc::new(Shared {
            token_url: format!("http://{address}/oauth2/token"),
            issuer: Issuer::default(),
            faults: Mutex::new(config.faults.clone()),
            stream_faults: Mutex::new(config.stream_faults.clone()),
            world: Mutex::new(World {
                devices: world::default_devices(&config.projects, config.devices_per_project),
                published: HashMap::new(),
                connectors: Vec::new(),
                next_id: 1,
                organizations,
                projects,
                members,
                accounts,
                claimable,
                kits,
            }),
            live,
            counters: Counters::default(),
            resets: resets.clone(),
            http,
            loopback_http,
            history_cache: Mutex::default(),
            token_owners: Mutex::default(),
            drop_pushes: Default::default(),
            config,
        });
        let router = Router::new()
            .route("/oauth2/token", post(auth::token))
            .route(
                "/v2/projects",
                get(projects::list_projects).post(projects::create_project),
            )
            .route(
                "/v2/projects/{project}",
                get(projects::get_project)
                    .patch(projects::update_project)
                    .delete(projects::delete_project),
            )
            .route("/v2/claimInfo", get(claims::claim_info))
            .route("/v2/projects/{project}/devices", get(devices::list_devices))
            .route(
                "/v2/projects/{project}/{device}",
                get(devices::device_get).post(devices::device_action),
            )
            .route(
                "/v2/projects/{project}/devices/{device}",
                get(devices::get_device),
            )
            .route(
                "/v2/projects/{project}/devices/{device}/events",
                get(devices::history),
            )
            .route(
                "/v2/projects/{project}/dataconnectors",
                get(connectors::list_connectors).post(connectors::create_connector),
            )
            .route(
                "/v2/projects/{project}/dataconnectors/{connector}",
                get(connectors::connector_get)
                    .patch(connectors::update_connector)
                    .delete(connectors::delete_connector)
                    .post(connectors::connector_action),
            )
            .route("/v2/organizations", get(organizations::list_organizations))
            .route(
                "/v2/organizations/{organization}",
                get(organizations::get_organization),
            )
            .route(
                "/v2/organizations/{organization}/members",
                get(members::list_organization_members).post(members::add_organization_member),
            )
            .route(
                "/v2/organizations/{organization}/members/{member}",
                get(members::organization_member_get).delete(members::remove_organization_member),
            )
            .route(
                "/v2/organizations/{organization}/permissions",
                get(members::organization_permissions),
            )
            .route(
                "/v2/projects/{project}/members",
                get(members::list_project_members).post(members::add_project_member),
            )
            .route(
                "/v2/projects/{project}/members/{member}",
                get(members::project_member_get)
                    .patch(members::update_project_member)
                    .delete(members::remove_project_member),
            )
            .route(
                "/v2/projects/{project}/permissions",
                get(members::project_permissions),
            )
            .route("/v2/roles", get(roles::list_roles))
            .route("/v2/roles/{role}", get(roles::get_role))
            .route(
                "/v2/projects/{project}/serviceaccounts",
                get(service_accounts::list_accounts).post(service_accounts::create_account),
            )
            .route(
                "/v2/projects/{project}/serviceaccounts/{account}",
                get(service_accounts::get_account)
                    .patch(service_accounts::update_account)
                    .delete(service_accounts::delete_account),
            )
            .route(
                "/v2/projects/{project}/serviceaccounts/{account}/keys",
                get(service_accounts::list_keys).post(service_accounts::create_key),
            )
            .route(
                "/v2/projects/{project}/serviceaccounts/{account}/keys/{key}",
                get(service_accounts::get_key).delete(service_accounts::delete_key),
            )
            .route(
                "/emulator/v2/projects/{project}/devices",
                post(emulator::create_emulated),
            )
            .route(
                "/emulator/v2/projects/{project}/devices/{device}",
                axum::routing::delete(emulator::delete_emulated).post(emulator::publish),
            )
            .with_state(shared.clone());
        Ok(Sandbox {
            running: serve_listener(listener, router, resets)?,
            shared,
        })
    }

    /// `DT_BASE_URL`: `http://127.0.0.1:PORT/v2/`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v2/", self.running.address)
    }

    /// `DT_EMULATOR_URL`: `http://127.0.0.1:PORT/emulator/v2/`.
    pub fn emulator_url(&self) -> String {
        format!("http://{}/emulator/v2/", self.running.address)
    }

    /// `DT_TOKEN_URL`: `http://127.0.0.1:PORT/oauth2/token`.
    pub fn token_url(&self) -> String {
        self.shared.token_url.clone()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// The variables that point a client (or an example) at this simulator, with the
    /// key's secret.
    pub fn env_vars(&self) -> Vec<(&'static str, String)> {
        let config = &self.shared.config;
        vec![
            ("DT_SERVICE_ACCOUNT_KEY_ID", config.key_id.clone()),
            ("DT_SERVICE_ACCOUNT_SECRET", config.key_secret.clone()),
            ("DT_SERVICE_ACCOUNT_EMAIL", config.email.clone()),
            ("DT_BASE_URL", self.base_url()),
            ("DT_TOKEN_URL", self.token_url()),
            ("DT_EMULATOR_URL", self.emulator_url()),
        ]
    }

    /// The devices (generated, emulated and claimed), in order.
    pub fn devices(&self) -> Vec<Device> {
        lock(&self.shared.world).devices.clone()
    }

    /// The ids of the projects, in order (the configured ones, then those created
    /// through the API, less those deleted).
    pub fn projects(&self) -> Vec<String> {
        lock(&self.shared.world)
            .projects
            .iter()
            .map(|p| p.id.clone())
            .collect()
    }

    /// Adds an empty project `id` named `display_name` to [`ORGANIZATION`], with no member
    /// of its own: only an organization role reaches it (a test's project that a
    /// project-role account cannot see). An id already known changes nothing.
    pub fn add_project(&self, id: &str, display_name: &str) {
        let mut world = lock(&self.shared.world);
        if !world.has_project(id) {
            world.projects.push(access::ProjectRecord {
                id: id.to_owned(),
                display_name: display_name.to_owned(),
                organization: ORGANIZATION.to_owned(),
                inventory: false,
            });
        }
    }

    /// The ids of the devices not claimed yet (a kit's included), in order.
    pub fn claimable_devices(&self) -> Vec<String> {
        lock(&self.shared.world)
            .claimable
            .iter()
            .map(|c| c.id.clone())
            .collect()
    }

    /// Adds an unclaimed device of `device_type` (in no kit) to the inventory claims
    /// draw from. An id already known (claimable, or a device) changes nothing.
    pub fn add_claimable_device(&self, id: &str, device_type: &str) {
        let mut world = lock(&self.shared.world);
        if !world.claimable.iter().any(|c| c.id == id) && !world.devices.iter().any(|d| d.id == id) {
            world.claimable.push(claims::Claimable {
                id: id.to_owned(),
                device_type: device_type.to_owned(),
            });
        }
    }

    /// Adds a kit of `devices` (id and type each, `ccon` for a Cloud Connector), all
    /// unclaimed, to the inventory. A kit id already known changes nothing.
    pub fn add_claimable_kit(&self, kit_id: &str, display_name: &str, devices: &[(&str, &str)]) {
        let mut world = lock(&self.shared.world);
        if world.kits.iter().any(|k| k.id == kit_id) {
            return;
        }
        world.kits.push(claims::Kit {
            id: kit_id.to_owned(),
            display_name: display_name.to_owned(),
            devices: devices
                .iter()
                .map(|(id, t)| ((*id).to_owned(), (*t).to_owned()))
                .collect(),
        });
        for (id, device_type) in devices {
            if !world.claimable.iter().any(|c| c.id == *id) && !world.devices.iter().any(|d| d.id == *id) {
                world.claimable.push(claims::Claimable {
                    id: (*id).to_owned(),
                    device_type: (*device_type).to_owned(),
                });
            }
        }
    }

    /// Token requests received.
    pub fn token_requests(&self) -> u64 {
        self.shared.issuer.token_requests.load(Ordering::SeqCst)
    }

    /// Makes every token issued so far invalid, as if each had expired early on the
    /// server's side: a client holding one gets 401 on its next request.
    pub fn revoke_tokens(&self) {
        self.shared.issuer.revoke_all();
    }

    /// API requests received (refused ones included).
    pub fn requests(&self) -> u64 {
        self.shared.counters.requests.load(Ordering::SeqCst)
    }

    /// API requests refused with 401 for missing or invalid credentials.
    pub fn unauthorized(&self) -> u64 {
        self.shared.counters.unauthorized.load(Ordering::SeqCst)
    }

    /// The most API requests that were waiting out the configured delay
    /// ([`Faults::delay`]) at the same time: how many a client had in flight at once.
    pub fn peak_concurrent_requests(&self) -> u64 {
        self.shared.counters.in_delay.peak()
    }

    /// The API requests waiting out the configured delay ([`Faults::delay`]) now: those a
    /// client has in flight (a request it gave up on, closing its connection, leaves).
    pub fn concurrent_requests(&self) -> u64 {
        self.shared.counters.in_delay.now()
    }

    /// History pages served.
    pub fn history_pages(&self) -> u64 {
        self.shared.counters.history_pages.load(Ordering::SeqCst)
    }

    /// Events served in history pages.
    pub fn events_served(&self) -> u64 {
        self.shared.counters.events_served.load(Ordering::SeqCst)
    }

    /// Stream connections accepted.
    pub fn stream_connections(&self) -> u64 {
        self.shared.counters.stream_connections.load(Ordering::SeqCst)
    }

    /// Push attempts made to connectors.
    pub fn push_attempts(&self) -> u64 {
        self.shared.counters.pushes.load(Ordering::SeqCst)
    }

    /// While `drop` is true, every push to every connector is dropped instead of sent,
    /// as DT drops a push it gave up on after retrying for 12 hours: the event stays in
    /// history, the receiver never sees it, and the connector's metrics count an error.
    /// A disabled connector (`status` `USER_DISABLED`, through the API) loses events the
    /// same way.
    pub fn drop_pushes(&self, drop: bool) {
        self.shared.drop_pushes.store(drop, Ordering::SeqCst);
    }

    /// Pushes dropped by [`Sandbox::drop_pushes`].
    pub fn dropped_pushes(&self) -> u64 {
        self.shared.counters.dropped_pushes.load(Ordering::SeqCst)
    }

    /// The body connector `connector_id` would push for the published event `event_id`
    /// of `device_id`, with the device's labels now, or `None` when one of them is unknown:
    /// the truth a reconciliation is compared against.
    pub fn push_body(&self, connector_id: &str, device_id: &str, event_id: &str) -> Option<Value> {
        let world = lock(&self.shared.world);
        let connector = world.connectors.iter().find(|c| c.id == connector_id)?;
        let device = world.devices.iter().find(|d| d.id == device_id)?;
        let event = world
            .published
            .get(device_id)
            .and_then(|events| events.values().find(|e| e.id == event_id))?;
        serde_json::from_slice(&push::body(&self.shared, connector, device, event)).ok()
    }

    /// The ids of every event of `device` in `[from, to)` (generated and published), in
    /// time order: the truth tests compare against.
    pub fn event_ids(&self, device_id: &str, from: Timestamp, to: Timestamp) -> Vec<String> {
        let world = lock(&self.shared.world);
        let Some(device) = world.devices.iter().find(|d| d.id == device_id) else {
            return Vec::new();
        };
        devices::events_of(
            &self.shared,
            &world,
            device,
            from.as_millisecond(),
            to.as_millisecond() - 1,
            &[],
            None,
            usize::MAX,
        )
        .0
        .into_iter()
        .map(|e| e.id)
        .collect()
    }

    /// Publishes an event of `device_id` stamped `at` (which may lie in the future, as a
    /// device's clock may say): stored in history and sent to the streams, like the
    /// emulator's publish. Returns its id, or `None` when the device is unknown.
    pub fn publish_at(
        &self,
        device_id: &str,
        event_type: &str,
        data: Value,
        at: Timestamp,
    ) -> Option<String> {
        let (device, event) = {
            let mut world = lock(&self.shared.world);
            let device = world.devices.iter().find(|d| d.id == device_id)?.clone();
            let seed = world.next_id;
            world.next_id += 1;
            let at_ms = at.as_millisecond();
            let event = StoredEvent {
                at_ms,
                id: world::event_id(seed.wrapping_mul(0x2545_F491_4F6C_DD1D), at_ms),
                event_type: event_type.to_owned(),
                data: Value::Object(std::iter::once((event_type.to_owned(), data)).collect()),
            };
            world
                .published
                .entry(device.id.clone())
                .or_default()
                .insert((event.at_ms, event.id.clone()), event.clone());
            (device, event)
        };
        let id = event.id.clone();
        let _ = self.shared.live.send((device, event));
        Some(id)
    }

    /// Connection resets still to come (see [`Faults::reset_connections`]).
    pub fn pending_resets(&self) -> u32 {
        self.shared.resets.pending()
    }

    /// Replaces the fault settings.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.resets.set(faults.reset_connections);
        *lock(&self.shared.faults) = faults;
    }

    /// Replaces the stream fault settings (for the next connections).
    pub fn set_stream_faults(&self, faults: StreamFaults) {
        *lock(&self.shared.stream_faults) = faults;
    }
}
