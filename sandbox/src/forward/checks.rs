//! The sinks' checks of what arrives, written from the specifications rather than with
//! the platform's own code: SigV4 as S3 checks it, and the Event Hubs SAS.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, Method, Uri};
use base64::Engine as _;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    ring::hmac::sign(&key, data.as_bytes()).as_ref().to_vec()
}

/// The key an S3 sink accepts.
#[derive(Clone, Copy)]
pub(crate) struct S3Key<'a> {
    pub(crate) access_key_id: &'a str,
    pub(crate) secret_access_key: &'a str,
    pub(crate) region: &'a str,
}

/// Checks an S3 request's SigV4 `Authorization`: the access key, the region, the body's
/// `x-amz-content-sha256`, the date within 15 minutes, and the signature over the
/// canonical request (the path as received, the sorted query, the signed headers).
pub(crate) fn sigv4(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    key: &S3Key<'_>,
) -> Result<(), String> {
    let S3Key {
        access_key_id,
        secret_access_key,
        region,
    } = *key;
    let (path, query) = (uri.path(), uri.query());
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| format!("missing {name}"))
    };
    let authorization = header("authorization")?;
    let fields = authorization
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or("not AWS4-HMAC-SHA256")?;
    let mut parts = BTreeMap::new();
    for field in fields.split(',') {
        let (name, value) = field.trim().split_once('=').ok_or("malformed Authorization")?;
        parts.insert(name, value);
    }
    let (Some(credential), Some(signed_headers), Some(signature)) = (
        parts.get("Credential"),
        parts.get("SignedHeaders"),
        parts.get("Signature"),
    ) else {
        return Err("Authorization lacks Credential, SignedHeaders or Signature".into());
    };
    let scope: Vec<&str> = credential.split('/').collect();
    let [key_id, date, scope_region, service, "aws4_request"] = scope.as_slice() else {
        return Err("malformed credential scope".into());
    };
    if *key_id != access_key_id || *scope_region != region || *service != "s3" {
        return Err("unknown access key, or wrong region or service".into());
    }
    let amz_date = header("x-amz-date")?;
    let when = jiff::civil::DateTime::strptime("%Y%m%dT%H%M%SZ", amz_date)
        .map_err(|_| "malformed x-amz-date")?
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(|_| "malformed x-amz-date")?
        .timestamp();
    if (jiff::Timestamp::now() - when).get_seconds().abs() > 15 * 60 {
        return Err("x-amz-date is more than 15 minutes away".into());
    }
    if !amz_date.starts_with(date) {
        return Err("the scope's date is not x-amz-date's".into());
    }
    let payload_hash = header("x-amz-content-sha256")?;
    if payload_hash != hex(ring::digest::digest(&ring::digest::SHA256, body).as_ref()) {
        return Err("x-amz-content-sha256 is not the body's".into());
    }
    let mut canonical_headers = String::new();
    for name in signed_headers.split(';') {
        let value = if name == "host" {
            headers
                .get("host")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
        } else {
            header(name)?
        };
        canonical_headers.push_str(&format!("{name}:{}\n", value.trim()));
    }
    let mut query_pairs: Vec<&str> = query.unwrap_or("").split('&').filter(|p| !p.is_empty()).collect();
    query_pairs.sort_unstable();
    let canonical = format!(
        "{method}\n{path}\n{}\n{canonical_headers}\n{signed_headers}\n{payload_hash}",
        query_pairs.join("&")
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{date}/{region}/s3/aws4_request\n{}",
        hex(ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes()).as_ref())
    );
    let key = hmac(format!("AWS4{secret_access_key}").as_bytes(), date);
    let key = hmac(&key, region);
    let key = hmac(&key, "s3");
    let key = hmac(&key, "aws4_request");
    if hex(&hmac(&key, &string_to_sign)) != *signature {
        return Err("the signature does not verify".into());
    }
    Ok(())
}

/// Checks an Event Hubs `SharedAccessSignature sr=..&sig=..&se=..&skn=..`: the key name,
/// the expiry, and the HMAC-SHA256 of `"<sr>\n<se>"` with the key's UTF-8 bytes.
pub(crate) fn event_hubs_sas(authorization: Option<&str>, key_name: &str, key: &str) -> Result<(), String> {
    let token = authorization
        .and_then(|a| a.strip_prefix("SharedAccessSignature "))
        .ok_or("no SharedAccessSignature")?;
    let fields: BTreeMap<&str, &str> = token.split('&').filter_map(|f| f.split_once('=')).collect();
    let (Some(sr), Some(sig), Some(se), Some(skn)) = (
        fields.get("sr"),
        fields.get("sig"),
        fields.get("se"),
        fields.get("skn"),
    ) else {
        return Err("the SAS lacks sr, sig, se or skn".into());
    };
    if *skn != key_name {
        return Err("unknown key name".into());
    }
    let expiry: i64 = se.parse().map_err(|_| "se is not a number")?;
    if expiry <= jiff::Timestamp::now().as_second() {
        return Err("the SAS expired".into());
    }
    let expected =
        base64::engine::general_purpose::STANDARD.encode(hmac(key.as_bytes(), &format!("{sr}\n{se}")));
    let received: String = url::form_urlencoded::parse(format!("sig={sig}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    if received != expected {
        return Err("the signature does not verify".into());
    }
    Ok(())
}
