//! Projects: list (only those the caller may read; by `organization` and `query`), get,
//! create, update, delete.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::access::{ProjectRecord, Scope, require};
use super::auth::dt_error;
use super::http::*;
use super::{Shared, World, lock};

pub(super) fn project_json(world: &World, project: &ProjectRecord) -> Value {
    let sensors = world.devices.iter().filter(|d| d.project == project.id).count();
    let organization = world
        .organizations
        .iter()
        .find(|o| o.id == project.organization)
        .map(|o| o.display_name.clone())
        .unwrap_or_default();
    json!({
        "name": format!("projects/{}", project.id),
        "displayName": project.display_name,
        "organization": format!("organizations/{}", project.organization),
        "organizationDisplayName": organization,
        "sensorCount": sensors,
        "cloudConnectorCount": 0,
        "inventory": project.inventory,
    })
}

/// The organization id of `organizations/{o}`.
pub(super) fn organization_id(name: &str) -> Result<&str, Response> {
    name.strip_prefix("organizations/")
        .filter(|id| !id.is_empty() && !id.contains('/'))
        .ok_or_else(|| bad_request("organization must be organizations/{organization}"))
}

/// `GET /projects`: the projects the caller may read (`project.read`), of the
/// organization `organization` names, whose display name or organization's display name
/// holds `query` (ignoring case).
pub(super) async fn list_projects(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Handled {
    let caller = gate(&shared, &headers).await?;
    let pairs = query_pairs(query.as_deref());
    let size = page_size(&shared, &pairs)?;
    let organization = one(&pairs, "organization").map(organization_id).transpose()?;
    let text = one(&pairs, "query").map(str::to_lowercase);
    let world = lock(&shared.world);
    let projects: Vec<Value> = world
        .projects
        .iter()
        .filter(|p| world.allows(&caller.email, Scope::Project(&p.id), "project.read"))
        .filter(|p| organization.is_none_or(|o| p.organization == o))
        .filter(|p| {
            // DT's search looks at the organization's display name too.
            let organization_name = world
                .organizations
                .iter()
                .find(|o| o.id == p.organization)
                .map(|o| o.display_name.to_lowercase())
                .unwrap_or_default();
            text.as_ref()
                .is_none_or(|t| p.display_name.to_lowercase().contains(t) || organization_name.contains(t))
        })
        .map(|p| project_json(&world, p))
        .collect();
    drop(world);
    let body = offset_page(projects, "projects", &pairs, size)?;
    ok(&shared, StatusCode::OK, &body, &headers)
}

pub(super) async fn get_project(
    State(shared): State<Arc<Shared>>,
    Path(project): Path<String>,
    headers: HeaderMap,
) -> Handled {
    permitted(&shared, &headers, Scope::Project(&project), "project.read").await?;
    let world = lock(&shared.world);
    let record = world
        .projects
        .iter()
        .find(|p| p.id == project)
        .ok_or_else(|| not_found("project"))?;
    let body = project_json(&world, record);
    drop(world);
    ok(&shared, StatusCode::OK, &body, &headers)
}

/// A display name: a non-empty string of at most 200 characters.
fn display_name(value: &Value) -> Result<String, Response> {
    value
        .as_str()
        .map(str::trim)
        .filter(|name| !name.is_empty() && name.chars().count() <= 200)
        .map(str::to_owned)
        .ok_or_else(|| bad_request("displayName must be a non-empty string of at most 200 characters"))
}

/// `POST /projects` with `{displayName, organization}`: needs `project.create` on the
/// organization (organization admins). The new project has no members of its own: the
/// organization's admins reach it through their organization role.
pub(super) async fn create_project(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Handled {
    let caller = gate(&shared, &headers).await?;
    let value = read_json(&body)?;
    let organization = value["organization"]
        .as_str()
        .ok_or_else(|| bad_request("organization is required"))
        .and_then(organization_id)?
        .to_owned();
    require(
        &shared,
        &caller,
        Scope::Organization(&organization),
        "project.create",
    )?;
    let display_name = display_name(&value["displayName"])?;
    let mut world = lock(&shared.world);
    let record = ProjectRecord {
        id: format!("proj{:016}", world.next_id),
        display_name,
        organization,
        inventory: false,
    };
    world.next_id += 1;
    world.projects.push(record.clone());
    let body = project_json(&world, &record);
    drop(world);
    ok(&shared, StatusCode::OK, &body, &headers)
}

/// `PATCH /projects/{p}` with the fields to change (`displayName`): needs
/// `project.update`. Answers the project as it now is.
pub(super) async fn update_project(
    State(shared): State<Arc<Shared>>,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Handled {
    permitted(&shared, &headers, Scope::Project(&project), "project.update").await?;
    let value = read_json(&body)?;
    let name = match value.get("displayName") {
        None => None,
        Some(name) => Some(display_name(name)?),
    };
    let mut world = lock(&shared.world);
    let record = world
        .projects
        .iter_mut()
        .find(|p| p.id == project)
        .ok_or_else(|| not_found("project"))?;
    if let Some(name) = name {
        record.display_name = name;
    }
    let record = record.clone();
    let body = project_json(&world, &record);
    drop(world);
    ok(&shared, StatusCode::OK, &body, &headers)
}

/// `DELETE /projects/{p}`: needs `project.delete`. As DT, deletes only an empty project:
/// one that still holds devices or data connectors is refused with 400. The project's
/// memberships go with it.
pub(super) async fn delete_project(
    State(shared): State<Arc<Shared>>,
    Path(project): Path<String>,
    headers: HeaderMap,
) -> Handled {
    permitted(&shared, &headers, Scope::Project(&project), "project.delete").await?;
    let mut world = lock(&shared.world);
    let occupied = world.devices.iter().any(|d| d.project == project)
        || world.connectors.iter().any(|c| c.project == project);
    if occupied {
        return Err(dt_error(
            StatusCode::BAD_REQUEST,
            "only an empty project can be deleted: this one holds devices or data connectors",
        ));
    }
    world.projects.retain(|p| p.id != project);
    let parent = format!("projects/{project}");
    world.members.retain(|m| m.parent != parent);
    // Its service accounts go with it: their keys, their memberships elsewhere, and the
    // tokens issued to them.
    let gone: Vec<String> = world
        .accounts
        .iter()
        .filter(|a| a.project == project)
        .map(|a| a.email.clone())
        .collect();
    world.accounts.retain(|a| a.project != project);
    world.members.retain(|m| !gone.contains(&m.email));
    drop(world);
    lock(&shared.token_owners).retain(|_, email| !gone.contains(email));
    ok(&shared, StatusCode::OK, &json!({}), &headers)
}
