//! The data catalog's types (environments, sites, signals, ranges and fetch limits;
//! the request is in `catalog_request.rs`), and `GET /version`.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::duration::optional as optional_duration;
use crate::error::Result;

impl Client {
    /// `GET /version`: the API's version document.
    pub async fn version(&self) -> Result<serde_json::Value> {
        Ok(self
            .http
            .get("version")
            .accept("application/json")
            .json_response()
            .await?)
    }
}

/// The data catalog: what this application may read. Unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Catalog {
    /// The environments, each with its sites.
    #[serde(default)]
    pub environments: Vec<Environment>,
    /// The values fetch limits.
    #[serde(default)]
    pub limits: Limits,
}

/// An environment (a customer installation).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Environment {
    /// Environment id, e.g. `100` (numbers are accepted and kept as text).
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    /// Display name.
    #[serde(default, alias = "displayName")]
    pub name: Option<String>,
    /// The sites the application can read.
    #[serde(default)]
    pub sites: Vec<Site>,
}

/// A site and its readable signals.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Site {
    /// Site id, e.g. `site-ref`.
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    /// Display name.
    #[serde(default, alias = "displayName")]
    pub name: Option<String>,
    /// Relative URL of a site-level values request for all readable signals.
    #[serde(default)]
    pub values_url: Option<String>,
    /// The readable signals.
    #[serde(default)]
    pub signals: Vec<Signal>,
}

/// A readable signal.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Signal {
    /// Signal id to use in values requests.
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    /// Human-readable name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Measurement unit.
    #[serde(default)]
    pub unit: Option<String>,
    /// Expected measurement interval, when known.
    #[serde(default, deserialize_with = "optional_duration")]
    pub base_interval: Option<SignedDuration>,
    /// Relative URL for fetching this signal.
    #[serde(default)]
    pub values_url: Option<String>,
    /// Active time ranges, newest first.
    #[serde(default)]
    pub ranges: Vec<ActiveRange>,
    /// The underlying DB query this signal is computed from, when the catalog says (not
    /// in the public document: signals sharing one count once in the estimate).
    #[serde(default, alias = "dbQueryId", alias = "rawQueryId")]
    pub db_query: Option<String>,
}

/// A time range in which a signal has data. `to` is `None` while it is ongoing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ActiveRange {
    /// Start.
    pub from: Timestamp,
    /// End, if the range has ended.
    #[serde(default)]
    pub to: Option<Timestamp>,
}

/// The values fetch limits.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Limits {
    /// Complete-export budget of estimated raw DB points (default 44,640).
    #[serde(default = "default_max_points")]
    pub max_raw_db_points: u64,
    /// Reference interval of the default budget (`PT1M`).
    #[serde(default, deserialize_with = "optional_duration")]
    pub reference_interval: Option<SignedDuration>,
    /// Reference range of the default budget (`P31D`).
    #[serde(default, deserialize_with = "optional_duration")]
    pub reference_range: Option<SignedDuration>,
}

/// The document's default budget: 31 days at PT1M for one DB query.
pub const DEFAULT_MAX_RAW_DB_POINTS: u64 = 44_640;

fn default_max_points() -> u64 {
    DEFAULT_MAX_RAW_DB_POINTS
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_raw_db_points: DEFAULT_MAX_RAW_DB_POINTS,
            reference_interval: Some(SignedDuration::from_mins(1)),
            reference_range: Some(SignedDuration::from_hours(31 * 24)),
        }
    }
}

fn id_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::String(text) => Ok(text),
        serde_json::Value::Number(number) => Ok(number.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "an id must be text or a number, not {other}"
        ))),
    }
}

impl Catalog {
    /// The environment with `id`.
    pub fn environment(&self, id: &str) -> Option<&Environment> {
        self.environments.iter().find(|e| e.id == id)
    }

    /// The site `site_id` of environment `env`.
    pub fn site(&self, env: &str, site_id: &str) -> Option<&Site> {
        self.environment(env)?.sites.iter().find(|s| s.id == site_id)
    }
}

impl Site {
    /// The signal with `id`.
    pub fn signal(&self, id: &str) -> Option<&Signal> {
        self.signals.iter().find(|s| s.id == id)
    }
}
