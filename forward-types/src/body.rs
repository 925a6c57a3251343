//! Decoding a request body: a JSON array of measurement and notification messages.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::measurement::MeasurementMessage;
use crate::notification::NotificationMessage;

/// One forwarded message, of either kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
// A body holds a handful of messages: boxing the larger variant would save little and
// make every match clumsier.
#[allow(clippy::large_enum_variant)]
pub enum ForwardMessage {
    /// A report with measurements.
    Measurement(MeasurementMessage),
    /// A batch of device/quantity notifications.
    Notification(NotificationMessage),
}

impl ForwardMessage {
    /// The message's `hashId` (report id or notification event id).
    pub fn hash_id(&self) -> &str {
        match self {
            ForwardMessage::Measurement(m) => &m.hash_id,
            ForwardMessage::Notification(n) => &n.hash_id,
        }
    }

    /// The delivery attempt (0 for the first delivery).
    pub fn attempt(&self) -> u32 {
        match self {
            ForwardMessage::Measurement(m) => m.attempt,
            ForwardMessage::Notification(n) => n.attempt,
        }
    }
}

/// A body that is not a valid array of messages, with the path of the offending field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid forwarded message at `{path}`: {message}")]
pub struct DecodeError {
    path: String,
    message: String,
}

impl DecodeError {
    fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        DecodeError {
            path: path.into(),
            message: message.into(),
        }
    }

    /// Where the problem is, e.g. `[0].observations[1].significand`; `.` for the body.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What is wrong there.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Fields only measurement messages have: they tell the kinds apart when there are no
/// observations to look at.
const MEASUREMENT_ONLY_FIELDS: [&str; 6] = [
    "createdAt",
    "deviceHashId",
    "deviceIdentifier",
    "fields",
    "locationHashId",
    "userHashId",
];

/// Decodes a request body into its messages.
///
/// The kind of each message is told from its content: observations with `object` or
/// `action` make a notification message, observations with `significand` a measurement
/// message; with no observations, a field only measurement messages carry
/// (`createdAt`, `deviceHashId`, ...) decides. Errors name the offending field's path
/// from the top of the body.
pub fn decode_body(body: &[u8]) -> Result<Vec<ForwardMessage>, DecodeError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| DecodeError::new(".", format!("not valid JSON: {e}")))?;
    let Value::Array(elements) = value else {
        return Err(DecodeError::new(
            ".",
            format!("expected a JSON array of messages, found {}", kind_of(&value)),
        ));
    };
    elements
        .iter()
        .enumerate()
        .map(|(index, element)| decode_message(index, element))
        .collect()
}

fn decode_message(index: usize, element: &Value) -> Result<ForwardMessage, DecodeError> {
    let Value::Object(object) = element else {
        return Err(DecodeError::new(
            format!("[{index}]"),
            format!("expected a message object, found {}", kind_of(element)),
        ));
    };
    let observations = object.get("observations").and_then(Value::as_array);
    let has_observation_field =
        |field: &str| observations.is_some_and(|list| list.iter().any(|o| o.get(field).is_some()));
    let notification = if has_observation_field("object") || has_observation_field("action") {
        true
    } else if has_observation_field("significand") || has_observation_field("orderOfMagnitude") {
        false
    } else {
        !MEASUREMENT_ONLY_FIELDS
            .iter()
            .any(|field| object.contains_key(*field))
    };
    if notification {
        parse(index, element).map(ForwardMessage::Notification)
    } else {
        parse(index, element).map(ForwardMessage::Measurement)
    }
}

fn parse<'a, T: Deserialize<'a>>(index: usize, element: &'a Value) -> Result<T, DecodeError> {
    serde_path_to_error::deserialize(element).map_err(|err| {
        let inner = err.path().to_string();
        let path = if inner == "." {
            format!("[{index}]")
        } else {
            format!("[{index}].{inner}")
        };
        DecodeError::new(path, err.into_inner().to_string())
    })
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
