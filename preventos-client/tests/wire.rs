//! The wire contract against wiremock: configuration, exact requests, error mapping.

use std::sync::Arc;
use std::time::Duration;

use client_core::{ManualClock, RetryPolicy};
use futures::TryStreamExt;
use jiff::civil::date;
use preventos_client::{Client, CsvPreset, Error, Format, PreventosError, Record, TooLarge};
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn server_with_token() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/tenant-x/oauth2/v2.0/token"))
        .and(body_string_contains("grant_type=client_credentials"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "access-123", "token_type": "Bearer", "expires_in": 3600
        })))
        .mount(&server)
        .await;
    server
}

fn client(server: &MockServer, base_suffix: &str) -> Client {
    Client::builder()
        .tenant_id("tenant-x")
        .authority(format!("{}/tenant-x/", server.uri()))
        .base_url(format!("{}{base_suffix}", server.uri()))
        .scope("api://data/.default")
        .client_id("client-1")
        .client_secret(SecretString::from("secret-1"))
        .subscription_key(SecretString::from("key-1"))
        .retry_policy(RetryPolicy::default().with_jitter(false).with_max_attempts(2))
        .clock(Arc::new(ManualClock::new()))
        .build()
        .unwrap()
}

#[tokio::test]
async fn catalog_request_carries_token_key_and_accept() {
    let server = server_with_token().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/data-catalog"))
        .and(header("authorization", "Bearer access-123"))
        .and(header("ocp-apim-subscription-key", "key-1"))
        .and(header("accept", "application/json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "environments": [{"id": 100, "sites": [{"id": "site-ref", "extra": true,
                "signals": [{"id": "Velocity", "baseInterval": "PT1M", "unit": "m/s", "ranges": []}]}]}],
            "limits": {"maxRawDbPoints": 44640, "referenceInterval": "PT1M", "referenceRange": "P31D"},
            "added": {"future": 1}
        })))
        .mount(&server)
        .await;
    // A base URL without its trailing slash still works.
    let client = client(&server, "/api/v1");
    let catalog = client.catalog_for(&["100", "102"]).await.unwrap();
    assert_eq!(catalog.environments[0].id, "100");
    let requests = server.received_requests().await.unwrap();
    let token = requests.iter().find(|r| r.method.as_str() == "POST").unwrap();
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(&token.body).into_owned().collect();
    assert_eq!(form["scope"], "api://data/.default");
    assert_eq!(form["client_id"], "client-1");
    assert_eq!(form["client_secret"], "secret-1");
    let catalog_request = requests
        .iter()
        .find(|r| r.url.path() == "/api/v1/data-catalog")
        .unwrap();
    assert_eq!(catalog_request.url.query(), Some("environments=100%2C102"));
}

#[tokio::test]
async fn values_requests_send_every_parameter() {
    let server = server_with_token().await;
    Mock::given(path("/api/environments/100/sites/site-ref/values"))
        .respond_with(ResponseTemplate::new(200).set_body_string("timestamp;Velocity;Depth\n"))
        .mount(&server)
        .await;
    Mock::given(path(
        "/api/environments/100/sites/site%20x/signals/Velocity/values",
    ))
    .and(header("accept", "application/x-ndjson"))
    .respond_with(ResponseTemplate::new(200).set_body_string(
        "{\"timestamp\":\"2026-05-31T00:00:00+03:00\",\"signalId\":\"Velocity\",\"value\":0.42}\n",
    ))
    .mount(&server)
    .await;
    let client = client(&server, "/api/");
    let rows: Vec<_> = client
        .site_values("100", "site-ref", ["Velocity", "Depth"])
        .date(date(2026, 5, 31))
        .time_zone("Europe/Helsinki")
        .csv_preset(CsvPreset::Finnish)
        .aggregation("avg")
        .interval(jiff::SignedDuration::from_hours(1))
        .meta(false)
        .csv_rows()
        .try_collect()
        .await
        .unwrap();
    assert!(rows.is_empty());
    let records: Vec<Record> = client
        .signal_values("100", "site x", "Velocity")
        .from(date(2026, 5, 1))
        .take(5)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(records[0].value, Some(0.42));

    let requests = server.received_requests().await.unwrap();
    let site = requests
        .iter()
        .find(|r| r.url.path().ends_with("/site-ref/values"))
        .unwrap();
    assert_eq!(
        site.url.query(),
        Some(
            "signalIds=Velocity%2CDepth&date=2026-05-31&tzi=Europe%2FHelsinki&format=csv&csvPreset=finnish&aggregation=avg&interval=PT1H&meta=false"
        )
    );
    assert_eq!(site.headers["accept"], "text/csv");
    let signal = requests
        .iter()
        .find(|r| r.url.path().contains("/signals/"))
        .unwrap();
    assert_eq!(signal.url.query(), Some("from=2026-05-01&format=ndjson&take=5"));
}

#[tokio::test]
async fn the_document_rules_are_enforced_before_sending() {
    let server = server_with_token().await;
    let client = client(&server, "/api/");
    let base = || client.site_values("100", "s", ["A"]);
    let cases = [
        base().date(date(2026, 5, 31)).from(date(2026, 5, 1)),
        base().from(date(2026, 5, 1)),
        base(),
        base().date(date(2026, 5, 31)).time_zone("Mars/Olympus"),
        base().range(date(2026, 5, 2), date(2026, 5, 1)),
        client
            .site_values("100", "s", Vec::<String>::new())
            .date(date(2026, 5, 31)),
    ];
    for request in cases {
        let err = request.send().await.unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{err}");
    }
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "nothing was sent, not even a token request"
    );
    // One end with take is a legitimate partial read.
    assert!(base().from(date(2026, 5, 1)).take(10).validate().is_ok());
}

#[tokio::test]
async fn each_status_maps_to_its_error() {
    let too_large = json!({
        "error": "request_too_large", "message": "split it", "estimatedRawDbPoints": 89280,
        "maxRawDbPoints": 44640, "dbQueryCount": 2,
        "recommendedRange": {"from": "2026-05-01T00:00:00+03:00", "to": "2026-05-16T12:00:00+03:00"}
    });
    let cases = [
        (400, json!({"error": "bad_request", "message": "unknown signal"})),
        (401, json!({})),
        (403, json!({"error": "forbidden"})),
        (406, json!({"error": "not_acceptable"})),
        (413, too_large),
        (
            413,
            json!({"error": "request_size_unavailable", "message": "no baseInterval"}),
        ),
        (429, json!({})),
        (503, json!({})),
    ];
    for (status, body) in cases {
        let server = server_with_token().await;
        Mock::given(method("GET"))
            .respond_with(
                ResponseTemplate::new(status)
                    .set_body_json(body.clone())
                    .insert_header("x-correlation-id", "corr-9")
                    .insert_header("Retry-After", "3"),
            )
            .mount(&server)
            .await;
        let client = client(&server, "/api/");
        let err = client
            .site_values("100", "s", ["A"])
            .date(date(2026, 5, 31))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(status), "{err}");
        assert_eq!(err.correlation_id(), Some("corr-9"));
        let ok = match (status, &err) {
            (400, Error::BadRequest(api)) => api.message.as_deref() == Some("unknown signal"),
            (401, Error::Unauthorized(_))
            | (403, Error::Forbidden(_))
            | (406, Error::UnexpectedStatus(_)) => true,
            (413, Error::RequestTooLarge(api)) => {
                let details = err.detail::<TooLarge>().unwrap();
                details.estimated_raw_db_points == Some(89_280)
                    && details.max_raw_db_points == Some(44_640)
                    && details.db_query_count == Some(2)
                    && details.recommended_range.is_some_and(|(from, to)| {
                        from == "2026-04-30T21:00:00Z".parse().unwrap()
                            && to == "2026-05-16T09:00:00Z".parse().unwrap()
                    })
                    && api
                        .body
                        .as_deref()
                        .is_some_and(|b| b.contains("recommendedRange"))
            }
            (413, Error::Api(PreventosError::RequestSizeUnavailable(_))) => {
                body["error"] == "request_size_unavailable"
            }
            (429, Error::Throttled { retry_after, .. }) => *retry_after == Some(Duration::from_secs(3)),
            (503, Error::Server(_)) => true,
            _ => false,
        };
        assert!(ok, "{status} gave {err:?}");
        let api_requests = server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.method.as_str() == "GET")
            .count();
        let expected = match status {
            429 | 503 => 2,
            401 => 2, // one refresh and one retry
            _ => 1,
        };
        assert_eq!(api_requests, expected, "{status}");
    }
}

#[test]
fn configuration_errors_name_the_variables() {
    let err = Client::from_vars(|_| None).unwrap_err();
    let text = err.to_string();
    for name in [
        "DATA_API_TENANT_ID",
        "DATA_API_BASE_URL",
        "DATA_API_SCOPE",
        "DATA_API_CLIENT_ID",
        "DATA_API_SUBSCRIPTION_KEY",
    ] {
        assert!(text.contains(name), "{text}");
    }
    assert!(
        text.contains("DATA_API_CLIENT_SECRET or DATA_API_CERTIFICATE"),
        "{text}"
    );

    let both = |name: &str| match name {
        "DATA_API_CLIENT_SECRET" | "DATA_API_CERTIFICATE" => Some("x".to_owned()),
        "DATA_API_BASE_URL" => Some("https://api.example.com/".to_owned()),
        _ => Some("value".to_owned()),
    };
    let err = Client::from_vars(both).unwrap_err();
    assert!(
        err.to_string()
            .contains("both DATA_API_CLIENT_SECRET and DATA_API_CERTIFICATE"),
        "{err}"
    );

    let secret_vars = |name: &str| match name {
        "DATA_API_CERTIFICATE" | "DATA_API_CERTIFICATE_PASSWORD" | "DATA_API_AUTHORITY" => None,
        "DATA_API_BASE_URL" => Some("https://api.example.com/data".to_owned()),
        "DATA_API_CLIENT_SECRET" => Some("very-secret-value".to_owned()),
        _ => Some("value".to_owned()),
    };
    let client = Client::from_vars(secret_vars).unwrap();
    assert_eq!(client.base_url().as_str(), "https://api.example.com/data/");
    assert!(!format!("{client:?}").contains("very-secret-value"));
}

#[test]
fn formats_parse() {
    assert_eq!("csv".parse::<Format>().unwrap(), Format::Csv);
    assert!("xml".parse::<Format>().is_err());
}

#[tokio::test]
async fn awkward_ids_survive_a_round_trip_through_a_values_url() {
    let server = server_with_token().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/environments/1%2B0/sites/A%2BB%26C%2FD%20%25/signals/x%20y/values"))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            "{\"timestamp\":\"2026-05-31T00:00:00Z\",\"signalId\":\"x y\",\"value\":120.0,\"quality\":\"good\"}\n",
        ))
        .expect(2)
        .mount(&server)
        .await;
    let client = client(&server, "/api/v1/");
    let direct = client
        .signal_values("1+0", "A+B&C/D %", "x y")
        .date(date(2026, 5, 31));
    let records: Vec<Record> = direct.stream().try_collect().await.unwrap();
    // Fields beyond the three named ones are kept as sent.
    assert_eq!(records[0].other["quality"], "good");
    // The catalog's link for the same signal decodes to the same ids (`+` stays `+`).
    let followed = client
        .values_url("environments/1%2B0/sites/A%2BB%26C%2FD%20%25/signals/x%20y/values?tzi=UTC")
        .unwrap();
    assert_eq!(followed.environment(), "1+0");
    assert_eq!(followed.site(), "A+B&C/D %");
    assert_eq!(followed.signal_ids(), ["x y"]);
    let again: Vec<serde_json::Value> = followed
        .date(date(2026, 5, 31))
        .records::<serde_json::Value>()
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(again[0]["value"], 120.0);
}

#[tokio::test]
async fn a_values_url_on_another_origin_is_refused() {
    let server = server_with_token().await;
    let client = client(&server, "/api/v1/");
    let err = client
        .values_url("https://elsewhere.example/api/v1/environments/1/sites/s/values")
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
}

/// A catalog whose budget cuts a day of `Velocity` (PT1M) into three windows.
async fn mount_small_budget_catalog(server: &MockServer) {
    Mock::given(path("/api/data-catalog"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "environments": [{"id": 100, "sites": [{"id": "site-ref",
                "signals": [{"id": "Velocity", "baseInterval": "PT1M", "unit": "m/s", "ranges": []}]}]}],
            "limits": {"maxRawDbPoints": 600, "referenceInterval": "PT1M", "referenceRange": "P31D"}
        })))
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_csv_export_over_several_windows_keeps_a_header_that_is_not_utf8() {
    let server = server_with_token().await;
    mount_small_budget_catalog(&server).await;
    // "Lämpötila" in Latin-1: the API names no encoding, the file keeps the bytes sent.
    let header: &[u8] = b"timestamp;L\xe4mp\xf6tila\n";
    Mock::given(path("/api/environments/100/sites/site-ref/values"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(header))
        .mount(&server)
        .await;
    let client = client(&server, "/api/");
    let mut document = Vec::new();
    let summary = client
        .export("100", "site-ref", ["Velocity"])
        .date(date(2026, 5, 31))
        .format(Format::Csv)
        .copy_to(&mut document)
        .await
        .unwrap();
    assert_eq!(document, header);
    assert_eq!(summary.records, 0);
    let values_requests = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().ends_with("/values"))
        .count();
    assert!(values_requests > 1, "{values_requests} window(s)");
}

#[tokio::test]
async fn a_413_recommending_seconds_for_a_year_fails_instead_of_planning_millions_of_windows() {
    let server = server_with_token().await;
    // Without `baseInterval` the planned window is the whole year.
    Mock::given(path("/api/data-catalog"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "environments": [{"id": 100, "sites": [{"id": "site-ref",
                "signals": [{"id": "Velocity", "unit": "m/s", "ranges": []}]}]}],
            "limits": {"maxRawDbPoints": 44640, "referenceInterval": "PT1M", "referenceRange": "P31D"}
        })))
        .mount(&server)
        .await;
    Mock::given(path("/api/environments/100/sites/site-ref/values"))
        .respond_with(ResponseTemplate::new(413).set_body_json(json!({
            "error": "request_too_large", "message": "split it",
            "recommendedRange": {"from": "2025-01-01T00:00:00Z", "to": "2025-01-01T00:00:03Z"}
        })))
        .mount(&server)
        .await;
    let client = client(&server, "/api/");
    let err = client
        .export("100", "site-ref", ["Velocity"])
        .range(
            "2025-01-01T00:00:00Z".parse().unwrap(),
            "2026-01-01T00:00:00Z".parse().unwrap(),
        )
        .copy_to(&mut Vec::new())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("2025-01-01T00:00:00Z..2025-01-01T00:00:03Z"),
        "{text}"
    );
    let values_requests = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().ends_with("/values"))
        .count();
    assert_eq!(values_requests, 1);
}
