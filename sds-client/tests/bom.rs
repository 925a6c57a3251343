//! A UTF-8 byte-order mark at the start of a body: SDS's envelopes (observations pages,
//! lists, data-query responses) skip it.

use futures::TryStreamExt;
use sds_client::Observation;
use serde_json::json;
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

mod common;
use common::{at, wire_client as client};

const BOM: &[u8] = b"\xEF\xBB\xBF";

fn with_bom(document: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(
        [BOM, document.to_string().as_bytes()].concat(),
        "application/json",
    )
}

#[tokio::test]
async fn an_observations_page_with_a_mark_is_read() {
    let server = MockServer::start().await;
    let base = at("2022-09-22T10:15:30Z").as_millisecond();
    Mock::given(path("/sensor-data/observations"))
        .respond_with(with_bom(json!({"pageTotal": 1, "observations": [
            {"timestamp": base, "value": 1.5}, {"timestamp": base + 1000, "value": 2.5}
        ]})))
        .mount(&server)
        .await;
    let got: Vec<Observation> = client(&server)
        .observations("tw", "s")
        .metric("T")
        .unit("C")
        .range(at("2022-09-22T10:15:30Z"), at("2022-09-23T00:00:00Z"))
        .page_size(2)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(got.len(), 2);
}

#[tokio::test]
async fn a_list_with_a_mark_is_read() {
    let server = MockServer::start().await;
    Mock::given(path("/sensor-data/datasources"))
        .respond_with(with_bom(json!({"dataSources": [
            {"id": "ds1", "bucketId": "b", "bucketName": "n", "iTwinId": "tw", "connectionId": "c"}
        ]})))
        .mount(&server)
        .await;
    let sources: Vec<_> = client(&server)
        .datasources("tw")
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(sources[0].id, "ds1");
}

#[test]
fn every_envelope_reader_skips_a_mark() {
    let page = [BOM, br#"{"observations":[{"timestamp":1,"value":1}]}"#].concat();
    assert_eq!(sds_client::fuzzing::observations_page(&page).unwrap().0.len(), 1);
    let data = [BOM, br#"{"data":{"2024-01-01T00:00:00Z":{"T":1}}}"#].concat();
    assert_eq!(
        sds_client::fuzzing::data_response(&data).unwrap(),
        ["2024-01-01T00:00:00Z"]
    );
    let list = [BOM, br#"{"nodes":[1,2]}"#].concat();
    assert_eq!(
        sds_client::fuzzing::list_page(&list, &["nodes"]).unwrap().0.len(),
        2
    );
}
