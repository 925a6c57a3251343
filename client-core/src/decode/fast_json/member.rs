//! Typed members read straight from a [`FlatValue`], as serde reads them into the same
//! field types: what a [`FastJson`] record built of several typed members (nested
//! objects and arrays of them included) puts together without writing a matcher per
//! field.

use jiff::Timestamp;
use serde_json::{Map, Value};

use super::scan::{FlatValue, flat_value, scan_elements};
use super::{FastJson, fast_f64, fast_i64, fast_rfc3339, flat_to_value};

/// A field type the fast path reads from one member's value.
///
/// The contract, as for [`FastJson`]: whenever [`FastMember::from_flat`] returns a value,
/// it is the value serde_json decodes from that member's text into this type; `None`
/// otherwise (serde then decodes the whole record, and reports any error).
pub trait FastMember: Sized {
    /// The value of one member, or `None` for serde to decide.
    fn from_flat(value: FlatValue<'_>) -> Option<Self>;

    /// The value at the start of `json` (a member's text from its first byte on), and
    /// its length; `None` for serde to decide. By default [`flat_value`] then
    /// [`from_flat`](Self::from_flat); objects and arrays read themselves straight from
    /// the text instead, in the pass that reads their record (see
    /// [`scan_members`](super::scan_members)).
    fn from_json(json: &[u8]) -> Option<(Self, usize)> {
        let (value, length) = flat_value(json)?;
        Some((Self::from_flat(value)?, length))
    }
}

/// Takes one member into an empty slot: `false` (decline) when the member is repeated
/// (serde refuses a repeated field) or its value is not one the fast path is sure of.
///
/// ```
/// use client_core::decode::fast_json::{FlatValue, take_member};
///
/// let mut value: Option<Option<f64>> = None;
/// assert!(take_member(&mut value, FlatValue::Number("21.5")));
/// assert_eq!(value, Some(Some(21.5)));
/// assert!(!take_member(&mut value, FlatValue::Null), "a repeated member is serde's");
/// ```
pub fn take_member<T: FastMember>(slot: &mut Option<T>, value: FlatValue<'_>) -> bool {
    if slot.is_some() {
        return false;
    }
    *slot = T::from_flat(value);
    slot.is_some()
}

/// [`take_member`] from the member's text (see [`FastMember::from_json`]): the length of
/// the value taken, or `None` (decline) for a repeated member or a value the fast path is
/// not sure of. What a record given its members by
/// [`scan_members`](super::scan_members) calls.
pub fn take_member_at<T: FastMember>(slot: &mut Option<T>, json: &[u8]) -> Option<usize> {
    if slot.is_some() {
        return None;
    }
    let (value, length) = T::from_json(json)?;
    *slot = Some(value);
    Some(length)
}

/// A member whose value is a whole object of a [`FastJson`] type (a nested record): its
/// text must be exactly that one object. [`FastMember::from_flat`] of such a type.
pub fn object_member<T: FastJson>(value: FlatValue<'_>) -> Option<T> {
    match value {
        FlatValue::Raw(text) if text.first() == Some(&b'{') => {
            let (record, end) = T::decode_fast(text)?;
            (end == text.len()).then_some(record)
        }
        _ => None,
    }
}

/// A nested record of a [`FastJson`] type read straight from the member's text, and its
/// length: [`FastMember::from_json`] of such a type.
pub fn object_member_at<T: FastJson>(json: &[u8]) -> Option<(T, usize)> {
    if json.first() != Some(&b'{') {
        return None;
    }
    T::decode_fast(json)
}

impl FastMember for f64 {
    fn from_flat(value: FlatValue<'_>) -> Option<Self> {
        match value {
            FlatValue::Number(text) => fast_f64(text),
            _ => None,
        }
    }
}

impl FastMember for i64 {
    fn from_flat(value: FlatValue<'_>) -> Option<Self> {
        match value {
            FlatValue::Number(text) => fast_i64(text),
            _ => None,
        }
    }
}

impl FastMember for u64 {
    fn from_flat(value: FlatValue<'_>) -> Option<Self> {
        // A negative integer is serde's to refuse; `-0` is already declined by `fast_i64`.
        i64::from_flat(value).and_then(|n| u64::try_from(n).ok())
    }
}

impl FastMember for bool {
    fn from_flat(value: FlatValue<'_>) -> Option<Self> {
        match value {
            FlatValue::Bool(b) => Some(b),
            _ => None,
        }
    }
}

impl FastMember for String {
    fn from_flat(value: FlatValue<'_>) -> Option<Self> {
        match value {
            FlatValue::Str(text) => Some(text.to_owned()),
            // A string with escapes: serde_json reads (and checks) it.
            FlatValue::Raw(text) if text.first() == Some(&b'"') => serde_json::from_slice(text).ok(),
            _ => None,
        }
    }
}

impl FastMember for Timestamp {
    fn from_flat(value: FlatValue<'_>) -> Option<Self> {
        match value {
            FlatValue::Str(text) => fast_rfc3339(text),
            _ => None,
        }
    }
}

impl FastMember for Value {
    fn from_flat(value: FlatValue<'_>) -> Option<Self> {
        flat_to_value(value)
    }
}

impl FastMember for Map<String, Value> {
    fn from_flat(value: FlatValue<'_>) -> Option<Self> {
        match value {
            FlatValue::Raw(text) if text.first() == Some(&b'{') => serde_json::from_slice(text).ok(),
            _ => None,
        }
    }
}

impl<T: FastMember> FastMember for Option<T> {
    fn from_flat(value: FlatValue<'_>) -> Option<Self> {
        match value {
            FlatValue::Null => Some(None),
            value => T::from_flat(value).map(Some),
        }
    }

    fn from_json(json: &[u8]) -> Option<(Self, usize)> {
        if json.first() == Some(&b'n') {
            let (value, length) = flat_value(json)?;
            return Some((Self::from_flat(value)?, length));
        }
        let (value, length) = T::from_json(json)?;
        Some((Some(value), length))
    }
}

impl<T: FastMember> FastMember for Vec<T> {
    fn from_flat(value: FlatValue<'_>) -> Option<Self> {
        let FlatValue::Raw(text) = value else {
            return None;
        };
        let (items, end) = Self::from_json(text)?;
        (end == text.len()).then_some(items)
    }

    fn from_json(json: &[u8]) -> Option<(Self, usize)> {
        if json.first() != Some(&b'[') {
            return None;
        }
        let mut items = Vec::new();
        let end = scan_elements(json, |text| {
            let (item, length) = T::from_json(text)?;
            items.push(item);
            Some(length)
        })?;
        Some((items, end))
    }
}

#[cfg(test)]
mod tests {
    use serde::de::DeserializeOwned;

    use super::*;

    /// The member `v` of `{"v": text}` by the fast path, checked against serde's.
    fn both<T: FastMember + DeserializeOwned + PartialEq + std::fmt::Debug>(text: &str) -> Option<T> {
        let json = format!(r#"{{"v":{text}}}"#);
        let mut fast = None;
        super::super::scan_object(json.as_bytes(), |_, value| {
            fast = T::from_flat(value);
            true
        })?;
        // Read straight from the text, the same value.
        let mut at_text = None;
        super::super::scan_members(json.as_bytes(), |_, rest| {
            let (value, length) = T::from_json(rest)?;
            at_text = Some(value);
            Some(length)
        });
        assert_eq!(at_text, fast, "{text}");
        if let Some(fast) = &fast {
            #[derive(serde::Deserialize)]
            struct Holder<T> {
                v: T,
            }
            let serde: Holder<T> = serde_json::from_str(&json).expect("serde takes what the fast path takes");
            assert_eq!(fast, &serde.v, "{text}");
        }
        fast
    }

    #[test]
    fn reads_what_serde_reads_and_declines_the_rest() {
        assert_eq!(both::<f64>("21"), Some(21.0));
        assert_eq!(both::<f64>("null"), None);
        assert_eq!(both::<Option<f64>>("null"), Some(None));
        assert_eq!(both::<Option<f64>>("-1.5e2"), Some(Some(-150.0)));
        assert_eq!(both::<u64>("7"), Some(7));
        assert_eq!(both::<u64>("-7"), None);
        assert_eq!(both::<u64>("-0"), None);
        assert_eq!(both::<u64>("7.0"), None);
        assert_eq!(both::<i64>("-7"), Some(-7));
        assert_eq!(both::<bool>("true"), Some(true));
        assert_eq!(both::<String>(r#""a""#), Some("a".to_owned()));
        assert_eq!(both::<String>(r#""a\"b""#), Some("a\"b".to_owned()));
        assert_eq!(both::<String>("1"), None);
        assert_eq!(
            both::<Timestamp>(r#""2024-01-01T00:00:00Z""#),
            Some("2024-01-01T00:00:00Z".parse().unwrap())
        );
        assert_eq!(both::<Timestamp>(r#""2024-01-01""#), None);
        assert_eq!(
            both::<Vec<String>>(r#"[ "a","b" ]"#),
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(both::<Vec<String>>("[]"), Some(vec![]));
        assert_eq!(both::<Vec<String>>("null"), None);
        assert_eq!(both::<Vec<u64>>("[1,-1]"), None);
        assert_eq!(both::<Vec<Value>>(r#"[1,{"a":[]}]"#).map(|v| v.len()), Some(2));
        assert_eq!(both::<Map<String, Value>>(r#"{"a":1}"#).map(|m| m.len()), Some(1));
        assert_eq!(both::<Map<String, Value>>("null"), None);
    }

    #[test]
    fn a_repeated_member_is_declined() {
        let mut slot: Option<bool> = None;
        assert!(take_member(&mut slot, FlatValue::Bool(false)));
        assert!(!take_member(&mut slot, FlatValue::Bool(false)));
        let mut slot: Option<f64> = None;
        assert!(!take_member(&mut slot, FlatValue::Str("1")));
        assert_eq!(slot, None);
    }
}
