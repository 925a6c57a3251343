//! Transport hardening: redirects, origins, Debug output, buffered retries, TLS roots,
//! proxies.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use client_core::{
    ApiDefaults, ClientConfig, ClientCredentials, ErrorKind, HeaderCredential, HttpClient, ManualClock,
    RetryPolicy, TlsRoots, TokenEndpointConfig, TokenSource,
};
use common::{IssueTokens, fixture};
use secrecy::SecretString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{header_exists, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn api_key() -> HeaderCredential {
    HeaderCredential::builder()
        .name("X-Api-Key")
        .value(SecretString::from("key-1"))
        .build()
        .unwrap()
}

#[tokio::test]
async fn an_api_redirect_is_never_followed() {
    for status in [302, 307] {
        let server = MockServer::start().await;
        Mock::given(path("/values"))
            .respond_with(
                ResponseTemplate::new(status)
                    .insert_header("Location", format!("{}/elsewhere", server.uri())),
            )
            .mount(&server)
            .await;
        Mock::given(path("/elsewhere"))
            .respond_with(ResponseTemplate::new(200))
            .expect(0)
            .mount(&server)
            .await;
        let client = HttpClient::builder(server.uri())
            .credential(api_key())
            .retry_policy(RetryPolicy::none())
            .build()
            .unwrap();
        let err = client.get("values").send().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Status);
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
    }
}

#[tokio::test]
async fn a_token_endpoint_redirect_is_never_followed() {
    let server = MockServer::start().await;
    Mock::given(path("/token"))
        .respond_with(
            ResponseTemplate::new(307).insert_header("Location", format!("{}/stolen", server.uri())),
        )
        .mount(&server)
        .await;
    Mock::given(path("/stolen"))
        .respond_with(IssueTokens::new(3600))
        .expect(0)
        .mount(&server)
        .await;
    // Whatever the endpoint settings, redirects stay off.
    let source = ClientCredentials::builder()
        .token_url(format!("{}/token", server.uri()))
        .client_id("c")
        .client_secret(SecretString::from("s"))
        .endpoint(TokenEndpointConfig::default().request_timeout(std::time::Duration::from_secs(5)))
        .build()
        .unwrap();
    let err = source.fetch_token().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(307));
    assert!(err.to_string().contains("redirect"), "{err}");
}

#[tokio::test]
async fn credentials_never_leave_the_base_origin() {
    let api = MockServer::start().await;
    let other = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&other)
        .await;
    let client = HttpClient::builder(api.uri())
        .credential(api_key())
        .build()
        .unwrap();
    let foreign = client_core::url::Url::parse(&format!("{}/file?sig=abc", other.uri())).unwrap();
    // Another origin (same host, other port) is refused before anything is sent...
    let err = client
        .request_url(reqwest::Method::GET, foreign.clone())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let err = client.get(foreign.as_str()).send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(other.received_requests().await.unwrap().is_empty());
    // ...unless asked for explicitly, and then without credentials.
    client
        .request_other_origin(reqwest::Method::GET, foreign)
        .send()
        .await
        .unwrap();
    let received = other.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    assert!(!received[0].headers.contains_key("x-api-key"));
}

#[tokio::test]
async fn a_same_origin_link_gets_the_credentials() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/next"))
        .and(header_exists("x-api-key"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let client = HttpClient::builder(format!("{}/v2", server.uri()))
        .credential(api_key())
        .build()
        .unwrap();
    let link = client_core::url::Url::parse(&format!("{}/v2/next?page=2", server.uri())).unwrap();
    client
        .request_url(reqwest::Method::GET, link)
        .send()
        .await
        .unwrap();
}

#[test]
fn request_debug_shows_no_query_and_no_header_value() {
    let client = HttpClient::builder("https://api.example.com/v1")
        .credential(api_key())
        .build()
        .unwrap();
    let request = client
        .get("values?sig=SAS-SECRET")
        .query("token", "QUERY-SECRET")
        .header(
            reqwest::header::AUTHORIZATION,
            reqwest::header::HeaderValue::from_static("Bearer HEADER-SECRET"),
        );
    let debug = format!("{request:?}");
    for secret in ["SAS-SECRET", "QUERY-SECRET", "HEADER-SECRET", "sig=", "token="] {
        assert!(!debug.contains(secret), "{debug}");
    }
    assert!(debug.contains("https://api.example.com/v1/values"), "{debug}");
    assert!(debug.contains("authorization"), "{debug}");
}

/// A server whose first connection sends half the announced body and closes; later
/// connections get the whole body. Returns its URL and the connection count.
async fn cut_once_server(body: &'static [u8]) -> (String, Arc<Mutex<usize>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let connections = Arc::new(Mutex::new(0));
    let count = connections.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let n = {
                let mut count = count.lock().unwrap();
                *count += 1;
                *count
            };
            let mut request = vec![0u8; 4096];
            let _ = socket.read(&mut request).await;
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            let _ = socket.write_all(head.as_bytes()).await;
            let sent = if n == 1 { &body[..body.len() / 2] } else { body };
            let _ = socket.write_all(sent).await;
            let _ = socket.shutdown().await;
        }
    });
    (format!("http://{address}"), connections)
}

#[tokio::test]
async fn a_buffered_body_cut_short_is_retried() {
    let (url, connections) = cut_once_server(br#"{"environments":[{"id":"100"}]}"#).await;
    let clock = ManualClock::new();
    let client = HttpClient::builder(url)
        .retry_policy(RetryPolicy::default().with_jitter(false))
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    let catalog: serde_json::Value = client.get("data-catalog").json_response().await.unwrap();
    assert_eq!(catalog["environments"][0]["id"], "100");
    assert_eq!(*connections.lock().unwrap(), 2);
    assert_eq!(clock.sleeps(), vec![Duration::from_millis(500)]);
}

#[tokio::test]
async fn a_streamed_body_cut_short_is_not_restarted() {
    let (url, connections) = cut_once_server(br#"[1,2,3,4,5,6,7,8,9,10,11,12]"#).await;
    let client = HttpClient::builder(url).build().unwrap();
    let response = client.get("values").send().await.unwrap();
    let err = response.bytes().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Truncated);
    assert_eq!(*connections.lock().unwrap(), 1);
}

#[test]
fn tls_roots_take_pem_and_refuse_garbage() {
    let pem = std::fs::read(fixture("test-cert.pem")).unwrap();
    let roots = TlsRoots::default().add_pem(&pem).unwrap();
    assert_eq!(roots.added(), 1);
    HttpClient::builder("https://api.example.com")
        .tls_roots(roots.clone().without_bundled_roots())
        .build()
        .unwrap();
    let err = TlsRoots::default().add_pem(b"not a certificate").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    // A PEM block that is no certificate is refused when the client is built.
    let bad_der = TlsRoots::default()
        .add_pem(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
        .and_then(|roots| {
            HttpClient::builder("https://api.example.com")
                .tls_roots(roots)
                .build()
        });
    assert_eq!(bad_der.unwrap_err().kind(), ErrorKind::Config);
}

/// Runs in a child process with the proxy variables set (the environment is
/// process-wide): one request to `CHILD_TARGET`, whose outcome does not matter.
#[tokio::test]
#[ignore = "run by proxy_variables_are_honoured in a child process"]
async fn proxied_request_child() {
    let Ok(target) = std::env::var("CHILD_TARGET") else {
        return;
    };
    let client = HttpClient::builder(target)
        .retry_policy(RetryPolicy::none())
        .credential(api_key())
        .build()
        .unwrap();
    let _ = client.get("values").send().await;
    // A token request too, when asked for.
    if let Ok(token_url) = std::env::var("CHILD_TOKEN_URL") {
        let source = ClientCredentials::builder()
            .token_url(token_url)
            .client_id("c")
            .client_secret(SecretString::from("s"))
            .endpoint(TokenEndpointConfig::default().retry_delay(Duration::from_millis(1)))
            .build()
            .unwrap();
        let _ = source.fetch_token().await;
    }
}

/// A loopback proxy that records the request line of each connection and refuses it.
async fn recording_proxy() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut head = vec![0u8; 4096];
            let n = socket.read(&mut head).await.unwrap_or(0);
            let text = String::from_utf8_lossy(&head[..n]).into_owned();
            record
                .lock()
                .unwrap()
                .push(text.lines().next().unwrap_or_default().to_owned());
            let _ = socket
                .write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await;
        }
    });
    (format!("http://{address}"), seen)
}

async fn run_child(vars: Vec<(&'static str, String)>) {
    tokio::task::spawn_blocking(move || {
        let mut command = std::process::Command::new(std::env::current_exe().unwrap());
        command
            .args([
                "--exact",
                "proxied_request_child",
                "--ignored",
                "--test-threads=1",
            ])
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .env_remove("HTTP_PROXY")
            .env_remove("http_proxy")
            .env_remove("ALL_PROXY")
            .env_remove("all_proxy")
            .env_remove("NO_PROXY")
            .env_remove("no_proxy");
        for (name, value) in vars {
            command.env(name, value);
        }
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stdout)
        );
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn proxy_variables_are_honoured() {
    let (proxy, seen) = recording_proxy().await;
    // Port 9 of 0.0.0.0 (this machine, but not a loopback name or address, which never
    // go through a proxy): without the proxy the request fails at once.
    let target = "https://0.0.0.0:9/v1".to_owned();
    run_child(vec![
        ("HTTPS_PROXY", proxy.clone()),
        ("CHILD_TARGET", target.clone()),
    ])
    .await;
    assert_eq!(
        seen.lock().unwrap().clone(),
        vec!["CONNECT 0.0.0.0:9 HTTP/1.1".to_owned()]
    );
    run_child(vec![
        ("HTTPS_PROXY", proxy),
        ("NO_PROXY", "0.0.0.0".to_owned()),
        ("CHILD_TARGET", target),
    ])
    .await;
    assert_eq!(
        seen.lock().unwrap().len(),
        1,
        "NO_PROXY was ignored: {:?}",
        seen.lock().unwrap()
    );
}

#[tokio::test]
async fn default_headers_go_only_to_the_base_origin() {
    let api = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(path("/values"))
        .and(wiremock::matchers::header("x-tenant-key", "TENANT-SECRET"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(path("/override"))
        .and(wiremock::matchers::header("x-tenant-key", "mine"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&elsewhere)
        .await;
    let client = HttpClient::builder(api.uri())
        .default_header(
            http::HeaderName::from_static("x-tenant-key"),
            http::HeaderValue::from_static("TENANT-SECRET"),
        )
        .default_header(
            http::header::ACCEPT_LANGUAGE,
            http::HeaderValue::from_static("fi"),
        )
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    client.get("values").send().await.unwrap();
    client
        .get("override")
        .header(
            http::HeaderName::from_static("x-tenant-key"),
            http::HeaderValue::from_static("mine"),
        )
        .send()
        .await
        .unwrap();
    let link = url::Url::parse(&format!("{}/download?sig=x", elsewhere.uri())).unwrap();
    client
        .request_other_origin(http::Method::GET, link)
        .send()
        .await
        .unwrap();
    let received = elsewhere.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    for name in ["x-tenant-key", "accept-language"] {
        assert!(
            !received[0].headers.contains_key(name),
            "{name} went to another origin"
        );
    }
}

#[tokio::test]
async fn response_and_preview_debug_show_no_query() {
    let server = MockServer::start().await;
    Mock::given(path("/values"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&server)
        .await;
    let client = HttpClient::builder(server.uri()).build().unwrap();
    let request = client.get("values").query("sig", "SECRET");
    let preview = request.to_request().unwrap();
    for text in [
        format!("{preview:?}"),
        preview.to_string(),
        format!("{request:?}"),
    ] {
        assert!(!text.contains("SECRET"), "{text}");
    }
    let response = request.send().await.unwrap();
    let text = format!("{response:?}");
    assert!(!text.contains("SECRET") && !text.contains("sig"), "{text}");
    assert!(text.contains("200"), "{text}");
    let response = client
        .get("values")
        .query("sig", "SECRET")
        .send_buffered()
        .await
        .unwrap();
    assert!(!format!("{response:?}").contains("SECRET"));
}

#[test]
fn a_url_that_fails_to_parse_is_shown_without_query_or_password() {
    for bad in [
        "https://user:PASSWORD@[bad/v1?sig=SECRET",
        "https://api.example.com:99999/v1?sig=SECRET",
        "https://api.example.com/v1?sig=SECRET",
    ] {
        let err = HttpClient::builder(bad).build().unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(!text.contains("SECRET") && !text.contains("PASSWORD"), "{text}");
        let builder = HttpClient::builder(bad).proxy(bad);
        let text = format!("{builder:?}");
        assert!(!text.contains("SECRET") && !text.contains("PASSWORD"), "{text}");
    }
    let err = HttpClient::builder("https://api.example.com/")
        .proxy("http://user:PASSWORD@[bad:3128")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(!format!("{err} {err:?}").contains("PASSWORD"), "{err:?}");
}

#[tokio::test]
async fn loopback_never_goes_through_the_configured_proxy() {
    let (proxy, seen) = recording_proxy().await;
    let server = MockServer::start().await;
    Mock::given(path("/values"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let client = HttpClient::builder(server.uri())
        .proxy(proxy.clone())
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    client.get("values").send().await.unwrap();
    let port = server.address().port();
    for target in [
        format!("http://localhost:{port}/values"),
        "http://127.0.0.2:9/values".to_owned(),
        "http://[::1]:9/values".to_owned(),
    ] {
        let url = url::Url::parse(&target).unwrap();
        let _ = client.request_other_origin(http::Method::GET, url).send().await;
    }
    assert!(seen.lock().unwrap().is_empty(), "{:?}", seen.lock().unwrap());
    // Any other host goes through it.
    let url = url::Url::parse("https://api.example.invalid/x").unwrap();
    let err = client
        .request_other_origin(http::Method::GET, url)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert_eq!(
        seen.lock().unwrap().clone(),
        vec!["CONNECT api.example.invalid:443 HTTP/1.1".to_owned()]
    );
}

#[tokio::test]
async fn loopback_never_goes_through_the_environments_proxy() {
    let (proxy, seen) = recording_proxy().await;
    for target in [
        "http://127.0.0.1:9/v1",
        "http://localhost:9/v1",
        "http://[::1]:9/v1",
    ] {
        for no_proxy in [None, Some("example.com,10.0.0.0/8")] {
            let mut vars = vec![
                ("HTTP_PROXY", proxy.clone()),
                ("HTTPS_PROXY", proxy.clone()),
                ("ALL_PROXY", proxy.clone()),
                ("CHILD_TARGET", target.to_owned()),
                ("CHILD_TOKEN_URL", format!("{target}/token")),
            ];
            if let Some(list) = no_proxy {
                vars.push(("NO_PROXY", list.to_owned()));
            }
            run_child(vars).await;
        }
    }
    assert!(seen.lock().unwrap().is_empty(), "{:?}", seen.lock().unwrap());
}

/// A loopback server that answers every request with `head`, then sends `chunks` of a
/// chunked body `gap` apart; `stall` holds the connection open after the head instead.
async fn slow_body_server(chunks: usize, gap: Duration, stall: bool) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = vec![0u8; 4096];
                let _ = socket.read(&mut head).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
                    .await;
                if stall {
                    std::future::pending::<()>().await;
                }
                for _ in 0..chunks {
                    tokio::time::sleep(gap).await;
                    let _ = socket.write_all(b"5\r\nchunk\r\n").await;
                }
                let _ = socket.write_all(b"0\r\n\r\n").await;
            });
        }
    });
    format!("http://{address}")
}

#[tokio::test]
async fn the_request_timeout_ends_a_response_slower_than_it() {
    let server = MockServer::start().await;
    Mock::given(path("/values"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(60)))
        .mount(&server)
        .await;
    let client = HttpClient::builder(server.uri())
        .request_timeout(Some(Duration::from_millis(100)))
        .read_timeout(None)
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = client.get("values").send().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(err.to_string().contains("request timeout"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn the_request_timeout_never_cuts_a_streamed_body() {
    // Six chunks 50 ms apart: the body takes 300 ms, three times the request timeout,
    // and never pauses for as long as the read timeout.
    let base = slow_body_server(6, Duration::from_millis(50), false).await;
    let client = HttpClient::builder(base)
        .request_timeout(Some(Duration::from_millis(100)))
        .read_timeout(Some(Duration::from_secs(5)))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let body = client.get("values").send().await.unwrap().bytes().await.unwrap();
    assert_eq!(body.len(), 30);
    // A buffered call reads the body inside the attempt: the limit covers it.
    let err = client.get("values").send_buffered().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
}

#[tokio::test]
async fn the_read_timeout_ends_a_silent_body() {
    let base = slow_body_server(0, Duration::ZERO, true).await;
    let client = HttpClient::builder(base)
        .read_timeout(Some(Duration::from_millis(100)))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let response = client.get("values").send().await.unwrap();
    let err = response.bytes().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
}

/// A client-credentials grant to `token_url` with `endpoint`, retried after 1 ms.
fn grant(token_url: &str, endpoint: TokenEndpointConfig) -> ClientCredentials {
    ClientCredentials::builder()
        .token_url(token_url)
        .client_id("c")
        .client_secret(SecretString::from("s"))
        .endpoint(endpoint.retry_delay(Duration::from_millis(1)))
        .build()
        .unwrap()
}

#[tokio::test]
async fn token_requests_take_the_clients_proxy() {
    let (proxy, seen) = recording_proxy().await;
    // The token endpoint settings a client crate's builder derives from its own.
    let mut config = ClientConfig::new(ApiDefaults::new("Test", None, "TEST_BASE_URL", "test/0"));
    config.transport_mut().proxy = Some(proxy);
    let source = grant("https://login.example.invalid/t/token", config.token_endpoint());
    let err = source.fetch_token().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    let seen = seen.lock().unwrap().clone();
    assert!(!seen.is_empty(), "the token request did not go through the proxy");
    assert!(
        seen.iter()
            .all(|line| line == "CONNECT login.example.invalid:443 HTTP/1.1"),
        "{seen:?}"
    );
}

#[tokio::test]
async fn token_endpoint_proxy_is_never_used_for_loopback() {
    let (proxy, seen) = recording_proxy().await;
    let server = MockServer::start().await;
    Mock::given(path("/token"))
        .respond_with(IssueTokens::new(3600))
        .mount(&server)
        .await;
    let endpoint = TokenEndpointConfig::default().proxy(proxy.clone());
    let source = grant(&format!("{}/token", server.uri()), endpoint);
    source.fetch_token().await.unwrap();
    assert!(seen.lock().unwrap().is_empty(), "{:?}", seen.lock().unwrap());
    // Any other host goes through it.
    let source = grant(
        "https://login.example.invalid/token",
        TokenEndpointConfig::default().proxy(proxy),
    );
    source.fetch_token().await.unwrap_err();
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .all(|line| line == "CONNECT login.example.invalid:443 HTTP/1.1"),
        "{:?}",
        seen.lock().unwrap()
    );
    assert!(!seen.lock().unwrap().is_empty());
}

#[test]
fn a_bad_token_endpoint_proxy_is_a_config_error_without_its_password() {
    let endpoint = TokenEndpointConfig::default().proxy("http://user:PASSWORD@[bad:3128/?k=SECRET");
    let text = format!("{endpoint:?}");
    assert!(text.contains("proxy"), "{text}");
    assert!(!text.contains("PASSWORD") && !text.contains("SECRET"), "{text}");
    let err = ClientCredentials::builder()
        .token_url("https://login.example.com/token")
        .client_id("c")
        .client_secret(SecretString::from("s"))
        .endpoint(endpoint)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let text = format!("{err} {err:?}");
    assert!(text.contains("proxy"), "{text}");
    assert!(!text.contains("PASSWORD") && !text.contains("SECRET"), "{text}");
}

#[test]
fn the_token_endpoint_takes_the_clients_timeouts() {
    let mut config = ClientConfig::new(ApiDefaults::new("Test", None, "TEST_BASE_URL", "test/0"));
    config.transport_mut().connect_timeout = Some(Duration::from_secs(3));
    config.transport_mut().request_timeout = Some(Duration::from_secs(7));
    let text = format!("{:?}", config.token_endpoint());
    assert!(text.contains("connect_timeout: 3s"), "{text}");
    assert!(text.contains("request_timeout: 7s"), "{text}");
    // Unset on the client: the token endpoint's own defaults.
    config.transport_mut().connect_timeout = None;
    config.transport_mut().request_timeout = None;
    let text = format!("{:?}", config.token_endpoint());
    assert!(text.contains("connect_timeout: 10s"), "{text}");
    assert!(text.contains("request_timeout: 30s"), "{text}");
}
