//! Projects (`GET /projects`, `GET /projects/{p}`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use client_core::encode_segment;

use crate::client::Client;
use crate::error::Result;
use crate::events::target_part;
use crate::list::List;
use crate::paging::TokenPages;

/// A project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Project {
    /// `projects/{id}`.
    pub name: String,
    /// The display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// `organizations/{id}`.
    #[serde(default)]
    pub organization: Option<String>,
    /// The organization's display name.
    #[serde(default)]
    pub organization_display_name: Option<String>,
    /// How many sensors it holds.
    #[serde(default)]
    pub sensor_count: Option<u64>,
    /// How many Cloud Connectors it holds.
    #[serde(default)]
    pub cloud_connector_count: Option<u64>,
    /// Whether it is an organization's inventory.
    #[serde(default)]
    pub inventory: Option<bool>,
    /// Members this version does not know, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Project {
    /// The project id in `name`.
    pub fn id(&self) -> Option<&str> {
        target_part(&self.name, "projects")
    }
}

impl Client {
    /// Every project the account can see (`GET /projects`), as a [`List`].
    pub fn projects(&self) -> List<Project> {
        List::new(TokenPages::new(
            &self.http,
            "projects".into(),
            "projects",
            self.page_size,
        ))
    }

    /// One project.
    pub async fn project(&self, project_id: &str) -> Result<Project> {
        Ok(self
            .http
            .get(&format!("projects/{}", encode_segment(project_id)))
            .json_response()
            .await?)
    }
}
