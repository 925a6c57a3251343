//! The live stream's in-band errors against wiremock: DT's classifier, plugged into the
//! client's pipeline, decides by the error's codes whether the stream reconnects or ends.

use std::sync::Arc;
use std::time::Duration;

use client_core::ManualClock;
use dt_client::{Client, DtError, Error, SecretString, StreamItem};
use futures::StreamExt;
use serde_json::{Value, json};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

const STREAM: &str = "/v2/projects/p1/devices:stream";

fn event_line(id: &str) -> String {
    let event = json!({"eventId": id, "targetName": "projects/p1/devices/d1", "eventType": "touch",
        "data": {"touch": {}}, "timestamp": "2024-01-01T00:00:00Z"});
    format!("{}\n", json!({"result": {"event": event}}))
}

/// A server whose stream answers `bodies` in turn, one per connection, then refuses
/// (403) for good; the history of `d1` is empty.
async fn server(bodies: &[String]) -> MockServer {
    let server = MockServer::start().await;
    for body in bodies {
        Mock::given(path(STREAM))
            .respond_with(ResponseTemplate::new(200).set_body_string(body.clone()))
            .up_to_n_times(1)
            .mount(&server)
            .await;
    }
    Mock::given(path(STREAM))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"error": "forbidden", "code": 403})))
        .mount(&server)
        .await;
    Mock::given(path("/v2/projects/p1/devices/d1/events"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"events": [], "nextPageToken": ""})))
        .mount(&server)
        .await;
    server
}

/// A client of `server` waiting on `clock`.
fn client(server: &MockServer, clock: &ManualClock) -> Client {
    Client::builder()
        .base_url(format!("{}/v2", server.uri()))
        .basic("key-1", SecretString::from("secret-1"))
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap()
}

/// Everything the stream of `d1` yields, the connections it made and the waits between
/// them (on a manual clock).
async fn stream(
    server: &MockServer,
    max_reconnects: u32,
) -> (Vec<Result<StreamItem, Error>>, usize, Vec<Duration>) {
    let clock = ManualClock::new();
    let items: Vec<_> = client(server, &clock)
        .live_events("p1")
        .device_ids(["d1"])
        .reconnects(max_reconnects, Duration::from_secs(1), Duration::from_secs(60))
        .stream()
        .collect()
        .await;
    let connections = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == STREAM)
        .count();
    (items, connections, clock.sleeps())
}

/// The waits were jittered backoffs under these ceilings (seconds), on the client's clock.
fn assert_jittered(sleeps: &[Duration], ceilings: &[u64]) {
    assert_eq!(sleeps.len(), ceilings.len(), "{sleeps:?}");
    for (sleep, ceiling) in sleeps.iter().zip(ceilings) {
        assert!(*sleep <= Duration::from_secs(*ceiling), "{sleeps:?}");
    }
}

fn error_line(error: Value) -> String {
    format!("{}\n", json!({ "error": error }))
}

#[tokio::test]
async fn an_in_band_http_503_in_code_reconnects() {
    // `code` 503 is an HTTP status, not an unknown gRPC code: without DT's classifier
    // in the pipeline the in-band error would end the stream here.
    let server = server(&[
        error_line(json!({"code": 503, "message": "unavailable"})),
        event_line("e1"),
    ])
    .await;
    let (items, connections, sleeps) = stream(&server, 10).await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(
        matches!(&items[0], Ok(StreamItem::Event(e)) if e.event_id == "e1"),
        "{items:?}"
    );
    assert!(matches!(items[1], Err(Error::Forbidden(_))), "{items:?}");
    assert_eq!(connections, 3);
    // One wait after the error, one after the server closed the second connection: the
    // event in between reset the backoff.
    assert_jittered(&sleeps, &[1, 1]);
}

#[tokio::test]
async fn an_in_band_permission_denied_ends_the_stream_as_forbidden() {
    // gRPC PERMISSION_DENIED, and HTTP 403 in either shape: `Forbidden` like the same
    // refusal of any request, with the error object as the body.
    for error in [
        json!({"code": 7, "message": "permission denied"}),
        json!({"code": 403, "message": "permission denied"}),
        json!({"grpcCode": 7, "httpCode": 403, "message": "permission denied"}),
    ] {
        let server = server(&[error_line(error.clone())]).await;
        let (items, connections, sleeps) = stream(&server, 10).await;
        match items.as_slice() {
            [Err(err @ Error::Forbidden(api))] => {
                assert_eq!(api.status, 403, "{error}");
                assert_eq!(api.message.as_deref(), Some("permission denied"), "{error}");
                let body: Value = serde_json::from_str(api.body.as_deref().unwrap()).unwrap();
                assert_eq!(body, error);
                assert!(!err.is_retryable());
            }
            other => panic!("{error}: {other:?}"),
        }
        assert_eq!(connections, 1, "{error}: not reconnected");
        assert!(sleeps.is_empty(), "{error}");
    }
}

#[tokio::test]
async fn an_in_band_unauthenticated_reconnects_then_ends_as_unauthorized() {
    // gRPC UNAUTHENTICATED and HTTP 401 are transient (a fresh token may cure them):
    // reconnected, and once the reconnects are spent the stream ends as `Unauthorized`.
    for error in [
        json!({"code": 16, "message": "unauthenticated"}),
        json!({"httpCode": 401, "message": "unauthenticated"}),
    ] {
        let line = error_line(error.clone());
        let server = server(&[line.clone(), line.clone(), line]).await;
        let (items, connections, sleeps) = stream(&server, 2).await;
        match items.as_slice() {
            [Err(err @ Error::Unauthorized(api))] => {
                assert!(err.is_unauthorized());
                assert_eq!(api.status, 401, "{error}");
                assert_eq!(api.message.as_deref(), Some("unauthenticated"), "{error}");
            }
            other => panic!("{error}: {other:?}"),
        }
        assert_eq!(connections, 3, "{error}: the first connection and two reconnects");
        assert_jittered(&sleeps, &[1, 2]);
    }
}

#[tokio::test]
async fn both_shapes_are_read_by_their_codes() {
    for (error, reconnects) in [
        (
            json!({"grpcCode": 14, "httpCode": 503, "message": "unavailable"}),
            true,
        ),
        (json!({"grpcCode": 16, "message": "unauthenticated"}), true),
        (json!({"httpCode": 429, "message": "slow down"}), true),
        (json!({"message": "no code"}), true),
        (
            json!({"grpcCode": 5, "httpCode": 404, "message": "not found"}),
            false,
        ),
        (json!({"grpcCode": 3, "message": "bad filter"}), false),
        (json!({"httpCode": 400, "message": "bad request"}), false),
        // The HTTP status decides: not a refusal, whatever the gRPC code says.
        (
            json!({"grpcCode": 7, "httpCode": 404, "message": "not found"}),
            false,
        ),
    ] {
        let server = server(&[error_line(error.clone()), event_line("e1")]).await;
        let (items, connections, _) = stream(&server, 10).await;
        if reconnects {
            assert!(
                matches!(&items[0], Ok(StreamItem::Event(_))),
                "{error}: {items:?}"
            );
            assert_eq!(connections, 3, "{error}");
        } else {
            assert_eq!(items.len(), 1, "{error}: {items:?}");
            match &items[0] {
                Err(Error::Api(DtError::Stream {
                    code,
                    http_code,
                    error: sent,
                    ..
                })) => {
                    assert_eq!(sent, &error);
                    assert_eq!(*code, error["grpcCode"].as_i64(), "{error}");
                    assert_eq!(http_code.map(i64::from), error["httpCode"].as_i64(), "{error}");
                }
                other => panic!("{error}: {other:?}"),
            }
            assert_eq!(connections, 1, "{error}");
        }
    }
}

#[tokio::test]
async fn a_transient_error_that_persists_ends_the_stream_after_the_reconnects() {
    let unavailable = error_line(json!({"code": 503, "message": "unavailable"}));
    let server = server(&[unavailable.clone(), unavailable.clone(), unavailable]).await;
    let (items, connections, sleeps) = stream(&server, 2).await;
    match items.as_slice() {
        [
            Err(
                err @ Error::Api(DtError::Stream {
                    http_code: Some(503),
                    code: None,
                    ..
                }),
            ),
        ] => {
            assert!(err.is_retryable());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(connections, 3, "the first connection and two reconnects");
    // Doubling, with full jitter.
    assert_jittered(&sleeps, &[1, 2]);
}

#[tokio::test]
async fn a_message_over_one_mebibyte_ends_the_stream() {
    let huge = format!("{{\"result\":{{\"padding\":\"{}\"}}}}\n", "x".repeat(1024 * 1024));
    let server = server(&[huge]).await;
    let (items, connections, _) = stream(&server, 10).await;
    assert!(matches!(items.as_slice(), [Err(Error::Decode(_))]), "{items:?}");
    assert_eq!(connections, 1);
}

#[tokio::test]
async fn an_sse_message_of_many_data_lines_over_one_mebibyte_ends_the_stream() {
    // Each line is short; only the message they add up to is over the limit, and the
    // event never ends (no blank line): without a cap the client would buffer for ever.
    let line = format!("data: {}\n", "x".repeat(1000));
    let body = format!("data: {{\"result\":\n{}", line.repeat(1100));
    let server = server(&[body]).await;
    let items: Vec<_> = client(&server, &ManualClock::new())
        .live_events("p1")
        .device_ids(["d1"])
        .sse(true)
        .stream()
        .collect()
        .await;
    match items.as_slice() {
        [Err(Error::Decode(err))] => assert!(err.to_string().contains("1048576-byte limit"), "{err}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn margins_at_the_end_of_time_do_not_panic() {
    // An event, a drop, a reconnect: the silence limit is the ping interval plus the
    // margin, and the gap fill starts the margin before the last moment heard.
    let server = server(&[event_line("e1"), event_line("e2")]).await;
    let items: Vec<_> = client(&server, &ManualClock::new())
        .live_events("p1")
        .device_ids(["d1"])
        .liveness_margin(Duration::MAX)
        .backfill_margin(Duration::MAX)
        .stream()
        .collect()
        .await;
    assert!(
        matches!(&items[0], Ok(StreamItem::Event(e)) if e.event_id == "e1"),
        "{items:?}"
    );
    assert!(
        matches!(&items[1], Ok(StreamItem::Event(e)) if e.event_id == "e2"),
        "{items:?}"
    );
    assert!(matches!(items[2], Err(Error::Forbidden(_))), "{items:?}");
    let history = server.received_requests().await.unwrap();
    let fill = history
        .iter()
        .find(|r| r.url.path() == "/v2/projects/p1/devices/d1/events")
        .expect("the gap was filled from history");
    let start = fill.url.query_pairs().find(|(k, _)| k == "startTime").unwrap().1;
    assert!(start.parse::<jiff::Timestamp>().unwrap() < jiff::Timestamp::now());
}

#[tokio::test]
async fn reconnects_honour_retry_after_up_to_the_longest_wait_and_jitter_their_backoff() {
    // Asked 7 s: waited 7 s. Asked 1000 s, more than the longest wait (60 s): waited 60 s,
    // not given up. After an event, the server closing the stream: a jittered backoff.
    for (asked, waited) in [(7, 7), (1000, 60)] {
        let server = MockServer::start().await;
        Mock::given(path(STREAM))
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("retry-after", asked.to_string().as_str())
                    .set_body_json(json!({"error": "slow down", "code": 429})),
            )
            .up_to_n_times(1)
            .mount(&server)
            .await;
        let server = {
            // The event, then refused for good.
            for body in [event_line("e1")] {
                Mock::given(path(STREAM))
                    .respond_with(ResponseTemplate::new(200).set_body_string(body))
                    .up_to_n_times(1)
                    .mount(&server)
                    .await;
            }
            Mock::given(path(STREAM))
                .respond_with(
                    ResponseTemplate::new(403).set_body_json(json!({"error": "forbidden", "code": 403})),
                )
                .mount(&server)
                .await;
            Mock::given(path("/v2/projects/p1/devices/d1/events"))
                .respond_with(
                    ResponseTemplate::new(200).set_body_json(json!({"events": [], "nextPageToken": ""})),
                )
                .mount(&server)
                .await;
            server
        };
        let clock = ManualClock::new();
        let client = Client::builder()
            .base_url(format!("{}/v2", server.uri()))
            .basic("key-1", SecretString::from("secret-1"))
            .retry_policy(client_core::RetryPolicy::none())
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap();
        let items: Vec<_> = client
            .live_events("p1")
            .device_ids(["d1"])
            .stream()
            .collect()
            .await;
        assert!(
            matches!(&items[0], Ok(StreamItem::Event(e)) if e.event_id == "e1"),
            "{items:?}"
        );
        assert!(matches!(items[1], Err(Error::Forbidden(_))), "{items:?}");
        let sleeps = clock.sleeps();
        assert_eq!(sleeps.len(), 2, "{sleeps:?}");
        assert_eq!(sleeps[0], Duration::from_secs(waited), "asked {asked}");
        assert!(sleeps[1] < Duration::from_secs(1), "jittered: {sleeps:?}");
    }
}

#[tokio::test]
async fn an_event_that_does_not_decode_is_an_error_item_and_not_taken_for_yielded() {
    /// A record type that needs `extra`: the live copy lacks it, the history's has it.
    #[derive(Debug, serde::Deserialize)]
    struct Strict {
        #[serde(rename = "eventId")]
        event_id: String,
        #[allow(dead_code)]
        extra: u32,
    }
    let now = jiff::Timestamp::now().to_string();
    let live = json!({"eventId": "e1", "targetName": "projects/p1/devices/d1", "eventType": "touch",
        "data": {"touch": {}}, "timestamp": now});
    let mut stored = live.clone();
    stored["extra"] = json!(1);
    let server = MockServer::start().await;
    // The event, then a connection that closes at once, then refused for good.
    for (status, body, times) in [
        (200, format!("{}\n", json!({"result": {"event": live}})), 1),
        (200, String::new(), 1),
        (403, json!({"error": "forbidden", "code": 403}).to_string(), 100),
    ] {
        Mock::given(path(STREAM))
            .respond_with(ResponseTemplate::new(status).set_body_string(body))
            .up_to_n_times(times)
            .mount(&server)
            .await;
    }
    // History: empty on the first connection, the event on the reconnect.
    Mock::given(path("/v2/projects/p1/devices/d1/events"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"events": [], "nextPageToken": ""})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/v2/projects/p1/devices/d1/events"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"events": [stored], "nextPageToken": ""})),
        )
        .mount(&server)
        .await;
    let items: Vec<_> = client(&server, &ManualClock::new())
        .live_events("p1")
        .device_ids(["d1"])
        .records::<Strict>()
        .stream()
        .collect()
        .await;
    assert!(matches!(&items[0], Err(Error::Decode(_))), "{items:?}");
    assert!(
        matches!(&items[1], Ok(StreamItem::Event(e)) if e.event_id == "e1"),
        "read again from history: {items:?}"
    );
    assert!(matches!(items[2], Err(Error::Forbidden(_))), "{items:?}");
}

#[tokio::test]
async fn an_in_band_error_echoing_the_credentials_shows_them_redacted() {
    // The server quotes the Basic password and the whole Authorization value back: the
    // error kept for the user (its body, message, Display and Debug) holds neither.
    let basic = "a2V5LTE6c2VjcmV0LTE="; // base64("key-1:secret-1")
    let error = json!({"code": 7, "message": format!("denied for secret-1 (Basic {basic})")});
    let server = server(&[error_line(error)]).await;
    let (items, _, _) = stream(&server, 10).await;
    let [Err(err @ Error::Forbidden(api))] = items.as_slice() else {
        panic!("{items:?}");
    };
    let shown = format!("{err} {err:?} {:?} {:?}", api.body, api.message);
    assert!(!shown.contains("secret-1") && !shown.contains(basic), "{shown}");
    assert!(api.body.as_deref().unwrap().contains("[REDACTED]"), "{shown}");
}
