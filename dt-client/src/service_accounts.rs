//! Service accounts of a project (list, get, create, partial update, delete) and their
//! keys (list, get, create, delete). A created key's secret comes once, as a
//! [`SecretString`] that never reaches `Debug`.

use std::fmt;

use jiff::Timestamp;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use client_core::encode_segment;
use client_core::http::Method;

use crate::client::Client;
use crate::error::{Error, Result};
use crate::events::target_part;
use crate::list::List;
use crate::paging::TokenPages;

/// A service account: it lives in a project and signs in with its keys; what it may do
/// comes from its memberships (see [`Client::add_project_member`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ServiceAccount {
    /// `projects/{p}/serviceaccounts/{id}`.
    pub name: String,
    /// The account's email (`{id}@{project}.serviceaccount.d21s.com`): the `iss` of its
    /// JWTs and what adds it as a member.
    #[serde(default)]
    pub email: Option<String>,
    /// The display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Whether its keys may sign in with HTTP Basic.
    #[serde(default)]
    pub enable_basic_auth: Option<bool>,
    /// When it was created.
    #[serde(default)]
    pub create_time: Option<Timestamp>,
    /// When it was last updated.
    #[serde(default)]
    pub update_time: Option<Timestamp>,
    /// Members this version does not know, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl ServiceAccount {
    /// The service account id in `name`.
    pub fn id(&self) -> Option<&str> {
        target_part(&self.name, "serviceaccounts")
    }

    /// The project id in `name`.
    pub fn project_id(&self) -> Option<&str> {
        target_part(&self.name, "projects")
    }
}

/// A service account's settings, for a create or an update: only the fields set are
/// sent, so that an update of one never resets another.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
#[must_use = "settings do nothing until sent"]
pub struct ServiceAccountUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    enable_basic_auth: Option<bool>,
}

impl ServiceAccountUpdate {
    /// No change yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `displayName`.
    pub fn display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }

    /// Sets `enableBasicAuth`: whether the account's keys may sign in with HTTP Basic.
    pub fn enable_basic_auth(mut self, enabled: bool) -> Self {
        self.enable_basic_auth = Some(enabled);
        self
    }

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self.display_name.is_none() && self.enable_basic_auth.is_none()
    }
}

/// The body of a create: `enableBasicAuth` always (false unless set, as the official
/// client sends it), `displayName` when set.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<&'a str>,
    enable_basic_auth: bool,
}

/// A service account key, as lists and gets show it (without its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ServiceAccountKey {
    /// `projects/{p}/serviceaccounts/{sa}/keys/{id}`.
    #[serde(default)]
    pub name: String,
    /// The key id: the `kid` of JWTs, the Basic user name.
    #[serde(default)]
    pub id: String,
    /// When it was created.
    #[serde(default)]
    pub create_time: Option<Timestamp>,
    /// Members this version does not know, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A key just created, with its secret: DT shows the secret this once and never again.
/// `Debug` shows the key, never the secret.
#[derive(Clone)]
#[non_exhaustive]
pub struct CreatedKey {
    /// The key.
    pub key: ServiceAccountKey,
    /// The key's secret (the HS256 key of its JWTs, the Basic password).
    pub secret: SecretString,
}

impl fmt::Debug for CreatedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CreatedKey")
            .field("key", &self.key)
            .field("secret", &"[REDACTED]")
            .finish()
    }
}

/// `{"key": {..}, "secret": ".."}` as a create answers it.
#[derive(Deserialize)]
struct CreatedKeyAnswer {
    key: ServiceAccountKey,
    secret: String,
}

fn accounts_path(project_id: &str) -> String {
    format!("projects/{}/serviceaccounts", encode_segment(project_id))
}

fn account_path(project_id: &str, account_id: &str) -> String {
    format!("{}/{}", accounts_path(project_id), encode_segment(account_id))
}

fn keys_path(project_id: &str, account_id: &str) -> String {
    format!("{}/keys", account_path(project_id, account_id))
}

fn key_path(project_id: &str, account_id: &str, key_id: &str) -> String {
    format!("{}/{}", keys_path(project_id, account_id), encode_segment(key_id))
}

impl Client {
    /// A project's service accounts (`GET /projects/{p}/serviceaccounts`), as a [`List`].
    pub fn service_accounts(&self, project_id: impl Into<String>) -> List<ServiceAccount> {
        List::new(TokenPages::new(
            &self.http,
            accounts_path(&project_id.into()),
            "serviceAccounts",
            self.page_size,
        ))
    }

    /// One service account.
    pub async fn service_account(&self, project_id: &str, account_id: &str) -> Result<ServiceAccount> {
        Ok(self
            .http
            .get(&account_path(project_id, account_id))
            .json_response()
            .await?)
    }

    /// Creates a service account in a project with `settings` (`enableBasicAuth` false
    /// unless set). It may do nothing until added as a member. Not retried: a repeat
    /// could create two.
    pub async fn create_service_account(
        &self,
        project_id: &str,
        settings: &ServiceAccountUpdate,
    ) -> Result<ServiceAccount> {
        let body = CreateBody {
            display_name: settings.display_name.as_deref(),
            enable_basic_auth: settings.enable_basic_auth.unwrap_or(false),
        };
        Ok(self
            .http
            .post(&accounts_path(project_id))
            .json(&body)
            .json_response()
            .await?)
    }

    /// PATCHes exactly the fields `update` sets. An empty update is
    /// [`ClientError::InvalidRequest`](crate::ClientError::InvalidRequest), not sent.
    pub async fn update_service_account(
        &self,
        project_id: &str,
        account_id: &str,
        update: &ServiceAccountUpdate,
    ) -> Result<ServiceAccount> {
        if update.is_empty() {
            return Err(Error::invalid_request("the update changes nothing"));
        }
        Ok(self
            .http
            .request(Method::PATCH, &account_path(project_id, account_id))
            .json(update)
            // Setting the same fields again gives the same account.
            .idempotent(true)
            .json_response()
            .await?)
    }

    /// Deletes a service account (its keys stop signing in).
    pub async fn delete_service_account(&self, project_id: &str, account_id: &str) -> Result<()> {
        self.http
            .request(Method::DELETE, &account_path(project_id, account_id))
            .send_buffered()
            .await?;
        Ok(())
    }

    /// A service account's keys (`GET …/serviceaccounts/{sa}/keys`), as a [`List`].
    pub fn service_account_keys(
        &self,
        project_id: impl Into<String>,
        account_id: impl Into<String>,
    ) -> List<ServiceAccountKey> {
        List::new(TokenPages::new(
            &self.http,
            keys_path(&project_id.into(), &account_id.into()),
            "keys",
            self.page_size,
        ))
    }

    /// One key of a service account (without its secret).
    pub async fn service_account_key(
        &self,
        project_id: &str,
        account_id: &str,
        key_id: &str,
    ) -> Result<ServiceAccountKey> {
        Ok(self
            .http
            .get(&key_path(project_id, account_id, key_id))
            .json_response()
            .await?)
    }

    /// Creates a key of a service account: the key and its secret, which DT answers
    /// only this once (keep it). Not retried: a repeat could create two.
    pub async fn create_service_account_key(&self, project_id: &str, account_id: &str) -> Result<CreatedKey> {
        let answer: CreatedKeyAnswer = self
            .http
            .post(&keys_path(project_id, account_id))
            .json(&serde_json::json!({}))
            .json_response()
            .await?;
        Ok(CreatedKey {
            key: answer.key,
            secret: SecretString::from(answer.secret),
        })
    }

    /// Deletes a key of a service account: it no longer signs in.
    pub async fn delete_service_account_key(
        &self,
        project_id: &str,
        account_id: &str,
        key_id: &str,
    ) -> Result<()> {
        self.http
            .request(Method::DELETE, &key_path(project_id, account_id, key_id))
            .send_buffered()
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_send_only_what_they_set() {
        assert_eq!(
            serde_json::to_value(ServiceAccountUpdate::new().enable_basic_auth(true)).unwrap(),
            serde_json::json!({"enableBasicAuth": true})
        );
        assert!(ServiceAccountUpdate::new().is_empty());
    }
}
