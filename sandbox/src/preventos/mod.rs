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
//! - What the document leaves open is a switch in [`Config::readings`]: inclusive or
//!   exclusive ends, records by time or by signal, extra fields, timestamp and number
//!   text, and the end of a 413's recommended range.

// Handlers bail out with the response to send; its size does not matter here.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use bytes::Bytes;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use tokio::time::Duration;

use crate::entra::{Issuer, Registration};
use crate::faults::Faults;
pub use crate::preventos_readings::{NumberStyle, Readings, TimestampStyle};
use crate::server::{Resets, Running, error, lock};

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
            .route("/{tenant}/oauth2/v2.0/token", post(token))
            .route("/api/version", get(version))
            .route("/api/data-catalog", get(catalog))
            .route("/api/environments/{env}/sites/{site}/values", get(site_values))
            .route(
                "/api/environments/{env}/sites/{site}/signals/{signal}/values",
                get(signal_values),
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

    /// Connection resets still to come (see [`Faults::reset_connections`]).
    pub fn pending_resets(&self) -> u32 {
        self.shared.resets.pending()
    }

    /// Replaces the fault settings.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.resets.set(faults.reset_connections);
        *lock(&self.shared.faults) = faults;
    }

    /// Makes the token endpoint answer 503 (or work again): tokens already issued stay
    /// valid.
    pub fn set_token_endpoint_down(&self, down: bool) {
        self.shared.token_endpoint_down.store(down, Ordering::SeqCst);
    }
}

async fn token(State(shared): State<Arc<Shared>>, Path(tenant): Path<String>, body: Bytes) -> Response {
    if shared.token_endpoint_down.load(Ordering::SeqCst) {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"error": "temporarily_unavailable", "error_description": "sandbox fault: token endpoint down"}),
        );
    }
    if tenant != shared.config.tenant {
        return error(
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid_request", "error_description": "unknown tenant"}),
        );
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let token_url = format!("{}/{tenant}/oauth2/v2.0/token", shared.base);
    shared
        .issuer
        .token(&shared.config.registration, &token_url, &form)
}

fn api_error(status: StatusCode, code: &str, message: &str) -> Response {
    error(status, json!({"error": code, "message": message}))
}

/// Checks the bearer token and the subscription key.
fn authorize(shared: &Shared, headers: &HeaderMap) -> Result<(), Response> {
    shared.requests.fetch_add(1, Ordering::SeqCst);
    let key_ok = headers
        .get("ocp-apim-subscription-key")
        .is_some_and(|v| v.as_bytes() == shared.config.subscription_key.as_bytes());
    if !key_ok {
        return Err(api_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or invalid subscription key",
        ));
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !token.is_some_and(|t| shared.issuer.is_valid(t)) {
        return Err(api_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing, invalid or expired token",
        ));
    }
    Ok(())
}

async fn version(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Err(refused) = authorize(&shared, &headers) {
        return refused;
    }
    json_response(json!({"version": "sandbox-1", "api": "preventos-data"}))
}

fn json_response(value: Value) -> Response {
    let mut response = Response::new(Body::from(value.to_string()));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
        .headers_mut()
        .insert("x-correlation-id", HeaderValue::from(fastish_id()));
    response
}

fn fastish_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

async fn catalog(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = authorize(&shared, &headers) {
        return refused;
    }
    let filter: Option<BTreeSet<String>> = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "environments")
        .map(|(_, v)| v.split(',').map(str::to_owned).collect());
    let mut environments: Vec<Value> = Vec::new();
    let mut env_ids: Vec<&str> = shared.config.sites.iter().map(|s| s.env.as_str()).collect();
    env_ids.dedup();
    for env in env_ids {
        if filter.as_ref().is_some_and(|f| !f.contains(env)) {
            continue;
        }
        let sites: Vec<Value> = shared
            .config
            .sites
            .iter()
            .filter(|s| s.env == env)
            .map(|site| {
                let ids: Vec<&str> = site.signals.iter().map(|s| s.id.as_str()).collect();
                let signals: Vec<Value> = site
                    .signals
                    .iter()
                    .map(|s| {
                        let mut signal = json!({
                            "id": s.id,
                            "displayName": s.id,
                            "unit": s.unit,
                            "baseInterval": s.interval_seconds.map(|i| SignedDuration::from_secs(i).to_string()),
                            "valuesUrl": format!("environments/{env}/sites/{}/signals/{}/values", site.id, s.id),
                            "ranges": [{"from": "2024-01-01T00:00:00Z", "to": null}],
                        });
                        if shared.config.catalog_db_queries {
                            signal["dbQuery"] = json!(s.db_query);
                        }
                        signal
                    })
                    .collect();
                json!({
                    "id": site.id,
                    "name": site.name,
                    "valuesUrl": format!("environments/{env}/sites/{}/values?signalIds={}", site.id, ids.join(",")),
                    "signals": signals,
                })
            })
            .collect();
        environments.push(json!({"id": env, "name": format!("Environment {env}"), "sites": sites}));
    }
    json_response(json!({
        "environments": environments,
        "limits": {"maxRawDbPoints": shared.config.budget, "referenceInterval": "PT1M", "referenceRange": "P31D"},
    }))
}

async fn site_values(
    State(shared): State<Arc<Shared>>,
    Path((env, site)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    values(shared, env, site, None, query.unwrap_or_default(), headers).await
}

async fn signal_values(
    State(shared): State<Arc<Shared>>,
    Path((env, site, signal)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    values(
        shared,
        env,
        site,
        Some(signal),
        query.unwrap_or_default(),
        headers,
    )
    .await
}

async fn values(
    shared: Arc<Shared>,
    env: String,
    site_id: String,
    route_signal: Option<String>,
    query: String,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = authorize(&shared, &headers) {
        return refused;
    }
    let number = shared.values_requests.fetch_add(1, Ordering::SeqCst) + 1;
    let faults = lock(&shared.faults).clone();
    if let Some(failure) = faults
        .apply(number, |status| {
            api_error(status, "sandbox_fault", "sandbox fault")
        })
        .await
    {
        return failure;
    }
    let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let plan = match plan_values(&shared.config, &env, &site_id, route_signal, &params, &headers) {
        Ok(plan) => plan,
        Err(refused) => return refused,
    };
    let mut response = Response::new(Body::from_stream(body_stream(
        plan,
        faults.cut_body_after,
        shared.clone(),
    )));
    let content_type = match params.get("format").map(String::as_str) {
        Some("csv") => "text/csv; charset=utf-8",
        Some("json") => "application/json",
        _ => "application/x-ndjson",
    };
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
        .headers_mut()
        .insert("x-correlation-id", HeaderValue::from(fastish_id()));
    response
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum OutFormat {
    Json { meta: bool },
    Ndjson,
    Csv { delimiter: char, decimal_comma: bool },
}

#[derive(Debug)]
struct ValuesPlan {
    signals: Vec<(String, i64, u64)>,
    step: i64,
    start: i64,
    end: i64,
    take: Option<u64>,
    tz: TimeZone,
    format: OutFormat,
    meta: Value,
    readings: Readings,
}

fn bad(message: impl Into<String>) -> Response {
    api_error(StatusCode::BAD_REQUEST, "bad_request", &message.into())
}

/// Applies the API's rules to a values request.
fn plan_values(
    config: &Config,
    env: &str,
    site_id: &str,
    route_signal: Option<String>,
    params: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<ValuesPlan, Response> {
    let site = config
        .sites
        .iter()
        .find(|s| s.env == env && s.id == site_id)
        .ok_or_else(|| bad(format!("unknown environment or site `{env}/{site_id}`")))?;
    let ids: Vec<String> = match route_signal {
        Some(signal) => vec![signal],
        None => params
            .get("signalIds")
            .map(|ids| {
                ids.split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
    };
    if ids.is_empty() {
        return Err(bad("signalIds is required"));
    }
    let mut signals = Vec::new();
    for id in &ids {
        let spec = site
            .signals
            .iter()
            .find(|s| &s.id == id)
            .ok_or_else(|| bad(format!("unknown signal `{id}`")))?;
        signals.push(spec.clone());
    }
    let format = match params.get("format").map(String::as_str) {
        Some(name) => name.to_owned(),
        None => {
            let accept = headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/json");
            if accept.contains("ndjson") {
                "ndjson".into()
            } else if accept.contains("csv") {
                "csv".into()
            } else if accept.contains("json") || accept.contains("*/*") {
                "json".into()
            } else {
                return Err(api_error(
                    StatusCode::NOT_ACCEPTABLE,
                    "not_acceptable",
                    "unsupported Accept",
                ));
            }
        }
    };
    let finnish = params.get("csvPreset").map(String::as_str) == Some("finnish");
    let format = match format.as_str() {
        "json" => OutFormat::Json {
            meta: params.get("meta").map(String::as_str) != Some("false"),
        },
        "ndjson" => OutFormat::Ndjson,
        "csv" => OutFormat::Csv {
            delimiter: if finnish { ';' } else { ',' },
            decimal_comma: finnish,
        },
        other => {
            return Err(api_error(
                StatusCode::NOT_ACCEPTABLE,
                "not_acceptable",
                &format!("unsupported format `{other}`"),
            ));
        }
    };
    let tz = match params.get("tzi") {
        Some(name) => TimeZone::get(name).map_err(|_| bad(format!("unknown time zone `{name}`")))?,
        None => TimeZone::UTC,
    };
    let take = match params.get("take") {
        Some(text) => Some(
            text.parse::<u64>()
                .map_err(|_| bad("take must be a number"))?
                .min(10_000),
        ),
        None => None,
    };
    let date = params.get("date");
    let (from, to) = (params.get("from"), params.get("to"));
    if date.is_some() && (from.is_some() || to.is_some()) {
        return Err(bad("date cannot be combined with from/to"));
    }
    let finest = signals.iter().filter_map(|s| s.interval_seconds).min();
    let step = finest.unwrap_or(60);
    let now = Timestamp::now().as_second();
    let (start, end, bounded) = match (date, from, to) {
        (Some(date), _, _) => {
            let (start, end) = day_bounds(date, &tz).ok_or_else(|| bad(format!("invalid date `{date}`")))?;
            (start, end, true)
        }
        (None, Some(from), Some(to)) => {
            let start = bound(from, &tz, false).ok_or_else(|| bad(format!("invalid from `{from}`")))?;
            let end = bound(to, &tz, true).ok_or_else(|| bad(format!("invalid to `{to}`")))?;
            if end <= start {
                return Err(bad("to must be after from"));
            }
            let (first, past_last) = config.readings.explicit_bounds(start, end);
            (first, past_last, true)
        }
        (None, from, to) => {
            let span = step * take.unwrap_or(10_000) as i64;
            match (from, to) {
                (Some(from), None) => {
                    let start = bound(from, &tz, false).ok_or_else(|| bad("invalid from"))?;
                    (start, start + span, false)
                }
                (None, Some(to)) => {
                    let end = bound(to, &tz, true).ok_or_else(|| bad("invalid to"))?;
                    (end - span, end, false)
                }
                _ => (now - span, now, false),
            }
        }
    };
    if bounded {
        if let Some(missing) = signals.iter().find(|s| s.interval_seconds.is_none()) {
            return Err(api_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request_size_unavailable",
                &format!("signal `{}` has no baseInterval", missing.id),
            ));
        }
        let queries: BTreeSet<&str> = signals.iter().map(|s| s.db_query.as_str()).collect();
        let count = queries.len() as u64;
        let estimated = ((end - start) as u64).div_ceil(step as u64) * count;
        if estimated > config.budget {
            let longest = (config.budget / count) as i64 * step;
            let show = |t: i64| format_time(t, &tz);
            let recommended_to = if config.readings.recommended_to_inclusive {
                start + longest - step
            } else {
                start + longest
            };
            return Err(error(
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({
                    "error": "request_too_large",
                    "message": "the estimated raw DB points exceed the budget; request a smaller range",
                    "estimatedRawDbPoints": estimated,
                    "maxRawDbPoints": config.budget,
                    "dbQueryCount": count,
                    "recommendedRange": {"from": show(start), "to": show(recommended_to)},
                }),
            ));
        }
    }
    let meta = json!({
        "environment": env, "site": site_id, "signals": ids,
        "from": format_time(start, &tz), "to": format_time(end, &tz),
        "tzi": tz.iana_name().unwrap_or("UTC"),
    });
    let signals = signals
        .iter()
        .map(|s| (s.id.clone(), s.interval_seconds.unwrap_or(step), seed(&s.id)))
        .collect();
    Ok(ValuesPlan {
        signals,
        step,
        start,
        end,
        take,
        tz,
        format,
        meta,
        readings: config.readings,
    })
}

fn day_bounds(date: &str, tz: &TimeZone) -> Option<(i64, i64)> {
    let date: jiff::civil::Date = date.parse().ok()?;
    let start = date.to_zoned(tz.clone()).ok()?.start_of_day().ok()?;
    let end = date
        .tomorrow()
        .ok()?
        .to_zoned(tz.clone())
        .ok()?
        .start_of_day()
        .ok()?;
    Some((start.timestamp().as_second(), end.timestamp().as_second()))
}

/// A `from`/`to` value: date-only (start of the day, or the end of it for `to`),
/// date-time with offset, or local date-time in `tz`.
fn bound(text: &str, tz: &TimeZone, is_end: bool) -> Option<i64> {
    if text.len() == 10 && text.parse::<jiff::civil::Date>().is_ok() {
        let (start, end) = day_bounds(text, tz)?;
        return Some(if is_end { end } else { start });
    }
    if let Ok(t) = text.parse::<Timestamp>() {
        return Some(t.as_second());
    }
    let local: jiff::civil::DateTime = text.parse().ok()?;
    Some(local.to_zoned(tz.clone()).ok()?.timestamp().as_second())
}

fn format_time(t: i64, tz: &TimeZone) -> String {
    Timestamp::from_second(t)
        .map(|ts| {
            ts.to_zoned(tz.clone())
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string()
        })
        .unwrap_or_default()
}

fn seed(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// A deterministic value with three decimals.
fn value_at(seed: u64, t: i64) -> f64 {
    let mixed = (seed ^ (t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    // Integer thousandths divided once: the f64 prints as the short decimal it stands for.
    (((mixed >> 44) % 100_000) as i64 - 20_000) as f64 / 1000.0
}

/// The body, made as it is sent: one ~64 KiB chunk at a time.
fn body_stream(
    plan: ValuesPlan,
    cut_after: Option<usize>,
    shared: Arc<Shared>,
) -> impl futures::Stream<Item = Result<Bytes, std::io::Error>> + Send {
    let t = first_multiple(plan.start, plan.step);
    let mut generator = Generator {
        plan,
        t,
        signal: 0,
        started: false,
        finished: false,
        emitted: 0,
        first_record: true,
    };
    let mut sent = 0usize;
    // After a cut: 1 = yield once so hyper flushes what was sent, 2 = fail the body.
    let mut cut = 0u8;
    futures::stream::poll_fn(move |cx| {
        match cut {
            1 => {
                cut = 2;
                cx.waker().wake_by_ref();
                return std::task::Poll::Pending;
            }
            2 => return std::task::Poll::Ready(Some(Err(std::io::Error::other("sandbox fault: body cut")))),
            _ => {}
        }
        let Some((chunk, records)) = generator.next_chunk() else {
            return std::task::Poll::Ready(None);
        };
        shared.records_served.fetch_add(records, Ordering::Relaxed);
        shared
            .bytes_served
            .fetch_add(chunk.len() as u64, Ordering::Relaxed);
        if let Some(limit) = cut_after {
            if sent + chunk.len() > limit {
                cut = 1;
                let head = chunk.slice(..limit.saturating_sub(sent));
                if head.is_empty() {
                    return std::task::Poll::Ready(Some(Err(std::io::Error::other(
                        "sandbox fault: body cut",
                    ))));
                }
                sent = limit;
                return std::task::Poll::Ready(Some(Ok(head)));
            }
        }
        sent += chunk.len();
        std::task::Poll::Ready(Some(Ok(chunk)))
    })
}

struct Generator {
    plan: ValuesPlan,
    t: i64,
    /// The signal being written, when records go by signal, then time.
    signal: usize,
    started: bool,
    finished: bool,
    emitted: u64,
    first_record: bool,
}

/// The first multiple of `step` at or after `t`.
fn first_multiple(t: i64, step: i64) -> i64 {
    let m = t.div_euclid(step) * step;
    if m < t { m + step } else { m }
}

impl Generator {
    fn next_chunk(&mut self) -> Option<(Bytes, u64)> {
        use std::fmt::Write;
        if self.finished {
            return None;
        }
        let mut out = String::with_capacity(70 * 1024);
        let mut records = 0u64;
        if !self.started {
            self.started = true;
            match self.plan.format {
                OutFormat::Json { meta: true } => {
                    let _ = write!(out, "{{\"meta\":{},\"values\":[", self.plan.meta);
                }
                OutFormat::Json { meta: false } => out.push('['),
                OutFormat::Ndjson => {}
                OutFormat::Csv { delimiter, .. } => {
                    out.push_str("timestamp");
                    for (id, _, _) in &self.plan.signals {
                        out.push(delimiter);
                        out.push_str(id);
                    }
                    out.push('\n');
                }
            }
            if self.plan.readings.signal_major {
                self.t = self.signal_start(0);
            }
        }
        while out.len() < 64 * 1024 {
            let limit_reached = self.plan.take.is_some_and(|take| self.emitted >= take);
            let Some((t, due)) = self.next_slot().filter(|_| !limit_reached) else {
                if let OutFormat::Json { meta } = self.plan.format {
                    out.push_str(if meta { "]}" } else { "]" });
                }
                self.finished = true;
                break;
            };
            let readings = self.plan.readings;
            let stamp = readings.timestamp(t, &self.plan.tz);
            match self.plan.format {
                OutFormat::Csv {
                    delimiter,
                    decimal_comma,
                } => {
                    out.push_str(&stamp);
                    for (_, interval, seed) in &self.plan.signals {
                        out.push(delimiter);
                        if t % interval == 0 {
                            let text = readings.number(value_at(*seed, t));
                            out.push_str(&if decimal_comma {
                                text.replace('.', ",")
                            } else {
                                text
                            });
                        }
                    }
                    out.push('\n');
                    self.emitted += 1;
                    records += 1;
                }
                OutFormat::Json { .. } | OutFormat::Ndjson => {
                    for index in due {
                        if self.plan.take.is_some_and(|take| self.emitted >= take) {
                            break;
                        }
                        let (id, _, seed) = &self.plan.signals[index];
                        let is_json = matches!(self.plan.format, OutFormat::Json { .. });
                        if is_json && !self.first_record {
                            out.push(',');
                        }
                        self.first_record = false;
                        let _ = write!(
                            out,
                            "{{\"timestamp\":\"{stamp}\",\"signalId\":\"{id}\",\"value\":{}",
                            readings.number(value_at(*seed, t))
                        );
                        if readings.extra_fields {
                            let _ = write!(
                                out,
                                ",\"quality\":\"good\",\"source\":{{\"query\":{},\"tags\":[\"a\",1]}}",
                                seed % 97
                            );
                        }
                        out.push('}');
                        if !is_json {
                            out.push('\n');
                        }
                        self.emitted += 1;
                        records += 1;
                    }
                }
            }
        }
        Some((Bytes::from(out), records))
    }

    /// The first timestamp of signal `index` in the plan's range.
    fn signal_start(&self, index: usize) -> i64 {
        let interval = self.plan.signals.get(index).map_or(self.plan.step, |s| s.1);
        first_multiple(self.plan.start, interval)
    }

    /// The next timestamp with records, and the signals due at it (CSV rows take every
    /// signal's column at once, so they always go by time).
    fn next_slot(&mut self) -> Option<(i64, Vec<usize>)> {
        let by_signal = self.plan.readings.signal_major && !matches!(self.plan.format, OutFormat::Csv { .. });
        if by_signal {
            loop {
                let (_, interval, _) = self.plan.signals.get(self.signal)?;
                let interval = *interval;
                if self.t < self.plan.end {
                    let t = self.t;
                    self.t += interval;
                    return Some((t, vec![self.signal]));
                }
                self.signal += 1;
                self.t = self.signal_start(self.signal);
            }
        }
        loop {
            if self.t >= self.plan.end {
                return None;
            }
            let t = self.t;
            self.t += self.plan.step;
            let due: Vec<usize> = (0..self.plan.signals.len())
                .filter(|&i| t % self.plan.signals[i].1 == 0)
                .collect();
            if !due.is_empty() {
                return Some((t, due));
            }
        }
    }
}
