//! Measurement messages: a report and its observations.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::decimal::Decimal;

/// A forwarded report with its measurements. Fields follow the document's table;
/// `string | null` fields are `Option`. Unknown fields are accepted and dropped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MeasurementMessage {
    /// Unique report identifier.
    pub hash_id: String,
    /// Unique environment identifier (monitoring or connectivity).
    pub environment_hash_id: String,
    /// Connectivity environment report type identifier.
    pub connectivity_environment_report_type_hash_id: Option<String>,
    /// Monitoring environment report type identifier.
    pub monitoring_environment_report_type_hash_id: Option<String>,
    /// The individual measurements.
    pub observations: Vec<MeasurementObservation>,
    /// Unique device identifier.
    pub device_hash_id: Option<String>,
    /// Supplier device identifier (serial number).
    pub device_identifier: Option<String>,
    /// Key-value pairs from the device configuration.
    #[serde(default)]
    pub device_fields: Map<String, Value>,
    /// Key-value pairs from the event or report.
    #[serde(default)]
    pub fields: Map<String, Value>,
    /// Unique location identifier.
    pub location_hash_id: Option<String>,
    /// Key-value pairs from the location.
    #[serde(default)]
    pub location_fields: Map<String, Value>,
    /// Unique user identifier; `None` for device-generated reports.
    pub user_hash_id: Option<String>,
    /// When the report was generated.
    #[serde(with = "crate::time")]
    pub generated_at: Timestamp,
    /// When the report was stored in the platform.
    #[serde(with = "crate::time")]
    pub created_at: Timestamp,
    /// 0-indexed delivery attempt; above 0 for redeliveries.
    pub attempt: u32,
}

/// One measurement of one quantity on one port.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MeasurementObservation {
    /// Connectivity environment quantity identifier.
    pub connectivity_environment_quantity_hash_id: Option<String>,
    /// Monitoring environment quantity identifier.
    pub monitoring_environment_quantity_hash_id: Option<String>,
    /// Port identifier.
    pub port_hash_id: Option<String>,
    /// Channel index.
    pub channel_index: Option<i64>,
    /// The power of ten of the value: within -128..=127, the vendor's range (a message
    /// with any other value does not decode).
    #[serde(deserialize_with = "order_of_magnitude")]
    pub order_of_magnitude: i32,
    /// The significand of the value.
    pub significand: i64,
    /// Display text of the value as the platform formats it. Never parsed: it may not
    /// agree with the numbers (see the crate docs).
    pub formatted_value: String,
    /// Unit of the quantity (`W`, `V`, `A`, ...).
    pub unit: Option<String>,
    /// When the measurement was taken.
    #[serde(with = "crate::time")]
    pub generated_at: Timestamp,
    /// 1 for a normal measurement, 0 for none; kept as the JSON number sent (`1` and
    /// `1.0` stay apart on re-serialisation). See [`Self::performance_f64`].
    pub performance: serde_json::Number,
}

/// Reads `orderOfMagnitude`, refusing values outside the vendor's range: an exponent of
/// 2147483647 is no measurement, and would make plain-notation text gigabytes long.
fn order_of_magnitude<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<i32, D::Error> {
    let value = i64::deserialize(deserializer)?;
    match i32::try_from(value) {
        Ok(exponent) if Decimal::PLAIN_EXPONENTS.contains(&exponent) => Ok(exponent),
        _ => Err(serde::de::Error::custom(format!(
            "orderOfMagnitude {value} is outside -128..=127, the vendor's range"
        ))),
    }
}

impl MeasurementObservation {
    /// The exact value, `significand * 10^orderOfMagnitude`.
    pub fn value(&self) -> Decimal {
        Decimal::new(self.significand, self.order_of_magnitude)
    }

    /// The performance indicator as a float.
    pub fn performance_f64(&self) -> f64 {
        self.performance.as_f64().unwrap_or(f64::NAN)
    }

    /// Whether this observation is a real measurement (performance not 0).
    pub fn is_measured(&self) -> bool {
        self.performance_f64() != 0.0
    }

    /// The quantity id: the monitoring one, else the connectivity one.
    pub fn quantity_hash_id(&self) -> Option<&str> {
        self.monitoring_environment_quantity_hash_id
            .as_deref()
            .or(self.connectivity_environment_quantity_hash_id.as_deref())
    }
}
