//! Members of projects and organizations (list, add by email, get, update roles,
//! remove, `:getInviteUrl`) and the permissions a caller holds in either.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::access::{Caller, Membership, Scope, require, role};
use super::auth::dt_error;
use super::http::*;
use super::{Shared, World, lock};

/// `projects/{p}` or `organizations/{o}`.
pub(super) fn parent_name(scope: Scope<'_>) -> String {
    match scope {
        Scope::Project(project) => format!("projects/{project}"),
        Scope::Organization(organization) => format!("organizations/{organization}"),
    }
}

pub(super) fn member_json(member: &Membership) -> Value {
    let roles: Vec<String> = member.roles.iter().map(|r| format!("roles/{r}")).collect();
    // The official client reads `accountType` as `USER` or `SERVICE_ACCOUNT`.
    let account_type = if member.member_type == "SERVICE_ACCOUNT_MEMBER" {
        "SERVICE_ACCOUNT"
    } else {
        "USER"
    };
    json!({
        "name": format!("{}/members/{}", member.parent, member.id),
        "displayName": member.display_name,
        "roles": roles,
        "status": member.status,
        "email": member.email,
        "accountType": account_type,
        "createTime": member.created.to_string(),
    })
}

/// The roles of an add or an update body: a non-empty list of `roles/{name}`, each a
/// role of the scope's kind (`project.` roles in projects, `organization.` roles in
/// organizations). Returned without `roles/`.
fn body_roles(value: &Value, scope: Scope<'_>) -> Result<Vec<String>, Response> {
    let kind = match scope {
        Scope::Project(_) => "project.",
        Scope::Organization(_) => "organization.",
    };
    let names = value["roles"]
        .as_array()
        .filter(|roles| !roles.is_empty())
        .ok_or_else(|| bad_request("roles is required"))?;
    names
        .iter()
        .map(|name| {
            let name = name.as_str().unwrap_or_default();
            let Some(bare) = name.strip_prefix("roles/") else {
                return Err(bad_request(&format!(
                    "role `{name}` must be named roles/{{name}}"
                )));
            };
            match role(bare) {
                Some(spec) if spec.name.starts_with(kind) => Ok(spec.name.to_owned()),
                Some(_) => Err(bad_request(&format!("role `{name}` cannot be given here"))),
                None => Err(bad_request(&format!("unknown role `{name}`"))),
            }
        })
        .collect()
}

impl World {
    /// The permissions `email` holds on `scope` (a project's include its
    /// organization's), sorted.
    pub(super) fn permissions_of(&self, email: &str, scope: Scope<'_>) -> Vec<&'static str> {
        let mut roles = self.roles_of(email, &parent_name(scope));
        if let Scope::Project(project) = scope {
            if let Some(record) = self.projects.iter().find(|p| p.id == project) {
                roles.extend(self.roles_of(email, &format!("organizations/{}", record.organization)));
            }
        }
        let mut permissions: Vec<&'static str> =
            roles.iter().flat_map(|r| r.permissions.iter().copied()).collect();
        permissions.sort_unstable();
        permissions.dedup();
        permissions
    }

    fn member(&self, parent: &str, id: &str) -> Option<&Membership> {
        self.members.iter().find(|m| m.parent == parent && m.id == id)
    }
}

async fn list(shared: Arc<Shared>, scope: Scope<'_>, query: Option<String>, headers: HeaderMap) -> Handled {
    let caller = gate(&shared, &headers).await?;
    require(&shared, &caller, scope, "membership.read")?;
    let pairs = query_pairs(query.as_deref());
    let size = page_size(&shared, &pairs)?;
    let parent = parent_name(scope);
    let items = lock(&shared.world)
        .members
        .iter()
        .filter(|m| m.parent == parent)
        .map(member_json)
        .collect();
    let body = offset_page(items, "members", &pairs, size)?;
    ok(&shared, StatusCode::OK, &body, &headers)
}

/// Adds the account with the body's `email`: an existing service account is a member at
/// once; any other email is a user invited, pending until accepted.
async fn add(shared: Arc<Shared>, scope: Scope<'_>, headers: HeaderMap, body: Bytes) -> Handled {
    let caller = gate(&shared, &headers).await?;
    require(&shared, &caller, scope, "membership.create")?;
    let value = read_json(&body)?;
    let email = value["email"]
        .as_str()
        .filter(|e| e.contains('@'))
        .ok_or_else(|| bad_request("email is required"))?
        .to_owned();
    let roles = body_roles(&value, scope)?;
    let parent = parent_name(scope);
    let mut world = lock(&shared.world);
    if world
        .members
        .iter()
        .any(|m| m.parent == parent && m.email == email)
    {
        return Err(dt_error(StatusCode::CONFLICT, "already a member"));
    }
    let account = world.accounts.iter().find(|a| a.email == email).cloned();
    let member = match account {
        Some(account) => Membership {
            parent,
            id: account.id,
            email,
            display_name: account.display_name,
            roles,
            status: "ACCEPTED".into(),
            member_type: "SERVICE_ACCOUNT_MEMBER".into(),
            created: Timestamp::now(),
        },
        None => {
            // A user keeps one id across the projects and organizations it joins.
            let known = world
                .members
                .iter()
                .find(|m| m.email == email && m.member_type == "USER_MEMBER")
                .map(|m| m.id.clone());
            let id = match known {
                Some(id) => id,
                None => {
                    world.next_id += 1;
                    format!("user{:016}", world.next_id)
                }
            };
            Membership {
                parent,
                id,
                display_name: email.split('@').next().unwrap_or_default().to_owned(),
                email,
                roles,
                status: "PENDING".into(),
                member_type: "USER_MEMBER".into(),
                created: Timestamp::now(),
            }
        }
    };
    world.members.push(member.clone());
    drop(world);
    ok(&shared, StatusCode::OK, &member_json(&member), &headers)
}

/// `GET …/members/{m}` and `GET …/members/{m}:getInviteUrl`.
async fn get_member(shared: Arc<Shared>, scope: Scope<'_>, id: &str, headers: HeaderMap) -> Handled {
    let caller = gate(&shared, &headers).await?;
    require(&shared, &caller, scope, "membership.read")?;
    let parent = parent_name(scope);
    let (id, invite) = match id.strip_suffix(":getInviteUrl") {
        Some(id) => (id, true),
        None => (id, false),
    };
    let world = lock(&shared.world);
    let member = world.member(&parent, id).ok_or_else(|| not_found("member"))?;
    let body = if !invite {
        member_json(member)
    } else if member.status == "PENDING" {
        json!({"inviteUrl": invite_url(member)})
    } else {
        return Err(bad_request("the member has already accepted the invite"));
    };
    drop(world);
    ok(&shared, StatusCode::OK, &body, &headers)
}

/// Where a pending member accepts the invite.
fn invite_url(member: &Membership) -> String {
    let parent = member.parent.replace('/', "-");
    format!(
        "https://studio.disruptive-technologies.com/invite/{parent}-{}",
        member.id
    )
}

async fn remove(shared: Arc<Shared>, scope: Scope<'_>, id: &str, headers: HeaderMap) -> Handled {
    let caller = gate(&shared, &headers).await?;
    require(&shared, &caller, scope, "membership.delete")?;
    let parent = parent_name(scope);
    let mut world = lock(&shared.world);
    world.member(&parent, id).ok_or_else(|| not_found("member"))?;
    world.members.retain(|m| !(m.parent == parent && m.id == id));
    drop(world);
    ok(&shared, StatusCode::OK, &json!({}), &headers)
}

async fn permissions(
    shared: Arc<Shared>,
    scope: Scope<'_>,
    query: Option<String>,
    headers: HeaderMap,
) -> Handled {
    let caller: Caller = gate(&shared, &headers).await?;
    let read = match scope {
        Scope::Project(_) => "project.read",
        Scope::Organization(_) => "organization.read",
    };
    require(&shared, &caller, scope, read)?;
    let pairs = query_pairs(query.as_deref());
    let size = page_size(&shared, &pairs)?;
    let items = lock(&shared.world)
        .permissions_of(&caller.email, scope)
        .into_iter()
        .map(Value::from)
        .collect();
    let body = offset_page(items, "permissions", &pairs, size)?;
    ok(&shared, StatusCode::OK, &body, &headers)
}

pub(super) async fn list_project_members(
    State(shared): State<Arc<Shared>>,
    Path(project): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Handled {
    list(shared, Scope::Project(&project), query, headers).await
}

pub(super) async fn add_project_member(
    State(shared): State<Arc<Shared>>,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Handled {
    add(shared, Scope::Project(&project), headers, body).await
}

pub(super) async fn project_member_get(
    State(shared): State<Arc<Shared>>,
    Path((project, member)): Path<(String, String)>,
    headers: HeaderMap,
) -> Handled {
    get_member(shared, Scope::Project(&project), &member, headers).await
}

/// `PATCH /projects/{p}/members/{m}`: replaces the member's roles.
pub(super) async fn update_project_member(
    State(shared): State<Arc<Shared>>,
    Path((project, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Handled {
    let scope = Scope::Project(&project);
    let caller = gate(&shared, &headers).await?;
    require(&shared, &caller, scope, "membership.update")?;
    let roles = body_roles(&read_json(&body)?, scope)?;
    let parent = parent_name(scope);
    let mut world = lock(&shared.world);
    let member = world
        .members
        .iter_mut()
        .find(|m| m.parent == parent && m.id == id)
        .ok_or_else(|| not_found("member"))?;
    member.roles = roles;
    let body = member_json(member);
    drop(world);
    ok(&shared, StatusCode::OK, &body, &headers)
}

pub(super) async fn remove_project_member(
    State(shared): State<Arc<Shared>>,
    Path((project, member)): Path<(String, String)>,
    headers: HeaderMap,
) -> Handled {
    remove(shared, Scope::Project(&project), &member, headers).await
}

pub(super) async fn project_permissions(
    State(shared): State<Arc<Shared>>,
    Path(project): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Handled {
    permissions(shared, Scope::Project(&project), query, headers).await
}

pub(super) async fn list_organization_members(
    State(shared): State<Arc<Shared>>,
    Path(organization): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Handled {
    list(shared, Scope::Organization(&organization), query, headers).await
}

pub(super) async fn add_organization_member(
    State(shared): State<Arc<Shared>>,
    Path(organization): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Handled {
    add(shared, Scope::Organization(&organization), headers, body).await
}

pub(super) async fn organization_member_get(
    State(shared): State<Arc<Shared>>,
    Path((organization, member)): Path<(String, String)>,
    headers: HeaderMap,
) -> Handled {
    get_member(shared, Scope::Organization(&organization), &member, headers).await
}

pub(super) async fn remove_organization_member(
    State(shared): State<Arc<Shared>>,
    Path((organization, member)): Path<(String, String)>,
    headers: HeaderMap,
) -> Handled {
    remove(shared, Scope::Organization(&organization), &member, headers).await
}

pub(super) async fn organization_permissions(
    State(shared): State<Arc<Shared>>,
    Path(organization): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Handled {
    permissions(shared, Scope::Organization(&organization), query, headers).await
}
