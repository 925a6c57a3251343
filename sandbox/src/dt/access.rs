//! Who may do what in the DT simulator: organizations, projects, members, service
//! accounts and their keys (the directory), DT's four roles and the permissions each
//! grants, and the check a handler makes before it acts.
//!
//! Every API request is made by a service account: the configured key's account, or
//! one created through the API (its keys sign in like the configured one, Basic only
//! when the account enables it). What the account may do in a project is the union of
//! the permissions of its roles there and of its roles in the project's organization.

use axum::http::StatusCode;
use axum::response::Response;
use jiff::Timestamp;

use super::auth::dt_error;
use super::{Shared, World, lock};

/// The default organization: every configured project belongs to it.
pub const ORGANIZATION: &str = "sandbox-org";

/// The id of the configured key's service account.
pub(super) const DEFAULT_ACCOUNT: &str = "sandbox-account";

/// A role: its name (without `roles/`), display name, description and permissions.
#[derive(Debug, Clone, Copy)]
pub(super) struct RoleSpec {
    pub(super) name: &'static str,
    pub(super) display_name: &'static str,
    pub(super) description: &'static str,
    pub(super) permissions: &'static [&'static str],
}

const USER: &[&str] = &[
    "dataconnector.read",
    "device.read",
    "eventhistory.read",
    "membership.read",
    "organization.read",
    "project.read",
    "role.read",
    "serviceaccount.key.read",
    "serviceaccount.read",
];

const DEVELOPER: &[&str] = &[
    "dataconnector.create",
    "dataconnector.delete",
    "dataconnector.read",
    "dataconnector.update",
    "device.read",
    "device.update",
    "emulator.create",
    "emulator.delete",
    "emulator.update",
    "eventhistory.read",
    "membership.read",
    "organization.read",
    "project.read",
    "role.read",
    "serviceaccount.create",
    "serviceaccount.delete",
    "serviceaccount.key.create",
    "serviceaccount.key.delete",
    "serviceaccount.key.read",
    "serviceaccount.read",
    "serviceaccount.update",
];

const PROJECT_ADMIN: &[&str] = &[
    "dataconnector.create",
    "dataconnector.delete",
    "dataconnector.read",
    "dataconnector.update",
    "device.read",
    "device.transfer",
    "device.update",
    "emulator.create",
    "emulator.delete",
    "emulator.update",
    "eventhistory.read",
    "membership.create",
    "membership.delete",
    "membership.read",
    "membership.update",
    "organization.read",
    "project.delete",
    "project.read",
    "project.update",
    "role.read",
    "serviceaccount.create",
    "serviceaccount.delete",
    "serviceaccount.key.create",
    "serviceaccount.key.delete",
    "serviceaccount.key.read",
    "serviceaccount.read",
    "serviceaccount.update",
];

const ORGANIZATION_ADMIN: &[&str] = &[
    "dataconnector.create",
    "dataconnector.delete",
    "dataconnector.read",
    "dataconnector.update",
    "device.read",
    "device.transfer",
    "device.update",
    "emulator.create",
    "emulator.delete",
    "emulator.update",
    "eventhistory.read",
    "membership.create",
    "membership.delete",
    "membership.read",
    "membership.update",
    "organization.read",
    "organization.update",
    "project.create",
    "project.delete",
    "project.read",
    "project.update",
    "role.read",
    "sensor.claim",
    "serviceaccount.create",
    "serviceaccount.delete",
    "serviceaccount.key.create",
    "serviceaccount.key.delete",
    "serviceaccount.key.read",
    "serviceaccount.read",
    "serviceaccount.update",
];

/// DT's roles, in the order `GET /roles` lists them.
pub(super) const ROLES: [RoleSpec; 4] = [
    RoleSpec {
        name: "project.user",
        display_name: "Project user",
        description: "Reads a project's devices, events and settings.",
        permissions: USER,
    },
    RoleSpec {
        name: "project.developer",
        display_name: "Project developer",
        description: "A project user who also manages data connectors, service accounts, labels and emulated devices.",
        permissions: DEVELOPER,
    },
    RoleSpec {
        name: "project.admin",
        display_name: "Project administrator",
        description: "A project developer who also manages members, moves devices, and updates or deletes the project.",
        permissions: PROJECT_ADMIN,
    },
    RoleSpec {
        name: "organization.admin",
        display_name: "Organization administrator",
        description: "Administers the organization, its members and every project in it.",
        permissions: ORGANIZATION_ADMIN,
    },
];

/// The role called `name` (with or without `roles/`).
pub(super) fn role(name: &str) -> Option<&'static RoleSpec> {
    let name = name.strip_prefix("roles/").unwrap_or(name);
    ROLES.iter().find(|r| r.name == name)
}

/// An organization.
#[derive(Debug, Clone)]
pub(super) struct Organization {
    pub(super) id: String,
    pub(super) display_name: String,
}

/// A project.
#[derive(Debug, Clone)]
pub(super) struct ProjectRecord {
    pub(super) id: String,
    pub(super) display_name: String,
    pub(super) organization: String,
    pub(super) inventory: bool,
}

/// A membership: an account or user in a project or an organization, with roles.
#[derive(Debug, Clone)]
pub(super) struct Membership {
    /// `projects/{p}` or `organizations/{o}`.
    pub(super) parent: String,
    /// The member's id: a service account's id, or a user's.
    pub(super) id: String,
    pub(super) email: String,
    pub(super) display_name: String,
    /// Role names without `roles/`.
    pub(super) roles: Vec<String>,
    /// `ACCEPTED`, or `PENDING` for a user who has not accepted the invite.
    pub(super) status: String,
    /// `SERVICE_ACCOUNT_MEMBER` or `USER_MEMBER`.
    pub(super) member_type: String,
    pub(super) created: Timestamp,
}

/// A service account: it lives in a project, and signs in with its keys.
#[derive(Debug, Clone)]
pub(super) struct ServiceAccount {
    pub(super) id: String,
    pub(super) project: String,
    pub(super) display_name: String,
    pub(super) email: String,
    pub(super) basic_auth: bool,
    pub(super) keys: Vec<AccountKey>,
    pub(super) created: Timestamp,
    pub(super) updated: Timestamp,
}

/// A service account key.
#[derive(Debug, Clone)]
pub(super) struct AccountKey {
    pub(super) id: String,
    pub(super) secret: String,
    pub(super) created: Timestamp,
}

/// The directory a simulator starts with: the organization [`ORGANIZATION`] holding the
/// configured projects, and the configured key's account, a member with
/// `account_role` of the organization (an `organization.` role) or of every project.
pub(super) fn initial(
    projects: &[String],
    key_id: &str,
    key_secret: &str,
    email: &str,
    basic: bool,
    account_role: &str,
) -> (
    Vec<Organization>,
    Vec<ProjectRecord>,
    Vec<Membership>,
    Vec<ServiceAccount>,
) {
    let now = Timestamp::now();
    let organizations = vec![Organization {
        id: ORGANIZATION.into(),
        display_name: "Sandbox organization".into(),
    }];
    let records = projects
        .iter()
        .map(|p| ProjectRecord {
            id: p.clone(),
            display_name: format!("Sandbox {p}"),
            organization: ORGANIZATION.into(),
            inventory: p == "inventory",
        })
        .collect();
    let member = |parent: String| Membership {
        parent,
        id: DEFAULT_ACCOUNT.into(),
        email: email.into(),
        display_name: "Sandbox account".into(),
        roles: vec![account_role.into()],
        status: "ACCEPTED".into(),
        member_type: "SERVICE_ACCOUNT_MEMBER".into(),
        created: now,
    };
    let members = if account_role.starts_with("organization.") {
        vec![member(format!("organizations/{ORGANIZATION}"))]
    } else {
        projects.iter().map(|p| member(format!("projects/{p}"))).collect()
    };
    let accounts = vec![ServiceAccount {
        id: DEFAULT_ACCOUNT.into(),
        project: projects.first().cloned().unwrap_or_default(),
        display_name: "Sandbox account".into(),
        email: email.into(),
        basic_auth: basic,
        keys: vec![AccountKey {
            id: key_id.into(),
            secret: key_secret.into(),
            created: now,
        }],
        created: now,
        updated: now,
    }];
    (organizations, records, members, accounts)
}

/// Who made a request: the email of the service account whose key or token it carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Caller {
    pub(super) email: String,
}

/// What a permission is asked on.
#[derive(Debug, Clone, Copy)]
pub(super) enum Scope<'a> {
    /// A project (its organization's roles count too).
    Project(&'a str),
    /// An organization.
    Organization(&'a str),
}

impl World {
    /// The roles `email` holds directly on `parent` (`projects/{p}` or
    /// `organizations/{o}`).
    pub(super) fn roles_of(&self, email: &str, parent: &str) -> Vec<&'static RoleSpec> {
        self.members
            .iter()
            .filter(|m| m.parent == parent && m.email == email && m.status == "ACCEPTED")
            .flat_map(|m| m.roles.iter().filter_map(|r| role(r)))
            .collect()
    }

    /// Whether `email` has `permission` on `scope`.
    pub(super) fn allows(&self, email: &str, scope: Scope<'_>, permission: &str) -> bool {
        let mut roles: Vec<&RoleSpec> = Vec::new();
        match scope {
            Scope::Project(project) => {
                roles.extend(self.roles_of(email, &format!("projects/{project}")));
                if let Some(record) = self.projects.iter().find(|p| p.id == project) {
                    roles.extend(self.roles_of(email, &format!("organizations/{}", record.organization)));
                }
            }
            Scope::Organization(organization) => {
                roles.extend(self.roles_of(email, &format!("organizations/{organization}")));
            }
        }
        roles.iter().any(|r| r.permissions.contains(&permission))
    }

    /// Whether project `id` exists.
    pub(super) fn has_project(&self, id: &str) -> bool {
        self.projects.iter().any(|p| p.id == id)
    }
}

/// Refuses the request with 403 unless `caller` has `permission` on `scope`; a project
/// or organization that does not exist is 404.
pub(super) fn require(
    shared: &Shared,
    caller: &Caller,
    scope: Scope<'_>,
    permission: &str,
) -> Result<(), Response> {
    let world = lock(&shared.world);
    let exists = match scope {
        Scope::Project(project) => world.has_project(project),
        Scope::Organization(organization) => world.organizations.iter().any(|o| o.id == organization),
    };
    if !exists {
        let what = match scope {
            Scope::Project(_) => "project",
            Scope::Organization(_) => "organization",
        };
        return Err(dt_error(StatusCode::NOT_FOUND, &format!("{what} not found")));
    }
    if world.allows(&caller.email, scope, permission) {
        Ok(())
    } else {
        Err(dt_error(
            StatusCode::FORBIDDEN,
            &format!("the caller lacks the permission {permission}"),
        ))
    }
}
