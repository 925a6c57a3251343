//! Organizations: the ones the caller can see, and one of them.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::access::{Organization, Scope};
use super::auth::dt_error;
use super::http::*;
use super::{Shared, World, lock};

fn organization_json(organization: &Organization) -> Value {
    json!({
        "name": format!("organizations/{}", organization.id),
        "displayName": organization.display_name,
    })
}

impl World {
    /// Whether `email` may read organization `id`: `organization.read` there, or in any
    /// of its projects (a project's members see its organization).
    fn reads_organization(&self, email: &str, id: &str) -> bool {
        self.allows(email, Scope::Organization(id), "organization.read")
            || self
                .projects
                .iter()
                .filter(|p| p.organization == id)
                .any(|p| self.allows(email, Scope::Project(&p.id), "organization.read"))
    }
}

/// `GET /organizations`: those the caller can read.
pub(super) async fn list_organizations(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Handled {
    let caller = gate(&shared, &headers).await?;
    let pairs = query_pairs(query.as_deref());
    let size = page_size(&shared, &pairs)?;
    let world = lock(&shared.world);
    let items = world
        .organizations
        .iter()
        .filter(|o| world.reads_organization(&caller.email, &o.id))
        .map(organization_json)
        .collect();
    drop(world);
    let body = offset_page(items, "organizations", &pairs, size)?;
    ok(&shared, StatusCode::OK, &body, &headers)
}

/// `GET /organizations/{o}`.
pub(super) async fn get_organization(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Handled {
    let caller = gate(&shared, &headers).await?;
    let world = lock(&shared.world);
    let organization = world
        .organizations
        .iter()
        .find(|o| o.id == id)
        .ok_or_else(|| not_found("organization"))?;
    if !world.reads_organization(&caller.email, &id) {
        return Err(forbidden("organization.read"));
    }
    let body = organization_json(organization);
    drop(world);
    ok(&shared, StatusCode::OK, &body, &headers)
}

fn forbidden(permission: &str) -> Response {
    dt_error(
        StatusCode::FORBIDDEN,
        &format!("the caller lacks the permission {permission}"),
    )
}
