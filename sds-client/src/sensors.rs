//! Sensors (`GET sensors`) with their metrics and units, and the picker of one metric
//! and unit for an observations query.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::Client;
use crate::datasources::ConnectionType;
use crate::error::{Error, Result, SdsError, UnknownChoice};
use crate::list::List;

/// A physical sensor of a data source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Sensor {
    /// The sensor id.
    pub id: String,
    /// The data source it belongs to.
    #[serde(default)]
    pub data_source_id: Option<String>,
    /// The connection type of its data source.
    #[serde(rename = "type", default)]
    pub connection_type: Option<ConnectionType>,
    /// The bucket it belongs to.
    #[serde(default)]
    pub bucket_id: Option<String>,
    /// The iTwin.
    #[serde(rename = "iTwinId", default)]
    pub itwin_id: Option<String>,
    /// What it measures, and in which units.
    #[serde(default)]
    pub metrics_and_units: MetricsAndUnits,
    /// Free-form key-value metadata.
    #[serde(default)]
    pub metadata: Map<String, Value>,
    /// Members this version does not know, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A sensor's metrics, each with its units.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MetricsAndUnits {
    /// Whether the metrics are the standard ones.
    #[serde(default)]
    pub standard: Option<bool>,
    /// The metrics.
    #[serde(default)]
    pub metrics: Vec<Metric>,
    /// Members this version does not know, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// One metric (`f`, `T`, ...) and the units it can be read in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Metric {
    /// The metric's key, as queries name it.
    pub metric: String,
    /// A readable name ("Frequency").
    #[serde(default)]
    pub display_name: Option<String>,
    /// Its notation.
    #[serde(default)]
    pub notation: Option<String>,
    /// The unit used when none is asked for.
    #[serde(default)]
    pub default_unit: Option<String>,
    /// The units it can be read in.
    #[serde(default)]
    pub units: Vec<Unit>,
    /// Members this version does not know, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A unit of a metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Unit {
    /// The unit's key, as queries name it.
    pub unit: String,
    /// A readable name ("hertz").
    #[serde(default)]
    pub display_name: Option<String>,
    /// Its notation ("°C").
    #[serde(default)]
    pub notation: Option<String>,
    /// Members this version does not know, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A metric and a unit of one sensor, checked against its `metricsAndUnits`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Selection<'a> {
    /// The sensor.
    pub sensor: &'a Sensor,
    /// The metric.
    pub metric: &'a Metric,
    /// The unit.
    pub unit: &'a Unit,
}

impl Sensor {
    /// The metric with key `metric`, in `unit`, or in the metric's default unit when
    /// `unit` is `None`. An unknown metric or unit is [`SdsError::NoSuchMetric`] or
    /// [`SdsError::NoSuchUnit`], listing what the sensor has.
    pub fn pick(&self, metric: &str, unit: Option<&str>) -> Result<Selection<'_>> {
        let metrics = &self.metrics_and_units.metrics;
        let Some(found) = metrics.iter().find(|m| m.metric == metric) else {
            return Err(Error::Api(SdsError::NoSuchMetric(Box::new(UnknownChoice {
                sensor: self.id.clone(),
                metric: metric.to_owned(),
                unit: unit.unwrap_or_default().to_owned(),
                known: metrics.iter().map(|m| m.metric.clone()).collect(),
            }))));
        };
        let wanted = unit.or(found.default_unit.as_deref());
        match wanted.and_then(|w| found.units.iter().find(|u| u.unit == w)) {
            Some(unit) => Ok(Selection {
                sensor: self,
                metric: found,
                unit,
            }),
            None => Err(Error::Api(SdsError::NoSuchUnit(Box::new(UnknownChoice {
                sensor: self.id.clone(),
                metric: metric.to_owned(),
                unit: wanted.unwrap_or_default().to_owned(),
                known: found.units.iter().map(|u| u.unit.clone()).collect(),
            })))),
        }
    }
}

impl List<Sensor> {
    /// Only the sensors of one data source (`dataSourceId`).
    pub fn data_source(self, id: impl Into<String>) -> Self {
        self.filter("dataSourceId", id.into())
    }
}

impl Client {
    /// `GET sensors?iTwinId=`: the iTwin's sensors, with their metrics and units; narrow
    /// to one data source with [`List::data_source`].
    pub fn sensors(&self, itwin_id: impl Into<String>) -> List<Sensor> {
        List::new(self, "sensors", &["sensors"], "sensors", itwin_id.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn documents_sensor() -> Sensor {
        serde_json::from_value(serde_json::json!({
            "id": "sensorId", "dataSourceId": "6304", "type": "SELF_SERVICE", "bucketId": "b",
            "iTwinId": "28ba", "vendorField": 1,
            "metricsAndUnits": {"standard": true, "metrics": [
                {"metric": "f", "displayName": "Frequency", "notation": "f", "defaultUnit": "Hz",
                 "units": [{"unit": "Hz", "displayName": "hertz", "notation": "Hz"},
                           {"unit": "digits", "displayName": "digits", "notation": "digits"}]},
                {"metric": "T", "displayName": "Temperature", "notation": "T",
                 "units": [{"unit": "C", "displayName": "celsius", "notation": "°C"}]}]},
            "metadata": {"site": "dam"}
        }))
        .unwrap()
    }

    #[test]
    fn the_documents_sensor_decodes_with_unknown_members_kept() {
        let sensor = documents_sensor();
        assert_eq!(sensor.connection_type, Some(ConnectionType::SelfService));
        assert_eq!(sensor.itwin_id.as_deref(), Some("28ba"));
        assert_eq!(
            sensor.metrics_and_units.metrics[1].units[0].notation.as_deref(),
            Some("°C")
        );
        assert_eq!(sensor.other["vendorField"], 1);
        assert_eq!(sensor.metadata["site"], "dam");
    }

    #[test]
    fn pick_finds_a_unit_or_the_default_and_names_what_exists() {
        let sensor = documents_sensor();
        let chosen = sensor.pick("f", Some("digits")).unwrap();
        assert_eq!(
            (chosen.metric.metric.as_str(), chosen.unit.unit.as_str()),
            ("f", "digits")
        );
        assert_eq!(sensor.pick("f", None).unwrap().unit.unit, "Hz");
        match sensor.pick("T", None) {
            Err(Error::Api(SdsError::NoSuchUnit(choice))) => {
                assert_eq!(choice.unit, "");
                assert_eq!(choice.known, ["C"]);
            }
            other => panic!("{other:?}"),
        }
        match sensor.pick("p", None) {
            Err(Error::Api(SdsError::NoSuchMetric(choice))) => assert_eq!(choice.known, ["f", "T"]),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            sensor.pick("f", Some("K")),
            Err(Error::Api(SdsError::NoSuchUnit(_)))
        ));
    }
}
