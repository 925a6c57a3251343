//! Roles (`GET /roles`, `GET /roles/{role}`): DT's four roles and the permissions each
//! grants.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use client_core::encode_segment;

use crate::client::Client;
use crate::error::Result;
use crate::list::List;
use crate::paging::TokenPages;

client_core::open_enum! {
    /// A role, by its name without `roles/` (the requests of this crate add the prefix
    /// DT's bodies carry, and [`Member::roles`](crate::Member::roles) comes without it).
    Role {
        /// Reads a project's devices, events and settings.
        ProjectUser => "project.user",
        /// A project user who also manages data connectors, service accounts, labels and
        /// emulated devices.
        ProjectDeveloper => "project.developer",
        /// A project developer who also manages members and the project.
        ProjectAdmin => "project.admin",
        /// Administers an organization and every project in it.
        OrganizationAdmin => "organization.admin",
    }
}

impl Role {
    /// The role's resource name as bodies send it: `roles/{name}` (a role named with
    /// the prefix already keeps one).
    pub fn resource_name(&self) -> String {
        let name = self.as_str();
        format!("roles/{}", name.strip_prefix("roles/").unwrap_or(name))
    }

    /// The role named `name`, with or without `roles/` (`Role::from` takes the name
    /// as it is: `Role::from("roles/project.user")` is an `Unknown`).
    ///
    /// ```
    /// use dt_client::Role;
    ///
    /// assert_eq!(Role::from_resource_name("roles/project.user"), Role::ProjectUser);
    /// assert_eq!(Role::from_resource_name("project.user"), Role::ProjectUser);
    /// ```
    pub fn from_resource_name(name: &str) -> Role {
        Role::from(name.strip_prefix("roles/").unwrap_or(name))
    }
}

/// Reads `["roles/project.user", ..]` as roles without the prefix.
pub(crate) fn roles_without_prefix<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<Role>, D::Error> {
    let names = Option::<Vec<String>>::deserialize(deserializer)?.unwrap_or_default();
    Ok(names.iter().map(|name| Role::from_resource_name(name)).collect())
}

/// A role as `GET /roles` describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct RoleInfo {
    /// `roles/{name}`.
    pub name: String,
    /// The display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// What the role is for.
    #[serde(default)]
    pub description: Option<String>,
    /// The permissions it grants (`project.read`, `membership.create`, ...).
    #[serde(default)]
    pub permissions: Vec<String>,
    /// Members this version does not know, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl RoleInfo {
    /// The role `name` names.
    pub fn role(&self) -> Role {
        Role::from_resource_name(&self.name)
    }
}

impl Client {
    /// Every role (`GET /roles`), as a [`List`]. Any signed-in account may read them.
    pub fn roles(&self) -> List<RoleInfo> {
        List::new(TokenPages::new(
            &self.http,
            "roles".into(),
            "roles",
            self.page_size,
        ))
    }

    /// One role (`GET /roles/{role}`).
    pub async fn role(&self, role: &Role) -> Result<RoleInfo> {
        Ok(self
            .http
            .get(&format!(
                "roles/{}",
                encode_segment(Role::from_resource_name(role.as_str()).as_str())
            ))
            .json_response()
            .await?)
    }
}
