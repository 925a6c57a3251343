//! [`Event`] envelopes of the usual shape read straight from their bytes; serde decides
//! anything else (see [`client_core::decode::FastJson`]). The event's `data` is read
//! into a `serde_json::Value` by serde_json and typed as the serde path types it.

use client_core::decode::FastJson;
use client_core::decode::fast_json::{FlatValue, fast_rfc3339, flat_to_value, insert_other, scan_object};
use serde_json::Value;

use crate::events::{Event, EventData};

impl FastJson for Event {
    fn decode_fast(json: &[u8]) -> Option<(Self, usize)> {
        let mut event_id = None;
        let mut target_name = None;
        let mut event_type = None;
        let mut data: Option<Value> = None;
        let mut timestamp = None;
        let mut other = serde_json::Map::new();
        let end = scan_object(json, |key, member| {
            match key {
                "eventId" => text(&mut event_id, member),
                "targetName" => text(&mut target_name, member),
                "eventType" => text(&mut event_type, member),
                "data" if data.is_none() => {
                    data = flat_to_value(member);
                    data.is_some()
                }
                "timestamp" => match member {
                    FlatValue::Str(text) if timestamp.is_none() => {
                        timestamp = fast_rfc3339(text);
                        timestamp.is_some()
                    }
                    _ => false,
                },
                // A repeated `data` is serde's to refuse.
                "data" => false,
                _ => insert_other(&mut other, key, member),
            }
        })?;
        let event_type = event_type?;
        let event = Event {
            event_id: event_id?.to_owned(),
            target_name: target_name?.to_owned(),
            event_type: event_type.to_owned(),
            data: EventData::from_wire(event_type, data.unwrap_or(Value::Null)).ok()?,
            timestamp: timestamp?,
            other,
        };
        Some((event, end))
    }
}

/// Takes a plain string into an empty slot (a repeated member is serde's to refuse).
pub(crate) fn text<'a>(slot: &mut Option<&'a str>, member: FlatValue<'a>) -> bool {
    match member {
        FlatValue::Str(text) if slot.is_none() => {
            *slot = Some(text);
            true
        }
        _ => false,
    }
}
