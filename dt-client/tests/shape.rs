//! The client shape: requests shown without sending them, and a `client-core`
//! credential given to the builder reaching the API and the emulator.

use std::time::Duration;

use client_core::BearerToken;
use dt_client::prelude::*;
use dt_client::{Client, Error, RawEvent, SecretString};
use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client() -> Client {
    Client::builder()
        .basic("key-1", SecretString::from("secret-1"))
        .build()
        .unwrap()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn list_requests_show_their_first_page() {
    let client = client();
    let request = client
        .devices("p 1")
        .query("kitchen")
        .device_ids(["d1", "d2"])
        .label_equals("floor", "2")
        .order_by("labels.name", false)
        .page_size(50)
        .to_request()
        .unwrap();
    assert_eq!(request.method, "GET");
    assert_eq!(
        request.url.as_str(),
        "https://api.disruptive-technologies.com/v2/projects/p%201/devices"
    );
    assert_eq!(
        request.query,
        pairs(&[
            ("query", "kitchen"),
            ("device_ids", "d1"),
            ("device_ids", "d2"),
            ("label_filters", "floor=2"),
            ("order_by", "labels.name"),
            ("pageSize", "50"),
        ])
    );
    assert_eq!(request.body, None);

    let projects = client.projects().to_request().unwrap();
    assert_eq!(projects.url.path(), "/v2/projects");
    assert_eq!(projects.query, pairs(&[("pageSize", "1000")]));
    let connectors = client.data_connectors("p1").page_size(3).to_request().unwrap();
    assert_eq!(connectors.url.path(), "/v2/projects/p1/dataconnectors");
    assert_eq!(connectors.query, pairs(&[("pageSize", "3")]));
}

#[test]
fn a_history_request_shows_its_range_types_and_page_size() {
    let client = client();
    let (from, to) = (
        "2025-01-01T00:00:00Z".parse().unwrap(),
        "2025-01-02T00:00:00Z".parse().unwrap(),
    );
    let history = client
        .events("p1", "d1")
        .event_types(["temperature", "touch"])
        .range(from, to)
        .page_size(200)
        .records::<RawEvent>();
    // Through the trait, as generic code sees it.
    let request = Request::to_request(&history).unwrap();
    assert_eq!(request.method, "GET");
    assert_eq!(request.url.path(), "/v2/projects/p1/devices/d1/events");
    assert_eq!(
        request.query,
        pairs(&[
            ("eventTypes", "temperature"),
            ("eventTypes", "touch"),
            ("startTime", "2024-12-31T23:59:59.999Z"),
            ("endTime", "2025-01-02T00:00:00Z"),
            ("pageSize", "200"),
        ])
    );
    let since = client.events("p1", "d1").since(from).to_request().unwrap();
    assert_eq!(
        since.query,
        pairs(&[("startTime", "2024-12-31T23:59:59.999Z"), ("pageSize", "1000")])
    );
    // The same checks as sending: an empty range is refused.
    let empty = client.events("p1", "d1").range(to, from).to_request();
    assert!(
        matches!(&empty, Err(Error::InvalidRequest(m)) if m.contains("range is empty")),
        "{empty:?}"
    );
}

#[test]
fn the_live_stream_shows_its_connect_request() {
    let request = client()
        .live_events("p1")
        .device_ids(["d1"])
        .device_types(["touch"])
        .label_present("name")
        .event_types(["touch", "temperature"])
        .ping_interval(Duration::from_secs(30))
        .sse(true)
        .to_request()
        .unwrap();
    assert_eq!(request.method, "GET");
    assert_eq!(
        request.url.as_str(),
        "https://api.disruptive-technologies.com/v2/projects/p1/devices:stream"
    );
    assert_eq!(
        request.query,
        pairs(&[
            ("device_ids", "d1"),
            ("device_types", "touch"),
            ("label_filters", "name"),
            ("event_types", "touch"),
            ("event_types", "temperature"),
            ("ping_interval", "30s"),
        ])
    );
    assert_eq!(request.body, None);
}

#[tokio::test]
async fn a_zero_page_size_ends_the_stream_before_sending() {
    let server = MockServer::start().await;
    let client = Client::builder()
        .base_url(format!("{}/v2", server.uri()))
        .basic("key-1", SecretString::from("secret-1"))
        .build()
        .unwrap();
    let results: Vec<_> = client.projects().page_size(0).stream().collect().await;
    assert!(
        matches!(results.as_slice(), [Err(Error::InvalidRequest(_))]),
        "{results:?}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_client_core_credential_reaches_the_api_and_the_emulator() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/projects/p1"))
        .and(header("authorization", "Bearer from-my-vault"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"name": "projects/p1"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/emulator/v2/projects/p1/devices/e1:publish"))
        .and(header("authorization", "Bearer from-my-vault"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let token = BearerToken::builder()
        .token(SecretString::from("from-my-vault"))
        .build()
        .unwrap();
    let client = Client::builder()
        .base_url(format!("{}/v2", server.uri()))
        .emulator_url(format!("{}/emulator/v2", server.uri()))
        // The credential wins over the key, which is never used.
        .basic("key-1", SecretString::from("secret-1"))
        .credential(token)
        .build()
        .unwrap();
    assert_eq!(client.project("p1").await.unwrap().id(), Some("p1"));
    client.publish("p1", "e1", "touch", &json!({})).await.unwrap();
    // Without the key: the credential alone is enough to build.
    Client::builder()
        .credential(
            BearerToken::builder()
                .token(SecretString::from("t"))
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
}

#[tokio::test]
async fn variables_need_no_key_when_the_builder_already_holds_one() {
    let server = MockServer::start().await;
    // "key-1:secret-1" in Basic.
    for (authorization, project) in [
        ("Bearer from-my-vault", "p1"),
        ("Basic a2V5LTE6c2VjcmV0LTE=", "p2"),
    ] {
        Mock::given(method("GET"))
            .and(path(format!("/v2/projects/{project}")))
            .and(header("authorization", authorization))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({ "name": format!("projects/{project}") })),
            )
            .expect(1)
            .mount(&server)
            .await;
    }
    // Only the endpoints: no DT_SERVICE_ACCOUNT_KEY_ID or _SECRET.
    let vars = pairs(&[("DT_BASE_URL", &format!("{}/v2", server.uri()))]);
    let lookup = |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let token = BearerToken::builder()
        .token(SecretString::from("from-my-vault"))
        .build()
        .unwrap();
    let with_credential = Client::builder()
        .credential(token)
        .vars(lookup)
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(with_credential.project("p1").await.unwrap().id(), Some("p1"));
    let with_basic = Client::builder()
        .basic("key-1", SecretString::from("secret-1"))
        .vars(lookup)
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(with_basic.project("p2").await.unwrap().id(), Some("p2"));
    Client::builder()
        .service_account("key-1", SecretString::from("secret-1"), "sa@example.com")
        .vars(lookup)
        .unwrap()
        .build()
        .unwrap();
    // Without a key on the builder, the variables are still required.
    let bare = Client::builder().vars(lookup).unwrap_err();
    assert!(
        bare.to_string()
            .contains("missing DT_SERVICE_ACCOUNT_KEY_ID, DT_SERVICE_ACCOUNT_SECRET"),
        "{bare}"
    );
}
