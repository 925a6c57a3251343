//! Service accounts of a project (list, create, get, update, delete) and their keys
//! (list, create, get, delete). The keys of created accounts sign in like the
//! configured key (Basic only when the account enables it).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::access::{AccountKey, Scope, ServiceAccount};
use super::auth::dt_error;
use super::http::*;
use super::{Shared, lock};

fn account_json(account: &ServiceAccount) -> Value {
    json!({
        "name": format!("projects/{}/serviceaccounts/{}", account.project, account.id),
        "email": account.email,
        "displayName": account.display_name,
        "enableBasicAuth": account.basic_auth,
        "createTime": account.created.to_string(),
        "updateTime": account.updated.to_string(),
    })
}

fn key_json(account: &ServiceAccount, key: &AccountKey) -> Value {
    json!({
        "name": format!("projects/{}/serviceaccounts/{}/keys/{}", account.project, account.id, key.id),
        "id": key.id,
        "createTime": key.created.to_string(),
    })
}

/// Applies the `displayName` and `enableBasicAuth` the body has (and only those).
fn apply(account: &mut ServiceAccount, value: &Value) -> Result<(), Response> {
    if !value["displayName"].is_null() {
        let name = value["displayName"]
            .as_str()
            .ok_or_else(|| bad_request("displayName must be a string"))?;
        account.display_name = name.to_owned();
    }
    if !value["enableBasicAuth"].is_null() {
        account.basic_auth = value["enableBasicAuth"]
            .as_bool()
            .ok_or_else(|| bad_request("enableBasicAuth must be a boolean"))?;
    }
    Ok(())
}

/// 32 random hex digits: a key's secret.
fn new_secret() -> Result<String, Response> {
    let mut bytes = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| dt_error(StatusCode::INTERNAL_SERVER_ERROR, "no randomness for a secret"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn find_account(shared: &Shared, project: &str, id: &str) -> Result<ServiceAccount, Response> {
    lock(&shared.world)
        .accounts
        .iter()
        .find(|a| a.project == project && a.id == id)
        .cloned()
        .ok_or_else(|| not_found("service account"))
}

pub(super) async fn list_accounts(
    State(shared): State<Arc<Shared>>,
    Path(project): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Handled {
    permitted(&shared, &headers, Scope::Project(&project), "serviceaccount.read").await?;
    let pairs = query_pairs(query.as_deref());
    let size = page_size(&shared, &pairs)?;
    let items = lock(&shared.world)
        .accounts
        .iter()
        .filter(|a| a.project == project)
        .map(account_json)
        .collect();
    let body = offset_page(items, "serviceAccounts", &pairs, size)?;
    ok(&shared, StatusCode::OK, &body, &headers)
}

/// `POST /projects/{p}/serviceaccounts`: an account with no key and no membership; its
/// email is `{id}@{project}.serviceaccount.d21s.com`.
pub(super) async fn create_account(
    State(shared): State<Arc<Shared>>,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Handled {
    permitted(
        &shared,
        &headers,
        Scope::Project(&project),
        "serviceaccount.create",
    )
    .await?;
    let value = read_json(&body)?;
    let now = Timestamp::now();
    let mut world = lock(&shared.world);
    world.next_id += 1;
    let id = format!("sa{:018}", world.next_id);
    let mut account = ServiceAccount {
        email: format!("{id}@{project}.serviceaccount.d21s.com"),
        id,
        project,
        display_name: String::new(),
        basic_auth: false,
        keys: Vec::new(),
        created: now,
        updated: now,
    };
    apply(&mut account, &value)?;
    world.accounts.push(account.clone());
    drop(world);
    ok(&shared, StatusCode::OK, &account_json(&account), &headers)
}

pub(super) async fn get_account(
    State(shared): State<Arc<Shared>>,
    Path((project, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Handled {
    permitted(&shared, &headers, Scope::Project(&project), "serviceaccount.read").await?;
    let account = find_account(&shared, &project, &id)?;
    ok(&shared, StatusCode::OK, &account_json(&account), &headers)
}

/// `PATCH …/{sa}`: changes the fields the body has.
pub(super) async fn update_account(
    State(shared): State<Arc<Shared>>,
    Path((project, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Handled {
    permitted(
        &shared,
        &headers,
        Scope::Project(&project),
        "serviceaccount.update",
    )
    .await?;
    let value = read_json(&body)?;
    let mut world = lock(&shared.world);
    let account = world
        .accounts
        .iter_mut()
        .find(|a| a.project == project && a.id == id)
        .ok_or_else(|| not_found("service account"))?;
    apply(account, &value)?;
    account.updated = Timestamp::now();
    let body = account_json(account);
    drop(world);
    ok(&shared, StatusCode::OK, &body, &headers)
}

/// `DELETE …/{sa}`: the account, its keys and its memberships go.
pub(super) async fn delete_account(
    State(shared): State<Arc<Shared>>,
    Path((project, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Handled {
    permitted(
        &shared,
        &headers,
        Scope::Project(&project),
        "serviceaccount.delete",
    )
    .await?;
    let account = find_account(&shared, &project, &id)?;
    let mut world = lock(&shared.world);
    world.accounts.retain(|a| !(a.project == project && a.id == id));
    world
        .members
        .retain(|m| !(m.email == account.email && m.member_type == "SERVICE_ACCOUNT_MEMBER"));
    drop(world);
    lock(&shared.token_owners).retain(|_, email| *email != account.email);
    ok(&shared, StatusCode::OK, &json!({}), &headers)
}

pub(super) async fn list_keys(
    State(shared): State<Arc<Shared>>,
    Path((project, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Handled {
    permitted(
        &shared,
        &headers,
        Scope::Project(&project),
        "serviceaccount.key.read",
    )
    .await?;
    let account = find_account(&shared, &project, &id)?;
    let pairs = query_pairs(query.as_deref());
    let size = page_size(&shared, &pairs)?;
    let items = account.keys.iter().map(|k| key_json(&account, k)).collect();
    let body = offset_page(items, "keys", &pairs, size)?;
    ok(&shared, StatusCode::OK, &body, &headers)
}

/// `POST …/{sa}/keys`: `{"key": {..}, "secret": ".."}`, the only time the secret is
/// shown.
pub(super) async fn create_key(
    State(shared): State<Arc<Shared>>,
    Path((project, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Handled {
    permitted(
        &shared,
        &headers,
        Scope::Project(&project),
        "serviceaccount.key.create",
    )
    .await?;
    let secret = new_secret()?;
    let mut world = lock(&shared.world);
    world.next_id += 1;
    let key = AccountKey {
        id: format!("key{:017}", world.next_id),
        secret: secret.clone(),
        created: Timestamp::now(),
    };
    let account = world
        .accounts
        .iter_mut()
        .find(|a| a.project == project && a.id == id)
        .ok_or_else(|| not_found("service account"))?;
    account.keys.push(key.clone());
    let body = json!({"key": key_json(account, &key), "secret": secret});
    drop(world);
    ok(&shared, StatusCode::OK, &body, &headers)
}

pub(super) async fn get_key(
    State(shared): State<Arc<Shared>>,
    Path((project, id, key)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Handled {
    permitted(
        &shared,
        &headers,
        Scope::Project(&project),
        "serviceaccount.key.read",
    )
    .await?;
    let account = find_account(&shared, &project, &id)?;
    let found = account
        .keys
        .iter()
        .find(|k| k.id == key)
        .ok_or_else(|| not_found("key"))?;
    ok(&shared, StatusCode::OK, &key_json(&account, found), &headers)
}

/// `DELETE …/{sa}/keys/{k}`: the key no longer signs in.
pub(super) async fn delete_key(
    State(shared): State<Arc<Shared>>,
    Path((project, id, key)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Handled {
    permitted(
        &shared,
        &headers,
        Scope::Project(&project),
        "serviceaccount.key.delete",
    )
    .await?;
    let mut world = lock(&shared.world);
    let account = world
        .accounts
        .iter_mut()
        .find(|a| a.project == project && a.id == id)
        .ok_or_else(|| not_found("service account"))?;
    let before = account.keys.len();
    account.keys.retain(|k| k.id != key);
    if account.keys.len() == before {
        return Err(not_found("key"));
    }
    drop(world);
    ok(&shared, StatusCode::OK, &json!({}), &headers)
}
