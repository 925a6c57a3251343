//! Projects: list (by organization, by text), get, create, update, delete
//! (`/projects`, `/projects/{p}`).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use client_core::encode_segment;
use client_core::http::Method;

use crate::client::Client;
use crate::error::{Error, Result};
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

    /// The organization id in `organization`.
    pub fn organization_id(&self) -> Option<&str> {
        self.organization
            .as_deref()
            .and_then(|name| target_part(name, "organizations"))
    }
}

/// The projects the account can see (`GET /projects`), built by [`Client::projects`]:
/// all of them, or those of one organization
/// ([`organization`](Self::organization), sent as
/// `organization=organizations/{o}`), or those matching a text
/// ([`query`](Self::query), which DT matches against project and organization display
/// names). Ends in the list terminals: [`stream`](Self::stream), [`pages`](Self::pages),
/// [`send`](Self::send) (the first page) and [`to_request`](Self::to_request).
///
/// ```no_run
/// use dt_client::prelude::*;
///
/// # async fn run(client: dt_client::Client) -> Result<(), dt_client::Error> {
/// let mut projects = client.projects().organization("my-org").query("warehouse").stream();
/// while let Some(project) = projects.try_next().await? {
///     println!("{} {:?}", project.name, project.display_name);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a query does nothing until it is sent or streamed"]
pub struct ProjectsQuery<T = Project> {
    list: List<T>,
}

impl<T: DeserializeOwned + Send + 'static> ProjectsQuery<T> {
    /// Only the projects of organization `organization_id` (the id, without
    /// `organizations/`).
    pub fn organization(self, organization_id: impl AsRef<str>) -> Self {
        ProjectsQuery {
            list: self.list.param(
                "organization",
                format!("organizations/{}", organization_id.as_ref()),
            ),
        }
    }

    /// Free-text search over project and organization display names (`query`).
    pub fn query(self, text: impl Into<String>) -> Self {
        ProjectsQuery {
            list: self.list.param("query", text),
        }
    }
}

crate::list::list_terminals!(ProjectsQuery, "project");

/// A change to a project, sent as a PATCH of exactly the fields set (DT lets
/// `displayName` be changed).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[must_use = "a change does nothing until it is sent"]
pub struct ProjectUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
}

impl ProjectUpdate {
    /// No change yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `displayName`.
    pub fn display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.display_name.is_none()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NewProject<'a> {
    display_name: &'a str,
    organization: String,
}

fn project_path(project_id: &str) -> String {
    format!("projects/{}", encode_segment(project_id))
}

impl Client {
    /// The projects the account can see (`GET /projects`), as a [`ProjectsQuery`]
    /// (filter by organization or text, then stream them).
    pub fn projects(&self) -> ProjectsQuery {
        ProjectsQuery {
            list: List::new(TokenPages::new(
                &self.http,
                "projects".into(),
                "projects",
                self.page_size,
            )),
        }
    }

    /// One project.
    pub async fn project(&self, project_id: &str) -> Result<Project> {
        Ok(self.http.get(&project_path(project_id)).json_response().await?)
    }

    /// Creates a project named `display_name` in organization `organization_id`
    /// (`POST /projects` with `{"displayName", "organization": "organizations/{o}"}`).
    /// Not retried: a repeat could create two.
    pub async fn create_project(&self, organization_id: &str, display_name: &str) -> Result<Project> {
        let body = NewProject {
            display_name,
            organization: format!("organizations/{organization_id}"),
        };
        Ok(self.http.post("projects").json(&body).json_response().await?)
    }

    /// PATCHes exactly the fields `update` sets (`PATCH /projects/{p}`); what the server
    /// answers is not read (call [`project`](Self::project) for the project as it now
    /// is). An empty update is
    /// [`ClientError::InvalidRequest`](crate::ClientError::InvalidRequest), not sent.
    pub async fn update_project(&self, project_id: &str, update: &ProjectUpdate) -> Result<()> {
        if update.is_empty() {
            return Err(Error::invalid_request("the update changes nothing"));
        }
        self.http
            .request(Method::PATCH, &project_path(project_id))
            .json(update)
            // Setting the same fields again gives the same project.
            .idempotent(true)
            .send_buffered()
            .await?;
        Ok(())
    }

    /// Deletes a project (`DELETE /projects/{p}`). DT deletes only an empty project: one
    /// that still holds devices or data connectors is refused
    /// ([`ClientError::BadRequest`](crate::ClientError::BadRequest)).
    pub async fn delete_project(&self, project_id: &str) -> Result<()> {
        self.http
            .request(Method::DELETE, &project_path(project_id))
            .send_buffered()
            .await?;
        Ok(())
    }
}
