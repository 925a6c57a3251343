//! The emulator API: emulated devices that publish events on demand (its own base URL,
//! the same credentials).

use serde::Serialize;
use serde_json::{Map, Value};

use client_core::encode_segment;
use client_core::http::Method;

use crate::client::Client;
use crate::devices::Device;
use crate::error::{Error, Result};

#[derive(Serialize)]
struct NewDevice<'a> {
    #[serde(rename = "type")]
    device_type: &'a str,
    labels: &'a Map<String, Value>,
}

impl Client {
    /// Creates an emulated device of `device_type` (`temperature`, `touch`, ...) with
    /// `labels`.
    pub async fn create_emulated_device(
        &self,
        project_id: &str,
        device_type: &str,
        labels: &Map<String, Value>,
    ) -> Result<Device> {
        Ok(self
            .emulator
            .post(&format!("projects/{}/devices", encode_segment(project_id)))
            .json(&NewDevice { device_type, labels })
            .json_response()
            .await?)
    }

    /// Deletes an emulated device.
    pub async fn delete_emulated_device(&self, project_id: &str, device_id: &str) -> Result<()> {
        self.emulator
            .request(
                Method::DELETE,
                &format!(
                    "projects/{}/devices/{}",
                    encode_segment(project_id),
                    encode_segment(device_id)
                ),
            )
            .send_buffered()
            .await?;
        Ok(())
    }

    /// Publishes an event of `event_type` with `data` (the payload, without the type key:
    /// `{"value": 21.5}` for `temperature`) from an emulated device; the body is
    /// `{"<event_type>": data}`. Not retried: a repeat would publish twice.
    pub async fn publish(
        &self,
        project_id: &str,
        device_id: &str,
        event_type: &str,
        data: &Value,
    ) -> Result<()> {
        if event_type.is_empty() {
            return Err(Error::invalid_request("the event type is empty"));
        }
        let body: Map<String, Value> = std::iter::once((event_type.to_owned(), data.clone())).collect();
        self.emulator
            .post(&format!(
                "projects/{}/devices/{}:publish",
                encode_segment(project_id),
                encode_segment(device_id)
            ))
            .json(&body)
            .send_buffered()
            .await?;
        Ok(())
    }
}
