//! The exact requests the client sends, and how it reads what comes back, against
//! wiremock: token form, paths, query strings, headers, bodies, and the error variants.

use futures::TryStreamExt;
use sds_client::{
    Client, Error, MicroPermission, MissingPermission, NewDataSource, Observation, SdsError,
    UploadObservation,
};
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{body_json, body_string, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const ACCEPT: &str = "application/vnd.bentley.itwin-platform.v1+json";

mod common;

use common::{at, wire_client as client};

fn query_of(request: &Request) -> Vec<(String, String)> {
    request.url.query_pairs().into_owned().collect()
}

#[tokio::test]
async fn client_credentials_are_posted_as_a_form_and_every_request_accepts_the_platform_type() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "ims-1", "token_type": "Bearer", "expires_in": 3600})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/sensor-data/datasources"))
        .and(query_param("iTwinId", "tw 1"))
        .and(header("authorization", "Bearer ims-1"))
        .and(header("accept", ACCEPT))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"dataSources": [
            {"id": "ds1", "bucketId": "b", "bucketName": "My Sensors", "iTwinId": "tw 1", "connectionId": "c", "extra": true}
        ]})))
        .expect(1)
        .mount(&server)
        .await;
    let vars = [
        ("SDS_CLIENT_ID", "app-1".to_owned()),
        ("SDS_CLIENT_SECRET", "secret 1&2".to_owned()),
        ("SDS_TOKEN_URL", format!("{}/connect/token", server.uri())),
        ("SDS_BASE_URL", format!("{}/sensor-data", server.uri())),
    ];
    let client = Client::from_vars(sandbox::env_lookup(&vars)).unwrap();
    let sources: Vec<_> = client.datasources("tw 1").stream().try_collect().await.unwrap();
    assert_eq!(sources[0].id, "ds1");
    assert_eq!(sources[0].other["extra"], true);
    let token_request = &server.received_requests().await.unwrap()[0];
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&token_request.body)
        .into_owned()
        .collect();
    let mut form = form;
    form.sort();
    assert_eq!(
        form,
        [
            ("client_id".to_owned(), "app-1".to_owned()),
            ("client_secret".to_owned(), "secret 1&2".to_owned()),
            ("grant_type".to_owned(), "client_credentials".to_owned()),
            ("scope".to_owned(), "itwin-platform".to_owned()),
        ]
    );
    let api_request = &server.received_requests().await.unwrap()[1];
    assert_eq!(api_request.url.query(), Some("iTwinId=tw+1"));
}

#[tokio::test]
async fn observations_send_the_documents_parameters_page_by_page() {
    let server = MockServer::start().await;
    let page = |n: u64, timestamps: &[i64]| {
        let observations: Vec<_> = timestamps
            .iter()
            .map(|t| json!({"timestamp": t, "value": 1.5}))
            .collect();
        ResponseTemplate::new(200)
            .set_body_json(json!({"page": n, "pageSize": 2, "pageTotal": 2, "metric": "T", "unit": "C", "observations": observations}))
    };
    let base = at("2022-09-22T10:15:30Z").as_millisecond();
    Mock::given(path("/sensor-data/observations"))
        .and(query_param("page", "0"))
        .respond_with(page(0, &[base, base + 1000]))
        .mount(&server)
        .await;
    Mock::given(path("/sensor-data/observations"))
        .and(query_param("page", "1"))
        .respond_with(page(1, &[base + 2000]))
        .mount(&server)
        .await;
    let got: Vec<Observation> = client(&server)
        .observations("tw", "s 1")
        .metric("T")
        .unit("C")
        .range(at("2022-09-22T10:15:30Z"), at("2022-09-23T00:00:00Z"))
        .page_size(2)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        got.iter()
            .map(|o| o.timestamp.as_millisecond() - base)
            .collect::<Vec<_>>(),
        [0, 1000, 2000]
    );
    let requests = server.received_requests().await.unwrap();
    assert_eq!(
        requests.len(),
        2,
        "pageTotal 2 as pages and 3 observations seen: done"
    );
    assert_eq!(requests[0].url.path(), "/sensor-data/observations");
    assert_eq!(
        query_of(&requests[0]),
        [
            ("iTwinId", "tw"),
            ("sensorId", "s 1"),
            ("metric", "T"),
            ("unit", "C"),
            ("startDate", "2022-09-22T10:15:29.999Z"),
            ("endDate", "2022-09-23T00:00:00Z"),
            ("page", "0"),
            ("pageSize", "2"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );
    assert_eq!(requests[0].headers["accept"], ACCEPT);
    assert_eq!(requests[0].headers["authorization"], "Bearer bearer-token-1");
}

#[tokio::test]
async fn a_repeated_page_and_a_step_back_in_time_are_errors() {
    let server = MockServer::start().await;
    // A server that ignores `page`: page 1 repeats page 0.
    Mock::given(path("/sensor-data/observations"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"pageTotal": 100, "observations": [
            {"timestamp": 1000, "value": 1.0}, {"timestamp": 2000, "value": 2.0}]})),
        )
        .mount(&server)
        .await;
    let query = common::two_a_page(&client(&server), 0, 10_000);
    // One page at a time, the repeat is the second request; with pages asked for
    // ahead, the same error.
    for concurrency in [1, 4] {
        let err = query
            .clone()
            .concurrency(concurrency)
            .stream()
            .try_collect::<Vec<_>>()
            .await
            .unwrap_err();
        assert!(matches!(err, Error::RepeatedPage(_)), "{err:?}");
        assert!(err.to_string().contains("number 1"), "{err}");
        if concurrency == 1 {
            assert_eq!(server.received_requests().await.unwrap().len(), 2);
        }
    }

    // A server of its own: a page asked for ahead by the reads above, aborted with them,
    // may still reach the first server after they end and take a one-time answer.
    let server = MockServer::start().await;
    let query = common::two_a_page(&client(&server), 0, 10_000);
    Mock::given(path("/sensor-data/observations"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"observations": [
            {"timestamp": 2000, "value": 1.0}, {"timestamp": 1000, "value": 2.0}]})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/sensor-data/observations"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"observations": []})))
        .mount(&server)
        .await;
    let err = query.stream().try_collect::<Vec<_>>().await.unwrap_err();
    match err {
        Error::Api(SdsError::OutOfOrder { previous, got }) => {
            assert_eq!((previous.as_millisecond(), got.as_millisecond()), (2000, 1000));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_malformed_observation_is_a_decode_error_naming_it() {
    let server = MockServer::start().await;
    Mock::given(path("/sensor-data/observations"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(r#"{"observations":[{"timestamp":"soon","value":1}]}"#),
        )
        .mount(&server)
        .await;
    let err = common::two_a_page(&client(&server), 0, 10_000)
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Decode(e) if e.message().contains("item 0")),
        "{err:?}"
    );

    // A request missing its metric is refused before sending.
    let err = client(&server)
        .observations("tw", "s")
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn data_sources_are_created_updated_and_deleted_with_the_documents_body() {
    let server = MockServer::start().await;
    let body =
        json!({"bucketId": "b1", "bucketName": "Hoover Dam Sensors", "iTwinId": "tw", "connectionId": "c1"});
    Mock::given(method("POST"))
        .and(path("/sensor-data/datasources"))
        .and(body_json(&body))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"dataSource": {"id": "new-id", "bucketId": "b1"}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/sensor-data/datasources/new-id"))
        .and(body_json(&body))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "new-id"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/sensor-data/datasources/new-id"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let source = NewDataSource::new("b1", "Hoover Dam Sensors", "tw", "c1");
    assert_eq!(client.create_datasource(&source).await.unwrap().id, "new-id");
    assert_eq!(
        client.update_datasource("new-id", &source).await.unwrap().id,
        "new-id"
    );
    client.delete_datasource("new-id").await.unwrap();
}

#[tokio::test]
async fn sensors_are_asked_for_one_data_source() {
    let server = MockServer::start().await;
    Mock::given(path("/sensor-data/sensors"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": "s1"}])))
        .mount(&server)
        .await;
    let sensors = client(&server)
        .sensors("tw")
        .data_source("ds 1")
        .send()
        .await
        .unwrap()
        .items;
    assert_eq!(sensors[0].id, "s1");
    assert!(sensors[0].metrics_and_units.metrics.is_empty());
    let request = &server.received_requests().await.unwrap()[0];
    assert_eq!(request.url.query(), Some("iTwinId=tw&dataSourceId=ds+1"));
}

#[tokio::test]
async fn a_403_names_the_permission_and_keeps_bentleys_error() {
    let server = MockServer::start().await;
    Mock::given(path("/sensor-data/sensors"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-correlation-id", "corr-9")
                .set_body_json(json!({"error": {"code": "InsufficientPermissions", "message": "no", "target": "iTwinId", "details": [{"code": "x"}]}})),
        )
        .mount(&server)
        .await;
    let err = client(&server).sensors("tw-9").send().await.unwrap_err();
    let Error::Forbidden(api) = &err else {
        panic!("{err:?}");
    };
    let missing = err.detail::<MissingPermission>().unwrap();
    assert_eq!(missing.permission, MicroPermission::SensorDataRead);
    assert_eq!(missing.itwin_id.as_deref(), Some("tw-9"));
    assert_eq!(api.target.as_deref(), Some("iTwinId"));
    assert_eq!(api.details.len(), 1);
    assert_eq!(err.correlation_id(), Some("corr-9"));
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn a_continuation_from_a_sub_millisecond_timestamp_is_not_taken_for_a_stall() {
    let server = MockServer::start().await;
    let keys = ["2026-01-02T00:00:00.000100Z", "2026-01-02T00:00:00.000600Z"];
    let map: serde_json::Map<String, serde_json::Value> = keys
        .iter()
        .map(|k| ((*k).to_owned(), json!({"T": 1.5})))
        .collect();
    // The first query, the check for data before its first point, and the continuation
    // (from the last timestamp, rounded down to the millisecond) all answer the two
    // points of that millisecond.
    Mock::given(path("/sensor-data/data/observations"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"sensor": "s1", "sensorName": "S", "metricsAndUnits": {}, "data": map}),
            ),
        )
        .expect(3)
        .mount(&server)
        .await;
    let (from, to) = (at("2026-01-02T00:00:00Z"), at("2026-01-03T00:00:00Z"));
    let points: Vec<_> = client(&server)
        .query_data("s1")
        .range(from, to)
        .stream()
        .try_collect()
        .await
        .unwrap();
    let read: Vec<_> = points.iter().map(|p| p.timestamp_text.as_str()).collect();
    assert_eq!(read, keys);
    let continuation = &server.received_requests().await.unwrap()[2];
    let body: serde_json::Value = serde_json::from_slice(&continuation.body).unwrap();
    assert_eq!(body["startDate"], "2026-01-02T00:00:00Z");
}

#[tokio::test]
async fn a_data_query_is_continued_from_the_last_timestamp_without_duplicates() {
    let server = MockServer::start().await;
    let data = |keys: &[&str]| {
        let map: serde_json::Map<String, serde_json::Value> = keys
            .iter()
            .map(|k| ((*k).to_owned(), json!({"T": 1.5, "f": 2})))
            .collect();
        ResponseTemplate::new(200)
            .set_body_json(json!({"sensor": "s1", "sensorName": "S", "metricsAndUnits": {}, "data": map}))
    };
    // Capped at two timestamps, sent out of order.
    Mock::given(path("/sensor-data/data/observations"))
        .and(body_json(json!({"sensorId": "s1", "startDate": "2026-01-01T23:59:59.999Z", "endDate": "2026-01-03T00:00:00Z"})))
        .respond_with(data(&["2026-01-02T06:00:00Z", "2026-01-02T00:00:00Z"]))
        .mount(&server)
        .await;
    // The server includes the start, and the end: the last timestamp comes back and is
    // not repeated, `to` itself is trimmed.
    Mock::given(path("/sensor-data/data/observations"))
        .and(body_json(
            json!({"sensorId": "s1", "startDate": "2026-01-02T06:00:00Z", "endDate": "2026-01-03T00:00:00Z"}),
        ))
        .respond_with(data(&[
            "2026-01-02T06:00:00Z",
            "2026-01-02T12:00:00Z",
            "2026-01-03T00:00:00Z",
        ]))
        .mount(&server)
        .await;
    Mock::given(path("/sensor-data/data/observations"))
        .and(body_json(
            json!({"sensorId": "s1", "startDate": "2026-01-02T12:00:00Z", "endDate": "2026-01-03T00:00:00Z"}),
        ))
        .respond_with(data(&["2026-01-02T12:00:00Z", "2026-01-03T00:00:00Z"]))
        .expect(1)
        .mount(&server)
        .await;
    let (from, to) = (at("2026-01-02T00:00:00Z"), at("2026-01-03T00:00:00Z"));
    let points: Vec<_> = client(&server)
        .query_data("s1")
        .range(from, to)
        .stream()
        .try_collect()
        .await
        .unwrap();
    let keys: Vec<_> = points.iter().map(|p| p.timestamp_text.as_str()).collect();
    assert_eq!(
        keys,
        [
            "2026-01-02T00:00:00Z",
            "2026-01-02T06:00:00Z",
            "2026-01-02T12:00:00Z"
        ]
    );
    assert_eq!(points[0].values["f"], 2);
    assert_eq!(points[0].values["T"], 1.5);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
    let request = &server.received_requests().await.unwrap()[0];
    assert_eq!(
        (
            request.method.as_str(),
            request.headers["accept"].to_str().unwrap()
        ),
        ("POST", ACCEPT)
    );
}

#[tokio::test]
async fn a_continuation_that_goes_back_is_an_error() {
    let server = MockServer::start().await;
    Mock::given(path("/sensor-data/data/observations"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {
            "2026-01-02T00:00:00Z": {"T": 1}, "2026-01-02T01:00:00Z": {"T": 2}}})))
        .mount(&server)
        .await;
    let err = client(&server)
        .query_data("s1")
        .range(at("2026-01-02T00:00:00Z"), at("2026-01-03T00:00:00Z"))
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Api(SdsError::StalledContinuation { at: seen }) if *seen == at("2026-01-02T01:00:00Z")),
        "{err:?}"
    );
}

#[tokio::test]
async fn uploads_go_in_batches_and_a_failure_says_how_much_was_accepted() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/sensor-data/data/upload"))
        .respond_with(ResponseTemplate::new(202).set_body_json(json!({"status": "ACCEPTED"})))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/sensor-data/data/upload"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": {"code": "InvalidUpload", "message": "bad"}})),
        )
        .mount(&server)
        .await;
    let observations = (0..5).map(|i| {
        UploadObservation::new(
            "s1",
            at("2026-01-01T00:00:00Z") + jiff::SignedDuration::from_millis(1500 * i),
        )
        .value("T", 20.5)
        .value("f", i as f64)
    });
    let err = client(&server)
        .upload(futures::stream::iter(observations))
        .batch_size(2)
        .send()
        .await
        .unwrap_err();
    match &err {
        Error::Api(SdsError::UploadIncomplete { accepted, source }) => {
            assert_eq!(*accepted, 4);
            assert!(matches!(**source, Error::BadRequest(_)), "{source:?}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.status(), Some(400));
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 3);
    assert_eq!(
        String::from_utf8_lossy(&requests[0].body),
        r#"{"observations":[{"sensorId":"s1","timestamp":"2026-01-01T00:00:00Z","values":{"T":20.5,"f":0.0}},{"sensorId":"s1","timestamp":"2026-01-01T00:00:01.500Z","values":{"T":20.5,"f":1.0}}]}"#
    );
    assert_eq!(requests[0].headers["content-type"], "application/json");

    // A value JSON cannot carry is refused before its batch leaves.
    let err = client(&server)
        .upload(futures::stream::iter([UploadObservation::new(
            "s1",
            at("2026-01-01T00:00:00Z"),
        )
        .value("T", f64::NAN)]))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest(m) if m.contains("NaN")),
        "{err:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn removals_send_a_range_or_timestamps_and_never_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/sensor-data/data/observations"))
        .and(body_string(
            r#"{"sensorId":"s1","startDate":"2026-01-01T00:00:00Z","endDate":"2026-01-02T00:00:00Z"}"#,
        ))
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/sensor-data/data/observations"))
        .and(body_string(
            r#"{"sensorId":"s1","timestamps":["2026-01-01T00:00:00.250Z"]}"#,
        ))
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    client
        .remove_data("s1")
        .range(at("2026-01-01T00:00:00Z"), at("2026-01-02T00:00:00Z"))
        .send()
        .await
        .unwrap();
    client
        .remove_data("s1")
        .timestamps([at("2026-01-01T00:00:00.25Z")])
        .send()
        .await
        .unwrap();
    let err = client.remove_data("s1").send().await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
}

#[tokio::test]
async fn nodes_and_integrations_use_the_itwin_query() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/sensor-data/integrations/nodes"))
        .and(query_param("iTwinId", "tw"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"nodes": [{"id": "/api/95A09D/node", "type": "NODE", "props": {"NAME": "n"}}]}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/sensor-data/integrations/integrate"))
        .and(query_param("iTwinId", "tw"))
        .and(body_json(
            json!({"integration": {"nodeId": "/api/95A09D/node", "devices": [
            {"changeState": "deleted", "refId": "d1", "props": {}, "sensors": []}]}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "done"})))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    let nodes = client.nodes("tw").send().await.unwrap().items;
    assert_eq!(nodes[0].node_type.as_deref(), Some("NODE"));
    let integration = sds_client::Integration::new()
        .node_id(nodes[0].id.clone())
        .device(sds_client::DeviceChange::new(
            sds_client::ChangeState::Deleted,
            "d1",
        ));
    assert_eq!(
        client.integrate("tw", &integration).await.unwrap()["status"],
        "done"
    );
}

#[tokio::test]
async fn secrets_stay_out_of_debug_output_and_errors() {
    let server = MockServer::start().await;
    Mock::given(path("/connect/token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": "invalid_client"})))
        .mount(&server)
        .await;
    let builder = Client::builder()
        .base_url(format!("{}/sensor-data", server.uri()))
        .token_url(format!("{}/connect/token", server.uri()))
        .client_credentials("app", SecretString::from("very-secret-value"));
    let builder_debug = format!("{builder:?}");
    let client = builder.build().unwrap();
    let err = client.nodes("tw").send().await.unwrap_err();
    assert!(err.is_unauthorized(), "{err:?}");
    for text in [
        builder_debug,
        format!("{client:?}"),
        format!("{err:?}"),
        err.to_string(),
    ] {
        assert!(!text.contains("very-secret-value"), "{text}");
    }
    let token_client = Client::builder()
        .access_token(SecretString::from("held-token-value"))
        .build()
        .unwrap();
    assert!(!format!("{token_client:?}").contains("held-token-value"));
}

#[test]
fn configuration_errors_name_what_is_missing() {
    let from = |pairs: &[(&str, &str)]| {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Client::from_vars(move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    };
    let message = |result: Result<Client, Error>| match result {
        Err(Error::Config(e)) => e.message().to_owned(),
        other => panic!("{other:?}"),
    };
    assert!(message(from(&[])).contains("SDS_ACCESS_TOKEN"));
    assert!(message(from(&[("SDS_CLIENT_ID", "a")])).contains("SDS_CLIENT_SECRET"));
    assert!(message(from(&[("SDS_CLIENT_SECRET", "s")])).contains("SDS_CLIENT_ID"));
    assert!(
        message(from(&[
            ("SDS_CLIENT_ID", "a"),
            ("SDS_CLIENT_SECRET", "s"),
            ("SDS_ACCESS_TOKEN", "t")
        ]))
        .contains("not both")
    );
    let client = from(&[("SDS_ACCESS_TOKEN", "t")]).unwrap();
    assert_eq!(client.base_url().as_str(), "https://api.bentley.com/sensor-data/");
    assert!(matches!(Client::builder().build(), Err(Error::Config(_))));
    assert!(matches!(
        Client::builder()
            .access_token(SecretString::from("t"))
            .page_size(0)
            .build(),
        Err(Error::Config(_))
    ));
    // Plain HTTP is for loopback only.
    assert!(matches!(
        Client::builder()
            .access_token(SecretString::from("t"))
            .base_url("http://api.example.com/")
            .build(),
        Err(Error::Config(_))
    ));
}
