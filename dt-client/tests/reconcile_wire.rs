//! Reconciliation against wiremock: the requests it makes (the connector, the device
//! list, each device's history with the connector's event types and the range), and
//! what it makes of the answers: time order across devices, an event history repeats
//! given once, a type outside the scope left out, labels and metadata as a push has
//! them, the event's text kept.

mod common;

use dt_client::{ClientError, MissingPush, ReceivedIds};
use futures::TryStreamExt;
use jiff::Timestamp;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use common::wiremock_client as client;

fn event(id: &str, device: &str, event_type: &str, at: &str) -> Value {
    json!({
        "eventId": id,
        "targetName": format!("projects/p1/devices/{device}"),
        "eventType": event_type,
        "data": {event_type: {"updateTime": at}},
        "timestamp": at,
    })
}

async fn mount(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/v2/projects/p1/dataconnectors/c1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "name": "projects/p1/dataconnectors/c1",
            "type": "HTTP_PUSH",
            "status": "ACTIVE",
            "events": ["touch", "temperature"],
            "labels": ["name", "floor"],
            "httpConfig": {"url": "https://receiver.example/push"},
        })))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/projects/p1/devices"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "devices": [
                {"name": "projects/p1/devices/dA", "type": "touch", "productNumber": "102058",
                 "labels": {"name": "door", "floor": "2", "owner": "x"}},
                {"name": "projects/p1/devices/dB", "type": "temperature", "labels": {"name": "fridge"}},
            ],
            "nextPageToken": "",
        })))
        .mount(server)
        .await;
    // dA: newest first, with an event repeated; dB: one of a type outside the scope.
    Mock::given(method("GET"))
        .and(path("/v2/projects/p1/devices/dA/events"))
        .respond_with(ResponseTemplate::new(200).set_body_string(format!(
            r#"{{"events": [{}, {},
  {}], "nextPageToken": ""}}"#,
            serde_json::to_string_pretty(&event("a3", "dA", "touch", "2026-11-01T00:00:30Z")).unwrap(),
            event("a2", "dA", "touch", "2026-11-01T00:00:20Z"),
            event("a2", "dA", "touch", "2026-11-01T00:00:20Z"),
        )))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/projects/p1/devices/dB/events"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "events": [
                event("b1", "dB", "temperature", "2026-11-01T00:00:10Z"),
                event("b2", "dB", "humidity", "2026-11-01T00:00:15Z"),
                event("b3", "dB", "temperature", "2026-11-01T00:00:25Z"),
                event("b4", "dB", "temperature", "2026-11-01T00:00:30Z"),
            ],
            "nextPageToken": "",
        })))
        .mount(server)
        .await;
}

fn range() -> (Timestamp, Timestamp) {
    (
        "2026-11-01T00:00:00Z".parse().unwrap(),
        "2026-11-02T00:00:00Z".parse().unwrap(),
    )
}

fn query(request: &Request) -> Vec<(String, String)> {
    request.url.query_pairs().into_owned().collect()
}

#[tokio::test]
async fn the_missing_events_come_in_time_order_once_each_as_push_bodies() {
    let server = MockServer::start().await;
    mount(&server).await;
    let (from, to) = range();
    let received: ReceivedIds = ["b3", "unrelated"].into_iter().collect();
    let mut stream = client(&server)
        .reconcile("p1", "c1")
        .range(from, to)
        .received(received)
        .stream();
    let mut missing: Vec<MissingPush> = Vec::new();
    while let Some(push) = stream.try_next().await.unwrap() {
        missing.push(push);
    }
    let ids: Vec<&str> = missing.iter().map(|p| p.event_id.as_str()).collect();
    // Time order across devices; at 00:00:30 the device listed first comes first.
    assert_eq!(ids, ["b1", "a2", "a3", "b4"]);
    let summary = stream.summary();
    assert_eq!(
        (
            summary.received,
            summary.in_history,
            summary.missing,
            summary.devices
        ),
        (2, 5, 4, 2)
    );

    let a2 = &missing[1];
    assert_eq!(a2.device_id, "dA");
    assert_eq!(a2.timestamp, "2026-11-01T00:00:20Z".parse::<Timestamp>().unwrap());
    // The event's text as history sent it, the labels of the
    // connector's keys, the metadata from the device list.
    let expected_event = event("a2", "dA", "touch", "2026-11-01T00:00:20Z").to_string();
    assert_eq!(
        a2.as_str(),
        format!(
            r#"{{"event":{expected_event},"labels":{{"floor":"2","name":"door"}},"metadata":{{"deviceId":"dA","deviceType":"touch","productNumber":"102058","projectId":"p1"}}}}"#
        )
    );
    let b1: Value = serde_json::from_str(missing[0].as_str()).unwrap();
    assert_eq!(
        b1["labels"],
        json!({"name": "fridge"}),
        "a key the device lacks is left out"
    );
    assert_eq!(
        b1["metadata"],
        json!({"deviceId": "dB", "deviceType": "temperature", "projectId": "p1"})
    );
    // An event sent over several lines is given on one, the same JSON.
    assert!(!missing[2].as_str().contains('\n'));
    let a3: Value = serde_json::from_str(missing[2].as_str()).unwrap();
    assert_eq!(a3["event"], event("a3", "dA", "touch", "2026-11-01T00:00:30Z"));

    let requests = server.received_requests().await.unwrap();
    let paths: Vec<&str> = requests.iter().map(|r| r.url.path()).collect();
    assert_eq!(
        paths[..2],
        ["/v2/projects/p1/dataconnectors/c1", "/v2/projects/p1/devices"]
    );
    let history = requests
        .iter()
        .find(|r| r.url.path() == "/v2/projects/p1/devices/dA/events")
        .unwrap();
    let pairs = query(history);
    let types: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "eventTypes")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(types, ["touch", "temperature"]);
    assert!(pairs.contains(&("endTime".to_owned(), "2026-11-02T00:00:00Z".to_owned())));
    assert!(pairs.iter().any(|(k, _)| k == "startTime"));
}

#[tokio::test]
async fn a_missing_range_is_refused_and_a_failed_read_ends_the_stream() {
    let server = MockServer::start().await;
    let client = client(&server);
    let error = client.reconcile("p1", "c1").to_request().unwrap_err();
    assert!(matches!(error, ClientError::InvalidRequest(_)), "{error:?}");
    let (from, to) = range();
    let error = client
        .reconcile("p1", "c1")
        .range(to, from)
        .stream()
        .try_next()
        .await
        .unwrap_err();
    assert!(matches!(error, ClientError::InvalidRequest(_)), "{error:?}");
    let preview = client.reconcile("p1", "c1").range(from, to).to_request().unwrap();
    assert_eq!(preview.url.path(), "/v2/projects/p1/dataconnectors/c1");
    assert!(server.received_requests().await.unwrap().is_empty());

    Mock::given(method("GET"))
        .and(path("/v2/projects/p1/dataconnectors/c1"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": "not found", "code": 404})))
        .mount(&server)
        .await;
    let error = client
        .reconcile("p1", "c1")
        .range(from, to)
        .stream()
        .try_next()
        .await
        .unwrap_err();
    assert!(matches!(error, ClientError::NotFound(_)), "{error:?}");
}

#[tokio::test]
async fn a_spill_directory_where_no_file_can_be_made_fails_before_history_is_read() {
    let server = MockServer::start().await;
    mount(&server).await;
    let (from, to) = range();
    let error = client(&server)
        .reconcile("p1", "c1")
        .range(from, to)
        .spill_dir("/nonexistent/spill")
        .stream()
        .try_next()
        .await
        .unwrap_err();
    assert!(matches!(error, ClientError::Io(_)), "{error:?}");
    let requests = server.received_requests().await.unwrap();
    assert!(requests.iter().all(|r| !r.url.path().ends_with("/events")));
}
