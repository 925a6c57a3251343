//! Today's integrations: an iTwin's nodes (`GET integrations/nodes`) and the
//! `changeState` tree of devices and sensors (`POST integrations/integrate`).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use client_core::open_enum;

use crate::client::Client;
use crate::error::{Error, Needs, Result};
use crate::list::List;

/// A node of an iTwin's integrations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Node {
    /// The node id (`nodeId` of an integration).
    pub id: String,
    /// The node type.
    #[serde(rename = "type", default)]
    pub node_type: Option<String>,
    /// Its properties.
    #[serde(default)]
    pub props: Map<String, Value>,
    /// Members this version does not know, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

open_enum! {
    /// What an integration does to an entity.
    ChangeState {
        /// Create it.
        New => "new",
        /// Change its properties.
        Modified => "modified",
        /// Remove it.
        Deleted => "deleted",
        /// Leave it as it is (to reach its children).
        Unchanged => "unchanged",
    }
}

/// The `integration` tree: an optional node, its change, and devices.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Integration {
    /// The node the devices belong to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_id: Option<String>,
    /// What happens to the node itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_state: Option<ChangeState>,
    /// The node's properties.
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub props: Map<String, Value>,
    /// The devices.
    pub devices: Vec<DeviceChange>,
}

/// A device of an integration, with its sensors.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DeviceChange {
    /// What happens to the device.
    pub change_state: ChangeState,
    /// The caller's id of the device, used to update or delete it later.
    pub ref_id: String,
    /// Its properties (`INTEGRATION_ID`, `NAME`, ...).
    pub props: Map<String, Value>,
    /// Its sensors.
    pub sensors: Vec<SensorChange>,
}

/// A sensor of a device of an integration.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct SensorChange {
    /// What happens to the sensor.
    pub change_state: ChangeState,
    /// The caller's id of the sensor.
    pub ref_id: String,
    /// Its properties (`INTEGRATION_ID`, `NAME`, ...).
    pub props: Map<String, Value>,
}

impl Integration {
    /// An empty integration.
    pub fn new() -> Self {
        Self::default()
    }

    /// The node the devices belong to.
    pub fn node_id(mut self, id: impl Into<String>) -> Self {
        self.node_id = Some(id.into());
        self
    }

    /// What happens to the node itself.
    pub fn change_state(mut self, state: ChangeState) -> Self {
        self.change_state = Some(state);
        self
    }

    /// Sets a property of the node.
    pub fn prop(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.props.insert(name.into(), value.into());
        self
    }

    /// Adds a device.
    pub fn device(mut self, device: DeviceChange) -> Self {
        self.devices.push(device);
        self
    }

    /// Checks what the API would refuse: empty or repeated `refId`s among siblings, and
    /// an integration without devices.
    pub fn check(&self) -> Result<()> {
        if self.devices.is_empty() && self.change_state.is_none() {
            return Err(Error::invalid_request(
                "an integration without devices or a change does nothing",
            ));
        }
        check_ref_ids(self.devices.iter().map(|d| d.ref_id.as_str()), "device")?;
        for device in &self.devices {
            check_ref_ids(device.sensors.iter().map(|s| s.ref_id.as_str()), "sensor")?;
        }
        Ok(())
    }
}

fn check_ref_ids<'a>(ids: impl Iterator<Item = &'a str>, what: &str) -> Result<()> {
    let mut seen = HashSet::new();
    for id in ids {
        if id.trim().is_empty() {
            return Err(Error::invalid_request(format!("a {what} has an empty refId")));
        }
        if !seen.insert(id) {
            return Err(Error::invalid_request(format!(
                "{what} refId `{id}` appears twice"
            )));
        }
    }
    Ok(())
}

impl DeviceChange {
    /// A device change of `ref_id`.
    pub fn new(change_state: ChangeState, ref_id: impl Into<String>) -> Self {
        DeviceChange {
            change_state,
            ref_id: ref_id.into(),
            props: Map::new(),
            sensors: Vec::new(),
        }
    }

    /// Sets a property.
    pub fn prop(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.props.insert(name.into(), value.into());
        self
    }

    /// Adds a sensor.
    pub fn sensor(mut self, sensor: SensorChange) -> Self {
        self.sensors.push(sensor);
        self
    }
}

impl SensorChange {
    /// A sensor change of `ref_id`.
    pub fn new(change_state: ChangeState, ref_id: impl Into<String>) -> Self {
        SensorChange {
            change_state,
            ref_id: ref_id.into(),
            props: Map::new(),
        }
    }

    /// Sets a property.
    pub fn prop(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.props.insert(name.into(), value.into());
        self
    }
}

#[derive(Serialize)]
struct IntegrateBody<'a> {
    integration: &'a Integration,
}

impl Client {
    /// `GET integrations/nodes?iTwinId=`: the iTwin's nodes. An empty list can also mean
    /// that the caller is not a member of the iTwin.
    pub fn nodes(&self, itwin_id: impl Into<String>) -> List<Node> {
        List::new(self, "integrations/nodes", &["nodes"], "nodes", itwin_id.into())
    }

    /// `POST integrations/integrate?iTwinId=`: processes an integration, after
    /// [`Integration::check`]. Returns the server's answer as sent (its layout is not
    /// public). Not retried: a repeated `new` could create twice.
    pub async fn integrate(&self, itwin_id: &str, integration: &Integration) -> Result<Value> {
        integration.check()?;
        let request = self
            .http
            .post("integrations/integrate")
            .query("iTwinId", itwin_id)
            .json(&IntegrateBody { integration });
        let response = Needs::manage()
            .on_itwin(itwin_id)
            .attach(request)
            .send_buffered()
            .await?;
        let bytes = response.bytes().await?;
        let bytes = client_core::decode::skip_bom(&bytes);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(bytes).map_err(|e| Error::decode(format!("integration result: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tree_serializes_as_the_api_shows_it() {
        let integration = Integration::new().node_id("/api/95A09D/node").device(
            DeviceChange::new(ChangeState::New, "RefId")
                .prop("INTEGRATION_ID", "DEMO_DEVICE_SDE")
                .sensor(SensorChange::new(ChangeState::New, "RefId1").prop("NAME", "Vibration")),
        );
        integration.check().unwrap();
        assert_eq!(
            serde_json::to_value(IntegrateBody {
                integration: &integration
            })
            .unwrap(),
            serde_json::json!({"integration": {"nodeId": "/api/95A09D/node", "devices": [{
                "changeState": "new", "refId": "RefId", "props": {"INTEGRATION_ID": "DEMO_DEVICE_SDE"},
                "sensors": [{"changeState": "new", "refId": "RefId1", "props": {"NAME": "Vibration"}}]}]}})
        );
    }

    #[test]
    fn repeated_or_empty_ref_ids_are_refused() {
        let twice = Integration::new()
            .device(DeviceChange::new(ChangeState::New, "a"))
            .device(DeviceChange::new(ChangeState::Deleted, "a"));
        assert!(matches!(twice.check(), Err(Error::InvalidRequest(m)) if m.contains("appears twice")));
        let empty = Integration::new().device(
            DeviceChange::new(ChangeState::New, "d").sensor(SensorChange::new(ChangeState::New, " ")),
        );
        assert!(matches!(empty.check(), Err(Error::InvalidRequest(_))));
        assert!(Integration::new().check().is_err());
    }
}
