//! Notification messages: devices and quantities added, updated or deleted.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A batch of notifications. Unknown fields are accepted and dropped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NotificationMessage {
    /// Identifier of the notification event that triggered this batch.
    pub hash_id: String,
    /// Unique environment identifier (monitoring or connectivity).
    pub environment_hash_id: String,
    /// The notifications.
    pub observations: Vec<NotificationObservation>,
    /// When the batch was generated.
    #[serde(with = "crate::time")]
    pub generated_at: Timestamp,
    /// 0-indexed delivery attempt; above 0 for redeliveries.
    pub attempt: u32,
}

/// One change to a device or a quantity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NotificationObservation {
    /// Unique notification identifier.
    pub hash_id: String,
    /// What changed.
    pub object: ObjectKind,
    /// How it changed.
    pub action: Action,
    /// Present when `object` is `device`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<DevicePayload>,
    /// Present when `object` is `quantity`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<QuantityPayload>,
    /// When the notification was created.
    #[serde(with = "crate::time")]
    pub created_at: Timestamp,
    /// When the notification was last updated.
    #[serde(with = "crate::time")]
    pub updated_at: Timestamp,
    /// When the object was deleted, if it was.
    #[serde(with = "crate::time::option")]
    pub deleted_at: Option<Timestamp>,
}

/// The `device` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DevicePayload {
    /// Supplier device identifier; may be null.
    pub identifier: Option<String>,
}

/// The `quantity` payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct QuantityPayload {
    /// The quantity's name by language code (`en`, `nl`, ...).
    pub name: BTreeMap<String, String>,
}

open_enums::open_enum! {
    /// The kind of object a notification is about.
    ObjectKind {
        /// `device`
        Device => "device",
        /// `quantity`
        Quantity => "quantity",
    }
}

open_enums::open_enum! {
    /// What happened to the object.
    Action {
        /// `add`
        Add => "add",
        /// `update`
        Update => "update",
        /// `delete`
        Delete => "delete",
    }
}
