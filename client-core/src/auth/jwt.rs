//! The few JWT pieces the grants need: compact serialisation, HS256, random ids.

use base64::Engine as _;
use ring::rand::{SecureRandom, SystemRandom};
use serde::Serialize;

use crate::error::{Error, Result};

/// base64url without padding, as JWS uses it.
pub(crate) fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `base64url(header) . base64url(claims)`: the bytes a JWS signature covers.
pub(crate) fn signing_input(header: &impl Serialize, claims: &impl Serialize) -> Result<String> {
    let header =
        serde_json::to_vec(header).map_err(|e| Error::auth(format!("cannot encode JWT header: {e}")))?;
    let claims =
        serde_json::to_vec(claims).map_err(|e| Error::auth(format!("cannot encode JWT claims: {e}")))?;
    Ok(format!("{}.{}", b64url(&header), b64url(&claims)))
}

/// Appends the signature to a signing input: the compact JWS.
pub(crate) fn compact(signing_input: &str, signature: &[u8]) -> String {
    format!("{signing_input}.{}", b64url(signature))
}

/// HMAC-SHA256 over the signing input.
pub(crate) fn hs256(secret: &[u8], signing_input: &str) -> Vec<u8> {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    ring::hmac::sign(&key, signing_input.as_bytes()).as_ref().to_vec()
}

/// A random 128-bit id in UUID text form, for `jti`.
pub(crate) fn random_id() -> Result<String> {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Error::auth("the system random generator failed"))?;
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

/// Seconds since the Unix epoch, from the system clock (JWT times are wall-clock times).
pub(crate) fn now_seconds() -> i64 {
    jiff::Timestamp::now().as_second()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hs256_matches_rfc_7515_appendix_a1() {
        // RFC 7515 A.1: the HMAC key and signing input of the example, and its signature.
        let key = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")
            .unwrap();
        let input = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
        assert_eq!(
            b64url(&hs256(&key, input)),
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        );
    }

    #[test]
    fn random_ids_are_uuid_shaped_and_differ() {
        let a = random_id().unwrap();
        let b = random_id().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
    }
}
