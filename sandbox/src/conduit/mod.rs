//! The AlphaX Conduit HTTP API v6: `GET /conduitv6/?id=&ch=&fcdt=&tcdt=`.
//!
//! Rules followed: `X-Api-Key` checked (401 otherwise); `fcdt`/`tcdt` both given, or
//! neither for the last hour, one alone is a 400; they select points by creation time;
//! more than 31 days is a 413; at most 10,000 datapoints; an empty result is a 304; gzip
//! above 1,024 bytes when asked; an optional throttle that answers 429 with
//! `Retry-After`.
//!
//! What the document leaves open is a switch in [`Config::readings`]: which 10,000
//! points a capped response holds ([`CapReading`]), whether each end is inclusive, the
//! response order ([`ResponseOrder`]), and points created later than their `val_date`
//! ([`LateArrivals`]). The default reading: oldest first, both ends inclusive,
//! ascending, created at `val_date`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use serde_json::json;
use tokio::time::Instant;

use crate::conduit_readings::{Candidate, select};
pub use crate::conduit_readings::{CapReading, LateArrivals, Readings, ResponseOrder};
use crate::faults::Faults;
use crate::server::{Resets, Running, error, json_body, serve};

/// The most datapoints in one response.
pub const MAX_DATAPOINTS: usize = 10_000;
/// The longest range one request may cover.
pub const MAX_SPAN_SECONDS: i64 = 31 * 24 * 3600;

/// A simulated device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// Network id.
    pub netid: String,
    /// Channel ids.
    pub channels: Vec<i64>,
}

/// What the simulator serves.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Config {
    /// The accepted `X-Api-Key`.
    pub token: String,
    /// The devices and their channels.
    pub devices: Vec<Device>,
    /// Every channel has a value at each multiple of this many seconds.
    pub interval_seconds: i64,
    /// Answer 429 to a request that comes sooner than this after the last accepted one.
    pub throttle: Option<Duration>,
    /// Fault settings.
    pub faults: Faults,
    /// How the points the document leaves open are played.
    pub readings: Readings,
}

impl Default for Config {
    /// Token `sandbox-token`; devices `70B3D54990DC01DA` (channels 1, 2, 3) and
    /// `70B3D54990DC02EB` (channels 1, 2); one value a minute; no throttle.
    fn default() -> Self {
        Config {
            token: "sandbox-token".into(),
            devices: vec![
                Device {
                    netid: "70B3D54990DC01DA".into(),
                    channels: vec![1, 2, 3],
                },
                Device {
                    netid: "70B3D54990DC02EB".into(),
                    channels: vec![1, 2],
                },
            ],
            interval_seconds: 60,
            throttle: None,
            faults: Faults::none(),
            readings: Readings::default(),
        }
    }
}

impl Config {
    /// Sets the throttle interval.
    pub fn with_throttle(mut self, interval: Option<Duration>) -> Self {
        self.throttle = interval;
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

    /// Sets the data interval.
    pub fn with_interval_seconds(mut self, seconds: i64) -> Self {
        self.interval_seconds = seconds.max(1);
        self
    }
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    throttled: AtomicU64,
    datapoints: AtomicU64,
}

#[derive(Debug)]
struct Shared {
    config: Config,
    faults: Mutex<Faults>,
    counters: Counters,
    last_accepted: Mutex<Option<Instant>>,
    arrivals: Mutex<Vec<Instant>>,
    resets: Resets,
}

/// A running Conduit simulator. Dropping it stops it.
#[derive(Debug)]
pub struct Sandbox {
    running: Running,
    shared: Arc<Shared>,
}

impl Sandbox {
    /// Starts the simulator on `127.0.0.1` with a free port.
    pub async fn start(config: Config) -> std::io::Result<Sandbox> {
        let resets = Resets::default();
        resets.set(config.faults.reset_connections);
        let shared = Arc::new(Shared {
            faults: Mutex::new(config.faults.clone()),
            config,
            counters: Counters::default(),
            last_accepted: Mutex::new(None),
            arrivals: Mutex::new(Vec::new()),
            resets: resets.clone(),
        });
        let router = Router::new()
            .route("/conduitv6/", get(datapoints))
            .route("/conduitv6", get(datapoints))
            .with_state(shared.clone());
        Ok(Sandbox {
            running: serve(router, resets).await?,
            shared,
        })
    }

    /// The base URL to give a client (`http://127.0.0.1:PORT/conduitv6/`).
    pub fn base_url(&self) -> String {
        format!("http://{}/conduitv6/", self.running.address)
    }

    /// The variables that point a client (or an example) at this simulator.
    pub fn env_vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("CONDUIT_BASE_URL", self.base_url()),
            ("CONDUIT_TOKEN", self.shared.config.token.clone()),
        ]
    }

    /// The accepted token.
    pub fn token(&self) -> &str {
        &self.shared.config.token
    }

    /// Requests received (all of them, refused ones included).
    pub fn requests(&self) -> u64 {
        self.shared.counters.requests.load(Ordering::SeqCst)
    }

    /// Requests answered 429 by the throttle.
    pub fn throttled(&self) -> u64 {
        self.shared.counters.throttled.load(Ordering::SeqCst)
    }

    /// Datapoints sent in all responses.
    pub fn datapoints_served(&self) -> u64 {
        self.shared.counters.datapoints.load(Ordering::SeqCst)
    }

    /// The truth tests compare against: `(dev_netid, dev_chid, val_date)` of every point
    /// of every configured channel created in `[from, to)` (epoch seconds), under the
    /// configured late arrivals.
    pub fn points_created_in(&self, from: i64, to: i64) -> Vec<(String, i64, i64)> {
        let config = &self.shared.config;
        let readings = &config.readings;
        let interval = config.interval_seconds;
        let mut points = Vec::new();
        let start = readings.earliest_val_date(from);
        let mut t = start.div_euclid(interval) * interval;
        if t < start {
            t += interval;
        }
        while t < to {
            for device in &config.devices {
                for &channel in &device.channels {
                    let created = readings.created(series_key(&device.netid, channel), t);
                    if (from..to).contains(&created) {
                        points.push((device.netid.clone(), channel, t));
                    }
                }
            }
            t += interval;
        }
        points
    }

    /// When each request arrived, on the tokio clock (so tests on a paused clock can
    /// check spacing).
    pub fn arrivals(&self) -> Vec<Instant> {
        lock(&self.shared.arrivals).clone()
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

use crate::server::lock;

fn api_error(status: StatusCode, message: &str) -> Response {
    // The document's example sends the code as a string.
    error(
        status,
        json!({"code": status.as_u16().to_string(), "error": message}),
    )
}

async fn datapoints(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let number = shared.counters.requests.fetch_add(1, Ordering::SeqCst) + 1;
    lock(&shared.arrivals).push(Instant::now());
    let faults = lock(&shared.faults).clone();
    if let Some(failure) = faults
        .apply(number, |status| api_error(status, "sandbox fault"))
        .await
    {
        return failure;
    }
    let token_ok = headers
        .get("x-api-key")
        .is_some_and(|v| v.as_bytes() == shared.config.token.as_bytes());
    if !token_ok {
        return api_error(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    if let Some(interval) = shared.config.throttle {
        let now = Instant::now();
        let mut last = lock(&shared.last_accepted);
        if let Some(previous) = *last {
            let since = now - previous;
            if since < interval {
                shared.counters.throttled.fetch_add(1, Ordering::SeqCst);
                let wait = (interval - since).as_secs_f64().ceil() as u64;
                let mut response = api_error(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(wait.max(1)));
                return response;
            }
        }
        *last = Some(now);
    }
    let request = match Request::parse(query.as_deref().unwrap_or("")) {
        Ok(request) => request,
        Err(message) => return api_error(StatusCode::BAD_REQUEST, &message),
    };
    let (from, to) = match (request.fcdt, request.tcdt) {
        (Some(from), Some(to)) => (from, to),
        (None, None) => {
            let now = jiff::Timestamp::now().as_second();
            (now - 3600, now)
        }
        _ => return api_error(StatusCode::BAD_REQUEST, "fcdt and tcdt must be given together"),
    };
    if to < from {
        return api_error(StatusCode::BAD_REQUEST, "tcdt is before fcdt");
    }
    if to - from > MAX_SPAN_SECONDS {
        return api_error(StatusCode::PAYLOAD_TOO_LARGE, "Request Too Large");
    }
    let channels = shared.select(&request);
    let body = generate(
        &channels,
        from,
        to,
        shared.config.interval_seconds,
        &shared.config.readings,
    );
    if body.count == 0 {
        let mut response = Response::default();
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        return response;
    }
    shared
        .counters
        .datapoints
        .fetch_add(body.count as u64, Ordering::SeqCst);
    json_body(body.json, &headers, 1024, faults.cut_body_after)
}

struct Request {
    ids: Vec<String>,
    channels: Vec<i64>,
    fcdt: Option<i64>,
    tcdt: Option<i64>,
}

impl Request {
    fn parse(query: &str) -> Result<Request, String> {
        let mut request = Request {
            ids: Vec::new(),
            channels: Vec::new(),
            fcdt: None,
            tcdt: None,
        };
        let number = |name: &str, value: &str| {
            value
                .trim()
                .parse::<i64>()
                .map_err(|_| format!("{name} must be an integer, got `{value}`"))
        };
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            match name.as_ref() {
                "id" => request.ids.push(value.into_owned()),
                "ch" => request.channels.push(number("ch", &value)?),
                "fcdt" => request.fcdt = Some(number("fcdt", &value)?),
                "tcdt" => request.tcdt = Some(number("tcdt", &value)?),
                "token" => {}
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        Ok(request)
    }
}

impl Shared {
    /// The (device, channel) pairs a request selects, in output order.
    fn select(&self, request: &Request) -> Vec<(String, i64)> {
        let mut selected = Vec::new();
        for device in &self.config.devices {
            if !request.ids.is_empty() && !request.ids.contains(&device.netid) {
                continue;
            }
            for &channel in &device.channels {
                if request.channels.is_empty() || request.channels.contains(&channel) {
                    selected.push((device.netid.clone(), channel));
                }
            }
        }
        selected
    }
}

struct Body {
    json: Vec<u8>,
    count: usize,
}

/// The points of `channels` created in `[from, to]` (under the readings' ends), at most
/// 10,000 of them as the cap reading says, in the reading's order.
fn generate(channels: &[(String, i64)], from: i64, to: i64, interval: i64, readings: &Readings) -> Body {
    use std::io::Write;
    let mut candidates = Vec::new();
    let keys: Vec<u64> = channels
        .iter()
        .map(|(netid, channel)| series_key(netid, *channel))
        .collect();
    let start = readings.earliest_val_date(from);
    let mut t = start.div_euclid(interval) * interval;
    if t < start {
        t += interval;
    }
    while t <= to {
        for (series, key) in keys.iter().enumerate() {
            let created = readings.created(*key, t);
            if readings.selects(created, from, to) {
                candidates.push(Candidate {
                    created,
                    val_date: t,
                    series,
                });
            }
        }
        t += interval;
    }
    candidates.sort();
    let chosen = select(candidates, MAX_DATAPOINTS, readings);
    let mut json = Vec::with_capacity(64 * 1024);
    json.push(b'[');
    for (index, point) in chosen.iter().enumerate() {
        if index > 0 {
            json.push(b',');
        }
        let (netid, channel) = &channels[point.series];
        let t = point.val_date;
        let raw = value(netid, *channel, t);
        // Writing to a Vec cannot fail.
        let _ = write!(
            json,
            "{{\"val_date\":{t},\"dev_netid\":\"{netid}\",\"dev_chid\":{channel},\"val_raw\":{raw},\"val_calibrated\":{cal},\"val_type\":\"Voltage\",\"dev_tag\":\"Sandbox {netid}\"}}",
            cal = (raw * 1.5 * 1000.0).round() / 1000.0,
        );
    }
    json.push(b']');
    Body {
        json,
        count: chosen.len(),
    }
}

/// A stable number per (device, channel), the seed of its values and lateness.
fn series_key(netid: &str, channel: i64) -> u64 {
    netid.bytes().fold(channel as u64, |h, b| {
        h.wrapping_mul(31).wrapping_add(u64::from(b))
    })
}

/// A deterministic value of one channel at one time.
fn value(netid: &str, channel: i64, t: i64) -> f64 {
    let seed = series_key(netid, channel);
    let mixed = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (t as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    ((mixed >> 40) % 10_000) as f64 / 1000.0
}
