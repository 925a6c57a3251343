//! Signed-push verification against DT's real signed pushes, and every way a push can be
//! wrong.

use base64::Engine as _;
use dt_client::{EventData, Verifier, VerifyError};
use jiff::Timestamp;
use secrecy::SecretString;
use serde_json::Value;

struct Case {
    name: String,
    signature: String,
    body: String,
    iat: i64,
    exp: i64,
}

fn cases() -> (String, Vec<Case>) {
    let text = include_str!("fixtures/dt-signed-pushes.json");
    let vectors: Value = serde_json::from_str(text).unwrap();
    let cases = vectors["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Case {
            name: c["name"].as_str().unwrap().to_owned(),
            signature: c["headers"]["X-Dt-Signature"].as_str().unwrap().to_owned(),
            body: c["body"].as_str().unwrap().to_owned(),
            iat: c["claims"]["iat"].as_i64().unwrap(),
            exp: c["claims"]["exp"].as_i64().unwrap(),
        })
        .collect();
    (vectors["secret"].as_str().unwrap().to_owned(), cases)
}

fn verifier(secret: &str, at: i64) -> Verifier {
    Verifier::new(SecretString::from(secret.to_owned())).at(Timestamp::from_second(at).unwrap())
}

/// A token with the given header and claims, signed with `secret`.
fn sign(header: &Value, claims: &Value, secret: &str) -> String {
    let b64 =
        |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    let input = format!("{}.{}", b64(header), b64(claims));
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let signature = ring::hmac::sign(&key, input.as_bytes());
    format!(
        "{input}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature.as_ref())
    )
}

fn sha256_hex(body: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, body)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn every_vector_verifies_at_its_time_and_parses() {
    let (secret, cases) = cases();
    assert!(cases.len() >= 2);
    for case in &cases {
        let push = verifier(&secret, case.iat + 10)
            .verify(Some(&case.signature), case.body.as_bytes())
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(push.event.event_type, case.name, "{}", case.name);
        assert_eq!(push.metadata.device_id.as_deref(), push.event.device_id());
        assert_eq!(push.metadata.project_id.as_deref(), push.event.project_id());
        if case.name == "temperature" {
            assert!(matches!(push.event.data, EventData::Temperature(ref t) if t.value == Some(27.0)));
        }
        let claims = verifier(&secret, case.exp)
            .verify_signature(Some(&case.signature), case.body.as_bytes())
            .unwrap();
        assert_eq!(claims.expires_at.as_second(), case.exp);
    }
}

#[test]
fn tampering_expiry_and_wrong_secrets_are_refused_in_order() {
    let (secret, cases) = cases();
    let case = &cases[0];
    let at = case.iat + 10;
    let v = verifier(&secret, at);

    let tampered_body = case.body.replace("touch\"}", "touch!\"}");
    assert_ne!(tampered_body, case.body);
    assert_eq!(
        v.verify(Some(&case.signature), tampered_body.as_bytes())
            .unwrap_err(),
        VerifyError::ChecksumMismatch("checksum_sha256")
    );

    let mut tampered_signature = case.signature.clone();
    let last = tampered_signature.pop().unwrap();
    tampered_signature.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(
        v.verify(Some(&tampered_signature), case.body.as_bytes())
            .unwrap_err(),
        VerifyError::BadSignature
    );

    assert_eq!(
        verifier("wrong-secret", at)
            .verify(Some(&case.signature), case.body.as_bytes())
            .unwrap_err(),
        VerifyError::BadSignature
    );
    // A wrong secret is refused before the expiry is even looked at.
    assert_eq!(
        verifier("wrong-secret", case.exp + 3600)
            .verify(Some(&case.signature), case.body.as_bytes())
            .unwrap_err(),
        VerifyError::BadSignature
    );

    let late = verifier(&secret, case.exp + 31).verify(Some(&case.signature), case.body.as_bytes());
    assert!(matches!(late, Err(VerifyError::Expired { .. })), "{late:?}");
    // Within the leeway.
    verifier(&secret, case.exp + 29)
        .verify(Some(&case.signature), case.body.as_bytes())
        .unwrap();
    let early = verifier(&secret, case.iat - 60).verify(Some(&case.signature), case.body.as_bytes());
    assert!(
        matches!(early, Err(VerifyError::IssuedInFuture { .. })),
        "{early:?}"
    );

    assert_eq!(
        v.verify(None, case.body.as_bytes()).unwrap_err(),
        VerifyError::MissingSignature
    );
    assert!(matches!(
        v.verify(Some("a.b"), case.body.as_bytes()),
        Err(VerifyError::Malformed(_))
    ));
}

#[test]
fn alg_none_and_other_algorithms_are_refused() {
    let body = br#"{"event":{}}"#;
    let claims = serde_json::json!({"checksum_sha256": sha256_hex(body), "iat": 1000, "exp": 4000});
    let b64 =
        |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    let none = format!(
        "{}.{}.",
        b64(&serde_json::json!({"alg": "none", "typ": "JWT"})),
        b64(&claims)
    );
    let v = verifier("s", 2000);
    assert_eq!(
        v.verify(Some(&none), body).unwrap_err(),
        VerifyError::Algorithm("none".into())
    );
    let hs512 = sign(&serde_json::json!({"alg": "HS512"}), &claims, "s");
    assert_eq!(
        v.verify(Some(&hs512), body).unwrap_err(),
        VerifyError::Algorithm("HS512".into())
    );
    let no_alg = sign(&serde_json::json!({"typ": "JWT"}), &claims, "s");
    assert!(matches!(
        v.verify(Some(&no_alg), body),
        Err(VerifyError::Algorithm(_))
    ));
}

#[test]
fn missing_claims_and_the_sha1_fallback() {
    let body = br#"{"event":{"eventId":"e","targetName":"projects/p/devices/d","eventType":"touch","data":{"touch":{}},"timestamp":"2024-01-01T00:00:00Z"},"labels":{},"metadata":{}}"#;
    let header = serde_json::json!({"alg": "HS256", "typ": "JWT"});
    let v = verifier("s", 2000);
    for (claims, missing) in [
        (
            serde_json::json!({"checksum_sha256": sha256_hex(body), "iat": 1000}),
            "exp",
        ),
        (
            serde_json::json!({"checksum_sha256": sha256_hex(body), "exp": 4000}),
            "iat",
        ),
        (serde_json::json!({"iat": 1000, "exp": 4000}), "checksum_sha256"),
        (
            serde_json::json!({"checksum_sha256": 5, "iat": 1000, "exp": 4000}),
            "checksum_sha256",
        ),
    ] {
        assert_eq!(
            v.verify(Some(&sign(&header, &claims, "s")), body).unwrap_err(),
            VerifyError::MissingClaim(missing)
        );
    }
    let sha1: String = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, body)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let legacy = sign(
        &header,
        &serde_json::json!({"checksum": sha1, "iat": 1000, "exp": 4000}),
        "s",
    );
    assert_eq!(
        v.verify(Some(&legacy), body).unwrap_err(),
        VerifyError::MissingClaim("checksum_sha256")
    );
    v.clone()
        .allow_legacy_sha1(true)
        .verify(Some(&legacy), body)
        .unwrap();
    let wrong = sign(
        &header,
        &serde_json::json!({"checksum": "00", "iat": 1000, "exp": 4000}),
        "s",
    );
    assert_eq!(
        v.allow_legacy_sha1(true).verify(Some(&wrong), body).unwrap_err(),
        VerifyError::ChecksumMismatch("checksum")
    );
}

#[test]
fn an_authentic_body_that_does_not_parse_is_a_body_error_not_an_auth_error() {
    let body = b"not json";
    let token = sign(
        &serde_json::json!({"alg": "HS256"}),
        &serde_json::json!({"checksum_sha256": sha256_hex(body).to_uppercase(), "iat": 1000, "exp": 4000}),
        "s",
    );
    let err = verifier("s", 2000).verify(Some(&token), body).unwrap_err();
    assert!(matches!(err, VerifyError::Body(_)), "{err:?}");
    assert!(!err.is_unauthorized());
    assert!(VerifyError::BadSignature.is_unauthorized());
}

#[test]
fn the_verifier_never_shows_its_secret() {
    let v = Verifier::new(SecretString::from("top-secret-signing-key"));
    assert!(!format!("{v:?}").contains("top-secret"));
}

#[test]
fn a_push_body_with_a_byte_order_mark_verifies_and_parses() {
    // The checksum covers the bytes as sent, mark included; the JSON after it parses.
    let (secret, cases) = cases();
    let case = &cases[0];
    let body = [b"\xEF\xBB\xBF".as_slice(), case.body.as_bytes()].concat();
    let claims = serde_json::json!({"checksum_sha256": sha256_hex(&body), "iat": case.iat, "exp": case.exp});
    let token = sign(
        &serde_json::json!({"alg": "HS256", "typ": "JWT"}),
        &claims,
        &secret,
    );
    let push = verifier(&secret, case.iat + 1)
        .verify(Some(&token), &body)
        .unwrap();
    let plain = verifier(&secret, case.iat)
        .verify(Some(&case.signature), case.body.as_bytes())
        .unwrap();
    assert_eq!(push, plain, "{}", case.name);
    // A mark anywhere else is not skipped.
    assert!(dt_client::Push::from_body(b" \xEF\xBB\xBF{}").is_err());
}
