//! One datapoint as the API returns it.

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A value of one channel of one device at one time, with the device's metadata.
///
/// Every attribute is optional: the document says a missing attribute, a null and an
/// empty value mean the same, and that new attributes may appear: those are kept, as
/// sent, in [`Datapoint::other`], so nothing the server sends is dropped. `val_date` is
/// epoch seconds on the wire and an instant here.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Datapoint {
    /// When the value was recorded.
    #[serde(
        default,
        deserialize_with = "epoch_seconds",
        serialize_with = "as_epoch_seconds"
    )]
    pub val_date: Option<Timestamp>,
    /// The device's network id.
    #[serde(default)]
    pub dev_netid: Option<String>,
    /// The channel id.
    #[serde(default)]
    pub dev_chid: Option<i64>,
    /// The raw value.
    #[serde(default)]
    pub val_raw: Option<f64>,
    /// The calibrated value.
    #[serde(default)]
    pub val_calibrated: Option<f64>,
    /// The kind of value (`Voltage`, ...).
    #[serde(default)]
    pub val_type: Option<String>,
    /// The channel's description.
    #[serde(default)]
    pub val_description: Option<String>,
    /// Calibration factor.
    #[serde(default)]
    pub val_cal: Option<f64>,
    /// Calibration offset.
    #[serde(default)]
    pub val_offset: Option<f64>,
    /// The device's tag (display name).
    #[serde(default)]
    pub dev_tag: Option<String>,
    /// The device's site.
    #[serde(default)]
    pub dev_site: Option<String>,
    /// Device error flag.
    #[serde(default)]
    pub dev_error: Option<i64>,
    /// Device type.
    #[serde(default)]
    pub dev_type: Option<String>,
    /// Device label (`Active`, ...).
    #[serde(default)]
    pub dev_label: Option<String>,
    /// Device category.
    #[serde(default)]
    pub dev_category: Option<String>,
    /// Power source (`Solar`, ...).
    #[serde(default)]
    pub dev_powersource: Option<String>,
    /// Manufacturer.
    #[serde(default)]
    pub dev_manufacturer: Option<String>,
    /// Supplier.
    #[serde(default)]
    pub dev_supplier: Option<String>,
    /// Model.
    #[serde(default)]
    pub dev_model: Option<String>,
    /// Serial number.
    #[serde(default)]
    pub dev_serial: Option<String>,
    /// The network the device uses.
    #[serde(default)]
    pub dev_network: Option<String>,
    /// Latitude.
    #[serde(default)]
    pub loc_lat: Option<f64>,
    /// Longitude.
    #[serde(default)]
    pub loc_lng: Option<f64>,
    /// Every attribute the document does not name, as the server sent it.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

/// Accepts epoch seconds as a number (integer or not), a numeric string, or null.
pub(crate) fn epoch_seconds<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Timestamp>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(deserializer)?;
    let seconds = match value {
        None | Some(serde_json::Value::Null) => return Ok(None),
        Some(serde_json::Value::Number(n)) => n.as_i64().or_else(|| n.as_f64().map(|f| f.floor() as i64)),
        Some(serde_json::Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        Some(_) => None,
    };
    let seconds = seconds.ok_or_else(|| serde::de::Error::custom("val_date is not epoch seconds"))?;
    Timestamp::from_second(seconds)
        .map(Some)
        .map_err(|e| serde::de::Error::custom(format!("val_date {seconds} is out of range: {e}")))
}

fn as_epoch_seconds<S: Serializer>(value: &Option<Timestamp>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(t) => serializer.serialize_i64(t.as_second()),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_example_decodes() {
        let json = r#"{"val_date": 1614054737, "dev_netid": "70B3D54990DC01DA", "dev_chid": 1,
            "val_raw": 4.091, "val_type": "Voltage", "dev_tag": "MIT-GW06 Pyalong Reserve",
            "val_description": "Battery Bank A", "dev_site": "Minnovation", "val_cal": 0,
            "val_offset": 0, "dev_error": 0, "dev_type": "device", "dev_label": "Active",
            "dev_category": "Device", "dev_powersource": "Solar", "dev_manufacturer": "Minnovation",
            "dev_supplier": "Minnovation", "dev_model": "X1 Analog to Digital Sensor",
            "dev_serial": "70B3D54990DC01DA", "dev_network": "The Things Network",
            "loc_lat": 49.610711, "loc_lng": 8.789063, "val_calibrated": 4.091}"#;
        let point: Datapoint = serde_json::from_str(json).unwrap();
        assert_eq!(
            point.val_date,
            Some(Timestamp::from_second(1_614_054_737).unwrap())
        );
        assert_eq!(point.dev_netid.as_deref(), Some("70B3D54990DC01DA"));
        assert_eq!(point.dev_chid, Some(1));
        assert_eq!(point.val_raw, Some(4.091));
        assert_eq!(point.val_calibrated, Some(4.091));
        assert_eq!(point.val_type.as_deref(), Some("Voltage"));
        assert_eq!(point.val_description.as_deref(), Some("Battery Bank A"));
        assert_eq!(point.dev_tag.as_deref(), Some("MIT-GW06 Pyalong Reserve"));
        assert_eq!(point.dev_site.as_deref(), Some("Minnovation"));
        assert_eq!(
            (point.val_cal, point.val_offset, point.dev_error),
            (Some(0.0), Some(0.0), Some(0))
        );
        assert_eq!(point.dev_type.as_deref(), Some("device"));
        assert_eq!(point.dev_label.as_deref(), Some("Active"));
        assert_eq!(point.dev_category.as_deref(), Some("Device"));
        assert_eq!(point.dev_powersource.as_deref(), Some("Solar"));
        assert_eq!(point.dev_manufacturer.as_deref(), Some("Minnovation"));
        assert_eq!(point.dev_supplier.as_deref(), Some("Minnovation"));
        assert_eq!(point.dev_model.as_deref(), Some("X1 Analog to Digital Sensor"));
        assert_eq!(point.dev_serial.as_deref(), Some("70B3D54990DC01DA"));
        assert_eq!(point.dev_network.as_deref(), Some("The Things Network"));
        assert_eq!((point.loc_lat, point.loc_lng), (Some(49.610711), Some(8.789063)));
    }

    #[test]
    fn missing_null_and_added_attributes_are_fine() {
        let point: Datapoint =
            serde_json::from_str(r#"{"val_date": "1614054737", "dev_chid": null, "new_attr": [1]}"#).unwrap();
        assert_eq!(point.val_date.map(|t| t.as_second()), Some(1_614_054_737));
        assert_eq!(point.dev_chid, None);
        assert_eq!(point.dev_netid, None);
        assert_eq!(point.other["new_attr"], serde_json::json!([1]));
        assert_eq!(point.other.len(), 1);
        let empty: Datapoint = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, Datapoint::default());
        assert!(serde_json::from_str::<Datapoint>(r#"{"val_date": "soon"}"#).is_err());
    }
}
