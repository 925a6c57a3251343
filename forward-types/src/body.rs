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

/// The kind of a forwarded message. With the `hashId` it identifies a message: the two
/// kinds' ids are not disjoint (the document's two examples share `qoa978`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum MessageKind {
    /// A measurement message (a report).
    Measurement,
    /// A notification message (a batch of notifications).
    Notification,
}

impl ForwardMessage {
    /// Which kind of message this is.
    pub fn kind(&self) -> MessageKind {
        match self {
            ForwardMessage::Measurement(_) => MessageKind::Measurement,
            ForwardMessage::Notification(_) => MessageKind::Notification,
        }
    }

    /// The message's `hashId` (report id or notification event id). Unique within its
    /// [`kind`](Self::kind) only.
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

/// The largest body [`decode_body`] decodes: 16 MiB. The document sets no size; a
/// batch of a few reports is kilobytes, and decoding holds the body's JSON tree (several
/// times its size) in memory, so a larger body is refused as
/// [`DecodeErrorKind::TooLarge`] rather than read. A server should stop reading a body at
/// this size too (with axum, `DefaultBodyLimit::max(MAX_BODY_BYTES)`).
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// What kind of [`DecodeError`] it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The body is not a valid array of messages.
    Invalid,
    /// The body is larger than [`MAX_BODY_BYTES`]; it was not decoded.
    TooLarge,
}

/// A body that is not a valid array of messages, with the path of the offending field,
/// or one too large to decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid forwarded message at `{path}`: {message}")]
pub struct DecodeError {
    kind: DecodeErrorKind,
    path: String,
    message: String,
}

impl DecodeError {
    fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        DecodeError {
            kind: DecodeErrorKind::Invalid,
            path: path.into(),
            message: message.into(),
        }
    }

    /// An error for a body of `size` bytes, above [`MAX_BODY_BYTES`].
    pub(crate) fn too_large(size: u64) -> Self {
        DecodeError {
            kind: DecodeErrorKind::TooLarge,
            path: ".".into(),
            message: format!("the body is {size} bytes, above the limit of {MAX_BODY_BYTES} bytes"),
        }
    }

    /// Whether the body was invalid or too large.
    pub fn kind(&self) -> DecodeErrorKind {
        self.kind
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
/// from the top of the body. A body larger than [`MAX_BODY_BYTES`] is refused
/// ([`DecodeErrorKind::TooLarge`]) before it is parsed. A UTF-8 byte-order mark at the
/// start is skipped.
pub fn decode_body(body: &[u8]) -> Result<Vec<ForwardMessage>, DecodeError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(DecodeError::too_large(body.len() as u64));
    }
    // A UTF-8 byte-order mark before the JSON is skipped, as every decoder of the
    // workspace does (this crate does not depend on client-core's).
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
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
