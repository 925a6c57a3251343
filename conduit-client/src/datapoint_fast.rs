//! [`Datapoint`]s of the usual shape read straight from their bytes; serde decides
//! anything else (see [`client_core::decode::FastJson`]).

use client_core::decode::FastJson;
use client_core::decode::fast_json::{
    FlatValue, fast_f64, fast_i64, flat_to_value, insert_other, scan_object,
};

use crate::datapoints::Datapoint;
use crate::keyed::{integer_or_digits, seconds_of, text_or_number};

/// The attributes, by the bit that marks each one seen (serde refuses a repeated one).
const ATTRIBUTES: [&str; 23] = [
    "val_date",
    "dev_netid",
    "dev_chid",
    "val_raw",
    "val_calibrated",
    "val_type",
    "val_description",
    "val_cal",
    "val_offset",
    "dev_tag",
    "dev_site",
    "dev_error",
    "dev_type",
    "dev_label",
    "dev_category",
    "dev_powersource",
    "dev_manufacturer",
    "dev_supplier",
    "dev_model",
    "dev_serial",
    "dev_network",
    "loc_lat",
    "loc_lng",
];

impl FastJson for Datapoint {
    fn decode_fast(json: &[u8]) -> Option<(Self, usize)> {
        let mut point = Datapoint::default();
        let mut seen = 0u32;
        let end = scan_object(json, |key, value| {
            let Some(index) = ATTRIBUTES.iter().position(|name| *name == key) else {
                return insert_other(&mut point.other, key, value);
            };
            if seen & (1 << index) != 0 {
                return false;
            }
            seen |= 1 << index;
            set(&mut point, key, value).is_some()
        })?;
        Some((point, end))
    }
}

/// Sets one attribute as serde would, or `None` where the fast path is not sure.
fn set(point: &mut Datapoint, key: &str, value: FlatValue<'_>) -> Option<()> {
    match key {
        // The lenient attributes are read by the very functions serde's path uses.
        "val_date" => point.val_date = seconds_of(lenient(value)?),
        "dev_netid" => point.dev_netid = text_or_number(flat_to_value(value)?).ok()?,
        "dev_chid" => point.dev_chid = integer_or_digits(flat_to_value(value)?).ok()?,
        "val_raw" => point.val_raw = double(value)?,
        "val_calibrated" => point.val_calibrated = double(value)?,
        "val_cal" => point.val_cal = double(value)?,
        "val_offset" => point.val_offset = double(value)?,
        "loc_lat" => point.loc_lat = double(value)?,
        "loc_lng" => point.loc_lng = double(value)?,
        "dev_error" => point.dev_error = integer(value)?,
        "val_type" => point.val_type = text(value)?,
        "val_description" => point.val_description = text(value)?,
        "dev_tag" => point.dev_tag = text(value)?,
        "dev_site" => point.dev_site = text(value)?,
        "dev_type" => point.dev_type = text(value)?,
        "dev_label" => point.dev_label = text(value)?,
        "dev_category" => point.dev_category = text(value)?,
        "dev_powersource" => point.dev_powersource = text(value)?,
        "dev_manufacturer" => point.dev_manufacturer = text(value)?,
        "dev_supplier" => point.dev_supplier = text(value)?,
        "dev_model" => point.dev_model = text(value)?,
        "dev_serial" => point.dev_serial = text(value)?,
        "dev_network" => point.dev_network = text(value)?,
        _ => return None,
    }
    Some(())
}

/// An `Option<Value>` as serde reads one: `null` is `None`.
fn lenient(value: FlatValue<'_>) -> Option<Option<serde_json::Value>> {
    match value {
        FlatValue::Null => Some(None),
        value => flat_to_value(value).map(Some),
    }
}

fn double(value: FlatValue<'_>) -> Option<Option<f64>> {
    match value {
        FlatValue::Null => Some(None),
        FlatValue::Number(text) => fast_f64(text).map(Some),
        _ => None,
    }
}

fn integer(value: FlatValue<'_>) -> Option<Option<i64>> {
    match value {
        FlatValue::Null => Some(None),
        FlatValue::Number(text) => fast_i64(text).map(Some),
        _ => None,
    }
}

fn text(value: FlatValue<'_>) -> Option<Option<String>> {
    match value {
        FlatValue::Null => Some(None),
        FlatValue::Str(text) => Some(Some(text.to_owned())),
        _ => None,
    }
}
