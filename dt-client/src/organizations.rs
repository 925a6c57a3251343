//! Organizations (`GET /organizations`, `GET /organizations/{o}`), their members and
//! the permissions the caller holds in one.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use client_core::encode_segment;

use crate::client::Client;
use crate::error::Result;
use crate::events::target_part;
use crate::list::List;
use crate::members::{Member, Parent};
use crate::paging::TokenPages;
use crate::roles::Role;

/// An organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Organization {
    /// `organizations/{id}`.
    pub name: String,
    /// The display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// Members this version does not know, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Organization {
    /// The organization id in `name`.
    pub fn id(&self) -> Option<&str> {
        target_part(&self.name, "organizations")
    }
}

impl Client {
    /// Every organization the account can see (`GET /organizations`), as a [`List`].
    pub fn organizations(&self) -> List<Organization> {
        List::new(TokenPages::new(
            &self.http,
            "organizations".into(),
            "organizations",
            self.page_size,
        ))
    }

    /// One organization.
    pub async fn organization(&self, organization_id: &str) -> Result<Organization> {
        Ok(self
            .http
            .get(&format!("organizations/{}", encode_segment(organization_id)))
            .json_response()
            .await?)
    }

    /// An organization's members (`GET /organizations/{o}/members`), as a [`List`].
    pub fn organization_members(&self, organization_id: impl Into<String>) -> List<Member> {
        self.members_of(Parent::Organization(&organization_id.into()))
    }

    /// Adds the user or service account with `email` to an organization with `roles`
    /// (`POST /organizations/{o}/members`; DT's only organization role is
    /// [`Role::OrganizationAdmin`]). Not retried.
    pub async fn add_organization_member<I, R>(
        &self,
        organization_id: &str,
        email: &str,
        roles: I,
    ) -> Result<Member>
    where
        I: IntoIterator<Item = R>,
        R: Into<Role>,
    {
        let roles = roles.into_iter().map(|r| r.into().resource_name()).collect();
        self.add_member_to(Parent::Organization(organization_id), email, roles)
            .await
    }

    /// One member of an organization.
    pub async fn organization_member(&self, organization_id: &str, member_id: &str) -> Result<Member> {
        self.member_of(Parent::Organization(organization_id), member_id)
            .await
    }

    /// Removes a member from an organization (the account itself stays).
    pub async fn remove_organization_member(&self, organization_id: &str, member_id: &str) -> Result<()> {
        self.remove_member_from(Parent::Organization(organization_id), member_id)
            .await
    }

    /// The invite URL of a pending member of an organization
    /// (`…/members/{m}:getInviteUrl`); 400 for a member who already accepted.
    pub async fn organization_member_invite_url(
        &self,
        organization_id: &str,
        member_id: &str,
    ) -> Result<String> {
        self.invite_url_of(Parent::Organization(organization_id), member_id)
            .await
    }

    /// The permissions the caller holds in an organization
    /// (`GET /organizations/{o}/permissions`), as a [`List`] of names.
    pub fn organization_permissions(&self, organization_id: impl Into<String>) -> List<String> {
        self.permissions_of(Parent::Organization(&organization_id.into()))
    }
}
