//! The request pipeline against wiremock: token single flight, 401 refresh, retries,
//! Retry-After, budgets, error capture, headers.

mod common;

use std::sync::Arc;
use std::time::Duration;

use client_core::{
    ClientCredentials, ErrorKind, HeaderCredential, HttpClient, ManualClock, RetryPolicy, Throttle,
    TokenCache,
};
use common::IssueTokens;
use secrecy::SecretString;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn token_cache(server: &MockServer) -> TokenCache {
    ClientCredentials::builder()
        .token_url(format!("{}/token", server.uri()))
        .client_id("client-1")
        .client_secret(SecretString::from("secret"))
        .build_cached()
        .unwrap()
}

/// A client with a manual clock (no real sleeps) and deterministic backoff.
fn client(server: &MockServer, policy: RetryPolicy) -> (HttpClient, ManualClock) {
    let clock = ManualClock::new();
    let client = HttpClient::builder(server.uri())
        .retry_policy(policy.with_jitter(false))
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    (client, clock)
}

/// `/values` answers `first` once, then 200.
async fn once_then_ok(server: &MockServer, first: ResponseTemplate) {
    Mock::given(path("/values"))
        .respond_with(first)
        .up_to_n_times(1)
        .mount(server)
        .await;
    Mock::given(path("/values"))
        .respond_with(ResponseTemplate::new(200))
        .mount(server)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_requests_cause_one_token_request() {
    let server = MockServer::start().await;
    let issuer = IssueTokens::new(3600);
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(issuer.clone())
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/values"))
        .and(header("authorization", "Bearer token-1"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1000)
        .mount(&server)
        .await;
    let client = HttpClient::builder(server.uri())
        .credential(token_cache(&server))
        .build()
        .unwrap();

    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.get("values").send().await.map(|r| r.status().as_u16()) })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), 200);
    }
    assert_eq!(issuer.count(), 1);
    // A thousand awaits spend this task's tokio budget; wiremock's Drop then verifies
    // with a blocking executor that can never get a fresh budget and spins for ever.
    // Yielding first gives the drop a fresh budget.
    tokio::task::yield_now().await;
}

#[tokio::test]
async fn a_401_causes_one_refresh_and_one_retry() {
    let server = MockServer::start().await;
    let issuer = IssueTokens::new(3600);
    Mock::given(path("/token"))
        .respond_with(issuer.clone())
        .mount(&server)
        .await;
    Mock::given(path("/values"))
        .and(header("authorization", "Bearer token-1"))
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/values"))
        .and(header("authorization", "Bearer token-2"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let clock = ManualClock::new();
    let client = HttpClient::builder(server.uri())
        .credential(token_cache(&server))
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    assert_eq!(client.get("values").send().await.unwrap().status(), 200);
    assert_eq!(issuer.count(), 2);
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn a_second_401_is_returned_not_retried_again() {
    let server = MockServer::start().await;
    let issuer = IssueTokens::new(3600);
    Mock::given(path("/token"))
        .respond_with(issuer.clone())
        .mount(&server)
        .await;
    Mock::given(path("/values"))
        .respond_with(ResponseTemplate::new(401))
        .expect(2)
        .mount(&server)
        .await;
    let client = HttpClient::builder(server.uri())
        .credential(token_cache(&server))
        .build()
        .unwrap();
    let err = client.get("values").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Status);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(issuer.count(), 2);
}

#[tokio::test]
async fn static_credential_401_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/values"))
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    let client = HttpClient::builder(server.uri())
        .credential(
            HeaderCredential::builder()
                .name("X-Api-Key")
                .value(SecretString::from("k"))
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    assert_eq!(
        client
            .get("values")
            .send()
            .await
            .unwrap_err()
            .status()
            .map(|s| s.as_u16()),
        Some(401)
    );
}

#[tokio::test]
async fn retry_after_seconds_is_honoured() {
    let server = MockServer::start().await;
    once_then_ok(
        &server,
        ResponseTemplate::new(429).insert_header("Retry-After", "7"),
    )
    .await;
    let (client, clock) = client(&server, RetryPolicy::default());
    assert_eq!(client.get("values").send().await.unwrap().status(), 200);
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(7)]);
}

#[tokio::test]
async fn retry_after_http_date_is_honoured() {
    let server = MockServer::start().await;
    let at = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(20);
    let date = jiff::fmt::rfc2822::DateTimePrinter::new()
        .timestamp_to_rfc9110_string(&at)
        .unwrap();
    once_then_ok(
        &server,
        ResponseTemplate::new(503).insert_header("Retry-After", date.as_str()),
    )
    .await;
    let (client, clock) = client(&server, RetryPolicy::default());
    assert_eq!(client.get("values").send().await.unwrap().status(), 200);
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 1);
    assert!(
        sleeps[0] > Duration::from_secs(17) && sleeps[0] <= Duration::from_secs(20),
        "{sleeps:?}"
    );
}

#[tokio::test]
async fn retry_after_longer_than_the_policy_allows_ends_at_once_and_holds_back_every_clone() {
    let server = MockServer::start().await;
    Mock::given(path("/values"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "3600"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/other"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let clock = ManualClock::new();
    let client = HttpClient::builder(server.uri())
        .retry_policy(
            RetryPolicy::default()
                .with_jitter(false)
                .with_max_delay(Duration::from_secs(30))
                .with_total_budget(Duration::from_secs(60)),
        )
        .throttle(Throttle::with_clock(
            10,
            Duration::from_secs(1),
            Arc::new(clock.clone()),
        ))
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    let err = client.get("values").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Throttled);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3600)));
    // Never retried before the server said it may be.
    assert!(clock.sleeps().is_empty(), "{:?}", clock.sleeps());
    // The 429 ended the retries, yet a clone's next request still holds back, for the
    // policy's longest wait (not the hour the server asked for).
    let clone = client.clone();
    clone.get("other").send().await.unwrap();
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(30)]);
}

#[tokio::test]
async fn a_non_idempotent_post_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let (client, clock) = client(&server, RetryPolicy::default());
    let err = client
        .post("items")
        .json(&serde_json::json!({"a": 1}))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert!(clock.sleeps().is_empty());
}

#[tokio::test]
async fn a_post_marked_idempotent_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let (client, _clock) = client(&server, RetryPolicy::default());
    let response = client
        .post("query")
        .json(&serde_json::json!({}))
        .idempotent(true)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let bodies: Vec<_> = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.body)
        .collect();
    assert_eq!(bodies, vec![b"{}".to_vec(), b"{}".to_vec()]);
}

#[tokio::test]
async fn the_attempt_limit_stops_retries() {
    let server = MockServer::start().await;
    Mock::given(path("/values"))
        .respond_with(ResponseTemplate::new(503))
        .expect(3)
        .mount(&server)
        .await;
    let (client, clock) = client(&server, RetryPolicy::default().with_max_attempts(3));
    let err = client.get("values").send().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(
        clock.sleeps(),
        vec![Duration::from_millis(500), Duration::from_millis(1000)]
    );
}

#[tokio::test]
async fn the_total_budget_stops_retries() {
    let server = MockServer::start().await;
    Mock::given(path("/values"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "20"))
        .expect(3)
        .mount(&server)
        .await;
    let (client, clock) = client(
        &server,
        RetryPolicy::default()
            .with_max_attempts(10)
            .with_total_budget(Duration::from_secs(50)),
    );
    let err = client.get("values").send().await.unwrap_err();
    // Waits of 20 s at 0 s and 20 s; a third would end at 60 s, past the 50 s budget.
    assert_eq!(err.kind(), ErrorKind::Throttled);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(20)));
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(20); 2]);
}

#[tokio::test]
async fn a_final_status_is_not_retried_and_carries_details() {
    let server = MockServer::start().await;
    let body = format!(
        "{{\"error\":\"request_too_large\",\"pad\":\"{}\"}}",
        "x".repeat(10_000)
    );
    Mock::given(path("/values"))
        .respond_with(
            ResponseTemplate::new(413)
                .insert_header("x-ms-request-id", "req-42")
                .set_body_string(body.clone()),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (client, _clock) = client(&server, RetryPolicy::default());
    let err = client
        .get("values")
        .query("from", "2026-01-01")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Status);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(413));
    assert_eq!(err.correlation_id(), Some("req-42"));
    assert_eq!(err.body(), Some(&body[..4096]));
    assert!(!err.is_retryable());
    assert_eq!(
        err.to_string(),
        "error status: GET /values answered Payload Too Large (HTTP 413) [correlation id req-42]"
    );
}

#[tokio::test]
async fn a_refused_connection_is_retried_even_for_post() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let clock = ManualClock::new();
    let client = HttpClient::builder(format!("http://127.0.0.1:{port}"))
        .retry_policy(RetryPolicy::default().with_max_attempts(3).with_jitter(false))
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    let err = client.post("x").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert!(err.is_not_sent());
    assert_eq!(clock.sleeps().len(), 2);
}

#[tokio::test]
async fn requests_carry_user_agent_encoding_credentials_and_query() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v1/values"))
        .respond_with(ResponseTemplate::new(200).insert_header("apim-request-id", "corr-1"))
        .mount(&server)
        .await;
    let client = HttpClient::builder(format!("{}/api/v1", server.uri()))
        .user_agent("preventos-client/0.1.0")
        .credential(
            HeaderCredential::builder()
                .name("Ocp-Apim-Subscription-Key")
                .value(SecretString::from("sub-key"))
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let response = client
        .get("/values")
        .query("signalIds", "Velocity,Depth")
        .query("tzi", "Europe/Helsinki")
        .accept("application/x-ndjson")
        .send()
        .await
        .unwrap();
    assert_eq!(response.correlation_id(), Some("corr-1"));
    let request = &server.received_requests().await.unwrap()[0];
    assert_eq!(request.url.path(), "/api/v1/values");
    assert_eq!(
        request.url.query(),
        Some("signalIds=Velocity%2CDepth&tzi=Europe%2FHelsinki")
    );
    assert_eq!(
        request.headers["user-agent"],
        format!("preventos-client/0.1.0 client-core/{}", env!("CARGO_PKG_VERSION")).as_str()
    );
    assert_eq!(request.headers["accept-encoding"], "gzip");
    assert_eq!(request.headers["accept"], "application/x-ndjson");
    assert_eq!(request.headers["ocp-apim-subscription-key"], "sub-key");
}

#[tokio::test]
async fn gzip_responses_are_decoded() {
    use std::io::Write as _;
    let server = MockServer::start().await;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(b"{\"value\":1}\n".repeat(1000).as_slice())
        .unwrap();
    let compressed = encoder.finish().unwrap();
    Mock::given(path("/values"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-encoding", "gzip")
                .set_body_bytes(compressed),
        )
        .mount(&server)
        .await;
    let (client, _clock) = client(&server, RetryPolicy::default());
    let body = client.get("values").send().await.unwrap().bytes().await.unwrap();
    assert_eq!(body.len(), 12_000);
}

#[tokio::test]
async fn not_modified_is_a_success() {
    let server = MockServer::start().await;
    Mock::given(path("/values"))
        .respond_with(ResponseTemplate::new(304))
        .mount(&server)
        .await;
    let (client, _clock) = client(&server, RetryPolicy::default());
    assert_eq!(client.get("values").send().await.unwrap().status(), 304);
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let err = HttpClient::builder("http://api.example.com/v1")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
}

#[tokio::test]
async fn rate_limit_headers_reach_the_error_and_the_api_document() {
    let server = MockServer::start().await;
    Mock::given(path("/values"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "3600")
                .insert_header("iTwinPlatform-RateLimit-Limit", "500")
                .insert_header("iTwinPlatform-RateLimit-Remaining", "0")
                .insert_header("X-Unrelated", "kept out")
                .set_body_json(
                    serde_json::json!({"error": {"code": "RateLimitExceeded", "message": "slow down"}}),
                ),
        )
        .mount(&server)
        .await;
    let (client, _clock) = client(
        &server,
        RetryPolicy::default().with_max_delay(Duration::from_secs(30)),
    );
    let err = client.get("values").send().await.unwrap_err();
    let mut headers = err.rate_limit().to_vec();
    headers.sort();
    assert_eq!(
        headers,
        vec![
            ("itwinplatform-ratelimit-limit".to_owned(), "500".to_owned()),
            ("itwinplatform-ratelimit-remaining".to_owned(), "0".to_owned()),
        ]
    );
    let api = client_core::ApiError::from_core(&err).unwrap();
    assert_eq!(api.rate_limit.len(), 2);
    assert_eq!(api.code_text().as_deref(), Some("RateLimitExceeded"));
}

/// An API whose documentation names a 15 s wait after a 429 without `Retry-After`.
#[derive(Debug)]
struct DocumentedWait;

impl client_core::RetryClassifier for DocumentedWait {
    fn classify(
        &self,
        _: &client_core::Error,
        prior: client_core::Classification,
    ) -> client_core::Classification {
        if prior.class == client_core::FailureClass::Throttled && prior.wait.is_none() {
            return prior.with_wait(Some(Duration::from_secs(15)));
        }
        prior
    }
}

#[tokio::test]
async fn an_apis_classifier_sets_the_wait_of_a_429_without_retry_after() {
    let server = MockServer::start().await;
    Mock::given(path("/values"))
        .respond_with(ResponseTemplate::new(429))
        .mount(&server)
        .await;
    let clock = ManualClock::new();
    let client = HttpClient::builder(server.uri())
        .retry_policy(RetryPolicy::default().with_jitter(false).with_max_attempts(2))
        .classifier(Arc::new(DocumentedWait))
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    let err = client.get("values").send().await.unwrap_err();
    assert_eq!(clock.sleeps(), vec![Duration::from_secs(15)]);
    // The caller learns the documented wait too.
    assert_eq!(err.retry_after(), Some(Duration::from_secs(15)));

    // Without the classifier: the policy's backoff, and no wait named.
    let (plain, plain_clock) = client_without_classifier(&server);
    let err = plain.get("values").send().await.unwrap_err();
    assert_eq!(plain_clock.sleeps(), vec![Duration::from_millis(500)]);
    assert_eq!(err.retry_after(), None);
}

fn client_without_classifier(server: &MockServer) -> (HttpClient, ManualClock) {
    client(server, RetryPolicy::default().with_max_attempts(2))
}

#[tokio::test]
async fn a_requests_context_reaches_its_error_and_the_api_document() {
    let server = MockServer::start().await;
    Mock::given(path("/sensors"))
        .respond_with(
            ResponseTemplate::new(403).set_body_string(r#"{"error":{"code":"InsufficientPermissions"}}"#),
        )
        .mount(&server)
        .await;
    let (client, _) = client(&server, RetryPolicy::none());
    let err = client
        .get("sensors")
        .context("permission", "sensor_data_read")
        .context("itwinId", "tw-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.context_value("permission"), Some("sensor_data_read"));
    let api = client_core::ApiError::from_core(&err).unwrap();
    assert_eq!(api.context_value("itwinId"), Some("tw-1"));
    let mapped = client_core::ClientError::<client_core::NoApiError>::from(err);
    assert!(matches!(mapped, client_core::ClientError::Forbidden(_)));
}

#[test]
fn a_request_shows_what_it_would_send_without_sending() {
    let client = HttpClient::builder("https://api.example.com/v2/")
        .build()
        .unwrap();
    let request = client
        .post("projects/p 1/devices:batchUpdate")
        .query("a", "x&y")
        .query("a", "z")
        .json(&serde_json::json!({"devices": ["d1"]}))
        .to_request()
        .unwrap();
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.url.as_str(),
        "https://api.example.com/v2/projects/p%201/devices:batchUpdate"
    );
    assert_eq!(request.query_values("a"), vec!["x&y", "z"]);
    assert_eq!(request.json_body(), Some(serde_json::json!({"devices": ["d1"]})));
    let shown = format!("{request} {request:?}");
    assert!(
        !shown.contains("x&y"),
        "no query value in Debug or Display: {shown}"
    );
    let refused = HttpClient::builder("https://api.example.com/")
        .build()
        .unwrap()
        .request_url(
            http::Method::GET,
            "https://elsewhere.example.com/x".parse().unwrap(),
        )
        .to_request()
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Config);
}

#[tokio::test]
async fn refusing_the_credentials_from_outside_fetches_a_fresh_token() {
    let server = MockServer::start().await;
    let issuer = IssueTokens::new(3600);
    Mock::given(path("/token"))
        .respond_with(issuer.clone())
        .mount(&server)
        .await;
    Mock::given(path("/values"))
        .and(header("authorization", "Bearer token-2"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let client = HttpClient::builder(server.uri())
        .credential(token_cache(&server))
        .build()
        .unwrap();
    // A stream told in band that token-1 is refused: the next request has a new one.
    assert!(client.refuse_credentials().await.unwrap());
    assert_eq!(issuer.count(), 1);
    assert_eq!(client.get("values").send().await.unwrap().status(), 200);
    assert_eq!(issuer.count(), 2);
    // A static credential has nothing to drop.
    let plain = HttpClient::builder(server.uri()).build().unwrap();
    assert!(!plain.refuse_credentials().await.unwrap());
}
