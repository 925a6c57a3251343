//! A fast path for flat JSON records of a known shape, with serde as the judge.
//!
//! Decoding a typed record through serde costs about three equal parts: tokenising,
//! matching fields, and parsing timestamps. Most records of these APIs are one flat
//! object of the usual members with plain values, so a record type can read them
//! straight from the bytes: [`scan_object`] gives each member's key and value without
//! allocating, and [`fast_f64`], [`fast_i64`] and [`fast_rfc3339`] read numbers and
//! timestamps exactly as serde_json and jiff do, in the range where that is certain.
//!
//! Whatever the fast path is not sure of (an escape, a number with more digits than a
//! double holds exactly, a nested value where a plain one is expected, a duplicate key,
//! an error of any kind) it declines, and serde decodes the whole record. So the result
//! is the same on every input, errors included: serde reports every error. Unknown
//! members with plain values go straight into the record's map of other members.
//!
//! A record type offers its fast path by implementing [`FastJson`]. A decoder of generic
//! records takes it as a [`FastPath`] from [`fast_path`], which gives it when the record
//! type asked for is that type, and nothing (serde alone) for any other type:
//! [`NdjsonDecoder::with_fast_path`](super::NdjsonDecoder::with_fast_path),
//! [`JsonArrayDecoder::with_fast_path`](super::JsonArrayDecoder::with_fast_path),
//! [`from_slice_fast`] and [`vec_from_slice_fast`].
//!
//! Records made of several typed members, nested records and arrays of them included,
//! take their members from [`scan_members`], each with [`take_member_at`] into a
//! [`FastMember`] field type, which reads a nested record or array straight from the
//! text, in the same pass ([`take_member`] does the same from a [`FlatValue`] that
//! [`scan_object`] gives).
//!
//! The sameness is tested on a fixed corpus in CI, by a property test, and by the
//! differential fuzz target `fast_json` in `fuzz/`.

mod member;
mod number;
mod scan;
mod timestamp;

use std::any::{Any, TypeId};

use serde::de::DeserializeOwned;

pub use member::{FastMember, object_member, object_member_at, take_member, take_member_at};
pub use number::{fast_f64, fast_f64_bytes, fast_f64_prefix, fast_i64, number_value};
use scan::skip_whitespace;
pub use scan::{
    FlatValue, flat_value, is_json_number, only_whitespace, scan_array, scan_elements, scan_members,
    scan_object, until_quote,
};
pub use timestamp::{fast_rfc3339, fast_rfc3339_bytes};

/// A record type with a fast decoder for its usual shape.
///
/// The contract: whenever [`FastJson::decode_fast`] returns a record, it is the record
/// serde_json would decode from the same text. Return `None` for anything else.
pub trait FastJson: DeserializeOwned + 'static {
    /// The record the JSON object at the start of `json` holds, and the offset just
    /// past that object; or `None`, for serde to decode `json`. What follows the object
    /// is the caller's to check.
    fn decode_fast(json: &[u8]) -> Option<(Self, usize)>;
}

/// A record type's fast path as a decoder holds it: the record at the start of a JSON
/// text and the offset past it, or `None` for serde to decode. Made by [`fast_path`].
pub type FastPath<T> = fn(&[u8]) -> Option<(T, usize)>;

/// `F`'s fast path, as a fast path for records of type `U`: `Some` when `U` is `F`,
/// `None` (serde alone) for any other type. This is how a query generic over its record
/// type (`records::<U>()`) uses the fast path of its default record type, and serde for a
/// type of yours.
pub fn fast_path<U: 'static, F: FastJson>() -> Option<FastPath<U>> {
    (TypeId::of::<U>() == TypeId::of::<F>()).then_some(fast_path_as::<U, F> as FastPath<U>)
}

#[inline]
fn fast_path_as<U: 'static, F: FastJson>(json: &[u8]) -> Option<(U, usize)> {
    let mut slot: Option<(U, usize)> = None;
    // `U` is `F` (checked by `fast_path`), so the downcast succeeds; no record is boxed.
    if let Some(fast) = (&mut slot as &mut dyn Any).downcast_mut::<Option<(F, usize)>>() {
        *fast = F::decode_fast(json);
    }
    slot
}

/// Decodes one JSON text as [`serde_json::from_slice`] does (optional whitespace around
/// one value), by the fast path when there is one and it is sure of the text, by
/// serde_json otherwise. The result is the same either way.
#[inline]
pub fn from_slice_fast<T: DeserializeOwned>(json: &[u8], fast: Option<FastPath<T>>) -> serde_json::Result<T> {
    match fast.and_then(|fast| fast(json)) {
        Some((record, end)) if only_whitespace(json, end) => Ok(record),
        _ => serde_json::from_slice(json),
    }
}

/// Decodes a JSON array of records as `serde_json::from_slice::<Vec<T>>` does: by the
/// fast path when it is sure of every element, by serde_json (the whole array) otherwise.
/// Any error is serde_json's own, from decoding the whole text.
pub fn vec_from_slice_fast<T: DeserializeOwned>(
    json: &[u8],
    fast: Option<FastPath<T>>,
) -> serde_json::Result<Vec<T>> {
    let Some(fast) = fast else {
        return serde_json::from_slice(json);
    };
    array_fast(json, fast).map_or_else(|| serde_json::from_slice(json), Ok)
}

/// The elements of the JSON array `json` (optional whitespace around it), by the fast
/// path alone: `None` when it is not sure of every element, or of the array's text
/// (serde then decides, and reports any error). Where it answers, the answer is
/// `serde_json::from_slice::<Vec<T>>`'s.
pub fn array_fast<T>(json: &[u8], fast: FastPath<T>) -> Option<Vec<T>> {
    let at = skip_whitespace(json, 0);
    let (records, length) = array_fast_at(&json[at..], fast)?;
    only_whitespace(json, at + length).then_some(records)
}

/// The elements of the JSON array at the start of `json` (no whitespace before it) by the
/// fast path alone, and the array's length: [`array_fast`] for a record that holds the
/// array as a member (see [`scan_members`]).
pub fn array_fast_at<T>(json: &[u8], fast: FastPath<T>) -> Option<(Vec<T>, usize)> {
    if json.first() != Some(&b'[') {
        return None;
    }
    let mut records = Vec::new();
    // An element the fast path declines sends the whole array to serde: decoded apart,
    // it would escape serde's count of nesting levels.
    let end = scan_elements(json, |text| {
        let (record, length) = fast(text)?;
        records.push(record);
        Some(length)
    })?;
    Some((records, end))
}

/// Decodes one JSON text into `U`, by `F`'s fast path when `U` is `F`:
/// `from_slice_fast(json, fast_path::<U, F>())`.
///
/// ```
/// use client_core::decode::FastJson;
/// use client_core::decode::fast_json::{FlatValue, from_slice_via, scan_object};
///
/// #[derive(Debug, PartialEq, serde::Deserialize)]
/// struct Reading { value: f64 }
///
/// impl FastJson for Reading {
///     fn decode_fast(json: &[u8]) -> Option<(Self, usize)> {
///         let mut value = None;
///         let end = scan_object(json, |key, member| match (key, member) {
///             ("value", FlatValue::Number(text)) if value.is_none() => {
///                 value = client_core::decode::fast_json::fast_f64(text);
///                 value.is_some()
///             }
///             _ => false, // serde decides (and refuses unknown members here)
///         })?;
///         Some((Reading { value: value? }, end))
///     }
/// }
///
/// let fast: Reading = from_slice_via::<Reading, Reading>(br#"{"value":0.5}"#)?;
/// let by_serde: Reading = from_slice_via::<Reading, Reading>(br#"{"value":5e-1}"#)?;
/// assert_eq!(fast, by_serde);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn from_slice_via<U: DeserializeOwned + 'static, F: FastJson>(json: &[u8]) -> serde_json::Result<U> {
    from_slice_fast(json, fast_path::<U, F>())
}

/// Adds one unknown member to a record's map of other members: `false` (decline) when
/// the key is already there (serde decides duplicates) or the value does not parse.
pub fn insert_other(
    other: &mut serde_json::Map<String, serde_json::Value>,
    key: &str,
    value: FlatValue<'_>,
) -> bool {
    let Some(value) = flat_to_value(value) else {
        return false;
    };
    other.insert(key.to_owned(), value).is_none()
}

/// [`insert_other`] from the member's text: the length of its value, or `None` (decline).
/// For records given their members by [`scan_members`].
pub fn insert_other_at(
    other: &mut serde_json::Map<String, serde_json::Value>,
    key: &str,
    json: &[u8],
) -> Option<usize> {
    let (value, length) = flat_value(json)?;
    insert_other(other, key, value).then_some(length)
}

/// The `serde_json::Value` of one member's value, as serde_json reads it; `None` when
/// its text does not parse.
pub fn flat_to_value(value: FlatValue<'_>) -> Option<serde_json::Value> {
    Some(match value {
        FlatValue::Str(text) => serde_json::Value::String(text.to_owned()),
        FlatValue::Number(text) => number_value(text)?,
        FlatValue::Bool(b) => serde_json::Value::Bool(b),
        FlatValue::Null => serde_json::Value::Null,
        FlatValue::Raw(text) => serde_json::from_slice(text).ok()?,
    })
}

/// `value` as type `U` when `F` is `U`; `None` (and `value` dropped) otherwise. This is
/// how a read generic over its record type (`records::<U>()`) hands on the records it
/// decoded as its default type `F` by a path of that type's own, without boxing them:
/// it checks the types first, as [`fast_path`] does.
///
/// ```
/// use client_core::decode::fast_json::same_type;
///
/// assert_eq!(same_type::<Vec<u8>, Vec<u8>>(vec![1]), Some(vec![1]));
/// assert_eq!(same_type::<String, Vec<u8>>(vec![1]), None);
/// ```
pub fn same_type<U: 'static, F: 'static>(value: F) -> Option<U> {
    let mut slot = Some(value);
    (&mut slot as &mut dyn Any)
        .downcast_mut::<Option<U>>()
        .and_then(Option::take)
}

#[doc(hidden)]
/// Checks a [`FastJson`] implementation on one input, for tests and fuzz targets: where
/// the fast path gives a record, serde_json must decode the same object text to the same
/// record, compared by `Debug` (which tells every two doubles apart, `-0.0` and `0.0`
/// too). Returns whether the fast path took the input, or what differed.
pub fn check_fast_path<F: FastJson + std::fmt::Debug>(json: &[u8]) -> Result<bool, String> {
    let Some((fast, end)) = F::decode_fast(json) else {
        return Ok(false);
    };
    let text = String::from_utf8_lossy(json);
    let Some(object) = json.get(..end) else {
        return Err(format!("the fast path ends past the input at {end}: {text}"));
    };
    match serde_json::from_slice::<F>(object) {
        Ok(serde) if format!("{serde:?}") == format!("{fast:?}") => Ok(true),
        Ok(serde) => Err(format!("fast {fast:?} but serde {serde:?} from {text}")),
        Err(e) => Err(format!("fast {fast:?} but serde fails ({e}) on {text}")),
    }
}
