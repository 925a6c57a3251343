//! The client shape against wiremock: credentials of the caller's own next to the APIM
//! key, every configuration problem at once, requests shown without sending, and one
//! response decoded the same in every format.

use futures::future::BoxFuture;
use jiff::civil::date;
use preventos_client::{
    AssertionSigner, BearerToken, Catalog, Client, CsvPreset, Error, Format, Record, SecretString,
    TryStreamExt,
};
use serde_json::json;
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CATALOG: &str = "/api/data-catalog";
const SITE_VALUES: &str = "/api/environments/100/sites/site-ref/values";

fn catalog_body(max_raw_db_points: u64) -> serde_json::Value {
    json!({
        "environments": [{"id": "100", "sites": [{"id": "site-ref", "signals": [
            {"id": "Velocity", "baseInterval": "PT1M", "dbQuery": "q1"},
            {"id": "Depth", "baseInterval": "PT1M", "dbQuery": "q1"}
        ]}]}],
        "limits": {"maxRawDbPoints": max_raw_db_points}
    })
}

/// Expects one catalog request carrying `authorization` and the subscription key.
async fn expect_catalog_with(server: &MockServer, authorization: &str) {
    Mock::given(method("GET"))
        .and(path(CATALOG))
        .and(header("authorization", authorization))
        .and(header("ocp-apim-subscription-key", "key-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(catalog_body(44_640)))
        .expect(1)
        .mount(server)
        .await;
}

/// A client authenticated with a fixed bearer token of the caller's own.
fn bearer_client(server: &MockServer) -> Client {
    Client::builder()
        .base_url(format!("{}/api", server.uri()))
        .credential(
            BearerToken::builder()
                .token(SecretString::from("token-from-elsewhere"))
                .build()
                .unwrap(),
        )
        .subscription_key(SecretString::from("key-1"))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_credential_of_its_own_reaches_the_wire_with_the_subscription_key() {
    let server = MockServer::start().await;
    expect_catalog_with(&server, "Bearer token-from-elsewhere").await;
    let catalog = bearer_client(&server).catalog().await.unwrap();
    assert_eq!(catalog.environments[0].id, "100");
    // No token endpoint, tenant, scope or client id was needed.
    let requests = server.received_requests().await.unwrap();
    assert!(requests.iter().all(|r| r.method.as_str() == "GET"));
}

#[test]
fn a_credential_of_its_own_still_needs_the_subscription_key() {
    let token = || {
        BearerToken::builder()
            .token(SecretString::from("t"))
            .build()
            .unwrap()
    };
    let err = Client::builder()
        .base_url("https://data.example.com/api/")
        .credential(token())
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert!(err.to_string().contains("subscription key"), "{err}");

    // From variables: the base URL and the key are the only ones read.
    let vars = |name: &str| match name {
        "DATA_API_BASE_URL" => Some("https://data.example.com/api".to_owned()),
        "DATA_API_SUBSCRIPTION_KEY" => Some("k".to_owned()),
        _ => None,
    };
    let client = Client::builder()
        .credential(token())
        .vars(vars)
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(client.base_url().as_str(), "https://data.example.com/api/");
    let err = Client::builder()
        .credential(token())
        .vars(|name| vars(name).filter(|_| name != "DATA_API_SUBSCRIPTION_KEY"))
        .unwrap_err();
    assert!(err.to_string().contains("DATA_API_SUBSCRIPTION_KEY"), "{err}");
}

/// A signer whose key stays in a KMS: it returns the KMS's signature.
#[derive(Debug)]
struct KmsSigner;

impl AssertionSigner for KmsSigner {
    fn algorithm(&self) -> client_core::JwsAlgorithm {
        client_core::JwsAlgorithm::Ps256
    }

    fn x5t_s256(&self) -> String {
        "thumbprint".to_owned()
    }

    fn sign<'a>(&'a self, _signing_input: &'a [u8]) -> BoxFuture<'a, client_core::Result<Vec<u8>>> {
        Box::pin(async { Ok(b"kms-signature".to_vec()) })
    }
}

#[tokio::test]
async fn an_assertion_signer_signs_the_token_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/tenant-x/oauth2/v2.0/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "signed-in", "token_type": "Bearer", "expires_in": 3600
        })))
        .mount(&server)
        .await;
    expect_catalog_with(&server, "Bearer signed-in").await;
    let client = Client::builder()
        .base_url(format!("{}/api/", server.uri()))
        .authority(format!("{}/tenant-x/", server.uri()))
        .scope("api://data/.default")
        .client_id("client-1")
        .assertion_signer(KmsSigner)
        .subscription_key(SecretString::from("key-1"))
        .build()
        .unwrap();
    client.catalog().await.unwrap();
    let requests = server.received_requests().await.unwrap();
    let token = requests.iter().find(|r| r.method.as_str() == "POST").unwrap();
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(&token.body).into_owned().collect();
    assert_eq!(
        form["client_assertion_type"],
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    );
    // base64url("kms-signature"): the KMS's signature ends the assertion.
    assert!(form["client_assertion"].ends_with(".a21zLXNpZ25hdHVyZQ"));
    assert!(!form.contains_key("client_secret"));
}

#[test]
fn from_vars_reports_every_problem_at_once() {
    let both = |name: &str| match name {
        "DATA_API_CLIENT_SECRET" => Some("very-secret-value".to_owned()),
        "DATA_API_CERTIFICATE" => Some("/nowhere/key.pfx".to_owned()),
        "DATA_API_TENANT_ID" => Some("tenant".to_owned()),
        _ => None,
    };
    let err = Client::from_vars(both).unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    let text = err.to_string();
    for expected in [
        "DATA_API_BASE_URL",
        "DATA_API_SUBSCRIPTION_KEY",
        "DATA_API_SCOPE",
        "DATA_API_CLIENT_ID",
        "both DATA_API_CLIENT_SECRET and DATA_API_CERTIFICATE",
    ] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
    assert!(!text.contains("DATA_API_TENANT_ID"), "{text}");
    assert!(!text.contains("very-secret-value"), "{text}");

    // A certificate that does not load is reported with the missing variables.
    let unreadable = |name: &str| match name {
        "DATA_API_CERTIFICATE" => Some("/nowhere/key.pfx".to_owned()),
        "DATA_API_SCOPE" => Some("s".to_owned()),
        _ => None,
    };
    let text = Client::from_vars(unreadable).unwrap_err().to_string();
    for expected in [
        "DATA_API_BASE_URL",
        "DATA_API_TENANT_ID",
        "DATA_API_CLIENT_ID",
        "DATA_API_SUBSCRIPTION_KEY",
        "DATA_API_CERTIFICATE:",
    ] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
    assert!(
        !text.contains("/nowhere"),
        "a variable's value is never shown: {text}"
    );
}

#[test]
fn variables_the_builder_already_holds_are_not_missing() {
    let only_base_url =
        |name: &str| (name == "DATA_API_BASE_URL").then(|| "https://data.example.com/api".to_owned());
    // Every identity value and the key from setters: the base URL alone comes from a variable.
    let registered = || {
        Client::builder()
            .tenant_id("t")
            .scope("api://from-setter/.default")
            .client_id("c")
            .client_secret(SecretString::from("x"))
            .subscription_key(SecretString::from("k"))
    };
    let client = registered().vars(only_base_url).unwrap().build().unwrap();
    assert_eq!(client.base_url().as_str(), "https://data.example.com/api/");
    // An authority stands for the tenant; a signer for the secret or certificate.
    Client::builder()
        .authority("https://login.example.com/t/")
        .scope("s")
        .client_id("c")
        .assertion_signer(KmsSigner)
        .subscription_key(SecretString::from("k"))
        .vars(only_base_url)
        .unwrap()
        .build()
        .unwrap();
    // Only what neither a setter nor a variable gives is named.
    let text = Client::builder()
        .scope("s")
        .client_secret(SecretString::from("x"))
        .vars(only_base_url)
        .unwrap_err()
        .to_string();
    for missing in [
        "DATA_API_TENANT_ID",
        "DATA_API_CLIENT_ID",
        "DATA_API_SUBSCRIPTION_KEY",
    ] {
        assert!(text.contains(missing), "{missing} in {text}");
    }
    for held in ["DATA_API_SCOPE", "DATA_API_CLIENT_SECRET", "DATA_API_BASE_URL"] {
        assert!(!text.contains(held), "{held} is held: {text}");
    }
    // A variable that is set replaces what a setter gave.
    let with_scope = |name: &str| match name {
        "DATA_API_SCOPE" => Some("api://from-variable/.default".to_owned()),
        other => only_base_url(other),
    };
    let builder = registered().vars(with_scope).unwrap();
    assert!(format!("{builder:?}").contains("from-variable"), "{builder:?}");
}

#[test]
fn a_missing_base_url_is_a_config_error_naming_its_variable() {
    let err = Client::builder()
        .tenant_id("t")
        .scope("s")
        .client_id("c")
        .client_secret(SecretString::from("x"))
        .subscription_key(SecretString::from("k"))
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert!(err.to_string().contains("DATA_API_BASE_URL"), "{err}");
}

#[tokio::test]
async fn a_values_request_shows_what_it_would_send() {
    let server = MockServer::start().await;
    let client = bearer_client(&server);
    let request = client
        .site_values("100", "site-ref", ["Velocity", "Depth"])
        .date(date(2026, 5, 31))
        .time_zone("Europe/Helsinki")
        .format(Format::Csv)
        .csv_preset(CsvPreset::Finnish)
        .to_request()
        .unwrap();
    assert_eq!(request.method, "GET");
    assert_eq!(request.url.as_str(), format!("{}{SITE_VALUES}", server.uri()));
    assert_eq!(
        request.query_string(),
        "signalIds=Velocity%2CDepth&date=2026-05-31&tzi=Europe%2FHelsinki&format=csv&csvPreset=finnish"
    );
    assert!(request.body.is_none());
    // The same rules as sending: refused before anything is sent.
    let err = client
        .site_values("100", "site-ref", ["Velocity"])
        .to_request()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_export_shows_its_first_request_the_catalog_or_its_first_window() {
    let server = MockServer::start().await;
    let client = bearer_client(&server);
    let export = client
        .export("100", "site-ref", ["Velocity", "Depth"])
        .date(date(2026, 5, 31))
        .time_zone("Europe/Helsinki");
    // Without a catalog, the first request is the catalog's, for the export's environment.
    let request = export.to_request().unwrap();
    assert_eq!(request.method, "GET");
    assert_eq!(request.url.as_str(), format!("{}{CATALOG}", server.uri()));
    assert_eq!(request.query_string(), "environments=100");
    // With or without one, a range the export cannot read is refused.
    let err = client
        .export("100", "site-ref", ["Velocity"])
        .to_request()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "no range: {err}");
    // A concurrency of 0 is refused like a page size of 0, not taken as 1.
    let err = export.clone().concurrency(0).to_request().unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "concurrency 0: {err}");

    // The whole day in one window, asked for with a second of overlap at both ends.
    let catalog: Catalog = serde_json::from_value(catalog_body(44_640)).unwrap();
    let request = export.clone().catalog(&catalog).to_request().unwrap();
    assert_eq!(request.method, "GET");
    assert_eq!(request.url.as_str(), format!("{}{SITE_VALUES}", server.uri()));
    assert_eq!(
        request.query,
        [
            ("signalIds", "Velocity,Depth"),
            ("from", "2026-05-30T20:59:59Z"),
            ("to", "2026-05-31T21:00:01Z"),
            ("tzi", "Europe/Helsinki"),
            ("format", "ndjson"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
    // 720 points for one DB query at PT1M: windows of 719 minutes, the first from 00:00.
    let small: Catalog = serde_json::from_value(catalog_body(720)).unwrap();
    let request = export.catalog(&small).to_request().unwrap();
    assert_eq!(request.query_value("from"), Some("2026-05-30T20:59:59Z"));
    assert_eq!(request.query_value("to"), Some("2026-05-31T08:59:01Z"));
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_export_without_a_catalog_reads_its_environment_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(CATALOG))
        .and(query_param("environments", "100"))
        .respond_with(ResponseTemplate::new(200).set_body_json(catalog_body(44_640)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(SITE_VALUES))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            "{\"timestamp\":\"2026-05-31T00:00:00Z\",\"signalId\":\"Velocity\",\"value\":1.5}\n",
        ))
        .expect(1)
        .mount(&server)
        .await;
    let records: Vec<Record> = bearer_client(&server)
        .export("100", "site-ref", ["Velocity"])
        .date(date(2026, 5, 31))
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(records.len(), 1);
}

/// NDJSON and JSON hold one value of one signal per record, so `send` and `stream` decode
/// them into the same `Record`s; CSV rows are wide and are read in `tests/wide_csv.rs`.
#[tokio::test]
async fn send_and_stream_decode_every_json_format_into_the_same_records() {
    let server = MockServer::start().await;
    let bodies = [
        (
            "ndjson",
            false,
            "{\"timestamp\":\"2026-05-31T00:00:00+03:00\",\"signalId\":\"Velocity\",\"value\":0.42}\n\
             {\"timestamp\":\"2026-05-31T00:00:00+03:00\",\"signalId\":\"Depth\",\"value\":1.5}\n",
        ),
        (
            "json",
            false,
            r#"{"meta":{"site":"site-ref","count":2},"values":[
                {"timestamp":"2026-05-31T00:00:00+03:00","signalId":"Velocity","value":0.42},
                {"timestamp":"2026-05-31T00:00:00+03:00","signalId":"Depth","value":1.5}]}"#,
        ),
        (
            "json",
            true,
            r#"[{"timestamp":"2026-05-31T00:00:00+03:00","signalId":"Velocity","value":0.42},
                {"timestamp":"2026-05-31T00:00:00+03:00","signalId":"Depth","value":1.5}]"#,
        ),
    ];
    for (format, bare, body) in bodies {
        let mock = Mock::given(method("GET"))
            .and(path(SITE_VALUES))
            .and(query_param("format", format));
        let mock = match (format, bare) {
            ("json", true) => mock.and(query_param("meta", "false")),
            ("json", false) => mock.and(query_param_is_missing("meta")),
            _ => mock,
        };
        mock.respond_with(ResponseTemplate::new(200).set_body_string(body))
            .mount(&server)
            .await;
    }
    let client = bearer_client(&server);
    let day = client
        .site_values("100", "site-ref", ["Velocity", "Depth"])
        .date(date(2026, 5, 31));
    let expected = vec![
        Record::new("2026-05-30T21:00:00Z".parse().unwrap(), "Velocity", Some(0.42)),
        Record::new("2026-05-30T21:00:00Z".parse().unwrap(), "Depth", Some(1.5)),
    ];
    let requests = [
        ("ndjson", day.clone()),
        ("json", day.clone().format(Format::Json)),
        ("bare json", day.clone().format(Format::Json).meta(false)),
    ];
    for (what, request) in requests {
        let sent = request.clone().send().await.unwrap();
        assert_eq!(sent.items, expected, "send, {what}");
        assert!(sent.next.is_none(), "one response, no next page: {what}");
        let meta = if what == "json" {
            json!({"site": "site-ref", "count": 2})
        } else {
            json!({})
        };
        assert_eq!(serde_json::Value::Object(sent.meta), meta, "meta, {what}");
        let streamed: Vec<Record> = request.stream().try_collect().await.unwrap();
        assert_eq!(streamed, expected, "stream, {what}");
    }
}
