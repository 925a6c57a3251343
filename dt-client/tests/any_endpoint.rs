//! The escape hatch (`Client::request`, `Client::list`) against wiremock: the exact
//! request, the client's credential and retries, DT's error body, and the origin rules.

mod common;

use client_core::http::Method;
use dt_client::ClientError;
use futures::TryStreamExt;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use common::wiremock_client as client;

/// `key-1:secret-1` in Basic.
const BASIC: &str = "Basic a2V5LTE6c2VjcmV0LTE=";

#[tokio::test]
async fn a_request_carries_its_method_path_query_body_and_the_credential() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/projects/p1/devices:newAction"))
        .and(query_param("dryRun", "true"))
        .and(header("authorization", BASIC))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({"devices": ["projects/p1/devices/d1"]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"done": 1})))
        .expect(1)
        .mount(&server)
        .await;
    let request = client(&server)
        .request(Method::POST, "/projects/p1/devices:newAction")
        .query("dryRun", "true")
        .json(&json!({"devices": ["projects/p1/devices/d1"]}));
    let preview = request.to_request().unwrap();
    assert_eq!(preview.method, Method::POST);
    assert_eq!(preview.url.path(), "/v2/projects/p1/devices:newAction");
    assert_eq!(preview.query, [("dryRun".to_owned(), "true".to_owned())]);
    let answer: Value = request.send().await.unwrap();
    assert_eq!(answer, json!({"done": 1}));
}

#[tokio::test]
async fn an_empty_answer_reads_as_null() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/v2/things/t1"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v2/things/t2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&server)
        .await;
    let client = client(&server);
    let answer: Option<Value> = client.request(Method::DELETE, "things/t1").send().await.unwrap();
    assert_eq!(answer, None);
    client
        .request(Method::DELETE, "things/t1")
        .send::<()>()
        .await
        .unwrap();
    // DT's `{}`: ignored whatever it holds.
    client
        .request(Method::DELETE, "things/t2")
        .send::<serde::de::IgnoredAny>()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_list_whose_items_key_is_wrong_is_an_error_not_an_empty_list() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/things"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"things": [{"id": 1}], "nextPageToken": ""})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/none"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"nextPageToken": ""})))
        .mount(&server)
        .await;
    let client = client(&server);
    let error = client
        .list::<Value>("things", "thing")
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(matches!(&error, ClientError::Decode(_)), "{error:?}");
    assert!(error.to_string().contains("`things`"), "{error}");
    // A page without any array is an empty list, as DT leaves empty lists out.
    let none: Vec<Value> = client
        .list::<Value>("none", "things")
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert!(none.is_empty());
    // The list's own parameters are refused.
    for name in ["pageSize", "pageToken"] {
        let error = client
            .list::<Value>("things", "things")
            .param(name, "9")
            .to_request()
            .unwrap_err();
        assert!(
            matches!(error, ClientError::InvalidRequest(_)),
            "{name}: {error:?}"
        );
    }
}

#[tokio::test]
async fn a_get_is_retried_and_a_post_is_not_unless_declared_idempotent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/flaky"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/flaky"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/flaky"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let client = client(&server);
    let answer: Value = client.request(Method::GET, "flaky").send().await.unwrap();
    assert_eq!(answer, json!({"ok": true}));
    let error = client
        .request(Method::POST, "flaky")
        .send::<Value>()
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(503));
    assert_eq!(posts(&server).await, 1, "a POST is not repeated by default");
    client
        .request(Method::POST, "flaky")
        .idempotent(true)
        .send::<Value>()
        .await
        .unwrap_err();
    assert!(posts(&server).await > 2, "an idempotent POST is retried");
}

#[tokio::test]
async fn dt_error_bodies_are_the_sdk_errors() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/secret-things"))
        .respond_with(ResponseTemplate::new(403).set_body_json(
            json!({"error": "the caller lacks the permission thing.read", "code": 403, "help": "https://x"}),
        ))
        .mount(&server)
        .await;
    let error = client(&server)
        .request(Method::GET, "secret-things")
        .send::<Value>()
        .await
        .unwrap_err();
    let ClientError::Forbidden(api) = &error else {
        panic!("not Forbidden: {error:?}");
    };
    assert_eq!(
        api.message.as_deref(),
        Some("the caller lacks the permission thing.read")
    );
    assert_eq!(api.help.as_deref(), Some("https://x"));
}

#[tokio::test]
async fn a_path_that_would_leave_the_api_is_refused_before_sending() {
    let server = MockServer::start().await;
    let client = client(&server);
    for path in [
        "../oauth2/token",
        "projects/%2e%2e/x",
        "https://evil.example/v2/x",
        "http://127.0.0.1:1/v2/x",
    ] {
        let request = client.request(Method::GET, path);
        let error = request.to_request().unwrap_err();
        assert!(matches!(error, ClientError::Config(_)), "{path}: {error:?}");
        let error = client
            .request(Method::GET, path)
            .send::<Value>()
            .await
            .unwrap_err();
        assert!(matches!(error, ClientError::Config(_)), "{path}: {error:?}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
    // Leading slashes are ignored: a scheme-relative path stays under the base URL.
    let stays = client
        .request(Method::GET, "//evil.example/x")
        .to_request()
        .unwrap();
    assert_eq!(stays.url.as_str(), format!("{}/v2/evil.example/x", server.uri()));
}

#[tokio::test]
async fn a_list_at_any_endpoint_follows_the_page_tokens() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v2/organizations/o1/things"))
        .and(query_param("kind", "a"))
        .and(query_param("pageSize", "2"))
        .and(query_param("pageToken", "t2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"things": [{"id": 3}], "nextPageToken": ""})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/organizations/o1/things"))
        .and(query_param("kind", "a"))
        .and(query_param("pageSize", "2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"things": [{"id": 1}, {"id": 2}], "nextPageToken": "t2"})),
        )
        .mount(&server)
        .await;
    let things: Vec<Value> = client(&server)
        .list::<Value>("organizations/o1/things", "things")
        .param("kind", "a")
        .page_size(2)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(things, [json!({"id": 1}), json!({"id": 2}), json!({"id": 3})]);
    let first = &server.received_requests().await.unwrap()[0];
    let query: Vec<(String, String)> = first.url.query_pairs().into_owned().collect();
    assert_eq!(
        query,
        [
            ("kind".to_owned(), "a".to_owned()),
            ("pageSize".to_owned(), "2".to_owned())
        ]
    );
}

/// The POST requests `server` received.
async fn posts(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .count()
}
