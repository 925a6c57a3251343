//! The client shape against wiremock: requests shown without sending, configuration read
//! with every problem at once, any `client-core` credential, lists followed along
//! `_links.next`, 1-based pages, pages that hold what the stream yields, the permission
//! a 403 lacks, and the lossless stores.

use client_core::BearerToken;
use futures::TryStreamExt;
use sds_client::prelude::*;
use sds_client::{
    Client, Cursor, Error, MicroPermission, MissingPermission, NewDataSource, UploadObservation,
};
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod common;

use common::{at, client_of, wire_client as client};

/// A `client-core` credential sending `token`.
fn bearer(token: &str) -> BearerToken {
    BearerToken::builder()
        .token(SecretString::from(token))
        .build()
        .unwrap()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn requests_are_shown_without_sending() {
    let client = client_of("https://api.example.com/sensor-data");
    let observations = client
        .observations("tw", "s 1")
        .metric("T")
        .unit("C")
        .range(at("2026-01-01T00:00:00Z"), at("2026-01-02T00:00:00Z"))
        .page_size(500)
        .to_request()
        .unwrap();
    assert_eq!(observations.method, "GET");
    assert_eq!(
        observations.url.as_str(),
        "https://api.example.com/sensor-data/observations"
    );
    assert_eq!(
        observations.query,
        pairs(&[
            ("iTwinId", "tw"),
            ("sensorId", "s 1"),
            ("metric", "T"),
            ("unit", "C"),
            ("startDate", "2025-12-31T23:59:59.999Z"),
            ("endDate", "2026-01-02T00:00:00Z"),
            ("page", "0"),
            ("pageSize", "500"),
        ])
    );
    assert_eq!(observations.body, None);

    let data = client
        .query_data("s1")
        .range(at("2026-01-01T00:00:00Z"), at("2026-01-02T00:00:00Z"))
        .to_request()
        .unwrap();
    assert_eq!(
        (data.method.as_str(), data.url.path()),
        ("POST", "/sensor-data/data/observations")
    );
    assert!(data.query.is_empty());
    assert_eq!(
        data.json_body(),
        Some(
            json!({"sensorId": "s1", "startDate": "2025-12-31T23:59:59.999Z", "endDate": "2026-01-02T00:00:00Z"})
        )
    );

    let sensors = client.sensors("tw").data_source("ds 1").to_request().unwrap();
    assert_eq!(
        (sensors.method.as_str(), sensors.url.path()),
        ("GET", "/sensor-data/sensors")
    );
    assert_eq!(sensors.query_string(), "iTwinId=tw&dataSourceId=ds+1");
    let sources = client.datasources("tw").to_request().unwrap();
    assert_eq!(
        (sources.url.path(), sources.query_string().as_str()),
        ("/sensor-data/datasources", "iTwinId=tw")
    );
    let nodes = client.nodes("tw").to_request().unwrap();
    assert_eq!(
        (nodes.url.path(), nodes.query_string().as_str()),
        ("/sensor-data/integrations/nodes", "iTwinId=tw")
    );

    let removal = client
        .remove_data("s1")
        .timestamps([at("2026-01-01T00:00:00.25Z")])
        .to_request()
        .unwrap();
    assert_eq!(
        (removal.method.as_str(), removal.url.path()),
        ("DELETE", "/sensor-data/data/observations")
    );
    assert_eq!(
        removal.json_body(),
        Some(json!({"sensorId": "s1", "timestamps": ["2026-01-01T00:00:00.250Z"]}))
    );
    let upload = client
        .upload(futures::stream::empty::<UploadObservation>())
        .to_request()
        .unwrap();
    assert_eq!(
        (upload.method.as_str(), upload.url.path()),
        ("POST", "/sensor-data/data/upload")
    );
    assert_eq!(
        upload.body, None,
        "the batches are read from the stream only when sent"
    );
}

#[test]
fn requests_that_break_the_rules_are_refused_by_to_request_as_when_sent() {
    let client = client_of("https://api.example.com/sensor-data");
    let day = (at("2026-01-01T00:00:00Z"), at("2026-01-02T00:00:00Z"));
    let query = client
        .observations("tw", "s")
        .metric("T")
        .unit("C")
        .range(day.0, day.1);
    for refused in [
        client.observations("tw", "s").to_request(),
        query.clone().page_size(0).to_request(),
        query.range(day.1, day.0).to_request(),
        client.query_data("s").to_request(),
        client.remove_data("s").to_request(),
        client
            .upload(futures::stream::empty::<UploadObservation>())
            .batch_size(0)
            .to_request(),
    ] {
        assert!(matches!(refused, Err(Error::InvalidRequest(_))), "{refused:?}");
    }
}

#[tokio::test]
async fn a_page_size_of_zero_is_refused_when_streamed_and_at_build() {
    let server = MockServer::start().await;
    let err = client(&server)
        .observations("tw", "s")
        .metric("T")
        .unit("C")
        .range(at("2026-01-01T00:00:00Z"), at("2026-01-02T00:00:00Z"))
        .page_size(0)
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err:?}");
    assert!(server.received_requests().await.unwrap().is_empty());
    let built = Client::builder()
        .access_token(SecretString::from("t"))
        .page_size(0)
        .build();
    assert!(matches!(built, Err(Error::Config(_))), "{built:?}");
}

#[test]
fn every_configuration_problem_is_reported_at_once() {
    let vars = [
        ("SDS_CLIENT_ID", "app".to_owned()),
        ("SDS_TOKEN_URL", "not a url".to_owned()),
    ];
    let err = Client::from_vars(sandbox::env_lookup(&vars)).unwrap_err();
    let Error::Config(config) = &err else {
        panic!("{err:?}");
    };
    assert!(config.message().contains("missing SDS_CLIENT_SECRET"), "{err}");
    assert!(config.message().contains("SDS_TOKEN_URL: "), "{err}");

    let vars = [
        ("SDS_ACCESS_TOKEN", "t".to_owned()),
        ("SDS_CLIENT_SECRET", "s".to_owned()),
        ("SDS_TOKEN_URL", "::".to_owned()),
    ];
    let err = Client::from_vars(sandbox::env_lookup(&vars)).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("SDS_ACCESS_TOKEN and SDS_CLIENT_SECRET exclude each other"),
        "{message}"
    );
    assert!(message.contains("SDS_TOKEN_URL"), "{message}");
    assert!(!message.contains("\"t\"") && !message.contains("=s"), "{message}");

    let err = Client::from_vars(|_| None).unwrap_err();
    assert!(
        err.to_string()
            .contains("missing SDS_CLIENT_ID and SDS_CLIENT_SECRET, or SDS_ACCESS_TOKEN"),
        "{err}"
    );
    assert_eq!(
        sds_client::env::ALL,
        [
            "SDS_BASE_URL",
            "SDS_CLIENT_ID",
            "SDS_CLIENT_SECRET",
            "SDS_ACCESS_TOKEN",
            "SDS_SCOPE",
            "SDS_TOKEN_URL"
        ]
    );
}

#[tokio::test]
async fn any_client_core_credential_reaches_the_wire_and_takes_precedence() {
    let server = MockServer::start().await;
    Mock::given(path("/sensor-data/integrations/nodes"))
        .and(header("authorization", "Bearer from-credential"))
        .and(header("accept", sds_client::ACCEPT))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": "n1"}])))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder()
        .base_url(format!("{}/sensor-data", server.uri()))
        .access_token(SecretString::from("overridden"))
        .credential(bearer("from-credential"))
        .build()
        .unwrap();
    let nodes = client.nodes("tw").send().await.unwrap();
    assert_eq!(nodes.items[0].id, "n1");
    // A credential given through `credential(..)` is enough for `from_vars`.
    let built = Client::builder()
        .credential(bearer("x"))
        .vars(|_| None)
        .and_then(|builder| builder.build());
    assert!(built.is_ok(), "{built:?}");
}

#[tokio::test]
async fn variables_fill_in_only_what_the_builder_does_not_hold() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("client_id=env-app"))
        .and(body_string_contains("client_secret=from-setter"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"access_token": "tok", "token_type": "Bearer", "expires_in": 3600})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/sensor-data/integrations/nodes"))
        .and(header("authorization", "Bearer tok"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": "n1"}])))
        .expect(1)
        .mount(&server)
        .await;
    // The secret from the setter, the id from the variables.
    let vars = [("SDS_CLIENT_ID", "env-app".to_owned())];
    let client = Client::builder()
        .base_url(format!("{}/sensor-data", server.uri()))
        .token_url(format!("{}/token", server.uri()))
        .client_credentials("setter-app", SecretString::from("from-setter"))
        .vars(sandbox::env_lookup(&vars))
        .and_then(|builder| builder.build())
        .unwrap();
    assert_eq!(client.nodes("tw").send().await.unwrap().items[0].id, "n1");
    // Half of the client credentials beside `credential(..)` is not a missing variable.
    let vars = [("SDS_CLIENT_SECRET", "s".to_owned())];
    let built = Client::builder()
        .credential(bearer("x"))
        .vars(sandbox::env_lookup(&vars))
        .and_then(|builder| builder.build());
    assert!(built.is_ok(), "{built:?}");
}

#[tokio::test]
async fn lists_follow_links_next_on_the_apis_origin() {
    let server = MockServer::start().await;
    let base = format!("{}/sensor-data", server.uri());
    Mock::given(path("/sensor-data/sensors"))
        .and(query_param("$skip", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sensors": [{"id": "s3"}],
            "_links": {"self": {"href": format!("{base}/sensors?iTwinId=tw&$skip=2")}, "next": null}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/sensor-data/sensors"))
        .and(query_param("iTwinId", "tw"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "sensors": [{"id": "s1"}, {"id": "s2"}],
            "_links": {"next": {"href": format!("{base}/sensors?iTwinId=tw&$skip=2")}}
        })))
        .mount(&server)
        .await;
    let client = client(&server);
    let pages: Vec<_> = client.sensors("tw").pages().try_collect().await.unwrap();
    let ids: Vec<Vec<&str>> = pages
        .iter()
        .map(|page| page.items.iter().map(|s| s.id.as_str()).collect())
        .collect();
    assert_eq!(ids, [vec!["s1", "s2"], vec!["s3"]]);
    assert_eq!(
        pages[1].cursor,
        Some(Cursor::Link(format!("{base}/sensors?iTwinId=tw&$skip=2")))
    );
    assert!(pages[1].is_last());
    assert!(pages[0].meta.contains_key("_links"), "the other members are kept");
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].headers["authorization"], "Bearer bearer-token-1");
    assert_eq!(requests[1].headers["accept"], sds_client::ACCEPT);

    // The first page alone.
    let first = client.sensors("tw").send().await.unwrap();
    assert_eq!(first.len(), 2);
    assert!(!first.is_last());
}

#[tokio::test]
async fn a_link_to_another_origin_is_refused_and_a_link_that_comes_again_is_a_repeated_page() {
    let server = MockServer::start().await;
    Mock::given(path("/sensor-data/datasources"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "dataSources": [{"id": "d1"}],
            "_links": {"next": {"href": "https://elsewhere.example.com/steal?page=2"}}
        })))
        .mount(&server)
        .await;
    let results: Vec<_> = client(&server)
        .datasources("tw")
        .stream()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].as_ref().unwrap().id, "d1");
    assert!(matches!(&results[1], Err(Error::Config(_))), "{results:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    server.reset().await;
    // A relative link to itself.
    Mock::given(path("/sensor-data/integrations/nodes"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "nodes": [{"id": "n1"}],
            "_links": {"next": {"href": "integrations/nodes?iTwinId=tw&page=2"}}
        })))
        .mount(&server)
        .await;
    let err = client(&server)
        .nodes("tw")
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RepeatedPage(_)), "{err:?}");
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_server_counting_pages_from_one_is_read_whole() {
    let server = MockServer::start().await;
    let page = |n: u64, timestamps: &[i64]| {
        let observations: Vec<_> = timestamps
            .iter()
            .map(|t| json!({"timestamp": t, "value": 1.5}))
            .collect();
        ResponseTemplate::new(200).set_body_json(
            json!({"page": n, "pageSize": 2, "pageTotal": 2, "metric": "T", "unit": "C", "observations": observations}),
        )
    };
    for (n, timestamps) in [(0, &[][..]), (1, &[1000, 2000][..]), (2, &[3000][..])] {
        Mock::given(path("/sensor-data/observations"))
            .and(query_param("page", n.to_string()))
            .respond_with(page(n, timestamps))
            .expect(1)
            .mount(&server)
            .await;
    }
    let query = common::two_a_page(&client(&server), 0, 10_000);
    let pages: Vec<_> = query.pages().try_collect().await.unwrap();
    let summary: Vec<_> = pages.iter().map(|p| (p.cursor.clone(), p.len())).collect();
    assert_eq!(
        summary,
        [
            (None, 0),
            (Some(Cursor::Number { page: 1, size: 2 }), 2),
            (Some(Cursor::Number { page: 2, size: 2 }), 1)
        ]
    );
    assert_eq!(pages[1].meta["pageTotal"], 2);
    assert_eq!(pages[1].meta["metric"], "T");
    assert_eq!(pages[1].meta["unit"], "C");
    assert_eq!(pages[1].meta["pageSize"], 2);
    assert!(!pages[1].meta.contains_key("observations"));
}

#[tokio::test]
async fn a_403_on_a_manage_call_is_forbidden_with_the_permission_as_its_detail() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/sensor-data/datasources"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(json!({"error": {"code": "InsufficientPermissions", "message": "no"}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/sensor-data/data/observations"))
        .respond_with(ResponseTemplate::new(403))
        .mount(&server)
        .await;
    let client = client(&server);
    let err = client
        .create_datasource(&NewDataSource::new("b", "n", "tw-r", "c"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Forbidden(_)), "{err:?}");
    let missing = err.detail::<MissingPermission>().unwrap();
    assert_eq!(
        (missing.permission, missing.itwin_id.as_deref()),
        (MicroPermission::SensorDataManage, Some("tw-r"))
    );

    let err = client
        .remove_data("s-9")
        .range(at("2026-01-01T00:00:00Z"), at("2026-01-02T00:00:00Z"))
        .send()
        .await
        .unwrap_err();
    let missing = err.detail::<MissingPermission>().unwrap();
    assert_eq!(
        (missing.permission, missing.itwin_id, missing.sensor_id.as_deref()),
        (MicroPermission::SensorDataManage, None, Some("s-9"))
    );
    // Other refusals carry no such detail.
    assert!(
        Error::from(client_core::Error::config("x"))
            .detail::<MissingPermission>()
            .is_none()
    );
}

#[tokio::test]
async fn a_data_query_pages_its_responses_and_stores_each_timestamp_as_sent() {
    let server = MockServer::start().await;
    let answer = |data: serde_json::Value| {
        ResponseTemplate::new(200)
            .set_body_string(format!(r#"{{"sensor":"s1","sensorName":"S","data":{data}}}"#))
    };
    Mock::given(path("/sensor-data/data/observations"))
        .and(wiremock::matchers::body_partial_json(
            json!({"startDate": "2026-01-01T23:59:59.999Z"}),
        ))
        .respond_with(answer(json!({
            "2026-01-02T00:00:00Z": {"T": 1.5},
            "2026-01-02T01:00:00Z": {"T": 2.5, "f": 7}
        })))
        .mount(&server)
        .await;
    Mock::given(path("/sensor-data/data/observations"))
        .and(wiremock::matchers::body_partial_json(
            json!({"startDate": "2026-01-02T01:00:00Z"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            r#"{"data":{"2026-01-02T01:00:00Z":{"T":2.5,"f":7},"2026-01-02T02:00:00Z":{ "T" : 3.50 }}}"#,
        ))
        .mount(&server)
        .await;
    Mock::given(path("/sensor-data/data/observations"))
        .and(wiremock::matchers::body_partial_json(
            json!({"startDate": "2026-01-02T02:00:00Z"}),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(r#"{"data":{"2026-01-02T02:00:00Z":{ "T" : 3.50 }}}"#),
        )
        .mount(&server)
        .await;
    let query = client(&server)
        .query_data("s1")
        .range(at("2026-01-02T00:00:00Z"), at("2026-01-03T00:00:00Z"));

    let pages: Vec<_> = query.clone().pages().try_collect().await.unwrap();
    let summary: Vec<_> = pages
        .iter()
        .map(|p| (p.cursor.clone(), p.len(), p.next.clone()))
        .collect();
    let token = |t: &str| Some(Cursor::Token(t.to_owned()));
    assert_eq!(
        summary,
        [
            (None, 2, token("2026-01-02T01:00:00Z")),
            (token("2026-01-02T01:00:00Z"), 1, token("2026-01-02T02:00:00Z")),
            (token("2026-01-02T02:00:00Z"), 0, None),
        ]
    );
    assert_eq!(pages[0].meta["sensorName"], "S");

    let first = query.clone().send().await.unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(first.next, token("2026-01-02T01:00:00Z"));

    let mut out = Vec::new();
    let written = query.copy_to(&mut out).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(
        text,
        concat!(
            "{\"timestamp\":\"2026-01-02T00:00:00Z\",\"values\":{\"T\":1.5}}\n",
            "{\"timestamp\":\"2026-01-02T01:00:00Z\",\"values\":{\"T\":2.5,\"f\":7}}\n",
            "{\"timestamp\":\"2026-01-02T02:00:00Z\",\"values\":{ \"T\" : 3.50 }}\n",
        )
    );
    assert_eq!((written.requests, written.records), (3, 3));
    assert_eq!(written.bytes, text.len() as u64);
}

#[tokio::test]
async fn observations_send_gives_the_first_page_trimmed_and_copy_to_counts_what_it_wrote() {
    let server = MockServer::start().await;
    Mock::given(path("/sensor-data/observations"))
        .and(query_param("page", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            r#"{"pageTotal":2,"observations":[{"timestamp":500,"value":0},{"timestamp":1000,"value":1.50}]}"#,
        ))
        .mount(&server)
        .await;
    Mock::given(path("/sensor-data/observations"))
        .and(query_param("page", "1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(r#"{"pageTotal":2,"observations":[{"timestamp":2000, "value":2}]}"#),
        )
        .mount(&server)
        .await;
    let query = common::two_a_page(&client(&server), 1000, 10_000);
    let first = query.clone().send().await.unwrap();
    let kept: Vec<_> = first.items.iter().map(|o| o.timestamp.as_millisecond()).collect();
    assert_eq!(kept, [1000], "500 lies before the range");
    assert_eq!(first.next, Some(Cursor::Number { page: 1, size: 2 }));
    assert_eq!(first.meta["pageTotal"], 2, "the members as sent");
    assert_eq!(server.received_requests().await.unwrap().len(), 1, "one request");
    let mut out = Vec::new();
    let written = query.copy_to(&mut out).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(
        text,
        "{\"timestamp\":1000,\"value\":1.50}\n{\"timestamp\":2000, \"value\":2}\n"
    );
    assert_eq!(
        (written.requests, written.records, written.bytes),
        (2, 2, text.len() as u64)
    );
}

/// Mounts `pages` of observations (epoch milliseconds) as pages 0, 1, ..., each saying
/// `pageTotal` is their count.
async fn mount_pages(server: &MockServer, pages: &[&[i64]]) {
    for (n, timestamps) in pages.iter().enumerate() {
        let observations: Vec<_> = timestamps
            .iter()
            .map(|t| json!({"timestamp": t, "value": 1.5}))
            .collect();
        Mock::given(path("/sensor-data/observations"))
            .and(query_param("page", n.to_string()))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"pageTotal": pages.len(), "observations": observations})),
            )
            .mount(server)
            .await;
    }
}

fn millis(items: &[sds_client::Observation]) -> Vec<i64> {
    items.iter().map(|o| o.timestamp.as_millisecond()).collect()
}

#[tokio::test]
async fn observation_pages_hold_what_the_stream_yields_page_by_page() {
    let server = MockServer::start().await;
    // Before the range, a repeat across the boundary, and the range's end.
    mount_pages(&server, &[&[500, 1000, 2000], &[2000, 3000], &[4000, 9000]]).await;
    let query = common::two_a_page(&client(&server), 1000, 9000).page_size(3);
    let pages: Vec<_> = query.clone().pages().try_collect().await.unwrap();
    let kept: Vec<_> = pages.iter().map(|page| millis(&page.items)).collect();
    assert_eq!(kept, [vec![1000, 2000], vec![3000], vec![4000]]);
    assert!(
        pages.iter().all(|page| page.meta["pageTotal"] == 3),
        "meta as sent"
    );
    assert_eq!(pages[0].next, Some(Cursor::Number { page: 1, size: 3 }));
    let streamed: Vec<_> = query.stream().try_collect().await.unwrap();
    let flattened: Vec<_> = pages.into_iter().flatten().collect();
    assert_eq!(flattened, streamed);
}

#[tokio::test]
async fn observation_pages_refuse_a_step_back_in_time_as_the_stream_does() {
    let server = MockServer::start().await;
    mount_pages(&server, &[&[1000, 2000], &[1500]]).await;
    let query = common::two_a_page(&client(&server), 0, 10_000);
    for err in [
        query.clone().pages().try_collect::<Vec<_>>().await.unwrap_err(),
        query.stream().try_collect::<Vec<_>>().await.unwrap_err(),
    ] {
        match err {
            Error::Api(sds_client::SdsError::OutOfOrder { previous, got }) => {
                assert_eq!((previous.as_millisecond(), got.as_millisecond()), (2000, 1500));
            }
            other => panic!("{other:?}"),
        }
    }
}
