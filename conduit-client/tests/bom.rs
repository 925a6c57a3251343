//! A UTF-8 byte-order mark at the start of a body: the datapoints (keyed, raw or typed)
//! and the JSON answers skip it.

use std::sync::Arc;

use client_core::ManualClock;
use client_core::bytes::Bytes;
use client_core::http::Method;
use client_core::{DecodeOptions, decode};
use conduit_client::{Client, RawDatapoint, Tier};
use futures::TryStreamExt;
use jiff::Timestamp;
use secrecy::SecretString;
use serde_json::Value;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

const BOM: &[u8] = b"\xEF\xBB\xBF";
const POINTS: &[u8] = br#"[{"val_date":"1614054737","dev_netid":70,"dev_chid":"1","val_raw":4.10}]"#;

fn client(server: &MockServer) -> Client {
    Client::builder()
        .base_url(format!("{}/conduitv6", server.uri()))
        .token(SecretString::from("conduit-token"))
        .tier(Tier::Unlimited)
        .clock(Arc::new(ManualClock::new()))
        .build()
        .unwrap()
}

#[tokio::test]
async fn datapoints_with_a_mark_are_read() {
    let server = MockServer::start().await;
    Mock::given(path("/conduitv6/"))
        .respond_with(ResponseTemplate::new(200).set_body_raw([BOM, POINTS].concat(), "application/json"))
        .mount(&server)
        .await;
    let from = Timestamp::from_second(1_614_000_000).unwrap();
    let to = Timestamp::from_second(1_614_086_400).unwrap();
    let typed = client(&server)
        .datapoints()
        .id("70")
        .range(from, to)
        .send()
        .await
        .unwrap();
    assert_eq!(typed.items[0].dev_chid, Some(1));
    let raw = client(&server)
        .datapoints()
        .id("70")
        .range(from, to)
        .records::<RawDatapoint>()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    assert_eq!((raw[0].dev_netid(), raw[0].dev_chid()), (Some("70"), Some(1)));
}

#[tokio::test]
async fn keyed_datapoints_skip_a_mark_split_across_chunks() {
    let body = [BOM, POINTS].concat();
    let chunks: Vec<Result<Bytes, client_core::Error>> = vec![
        Ok(Bytes::copy_from_slice(&body[..1])),
        Ok(Bytes::copy_from_slice(&body[1..])),
    ];
    let points: Vec<RawDatapoint> =
        decode::json_array(futures::stream::iter(chunks), None, DecodeOptions::default())
            .try_collect()
            .await
            .unwrap();
    assert_eq!(
        points[0].val_date(),
        Some(Timestamp::from_second(1_614_054_737).unwrap())
    );
}

#[tokio::test]
async fn a_json_answer_with_a_mark_is_read() {
    let server = MockServer::start().await;
    Mock::given(path("/conduitv6/devices"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw([BOM, br#"{"ok":true}"#].concat(), "application/json"),
        )
        .mount(&server)
        .await;
    let answer: Option<Value> = client(&server)
        .request(Method::GET, "devices")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.unwrap()["ok"], true);
}
