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
//! response order ([`ResponseOrder`]), points created later than their `val_date`
//! ([`LateArrivals`]), `val_date`s ahead of or behind their creation ([`ClockSkew`]),
//! several points per channel and second, `dev_chid` as text, and a 413 for a response
//! too large. The default reading: oldest first, both ends inclusive, ascending, created
//! at `val_date`, one point per channel and `val_date`, `dev_chid` a number, capped.

// Handlers bail out with the response to send; its size does not matter here.
#![allow(clippy::result_large_err)]

mod datapoints;
mod gate;
mod points;
mod readings;
mod request;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use tokio::time::Instant;

use crate::faults::Faults;
use crate::server::{Resets, Running, lock, serve};
use datapoints::datapoints;
pub use readings::{CapReading, ClockSkew, LateArrivals, Readings, ResponseOrder};

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
///
/// # Defaults
///
/// [`Config::default`] accepts one key, `sandbox-token`, in the `X-Api-Key` header
/// (`CONDUIT_TOKEN` in [`Sandbox::env_vars`]; a `token` query argument is allowed but not
/// checked), at `http://127.0.0.1:PORT/conduitv6/` (`CONDUIT_BASE_URL`), without a
/// throttle (`CONDUIT_TIER=unlimited`). It serves two devices:
///
/// | `dev_netid` | `dev_chid` |
/// |---|---|
/// | `70B3D54990DC01DA` | 1, 2, 3 |
/// | `70B3D54990DC02EB` | 1, 2 |
///
/// Every channel has a point at each multiple of 60 seconds since the epoch, at any
/// time (without `fcdt`/`tcdt`, the last hour): `val_type` `Voltage`, `val_raw` from
/// 0.000 to 9.999 (deterministic per device, channel and `val_date`), `val_calibrated`
/// 1.5 times it (three decimals), `dev_tag` `Sandbox {dev_netid}`. No throttle, no faults,
/// [`Readings::default`].
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
    /// How the points the document leaves open are played; each reading is documented
    /// on its [`Readings`] field, with its default ([`Readings::default`]).
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

    /// The variables that point a client (or an example) at this simulator, so that
    /// `Client::from_vars(sandbox::env_lookup(&sim.env_vars()))` gives a usable client.
    /// `CONDUIT_TIER` follows the simulator's own throttle: `unlimited` without one (no
    /// 15 s wait between requests), `10s` or `1s` for a throttle of that interval, else
    /// `standard`.
    pub fn env_vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("CONDUIT_BASE_URL", self.base_url()),
            ("CONDUIT_TOKEN", self.shared.config.token.clone()),
            ("CONDUIT_TIER", self.tier().to_owned()),
        ]
    }

    /// The client tier that matches the simulator's throttle.
    fn tier(&self) -> &'static str {
        match self.shared.config.throttle {
            None => "unlimited",
            Some(interval) if interval == Duration::from_secs(10) => "10s",
            Some(interval) if interval == Duration::from_secs(1) => "1s",
            Some(_) => "standard",
        }
    }

    /// The accepted token.
    pub fn token(&self) -> &str {
        &self.shared.config.token
    }

    /// Requests received (all of them, refused ones included).
    pub fn requests(&self) -> u64 {
        self.shared.counters.requests.load(Ordering::SeqCst)
    }

    /// The JSON text of every point of every configured channel created in `[from, to)`
    /// (epoch seconds), exactly as a response writes it, under the configured readings:
    /// the truth as a multiset, since distinct points may share
    /// `(dev_netid, dev_chid, val_date)`.
    pub fn records_created_in(&self, from: i64, to: i64) -> Vec<String> {
        points::records_created_in(&self.shared.config, from, to)
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
    /// configured readings (a triple repeats when a channel has several points a second).
    pub fn points_created_in(&self, from: i64, to: i64) -> Vec<(String, i64, i64)> {
        points::created_in(&self.shared.config, from, to)
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
