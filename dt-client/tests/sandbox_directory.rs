//! The directory end to end against the DT sandbox: organizations, members, roles,
//! permissions, service accounts and keys, and what each role lets a service account
//! created through the API do.

mod common;

use std::sync::Arc;

use client_core::ManualClock;
use dt_client::{
    AccountType, Client, CreatedKey, Error, MemberStatus, NewDataConnector, Role, ServiceAccount,
    ServiceAccountUpdate,
};
use futures::TryStreamExt;
use sandbox::dt::{Config, ORGANIZATION, OTHER_PROJECT, PROJECT, Sandbox};
use secrecy::SecretString;

/// A client of `sim` signing in with `key` through the JWT grant (`email` the `iss`).
fn jwt_client(sim: &Sandbox, key: &CreatedKey, email: &str) -> Client {
    Client::builder()
        .base_url(sim.base_url())
        .token_url(sim.token_url())
        .service_account(key.key.id.clone(), key.secret.clone(), email)
        .clock(Arc::new(ManualClock::new()))
        .build()
        .unwrap()
}

/// A client of `sim` signing in with `key` through HTTP Basic.
fn basic_client(sim: &Sandbox, key: &CreatedKey) -> Client {
    Client::builder()
        .base_url(sim.base_url())
        .basic(key.key.id.clone(), key.secret.clone())
        .clock(Arc::new(ManualClock::new()))
        .build()
        .unwrap()
}

async fn sorted<S: futures::Stream<Item = Result<String, Error>>>(stream: S) -> Vec<String> {
    let mut items: Vec<String> = stream.try_collect().await.unwrap();
    items.sort();
    items
}

#[tokio::test]
async fn organizations_roles_and_permissions_are_read_back() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let admin = common::client(&sim);
    let organizations: Vec<_> = admin.organizations().stream().try_collect().await.unwrap();
    assert_eq!(
        organizations.iter().map(|o| o.id().unwrap()).collect::<Vec<_>>(),
        [ORGANIZATION]
    );
    let organization = admin.organization(ORGANIZATION).await.unwrap();
    assert_eq!(organization, organizations[0]);
    assert!(matches!(
        admin.organization("no-such-org").await,
        Err(Error::NotFound(_))
    ));

    // The configured account is the organization's administrator.
    let members: Vec<_> = admin
        .organization_members(ORGANIZATION)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(members.len(), 1);
    let me = &members[0];
    assert_eq!(
        (
            me.email.as_deref(),
            &me.roles[..],
            me.status.clone(),
            me.account_type.clone(),
            me.organization_id(),
        ),
        (
            Some(sim.config().email.as_str()),
            &[Role::OrganizationAdmin][..],
            Some(MemberStatus::Accepted),
            Some(AccountType::ServiceAccount),
            Some(ORGANIZATION),
        )
    );
    assert_eq!(
        admin
            .organization_member(ORGANIZATION, me.id().unwrap())
            .await
            .unwrap(),
        *me
    );

    let roles: Vec<_> = admin.roles().page_size(3).stream().try_collect().await.unwrap();
    assert_eq!(
        roles.iter().map(|r| r.role()).collect::<Vec<_>>(),
        [
            Role::ProjectUser,
            Role::ProjectDeveloper,
            Role::ProjectAdmin,
            Role::OrganizationAdmin
        ]
    );
    let user = admin.role(&Role::ProjectUser).await.unwrap();
    assert!(user.permissions.iter().any(|p| p == "device.read"));
    assert!(!user.permissions.iter().any(|p| p == "dataconnector.create"));
    assert!(matches!(
        admin.role(&Role::from("project.owner")).await,
        Err(Error::NotFound(_))
    ));

    // An organization administrator holds its role's permissions in the organization
    // and in each of its projects.
    let mut expected = roles[3].permissions.clone();
    expected.sort();
    assert_eq!(
        sorted(admin.organization_permissions(ORGANIZATION).stream()).await,
        expected
    );
    assert_eq!(
        sorted(admin.project_permissions(OTHER_PROJECT).page_size(5).stream()).await,
        expected
    );
}

#[tokio::test]
async fn service_accounts_keys_and_members_round_trip() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let admin = common::client(&sim);
    let created = admin
        .create_service_account(PROJECT, &ServiceAccountUpdate::new().display_name("reader"))
        .await
        .unwrap();
    let id = created.id().unwrap().to_owned();
    assert_eq!(
        created.email.as_deref(),
        Some(format!("{id}@{PROJECT}.serviceaccount.d21s.com").as_str())
    );
    assert_eq!(
        (created.display_name.as_deref(), created.enable_basic_auth),
        (Some("reader"), Some(false))
    );
    let listed: Vec<ServiceAccount> = admin
        .service_accounts(PROJECT)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert!(listed.contains(&created), "{listed:?}");
    assert!(
        admin
            .service_accounts(OTHER_PROJECT)
            .stream()
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .iter()
            .all(|a| a.id() != Some(id.as_str()))
    );

    // An update changes what it sets and keeps the rest.
    let updated = admin
        .update_service_account(PROJECT, &id, &ServiceAccountUpdate::new().enable_basic_auth(true))
        .await
        .unwrap();
    assert_eq!(
        (updated.display_name.as_deref(), updated.enable_basic_auth),
        (Some("reader"), Some(true))
    );
    assert_eq!(admin.service_account(PROJECT, &id).await.unwrap(), updated);

    let key = admin.create_service_account_key(PROJECT, &id).await.unwrap();
    let keys: Vec<_> = admin
        .service_account_keys(PROJECT, &id)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(keys, std::slice::from_ref(&key.key));
    assert_eq!(
        admin
            .service_account_key(PROJECT, &id, &key.key.id)
            .await
            .unwrap(),
        key.key
    );

    // A user's email makes a pending member with an invite URL.
    let alice = admin
        .add_project_member(PROJECT, "alice@example.com", [Role::ProjectUser])
        .await
        .unwrap();
    assert_eq!(
        (
            alice.status.clone(),
            alice.account_type.clone(),
            alice.project_id()
        ),
        (
            Some(MemberStatus::Pending),
            Some(AccountType::User),
            Some(PROJECT)
        )
    );
    let alice_id = alice.id().unwrap().to_owned();
    let invite = admin.project_member_invite_url(PROJECT, &alice_id).await.unwrap();
    assert!(invite.starts_with("https://"), "{invite}");
    let again = admin
        .add_project_member(PROJECT, "alice@example.com", [Role::ProjectAdmin])
        .await
        .unwrap_err();
    assert!(matches!(again, Error::Conflict(_)), "{again:?}");
    let wrong_kind = admin
        .add_project_member(PROJECT, "bob@example.com", [Role::OrganizationAdmin])
        .await
        .unwrap_err();
    assert!(matches!(wrong_kind, Error::BadRequest(_)), "{wrong_kind:?}");
    let promoted = admin
        .update_project_member(PROJECT, &alice_id, [Role::ProjectDeveloper, Role::ProjectUser])
        .await
        .unwrap();
    assert_eq!(promoted.roles, [Role::ProjectDeveloper, Role::ProjectUser]);
    assert_eq!(
        admin.project_member(PROJECT, &alice_id).await.unwrap().roles,
        promoted.roles
    );

    // The service account's email makes an accepted member at once: no invite URL.
    let member = admin
        .add_project_member(PROJECT, created.email.as_deref().unwrap(), [Role::ProjectUser])
        .await
        .unwrap();
    assert_eq!(
        (member.id(), member.status.clone(), member.account_type.clone()),
        (
            Some(id.as_str()),
            Some(MemberStatus::Accepted),
            Some(AccountType::ServiceAccount)
        )
    );
    let accepted = admin.project_member_invite_url(PROJECT, &id).await.unwrap_err();
    assert!(matches!(accepted, Error::BadRequest(_)), "{accepted:?}");
    let members: Vec<_> = admin
        .project_members(PROJECT)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert!(members.iter().any(|m| m.id() == Some(alice_id.as_str())));
    assert!(members.iter().any(|m| m.id() == Some(id.as_str())));

    // An organization member by email, and its removal.
    let carol = admin
        .add_organization_member(ORGANIZATION, "carol@example.com", [Role::OrganizationAdmin])
        .await
        .unwrap();
    let carol_id = carol.id().unwrap().to_owned();
    assert_eq!(carol.status, Some(MemberStatus::Pending));
    assert!(
        admin
            .organization_member_invite_url(ORGANIZATION, &carol_id)
            .await
            .unwrap()
            .starts_with("https://")
    );
    admin
        .remove_organization_member(ORGANIZATION, &carol_id)
        .await
        .unwrap();
    assert!(matches!(
        admin.organization_member(ORGANIZATION, &carol_id).await,
        Err(Error::NotFound(_))
    ));

    admin.remove_project_member(PROJECT, &alice_id).await.unwrap();
    assert!(matches!(
        admin.project_member(PROJECT, &alice_id).await,
        Err(Error::NotFound(_))
    ));

    // Deleting the key, then the account (its membership goes with it).
    admin
        .delete_service_account_key(PROJECT, &id, &key.key.id)
        .await
        .unwrap();
    assert!(matches!(
        admin.service_account_key(PROJECT, &id, &key.key.id).await,
        Err(Error::NotFound(_))
    ));
    admin.delete_service_account(PROJECT, &id).await.unwrap();
    assert!(matches!(
        admin.service_account(PROJECT, &id).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        admin.project_member(PROJECT, &id).await,
        Err(Error::NotFound(_))
    ));
}

#[tokio::test]
async fn a_project_user_reads_but_may_not_change_and_loses_access_when_removed() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let admin = common::client(&sim);
    let account = admin
        .create_service_account(PROJECT, &ServiceAccountUpdate::new().display_name("reader"))
        .await
        .unwrap();
    let id = account.id().unwrap().to_owned();
    let email = account.email.clone().unwrap();
    let key = admin.create_service_account_key(PROJECT, &id).await.unwrap();
    let jwt = jwt_client(&sim, &key, &email);
    let basic = basic_client(&sim, &key);

    // Not a member anywhere yet: signed in, allowed nothing but the roles.
    assert!(matches!(
        jwt.devices(PROJECT).send().await,
        Err(Error::Forbidden(_))
    ));
    assert_eq!(
        jwt.roles().stream().try_collect::<Vec<_>>().await.unwrap().len(),
        4
    );
    assert!(
        jwt.organizations()
            .stream()
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .is_empty()
    );
    // Basic is off until the account enables it.
    let refused = basic.roles().send().await.unwrap_err();
    assert!(refused.is_unauthorized(), "{refused:?}");

    admin
        .add_project_member(PROJECT, &email, [Role::ProjectUser])
        .await
        .unwrap();
    admin
        .update_service_account(PROJECT, &id, &ServiceAccountUpdate::new().enable_basic_auth(true))
        .await
        .unwrap();
    let user = admin.role(&Role::ProjectUser).await.unwrap();
    let mut expected = user.permissions.clone();
    expected.sort();
    for client in [&jwt, &basic] {
        assert_eq!(
            client
                .devices(PROJECT)
                .page_size(3)
                .send()
                .await
                .unwrap()
                .items
                .len(),
            3
        );
        assert_eq!(client.project(PROJECT).await.unwrap().id(), Some(PROJECT));
        assert!(
            client
                .project_members(PROJECT)
                .stream()
                .try_collect::<Vec<_>>()
                .await
                .unwrap()
                .iter()
                .any(|m| m.email.as_deref() == Some(email.as_str()))
        );
        assert_eq!(
            sorted(client.project_permissions(PROJECT).stream()).await,
            expected
        );
        // Its project's organization is visible; its members are not.
        assert_eq!(
            client.organizations().send().await.unwrap().items[0].id(),
            Some(ORGANIZATION)
        );
        assert!(matches!(
            client.organization_members(ORGANIZATION).send().await,
            Err(Error::Forbidden(_))
        ));
        // Changes are refused.
        let connector = NewDataConnector::new("receiver", "https://receiver.example.com/push");
        let err = client
            .create_data_connector(PROJECT, &connector)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
        let err = client
            .add_project_member(PROJECT, "mallory@example.com", [Role::ProjectAdmin])
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
        let err = client.create_service_account_key(PROJECT, &id).await.unwrap_err();
        assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
        // Another project is not its.
        assert!(matches!(
            client.devices(OTHER_PROJECT).send().await,
            Err(Error::Forbidden(_))
        ));
    }

    // As a developer it may create a connector.
    admin
        .update_project_member(PROJECT, &id, [Role::ProjectDeveloper])
        .await
        .unwrap();
    let connector = NewDataConnector::new("receiver", "https://receiver.example.com/push");
    let created = basic.create_data_connector(PROJECT, &connector).await.unwrap();
    assert_eq!(created.display_name.as_deref(), Some("receiver"));

    // Removed, it loses access at once, its token still valid.
    admin.remove_project_member(PROJECT, &id).await.unwrap();
    for client in [&jwt, &basic] {
        assert!(matches!(
            client.devices(PROJECT).send().await,
            Err(Error::Forbidden(_))
        ));
    }
    // A deleted key no longer signs in.
    admin
        .delete_service_account_key(PROJECT, &id, &key.key.id)
        .await
        .unwrap();
    let refused = basic.roles().send().await.unwrap_err();
    assert!(refused.is_unauthorized(), "{refused:?}");
    let fresh = jwt_client(&sim, &key, &email);
    let refused = fresh.roles().send().await.unwrap_err();
    assert!(refused.is_unauthorized(), "{refused:?}");
}

#[tokio::test]
async fn a_project_admin_manages_members_but_not_the_organization() {
    let sim = Sandbox::start(Config::default().with_account_role("project.admin"))
        .await
        .unwrap();
    let admin = common::client(&sim);
    let member = admin
        .add_project_member(PROJECT, "dana@example.com", [Role::ProjectUser])
        .await
        .unwrap();
    admin
        .remove_project_member(PROJECT, member.id().unwrap())
        .await
        .unwrap();
    let err = admin
        .add_organization_member(ORGANIZATION, "erin@example.com", [Role::OrganizationAdmin])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    assert!(matches!(
        admin.organization_permissions(ORGANIZATION).send().await,
        Err(Error::Forbidden(_))
    ));
    let permissions = sorted(admin.project_permissions(PROJECT).stream()).await;
    assert!(permissions.iter().any(|p| p == "membership.create"));
    assert!(!permissions.iter().any(|p| p == "project.create"));
    // A created key signs in with its own secret only.
    let account = admin
        .create_service_account(
            OTHER_PROJECT,
            &ServiceAccountUpdate::new().enable_basic_auth(true),
        )
        .await
        .unwrap();
    let key = admin
        .create_service_account_key(OTHER_PROJECT, account.id().unwrap())
        .await
        .unwrap();
    let forged = Client::builder()
        .base_url(sim.base_url())
        .basic(key.key.id.clone(), SecretString::from("not-the-secret"))
        .clock(Arc::new(ManualClock::new()))
        .build()
        .unwrap();
    assert!(forged.roles().send().await.unwrap_err().is_unauthorized());
    assert_eq!(
        basic_client(&sim, &key).roles().send().await.unwrap().items.len(),
        4
    );
}

#[tokio::test]
async fn a_transfer_needs_the_permission_where_the_device_is_and_a_deleted_project_takes_its_accounts() {
    let sim = Sandbox::start(Config::default().with_devices_per_project(2))
        .await
        .unwrap();
    let admin = common::client(&sim);
    let lab = admin.create_project(ORGANIZATION, "Lab").await.unwrap();
    let lab = lab.id().unwrap().to_owned();
    let account = admin
        .create_service_account(
            &lab,
            &ServiceAccountUpdate::new()
                .display_name("mover")
                .enable_basic_auth(true),
        )
        .await
        .unwrap();
    let id = account.id().unwrap().to_owned();
    let email = account.email.clone().unwrap();
    let key = admin.create_service_account_key(&lab, &id).await.unwrap();
    admin
        .add_project_member(&lab, &email, [Role::ProjectAdmin])
        .await
        .unwrap();
    let mover = basic_client(&sim, &key);
    let device = sim.devices()[0].clone();
    assert_eq!(device.project, PROJECT);

    // A device of a project the account cannot see is not found; one it may only read
    // is refused; either way it stays where it is.
    let errors = mover.transfer(&lab, [(PROJECT, &device.id)]).await.unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].status.as_ref().unwrap()["code"], 5);
    admin
        .add_project_member(PROJECT, &email, [Role::ProjectUser])
        .await
        .unwrap();
    let errors = mover.transfer(&lab, [(PROJECT, &device.id)]).await.unwrap();
    assert_eq!(errors[0].status.as_ref().unwrap()["code"], 7);
    assert_eq!(sim.devices()[0].project, PROJECT);
    // An admin of both moves it.
    let errors = admin.transfer(&lab, [(PROJECT, &device.id)]).await.unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(sim.devices()[0].project, lab);
    admin.transfer(PROJECT, [(&lab, &device.id)]).await.unwrap();

    // The project deleted, its account and key are gone: the key no longer signs in.
    assert!(mover.project(PROJECT).await.is_ok());
    admin.delete_project(&lab).await.unwrap();
    let refused = mover.project(PROJECT).await.unwrap_err();
    assert!(matches!(refused, Error::Unauthorized(_)), "{refused:?}");
}

#[tokio::test]
async fn a_claim_without_dry_run_and_a_search_by_organization_name() {
    use dt_client::client_core::http::Method;
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = common::client(&sim);
    // The simulator insists on dryRun: a client that left it out would claim for real.
    let device = sandbox::dt::CLAIMABLE_DEVICES[0].0;
    let refused = client
        .request(Method::POST, &format!("projects/{PROJECT}/devices:claim"))
        .json(&serde_json::json!({"deviceIds": [device]}))
        .send::<serde_json::Value>()
        .await
        .unwrap_err();
    assert!(matches!(refused, Error::BadRequest(_)), "{refused:?}");
    assert!(sim.claimable_devices().iter().any(|d| d == device));
    // The organization's display name matches its projects.
    let found: Vec<String> = client
        .projects()
        .query("SANDBOX ORGANIZATION")
        .stream()
        .map_ok(|p| p.id().unwrap().to_owned())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(found, [PROJECT, OTHER_PROJECT]);
}
