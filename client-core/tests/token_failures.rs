//! A token endpoint that fails or issues short-lived tokens, seen through the request
//! pipeline: failures that may pass are retried under the client's policy, refusals are
//! not, and a token is used for the requests that waited for it.

mod common;

use std::sync::Arc;
use std::time::Duration;

use client_core::{
    ClientCredentials, ClientError, ErrorKind, HttpClient, ManualClock, NoApiError, RetryPolicy, TokenCache,
    TokenEndpointConfig,
};
use common::IssueTokens;
use secrecy::SecretString;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn token_cache(token_url: String, clock: &ManualClock) -> TokenCache {
    ClientCredentials::builder()
        .token_url(token_url)
        .client_id("client-1")
        .client_secret(SecretString::from("client-secret-1"))
        .endpoint(TokenEndpointConfig::default().clock(Arc::new(clock.clone())))
        .build_cached()
        .unwrap()
}

fn client(server: &MockServer, token: TokenCache, clock: &ManualClock) -> HttpClient {
    HttpClient::builder(server.uri())
        .credential(token)
        .retry_policy(RetryPolicy::default().with_jitter(false).with_max_attempts(3))
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap()
}

async fn api_ok(server: &MockServer) {
    Mock::given(path("/values"))
        .respond_with(ResponseTemplate::new(200))
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_failing_token_endpoint_is_retried_by_the_pipeline() {
    let server = MockServer::start().await;
    // The token endpoint's own single retry sees two 503s; the pipeline tries again.
    Mock::given(path("/token"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(path("/token"))
        .respond_with(IssueTokens::new(3600))
        .mount(&server)
        .await;
    api_ok(&server).await;
    let clock = ManualClock::new();
    let client = client(
        &server,
        token_cache(format!("{}/token", server.uri()), &clock),
        &clock,
    );
    // A POST too: nothing reached the API before the token failed.
    client.post("values").send().await.unwrap();
    let requests = server.received_requests().await.unwrap();
    let token_requests = requests.iter().filter(|r| r.url.path() == "/token").count();
    assert_eq!(token_requests, 3);
    // One pipeline backoff (500 ms, no jitter) among the sleeps.
    assert!(
        clock.sleeps().contains(&Duration::from_millis(500)),
        "{:?}",
        clock.sleeps()
    );
}

#[tokio::test]
async fn a_token_endpoint_5xx_is_retryable_and_a_4xx_is_unauthorized() {
    let server = MockServer::start().await;
    Mock::given(path("/down"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&server)
        .await;
    Mock::given(path("/refusing"))
        .respond_with(ResponseTemplate::new(401).set_body_json(serde_json::json!({
            "error": "invalid_client", "error_description": "bad secret"
        })))
        .mount(&server)
        .await;
    api_ok(&server).await;
    let clock = ManualClock::new();

    let down = client(
        &server,
        token_cache(format!("{}/down", server.uri()), &clock),
        &clock,
    );
    let err = down.get("values").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert!(err.is_retryable());
    let mapped = ClientError::<NoApiError>::from(err);
    assert!(mapped.is_retryable(), "{mapped:?}");
    assert!(!mapped.is_unauthorized());
    // Three pipeline attempts, each with the endpoint's own two.
    let count = |p: &'static str| {
        let server = &server;
        async move {
            let requests = server.received_requests().await.unwrap();
            requests.iter().filter(|r| r.url.path() == p).count()
        }
    };
    assert_eq!(count("/down").await, 6);

    let refusing = client(
        &server,
        token_cache(format!("{}/refusing", server.uri()), &clock),
        &clock,
    );
    let err = refusing.get("values").send().await.unwrap_err();
    let mapped = ClientError::<NoApiError>::from(err);
    assert!(mapped.is_unauthorized(), "{mapped:?}");
    assert!(!mapped.is_retryable());
    assert_eq!(count("/refusing").await, 1);
    assert_eq!(count("/values").await, 0);
}

#[tokio::test]
async fn an_unreachable_token_endpoint_is_retried_by_the_pipeline() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = MockServer::start().await;
    api_ok(&server).await;
    let clock = ManualClock::new();
    let client = client(
        &server,
        token_cache(format!("http://127.0.0.1:{port}/token"), &clock),
        &clock,
    );
    let err = client.get("values").send().await.unwrap_err();
    let mapped = ClientError::<NoApiError>::from(err);
    assert!(mapped.is_retryable(), "{mapped:?}");
    // The pipeline's two backoffs (500 ms, 1 s) besides the endpoint's own retries.
    let sleeps = clock.sleeps();
    assert!(
        sleeps.contains(&Duration::from_millis(500)) && sleeps.contains(&Duration::from_secs(1)),
        "{sleeps:?}"
    );
}

#[tokio::test]
async fn a_token_that_expires_at_once_serves_every_request_that_waited_for_it() {
    for expires_in in [0, 3] {
        let server = MockServer::start().await;
        let issuer = IssueTokens::new(expires_in);
        Mock::given(method("POST"))
            .and(path("/token"))
            // Slow enough that every request of a wave queues behind the fetch.
            .respond_with(issuer.clone())
            .mount(&server)
            .await;
        api_ok(&server).await;
        let clock = ManualClock::new();
        let client = client(
            &server,
            token_cache(format!("{}/token", server.uri()), &clock),
            &clock,
        );
        for wave in 1..=2 {
            // Each wave comes after the last token's life.
            clock.advance(Duration::from_secs(5));
            let requests = (0..20).map(|_| client.get("values").send());
            for result in futures::future::join_all(requests).await {
                result.unwrap();
            }
            assert_eq!(
                issuer.count(),
                wave,
                "expires_in {expires_in}: one fetch per wave"
            );
            let received = server.received_requests().await.unwrap();
            let api: Vec<_> = received.iter().filter(|r| r.url.path() == "/values").collect();
            let this_wave = &api[api.len() - 20..];
            for request in this_wave {
                assert_eq!(
                    request.headers["authorization"],
                    format!("Bearer token-{wave}").as_str(),
                    "expires_in {expires_in}"
                );
            }
        }
    }
}
