//! Helpers shared by the integration tests.
#![allow(dead_code, missing_docs, unreachable_pub)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use base64::Engine as _;
use wiremock::{Request, Respond, ResponseTemplate};

pub const PFX_PASSWORD: &str = "fixture-pfx-password";

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The form fields of a request body, in a map (fields are unique in token requests).
pub fn form(request: &Request) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(&request.body).into_owned().collect()
}

/// The decoded header and claims of a compact JWS, and its signing input and signature.
pub struct Jws {
    pub header: serde_json::Value,
    pub claims: serde_json::Value,
    pub signing_input: String,
    pub signature: Vec<u8>,
}

pub fn decode_jws(token: &str) -> Jws {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS has three parts");
    let b64 = |s: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .unwrap()
    };
    Jws {
        header: serde_json::from_slice(&b64(parts[0])).unwrap(),
        claims: serde_json::from_slice(&b64(parts[1])).unwrap(),
        signing_input: format!("{}.{}", parts[0], parts[1]),
        signature: b64(parts[2]),
    }
}

/// A token endpoint that issues `token-1`, `token-2`, ... with the given lifetime.
#[derive(Clone)]
pub struct IssueTokens {
    pub issued: Arc<AtomicUsize>,
    pub expires_in: u64,
}

impl IssueTokens {
    pub fn new(expires_in: u64) -> Self {
        IssueTokens {
            issued: Arc::new(AtomicUsize::new(0)),
            expires_in,
        }
    }

    pub fn count(&self) -> usize {
        self.issued.load(Ordering::SeqCst)
    }
}

impl Respond for IssueTokens {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": format!("token-{n}"),
            "token_type": "Bearer",
            "expires_in": self.expires_in,
        }))
    }
}
