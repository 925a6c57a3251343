//! Roles: DT's four, with their permissions; any signed-in caller may read them.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use super::Shared;
use super::access::{ROLES, RoleSpec, role};
use super::http::*;

fn role_json(role: &RoleSpec) -> Value {
    json!({
        "name": format!("roles/{}", role.name),
        "displayName": role.display_name,
        "description": role.description,
        "permissions": role.permissions,
    })
}

/// `GET /roles`.
pub(super) async fn list_roles(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Handled {
    gate(&shared, &headers).await?;
    let pairs = query_pairs(query.as_deref());
    let size = page_size(&shared, &pairs)?;
    let items = ROLES.iter().map(role_json).collect();
    let body = offset_page(items, "roles", &pairs, size)?;
    ok(&shared, StatusCode::OK, &body, &headers)
}

/// `GET /roles/{name}`.
pub(super) async fn get_role(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Handled {
    gate(&shared, &headers).await?;
    let spec = role(&name).ok_or_else(|| not_found("role"))?;
    ok(&shared, StatusCode::OK, &role_json(spec), &headers)
}
