//! Errors of the Sensor Data client: the workspace's shared variants, plus the API's own.

use std::fmt;

use client_core::{ApiError, ApiSpecificError};
use jiff::Timestamp;

/// Everything that can go wrong talking to the Sensor Data API: the variants every
/// client of the workspace shares (see [`client_core::ClientError`]), with this API's
/// own errors under [`client_core::ClientError::Api`].
///
/// Statuses map as everywhere in the workspace (400 `BadRequest`, 401 `Unauthorized`,
/// 404 `NotFound`, 429 `Throttled` with its `Retry-After`, 5xx `Server`, ...), except
/// 403: it becomes [`SdsError::MissingPermission`], naming the micro-permission the
/// call needs on the iTwin. Rate-limit headers of a refused request are read with
/// [`RateLimit::of`].
pub type Error = client_core::ClientError<SdsError>;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A Sensor Data micro-permission on an iTwin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MicroPermission {
    /// `sensor_data_read` (or `sensor_data_manage`, which includes it): read endpoints.
    SensorDataRead,
    /// `sensor_data_manage`: endpoints that change data sources, integrations or data.
    SensorDataManage,
}

impl MicroPermission {
    /// The permission's name, as iTwin administrators see it.
    pub fn as_str(self) -> &'static str {
        match self {
            MicroPermission::SensorDataRead => "sensor_data_read",
            MicroPermission::SensorDataManage => "sensor_data_manage",
        }
    }
}

impl fmt::Display for MicroPermission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MicroPermission::SensorDataRead => f.write_str("sensor_data_read (or sensor_data_manage)"),
            MicroPermission::SensorDataManage => f.write_str("sensor_data_manage"),
        }
    }
}

/// The errors only the Sensor Data API has.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SdsError {
    /// 403: the caller lacks the micro-permission the call needs on the iTwin. Ask the
    /// iTwin's administrator to grant it (to `{client_id}@apps.imsoidc.bentley.com` for a
    /// service application).
    #[error("forbidden: this call needs {permission} on iTwin {}: {api}", itwin_id.as_deref().unwrap_or("(the sensor's iTwin)"))]
    MissingPermission {
        /// The permission the call needs.
        permission: MicroPermission,
        /// The iTwin, when the call names it.
        itwin_id: Option<String>,
        /// The server's error document.
        api: Box<ApiError>,
    },
    /// The server sent the same page twice in a row: following it further could loop for
    /// ever or duplicate observations.
    #[error("page {page} repeats the previous page: the server does not honour `page`")]
    RepeatedPage {
        /// The 0-based page number that was asked for.
        page: u64,
    },
    /// A continuation of a data query (asked from the last timestamp seen) brought data
    /// from before that timestamp: the server ignores `startDate`, and following it
    /// would never reach the end of the range.
    #[error("a data query from {at} returned data before it: the server ignores startDate")]
    StalledContinuation {
        /// The last timestamp seen, which the continuation started from.
        at: Timestamp,
    },
    /// A data query's answer, cut at the server's limit, kept the latest timestamps and
    /// left out earlier ones: continuing from the last timestamp cannot read the range.
    /// Query shorter ranges (each under the server's limit).
    #[error(
        "the data query's answer starts at {before} but data lies before it: the server's cut keeps the latest timestamps"
    )]
    CapKeepsNewest {
        /// Where the first answer started; data before it was left out.
        before: Timestamp,
    },
    /// Observations went back in time: the stream promises time order and would have to
    /// drop or reorder them.
    #[error("observation at {got} follows one at {previous}: the server's order is not ascending")]
    OutOfOrder {
        /// The timestamp already yielded.
        previous: Timestamp,
        /// The earlier timestamp that came after it.
        got: Timestamp,
    },
    /// The sensor has no such metric ([`Sensor::pick`](crate::Sensor::pick)).
    #[error("sensor {} has no metric `{}` (it has: {})", .0.sensor, .0.metric, .0.known.join(", "))]
    NoSuchMetric(Box<UnknownChoice>),
    /// The metric has no such unit, or no unit was asked for and it has no default
    /// ([`Sensor::pick`](crate::Sensor::pick)).
    #[error("metric `{}` of sensor {} has no unit `{}` (it has: {})", .0.metric, .0.sensor, .0.unit, .0.known.join(", "))]
    NoSuchUnit(Box<UnknownChoice>),
    /// An upload stopped part of the way: `accepted` observations were accepted (202)
    /// before `source` ended it. Batches are whole: re-uploading from `accepted` on
    /// writes the rest.
    #[error("upload stopped after {accepted} accepted observations: {source}")]
    UploadIncomplete {
        /// Observations in batches the server accepted.
        accepted: u64,
        /// Why the next batch failed.
        source: Box<Error>,
    },
}

/// A metric or unit that a sensor does not have, and what it has instead.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnknownChoice {
    /// The sensor id.
    pub sensor: String,
    /// The metric asked for.
    pub metric: String,
    /// The unit asked for (empty when the metric was unknown, or when the default unit
    /// was asked for and the metric has none).
    pub unit: String,
    /// What the sensor has: its metrics for [`SdsError::NoSuchMetric`], the metric's
    /// units for [`SdsError::NoSuchUnit`].
    pub known: Vec<String>,
}

impl ApiSpecificError for SdsError {
    fn api(&self) -> Option<&ApiError> {
        match self {
            SdsError::MissingPermission { api, .. } => Some(api),
            SdsError::UploadIncomplete { source, .. } => source.api(),
            _ => None,
        }
    }

    fn is_retryable(&self) -> bool {
        match self {
            SdsError::UploadIncomplete { source, .. } => source.is_retryable(),
            _ => false,
        }
    }
}

/// Maps a transport error of a call that needs `permission` on `itwin_id`: a 403 names
/// the permission, everything else takes the shared mapping.
pub(crate) fn map_error(
    err: client_core::Error,
    permission: MicroPermission,
    itwin_id: Option<&str>,
) -> Error {
    match Error::from(err) {
        Error::Forbidden(api) => Error::Api(SdsError::MissingPermission {
            permission,
            itwin_id: itwin_id.map(str::to_owned),
            api,
        }),
        other => other,
    }
}

/// The rate-limit headers of a refused request (`iTwinPlatform-RateLimit-*` and the
/// like), read leniently: the iTwin Platform's Trial tier allows 500 requests a minute.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimit {
    /// Requests allowed in the window (`*-RateLimit-Limit`).
    pub limit: Option<u64>,
    /// Requests left in the window (`*-RateLimit-Remaining`).
    pub remaining: Option<u64>,
    /// When the window resets (`*-RateLimit-Reset`), as sent.
    pub reset: Option<String>,
    /// Every rate-limit header, names in lower case, values as sent.
    pub headers: Vec<(String, String)>,
}

impl RateLimit {
    /// The rate-limit headers of `error`'s response, if it had any.
    pub fn of(error: &Error) -> Option<RateLimit> {
        let headers = match (error.api(), error.core()) {
            (Some(api), _) => api.rate_limit.clone(),
            (None, Some(core)) => core.rate_limit().to_vec(),
            _ => return None,
        };
        Self::from_headers(headers)
    }

    /// Reads the limit, remaining count and reset from headers named `*-limit`,
    /// `*-remaining` and `*-reset` (lower case); `None` when there are none.
    pub fn from_headers(headers: Vec<(String, String)>) -> Option<RateLimit> {
        if headers.is_empty() {
            return None;
        }
        let find = |suffix: &str| {
            headers
                .iter()
                .find(|(name, _)| name.ends_with(suffix))
                .map(|(_, value)| value.trim().to_owned())
        };
        Some(RateLimit {
            limit: find("-limit").and_then(|v| v.parse().ok()),
            remaining: find("-remaining").and_then(|v| v.parse().ok()),
            reset: find("-reset"),
            headers,
        })
    }
}
