//! The Preventos Data API with its Entra-like token endpoint.
//!
//! - `POST /{tenant}/oauth2/v2.0/token`: client credentials with the registered secret or
//!   a certificate assertion (signature, `x5t#S256`, `aud`, `exp` checked); expiring tokens.
//! - `/api/`: `version`, `data-catalog`, and the site- and signal-level values endpoints,
//!   each checking the bearer token and `Ocp-Apim-Subscription-Key` (401 otherwise).
//! - Values in JSON (`{"meta","values"}` or a bare array with `meta=false`), NDJSON and
//!   CSV (wide, `;` and decimal comma with `csvPreset=finnish`), generated lazily and
//!   deterministically while the body streams, in the `tzi` offset.
//! - The budget: `ceil(range / baseInterval) * dbQueryCount` over 44,640 is a 413
//!   `request_too_large` with a recommended range; a signal without `baseInterval` in a
//!   bounded request is a 413 `request_size_unavailable`.
//! - Dates: `date` is a local day in `tzi`; `from`/`to` are half-open by default (see
//!   [`Readings`]), date-only `to` is the end of that day; one end only (or none) is a
//!   partial read limited by `take` (clamped to 10,000).
//! - Late data: [`Sandbox::hold_back_from`] keeps records after an instant out of
//!   every values body until they are released.
//! - Counters: requests, records and bytes served, and the most values requests inside
//!   the configured delay at once ([`Sandbox::peak_concurrent_requests`]).
//! - For benchmarks, [`Config::cache_bodies`] keeps each body once rendered, so that a
//!   timed run is served prepared bytes.
//! - What the document leaves open is a switch in [`Config::readings`]: inclusive or
//!   exclusive ends, records by time or by signal, extra fields, timestamp and number
//!   text, the end of a 413's recommended range, JSON values as a bare array
//!   whatever `meta` says, and CRLF lines
//!   (NDJSON without a final line break).
//! - [`Config::root_application`]: the catalog of a root-level application must be
//!   filtered with `?environments=` (the document's rule); unfiltered, it is a 400.

// Handlers bail out with the response to send; its size does not matter here.
#![allow(clippy::result_large_err)]

mod answers;
mod auth;
mod cache;
mod catalog;
mod dates;
mod generate;
mod plan;
mod readings;
mod series;
mod stream;
mod values;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::{get, post};
use tokio::time::Duration;

use crate::entra::{Issuer, Registration};
use crate::faults::Faults;
use crate::in_flight::InFlight;
use crate::server::{Resets, Running, lock};
use cache::BodyCache;
pub use readings::{NumberStyle, Readings, TimestampStyle};

/// The default budget of estimated raw DB points.
pub const DEFAULT_BUDGET: u64 = 44_640;

/// A simulated signal.
#[derive(Debug, Clone)]
pub struct SignalSpec {
    /// Signal id.
    pub id: String,
    /// Unit.
    pub unit: String,
    /// Base interval in seconds; `None` for a signal without one.
    pub interval_seconds: Option<i64>,
    /// The raw DB query it is computed from (signals may share one).
    pub db_query: String,
}

/// A simulated site.
#[derive(Debug, Clone)]
pub struct SiteSpec {
    /// Environment id.
    pub env: String,
    /// Site id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Signals.
    pub signals: Vec<SignalSpec>,
}

/// What the simulator serves and accepts.
///
/// # Defaults
///
/// [`Config::default`] accepts these credentials ([`Sandbox::env_vars`] gives them as a
/// client's variables):
///
/// | what | variable | default |
/// |---|---|---|
/// | Data API | `DATA_API_BASE_URL` | `http://127.0.0.1:PORT/api/` |
/// | tenant | `DATA_API_TENANT_ID` | `sandbox-tenant` |
/// | authority | `DATA_API_AUTHORITY` | `http://127.0.0.1:PORT/sandbox-tenant/` (tokens from `oauth2/v2.0/token` under it) |
/// | client id | `DATA_API_CLIENT_ID` | `sandbox-client` |
/// | client secret | `DATA_API_CLIENT_SECRET` | `sandbox-secret` (no certificate unless [`Config::with_certificate`]) |
/// | scope | `DATA_API_SCOPE` | `api://preventos-sandbox/.default` |
/// | `Ocp-Apim-Subscription-Key` | `DATA_API_SUBSCRIPTION_KEY` | `sandbox-subscription-key` |
///
/// Tokens are opaque (`sandbox-token-` and 32 hex digits) and live 3,600 seconds.
///
/// It serves three sites in two environments:
///
/// | environment | site | name | signal | unit | `baseInterval` | raw DB query |
/// |---|---|---|---|---|---|---|
/// | `100` | `site-ref` | Reference site | `Velocity` | `m/s` | PT1M | `q-velocity` |
/// | `100` | `site-ref` | Reference site | `Depth` | `m` | PT1M | `q-level` |
/// | `100` | `site-ref` | Reference site | `Flow` | `l/s` | PT1M | `q-level` |
/// | `100` | `site-ref` | Reference site | `Temperature` | `°C` | PT10M | `q-temperature` |
/// | `100` | `site-east` | East pumping station | `Level` | `m` | PT5M | `q-east-level` |
/// | `100` | `site-east` | East pumping station | `Pump` | `state` | none | `q-pump` |
/// | `102` | `site-south` | South basin | `Velocity` | `m/s` | PT1M | `q-south-velocity` |
///
/// Values exist at any time, at each multiple of the signal's interval since the epoch
/// (`Pump`, without one, takes the finest interval of the request, one minute alone):
/// deterministic per signal id and second, with three decimals, from -20.000 to 79.999.
/// The catalog gives every signal the range from `2024-01-01T00:00:00Z` on, and names
/// each `dbQuery`. The budget is [`DEFAULT_BUDGET`] (44,640) raw DB points, that is 31
/// days of one one-minute query; no faults; [`Readings::default`]; `tzi` defaults to
/// UTC; a non-root application (an unfiltered catalog is served); no body cache.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// Tenant id (the token path is `/{tenant}/oauth2/v2.0/token`).
    pub tenant: String,
    /// Who may get tokens.
    pub registration: Registration,
    /// The accepted APIM key.
    pub subscription_key: String,
    /// The sites.
    pub sites: Vec<SiteSpec>,
    /// The raw-DB-point budget.
    pub budget: u64,
    /// Whether the catalog names each signal's DB query (`dbQuery`).
    pub catalog_db_queries: bool,
    /// Fault settings of the values endpoints.
    pub faults: Faults,
    /// How what the document leaves open is played.
    pub readings: Readings,
    /// The application has root-level permission: the document says it must filter
    /// the catalog (`?environments=100,102`), so an unfiltered catalog request is a
    /// 400 `environment_filter_required` (default: not root, every environment).
    pub root_application: bool,
    /// Keep each values body once rendered, and answer the same request again with the
    /// stored bytes (default: off, every body generated while it is sent). For
    /// benchmarks: warm the cache with an untimed run, and serving then costs next to
    /// nothing, so what is timed is the client and the configured latency. A cached body
    /// is the generated one byte for byte (every reading played the same; faults apply
    /// as to a generated one; the counters count it as sent); the memory is that of every
    /// distinct body asked for (a year of two PT1M signals in NDJSON: about 81 MB).
    pub cache_bodies: bool,
}

fn signal(id: &str, unit: &str, interval: Option<i64>, query: &str) -> SignalSpec {
    SignalSpec {
        id: id.into(),
        unit: unit.into(),
        interval_seconds: interval,
        db_query: query.into(),
    }
}

impl Default for Config {
    /// Tenant `sandbox-tenant`, client `sandbox-client` with secret `sandbox-secret`,
    /// key `sandbox-subscription-key`, scope `api://preventos-sandbox/.default`, tokens
    /// for one hour. Environment 100 has `site-ref` (Velocity, Depth and Flow at PT1M,
    /// Depth and Flow from one raw query; Temperature at PT10M) and `site-east` (Level at
    /// PT5M; Pump without a base interval); environment 102 has `site-south` (Velocity).
    fn default() -> Self {
        Config {
            tenant: "sandbox-tenant".into(),
            registration: Registration {
                client_id: "sandbox-client".into(),
                client_secret: Some("sandbox-secret".into()),
                certificate_der: None,
                scope: "api://preventos-sandbox/.default".into(),
                token_lifetime: Duration::from_secs(3600),
            },
            subscription_key: "sandbox-subscription-key".into(),
            sites: vec![
                SiteSpec {
                    env: "100".into(),
                    id: "site-ref".into(),
                    name: "Reference site".into(),
                    signals: vec![
                        signal("Velocity", "m/s", Some(60), "q-velocity"),
                        signal("Depth", "m", Some(60), "q-level"),
                        signal("Flow", "l/s", Some(60), "q-level"),
                        signal("Temperature", "°C", Some(600), "q-temperature"),
                    ],
                },
                SiteSpec {
                    env: "100".into(),
                    id: "site-east".into(),
                    name: "East pumping station".into(),
                    signals: vec![
                        signal("Level", "m", Some(300), "q-east-level"),
                        signal("Pump", "state", None, "q-pump"),
                    ],
                },
                SiteSpec {
                    env: "102".into(),
                    id: "site-south".into(),
                    name: "South basin".into(),
                    signals: vec![signal("Velocity", "m/s", Some(60), "q-south-velocity")],
                },
            ],
            budget: DEFAULT_BUDGET,
            catalog_db_queries: true,
            faults: Faults::none(),
            readings: Readings::default(),
            root_application: false,
            cache_bodies: false,
        }
    }
}

impl Config {
    /// Registers a certificate (DER) for assertion-based client authentication.
    pub fn with_certificate(mut self, der: Vec<u8>) -> Self {
        self.registration.certificate_der = Some(der);
        self
    }

    /// Sets the token lifetime.
    pub fn with_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.registration.token_lifetime = lifetime;
        self
    }

    /// Sets the faults.
    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Sets the readings of what the document leaves open.
    pub fn with_readings(mut self, readings: Readings) -> Self {
        self.readings = readings;
        self
    }

    /// Sets the raw-DB-point budget.
    pub fn with_budget(mut self, budget: u64) -> Self {
        self.budget = budget;
        self
    }

    /// Plays a root-level application, whose catalog must be filtered with
    /// `?environments=` (see [`Config::root_application`]).
    pub fn with_root_application(mut self, root: bool) -> Self {
        self.root_application = root;
        self
    }

    /// Keeps values bodies once rendered (see [`Config::cache_bodies`]).
    pub fn with_body_cache(mut self, cache: bool) -> Self {
        self.cache_bodies = cache;
        self
    }

    /// Sets whether the catalog names DB queries.
    pub fn with_catalog_db_queries(mut self, named: bool) -> Self {
        self.catalog_db_queries = named;
        self
    }
}

#[derive(Debug)]
struct Shared {
    config: Config,
    issuer: Issuer,
    faults: Mutex<Faults>,
    base: String,
    requests: AtomicU64,
    values_requests: AtomicU64,
    records_served: AtomicU64,
    bytes_served: AtomicU64,
    resets: Resets,
    token_endpoint_down: AtomicBool,
    /// Records at or after this second have not arrived yet ([`Sandbox::hold_back_from`]).
    held_back_from: Mutex<Option<i64>>,
    /// Values requests being answered ([`Sandbox::peak_concurrent_requests`]).
    in_flight: InFlight,
    /// Bodies rendered, with [`Config::cache_bodies`].
    bodies: BodyCache,
}

/// A running Preventos simulator. Dropping it stops it.
#[derive(Debug)]
pub struct Sandbox {
    running: Running,
    shared: Arc<Shared>,
}

impl Sandbox {
    /// Starts the simulator on `127.0.0.1` with a free port.
    pub async fn start(config: Config) -> std::io::Result<Sandbox> {
        // The address is needed inside the handlers (assertion `aud`), so bind first.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let resets = Resets::default();
        resets.set(config.faults.reset_connections);
        let shared = Arc::new(Shared {
            resets: resets.clone(),
            token_endpoint_down: AtomicBool::new(false),
            held_back_from: Mutex::new(None),
            in_flight: InFlight::default(),
            bodies: BodyCache::default(),
            faults: Mutex::new(config.faults.clone()),
            base: format!("http://{address}"),
            config,
            issuer: Issuer::default(),
            requests: AtomicU64::new(0),
            values_requests: AtomicU64::new(0),
            records_served: AtomicU64::new(0),
            bytes_served: AtomicU64::new(0),
        });
        let router = Router::new()
            .route("/{tenant}/oauth2/v2.0/token", post(auth::token))
            .route("/api/version", get(catalog::version))
            .route("/api/data-catalog", get(catalog::catalog))
            .route(
                "/api/environments/{env}/sites/{site}/values",
                get(values::site_values),
            )
            .route(
                "/api/environments/{env}/sites/{site}/signals/{signal}/values",
                get(values::signal_values),
            )
            .with_state(shared.clone());
        let running = crate::server::serve_listener(listener, router, resets)?;
        Ok(Sandbox { running, shared })
    }

    /// `DATA_API_BASE_URL`: `http://127.0.0.1:PORT/api/`.
    pub fn base_url(&self) -> String {
        format!("http://{}/api/", self.running.address)
    }

    /// `DATA_API_AUTHORITY`: `http://127.0.0.1:PORT/{tenant}/`.
    pub fn authority(&self) -> String {
        format!("http://{}/{}/", self.running.address, self.shared.config.tenant)
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// The variables that point a client (or the daemon) at this simulator, with the
    /// client secret.
    pub fn env_vars(&self) -> Vec<(&'static str, String)> {
        let config = &self.shared.config;
        vec![
            ("DATA_API_TENANT_ID", config.tenant.clone()),
            ("DATA_API_AUTHORITY", self.authority()),
            ("DATA_API_BASE_URL", self.base_url()),
            ("DATA_API_SCOPE", config.registration.scope.clone()),
            ("DATA_API_CLIENT_ID", config.registration.client_id.clone()),
            (
                "DATA_API_CLIENT_SECRET",
                config.registration.client_secret.clone().unwrap_or_default(),
            ),
            ("DATA_API_SUBSCRIPTION_KEY", config.subscription_key.clone()),
        ]
    }

    /// Token requests received.
    pub fn token_requests(&self) -> u64 {
        self.shared.issuer.token_requests.load(Ordering::SeqCst)
    }

    /// Data API requests received (refused ones included).
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// Values requests received.
    pub fn values_requests(&self) -> u64 {
        self.shared.values_requests.load(Ordering::SeqCst)
    }

    /// Records generated into values responses.
    pub fn records_served(&self) -> u64 {
        self.shared.records_served.load(Ordering::SeqCst)
    }

    /// Bytes of values bodies generated (before any cut).
    pub fn bytes_served(&self) -> u64 {
        self.shared.bytes_served.load(Ordering::SeqCst)
    }

    /// The most values requests that were waiting out the configured delay
    /// ([`Faults::delay`]) at the same time: how many a client had in flight at once.
    pub fn peak_concurrent_requests(&self) -> u64 {
        self.shared.in_flight.peak()
    }

    /// Values bodies stored by the body cache ([`Config::cache_bodies`]); 0 without it.
    pub fn cached_bodies(&self) -> usize {
        self.shared.bodies.len()
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

    /// Late data: records at or after `from` have not reached the API yet (a buffering
    /// gateway), so values bodies end before them; `None` (the default) delivers them
    /// all. A day fetched while its records are held back, fetched again after, has
    /// more records: what a daemon must pick up by fetching recent days again.
    pub fn hold_back_from(&self, from: Option<jiff::Timestamp>) {
        *lock(&self.shared.held_back_from) = from.map(|t| t.as_second());
    }

    /// Makes the token endpoint answer 503 (or work again): tokens already issued stay
    /// valid.
    pub fn set_token_endpoint_down(&self, down: bool) {
        self.shared.token_endpoint_down.store(down, Ordering::SeqCst);
    }
}
