//! The exact requests the client sends, against wiremock: the token request, methods,
//! paths, repeated query keys, headers and bodies.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use client_core::ManualClock;
use dt_client::{
    Client, ConnectorStatus, ConnectorUpdate, Cursor, Error, LabelChanges, NewDataConnector, StreamItem,
};
use futures::{StreamExt, TryStreamExt};
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn basic(server: &MockServer) -> Client {
    Client::builder()
        .base_url(format!("{}/v2", server.uri()))
        .emulator_url(format!("{}/emulator/v2", server.uri()))
        .basic("key-1", SecretString::from("secret-1"))
        .clock(Arc::new(ManualClock::new()))
        .build()
        .unwrap()
}

fn query_of(request: &Request) -> Vec<(String, String)> {
    request.url.query_pairs().into_owned().collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test]
async fn the_service_account_posts_a_signed_jwt_bearer_assertion() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/oauth2/token"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"access_token": "t-1", "expires_in": 3600})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/projects"))
        .and(header("authorization", "Bearer t-1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"projects": [{"name": "projects/p1"}], "nextPageToken": ""})),
        )
        .mount(&server)
        .await;
    let token_url = format!("{}/oauth2/token", server.uri());
    let vars = [
        ("DT_SERVICE_ACCOUNT_KEY_ID", "key-1".to_owned()),
        ("DT_SERVICE_ACCOUNT_SECRET", "secret-1".to_owned()),
        (
            "DT_SERVICE_ACCOUNT_EMAIL",
            "sa@p.serviceaccount.d21s.com".to_owned(),
        ),
        ("DT_BASE_URL", format!("{}/v2", server.uri())),
        ("DT_TOKEN_URL", token_url.clone()),
    ];
    let client =
        Client::from_vars(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())).unwrap();
    let projects: Vec<_> = client.projects().stream().try_collect().await.unwrap();
    assert_eq!(projects[0].id(), Some("p1"));

    let token_request = &server.received_requests().await.unwrap()[0];
    assert_eq!(
        token_request.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    let form: std::collections::BTreeMap<String, String> = url::form_urlencoded::parse(&token_request.body)
        .into_owned()
        .collect();
    assert_eq!(form["grant_type"], "urn:ietf:params:oauth:grant-type:jwt-bearer");
    let parts: Vec<&str> = form["assertion"].split('.').collect();
    let decode = |part: &str| -> Value {
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(
        decode(parts[0]),
        json!({"alg": "HS256", "kid": "key-1", "typ": "JWT"})
    );
    let claims = decode(parts[1]);
    assert_eq!(claims["iss"], "sa@p.serviceaccount.d21s.com");
    assert_eq!(claims["aud"], token_url);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"secret-1");
    let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[2])
        .unwrap();
    ring::hmac::verify(&key, format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature).unwrap();
}

#[tokio::test]
async fn lists_page_with_tokens_and_send_list_parameters_as_repeated_keys() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/projects/p1/devices"))
        .and(query_param("pageToken", "t2"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"devices": [{"name": "projects/p1/devices/d2"}], "nextPageToken": ""})),
        )
        .mount(&server)
        .await;
    Mock::given(path("/v2/projects/p1/devices"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"devices": [{"name": "projects/p1/devices/d1", "type": "touch"}], "nextPageToken": "t2"}),
        ))
        .mount(&server)
        .await;
    let devices: Vec<_> = basic(&server)
        .devices("p1")
        .query("kitchen")
        .device_ids(["d1", "d2"])
        .device_types(["touch", "temperature"])
        .label_equals("floor", "2")
        .label_present("name")
        .order_by("labels.name", true)
        .page_size(1)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        devices.iter().map(|d| d.id().unwrap()).collect::<Vec<_>>(),
        ["d1", "d2"]
    );
    let requests = server.received_requests().await.unwrap();
    let expected = [
        ("query", "kitchen"),
        ("device_ids", "d1"),
        ("device_ids", "d2"),
        ("device_types", "touch"),
        ("device_types", "temperature"),
        ("label_filters", "floor=2"),
        ("label_filters", "name"),
        ("order_by", "-labels.name"),
        ("pageSize", "1"),
    ];
    assert_eq!(query_of(&requests[0]), pairs(&expected));
    let mut second = expected.to_vec();
    second.push(("pageToken", "t2"));
    assert_eq!(query_of(&requests[1]), pairs(&second));
    assert!(
        requests[0].headers["authorization"]
            .to_str()
            .unwrap()
            .starts_with("Basic ")
    );
}

#[tokio::test]
async fn a_repeated_page_token_is_an_error_not_a_loop() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/projects"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"projects": [], "nextPageToken": "same"})),
        )
        .mount(&server)
        .await;
    let err = basic(&server)
        .projects()
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::RepeatedPage(e) if e.message().contains("token `same`")),
        "{err:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_cycle_of_page_tokens_is_an_error_after_its_new_items() {
    let server = MockServer::start().await;
    let page = |device: &str, next: &str| {
        ResponseTemplate::new(200).set_body_json(
            json!({"devices": [{"name": format!("projects/p1/devices/{device}")}], "nextPageToken": next}),
        )
    };
    Mock::given(path("/v2/projects/p1/devices"))
        .and(query_param("pageToken", "a"))
        .respond_with(page("d2", "b"))
        .mount(&server)
        .await;
    Mock::given(path("/v2/projects/p1/devices"))
        .and(query_param("pageToken", "b"))
        .respond_with(page("d3", "a"))
        .mount(&server)
        .await;
    Mock::given(path("/v2/projects/p1/devices"))
        .respond_with(page("d1", "a"))
        .mount(&server)
        .await;
    let results: Vec<_> = basic(&server).devices("p1").stream().collect().await;
    let ids: Vec<&str> = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|d| d.id().unwrap())
        .collect();
    assert_eq!(ids, ["d1", "d2", "d3"]);
    assert!(
        matches!(results.last(), Some(Err(Error::RepeatedPage(e))) if e.message().contains("token `a`")),
        "{results:?}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn send_reads_the_first_page_alone_with_its_members() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/projects/p1/dataconnectors"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"dataConnectors": [{"name": "projects/p1/dataconnectors/c1"}], "nextPageToken": "t2", "totalSize": 2}),
        ))
        .mount(&server)
        .await;
    let page = basic(&server).data_connectors("p1").send().await.unwrap();
    assert_eq!(page.items[0].id(), Some("c1"));
    assert_eq!(page.next, Some(Cursor::Token("t2".into())));
    assert_eq!(page.meta["totalSize"], 2);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn history_sends_its_range_and_types() {
    let server = MockServer::start().await;
    Mock::given(path("/v2/projects/p1/devices/d1/events"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"events": [
            {"eventId": "e1", "targetName": "projects/p1/devices/d1", "eventType": "touch", "data": {"touch": {"updateTime": "2024-01-01T00:00:00Z"}}, "timestamp": "2024-01-01T00:00:00Z"}
        ], "nextPageToken": ""})))
        .mount(&server)
        .await;
    let events: Vec<_> = basic(&server)
        .events("p1", "d1")
        .event_types(["touch", "temperature"])
        .range(
            "2024-01-01T00:00:00Z".parse().unwrap(),
            "2024-01-02T00:00:00Z".parse().unwrap(),
        )
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(events[0].event_id, "e1");
    assert_eq!(
        query_of(&server.received_requests().await.unwrap()[0]),
        pairs(&[
            ("eventTypes", "touch"),
            ("eventTypes", "temperature"),
            ("startTime", "2023-12-31T23:59:59.999Z"),
            ("endTime", "2024-01-02T00:00:00Z"),
            ("pageSize", "1000"),
        ])
    );
}

/// A temperature event of device d1 at `at`, with `data` as given.
fn temperature(id: &str, at: &str, data: Value) -> Value {
    json!({"eventId": id, "targetName": "projects/p1/devices/d1", "eventType": "temperature",
           "data": {"temperature": data}, "timestamp": at})
}

#[tokio::test]
async fn events_outside_the_range_never_fail_a_typed_read() {
    let server = MockServer::start().await;
    // The millisecond asked for before the start and the end itself (the document does
    // not say whether `endTime` is inclusive) hold events whose data does not decode.
    let page = json!({"events": [
        temperature("before", "2023-12-31T23:59:59.999Z", json!("hot")),
        temperature("inside", "2024-01-01T12:00:00Z", json!({"value": 21.5})),
        temperature("at-end", "2024-01-02T00:00:00Z", json!("hot")),
    ], "nextPageToken": ""});
    Mock::given(path("/v2/projects/p1/devices/d1/events"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page))
        .mount(&server)
        .await;
    let range = (
        "2024-01-01T00:00:00Z".parse().unwrap(),
        "2024-01-02T00:00:00Z".parse().unwrap(),
    );
    let client = basic(&server);
    let events: Vec<dt_client::Event> = client
        .events("p1", "d1")
        .range(range.0, range.1)
        .stream()
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(ids, ["inside"]);
    // Inside the range, the event that does not decode is named.
    let wider = client
        .events("p1", "d1")
        .range(range.0, "2024-01-03T00:00:00Z".parse().unwrap())
        .stream()
        .try_collect::<Vec<dt_client::Event>>()
        .await
        .unwrap_err();
    assert!(matches!(wider, Error::Decode(_)), "{wider}");
    assert!(
        wider.to_string().contains("event at-end does not decode"),
        "{wider}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_asks_for_the_next_page_while_it_decodes_one_and_send_asks_once() {
    let server = MockServer::start().await;
    let at = "2024-01-01T12:00:00Z";
    for (token, next) in [("", "t2"), ("t2", "t3"), ("t3", "")] {
        let mock = Mock::given(path("/v2/projects/p1/devices/d1/events"));
        let mock = if token.is_empty() {
            mock.and(wiremock::matchers::query_param_is_missing("pageToken"))
        } else {
            mock.and(query_param("pageToken", token))
        };
        let id = if token.is_empty() { "t1" } else { token };
        mock.respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "events": [temperature(id, at, json!({"value": 1}))], "nextPageToken": next})))
            .mount(&server)
            .await;
    }
    let requests = || async { server.received_requests().await.unwrap().len() };
    let query = || {
        basic(&server).events("p1", "d1").range(
            "2024-01-01T00:00:00Z".parse().unwrap(),
            "2024-01-02T00:00:00Z".parse().unwrap(),
        )
    };
    assert_eq!(query().send().await.unwrap().items.len(), 1);
    assert_eq!(requests().await, 1, "send is the first page alone");

    let mut pages = query().pages();
    pages.try_next().await.unwrap().unwrap();
    pages.try_next().await.unwrap().unwrap();
    // The third page was asked for while the second was decoded, before the caller
    // asked for it.
    let asked = tokio::time::timeout(Duration::from_secs(10), async {
        while requests().await < 4 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    assert!(asked.is_ok(), "the third page was not asked for ahead");
    let last = pages.try_next().await.unwrap().unwrap();
    assert_eq!(last.items[0].event_id, "t3");
    assert!(pages.try_next().await.unwrap().is_none());
    assert_eq!(requests().await, 4, "each page asked for once");
}

#[tokio::test]
async fn connector_requests_send_exactly_the_documents_bodies() {
    let server = MockServer::start().await;
    let connector = json!({"name": "projects/p1/dataconnectors/c1", "status": "USER_DISABLED"});
    for (body, status) in [
        (json!({"status": "USER_DISABLED"}), 200),
        (json!({"events": ["temperature", "humidity"]}), 200),
        (json!({"labels": ["name", "floor"]}), 200),
        (json!({"httpConfig": {"headers": {"my-header": "my-value"}}}), 200),
        (
            json!({"httpConfig": {"signatureSecret": "some-good-secret"}}),
            200,
        ),
    ] {
        Mock::given(method("PATCH"))
            .and(path("/v2/projects/p1/dataconnectors/c1"))
            .and(body_json(&body))
            .respond_with(ResponseTemplate::new(status).set_body_json(&connector))
            .expect(1)
            .mount(&server)
            .await;
    }
    Mock::given(method("POST"))
        .and(path("/v2/projects/p1/dataconnectors"))
        .and(body_json(
            json!({"displayName": "receiver", "type": "HTTP_PUSH", "events": ["touch"],
            "httpConfig": {"url": "https://receiver.example.com/push", "signatureSecret": "s"}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(&connector))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/projects/p1/dataconnectors/c1:sync"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/projects/p1/dataconnectors/c1:metrics"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"metrics": {"successCount": 5, "errorCount": 1, "latency99p": "0.2s"}}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/v2/projects/p1/dataconnectors/c1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let client = basic(&server);
    for update in [
        ConnectorUpdate::new().status(ConnectorStatus::UserDisabled),
        ConnectorUpdate::new().events(["temperature", "humidity"]),
        ConnectorUpdate::new().labels(["name", "floor"]),
        ConnectorUpdate::new().headers([("my-header", "my-value")]),
        ConnectorUpdate::new().signature_secret(SecretString::from("some-good-secret")),
    ] {
        let updated = client.update_data_connector("p1", "c1", &update).await.unwrap();
        assert_eq!(updated.status, Some(ConnectorStatus::UserDisabled));
    }
    assert!(matches!(
        client
            .update_data_connector("p1", "c1", &ConnectorUpdate::new())
            .await,
        Err(Error::InvalidRequest(_))
    ));
    let new = NewDataConnector::new("receiver", "https://receiver.example.com/push").with(
        ConnectorUpdate::new()
            .events(["touch"])
            .signature_secret(SecretString::from("s")),
    );
    client.create_data_connector("p1", &new).await.unwrap();
    client.sync_data_connector("p1", "c1").await.unwrap();
    let metrics = client.data_connector_metrics("p1", "c1").await.unwrap();
    assert_eq!(
        (
            metrics.success_count,
            metrics.error_count,
            metrics.latency99p.as_deref()
        ),
        (5, 1, Some("0.2s"))
    );
    client.delete_data_connector("p1", "c1").await.unwrap();
}

#[tokio::test]
async fn a_dot_segment_id_is_refused_before_anything_is_sent() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(204))
        .expect(0)
        .mount(&server)
        .await;
    let client = basic(&server);
    for id in ["..", ".", "%2e%2E", ".%2e", "%252e%252e"] {
        let err = client.delete_data_connector("p1", id).await.unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{id}: {err:?}");
        assert!(err.to_string().contains("path segment"), "{err}");
        let err = client.delete_data_connector(id, "c1").await.unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{id}: {err:?}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_builders_request_timeout_ends_a_slow_response() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(60)))
        .mount(&server)
        .await;
    let client = Client::builder()
        .base_url(format!("{}/v2", server.uri()))
        .basic("key-1", SecretString::from("secret-1"))
        .request_timeout(Some(Duration::from_millis(100)))
        .read_timeout(None)
        .retry_policy(client_core::RetryPolicy::none())
        .build()
        .unwrap();
    let err = client.project("p1").await.unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
}

#[tokio::test]
async fn batch_updates_transfers_and_the_emulator() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v2/projects/p1/devices:batchUpdate"))
        .and(body_json(json!({"devices": ["projects/p1/devices/d1"], "addLabels": {"zone": "n"}, "removeLabels": ["old"]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"batchErrors": []})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/projects/target/devices:transfer"))
        .and(body_json(json!({"devices": ["projects/src/devices/d1"]})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"transferErrors": [
            {"device": "projects/src/devices/d1", "status": {"code": 7, "message": "denied"}}]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/emulator/v2/projects/p1/devices"))
        .and(body_json(
            json!({"type": "temperature", "labels": {"name": "emu"}}),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"name": "projects/p1/devices/emu1", "type": "temperature"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/emulator/v2/projects/p1/devices/emu1:publish"))
        .and(body_json(json!({"temperature": {"value": 21.5}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let client = basic(&server);
    let errors = client
        .update_labels("p1", ["d1"], &LabelChanges::new().set("zone", "n").remove("old"))
        .await
        .unwrap();
    assert!(errors.is_empty());
    let errors = client.transfer("target", [("src", "d1")]).await.unwrap();
    assert_eq!(errors[0].status.as_ref().unwrap()["code"], 7);
    let labels = serde_json::Map::from_iter([("name".to_owned(), json!("emu"))]);
    let device = client
        .create_emulated_device("p1", "temperature", &labels)
        .await
        .unwrap();
    client
        .publish("p1", device.id().unwrap(), "temperature", &json!({"value": 21.5}))
        .await
        .unwrap();
}

#[tokio::test]
async fn the_stream_request_and_its_framing() {
    let server = MockServer::start().await;
    let event = json!({"eventId": "e1", "targetName": "projects/p1/devices/d1", "eventType": "touch",
        "data": {"touch": {"updateTime": "2024-01-01T00:00:00Z"}}, "timestamp": "2024-01-01T00:00:00Z"});
    let ping = json!({"eventId": "", "targetName": "projects/p1", "eventType": "ping", "data": {}, "timestamp": "2024-01-01T00:00:00Z"});
    let body = format!(
        "{}\n{}\n{}\n",
        json!({"result": {"event": ping}}),
        json!({"result": {"event": event}}),
        json!({"result": {"event": event}})
    );
    Mock::given(path("/v2/projects/p1/devices:stream"))
        .and(header("accept", "application/json"))
        .respond_with(ResponseTemplate::new(200).set_body_string(body))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    // The reconnect: refused for good.
    Mock::given(path("/v2/projects/p1/devices:stream"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(json!({"error": "forbidden", "code": 7, "help": "https://docs"})),
        )
        .mount(&server)
        .await;
    Mock::given(path("/v2/projects/p1/devices/d1/events"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"events": [event], "nextPageToken": ""})),
        )
        .mount(&server)
        .await;
    // The devices of the scope: ids, types and labels together.
    Mock::given(path("/v2/projects/p1/devices"))
        .and(query_param("device_ids", "d1"))
        .and(query_param("device_types", "touch"))
        .and(query_param("label_filters", "floor=1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"devices": [{"name": "projects/p1/devices/d1", "type": "touch"}], "nextPageToken": ""}),
        ))
        .mount(&server)
        .await;
    let mut items = basic(&server)
        .live_events("p1")
        .device_ids(["d1"])
        .device_types(["touch"])
        .label_equals("floor", "1")
        .event_types(["touch"])
        .ping_interval(Duration::from_secs(30))
        .stream();
    let mut got = Vec::new();
    while let Some(item) = items.next().await {
        got.push(item);
    }
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        matches!(&got[0], Ok(StreamItem::Event(e)) if e.event_id == "e1"),
        "the ping is hidden, the repeat dropped"
    );
    match &got[1] {
        Err(Error::Forbidden(api)) => assert_eq!(api.help.as_deref(), Some("https://docs")),
        other => panic!("{other:?}"),
    }
    let received = server.received_requests().await.unwrap();
    assert!(
        received.iter().any(|r| r.url.path() == "/v2/projects/p1/devices"),
        "the backfill's scope is listed with every filter"
    );
    let request = &received[0];
    assert_eq!(
        query_of(request),
        pairs(&[
            ("device_ids", "d1"),
            ("device_types", "touch"),
            ("label_filters", "floor=1"),
            ("event_types", "touch"),
            ("ping_interval", "30s"),
        ])
    );
}

#[tokio::test]
async fn server_sent_events_hide_pings_and_join_data_lines() {
    let server = MockServer::start().await;
    let ping = json!({"result": {"event": {"eventId": "", "targetName": "projects/p1", "eventType": "ping", "data": {}, "timestamp": "2024-01-01T00:00:00Z"}}});
    // One event split over two `data:` lines, between a comment and a ping.
    let body = format!(
        ": keep-alive\ndata: {ping}\n\nevent: message\ndata: {{\"result\":{{\"event\":{{\"eventId\":\"e7\",\"targetName\":\"projects/p1/devices/d1\",\ndata: \"eventType\":\"touch\",\"data\":{{\"touch\":{{}}}},\"timestamp\":\"2024-01-01T00:00:00Z\"}}}}}}\n\n"
    );
    Mock::given(path("/v2/projects/p1/devices:stream"))
        .and(header("accept", "text/event-stream"))
        .respond_with(ResponseTemplate::new(200).set_body_string(body))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/v2/projects/p1/devices:stream"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": "gone", "code": 5})))
        .mount(&server)
        .await;
    Mock::given(path("/v2/projects/p1/devices/d1/events"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"events": [], "nextPageToken": ""})))
        .mount(&server)
        .await;
    let items: Vec<_> = basic(&server)
        .live_events("p1")
        .device_ids(["d1"])
        .sse(true)
        .stream()
        .collect()
        .await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert!(
        matches!(&items[0], Ok(StreamItem::Event(e)) if e.event_id == "e7" && e.event_type == "touch"),
        "{items:?}"
    );
    assert!(matches!(items[1], Err(Error::NotFound(_))));
}

#[test]
fn configuration_errors_and_secrets() {
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
    // Every problem at once: both missing variables, the bad mode (named, its value
    // not shown: it may be a secret in the wrong variable) and the renamed variable.
    assert_eq!(
        message(from(&[
            ("DT_AUTH", "my-secret-value"),
            ("DT_API_URL", "https://staging.example.com/v2/")
        ])),
        "DT: missing DT_SERVICE_ACCOUNT_KEY_ID, DT_SERVICE_ACCOUNT_SECRET; \
         DT_API_URL was renamed to DT_BASE_URL; DT_AUTH must be `basic` or `oauth2`"
    );
    // Half a key is missing its other half.
    assert_eq!(
        message(from(&[("DT_SERVICE_ACCOUNT_SECRET", "s")])),
        "DT: missing DT_SERVICE_ACCOUNT_KEY_ID"
    );
    // Malformed endpoints are named, with every other problem.
    let bad_urls = message(from(&[("DT_TOKEN_URL", "not a url"), ("DT_EMULATOR_URL", "::")]));
    assert!(
        bad_urls.contains("DT_TOKEN_URL: ")
            && bad_urls.contains("DT_EMULATOR_URL: ")
            && !bad_urls.contains("not a url"),
        "{bad_urls}"
    );
    assert!(
        message(from(&[
            ("DT_SERVICE_ACCOUNT_KEY_ID", "k"),
            ("DT_SERVICE_ACCOUNT_SECRET", "s"),
            ("DT_AUTH", "oauth2")
        ]))
        .contains("DT_AUTH=oauth2 needs DT_SERVICE_ACCOUNT_EMAIL")
    );
    let client = from(&[
        ("DT_SERVICE_ACCOUNT_KEY_ID", "k"),
        ("DT_SERVICE_ACCOUNT_SECRET", "very-secret-key"),
    ])
    .unwrap();
    assert_eq!(
        client.base_url().as_str(),
        "https://api.disruptive-technologies.com/v2/"
    );
    assert_eq!(client.page_size(), dt_client::DEFAULT_PAGE_SIZE);
    assert!(!format!("{client:?}").contains("very-secret-key"));
    let moved = from(&[
        ("DT_SERVICE_ACCOUNT_KEY_ID", "k"),
        ("DT_SERVICE_ACCOUNT_SECRET", "s"),
        ("DT_BASE_URL", "https://api.d21s.com/v2"),
    ])
    .unwrap();
    assert_eq!(moved.base_url().as_str(), "https://api.d21s.com/v2/");
    // The old name is refused, even beside the new one: a deployment pointing it at
    // staging must not send its key to production.
    assert_eq!(
        message(from(&[
            ("DT_SERVICE_ACCOUNT_KEY_ID", "k"),
            ("DT_SERVICE_ACCOUNT_SECRET", "s"),
            ("DT_BASE_URL", "https://api.d21s.com/v2"),
            ("DT_API_URL", "https://staging.example.com/v2/"),
        ])),
        "DT: DT_API_URL was renamed to DT_BASE_URL"
    );
    assert!(dt_client::env::ALL.contains(&"DT_BASE_URL"));
    assert!(!dt_client::env::ALL.contains(&"DT_API_URL"));
    let builder = Client::builder().service_account("k", SecretString::from("very-secret-key"), "e@x");
    assert!(!format!("{builder:?}").contains("very-secret-key"));
}

#[test]
fn a_zero_page_size_is_refused_at_build_and_on_a_request() {
    let builder = || Client::builder().basic("k", SecretString::from("s"));
    assert!(matches!(builder().page_size(0).build(), Err(Error::Config(_))));
    assert!(
        matches!(Client::builder().build(), Err(Error::Config(e)) if e.message().contains("service account key"))
    );
    let client = builder().build().unwrap();
    assert!(matches!(
        client.devices("p1").page_size(0).to_request(),
        Err(Error::InvalidRequest(_))
    ));
    assert!(matches!(
        client.events("p1", "d1").page_size(0).to_request(),
        Err(Error::InvalidRequest(_))
    ));
}

#[tokio::test]
async fn the_stream_is_read_in_the_framing_its_content_type_names() {
    let event = |id: &str| {
        json!({"result": {"event": {"eventId": id, "targetName": "projects/p1/devices/d1", "eventType": "touch",
            "data": {"touch": {}}, "timestamp": "2024-01-01T00:00:00Z"}}})
    };
    // Asked for NDJSON, answered SSE; asked for SSE, answered NDJSON.
    for (asked_sse, content_type, body) in [
        (false, "text/event-stream", format!("data: {}\n\n", event("e1"))),
        (true, "application/json", format!("{}\n", event("e1"))),
        (
            true,
            "application/x-ndjson; charset=utf-8",
            format!("{}\n", event("e1")),
        ),
    ] {
        let server = MockServer::start().await;
        Mock::given(path("/v2/projects/p1/devices:stream"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(body.into_bytes(), content_type))
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
            .sse(asked_sse)
            .stream()
            .collect()
            .await;
        assert!(
            matches!(&items[0], Ok(StreamItem::Event(e)) if e.event_id == "e1"),
            "{content_type}: {items:?}"
        );
        assert!(
            matches!(items[1], Err(Error::NotFound(_))),
            "{content_type}: {items:?}"
        );
    }
}

#[tokio::test]
async fn a_history_without_a_start_resumes_in_the_window_its_first_run_pinned() {
    let server = MockServer::start().await;
    let event = |id: &str| {
        json!({"eventId": id, "targetName": "projects/p1/devices/d1", "eventType": "touch",
            "data": {"touch": {"updateTime": "2024-01-01T00:00:00Z"}}, "timestamp": jiff::Timestamp::now().to_string()})
    };
    Mock::given(path("/v2/projects/p1/devices/d1/events"))
        .and(query_param("pageToken", "t2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"events": [event("e2")]})))
        .mount(&server)
        .await;
    Mock::given(path("/v2/projects/p1/devices/d1/events"))
        .and(wiremock::matchers::query_param_is_missing("pageToken"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"events": [event("e1"), event("e1b")], "nextPageToken": "t2"})),
        )
        .mount(&server)
        .await;
    let client = basic(&server);
    let first = client
        .events("p1", "d1")
        .checkpointed()
        .try_next()
        .await
        .unwrap()
        .unwrap();
    // Stopped inside the first page: its checkpoint holds the pinned start too.
    assert_eq!(first.item.event_id, "e1");
    let rest: Vec<_> = client
        .events("p1", "d1")
        .resume_from(first.checkpoint.clone())
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(
        rest.iter().map(|e| e.event_id.as_str()).collect::<Vec<_>>(),
        ["e1b", "e2"]
    );
    let requests = server.received_requests().await.unwrap();
    let start = |request: &Request| {
        query_of(request)
            .into_iter()
            .find(|(name, _)| name == "startTime")
            .map(|(_, value)| value)
    };
    // The first run asked from 24 h before now, and the resumed run asked the same.
    let pinned = start(&requests[0]).expect("the first run pins its start");
    let pinned_at: jiff::Timestamp = pinned.parse().unwrap();
    let age = jiff::Timestamp::now().duration_since(pinned_at);
    assert!(age >= jiff::SignedDuration::from_hours(24) && age < jiff::SignedDuration::from_hours(25));
    assert_eq!(start(&requests[1]).as_deref(), Some(pinned.as_str()));
    // A checkpoint at a page without the pinned start (one an older client stored) is refused.
    let mut stale = first.checkpoint;
    stale.state = Value::Null.into();
    let err = client
        .events("p1", "d1")
        .resume_from(stale)
        .stream()
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Config(_)) && err.to_string().contains("range("),
        "{err:?}"
    );
}
