//! The exact requests of the directory (organizations, members, permissions, roles,
//! service accounts and keys) against wiremock: methods, paths, query strings and
//! bodies, and what the client reads from the answers.

mod common;

use dt_client::{AccountType, Error, MemberStatus, Role, ServiceAccountUpdate, secrecy::ExposeSecret};
use futures::TryStreamExt;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use common::wiremock_client as basic;

/// A request as the server saw it: method, path, query string and body (JSON, or null
/// when empty).
#[derive(Debug, PartialEq)]
struct Seen {
    method: String,
    path: String,
    query: String,
    body: Value,
}

fn seen(method: &str, path: &str, query: &str, body: Value) -> Seen {
    Seen {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        body,
    }
}

async fn requests(server: &MockServer) -> Vec<Seen> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .map(|r| Seen {
            method: r.method.to_string(),
            path: r.url.path().to_owned(),
            query: r.url.query().unwrap_or_default().to_owned(),
            body: if r.body.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&r.body).unwrap()
            },
        })
        .collect()
}

async fn answer(server: &MockServer, verb: &str, at: &str, body: Value) {
    Mock::given(method(verb))
        .and(path(at))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

fn user_member(parent: &str) -> Value {
    json!({
        "name": format!("{parent}/members/9201"),
        "displayName": "my-org-member",
        "roles": ["roles/organization.admin"],
        "status": "PENDING",
        "email": "someone@example.com",
        "accountType": "USER",
        "createTime": "1970-01-01T00:00:00.000000Z",
    })
}

fn account_member(parent: &str) -> Value {
    json!({
        "name": format!("{parent}/members/sa1"),
        "displayName": "localdev",
        "roles": ["roles/project.developer"],
        "status": "ACCEPTED",
        "email": "sa1@p1.serviceaccount.d21s.com",
        "accountType": "SERVICE_ACCOUNT",
        "createTime": "2021-03-15T13:45:53.964040Z",
    })
}

#[tokio::test]
async fn organizations_page_by_token_and_their_requests_are_exact() {
    let server = MockServer::start().await;
    let organization = json!({"name": "organizations/o1", "displayName": "Org one", "future": 1});
    Mock::given(method("GET"))
        .and(path("/v2/organizations"))
        .and(query_param_is_missing("pageToken"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"organizations": [organization], "nextPageToken": "t2"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/organizations"))
        .and(query_param("pageToken", "t2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"organizations": [{"name": "organizations/o2", "displayName": "Org two"}], "nextPageToken": ""}),
        ))
        .mount(&server)
        .await;
    answer(&server, "GET", "/v2/organizations/o1", organization.clone()).await;
    Mock::given(method("GET"))
        .and(path("/v2/organizations/o1/members"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "members": [user_member("organizations/o1"), account_member("organizations/o1")],
            "nextPageToken": "",
        })))
        .mount(&server)
        .await;
    answer(
        &server,
        "POST",
        "/v2/organizations/o1/members",
        user_member("organizations/o1"),
    )
    .await;
    answer(
        &server,
        "GET",
        "/v2/organizations/o1/members/9201",
        user_member("organizations/o1"),
    )
    .await;
    answer(
        &server,
        "GET",
        "/v2/organizations/o1/members/9201:getInviteUrl",
        json!({"inviteUrl": "https://studio.example/invite/abc"}),
    )
    .await;
    answer(&server, "DELETE", "/v2/organizations/o1/members/9201", json!({})).await;
    answer(
        &server,
        "GET",
        "/v2/organizations/o1/permissions",
        json!({"permissions": ["membership.read", "organization.read"], "nextPageToken": ""}),
    )
    .await;

    let client = basic(&server);
    let organizations: Vec<_> = client.organizations().stream().try_collect().await.unwrap();
    assert_eq!(
        organizations.iter().map(|o| o.id().unwrap()).collect::<Vec<_>>(),
        ["o1", "o2"]
    );
    assert_eq!(organizations[1].display_name.as_deref(), Some("Org two"));
    let one = client.organization("o1").await.unwrap();
    assert_eq!(
        (one.id(), one.display_name.as_deref(), &one.other["future"]),
        (Some("o1"), Some("Org one"), &json!(1))
    );
    let members = client
        .organization_members("o1")
        .page_size(50)
        .send()
        .await
        .unwrap();
    assert_eq!(members.items.len(), 2);
    let user = &members.items[0];
    assert_eq!(
        (
            user.id(),
            user.organization_id(),
            user.project_id(),
            &user.roles[..],
            user.status.clone(),
            user.account_type.clone(),
            user.email.as_deref(),
        ),
        (
            Some("9201"),
            Some("o1"),
            None,
            &[Role::OrganizationAdmin][..],
            Some(MemberStatus::Pending),
            Some(AccountType::User),
            Some("someone@example.com"),
        )
    );
    assert_eq!(user.create_time, Some(jiff::Timestamp::UNIX_EPOCH));
    assert_eq!(members.items[1].account_type, Some(AccountType::ServiceAccount));
    let added = client
        .add_organization_member("o1", "someone@example.com", [Role::OrganizationAdmin])
        .await
        .unwrap();
    assert_eq!(added.id(), Some("9201"));
    assert_eq!(
        client
            .organization_member("o1", "9201")
            .await
            .unwrap()
            .display_name
            .as_deref(),
        Some("my-org-member")
    );
    assert_eq!(
        client.organization_member_invite_url("o1", "9201").await.unwrap(),
        "https://studio.example/invite/abc"
    );
    client.remove_organization_member("o1", "9201").await.unwrap();
    let permissions: Vec<String> = client
        .organization_permissions("o1")
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(permissions, ["membership.read", "organization.read"]);

    assert_eq!(
        requests(&server).await,
        [
            seen("GET", "/v2/organizations", "pageSize=1000", Value::Null),
            seen(
                "GET",
                "/v2/organizations",
                "pageSize=1000&pageToken=t2",
                Value::Null
            ),
            seen("GET", "/v2/organizations/o1", "", Value::Null),
            seen("GET", "/v2/organizations/o1/members", "pageSize=50", Value::Null),
            seen(
                "POST",
                "/v2/organizations/o1/members",
                "",
                json!({"roles": ["roles/organization.admin"], "email": "someone@example.com"})
            ),
            seen("GET", "/v2/organizations/o1/members/9201", "", Value::Null),
            seen(
                "GET",
                "/v2/organizations/o1/members/9201:getInviteUrl",
                "",
                Value::Null
            ),
            seen("DELETE", "/v2/organizations/o1/members/9201", "", Value::Null),
            seen(
                "GET",
                "/v2/organizations/o1/permissions",
                "pageSize=1000",
                Value::Null
            ),
        ]
    );
}

#[tokio::test]
async fn project_members_send_roles_with_their_prefix() {
    let server = MockServer::start().await;
    let member = account_member("projects/p1");
    answer(
        &server,
        "GET",
        "/v2/projects/p1/members",
        json!({"members": [member], "nextPageToken": ""}),
    )
    .await;
    answer(&server, "POST", "/v2/projects/p1/members", member.clone()).await;
    answer(&server, "GET", "/v2/projects/p1/members/sa1", member.clone()).await;
    let mut updated = member.clone();
    updated["roles"] = json!(["roles/project.user", "roles/project.admin"]);
    answer(&server, "PATCH", "/v2/projects/p1/members/sa1", updated).await;
    Mock::given(method("GET"))
        .and(path("/v2/projects/p1/members/sa1:getInviteUrl"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            json!({"error": "the member has already accepted the invite", "code": 400, "help": "h"}),
        ))
        .mount(&server)
        .await;
    answer(&server, "DELETE", "/v2/projects/p1/members/sa1", json!({})).await;
    answer(
        &server,
        "GET",
        "/v2/projects/p1/permissions",
        json!({"permissions": ["project.read"], "nextPageToken": ""}),
    )
    .await;

    let client = basic(&server);
    let members: Vec<_> = client.project_members("p1").stream().try_collect().await.unwrap();
    assert_eq!(
        (members[0].id(), members[0].project_id(), &members[0].roles[..]),
        (Some("sa1"), Some("p1"), &[Role::ProjectDeveloper][..])
    );
    let added = client
        .add_project_member("p1", "sa1@p1.serviceaccount.d21s.com", [Role::ProjectDeveloper])
        .await
        .unwrap();
    assert_eq!(added.status, Some(MemberStatus::Accepted));
    client.project_member("p1", "sa1").await.unwrap();
    // A role given by name, even with its prefix already, is sent once prefixed.
    let updated = client
        .update_project_member(
            "p1",
            "sa1",
            [Role::from("project.user"), Role::from("roles/project.admin")],
        )
        .await
        .unwrap();
    assert_eq!(updated.roles, [Role::ProjectUser, Role::ProjectAdmin]);
    let err = client.project_member_invite_url("p1", "sa1").await.unwrap_err();
    assert!(matches!(err, Error::BadRequest(_)), "{err:?}");
    client.remove_project_member("p1", "sa1").await.unwrap();
    let permissions = client
        .project_permissions("p1")
        .page_size(7)
        .send()
        .await
        .unwrap();
    assert_eq!(permissions.items, ["project.read"]);

    assert_eq!(
        requests(&server).await,
        [
            seen("GET", "/v2/projects/p1/members", "pageSize=1000", Value::Null),
            seen(
                "POST",
                "/v2/projects/p1/members",
                "",
                json!({"roles": ["roles/project.developer"], "email": "sa1@p1.serviceaccount.d21s.com"})
            ),
            seen("GET", "/v2/projects/p1/members/sa1", "", Value::Null),
            seen(
                "PATCH",
                "/v2/projects/p1/members/sa1",
                "",
                json!({"roles": ["roles/project.user", "roles/project.admin"]})
            ),
            seen("GET", "/v2/projects/p1/members/sa1:getInviteUrl", "", Value::Null),
            seen("DELETE", "/v2/projects/p1/members/sa1", "", Value::Null),
            seen("GET", "/v2/projects/p1/permissions", "pageSize=7", Value::Null),
        ]
    );
}

#[tokio::test]
async fn roles_are_listed_and_read_by_name() {
    let server = MockServer::start().await;
    let user = json!({
        "name": "roles/project.user", "displayName": "Project user",
        "description": "Reads.", "permissions": ["project.read", "membership.read"],
    });
    answer(
        &server,
        "GET",
        "/v2/roles",
        json!({"roles": [user, {"name": "roles/project.auditor"}], "nextPageToken": ""}),
    )
    .await;
    answer(&server, "GET", "/v2/roles/project.user", user.clone()).await;
    let client = basic(&server);
    let roles: Vec<_> = client.roles().stream().try_collect().await.unwrap();
    assert_eq!(
        roles.iter().map(|r| r.role()).collect::<Vec<_>>(),
        [Role::ProjectUser, Role::Unknown("project.auditor".into())]
    );
    let role = client.role(&Role::ProjectUser).await.unwrap();
    assert_eq!(
        (
            role.display_name.as_deref(),
            role.description.as_deref(),
            &role.permissions[..]
        ),
        (
            Some("Project user"),
            Some("Reads."),
            &["project.read".to_owned(), "membership.read".to_owned()][..]
        )
    );
    // Named with its prefix, the same role at the same path.
    client.role(&Role::from("roles/project.user")).await.unwrap();
    assert_eq!(
        Role::OrganizationAdmin.resource_name(),
        "roles/organization.admin"
    );
    assert_eq!(
        requests(&server).await,
        [
            seen("GET", "/v2/roles", "pageSize=1000", Value::Null),
            seen("GET", "/v2/roles/project.user", "", Value::Null),
            seen("GET", "/v2/roles/project.user", "", Value::Null),
        ]
    );
}

#[tokio::test]
async fn service_accounts_and_keys_send_exactly_what_is_set() {
    let server = MockServer::start().await;
    let account = json!({
        "name": "projects/p1/serviceaccounts/sa1",
        "email": "sa1@p1.serviceaccount.d21s.com",
        "displayName": "service-account-1",
        "enableBasicAuth": false,
        "createTime": "2021-03-11T09:39:56.015971Z",
        "updateTime": "2021-03-11T09:39:56.103249Z",
    });
    let key = json!({
        "name": "projects/p1/serviceaccounts/sa1/keys/k1",
        "id": "k1",
        "createTime": "2021-03-17T08:25:48.953067Z",
    });
    answer(
        &server,
        "GET",
        "/v2/projects/p1/serviceaccounts",
        json!({"serviceAccounts": [account], "nextPageToken": ""}),
    )
    .await;
    answer(
        &server,
        "GET",
        "/v2/projects/p1/serviceaccounts/sa1",
        account.clone(),
    )
    .await;
    answer(
        &server,
        "POST",
        "/v2/projects/p1/serviceaccounts",
        account.clone(),
    )
    .await;
    answer(
        &server,
        "PATCH",
        "/v2/projects/p1/serviceaccounts/sa1",
        account.clone(),
    )
    .await;
    answer(
        &server,
        "DELETE",
        "/v2/projects/p1/serviceaccounts/sa1",
        json!({}),
    )
    .await;
    answer(
        &server,
        "GET",
        "/v2/projects/p1/serviceaccounts/sa1/keys",
        json!({"keys": [key], "nextPageToken": ""}),
    )
    .await;
    answer(
        &server,
        "GET",
        "/v2/projects/p1/serviceaccounts/sa1/keys/k1",
        key.clone(),
    )
    .await;
    answer(
        &server,
        "POST",
        "/v2/projects/p1/serviceaccounts/sa1/keys",
        json!({"key": key, "secret": "239dcd912b8041a58054f843a2a633a4"}),
    )
    .await;
    answer(
        &server,
        "DELETE",
        "/v2/projects/p1/serviceaccounts/sa1/keys/k1",
        json!({}),
    )
    .await;

    let client = basic(&server);
    let accounts = client.service_accounts("p1").page_size(10).send().await.unwrap();
    let first = &accounts.items[0];
    assert_eq!(
        (
            first.id(),
            first.project_id(),
            first.email.as_deref(),
            first.display_name.as_deref(),
            first.enable_basic_auth,
        ),
        (
            Some("sa1"),
            Some("p1"),
            Some("sa1@p1.serviceaccount.d21s.com"),
            Some("service-account-1"),
            Some(false),
        )
    );
    assert_eq!(
        first.create_time,
        Some("2021-03-11T09:39:56.015971Z".parse().unwrap())
    );
    assert!(first.update_time > first.create_time);
    client.service_account("p1", "sa1").await.unwrap();
    client
        .create_service_account("p1", &ServiceAccountUpdate::new())
        .await
        .unwrap();
    client
        .create_service_account(
            "p1",
            &ServiceAccountUpdate::new()
                .display_name("reader")
                .enable_basic_auth(true),
        )
        .await
        .unwrap();
    client
        .update_service_account("p1", "sa1", &ServiceAccountUpdate::new().enable_basic_auth(true))
        .await
        .unwrap();
    client
        .update_service_account("p1", "sa1", &ServiceAccountUpdate::new().display_name("renamed"))
        .await
        .unwrap();
    let empty = client
        .update_service_account("p1", "sa1", &ServiceAccountUpdate::new())
        .await
        .unwrap_err();
    assert!(matches!(empty, Error::InvalidRequest(_)), "{empty:?}");
    client.delete_service_account("p1", "sa1").await.unwrap();
    let keys: Vec<_> = client
        .service_account_keys("p1", "sa1")
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        (keys[0].id.as_str(), keys[0].name.as_str()),
        ("k1", "projects/p1/serviceaccounts/sa1/keys/k1")
    );
    assert_eq!(
        client.service_account_key("p1", "sa1", "k1").await.unwrap(),
        keys[0]
    );
    let created = client.create_service_account_key("p1", "sa1").await.unwrap();
    assert_eq!(created.key, keys[0]);
    assert_eq!(created.secret.expose_secret(), "239dcd912b8041a58054f843a2a633a4");
    let shown = format!("{created:?}");
    assert!(!shown.contains("239dcd912b8041a58054f843a2a633a4"), "{shown}");
    assert!(shown.contains("k1") && shown.contains("[REDACTED]"), "{shown}");
    client
        .delete_service_account_key("p1", "sa1", "k1")
        .await
        .unwrap();

    assert_eq!(
        requests(&server).await,
        [
            seen(
                "GET",
                "/v2/projects/p1/serviceaccounts",
                "pageSize=10",
                Value::Null
            ),
            seen("GET", "/v2/projects/p1/serviceaccounts/sa1", "", Value::Null),
            seen(
                "POST",
                "/v2/projects/p1/serviceaccounts",
                "",
                json!({"enableBasicAuth": false})
            ),
            seen(
                "POST",
                "/v2/projects/p1/serviceaccounts",
                "",
                json!({"displayName": "reader", "enableBasicAuth": true})
            ),
            seen(
                "PATCH",
                "/v2/projects/p1/serviceaccounts/sa1",
                "",
                json!({"enableBasicAuth": true})
            ),
            seen(
                "PATCH",
                "/v2/projects/p1/serviceaccounts/sa1",
                "",
                json!({"displayName": "renamed"})
            ),
            seen("DELETE", "/v2/projects/p1/serviceaccounts/sa1", "", Value::Null),
            seen(
                "GET",
                "/v2/projects/p1/serviceaccounts/sa1/keys",
                "pageSize=1000",
                Value::Null
            ),
            seen(
                "GET",
                "/v2/projects/p1/serviceaccounts/sa1/keys/k1",
                "",
                Value::Null
            ),
            seen("POST", "/v2/projects/p1/serviceaccounts/sa1/keys", "", json!({})),
            seen(
                "DELETE",
                "/v2/projects/p1/serviceaccounts/sa1/keys/k1",
                "",
                Value::Null
            ),
        ]
    );
}

#[tokio::test]
async fn ids_are_path_segments_and_lists_are_requests_before_they_are_sent() {
    let server = MockServer::start().await;
    let client = basic(&server);
    let request = client.service_account_keys("p 1", "sa/1").to_request().unwrap();
    assert_eq!(
        request.url.path(),
        "/v2/projects/p%201/serviceaccounts/sa%2F1/keys"
    );
    assert_eq!(request.query_value("pageSize"), Some("1000"));
    let err = client.remove_project_member("p1", "..").await.unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert!(server.received_requests().await.unwrap().is_empty());
}
