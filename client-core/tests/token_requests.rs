//! The exact token request of each grant, and the token endpoint's retry rule.

mod common;

use std::sync::Arc;
use std::time::Duration;

use client_core::{
    CertificateKey, ClientCredentials, ErrorKind, JwsAlgorithm, JwtBearerGrant, ManualClock, SecretPlacement,
    TokenEndpointConfig, TokenSource,
};
use common::{IssueTokens, PFX_PASSWORD, decode_jws, fixture, form};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use secrecy::SecretString;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN_PATH: &str = "/tenant-id/oauth2/v2.0/token";

async fn token_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(IssueTokens::new(3600))
        .mount(&server)
        .await;
    server
}

fn token_url(server: &MockServer) -> String {
    format!("{}{TOKEN_PATH}", server.uri())
}

#[tokio::test]
async fn client_secret_in_body_sends_every_field() {
    let server = token_server().await;
    let source = ClientCredentials::builder()
        .token_url(token_url(&server))
        .client_id("client-1")
        .client_secret(SecretString::from("s3cret&value"))
        .scope("api://data-api/.default")
        .build()
        .unwrap();
    let token = source.fetch_token().await.unwrap();
    assert_eq!(token.expires_in(), Some(std::time::Duration::from_secs(3600)));

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(request.url.path(), TOKEN_PATH);
    assert_eq!(
        request.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(request.headers["accept"], "application/json");
    assert!(request.headers.get("authorization").is_none());
    let fields = form(request);
    assert_eq!(
        fields,
        [
            ("client_id", "client-1"),
            ("client_secret", "s3cret&value"),
            ("grant_type", "client_credentials"),
            ("scope", "api://data-api/.default"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    );
}

#[tokio::test]
async fn client_secret_in_basic_header_is_urlencoded_then_base64() {
    let server = token_server().await;
    let source = ClientCredentials::builder()
        .token_url(token_url(&server))
        .client_id("client:1")
        .client_secret_in(SecretString::from("p@ss word"), SecretPlacement::BasicHeader)
        .scope("a")
        .scope("b")
        .build()
        .unwrap();
    source.fetch_token().await.unwrap();

    let request = &server.received_requests().await.unwrap()[0];
    // RFC 6749 2.3.1: base64("client%3A1:p%40ss+word")
    assert_eq!(
        request.headers["authorization"],
        "Basic Y2xpZW50JTNBMTpwJTQwc3Mrd29yZA=="
    );
    let fields = form(request);
    assert_eq!(
        fields.get("grant_type").map(String::as_str),
        Some("client_credentials")
    );
    assert_eq!(fields.get("scope").map(String::as_str), Some("a b"));
    assert!(!fields.contains_key("client_secret"));
    assert!(!fields.contains_key("client_id"));
}

/// Checks one certificate assertion against the certificate, the way Entra ID does.
fn verify_assertion(assertion: &str, cert_der: &[u8], audience: &str, alg: &str) {
    let jws = decode_jws(assertion);
    assert_eq!(jws.header["alg"], alg);
    assert_eq!(jws.header["typ"], "JWT");
    let thumbprint = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(ring::digest::digest(&ring::digest::SHA256, cert_der).as_ref())
    };
    assert_eq!(jws.header["x5t#S256"], thumbprint.as_str());

    let cert = CertificateDer::from(cert_der.to_vec());
    let end_entity = webpki::EndEntityCert::try_from(&cert).unwrap();
    let algorithm = match alg {
        "PS256" => webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        _ => webpki::ring::RSA_PKCS1_2048_8192_SHA256,
    };
    end_entity
        .verify_signature(algorithm, jws.signing_input.as_bytes(), &jws.signature)
        .expect("the assertion signature verifies with the certificate's public key");

    let claims = &jws.claims;
    assert_eq!(claims["aud"], audience);
    assert_eq!(claims["iss"], "client-cert");
    assert_eq!(claims["sub"], "client-cert");
    assert_eq!(claims["jti"].as_str().unwrap().len(), 36);
    let nbf = claims["nbf"].as_i64().unwrap();
    let iat = claims["iat"].as_i64().unwrap();
    let exp = claims["exp"].as_i64().unwrap();
    let now = jiff::Timestamp::now().as_second();
    assert!((now - iat).abs() < 60);
    assert!(nbf <= iat);
    assert!(exp - nbf <= 600 && exp > now, "exp - nbf = {}", exp - nbf);
}

async fn assert_certificate_grant(key: CertificateKey, alg: &str) {
    let cert_der = key.certificate_der().to_vec();
    let server = token_server().await;
    let url = token_url(&server);
    let source = ClientCredentials::builder()
        .token_url(url.clone())
        .client_id("client-cert")
        .certificate(key)
        .scope("api://data-api/.default")
        .build()
        .unwrap();
    source.fetch_token().await.unwrap();
    source.fetch_token().await.unwrap();

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    let first = form(&requests[0]);
    assert_eq!(first["grant_type"], "client_credentials");
    assert_eq!(first["client_id"], "client-cert");
    assert_eq!(first["scope"], "api://data-api/.default");
    assert_eq!(
        first["client_assertion_type"],
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    );
    assert!(!first.contains_key("client_secret"));
    assert!(requests[0].headers.get("authorization").is_none());
    verify_assertion(&first["client_assertion"], &cert_der, &url, alg);
    // Every token request gets a fresh assertion: a new jti (some providers refuse a
    // jti they have seen).
    let second = form(&requests[1]);
    verify_assertion(&second["client_assertion"], &cert_der, &url, alg);
    assert_ne!(second["client_assertion"], first["client_assertion"]);
    assert_ne!(jti(&second["client_assertion"]), jti(&first["client_assertion"]));
}

fn jti(assertion: &str) -> String {
    decode_jws(assertion).claims["jti"].as_str().unwrap().to_owned()
}

fn pfx_key() -> CertificateKey {
    CertificateKey::from_pkcs12_file(fixture("test-cert.pfx"), &SecretString::from(PFX_PASSWORD)).unwrap()
}

#[tokio::test]
async fn assertion_reuse_is_an_option_bounded_and_never_after_a_refusal() {
    let server = MockServer::start().await;
    // The second token request is refused; the others succeed.
    Mock::given(path(TOKEN_PATH))
        .respond_with(IssueTokens::new(3600))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "error": "invalid_client",
            "error_description": "AADSTS700025: the assertion's jti was used before"
        })))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path(TOKEN_PATH))
        .respond_with(IssueTokens::new(3600))
        .mount(&server)
        .await;
    let source = ClientCredentials::builder()
        .token_url(token_url(&server))
        .client_id("client-cert")
        .certificate(pfx_key())
        .reuse_assertion(Duration::from_secs(300))
        .build()
        .unwrap();
    source.fetch_token().await.unwrap();
    let refused = source.fetch_token().await.unwrap_err();
    assert_eq!(refused.status().map(|s| s.as_u16()), Some(400));
    source.fetch_token().await.unwrap();
    source.fetch_token().await.unwrap();
    let sent: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|request| form(request)["client_assertion"].clone())
        .collect();
    assert_eq!(sent.len(), 4);
    // Reused on request...
    assert_eq!(sent[1], sent[0]);
    // ...but never once refused: a new one, reused in its turn.
    assert_ne!(sent[2], sent[1]);
    assert_ne!(jti(&sent[2]), jti(&sent[1]));
    assert_eq!(sent[3], sent[2]);
    // Reuse is bounded: never closer than a minute to exp, whatever was asked.
    let assertion = client_core::ClientAssertion::new(Arc::new(pfx_key()), "client-cert", token_url(&server))
        .with_lifetime(Duration::from_secs(120))
        .reuse_for(Duration::from_secs(u64::MAX));
    assert_eq!(assertion.reuse(), Some(Duration::from_secs(u64::MAX)));
    let first = assertion.get().await.unwrap();
    let again = assertion.get().await.unwrap();
    use secrecy::ExposeSecret;
    assert_eq!(first.expose_secret(), again.expose_secret());
    let claims = decode_jws(first.expose_secret()).claims;
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        120
    );
    // Off by default, and a zero max age keeps it off.
    let fresh = client_core::ClientAssertion::new(Arc::new(pfx_key()), "c", "https://x/token")
        .reuse_for(Duration::ZERO);
    assert_eq!(fresh.reuse(), None);
    let (a, b) = (fresh.get().await.unwrap(), fresh.get().await.unwrap());
    assert_ne!(a.expose_secret(), b.expose_secret());
}

#[tokio::test]
async fn a_retried_token_request_carries_a_fresh_assertion() {
    let server = MockServer::start().await;
    Mock::given(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path(TOKEN_PATH))
        .respond_with(IssueTokens::new(60))
        .mount(&server)
        .await;
    let clock = ManualClock::new();
    let source = ClientCredentials::builder()
        .token_url(token_url(&server))
        .client_id("client-cert")
        .certificate(pfx_key())
        .endpoint(TokenEndpointConfig::default().clock(Arc::new(clock.clone())))
        .build()
        .unwrap();
    source.fetch_token().await.unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    assert_ne!(
        jti(&form(&requests[0])["client_assertion"]),
        jti(&form(&requests[1])["client_assertion"])
    );
}

#[tokio::test]
async fn certificate_from_pfx_signs_a_valid_ps256_assertion() {
    let key = CertificateKey::from_pkcs12_file(fixture("test-cert.pfx"), &SecretString::from(PFX_PASSWORD))
        .unwrap();
    assert_certificate_grant(key, "PS256").await;
}

#[tokio::test]
async fn certificate_from_pem_signs_a_valid_assertion() {
    let key = CertificateKey::from_pem_files(fixture("test-cert.pem"), fixture("test-key.pem")).unwrap();
    let expected = CertificateDer::from_pem_file(fixture("test-cert.pem")).unwrap();
    assert_eq!(key.certificate_der(), expected.as_ref());
    assert_certificate_grant(key, "PS256").await;
}

#[tokio::test]
async fn certificate_with_pkcs1_key_and_rs256() {
    let key = CertificateKey::from_pem_files(fixture("test-cert.pem"), fixture("test-key-pkcs1.pem"))
        .unwrap()
        .with_algorithm(JwsAlgorithm::Rs256);
    assert_certificate_grant(key, "RS256").await;
}

#[test]
fn wrong_pfx_password_is_a_clear_error() {
    let err = CertificateKey::from_pkcs12_file(fixture("test-cert.pfx"), &SecretString::from("not-it"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("wrong password"), "{err}");
    assert!(!err.to_string().contains("not-it"));
}

#[test]
fn pem_key_that_does_not_match_the_certificate_is_refused() {
    let cert = std::fs::read(fixture("test-cert.pem")).unwrap();
    let other_key = std::fs::read_to_string(fixture("other-key.pem")).unwrap();
    let err = CertificateKey::from_pem(&cert, &SecretString::from(other_key)).unwrap_err();
    assert!(err.to_string().contains("matches the private key"), "{err}");
}

#[tokio::test]
async fn jwt_bearer_grant_sends_assertion_and_grant_type() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .respond_with(IssueTokens::new(3600))
        .mount(&server)
        .await;
    let url = format!("{}/oauth2/token", server.uri());
    let grant = JwtBearerGrant::builder()
        .token_url(url.clone())
        .key_id("key-id-7")
        .issuer("svc@proj.serviceaccount.d21s.com")
        .secret(SecretString::from("dt-secret"))
        .build()
        .unwrap();
    let token = grant.fetch_token().await.unwrap();
    assert_eq!(token.expires_in(), Some(std::time::Duration::from_secs(3600)));

    let request = &server.received_requests().await.unwrap()[0];
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(
        request.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    let fields = form(request);
    assert_eq!(fields.len(), 2);
    assert_eq!(
        fields["grant_type"],
        "urn:ietf:params:oauth:grant-type:jwt-bearer"
    );
    let jws = decode_jws(&fields["assertion"]);
    assert_eq!(
        jws.header,
        serde_json::json!({"alg": "HS256", "kid": "key-id-7", "typ": "JWT"})
    );
    assert_eq!(jws.claims["iss"], "svc@proj.serviceaccount.d21s.com");
    assert_eq!(jws.claims["aud"], url.as_str());
    assert_eq!(
        jws.claims["exp"].as_i64().unwrap() - jws.claims["iat"].as_i64().unwrap(),
        3600
    );
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"dt-secret");
    ring::hmac::verify(&key, jws.signing_input.as_bytes(), &jws.signature).expect("HS256 signature verifies");
}

/// A client-secret source whose retry waits on a manual clock (no real sleeps).
async fn secret_source(server: &MockServer) -> (ClientCredentials, ManualClock) {
    let clock = ManualClock::new();
    let source = ClientCredentials::builder()
        .token_url(token_url(server))
        .client_id("client-1")
        .client_secret(SecretString::from("s"))
        .endpoint(TokenEndpointConfig::default().clock(Arc::new(clock.clone())))
        .build()
        .unwrap();
    (source, clock)
}

/// The one retry waited between half and all of the 500 ms default.
fn assert_one_backoff(clock: &ManualClock) {
    let sleeps = clock.sleeps();
    assert_eq!(sleeps.len(), 1, "{sleeps:?}");
    assert!(
        sleeps[0] >= Duration::from_millis(250) && sleeps[0] <= Duration::from_millis(500),
        "{sleeps:?}"
    );
}

#[tokio::test]
async fn token_endpoint_5xx_is_retried_once() {
    let server = MockServer::start().await;
    Mock::given(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path(TOKEN_PATH))
        .respond_with(IssueTokens::new(60))
        .mount(&server)
        .await;
    let (source, clock) = secret_source(&server).await;
    source.fetch_token().await.unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    assert_one_backoff(&clock);
}

#[tokio::test]
async fn token_endpoint_5xx_twice_fails_after_two_requests() {
    let server = MockServer::start().await;
    Mock::given(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let err = secret_source(&server).await.0.fetch_token().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn token_endpoint_retry_after_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "30"))
        .mount(&server)
        .await;
    let err = secret_source(&server).await.0.fetch_token().await.unwrap_err();
    assert_eq!(err.retry_after(), Some(std::time::Duration::from_secs(30)));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn token_endpoint_4xx_is_not_retried_and_explains() {
    let server = MockServer::start().await;
    Mock::given(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(401).set_body_json(serde_json::json!({
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided."
        })))
        .mount(&server)
        .await;
    let err = secret_source(&server).await.0.fetch_token().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert!(err.to_string().contains("invalid_client: AADSTS7000215"), "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn token_endpoint_connect_failure_is_retried_once_then_reported() {
    // A port nothing listens on: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let clock = ManualClock::new();
    let source = ClientCredentials::builder()
        .token_url(format!("http://127.0.0.1:{port}/token"))
        .client_id("c")
        .client_secret(SecretString::from("s"))
        .endpoint(TokenEndpointConfig::default().clock(Arc::new(clock.clone())))
        .build()
        .unwrap();
    let err = source.fetch_token().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport);
    assert!(err.is_not_sent());
    assert_one_backoff(&clock);
}

#[test]
fn plain_http_token_url_is_refused_off_loopback() {
    let err = ClientCredentials::builder()
        .token_url("http://login.example.com/token")
        .client_id("c")
        .client_secret(SecretString::from("s"))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
}

#[test]
fn client_credentials_need_a_secret_or_certificate() {
    let err = ClientCredentials::builder()
        .token_url("https://login.example.com/token")
        .client_id("c")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("secret or a certificate"));
}
