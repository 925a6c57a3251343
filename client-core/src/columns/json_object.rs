//! A record's JSON object, member by member, each member's text as sent.

use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::error::{Error, Result};

/// The members of a JSON object text, in the order sent, each value's text as sent:
/// the columns [`take`](Self::take) what they model, and
/// [`rest`](Self::rest) writes the others as one JSON object (the `extra` column).
#[derive(Debug)]
pub struct JsonObject<'a> {
    members: Vec<(String, Option<&'a RawValue>)>,
}

impl<'a> JsonObject<'a> {
    /// Reads `text`, which must be one JSON object; a member named twice is an error
    /// (serde's typed records refuse it too).
    pub fn parse(text: &'a str) -> Result<JsonObject<'a>> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let members = deserializer
            .deserialize_map(Members)
            .and_then(|members| deserializer.end().map(|()| members))
            .map_err(|e| Error::decode(format!("a record is not a JSON object: {e}")))?;
        for (i, (name, _)) in members.iter().enumerate() {
            if members[..i].iter().any(|(earlier, _)| earlier == name) {
                return Err(Error::decode(format!("a record has the member `{name}` twice")));
            }
        }
        Ok(JsonObject { members })
    }

    /// The members not taken, in the order sent: name and value text.
    pub fn members(&self) -> impl Iterator<Item = (&str, &'a RawValue)> + '_ {
        self.members
            .iter()
            .filter_map(|(name, value)| value.map(|value| (name.as_str(), value)))
    }

    /// Takes the member `name`'s value (`None`: absent, or taken already).
    pub fn take(&mut self, name: &str) -> Option<&'a RawValue> {
        self.members
            .iter_mut()
            .find(|(member, _)| member == name)
            .and_then(|(_, value)| value.take())
    }

    /// The member `name`'s value, left in place (`None`: absent, or taken already).
    pub fn get(&self, name: &str) -> Option<&'a RawValue> {
        self.members
            .iter()
            .find(|(member, _)| member == name)
            .and_then(|(_, value)| *value)
    }

    /// Takes the member `name` when its value is `null` or its text is `rendering` (what
    /// a column shows of it, as JSON text): the column then says all the member said;
    /// otherwise the member stays, for [`rest`](Self::rest). Returns whether it was taken.
    pub fn take_if_rendered(&mut self, name: &str, rendering: Option<&str>) -> bool {
        let Some(value) = self.get(name) else { return false };
        let text = value.get().trim();
        if text == "null" || rendering == Some(text) {
            self.take(name);
            return true;
        }
        false
    }

    /// Takes the member `name` when its value is a JSON string (its text) or `null`
    /// (`None`); a value of another kind stays, for [`rest`](Self::rest), and gives
    /// `None`: a column of text never drops a value it cannot hold.
    pub fn take_string(&mut self, name: &str) -> Option<String> {
        let value = self.get(name)?;
        let text = serde_json::from_str::<Option<String>>(value.get()).ok()?;
        self.take(name);
        text
    }

    /// Takes the member `name` when its value is `null` (`None`) or an integer whose
    /// text is exactly its `i64` rendering (`Some`); any other value (`1.0`, `"2"`,
    /// `007`... as far as JSON allows) stays, for [`rest`](Self::rest), and gives
    /// `None`.
    pub fn take_integer(&mut self, name: &str) -> Option<i64> {
        let value = self.get(name)?;
        let text = value.get().trim();
        if text == "null" {
            self.take(name);
            return None;
        }
        let integer = text.parse::<i64>().ok().filter(|i| i.to_string() == text)?;
        self.take(name);
        Some(integer)
    }

    /// Takes the member `name` as a string: `Ok(None)` when absent or `null`, an error
    /// when it is another kind of value.
    pub fn take_str(&mut self, name: &str) -> Result<Option<String>> {
        match self.take(name) {
            None => Ok(None),
            Some(value) => serde_json::from_str::<Option<String>>(value.get())
                .map_err(|_| Error::decode(format!("member `{name}` is not a string: {}", value.get()))),
        }
    }

    /// The members not taken, as one JSON object text (names re-escaped, values as
    /// sent, in the order sent); `None` when every member was taken.
    pub fn rest(&self) -> Option<String> {
        let mut out = String::new();
        for (name, value) in &self.members {
            let Some(value) = value else { continue };
            out.push(if out.is_empty() { '{' } else { ',' });
            // A string's JSON text: serialising one cannot fail.
            out.push_str(&serde_json::to_string(name).unwrap_or_default());
            out.push(':');
            out.push_str(value.get());
        }
        if out.is_empty() {
            return None;
        }
        out.push('}');
        Some(out)
    }
}

struct Members;

impl<'de> Visitor<'de> for Members {
    type Value = Vec<(String, Option<&'de RawValue>)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Self::Value, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(8));
        while let Some((name, value)) = map.next_entry::<String, &'de RawValue>()? {
            members.push((name, Some(value)));
        }
        Ok(members)
    }
}
