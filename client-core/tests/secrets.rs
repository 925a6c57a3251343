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
