//! A signal's id as a record holds it: text that is stored inline when short.

use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

/// The id of a signal (`"Velocity"`), as [`Record::signal_id`](crate::Record::signal_id)
/// holds it. It is a string: it derefs to [`str`] (so `&record.signal_id` goes where a
/// `&str` is expected), compares with `&str` and [`String`], prints as its text, and
/// (de)serializes as a JSON string. A map keyed by `SignalId` is looked up with a
/// `&str`.
///
/// Where your code wants a `String` (a `HashMap<String, _>` key, a `&String`
/// parameter), take [`as_str`](Self::as_str) or [`into_string`](Self::into_string).
///
/// An id of up to 24 bytes (12 on 32-bit targets) is stored inline, with no allocation
/// of its own, and a longer one on the heap. Why it is not a `String`: a typed stream
/// decodes records on one thread and hands them to yours, and a heap allocation per
/// record, freed on another thread than the one that made it, cost about as much as
/// decoding the rest of the record (the NDJSON stream benchmark, `cargo bench -p
/// preventos-client --bench stream`, read about 1.6 times as many records a second
/// with this type).
///
/// ```
/// use preventos_client::SignalId;
///
/// let id = SignalId::from("Velocity");
/// assert_eq!(id, "Velocity");
/// assert_eq!(id.len(), 8);
/// assert!(id.starts_with("Vel"));
/// let text: String = id.into_string();
/// assert_eq!(text, "Velocity");
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SignalId(CompactString);

impl SignalId {
    /// An id of `text`.
    pub fn new(text: &str) -> Self {
        SignalId(CompactString::new(text))
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The id's text as a `String`.
    pub fn into_string(self) -> String {
        self.0.into_string()
    }
}

impl Deref for SignalId {
    type Target = str;

    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

impl AsRef<str> for SignalId {
    fn as_ref(&self) -> &str {
        self.0.as_str()
    }
}

/// Lets a map keyed by `SignalId` be looked up with a `&str` (its hash and order are
/// those of the text).
impl Borrow<str> for SignalId {
    fn borrow(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for SignalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl fmt::Debug for SignalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.0.as_str(), f)
    }
}

impl From<&str> for SignalId {
    fn from(text: &str) -> Self {
        SignalId::new(text)
    }
}

impl From<&String> for SignalId {
    fn from(text: &String) -> Self {
        SignalId::new(text)
    }
}

impl From<String> for SignalId {
    fn from(text: String) -> Self {
        SignalId(CompactString::from(text))
    }
}

impl From<Box<str>> for SignalId {
    fn from(text: Box<str>) -> Self {
        SignalId(CompactString::from(text))
    }
}

impl From<std::borrow::Cow<'_, str>> for SignalId {
    fn from(text: std::borrow::Cow<'_, str>) -> Self {
        SignalId(CompactString::from(text))
    }
}

impl From<SignalId> for String {
    fn from(id: SignalId) -> Self {
        id.0.into_string()
    }
}

impl FromStr for SignalId {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(SignalId::new(text))
    }
}

impl PartialEq<str> for SignalId {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SignalId {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for SignalId {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<SignalId> for str {
    fn eq(&self, other: &SignalId) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<SignalId> for &str {
    fn eq(&self, other: &SignalId) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<SignalId> for String {
    fn eq(&self, other: &SignalId) -> bool {
        self.as_str() == other.as_str()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::SignalId;

    #[test]
    fn compares_prints_and_serializes_as_its_text() {
        let short = SignalId::from("Velocity");
        let long = SignalId::from("a signal id longer than twenty-four bytes".to_owned());
        assert_eq!(short, "Velocity");
        assert_eq!("Velocity", short);
        assert_eq!(short, "Velocity".to_owned());
        assert_eq!(long.as_str(), "a signal id longer than twenty-four bytes");
        assert_eq!(short.to_string(), "Velocity");
        assert_eq!(format!("{short:?}"), "\"Velocity\"");
        assert_eq!(serde_json::to_string(&short).unwrap(), "\"Velocity\"");
        let back: SignalId = serde_json::from_str("\"Dep\\u0074h\"").unwrap();
        assert_eq!(back, "Depth");
        assert!(serde_json::from_str::<SignalId>("1").is_err());
        assert_eq!(String::from(long.clone()), long.as_str());
        let (a, b) = (SignalId::from("A"), SignalId::from("B"));
        assert!(a < b);
        assert_eq!(SignalId::from(Box::<str>::from("Flow")), "Flow");
        assert_eq!(SignalId::from(std::borrow::Cow::Borrowed("Flow")), "Flow");
        assert_eq!(SignalId::from("Flow").into_string(), "Flow");
    }

    #[test]
    fn a_map_by_id_is_looked_up_by_text() {
        let map = HashMap::from([(SignalId::from("Depth"), 2)]);
        assert_eq!(map.get("Depth"), Some(&2));
    }
}
