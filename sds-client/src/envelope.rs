//! Response envelopes the document does not show: a list may come bare or under a key,
//! one resource bare or under its name. Both are read, so neither reading breaks a call.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Error, Result};

/// The items of a list response: a bare array, or the first array among `keys` (then
/// any array member, for a renamed key) of an object.
pub(crate) fn list<T: DeserializeOwned>(body: Value, keys: &[&str], what: &str) -> Result<Vec<T>> {
    let items = match body {
        Value::Array(items) => items,
        Value::Object(mut object) => {
            let key = keys
                .iter()
                .find(|k| object.get(**k).is_some_and(Value::is_array))
                .map(|k| (*k).to_owned())
                .or_else(|| object.iter().find(|(_, v)| v.is_array()).map(|(k, _)| k.clone()));
            match key.and_then(|k| object.remove(&k)) {
                Some(Value::Array(items)) => items,
                _ => return Err(decode_error(format!("{what}: the response holds no list"))),
            }
        }
        _ => return Err(decode_error(format!("{what}: the response is not a list"))),
    };
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            serde_json::from_value(item).map_err(|e| decode_error(format!("{what}: item {index}: {e}")))
        })
        .collect()
}

/// One resource: the object itself, or the object under one of `keys`.
pub(crate) fn single<T: DeserializeOwned>(body: Value, keys: &[&str], what: &str) -> Result<T> {
    let body = match body {
        Value::Object(mut object) => match keys
            .iter()
            .find(|k| object.get(**k).is_some_and(Value::is_object))
        {
            Some(key) if object.len() == 1 => object.remove(*key).unwrap_or_default(),
            _ => Value::Object(object),
        },
        other => other,
    };
    serde_json::from_value(body).map_err(|e| decode_error(format!("{what}: {e}")))
}

pub(crate) fn decode_error(message: String) -> Error {
    Error::Decode(client_core::Error::decode(message))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn lists_are_read_bare_under_their_key_or_under_another_key() {
        let keys = &["sensors"];
        let bare: Vec<i32> = list(json!([1, 2]), keys, "x").unwrap();
        let keyed: Vec<i32> = list(json!({"sensors": [3], "_links": {}}), keys, "x").unwrap();
        let renamed: Vec<i32> = list(json!({"items": [4]}), keys, "x").unwrap();
        assert_eq!((bare, keyed, renamed), (vec![1, 2], vec![3], vec![4]));
        assert!(matches!(
            list::<i32>(json!({"a": 1}), keys, "x"),
            Err(Error::Decode(_))
        ));
        assert!(matches!(
            list::<i32>(json!([true]), keys, "x"),
            Err(Error::Decode(_))
        ));
    }

    #[test]
    fn one_resource_is_read_bare_or_wrapped() {
        #[derive(serde::Deserialize, PartialEq, Debug)]
        struct Thing {
            id: String,
        }
        let keys = &["dataSource"];
        let bare: Thing = single(json!({"id": "a"}), keys, "x").unwrap();
        let wrapped: Thing = single(json!({"dataSource": {"id": "b"}}), keys, "x").unwrap();
        assert_eq!((bare.id, wrapped.id), ("a".to_owned(), "b".to_owned()));
    }
}
