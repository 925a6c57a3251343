//! Members of projects and organizations (list, add, get, update roles, remove, the
//! invite URL of a pending member) and the permissions the caller holds in a project.
//! The organization's own requests are in `organizations.rs`; both share what is here.

use jiff::Timestamp;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use client_core::encode_segment;
use client_core::http::Method;

use crate::client::Client;
use crate::error::Result;
use crate::events::target_part;
use crate::list::List;
use crate::paging::TokenPages;
use crate::roles::{Role, roles_without_prefix};

client_core::open_enum! {
    /// Whether a member has accepted its invite.
    MemberStatus {
        /// A member: a service account (at once) or a user who accepted the invite.
        Accepted => "ACCEPTED",
        /// A user invited who has not accepted yet (see the invite URL requests).
        Pending => "PENDING",
    }
}

client_core::open_enum! {
    /// What kind of account a member is (`accountType`).
    AccountType {
        /// A person's account.
        User => "USER",
        /// A service account.
        ServiceAccount => "SERVICE_ACCOUNT",
    }
}

/// A member of a project or an organization: an account and its roles there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Member {
    /// `projects/{p}/members/{id}` or `organizations/{o}/members/{id}`.
    pub name: String,
    /// The display name.
    #[serde(default)]
    pub display_name: Option<String>,
    /// The roles, without `roles/` (sent as `roles/{name}`).
    #[serde(
        default,
        deserialize_with = "roles_without_prefix",
        serialize_with = "roles_with_prefix"
    )]
    pub roles: Vec<Role>,
    /// Accepted or pending.
    #[serde(default)]
    pub status: Option<MemberStatus>,
    /// The account's email.
    #[serde(default)]
    pub email: Option<String>,
    /// A user or a service account.
    #[serde(default)]
    pub account_type: Option<AccountType>,
    /// When the membership was created.
    #[serde(default)]
    pub create_time: Option<Timestamp>,
    /// Members this version does not know, as sent.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

fn roles_with_prefix<S: Serializer>(roles: &[Role], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(roles.iter().map(Role::resource_name))
}

impl Member {
    /// The member id in `name`: a service account's id, or a user's.
    pub fn id(&self) -> Option<&str> {
        target_part(&self.name, "members")
    }

    /// The project id in `name`, for a project's member.
    pub fn project_id(&self) -> Option<&str> {
        target_part(&self.name, "projects")
    }

    /// The organization id in `name`, for an organization's member.
    pub fn organization_id(&self) -> Option<&str> {
        target_part(&self.name, "organizations")
    }
}

/// Where members live: `projects/{p}` or `organizations/{o}`.
#[derive(Clone, Copy)]
pub(crate) enum Parent<'a> {
    Project(&'a str),
    Organization(&'a str),
}

impl Parent<'_> {
    fn path(self) -> String {
        match self {
            Parent::Project(id) => format!("projects/{}", encode_segment(id)),
            Parent::Organization(id) => format!("organizations/{}", encode_segment(id)),
        }
    }

    fn members(self) -> String {
        format!("{}/members", self.path())
    }

    fn member(self, member_id: &str) -> String {
        format!("{}/members/{}", self.path(), encode_segment(member_id))
    }

    fn permissions(self) -> String {
        format!("{}/permissions", self.path())
    }
}

/// The body of an add or an update: the roles as `roles/{name}`, and the email of an add.
#[derive(Serialize)]
struct MemberBody<'a> {
    roles: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
}

fn role_names<I, R>(roles: I) -> Vec<String>
where
    I: IntoIterator<Item = R>,
    R: Into<Role>,
{
    roles
        .into_iter()
        .map(|role| role.into().resource_name())
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InviteUrl {
    invite_url: String,
}

impl Client {
    pub(crate) fn members_of(&self, parent: Parent<'_>) -> List<Member> {
        List::new(TokenPages::new(
            &self.http,
            parent.members(),
            "members",
            self.page_size,
        ))
    }

    pub(crate) fn permissions_of(&self, parent: Parent<'_>) -> List<String> {
        List::new(TokenPages::new(
            &self.http,
            parent.permissions(),
            "permissions",
            self.page_size,
        ))
    }

    pub(crate) async fn add_member_to(
        &self,
        parent: Parent<'_>,
        email: &str,
        roles: Vec<String>,
    ) -> Result<Member> {
        let body = MemberBody {
            roles,
            email: Some(email),
        };
        Ok(self
            .http
            .post(&parent.members())
            .json(&body)
            .json_response()
            .await?)
    }

    pub(crate) async fn member_of(&self, parent: Parent<'_>, member_id: &str) -> Result<Member> {
        Ok(self.http.get(&parent.member(member_id)).json_response().await?)
    }

    pub(crate) async fn remove_member_from(&self, parent: Parent<'_>, member_id: &str) -> Result<()> {
        self.http
            .request(Method::DELETE, &parent.member(member_id))
            .send_buffered()
            .await?;
        Ok(())
    }

    pub(crate) async fn invite_url_of(&self, parent: Parent<'_>, member_id: &str) -> Result<String> {
        let answer: InviteUrl = self
            .http
            .get(&format!("{}:getInviteUrl", parent.member(member_id)))
            .json_response()
            .await?;
        Ok(answer.invite_url)
    }

    /// A project's members (`GET /projects/{p}/members`), as a [`List`].
    pub fn project_members(&self, project_id: impl Into<String>) -> List<Member> {
        self.members_of(Parent::Project(&project_id.into()))
    }

    /// Adds the user or service account with `email` to a project with `roles`
    /// (`POST /projects/{p}/members`, the roles sent as `roles/{name}`). A user's
    /// membership is [`MemberStatus::Pending`] until the invite is accepted. Not
    /// retried: a repeat could be refused as a duplicate after the first succeeded.
    pub async fn add_project_member<I, R>(&self, project_id: &str, email: &str, roles: I) -> Result<Member>
    where
        I: IntoIterator<Item = R>,
        R: Into<Role>,
    {
        self.add_member_to(Parent::Project(project_id), email, role_names(roles))
            .await
    }

    /// One member of a project (the member id is the service account's or user's id).
    pub async fn project_member(&self, project_id: &str, member_id: &str) -> Result<Member> {
        self.member_of(Parent::Project(project_id), member_id).await
    }

    /// Replaces a project member's roles (`PATCH /projects/{p}/members/{m}` with
    /// `{"roles": ["roles/{name}", ..]}`).
    pub async fn update_project_member<I, R>(
        &self,
        project_id: &str,
        member_id: &str,
        roles: I,
    ) -> Result<Member>
    where
        I: IntoIterator<Item = R>,
        R: Into<Role>,
    {
        let body = MemberBody {
            roles: role_names(roles),
            email: None,
        };
        Ok(self
            .http
            .request(Method::PATCH, &Parent::Project(project_id).member(member_id))
            .json(&body)
            // Setting the same roles again gives the same member.
            .idempotent(true)
            .json_response()
            .await?)
    }

    /// Removes a member from a project (the account itself stays).
    pub async fn remove_project_member(&self, project_id: &str, member_id: &str) -> Result<()> {
        self.remove_member_from(Parent::Project(project_id), member_id)
            .await
    }

    /// The invite URL of a pending member of a project (`…/members/{m}:getInviteUrl`);
    /// for a member who already accepted, DT answers 400
    /// ([`ClientError::BadRequest`](crate::ClientError::BadRequest)).
    pub async fn project_member_invite_url(&self, project_id: &str, member_id: &str) -> Result<String> {
        self.invite_url_of(Parent::Project(project_id), member_id).await
    }

    /// The permissions the caller holds in a project (`GET /projects/{p}/permissions`),
    /// as a [`List`] of names (`project.read`, `dataconnector.create`, ...).
    pub fn project_permissions(&self, project_id: impl Into<String>) -> List<String> {
        self.permissions_of(Parent::Project(&project_id.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_reads_its_roles_without_the_prefix_and_writes_them_with_it() {
        let wire = serde_json::json!({
            "name": "projects/p1/members/sa1", "displayName": "localdev",
            "roles": ["roles/project.developer", "roles/project.future"], "status": "ACCEPTED",
            "email": "sa1@p1.serviceaccount.d21s.com", "accountType": "SERVICE_ACCOUNT",
            "createTime": "2021-03-15T13:45:53.964040Z", "etag": "x"
        });
        let member: Member = serde_json::from_value(wire.clone()).unwrap();
        assert_eq!(
            member.roles,
            [Role::ProjectDeveloper, Role::Unknown("project.future".into())]
        );
        assert_eq!((member.id(), member.project_id()), (Some("sa1"), Some("p1")));
        assert_eq!(member.other["etag"], "x");
        let back = serde_json::to_value(&member).unwrap();
        assert_eq!(back["roles"], wire["roles"]);
    }
}
