//! Reading forwarded objects back from a folder laid out as the platform writes S3 and
//! Blob objects.
#![cfg(feature = "store")]

use forward_types::{ForwardedObjects, MessageKind, StoreError};
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

#[tokio::test]
async fn the_range_is_listed_one_day_at_a_time() {
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path();
    write(root, "2026/01/01/1.json", &format!("[{}]", message("a", 0)));
    write(root, "2026/01/02/1.json", &format!("[{}]", message("b", 0)));
    let objects = ForwardedObjects::from_url(&format!("file://{}", root.display())).unwrap();
    let mut messages = std::pin::pin!(objects.messages(date(2026, 1, 1), date(2026, 1, 3)));
    let first = messages.try_next().await.unwrap().unwrap();
    assert_eq!(first.message.hash_id(), "a");
    // Objects of later days stored now are found: their prefixes are listed only when
    // the stream gets there, not all at the start.
    write(root, "2026/01/02/0.json", &format!("[{}]", message("c", 0)));
    write(root, "2026/01/03/1.json", &format!("[{}]", message("d", 0)));
    let rest: Vec<_> = messages.try_collect().await.unwrap();
    let rest: Vec<(&str, String)> = rest
        .iter()
        .map(|m| (m.message.hash_id(), m.key.to_string()))
        .collect();
    assert_eq!(
        rest,
        [
            ("c", "2026/01/02/0.json".to_owned()),
            ("b", "2026/01/02/1.json".to_owned()),
            ("d", "2026/01/03/1.json".to_owned()),
        ]
    );
}

#[tokio::test]
async fn a_measurement_and_a_notification_sharing_a_hash_id_are_both_read() {
    // The document's two examples share hashId `qoa978`.
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path();
    write(
        root,
        "2023/01/01/1.json",
        include_str!("fixtures/measurement.json"),
    );
    write(
        root,
        "2023/01/01/2.json",
        include_str!("fixtures/notification.json"),
    );
    let objects = ForwardedObjects::from_url(&format!("file://{}", root.display())).unwrap();
    let read: Vec<_> = objects
        .messages(date(2023, 1, 1), date(2023, 1, 1))
        .try_collect()
        .await
        .unwrap();
    let kinds: Vec<_> = read
        .iter()
        .map(|m| (m.message.kind(), m.message.hash_id()))
        .collect();
    assert_eq!(
        kinds,
        [
            (MessageKind::Measurement, "qoa978"),
            (MessageKind::Notification, "qoa978")
        ]
    );
}

#[tokio::test]
async fn a_redelivery_stored_the_next_day_is_still_left_out() {
    let folder = tempfile::tempdir().unwrap();
    let root = folder.path();
    write(root, "2026/01/01/9.json", &format!("[{}]", message("a", 0)));
    write(root, "2026/01/02/1.json", &format!("[{}]", message("a", 1)));
    let objects = ForwardedObjects::from_url(&format!("file://{}", root.display())).unwrap();
    let read: Vec<_> = objects
        .messages(date(2026, 1, 1), date(2026, 1, 2))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].key.to_string(), "2026/01/01/9.json");
}

#[tokio::test]
async fn a_store_is_built_with_the_re_exported_object_store() {
    use forward_types::object_store::{ObjectStoreExt, PutPayload, memory::InMemory, path::Path};
    let store = std::sync::Arc::new(InMemory::new());
    store
        .put(
            &Path::from("fwd/2026/01/02/1.json"),
            PutPayload::from(format!("[{}]", message("a", 0))),
        )
        .await
        .unwrap();
    let objects = ForwardedObjects::new(store, Path::from("fwd"));
    let read: Vec<_> = objects
        .messages(date(2026, 1, 2), date(2026, 1, 2))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(read.len(), 1);
}
