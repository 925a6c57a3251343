//! SigV4 against the AWS documentation's S3 PUT example ("Signature Calculations for
//! the Authorization Header", Example: PUT Object).

use std::time::{Duration, SystemTime};

use client_core::auth::SigV4;
use http::{HeaderMap, HeaderValue, Method};
use secrecy::SecretString;

fn documented_signer() -> SigV4 {
    SigV4::builder()
        .access_key_id("AKIAIOSFODNN7EXAMPLE")
        .secret_access_key(SecretString::from("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"))
        .region("us-east-1")
        .build()
        .unwrap()
}

#[test]
fn the_documented_s3_put_object_signature() {
    // The object `test$file.text`, its path encoded once as it goes on the wire.
    let url = "https://examplebucket.s3.amazonaws.com/test%24file.text"
        .parse()
        .unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("date", HeaderValue::from_static("Fri, 24 May 2013 00:00:00 GMT"));
    headers.insert(
        "x-amz-storage-class",
        HeaderValue::from_static("REDUCED_REDUNDANCY"),
    );
    // 20130524T000000Z
    let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_369_353_600);
    let signed = documented_signer()
        .sign(&Method::PUT, &url, &headers, b"Welcome to Amazon S3.", time)
        .unwrap();
    assert_eq!(
        signed["x-amz-content-sha256"],
        "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
    );
    assert_eq!(signed["x-amz-date"], "20130524T000000Z");
    assert_eq!(
        signed["authorization"].to_str().unwrap(),
        // The documentation separates the parts with "," and the signer with ", ": S3
        // accepts both; the signature is the documented one.
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
         SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, \
         Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
    );
    assert!(signed["authorization"].is_sensitive());
}

#[test]
fn a_session_token_is_signed_and_nothing_secret_is_shown() {
    let signer = SigV4::builder()
        .access_key_id("AKID")
        .secret_access_key(SecretString::from("very-secret-access-key"))
        .session_token(SecretString::from("very-secret-session-token"))
        .region("eu-west-1")
        .build()
        .unwrap();
    let url = "https://bucket.s3.eu-west-1.amazonaws.com/2026/01/02/1767312000000"
        .parse()
        .unwrap();
    let signed = signer
        .sign(&Method::PUT, &url, &HeaderMap::new(), b"[]", SystemTime::now())
        .unwrap();
    assert_eq!(
        signed["x-amz-security-token"].to_str().unwrap(),
        "very-secret-session-token"
    );
    assert!(signed["x-amz-security-token"].is_sensitive());
    assert!(
        signed["authorization"]
            .to_str()
            .unwrap()
            .contains("x-amz-security-token")
    );
    let shown = format!("{signer:?} {signed:?}");
    assert!(!shown.contains("very-secret"), "{shown}");
    assert!(SigV4::builder().access_key_id("a").region("r").build().is_err());
}
