//! Devices: list with filters (in a project, or across an organization), get (in a
//! project, or by id alone), batch label updates and transfers.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use client_core::encode_segment;

use crate::client::Client;
use crate::error::Result;
use crate::events::target_part;
use crate::list::List;
use crate::paging::TokenPages;

/// A device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Device {
    /// `projects/{project}/devices/{device}`.
    pub name: String,
    /// The device type (`temperature`, `touch`, `ccon`, ...).
    #[serde(rename = "type", default)]
    pub device_type: Option<String>,
    /// The product number.
    #[serde(default)]
    pub product_number: Option<String>,
    /// Its labels (`name` and `description` are DT Studio's display name and description).
    #[serde(default)]
    pub labels: Map<String, Value>,
    /// The latest event of each type, as sent.
    #[serde(default)]
    pub reported: Map<String, Value>,
    /// Members this version does not know, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Device {
    /// The device id in `name`.
    pub fn id(&self) -> Option<&str> {
        target_part(&self.name, "devices")
    }

    /// The project id in `name`.
    pub fn project_id(&self) -> Option<&str> {
        target_part(&self.name, "projects")
    }
}

/// A project's devices with DT's filters (`GET /projects/{p}/devices`), built by
/// [`Client::devices`], or an organization's (`GET /projects/-/devices`), built by
/// [`Client::organization_devices`]. List parameters are sent as repeated keys. Ends in the list
/// terminals: [`stream`](Self::stream), [`pages`](Self::pages), [`send`](Self::send)
/// (the first page) and [`to_request`](Self::to_request).
///
/// ```no_run
/// use dt_client::prelude::*;
///
/// # async fn run(client: dt_client::Client) -> Result<(), dt_client::Error> {
/// let mut devices = client
///     .devices("my-project")
///     .device_types(["temperature"])
///     .label_equals("floor", "2")
///     .stream();
/// while let Some(device) = devices.try_next().await? {
///     println!("{} {:?}", device.name, device.labels.get("name"));
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a query does nothing until it is sent or streamed"]
pub struct DevicesQuery<T = Device> {
    list: List<T>,
}

impl<T: DeserializeOwned + Send + 'static> DevicesQuery<T> {
    fn param(self, name: &str, value: impl Into<String>) -> Self {
        DevicesQuery {
            list: self.list.param(name, value),
        }
    }

    /// Free-text search (`query`).
    pub fn query(self, text: impl Into<String>) -> Self {
        self.param("query", text)
    }

    /// Only these devices (`device_ids`, repeated).
    pub fn device_ids<I: IntoIterator<Item = S>, S: Into<String>>(self, ids: I) -> Self {
        ids.into_iter().fold(self, |q, id| q.param("device_ids", id))
    }

    /// Only these types (`device_types`, repeated).
    pub fn device_types<I: IntoIterator<Item = S>, S: Into<String>>(self, types: I) -> Self {
        types.into_iter().fold(self, |q, t| q.param("device_types", t))
    }

    /// Only devices whose label `key` is `value` (`label_filters=key=value`).
    pub fn label_equals(self, key: &str, value: &str) -> Self {
        self.param("label_filters", format!("{key}={value}"))
    }

    /// Only devices that have label `key` (`label_filters=key`).
    pub fn label_present(self, key: &str) -> Self {
        self.param("label_filters", key)
    }

    /// Only the devices of these projects (`projects=projects/{p}`, repeated): a filter
    /// of [`Client::organization_devices`], which lists across an organization.
    pub fn projects<I: IntoIterator<Item = S>, S: AsRef<str>>(self, project_ids: I) -> Self {
        project_ids.into_iter().fold(self, |q, id| {
            q.param("projects", format!("projects/{}", id.as_ref()))
        })
    }

    /// Sorts by `field` (`order_by`, `-field` when descending).
    pub fn order_by(self, field: &str, descending: bool) -> Self {
        let value = if descending {
            format!("-{field}")
        } else {
            field.to_owned()
        };
        self.param("order_by", value)
    }
}

crate::list::list_terminals!(DevicesQuery, "device");

/// An error of one item of a batch update or a transfer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ItemError {
    /// The device it concerns, as sent (`projects/{p}/devices/{d}`).
    #[serde(default)]
    pub device: Option<String>,
    /// The error, as sent.
    #[serde(default)]
    pub status: Option<Value>,
    /// Members this version does not know, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchAnswer {
    #[serde(default, alias = "transferErrors")]
    batch_errors: Vec<ItemError>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BatchUpdate<'a> {
    devices: Vec<String>,
    add_labels: &'a Map<String, Value>,
    remove_labels: &'a [String],
}

/// Labels to add (or overwrite) and remove on many devices at once.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct LabelChanges {
    /// Labels to set.
    pub add: Map<String, Value>,
    /// Label keys to remove.
    pub remove: Vec<String>,
}

impl LabelChanges {
    /// No change yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets label `key` to `value`.
    pub fn set(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.add.insert(key.into(), Value::String(value.into()));
        self
    }

    /// Removes label `key`.
    pub fn remove(mut self, key: impl Into<String>) -> Self {
        self.remove.push(key.into());
        self
    }
}

fn device_name(project_id: &str, device_id: &str) -> String {
    format!("projects/{project_id}/devices/{device_id}")
}

impl Client {
    /// The devices of a project (`GET /projects/{p}/devices`); add filters, then
    /// stream them.
    pub fn devices(&self, project_id: impl Into<String>) -> DevicesQuery {
        let path = format!("projects/{}/devices", encode_segment(&project_id.into()));
        DevicesQuery {
            list: List::new(TokenPages::new(&self.http, path, "devices", self.page_size)),
        }
    }

    /// The devices of every project of organization `organization_id` that the account
    /// can read (`GET /projects/-/devices?organization=organizations/{o}`), with the same
    /// filters as [`devices`](Self::devices), and [`DevicesQuery::projects`] to keep a
    /// few projects of it.
    pub fn organization_devices(&self, organization_id: impl AsRef<str>) -> DevicesQuery {
        let list = List::new(TokenPages::new(
            &self.http,
            "projects/-/devices".into(),
            "devices",
            self.page_size,
        ))
        .param(
            "organization",
            format!("organizations/{}", organization_id.as_ref()),
        );
        DevicesQuery { list }
    }

    /// A device by its id alone, whatever project it is in
    /// (`GET /projects/-/devices/{d}`); [`Device::project_id`] says which.
    pub async fn lookup_device(&self, device_id: &str) -> Result<Device> {
        let path = format!("projects/-/devices/{}", encode_segment(device_id));
        Ok(self.http.get(&path).json_response().await?)
    }

    /// One device.
    pub async fn device(&self, project_id: &str, device_id: &str) -> Result<Device> {
        let path = format!(
            "projects/{}/devices/{}",
            encode_segment(project_id),
            encode_segment(device_id)
        );
        Ok(self.http.get(&path).json_response().await?)
    }

    /// `POST /projects/{p}/devices:batchUpdate`: label changes on many devices. Returns the
    /// devices that failed, each with its error (empty when all succeeded).
    pub async fn update_labels<I, S>(
        &self,
        project_id: &str,
        device_ids: I,
        changes: &LabelChanges,
    ) -> Result<Vec<ItemError>>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let body = BatchUpdate {
            devices: device_ids
                .into_iter()
                .map(|id| device_name(project_id, id.as_ref()))
                .collect(),
            add_labels: &changes.add,
            remove_labels: &changes.remove,
        };
        let answer: BatchAnswer = self
            .http
            .post(&format!(
                "projects/{}/devices:batchUpdate",
                encode_segment(project_id)
            ))
            .json(&body)
            // Setting and removing labels gives the same result when repeated.
            .idempotent(true)
            .json_response()
            .await?;
        Ok(answer.batch_errors)
    }

    /// `POST /projects/{target}/devices:transfer`: moves devices, given as
    /// `(source project, device)`, into `target_project_id`. Returns the devices that
    /// failed, each with its error (`transferErrors`).
    pub async fn transfer<I, P, D>(&self, target_project_id: &str, devices: I) -> Result<Vec<ItemError>>
    where
        I: IntoIterator<Item = (P, D)>,
        P: AsRef<str>,
        D: AsRef<str>,
    {
        let devices: Vec<String> = devices
            .into_iter()
            .map(|(project, device)| device_name(project.as_ref(), device.as_ref()))
            .collect();
        let answer: BatchAnswer = self
            .http
            .post(&format!(
                "projects/{}/devices:transfer",
                encode_segment(target_project_id)
            ))
            .json(&serde_json::json!({ "devices": devices }))
            .json_response()
            .await?;
        Ok(answer.batch_errors)
    }
}
