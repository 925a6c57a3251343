//! The Bentley iTwin Sensor Data API, both generations, with an IMS-like token endpoint.
//!
//! - `POST /connect/token`: client credentials (secret in the body) for the registered
//!   application and scope; a static access token is accepted as well.
//! - The document's API under `/sensor-data/`: `datasources` (list, create, get, update,
//!   delete), `sensors`, and `observations` paged with `page` (0-based, or 1-based as a
//!   reading) and `pageSize`.
//! - Today's API: `integrations/nodes`, `integrations/integrate`, `data/upload`,
//!   `data/observations` (POST to query, DELETE to remove).
//!
//! Values are generated lazily and deterministically for the built-in sensors (one per
//! `interval_seconds` between `data_start` and `data_end`; a page costs what it holds),
//! uploads and removals are kept on top. Micro-permissions are played per iTwin
//! ([`Access`]): 403 with Bentley's error body, or empty lists for a non-member. What the
//! document leaves open is a switch in [`Config::readings`] ([`Readings`]).

// Handlers bail out with the response to send; its size does not matter here.
#![allow(clippy::result_large_err)]

mod data_api;
mod documents_api;
mod gate;
mod list_pages;
mod readings;
mod store;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use jiff::Timestamp;
use serde_json::{Map, Value};
use tokio::time::Instant;

use crate::entra::{Issuer, Registration};
use crate::faults::Faults;
use crate::in_flight::InFlight;
use crate::server::{Resets, Running, serve_listener};
use data_api::{integrate, nodes, query_data, remove_data, upload};
use documents_api::{
    create_datasource, delete_datasource, get_datasource, list_datasources, list_sensors, observations,
    update_datasource,
};
pub use readings::{CapOffset, PageTotal, Readings};
pub use store::{MetricSpec, UnitSpec, standard_metrics};
use store::{Store, convert};

/// The media type clients are asked to accept.
pub const ACCEPT: &str = "application/vnd.bentley.itwin-platform.v1+json";

/// What the caller may do on an iTwin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Access {
    /// `sensor_data_manage`: everything.
    Manage,
    /// `sensor_data_read`: reads; changes are 403.
    Read,
    /// A member without either permission: 403 on everything.
    None,
    /// Not a member: lists are empty, named resources are 404.
    NotMember,
}

/// A data source and the sensors behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSourceSpec {
    /// The data source id.
    pub id: String,
    /// Its bucket id.
    pub bucket_id: String,
    /// Its bucket name.
    pub bucket_name: String,
    /// Its connection id.
    pub connection_id: String,
    /// The ids of its sensors (each with generated data for every metric).
    pub sensors: Vec<String>,
}

/// An iTwin, the caller's access to it, and its data sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ITwin {
    /// The iTwin id.
    pub id: String,
    /// The caller's access.
    pub access: Access,
    /// Its data sources.
    pub datasources: Vec<DataSourceSpec>,
}

/// A rate limit: at most `limit` requests per `window`, then 429 with `Retry-After` and
/// `iTwinPlatform-RateLimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub limit: u32,
    /// The window.
    pub window: Duration,
}

/// What the simulator serves.
///
/// # Defaults
///
/// [`Config::default`] accepts these credentials ([`Sandbox::env_vars`] gives the
/// variables; the static token is not among them):
///
/// | what | variable | default |
/// |---|---|---|
/// | API | `SDS_BASE_URL` | `http://127.0.0.1:PORT/sensor-data/` |
/// | token endpoint | `SDS_TOKEN_URL` | `http://127.0.0.1:PORT/connect/token` |
/// | client id | `SDS_CLIENT_ID` | `sandbox-sds-app` |
/// | client secret | `SDS_CLIENT_SECRET` | `sandbox-sds-secret` |
/// | scope | `SDS_SCOPE` | `itwin-platform` |
/// | static bearer token | (`SDS_ACCESS_TOKEN`) | `sandbox-sds-access-token` |
///
/// Issued tokens are opaque and live 3,600 seconds. It serves four iTwins, every data
/// source with the connection id `641a59f27478902f2f3aabcde`:
///
/// | iTwin | access | data source | bucket id, name | sensors |
/// |---|---|---|---|---|
/// | [`ITWIN`] `28ba3a8e-bf86-47b6-a37c-6600d9e2e328` | [`Access::Manage`] | `6304AD5893266431E1E9AD71` | `6304AD5893266431E1E9AD72`, My Sensors | `sensor-1`, `sensor-2` |
/// | [`ITWIN`] | [`Access::Manage`] | `6304AD5893266431E1E9AD81` | `vistaDataVisionBucketId`, VDV Sensors | `sensor-3` |
/// | [`READ_ONLY_ITWIN`] `7d1e0b4c-read-only-itwin` | [`Access::Read`] | `ds-read` | `bucket-r`, Read-only | `sensor-r` |
/// | [`FORBIDDEN_ITWIN`] `5c9f2a10-forbidden-itwin` | [`Access::None`] | `ds-forbidden` | `bucket-x`, Forbidden | `sensor-x` |
/// | [`FOREIGN_ITWIN`] `0e4b8d22-not-a-member-itwin` | [`Access::NotMember`] | `ds-foreign` | `bucket-n`, Foreign | `sensor-n` |
///
/// Every sensor has the two metrics of [`standard_metrics`]:
///
/// | metric | name | default unit | units |
/// |---|---|---|---|
/// | `f` | Frequency | `Hz` | `Hz`; `digits` = Hz × 1000 |
/// | `T` | Temperature | `C` | `C`; `F` = C × 1.8 + 32; `K` = C + 273.15 |
///
/// Data: one value of each metric every 60 seconds from `2025-01-01T00:00:00Z` up to,
/// not including, `2027-01-01T00:00:00Z`; in the default unit from 0.000 to 9.999,
/// deterministic per sensor, metric and instant (other units converted, three
/// decimals). A data query returns at most 10,000 timestamps; no rate limit, no faults,
/// [`Readings::default`].
///
/// # Readings
///
/// What the document leaves open is played as [`Config::readings`] says; by default
/// `pageTotal` counts pages, `pageSize` is honoured up to 10,000, `page` counts from 0,
/// `startDate` and `endDate` are inclusive, lists (data sources, sensors, nodes) come
/// whole under their key, and a cut data query keeps the oldest timestamps. The other
/// readings are switches on [`Readings`]: `pageTotal` counting observations, a capped
/// `pageSize` offset by the size used or asked for, `pageTotal` counting pages of the
/// size asked for while pages are capped
/// ([`Readings::with_page_total_of_requested_size`]), removed observations leaving
/// holes (even empty pages) in pages ([`Readings::with_removals_leaving_holes`]),
/// `page` counting from 1 (page 0
/// empty: [`Readings::with_one_based_pages`]), exclusive ends, bare lists, lists in
/// pages of N items with `_links.next.href` on the simulator's origin
/// ([`Readings::with_linked_list_pages`], the next page asked with `$skip`), and cut
/// data queries keeping the latest timestamps.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The service application IMS knows.
    pub registration: Registration,
    /// A bearer token accepted as is (what `SDS_ACCESS_TOKEN` would hold).
    pub access_token: String,
    /// The iTwins.
    pub itwins: Vec<ITwin>,
    /// The metrics of every sensor.
    pub metrics: Vec<MetricSpec>,
    /// Every generated sensor has a value at each multiple of this many seconds.
    pub interval_seconds: i64,
    /// The first generated instant.
    pub data_start: Timestamp,
    /// Generated data ends before this instant.
    pub data_end: Timestamp,
    /// The most timestamps one `data/observations` query returns (the oldest).
    pub data_response_cap: usize,
    /// A rate limit, if any.
    pub rate_limit: Option<RateLimit>,
    /// Fault settings (API requests only, not the token endpoint).
    pub faults: Faults,
    /// How the points the document leaves open are played.
    pub readings: Readings,
}

/// The default iTwin: `sensor_data_manage`, two data sources, three sensors.
pub const ITWIN: &str = "28ba3a8e-bf86-47b6-a37c-6600d9e2e328";
/// An iTwin with `sensor_data_read` only.
pub const READ_ONLY_ITWIN: &str = "7d1e0b4c-read-only-itwin";
/// An iTwin whose member has neither permission.
pub const FORBIDDEN_ITWIN: &str = "5c9f2a10-forbidden-itwin";
/// An iTwin the caller is not a member of.
pub const FOREIGN_ITWIN: &str = "0e4b8d22-not-a-member-itwin";

fn source(id: &str, bucket: &str, name: &str, sensors: &[&str]) -> DataSourceSpec {
    DataSourceSpec {
        id: id.into(),
        bucket_id: bucket.into(),
        bucket_name: name.into(),
        connection_id: "641a59f27478902f2f3aabcde".into(),
        sensors: sensors.iter().map(|s| (*s).to_owned()).collect(),
    }
}

impl Default for Config {
    /// Application `sandbox-sds-app` / `sandbox-sds-secret`, scope `itwin-platform`;
    /// iTwins [`ITWIN`] (sensors `sensor-1` and `sensor-2` in data source
    /// `6304AD5893266431E1E9AD71`, `sensor-3` in `6304AD5893266431E1E9AD81`),
    /// [`READ_ONLY_ITWIN`] (`sensor-r`), [`FORBIDDEN_ITWIN`] (`sensor-x`) and
    /// [`FOREIGN_ITWIN`] (`sensor-n`); the document's metrics; one value a minute from
    /// 2025-01-01 to 2027-01-01; 10,000 timestamps per data query.
    fn default() -> Self {
        Config {
            registration: Registration {
                client_id: "sandbox-sds-app".into(),
                client_secret: Some("sandbox-sds-secret".into()),
                certificate_der: None,
                scope: "itwin-platform".into(),
                token_lifetime: Duration::from_secs(3600),
            },
            access_token: "sandbox-sds-access-token".into(),
            itwins: vec![
                ITwin {
                    id: ITWIN.into(),
                    access: Access::Manage,
                    datasources: vec![
                        source(
                            "6304AD5893266431E1E9AD71",
                            "6304AD5893266431E1E9AD72",
                            "My Sensors",
                            &["sensor-1", "sensor-2"],
                        ),
                        source(
                            "6304AD5893266431E1E9AD81",
                            "vistaDataVisionBucketId",
                            "VDV Sensors",
                            &["sensor-3"],
                        ),
                    ],
                },
                ITwin {
                    id: READ_ONLY_ITWIN.into(),
                    access: Access::Read,
                    datasources: vec![source("ds-read", "bucket-r", "Read-only", &["sensor-r"])],
                },
                ITwin {
                    id: FORBIDDEN_ITWIN.into(),
                    access: Access::None,
                    datasources: vec![source("ds-forbidden", "bucket-x", "Forbidden", &["sensor-x"])],
                },
                ITwin {
                    id: FOREIGN_ITWIN.into(),
                    access: Access::NotMember,
                    datasources: vec![source("ds-foreign", "bucket-n", "Foreign", &["sensor-n"])],
                },
            ],
            metrics: standard_metrics(),
            interval_seconds: 60,
            data_start: Timestamp::from_second(1_735_689_600).unwrap_or(Timestamp::UNIX_EPOCH),
            data_end: Timestamp::from_second(1_798_761_600).unwrap_or(Timestamp::UNIX_EPOCH),
            data_response_cap: 10_000,
            rate_limit: None,
            faults: Faults::none(),
            readings: Readings::default(),
        }
    }
}

impl Config {
    /// Sets the readings of what the document leaves open.
    pub fn with_readings(mut self, readings: Readings) -> Self {
        self.readings = readings;
        self
    }

    /// Sets the faults.
    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Sets a rate limit.
    pub fn with_rate_limit(mut self, limit: u32, window: Duration) -> Self {
        self.rate_limit = Some(RateLimit { limit, window });
        self
    }

    /// Sets the data interval.
    pub fn with_interval_seconds(mut self, seconds: i64) -> Self {
        self.interval_seconds = seconds.max(1);
        self
    }

    /// Sets the most timestamps a data query returns.
    pub fn with_data_response_cap(mut self, cap: usize) -> Self {
        self.data_response_cap = cap.max(1);
        self
    }
}

#[derive(Debug, Clone)]
struct DataSourceEntry {
    id: String,
    itwin: String,
    bucket_id: String,
    bucket_name: String,
    connection_id: String,
}

#[derive(Debug, Clone)]
struct SensorEntry {
    id: String,
    itwin: String,
    datasource: Option<String>,
    bucket_id: Option<String>,
    generated: bool,
    /// `(device refId, sensor refId)` of a sensor created by an integration.
    refs: Option<(String, String)>,
    props: Map<String, Value>,
}

#[derive(Debug)]
struct World {
    datasources: Vec<DataSourceEntry>,
    sensors: Vec<SensorEntry>,
    store: Store,
    next_id: u64,
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    without_accept: AtomicU64,
    observation_pages: AtomicU64,
    observations_served: AtomicU64,
    data_queries: AtomicU64,
    uploads: AtomicU64,
    uploaded_observations: AtomicU64,
    throttled: AtomicU64,
    /// Requests inside the configured delay now, and the most there ever were.
    in_delay: InFlight,
}

#[derive(Debug)]
struct Shared {
    config: Config,
    base: String,
    issuer: Issuer,
    faults: Mutex<Faults>,
    world: Mutex<World>,
    counters: Counters,
    window: Mutex<(Option<Instant>, u32)>,
    resets: Resets,
}

/// A running Sensor Data simulator. Dropping it stops it.
#[derive(Debug)]
pub struct Sandbox {
    running: Running,
    shared: Arc<Shared>,
}

use crate::server::lock;

impl Sandbox {
    /// Starts the simulator on `127.0.0.1` with a free port.
    pub async fn start(config: Config) -> std::io::Result<Sandbox> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let resets = Resets::default();
        resets.set(config.faults.reset_connections);
        let mut datasources = Vec::new();
        let mut sensors = Vec::new();
        for itwin in &config.itwins {
            for ds in &itwin.datasources {
                datasources.push(DataSourceEntry {
                    id: ds.id.clone(),
                    itwin: itwin.id.clone(),
                    bucket_id: ds.bucket_id.clone(),
                    bucket_name: ds.bucket_name.clone(),
                    connection_id: ds.connection_id.clone(),
                });
                for id in &ds.sensors {
                    sensors.push(SensorEntry {
                        id: id.clone(),
                        itwin: itwin.id.clone(),
                        datasource: Some(ds.id.clone()),
                        bucket_id: Some(ds.bucket_id.clone()),
                        generated: true,
                        refs: None,
                        props: Map::new(),
                    });
                }
            }
        }
        let store = Store::new(
            config.interval_seconds,
            config.data_start.as_millisecond(),
            config.data_end.as_millisecond(),
        );
        let shared = Arc::new(Shared {
            base: format!("http://{address}"),
            issuer: Issuer::default(),
            faults: Mutex::new(config.faults.clone()),
            world: Mutex::new(World {
                datasources,
                sensors,
                store,
                next_id: 1,
            }),
            counters: Counters::default(),
            window: Mutex::new((None, 0)),
            resets: resets.clone(),
            config,
        });
        let router = Router::new()
            .route("/connect/token", post(token))
            .route(
                "/sensor-data/datasources",
                get(list_datasources).post(create_datasource),
            )
            .route(
                "/sensor-data/datasources/{id}",
                get(get_datasource)
                    .put(update_datasource)
                    .delete(delete_datasource),
            )
            .route("/sensor-data/sensors", get(list_sensors))
            .route("/sensor-data/observations", get(observations))
            .route("/sensor-data/integrations/nodes", get(nodes))
            .route("/sensor-data/integrations/integrate", post(integrate))
            .route("/sensor-data/data/upload", post(upload))
            .route(
                "/sensor-data/data/observations",
                post(query_data).delete(remove_data),
            )
            .with_state(shared.clone());
        Ok(Sandbox {
            running: serve_listener(listener, router, resets)?,
            shared,
        })
    }

    /// `SDS_BASE_URL`: `http://127.0.0.1:PORT/sensor-data/`.
    pub fn base_url(&self) -> String {
        format!("http://{}/sensor-data/", self.running.address)
    }

    /// `SDS_TOKEN_URL`: `http://127.0.0.1:PORT/connect/token`.
    pub fn token_url(&self) -> String {
        format!("http://{}/connect/token", self.running.address)
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// The variables that point a client (or an example) at this simulator, with the
    /// client secret.
    pub fn env_vars(&self) -> Vec<(&'static str, String)> {
        let registration = &self.shared.config.registration;
        vec![
            ("SDS_BASE_URL", self.base_url()),
            ("SDS_TOKEN_URL", self.token_url()),
            ("SDS_SCOPE", registration.scope.clone()),
            ("SDS_CLIENT_ID", registration.client_id.clone()),
            (
                "SDS_CLIENT_SECRET",
                registration.client_secret.clone().unwrap_or_default(),
            ),
        ]
    }

    /// Token requests received.
    pub fn token_requests(&self) -> u64 {
        self.shared.issuer.token_requests.load(Ordering::SeqCst)
    }

    /// API requests received (refused ones included).
    pub fn requests(&self) -> u64 {
        self.shared.counters.requests.load(Ordering::SeqCst)
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

    /// API requests whose `Accept` did not name the iTwin Platform's media type.
    pub fn requests_without_accept(&self) -> u64 {
        self.shared.counters.without_accept.load(Ordering::SeqCst)
    }

    /// Observation pages served.
    pub fn observation_pages(&self) -> u64 {
        self.shared.counters.observation_pages.load(Ordering::SeqCst)
    }

    /// Observations served in pages.
    pub fn observations_served(&self) -> u64 {
        self.shared.counters.observations_served.load(Ordering::SeqCst)
    }

    /// Data queries answered.
    pub fn data_queries(&self) -> u64 {
        self.shared.counters.data_queries.load(Ordering::SeqCst)
    }

    /// Upload requests accepted.
    pub fn uploads(&self) -> u64 {
        self.shared.counters.uploads.load(Ordering::SeqCst)
    }

    /// Observations accepted by uploads.
    pub fn uploaded_observations(&self) -> u64 {
        self.shared.counters.uploaded_observations.load(Ordering::SeqCst)
    }

    /// Requests answered 429 by the rate limit.
    pub fn throttled(&self) -> u64 {
        self.shared.counters.throttled.load(Ordering::SeqCst)
    }

    /// The truth tests compare against: `(epoch ms, value)` of every observation of
    /// `metric` in `unit` of `sensor` in `[from, to)`, uploads and removals applied.
    pub fn observations_in(
        &self,
        sensor: &str,
        metric: &str,
        unit: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> Vec<(i64, f64)> {
        let config = &self.shared.config;
        let Some(unit) = config
            .metrics
            .iter()
            .find(|m| m.metric == metric)
            .and_then(|m| m.units.iter().find(|u| u.unit == unit))
        else {
            return Vec::new();
        };
        let world = lock(&self.shared.world);
        let generated = world
            .sensors
            .iter()
            .find(|s| s.id == sensor)
            .is_some_and(|s| s.generated);
        let metrics = generated.then_some(config.metrics.as_slice());
        world
            .store
            .rows(sensor, metrics, from.as_millisecond(), to.as_millisecond() - 1)
            .filter_map(|(at, row)| row.get(metric).map(|v| (at, convert(*v, unit))))
            .collect()
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
}

async fn token(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let token_url = format!("{}/connect/token", shared.base);
    shared
        .issuer
        .token(&shared.config.registration, &token_url, &form)
}
