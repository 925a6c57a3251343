//! Reading forwarded objects back from a folder laid out as the platform writes S3 and
//! Blob objects.
#![cfg(feature = "store")]

use forward_types::{ForwardedObjects, StoreError};
use futures::TryStreamExt;
use jiff::civil::date;

fn message(hash: &str, attempt: u32) -> String {
    format!(
        r#"{{"hashId":"{hash}","environmentHashId":"env","observations":[{{"hashId":"n1","object":"device","action":"add","device":{{"identifier":"d"}},"createdAt":"2026-01-01T00:00:00.000Z","updatedAt":"2026-01-01T00:00:00.000Z","deletedAt":null}}],"generatedAt":"2026-01-01T00:00:00.000Z","attempt":{attempt}}}"#
    )
}

fn write(root: &std::path::Path, key: &str, body: &str) {
    let path = root.join(key);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, body).unwrap();
}

#[tokio::test]
async fn messages_come_in_key_order_once_each() {
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path();
    write(root, "2026/01/02/1000.json", &format!("[{}]", message("c", 0)));
    write(
        root,
        "2026/01/02/999.json",
        &format!("[{},{}]", message("a", 0), message("b", 0)),
    );
    // A redelivery of `a`, stored later: left out.
    write(root, "2026/01/02/1001.json", &format!("[{}]", message("a", 1)));
    write(root, "2026/01/04/5.json", &format!("[{}]", message("d", 0)));
    // Outside the dates asked for.
    write(root, "2026/01/05/1.json", &format!("[{}]", message("e", 0)));
    write(root, "README.txt", "not under a date prefix");
    let objects = ForwardedObjects::from_url(&format!("file://{}", root.display())).unwrap();
    let read: Vec<_> = objects
        .messages(date(2026, 1, 1), date(2026, 1, 4))
        .try_collect()
        .await
        .unwrap();
    let seen: Vec<(&str, u32, &str)> = read
        .iter()
        .map(|m| (m.message.hash_id(), m.message.attempt(), m.key.timestamp()))
        .collect();
    assert_eq!(
        seen,
        [("a", 0, "999"), ("b", 0, "999"), ("c", 0, "1000"), ("d", 0, "5")]
    );
}

#[tokio::test]
async fn foreign_objects_and_bad_bodies_are_errors() {
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path();
    write(root, "2026/01/02/notes/extra.txt", "x");
    let objects = ForwardedObjects::from_url(&format!("file://{}", root.display())).unwrap();
    let err = objects
        .messages(date(2026, 1, 2), date(2026, 1, 2))
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ForeignObject { .. }), "{err:?}");

    let folder = tempfile::tempdir().unwrap();
    write(folder.path(), "2026/01/02/7.json", "[{\"hashId\": 5}]");
    let objects = ForwardedObjects::from_url(&format!("file://{}", folder.path().display())).unwrap();
    let err = objects
        .messages(date(2026, 1, 2), date(2026, 1, 2))
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Decode { key, .. } if key.ends_with("7.json")),
        "{err:?}"
    );

    assert!(matches!(
        ForwardedObjects::from_url("ftp://host/x"),
        Err(StoreError::Config(_))
    ));
}
