//! The exact requests of projects (list by organization and text, create, update,
//! delete), claims (claim info, claiming), devices without a project (`projects/-`)
//! and the credentials file, against wiremock: methods, paths, query strings, bodies
//! and the fields decoded from the answers.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine as _;
use client_core::ManualClock;
use dt_client::{
    ClaimErrorCode, ClaimRequest, ClaimType, Client, CredentialsFile, Device, Error, Project, ProjectUpdate,
};
use futures::TryStreamExt;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use common::wiremock_client as basic;

fn query_of(request: &Request) -> Vec<(String, String)> {
    request.url.query_pairs().into_owned().collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

fn project_json(id: &str) -> Value {
    json!({
        "name": format!("projects/{id}"),
        "displayName": "Warehouse",
        "organization": "organizations/o1",
        "organizationDisplayName": "Org one",
        "sensorCount": 12,
        "cloudConnectorCount": 2,
        "inventory": false,
        "futureField": [1]
    })
}

#[tokio::test]
async fn projects_are_listed_by_organization_and_text() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/projects"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"projects": [project_json("p1")], "nextPageToken": ""})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = basic(&server);
    let listed: Vec<Project> = client
        .projects()
        .organization("o1")
        .query("ware house")
        .page_size(20)
        .stream()
        .try_collect()
        .await
        .unwrap();
    let received = requests(&server).await;
    assert_eq!(
        query_of(&received[0]),
        pairs(&[
            ("organization", "organizations/o1"),
            ("query", "ware house"),
            ("pageSize", "20"),
        ])
    );
    let project = &listed[0];
    assert_eq!(project.id(), Some("p1"));
    assert_eq!(project.display_name.as_deref(), Some("Warehouse"));
    assert_eq!(project.organization_id(), Some("o1"));
    assert_eq!(project.organization_display_name.as_deref(), Some("Org one"));
    assert_eq!(project.sensor_count, Some(12));
    assert_eq!(project.cloud_connector_count, Some(2));
    assert_eq!(project.inventory, Some(false));
    assert_eq!(project.other["futureField"], json!([1]));

    // Without filters, only the page size; the preview says the same.
    let preview = client.projects().to_request().unwrap();
    assert_eq!(preview.url.path(), "/v2/projects");
    assert_eq!(preview.query, pairs(&[("pageSize", "1000")]));
}

#[tokio::test]
async fn a_project_is_created_updated_and_deleted() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/projects"))
        .and(body_json(
            json!({"displayName": "New one", "organization": "organizations/o1"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(project_json("p9")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/v2/projects/p9"))
        .and(body_json(json!({"displayName": "Renamed"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v2/projects/p9"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v2/projects/full"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": "project is not empty", "code": 400, "help": "https://docs"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = basic(&server);
    let created = client.create_project("o1", "New one").await.unwrap();
    assert_eq!(created.id(), Some("p9"));
    assert_eq!(created.organization_id(), Some("o1"));
    client
        .update_project("p9", &ProjectUpdate::new().display_name("Renamed"))
        .await
        .unwrap();
    client.delete_project("p9").await.unwrap();
    let err = client.delete_project("full").await.unwrap_err();
    assert!(
        matches!(&err, Error::BadRequest(api) if api.message.as_deref() == Some("project is not empty")),
        "{err:?}"
    );
    // An update that changes nothing is refused before sending.
    let empty = client.update_project("p9", &ProjectUpdate::new()).await;
    assert!(matches!(empty, Err(Error::InvalidRequest(_))), "{empty:?}");
    let received = requests(&server).await;
    assert_eq!(received.len(), 4);
    assert!(
        received.iter().all(|r| r.url.query().is_none()),
        "no query string"
    );
}

#[tokio::test]
async fn claim_info_asks_by_identifier_and_organization_and_reads_a_kit_or_a_device() {
    let server = MockServer::start().await;
    let kit = json!({
        "type": "KIT",
        "kit": {
            "kitId": "fff000",
            "displayName": "Starter Kit EU, 5 sensors",
            "sensors": {"totalCount": 5, "claimedCount": 1},
            "cloudConnectors": {"totalCount": 1, "claimedCount": 0},
            "devices": [
                {"deviceId": "a", "deviceType": "touch", "productNumber": "", "isClaimed": true},
                {"deviceId": "b", "deviceType": "proximity", "productNumber": "102058", "isClaimed": false}
            ]
        }
    });
    Mock::given(method("GET"))
        .and(path("/v2/claimInfo"))
        .respond_with(move |request: &Request| {
            let identifier = query_of(request)[0].1.clone();
            let body = match identifier.as_str() {
                "fff000" => kit.clone(),
                "dev1" => json!({"type": "DEVICE", "device": {"deviceId": "dev1", "deviceType": "co2",
                    "productNumber": "102081", "isClaimed": false}}),
                _ => json!({"type": "GATEWAY", "gateway": {"id": "g"}}),
            };
            ResponseTemplate::new(200).set_body_json(body)
        })
        .expect(3)
        .mount(&server)
        .await;
    let client = basic(&server);
    let info = client.claim_info("fff000", Some("o1")).await.unwrap();
    assert_eq!(info.claim_type, ClaimType::Kit);
    let kit = info.kit.unwrap();
    assert_eq!(kit.kit_id, "fff000");
    assert_eq!(kit.display_name.as_deref(), Some("Starter Kit EU, 5 sensors"));
    let sensors = kit.sensors.unwrap();
    assert_eq!((sensors.total_count, sensors.claimed_count), (5, 1));
    assert_eq!(kit.cloud_connectors.unwrap().total_count, 1);
    assert_eq!(kit.devices.len(), 2);
    assert_eq!(kit.devices[1].device_id, "b");
    assert_eq!(kit.devices[1].device_type.as_deref(), Some("proximity"));
    assert_eq!(kit.devices[1].product_number.as_deref(), Some("102058"));
    assert_eq!(kit.devices[1].is_claimed, Some(false));
    assert!(info.device.is_none());

    let device = client.claim_info("dev1", None).await.unwrap();
    assert_eq!(device.claim_type, ClaimType::Device);
    let device = device.device.unwrap();
    assert_eq!(
        (
            device.device_id.as_str(),
            device.device_type.as_deref(),
            device.is_claimed
        ),
        ("dev1", Some("co2"), Some(false))
    );
    // A type this version does not know is kept, not a decode error.
    let other = client.claim_info("g", None).await.unwrap();
    assert_eq!(other.claim_type, ClaimType::Unknown("GATEWAY".into()));
    assert_eq!(other.other["gateway"], json!({"id": "g"}));

    let received = requests(&server).await;
    assert_eq!(
        query_of(&received[0]),
        pairs(&[("identifier", "fff000"), ("organization", "organizations/o1")])
    );
    assert_eq!(query_of(&received[1]), pairs(&[("identifier", "dev1")]));
}

#[tokio::test]
async fn a_claim_sends_its_ids_and_dry_run_and_reads_claimed_devices_and_errors() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/projects/p1/devices:claim"))
        .and(body_json(json!({"kitIds": ["k1", "k2"], "deviceIds": ["a", "b", "c"]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "claimedDevices": [
                {"deviceId": "a", "deviceType": "temperature", "productNumber": "102150", "isClaimed": true}
            ],
            "claimErrors": {
                "devices": [
                    {"deviceId": "b", "code": "ALREADY_CLAIMED", "message": "The device was previously claimed"},
                    {"deviceId": "c", "code": "NOT_FOUND", "message": "The device was not found"}
                ],
                "kits": [{"kitId": "k2", "code": "SOMETHING_NEW", "message": "?"}]
            }
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/projects/p1/devices:claim"))
        .and(body_json(json!({"deviceIds": ["a"]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "claimedDevices": [{"deviceId": "a", "deviceType": "temperature", "productNumber": "", "isClaimed": true}],
            "claimErrors": {"devices": [], "kits": []}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = basic(&server);
    let request = ClaimRequest::for_real()
        .kits(["k1", "k2"])
        .devices(["a", "b"])
        .devices(["c"]);
    assert!(!request.is_dry_run());
    let outcome = client.claim("p1", &request).await.unwrap();
    assert_eq!(outcome.claimed_devices.len(), 1);
    assert_eq!(outcome.claimed_devices[0].device_id, "a");
    assert_eq!(
        outcome.claimed_devices[0].product_number.as_deref(),
        Some("102150")
    );
    assert_eq!(outcome.claimed_devices[0].is_claimed, Some(true));
    let errors = &outcome.claim_errors;
    assert!(!errors.is_empty());
    assert_eq!(errors.devices[0].device_id.as_deref(), Some("b"));
    assert_eq!(errors.devices[0].code, Some(ClaimErrorCode::AlreadyClaimed));
    assert_eq!(
        errors.devices[0].message.as_deref(),
        Some("The device was previously claimed")
    );
    assert_eq!(errors.devices[1].code, Some(ClaimErrorCode::NotFound));
    assert_eq!(errors.kits[0].kit_id.as_deref(), Some("k2"));
    assert_eq!(
        errors.kits[0].code,
        Some(ClaimErrorCode::Unknown("SOMETHING_NEW".into()))
    );

    let dry = client
        .claim("p1", &ClaimRequest::dry_run().devices(["a"]))
        .await
        .unwrap();
    assert!(dry.claim_errors.is_empty());
    // A claim of nothing is refused before sending.
    let nothing = client.claim("p1", &ClaimRequest::for_real()).await;
    assert!(matches!(nothing, Err(Error::InvalidRequest(_))), "{nothing:?}");

    let received = requests(&server).await;
    assert_eq!(received.len(), 2);
    assert_eq!(query_of(&received[0]), pairs(&[("dryRun", "false")]));
    assert_eq!(query_of(&received[1]), pairs(&[("dryRun", "true")]));
}

#[tokio::test]
async fn devices_are_found_without_their_project_and_listed_across_an_organization() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/projects/-/devices/d1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"name": "projects/p7/devices/d1", "type": "temperature", "labels": {"name": "Fridge"}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/projects/-/devices"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "devices": [{"name": "projects/p1/devices/d2", "type": "touch"},
                        {"name": "projects/p2/devices/d3", "type": "touch"}],
            "nextPageToken": ""
        })))
        .expect(1)
        .mount(&server)
        .await;
    let client = basic(&server);
    let device = client.lookup_device("d1").await.unwrap();
    assert_eq!(device.id(), Some("d1"));
    assert_eq!(device.project_id(), Some("p7"));
    assert_eq!(device.labels["name"], "Fridge");

    let devices: Vec<Device> = client
        .organization_devices("o1")
        .projects(["p1", "p2"])
        .device_types(["touch"])
        .label_equals("floor", "2")
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        devices
            .iter()
            .map(|d| d.project_id().unwrap())
            .collect::<Vec<_>>(),
        ["p1", "p2"]
    );
    let received = requests(&server).await;
    assert_eq!(received[0].url.query(), None);
    assert_eq!(
        query_of(&received[1]),
        pairs(&[
            ("organization", "organizations/o1"),
            ("projects", "projects/p1"),
            ("projects", "projects/p2"),
            ("device_types", "touch"),
            ("label_filters", "floor=2"),
            ("pageSize", "1000"),
        ])
    );
}

/// A file under the temporary folder, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, content: &[u8]) -> TempFile {
        let path = std::env::temp_dir().join(format!(
            "dt-client-wire-projects-{}-{name}.json",
            std::process::id()
        ));
        std::fs::write(&path, content).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

const SECRET: &str = "file-secret-value-42";

fn credentials(token_endpoint: &str) -> Value {
    json!({"serviceAccount": {
        "keyId": "file-key", "secret": SECRET, "email": "file@p.serviceaccount.d21s.com",
        "algorithm": "HS256", "tokenEndpoint": token_endpoint
    }})
}

fn config_message(result: Result<Client, Error>) -> String {
    match result {
        Err(Error::Config(e)) => e.message().to_owned(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_credentials_file_signs_in_at_its_token_endpoint() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/from-file/token"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"access_token": "t-file", "expires_in": 3600})),
        )
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/projects/p1"))
        .and(wiremock::matchers::header("authorization", "Bearer t-file"))
        .respond_with(ResponseTemplate::new(200).set_body_json(project_json("p1")))
        .expect(2)
        .mount(&server)
        .await;
    let token_url = format!("{}/from-file/token", server.uri());
    let file = TempFile::new("good", credentials(&token_url).to_string().as_bytes());

    // By the builder.
    let builder = Client::builder()
        .base_url(format!("{}/v2", server.uri()))
        .credentials_file(&file.0)
        .clock(Arc::new(ManualClock::new()));
    assert!(!format!("{builder:?}").contains(SECRET));
    let client = builder.build().unwrap();
    assert!(!format!("{client:?}").contains(SECRET));
    assert_eq!(client.project("p1").await.unwrap().id(), Some("p1"));

    // By the variable, as the official Python client reads it.
    let path = file.0.to_string_lossy().into_owned();
    let base = format!("{}/v2", server.uri());
    let from_var = Client::from_vars(|name| match name {
        "DT_CREDENTIALS_FILE" => Some(path.clone()),
        "DT_BASE_URL" => Some(base.clone()),
        _ => None,
    })
    .unwrap();
    assert_eq!(from_var.project("p1").await.unwrap().id(), Some("p1"));

    let received = requests(&server).await;
    let token_requests: Vec<&Request> = received
        .iter()
        .filter(|r| r.url.path() == "/from-file/token")
        .collect();
    assert_eq!(token_requests.len(), 2);
    for request in token_requests {
        let form: std::collections::BTreeMap<String, String> =
            url::form_urlencoded::parse(&request.body).into_owned().collect();
        let parts: Vec<&str> = form["assertion"].split('.').collect();
        let decode = |part: &str| -> Value {
            serde_json::from_slice(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(part)
                    .unwrap(),
            )
            .unwrap()
        };
        assert_eq!(
            decode(parts[0]),
            json!({"alg": "HS256", "kid": "file-key", "typ": "JWT"})
        );
        let claims = decode(parts[1]);
        assert_eq!(claims["iss"], "file@p.serviceaccount.d21s.com");
        assert_eq!(claims["aud"], token_url);
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET.as_bytes());
        let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[2])
            .unwrap();
        ring::hmac::verify(&key, format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature).unwrap();
    }
}

#[test]
fn a_bad_credentials_file_is_a_config_error_naming_the_field_never_the_secret() {
    let endpoint = "https://identity.disruptive-technologies.com/oauth2/token";
    let good = CredentialsFile::from_json(credentials(endpoint).to_string().as_bytes()).unwrap();
    assert_eq!(good.key_id(), "file-key");
    assert_eq!(good.email(), "file@p.serviceaccount.d21s.com");
    assert_eq!(good.token_endpoint(), endpoint);
    let shown = format!("{good:?}");
    assert!(!shown.contains(SECRET) && shown.contains("file-key"), "{shown}");

    let build = |content: &Value, name: &str| {
        let file = TempFile::new(name, content.to_string().as_bytes());
        Client::builder().credentials_file(&file.0).build()
    };
    // A missing member.
    let mut missing = credentials(endpoint);
    missing["serviceAccount"].as_object_mut().unwrap().remove("email");
    let message = config_message(build(&missing, "missing"));
    assert!(message.contains("serviceAccount.email"), "{message}");
    assert!(!message.contains(SECRET), "{message}");
    // An algorithm other than HS256.
    let mut rs256 = credentials(endpoint);
    rs256["serviceAccount"]["algorithm"] = json!("RS256");
    let message = config_message(build(&rs256, "rs256"));
    assert!(message.contains("serviceAccount.algorithm"), "{message}");
    assert!(!message.contains(SECRET), "{message}");
    // A secret of the wrong type is named, its value not shown.
    let mut number = credentials(endpoint);
    number["serviceAccount"]["secret"] = json!(98765432123_u64);
    let message = config_message(build(&number, "number"));
    assert!(
        message.contains("serviceAccount.secret") && !message.contains("98765432123"),
        "{message}"
    );
    // Plain HTTP to another host is refused, as for every token URL.
    let message = config_message(build(&credentials("http://identity.example.com/token"), "http"));
    assert!(message.contains("serviceAccount.tokenEndpoint"), "{message}");
    // Not JSON: the place, not the text.
    let file = TempFile::new(
        "broken",
        format!("{{\"serviceAccount\": {{\"secret\": \"{SECRET}\"").as_bytes(),
    );
    let message = config_message(Client::builder().credentials_file(&file.0).build());
    assert!(
        message.contains("not JSON") && !message.contains(SECRET),
        "{message}"
    );
    // Too large to be a key: refused without reading it whole.
    let big = TempFile::new(
        "big",
        &vec![b' '; dt_client::MAX_CREDENTIALS_FILE_BYTES as usize + 10],
    );
    let message = config_message(Client::builder().credentials_file(&big.0).build());
    assert!(message.contains("larger than"), "{message}");
    // A file that is not there names its path.
    let message = config_message(
        Client::builder()
            .credentials_file("/nonexistent/dt-creds.json")
            .build(),
    );
    assert!(message.contains("/nonexistent/dt-creds.json"), "{message}");
}

#[test]
fn the_credentials_file_variable_conflicts_with_the_key_variables_and_another_token_url() {
    let endpoint = "https://identity.disruptive-technologies.com/oauth2/token";
    let file = TempFile::new("vars", credentials(endpoint).to_string().as_bytes());
    let path = file.0.to_string_lossy().into_owned();
    let from = |extra: &[(&str, &str)]| {
        let mut vars: Vec<(String, String)> = vec![("DT_CREDENTIALS_FILE".into(), path.clone())];
        vars.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        Client::from_vars(move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    };
    assert!(dt_client::env::ALL.contains(&dt_client::env::CREDENTIALS_FILE));
    assert!(from(&[]).is_ok());
    // The same token URL as the file's is no conflict.
    assert!(from(&[("DT_TOKEN_URL", endpoint)]).is_ok());
    let message = config_message(from(&[
        ("DT_SERVICE_ACCOUNT_KEY_ID", "other-key"),
        ("DT_SERVICE_ACCOUNT_SECRET", "other-secret"),
    ]));
    assert!(
        message.contains(
            "DT_CREDENTIALS_FILE and DT_SERVICE_ACCOUNT_KEY_ID, DT_SERVICE_ACCOUNT_SECRET are both set"
        ),
        "{message}"
    );
    assert!(!message.contains("other-secret"), "{message}");
    let message = config_message(from(&[("DT_TOKEN_URL", "https://staging.example.com/token")]));
    assert!(message.contains("DT_TOKEN_URL differs"), "{message}");
    // A file that is not there: named by its variable, its path (a value) not shown.
    let message = config_message(Client::from_vars(|name| {
        (name == "DT_CREDENTIALS_FILE").then(|| "/nonexistent/dt-creds.json".to_owned())
    }));
    assert!(
        message.contains("DT_CREDENTIALS_FILE: the file it names cannot be read")
            && !message.contains("/nonexistent"),
        "{message}"
    );
}
