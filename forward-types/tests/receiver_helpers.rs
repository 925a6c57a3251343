//! Object keys of S3 and Azure Blob destinations.

use forward_types::ObjectKey;
use jiff::civil::date;

#[test]
fn s3_and_blob_keys_parse_and_build() {
    let key = ObjectKey::parse("2026/05/31/1780174800000").unwrap();
    assert_eq!(key.date(), date(2026, 5, 31));
    assert_eq!(key.timestamp(), "1780174800000");
    assert!(!key.has_json_suffix());
    assert_eq!(key.to_string(), "2026/05/31/1780174800000");

    let blob = ObjectKey::parse("/container/prefix/2023/01/02/2023-01-02T12:00:00.000Z.json").unwrap();
    assert_eq!(blob.date(), date(2023, 1, 2));
    assert_eq!(blob.timestamp(), "2023-01-02T12:00:00.000Z");
    assert!(blob.has_json_suffix());
    assert_eq!(blob.to_string(), "2023/01/02/2023-01-02T12:00:00.000Z.json");

    assert_eq!(
        ObjectKey::s3(date(2026, 1, 9), "42").unwrap().to_string(),
        "2026/01/09/42"
    );
    assert_eq!(
        ObjectKey::azure_blob(date(2026, 1, 9), "42").unwrap().to_string(),
        "2026/01/09/42.json"
    );
    let built = ObjectKey::azure_blob(date(2024, 2, 29), "t").unwrap();
    assert_eq!(built.to_string().parse::<ObjectKey>().unwrap(), built);
}

#[test]
fn invalid_keys_are_refused() {
    for bad in [
        "",
        "2026/05/31",
        "2026/5/31/t",
        "26/05/31/t",
        "2026/13/01/t",
        "2026/02/30/t",
        "2026/05/31/",
        "2026/05/31/.json",
        "abcd/05/31/t",
    ] {
        assert!(ObjectKey::parse(bad).is_err(), "{bad}");
    }
    assert!(ObjectKey::s3(date(2026, 1, 1), "a/b").is_err());
    assert!(ObjectKey::s3(date(2026, 1, 1), "").is_err());
}

#[test]
fn a_body_above_the_limit_is_refused_before_parsing() {
    use forward_types::{DecodeErrorKind, MAX_BODY_BYTES, decode_body};
    // Valid JSON all the way (an array padded with blanks): only the size is wrong.
    let mut body = vec![b' '; MAX_BODY_BYTES + 1];
    body[0] = b'[';
    body[MAX_BODY_BYTES] = b']';
    let err = decode_body(&body).unwrap_err();
    assert_eq!(err.kind(), DecodeErrorKind::TooLarge, "{err}");
    assert!(err.to_string().contains(&MAX_BODY_BYTES.to_string()), "{err}");
    body.truncate(MAX_BODY_BYTES);
    body[MAX_BODY_BYTES - 1] = b']';
    assert_eq!(decode_body(&body).unwrap(), []);
}

#[test]
fn the_header_check_takes_an_http_header_map() {
    use forward_types::http::{HeaderMap, HeaderValue};
    use forward_types::{SecretString, StaticHeaderCheck};
    let check = StaticHeaderCheck::new("X-Forward-Secret", SecretString::from("s3cret")).unwrap();
    let mut headers = HeaderMap::new();
    assert!(!check.verify(&headers));
    headers.insert("x-forward-secret", HeaderValue::from_static("s3cret"));
    assert!(check.verify(&headers));
    assert!(StaticHeaderCheck::new("X-Forward-Secret", SecretString::from("")).is_err());
}
