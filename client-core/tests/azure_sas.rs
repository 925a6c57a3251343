//! Azure SAS against the vector file: the exact `Authorization` value.

use client_core::auth::{Credential, EventHubsSas};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

#[test]
fn event_hubs_tokens_match_the_vectors() {
    let vectors: Value = serde_json::from_str(include_str!("fixtures/azure-sas.json")).unwrap();
    for case in vectors["cases"].as_array().unwrap() {
        let sas = EventHubsSas::builder()
            .resource_uri(case["resource_uri"].as_str().unwrap())
            .key_name(case["key_name"].as_str().unwrap())
            .key(SecretString::from(case["key"].as_str().unwrap().to_owned()))
            .build()
            .unwrap();
        let token = sas.token(case["expiry"].as_i64().unwrap());
        assert_eq!(token.expose_secret(), case["authorization"].as_str().unwrap());
        assert!(!format!("{sas:?}").contains(case["key"].as_str().unwrap()));
    }
}

#[tokio::test]
async fn as_a_credential_it_sets_a_sensitive_authorization_header() {
    let sas = EventHubsSas::builder()
        .resource_uri("https://example.servicebus.windows.net/myhub")
        .key_name("send")
        .key(SecretString::from("k"))
        .time_to_live(std::time::Duration::from_secs(600))
        .build()
        .unwrap();
    let mut headers = http::HeaderMap::new();
    let before = jiff::Timestamp::now().as_second();
    sas.apply(&mut headers).await.unwrap();
    let value = &headers["authorization"];
    assert!(value.is_sensitive());
    let text = value.to_str().unwrap();
    let expiry: i64 = text
        .split("&se=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((before + 600..=before + 601).contains(&expiry), "{text}");
    assert_eq!(text, sas.token(expiry).expose_secret());
    assert!(
        EventHubsSas::builder()
            .key_name("n")
            .key(SecretString::from("k"))
            .build()
            .is_err()
    );
}
