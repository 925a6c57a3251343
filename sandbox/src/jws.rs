//! Reading a compact JWS, as the identity endpoints that verify assertions do.

use base64::Engine as _;
use serde_json::Value;

/// A compact JWS taken apart; nothing verified yet.
pub(crate) struct Jws {
    pub(crate) header: Value,
    pub(crate) claims: Value,
    /// `header.claims`, the bytes the signature covers.
    pub(crate) signing_input: String,
    pub(crate) signature: Vec<u8>,
}

/// Splits and decodes `token`, or says why it is not a compact JWS.
pub(crate) fn decode(token: &str) -> Result<Jws, &'static str> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        return Err("not a compact JWS");
    };
    let b64 = |s: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| "bad base64url")
    };
    Ok(Jws {
        header: serde_json::from_slice(&b64(header)?).map_err(|_| "bad header")?,
        claims: serde_json::from_slice(&b64(claims)?).map_err(|_| "bad claims")?,
        signing_input: format!("{header}.{claims}"),
        signature: b64(signature)?,
    })
}
