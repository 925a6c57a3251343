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
