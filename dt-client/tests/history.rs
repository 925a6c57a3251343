//! The event history against wiremock: the half-open range, and the lossless copy (each
//! event's text exactly as sent, one per line).

use std::sync::Arc;

use client_core::ManualClock;
use dt_client::{Client, Error, RawEvent, SecretString};
use futures::TryStreamExt;
use jiff::Timestamp;
use wiremock::matchers::{path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const HISTORY: &str = "/v2/projects/p1/devices/d1/events";

/// Events as the server writes them: spaces and member order of its own.
const E1: &str = r#"{"eventId": "e1", "targetName": "projects/p1/devices/d1", "eventType": "touch", "data": {"touch": {}}, "timestamp": "2024-01-01T00:00:00Z"}"#;
const E2: &str = r#"{ "timestamp":"2024-01-01T00:30:00.123456789Z","eventId":"e2","targetName":"projects/p1/devices/d1","eventType":"touch","data":{"touch":{}},"future":1 }"#;
/// At the range's end: the API's `endTime` includes it, the half-open range does not.
const E3: &str = r#"{"eventId":"e3","targetName":"projects/p1/devices/d1","eventType":"touch","data":{"touch":{}},"timestamp":"2024-01-01T01:00:00Z"}"#;

fn range() -> (Timestamp, Timestamp) {
    (
        "2024-01-01T00:00:00Z".parse().unwrap(),
        "2024-01-01T01:00:00Z".parse().unwrap(),
    )
}

async fn server(second_page: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path(HISTORY))
        .and(query_param("pageToken", "t2"))
        .respond_with(second_page)
        .mount(&server)
        .await;
    Mock::given(path(HISTORY))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(format!(r#"{{"events": [{E1}, {E2}], "nextPageToken": "t2"}}"#)),
        )
        .mount(&server)
        .await;
    server
}

fn both_pages() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_string(format!(r#"{{"events":[{E3}],"nextPageToken":""}}"#))
}

fn client(server: &MockServer) -> Client {
    Client::builder()
        .base_url(format!("{}/v2", server.uri()))
        .basic("key-1", SecretString::from("secret-1"))
        .clock(Arc::new(ManualClock::new()))
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_range_is_half_open() {
    let server = server(both_pages()).await;
    let (from, to) = range();
    let events: Vec<_> = client(&server)
        .events("p1", "d1")
        .range(from, to)
        .stream()
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(ids, ["e1", "e2"], "the event at `to` belongs to the next range");
    let first = client(&server)
        .events("p1", "d1")
        .range(from, to)
        .records::<RawEvent>()
        .send()
        .await
        .unwrap();
    assert_eq!(first.items.len(), 2);
    assert!(!first.is_last());
}

#[tokio::test]
async fn copy_to_writes_each_event_as_sent_one_per_line() {
    let server = server(both_pages()).await;
    let (from, to) = range();
    let mut out = Vec::new();
    let written = client(&server)
        .events("p1", "d1")
        .range(from, to)
        .copy_to(&mut out)
        .await
        .unwrap();
    let expected = format!("{E1}\n{E2}\n");
    assert_eq!(String::from_utf8(out).unwrap(), expected);
    assert_eq!(
        (written.requests, written.records, written.bytes),
        (2, 2, expected.len() as u64)
    );
}

#[tokio::test]
async fn write_to_leaves_no_file_when_a_page_fails() {
    let dir = std::env::temp_dir().join(format!("dt-client-history-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (from, to) = range();

    let file = dir.join("complete.ndjson");
    let complete = server(both_pages()).await;
    let written = client(&complete)
        .events("p1", "d1")
        .range(from, to)
        .write_to(&file)
        .await
        .unwrap();
    assert_eq!(written.records, 2);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), format!("{E1}\n{E2}\n"));

    let file = dir.join("failed.ndjson");
    let failing = server(ResponseTemplate::new(404).set_body_string(r#"{"error":"gone","code":404}"#)).await;
    let err = client(&failing)
        .events("p1", "d1")
        .range(from, to)
        .write_to(&file)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    assert!(!file.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
