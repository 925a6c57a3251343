//! Errors of the Sensor Data client: the SDK's shared variants, the API's own, and the
//! permission a 403 lacks.

use std::fmt;

use client_core::{ApiError, ApiSpecificError, ErrorDetail, RequestBuilder};
use jiff::Timestamp;

/// Everything that can go wrong talking to the Sensor Data API: the variants every
/// client of the SDK shares (see [`ClientError`](crate::ClientError)), with this
/// API's own errors under [`ClientError::Api`](crate::ClientError::Api).
///
/// Statuses map as in every client (400 `BadRequest`, 401 `Unauthorized`, 403
/// `Forbidden`, 404 `NotFound`, 429 `Throttled` with its `Retry-After`, 5xx `Server`,
/// ...). A 403 names the micro-permission the call needs on the iTwin through
/// `err.detail::<`[`MissingPermission`]`>()`; the rate-limit headers of a refused request
/// are `err.detail::<`[`RateLimit`](crate::RateLimit)`>()`.
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

    /// The permission named `name` (`sensor_data_read`, `sensor_data_manage`).
    pub fn from_name(name: &str) -> Option<MicroPermission> {
        [MicroPermission::SensorDataRead, MicroPermission::SensorDataManage]
            .into_iter()
            .find(|permission| permission.as_str() == name)
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

/// The names of the context entries a request carries for [`MissingPermission`].
mod context {
    pub(super) const PERMISSION: &str = "permission";
    pub(super) const ITWIN_ID: &str = "itwinId";
    pub(super) const SENSOR_ID: &str = "sensorId";
}

/// What a 403 lacks: the micro-permission the call needs, and on which iTwin. Read it
/// with `err.detail::<MissingPermission>()` from an
/// [`Error::Forbidden`](crate::ClientError::Forbidden). Ask the iTwin's
/// administrator to grant it (to `{client_id}@apps.imsoidc.bentley.com` for a service
/// application).
///
/// ```
/// use sds_client::{Error, MicroPermission, MissingPermission};
///
/// fn explain(err: &Error) -> String {
///     match err.detail::<MissingPermission>() {
///         Some(missing) => format!("{err}: {missing}"),
///         None => err.to_string(),
///     }
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MissingPermission {
    /// The permission the call needs.
    pub permission: MicroPermission,
    /// The iTwin, when the call names it (today's data API names sensors only).
    pub itwin_id: Option<String>,
    /// The sensor, when the call names one and no iTwin.
    pub sensor_id: Option<String>,
}

impl ErrorDetail for MissingPermission {
    fn from_api(api: &ApiError) -> Option<Self> {
        if api.status != 403 {
            return None;
        }
        Some(MissingPermission {
            permission: MicroPermission::from_name(api.context_value(context::PERMISSION)?)?,
            itwin_id: api.context_value(context::ITWIN_ID).map(str::to_owned),
            sensor_id: api.context_value(context::SENSOR_ID).map(str::to_owned),
        })
    }
}

impl fmt::Display for MissingPermission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "this call needs {} on ", self.permission)?;
        match (&self.itwin_id, &self.sensor_id) {
            (Some(itwin), _) => write!(f, "iTwin {itwin}"),
            (None, Some(sensor)) => write!(f, "the iTwin of sensor {sensor}"),
            (None, None) => f.write_str("the iTwin"),
        }
    }
}

/// What a call needs, attached to its request so that a 403 can say it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Needs<'a> {
    permission: MicroPermission,
    itwin_id: Option<&'a str>,
    sensor_id: Option<&'a str>,
}

impl<'a> Needs<'a> {
    /// A call reading the iTwin's data.
    pub(crate) fn read() -> Self {
        Needs {
            permission: MicroPermission::SensorDataRead,
            itwin_id: None,
            sensor_id: None,
        }
    }

    /// A call changing the iTwin's data.
    pub(crate) fn manage() -> Self {
        Needs {
            permission: MicroPermission::SensorDataManage,
            ..Needs::read()
        }
    }

    /// On iTwin `id`.
    pub(crate) fn on_itwin(mut self, id: &'a str) -> Self {
        self.itwin_id = Some(id);
        self
    }

    /// On the iTwin of sensor `id`.
    pub(crate) fn on_sensor(mut self, id: &'a str) -> Self {
        self.sensor_id = Some(id);
        self
    }

    /// `request`, carrying what it needs into its errors.
    pub(crate) fn attach(self, request: RequestBuilder) -> RequestBuilder {
        let mut request = request.context(context::PERMISSION, self.permission.as_str());
        if let Some(itwin) = self.itwin_id {
            request = request.context(context::ITWIN_ID, itwin);
        }
        if let Some(sensor) = self.sensor_id {
            request = request.context(context::SENSOR_ID, sensor);
        }
        request
    }
}

/// The errors only the Sensor Data API has.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SdsError {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn forbidden(context: &[(&str, &str)]) -> ApiError {
        let mut api = ApiError::parse(403, None);
        api.context = context
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        api
    }

    #[test]
    fn the_missing_permission_is_read_from_a_403_and_its_context() {
        let api = forbidden(&[("permission", "sensor_data_manage"), ("itwinId", "tw")]);
        let missing = MissingPermission::from_api(&api).unwrap();
        assert_eq!(missing.permission, MicroPermission::SensorDataManage);
        assert_eq!(missing.itwin_id.as_deref(), Some("tw"));
        assert_eq!(
            missing.to_string(),
            "this call needs sensor_data_manage on iTwin tw"
        );
        let sensor = MissingPermission::from_api(&forbidden(&[
            ("permission", "sensor_data_read"),
            ("sensorId", "s1"),
        ]))
        .unwrap();
        assert_eq!(
            sensor.to_string(),
            "this call needs sensor_data_read (or sensor_data_manage) on the iTwin of sensor s1"
        );
        // Not a 403, or a request that named no permission: no detail.
        let mut not_found = api.clone();
        not_found.status = 404;
        assert_eq!(MissingPermission::from_api(&not_found), None);
        assert_eq!(MissingPermission::from_api(&forbidden(&[])), None);
    }
}
