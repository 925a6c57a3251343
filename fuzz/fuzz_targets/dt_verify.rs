#![no_main]
//! DT push verification with a fixed secret: any token and body is a typed refusal or a
//! verified push, never a panic. Half the inputs are tokens signed with the secret over
//! fuzzed header and claims, so the claim, time and checksum checks are reached too.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dt_client::{Verifier, VerifyError, jiff::Timestamp, secrecy::SecretString};
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "fuzz-signature-secret";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let now = Timestamp::from_second(1_700_000_000).expect("a valid instant");
    let verifier = Verifier::new(SecretString::from(SECRET))
        .at(now)
        .allow_legacy_sha1(mode & 2 != 0);
    // The input is `token \0 body` (or `header \0 claims \0 body` when signed).
    let mut parts = rest.splitn(3, |&b| b == 0);
    let (first, second, third) = (parts.next().unwrap_or_default(), parts.next(), parts.next());
    let (token, body) = if mode & 1 == 0 {
        (
            String::from_utf8_lossy(first).into_owned(),
            second.unwrap_or_default(),
        )
    } else {
        let body = third.unwrap_or_default();
        let claims = second.unwrap_or_default();
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(first),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, SECRET.as_bytes());
        let tag = ring::hmac::sign(&key, signing_input.as_bytes());
        (
            format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref())),
            body,
        )
    };
    let header = (mode & 4 == 0).then_some(token.as_str());
    match verifier.verify(header, body) {
        Ok(push) => {
            let _ = format!("{push:?}");
        }
        Err(err) => {
            let _ = err.to_string();
            let _ = err.is_unauthorized();
            if let VerifyError::Body(_) = err {
                // Only a verified push reaches the body.
                assert!(verifier.verify_signature(header, body).is_ok());
            }
        }
    }
});
