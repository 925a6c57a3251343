//! A UTF-8 byte-order mark at the start of a body: the live stream (both framings),
//! however the chunks cut the mark, and the list pages skip it.

use std::sync::Arc;

use client_core::ManualClock;
use client_core::bytes::Bytes;
use dt_client::fuzzing::{Message, stream_messages};
use dt_client::{Client, Error, StreamItem};
use futures::StreamExt;
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

const BOM: &[u8] = b"\xEF\xBB\xBF";

fn event(id: &str) -> serde_json::Value {
    json!({"result": {"event": {"eventId": id, "targetName": "projects/p1/devices/d1", "eventType": "touch",
        "data": {"touch": {}}, "timestamp": "2024-01-01T00:00:00Z"}}})
}

/// A live-stream body in each framing, with a mark in front.
fn bodies() -> [(bool, Vec<u8>); 2] {
    [
        (
            false,
            [BOM, format!("{}\n{}\n", event("e1"), event("e2")).as_bytes()].concat(),
        ),
        (
            true,
            [
                BOM,
                format!("data: {}\n\ndata: {}\n\n", event("e1"), event("e2")).as_bytes(),
            ]
            .concat(),
        ),
    ]
}

fn basic(server: &MockServer) -> Client {
    Client::builder()
        .base_url(format!("{}/v2", server.uri()))
        .basic("key-1", SecretString::from("secret-1"))
        .clock(Arc::new(ManualClock::new()))
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_live_framings_skip_a_mark_however_the_chunks_cut_it() {
    for (sse, body) in bodies() {
        for cut in [1, 2, 3, 4, body.len()] {
            let chunks: Vec<Result<Bytes, client_core::Error>> = vec![
                Ok(Bytes::copy_from_slice(&body[..cut])),
                Ok(Bytes::copy_from_slice(&body[cut..])),
            ];
            let messages: Vec<_> = stream_messages(futures::stream::iter(chunks), sse)
                .collect()
                .await;
            let ids: Vec<String> = messages
                .iter()
                .map(|m| match m {
                    Ok(Message::Event(e)) => e.event_id.clone(),
                    other => panic!("sse {sse}, cut at {cut}: {other:?}"),
                })
                .collect();
            assert_eq!(ids, ["e1", "e2"], "sse {sse}, cut at {cut}");
        }
    }
}

#[tokio::test]
async fn a_live_stream_with_a_mark_yields_its_first_event() {
    for (sse, body) in bodies() {
        let server = MockServer::start().await;
        let content_type = if sse {
            "text/event-stream"
        } else {
            "application/x-ndjson"
        };
        Mock::given(path("/v2/projects/p1/devices:stream"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(body, content_type))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(path("/v2/projects/p1/devices:stream"))
            .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": "gone", "code": 5})))
            .mount(&server)
            .await;
        Mock::given(path("/v2/projects/p1/devices/d1/events"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"events": [], "nextPageToken": ""})),
            )
            .mount(&server)
            .await;
        let items: Vec<_> = basic(&server)
            .live_events("p1")
            .device_ids(["d1"])
            .sse(sse)
            .stream()
            .collect()
            .await;
        assert!(
            matches!(&items[0], Ok(StreamItem::Event(e)) if e.event_id == "e1"),
            "sse {sse}: {items:?}"
        );
        assert!(
            matches!(&items[1], Ok(StreamItem::Event(e)) if e.event_id == "e2"),
            "sse {sse}: {items:?}"
        );
        assert!(
            matches!(items[2], Err(Error::NotFound(_))),
            "sse {sse}: {items:?}"
        );
    }
}

#[tokio::test]
async fn a_list_page_with_a_mark_is_read() {
    let server = MockServer::start().await;
    let page = json!({"dataConnectors": [{"name": "projects/p1/dataconnectors/c1"}], "nextPageToken": ""});
    Mock::given(path("/v2/projects/p1/dataconnectors"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw([BOM, page.to_string().as_bytes()].concat(), "application/json"),
        )
        .mount(&server)
        .await;
    let page = basic(&server).data_connectors("p1").send().await.unwrap();
    assert_eq!(page.items[0].id(), Some("c1"));
}
