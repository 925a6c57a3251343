//! [`Event`] envelopes of the usual shape read straight from their bytes; serde decides
//! anything else (see [`client_core::decode::FastJson`]). The event's `data` is typed
//! straight from its text too where it has the usual shape
//! ([`EventData::from_wire_fast`]), in the same pass when `eventType` comes before it,
//! and through a `serde_json::Value` otherwise, as the serde path types it.

use client_core::decode::FastJson;
use client_core::decode::fast_json::{
    FlatValue, flat_to_value, flat_value, insert_other_at, scan_members, take_member_at,
};
use jiff::Timestamp;
use serde_json::Value;

use crate::events::{Event, EventData};

/// An event's `data` as the scan finds it.
enum Data<'a> {
    /// Typed as it was read (the event type came first).
    Typed(EventData),
    /// To be typed once the event type is known.
    Later(FlatValue<'a>),
}

impl FastJson for Event {
    fn decode_fast(json: &[u8]) -> Option<(Self, usize)> {
        let mut event_id: Option<String> = None;
        let mut target_name: Option<String> = None;
        let mut event_type: Option<String> = None;
        let mut data: Option<Data<'_>> = None;
        let mut timestamp: Option<Timestamp> = None;
        let mut other = serde_json::Map::new();
        let end = scan_members(json, |key, text| match key {
            "eventId" => take_member_at(&mut event_id, text),
            "targetName" => take_member_at(&mut target_name, text),
            "eventType" => take_member_at(&mut event_type, text),
            "timestamp" => take_member_at(&mut timestamp, text),
            // A repeated `data` is serde's to refuse.
            "data" if data.is_some() => None,
            "data" => match (&event_type, text.first()) {
                (Some(event_type), Some(b'{')) => {
                    let (typed, length) = EventData::from_wire_fast(event_type, text)?;
                    data = Some(Data::Typed(typed));
                    Some(length)
                }
                _ => {
                    let (value, length) = flat_value(text)?;
                    data = Some(Data::Later(value));
                    Some(length)
                }
            },
            _ => insert_other_at(&mut other, key, text),
        })?;
        let event_type = event_type?;
        let data = match data {
            Some(Data::Typed(data)) => data,
            Some(Data::Later(FlatValue::Raw(text))) if text.first() == Some(&b'{') => {
                let (data, length) = EventData::from_wire_fast(&event_type, text)?;
                (length == text.len()).then_some(data)?
            }
            // Null, a plain value, or none: serde's way, which refuses most of them.
            Some(Data::Later(value)) => EventData::from_wire(&event_type, flat_to_value(value)?).ok()?,
            None => EventData::from_wire(&event_type, Value::Null).ok()?,
        };
        let event = Event {
            event_id: event_id?,
            target_name: target_name?,
            event_type,
            data,
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
