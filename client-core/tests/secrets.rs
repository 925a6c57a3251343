//! No secret reaches a log line, an error or a Debug output, even at TRACE level.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use client_core::{
    BasicAuth, BearerToken, CertificateKey, ClientCredentials, HeaderCredential, HttpClient, JwtBearerGrant,
    RetryPolicy, SecretPlacement,
};
use common::{IssueTokens, PFX_PASSWORD, fixture, form};
use secrecy::SecretString;
use tracing_subscriber::fmt::MakeWriter;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CLIENT_SECRET: &str = "client-secret-VALUE-8d1f";
const API_KEY: &str = "subscription-key-VALUE-77aa";
const JWT_SECRET: &str = "dt-signing-secret-VALUE-03";
const BASIC_PASSWORD: &str = "basic-password-VALUE-5e";
const STATIC_BEARER: &str = "static-bearer-VALUE-91";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn secrets_stay_out_of_logs_errors_and_debug() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    // Current-thread runtime: everything the client does, including hyper's connection
    // tasks, runs on this thread and is captured.
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    let issuer = IssueTokens::new(3600);
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(issuer.clone())
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/jwt-token"))
        .respond_with(issuer.clone())
        .mount(&server)
        .await;
    Mock::given(path("/values"))
        .and(header("authorization", "Bearer token-1"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    Mock::given(path("/values"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"ok\":true}"))
        .mount(&server)
        .await;
    Mock::given(path("/broken"))
        .respond_with(ResponseTemplate::new(500).set_body_string("{\"error\":\"internal\"}"))
        .mount(&server)
        .await;
    Mock::given(path("/refused-token"))
        .respond_with(ResponseTemplate::new(400).set_body_string("{\"error\":\"invalid_client\"}"))
        .mount(&server)
        .await;

    let token = ClientCredentials::builder()
        .token_url(format!("{}/token", server.uri()))
        .client_id("client-1")
        .client_secret_in(SecretString::from(CLIENT_SECRET), SecretPlacement::BasicHeader)
        .scope("api://x/.default")
        .build_cached()
        .unwrap();
    let api_key = HeaderCredential::builder()
        .name("Ocp-Apim-Subscription-Key")
        .value(SecretString::from(API_KEY))
        .build()
        .unwrap();
    let builder = HttpClient::builder(server.uri())
        .credential(token.clone())
        .credential(api_key.clone())
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(2)
                .with_initial_delay(std::time::Duration::ZERO),
        );
    let builder_debug = format!("{builder:?}");
    let client = builder.build().unwrap();

    // A 401 then success (two tokens), a 5xx with retries, a refused token request.
    client
        .get("values")
        .query("from", "2026-01-01")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let status_error = client.get("broken").send().await.unwrap_err();
    let refused = ClientCredentials::builder()
        .token_url(format!("{}/refused-token", server.uri()))
        .client_id("client-1")
        .client_secret(SecretString::from(CLIENT_SECRET))
        .build_cached()
        .unwrap();
    let refused_client = HttpClient::builder(server.uri())
        .credential(refused.clone())
        .build()
        .unwrap();
    let token_error = refused_client.get("values").send().await.unwrap_err();

    // Certificate and JWT-bearer grants.
    let key = CertificateKey::from_pkcs12_file(fixture("test-cert.pfx"), &SecretString::from(PFX_PASSWORD))
        .unwrap();
    let key_debug = format!("{key:?}");
    let cert = ClientCredentials::builder()
        .token_url(format!("{}/token", server.uri()))
        .client_id("client-cert")
        .certificate(key)
        .build_cached()
        .unwrap();
    let cert_client = HttpClient::builder(server.uri())
        .credential(cert.clone())
        .build()
        .unwrap();
    cert_client.get("values").send().await.unwrap();
    let jwt = JwtBearerGrant::builder()
        .token_url(format!("{}/jwt-token", server.uri()))
        .key_id("kid-1")
        .issuer("svc@x")
        .secret(SecretString::from(JWT_SECRET))
        .build_cached()
        .unwrap();
    let jwt_client = HttpClient::builder(server.uri())
        .credential(jwt.clone())
        .build()
        .unwrap();
    jwt_client.get("values").send().await.unwrap();
    let basic = BasicAuth::builder()
        .username("user")
        .password(SecretString::from(BASIC_PASSWORD))
        .build()
        .unwrap();
    let bearer = BearerToken::builder()
        .token(SecretString::from(STATIC_BEARER))
        .build()
        .unwrap();
    let basic_client = HttpClient::builder(server.uri())
        .credential(basic.clone())
        .credential(bearer.clone())
        .build()
        .unwrap();
    basic_client.get("values").send().await.unwrap();

    // Everything that was secret in this flow, as sent on the wire.
    let requests = server.received_requests().await.unwrap();
    let mut secrets: Vec<String> = vec![
        CLIENT_SECRET.into(),
        API_KEY.into(),
        JWT_SECRET.into(),
        BASIC_PASSWORD.into(),
        STATIC_BEARER.into(),
        PFX_PASSWORD.into(),
    ];
    for n in 1..=issuer.count() {
        secrets.push(format!("token-{n}"));
    }
    for request in &requests {
        let fields = form(request);
        for field in ["client_assertion", "assertion", "client_secret"] {
            if let Some(value) = fields.get(field) {
                secrets.push(value.clone());
            }
        }
        if let Some(authorization) = request.headers.get("authorization") {
            let value = authorization.to_str().unwrap();
            secrets.push(value.split_once(' ').map_or(value, |(_, v)| v).to_owned());
        }
    }
    let key_pem = std::fs::read_to_string(fixture("test-key.pem")).unwrap();
    secrets.extend(
        key_pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .map(str::to_owned),
    );
    assert!(
        secrets.iter().any(|s| s.starts_with("eyJ")),
        "the assertions were collected"
    );

    let captured = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        captured.contains("http_request"),
        "the TRACE subscriber captured the request spans"
    );
    let outputs = [
        ("logs", captured),
        ("status error Display", status_error.to_string()),
        ("status error Debug", format!("{status_error:?}")),
        ("token error Display", token_error.to_string()),
        ("token error Debug", format!("{token_error:?}")),
        ("client Debug", format!("{client:?}")),
        ("builder Debug", builder_debug),
        (
            "token cache Debug",
            format!("{token:?} {refused:?} {cert:?} {jwt:?}"),
        ),
        (
            "static credentials Debug",
            format!("{api_key:?} {basic:?} {bearer:?}"),
        ),
        ("certificate Debug", key_debug),
        (
            "credential builders Debug",
            format!(
                "{:?} {:?} {:?} {:?} {:?}",
                BasicAuth::builder()
                    .username("user")
                    .password(SecretString::from(BASIC_PASSWORD)),
                BearerToken::builder().token(SecretString::from(STATIC_BEARER)),
                HeaderCredential::builder()
                    .name("X-Api-Key")
                    .value(SecretString::from(API_KEY)),
                JwtBearerGrant::builder().secret(SecretString::from(JWT_SECRET)),
                ClientCredentials::builder().client_secret(SecretString::from(CLIENT_SECRET)),
            ),
        ),
        ("client error Debug and Display", {
            let mapped = client_core::ClientError::<client_core::NoApiError>::from(token_error.clone());
            format!("{mapped:?} {mapped}")
        }),
    ];
    for (what, text) in &outputs {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{what} contains a secret ({} chars)",
                secret.len()
            );
        }
    }
}

/// Answers `status` with a body that echoes every header value and the form fields of
/// the request, as a careless server or token endpoint might: raw, JSON-escaped (inside
/// a JSON string) and form-encoded (the raw body).
struct Echo(u16);

impl wiremock::Respond for Echo {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let mut echoed = Vec::new();
        for (name, value) in request.headers.iter() {
            echoed.push(format!("{name}: {}", value.to_str().unwrap_or_default()));
        }
        for (name, value) in form(request) {
            echoed.push(format!("{name}={value}"));
        }
        echoed.push(String::from_utf8_lossy(&request.body).into_owned());
        let text = echoed.join(" | ");
        ResponseTemplate::new(self.0).set_body_json(serde_json::json!({
            "error": "invalid_request",
            "error_description": format!("you sent {text}"),
            "message": format!("you sent {text}"),
        }))
    }
}

#[tokio::test]
async fn a_server_echoing_secrets_in_an_error_body_shows_them_redacted() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    let issuer = IssueTokens::new(3600);
    Mock::given(path("/token"))
        .respond_with(issuer.clone())
        .mount(&server)
        .await;
    Mock::given(path("/echo-token-400"))
        .respond_with(Echo(400))
        .mount(&server)
        .await;
    Mock::given(path("/echo-token-500"))
        .respond_with(Echo(500))
        .mount(&server)
        .await;
    Mock::given(path("/echo400"))
        .respond_with(Echo(400))
        .mount(&server)
        .await;
    Mock::given(path("/echo500"))
        .respond_with(Echo(500))
        .mount(&server)
        .await;
    let no_retry = || RetryPolicy::none();
    let api_key = || {
        HeaderCredential::builder()
            .name("Ocp-Apim-Subscription-Key")
            .value(SecretString::from(API_KEY))
            .build()
            .unwrap()
    };
    let secret_grant = |token_path: &str, placement| {
        ClientCredentials::builder()
            .token_url(format!("{}{token_path}", server.uri()))
            .client_id("client-1")
            .client_secret_in(SecretString::from(CLIENT_SECRET), placement)
            .build_cached()
            .unwrap()
    };
    let cert_grant = |token_path: &str| {
        let key =
            CertificateKey::from_pkcs12_file(fixture("test-cert.pfx"), &SecretString::from(PFX_PASSWORD))
                .unwrap();
        ClientCredentials::builder()
            .token_url(format!("{}{token_path}", server.uri()))
            .client_id("client-cert")
            .certificate(key)
            .build_cached()
            .unwrap()
    };
    let jwt_grant = |token_path: &str| {
        JwtBearerGrant::builder()
            .token_url(format!("{}{token_path}", server.uri()))
            .key_id("kid-1")
            .issuer("svc@x")
            .secret(SecretString::from(JWT_SECRET))
            .build_cached()
            .unwrap()
    };

    let mut errors = Vec::new();
    // The API echoes the key and the token (both placements of the client secret).
    let client = HttpClient::builder(server.uri())
        .credential(secret_grant("/token", SecretPlacement::RequestBody))
        .credential(api_key())
        .retry_policy(no_retry())
        .build()
        .unwrap();
    errors.push(client.get("echo400").send().await.unwrap_err());
    errors.push(client.get("echo500").send().await.unwrap_err());
    // Basic and a static bearer token.
    for client in [
        HttpClient::builder(server.uri())
            .credential(
                BasicAuth::builder()
                    .username("user")
                    .password(SecretString::from(BASIC_PASSWORD))
                    .build()
                    .unwrap(),
            )
            .retry_policy(no_retry())
            .build()
            .unwrap(),
        HttpClient::builder(server.uri())
            .credential(
                BearerToken::builder()
                    .token(SecretString::from(STATIC_BEARER))
                    .build()
                    .unwrap(),
            )
            .retry_policy(no_retry())
            .build()
            .unwrap(),
    ] {
        errors.push(client.get("echo400").send().await.unwrap_err());
    }
    // Token endpoints echoing the client secret (body and Basic), the assertion, the JWT.
    for token in [
        secret_grant("/echo-token-400", SecretPlacement::RequestBody),
        secret_grant("/echo-token-500", SecretPlacement::RequestBody),
        secret_grant("/echo-token-400", SecretPlacement::BasicHeader),
        cert_grant("/echo-token-400"),
        jwt_grant("/echo-token-400"),
        jwt_grant("/echo-token-500"),
    ] {
        let client = HttpClient::builder(server.uri())
            .credential(token)
            .retry_policy(no_retry())
            .build()
            .unwrap();
        errors.push(client.get("values").send().await.unwrap_err());
    }

    // What was secret, as the wire carried it.
    let mut secrets: Vec<String> = vec![
        CLIENT_SECRET.into(),
        API_KEY.into(),
        JWT_SECRET.into(),
        BASIC_PASSWORD.into(),
        STATIC_BEARER.into(),
    ];
    for request in server.received_requests().await.unwrap() {
        let fields = form(&request);
        for field in ["client_assertion", "assertion", "client_secret"] {
            secrets.extend(fields.get(field).cloned());
        }
        if let Some(authorization) = request.headers.get("authorization") {
            let value = authorization.to_str().unwrap();
            secrets.push(value.split_once(' ').map_or(value, |(_, v)| v).to_owned());
        }
    }
    assert!(secrets.iter().any(|s| s == "token-1"), "the API saw the token");
    assert!(
        secrets.iter().filter(|s| s.starts_with("eyJ")).count() >= 2,
        "assertions sent"
    );

    let captured = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let mut redacted = 0;
    for (index, error) in errors.iter().enumerate() {
        let mapped = client_core::ClientError::<client_core::NoApiError>::from(error.clone());
        let shown = format!(
            "{error} {error:?} {} {mapped} {mapped:?} {:?}",
            error.body().unwrap_or_default(),
            mapped.api(),
        );
        for secret in &secrets {
            assert!(
                !shown.contains(secret.as_str()),
                "error {index} shows a secret ({} chars): {shown}",
                secret.len()
            );
            assert!(!captured.contains(secret.as_str()), "the logs show a secret");
        }
        if shown.contains("[REDACTED]") {
            redacted += 1;
        } else {
            eprintln!("error {index} has nothing redacted: {shown}");
        }
    }
    // Every error kept what the server said, with the secrets cut out.
    assert_eq!(redacted, errors.len(), "{errors:?}");
}

#[tokio::test]
async fn a_default_header_echoed_in_an_error_body_is_redacted() {
    // A default header may be as secret as a credential (a tenant key sent on every
    // request): marked sensitive, a server quoting it back does not put it into the
    // error.
    const TENANT_KEY: &str = "tenant-key-VALUE-4c2e";
    let server = MockServer::start().await;
    Mock::given(path("/x"))
        .respond_with(ResponseTemplate::new(400).set_body_string(format!(
            "unknown tenant key {TENANT_KEY} for application/vnd.example.v1+json"
        )))
        .mount(&server)
        .await;
    let mut tenant_key = http::HeaderValue::from_static(TENANT_KEY);
    tenant_key.set_sensitive(true);
    let client = HttpClient::builder(server.uri())
        .default_header(http::HeaderName::from_static("x-tenant-key"), tenant_key)
        .default_header(
            http::header::ACCEPT,
            http::HeaderValue::from_static("application/vnd.example.v1+json"),
        )
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    assert!(format!("{:?}", client.redactor().redact(TENANT_KEY)).contains("[REDACTED]"));
    let err = client.get("x").send().await.unwrap_err();
    let shown = format!("{err} {err:?} {:?}", err.body());
    assert!(!shown.contains(TENANT_KEY), "{shown}");
    assert!(err.body().unwrap().contains("[REDACTED]"), "{shown}");
    // A public default header (a media type) stays readable.
    assert!(
        err.body().unwrap().contains("application/vnd.example.v1+json"),
        "{shown}"
    );
}
