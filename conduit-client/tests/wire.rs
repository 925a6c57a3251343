//! The wire contract against wiremock: requests, headers, statuses, gzip.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use client_core::http::Method;
use client_core::{ManualClock, RetryPolicy, Throttle};
use conduit_client::{Client, Error, RawDatapoint, Tier};
use futures::TryStreamExt;
use jiff::Timestamp;
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "conduit-token-abc123";

fn client(server: &MockServer) -> (Client, ManualClock) {
    let clock = ManualClock::new();
    let client = Client::builder()
        .base_url(format!("{}/conduitv6", server.uri()))
        .token(SecretString::from(TOKEN))
        .tier(Tier::Unlimited)
        .retry_policy(RetryPolicy::default().with_jitter(false))
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    (client, clock)
}

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).unwrap()
}

#[tokio::test]
async fn datapoints_request_is_exact_and_keeps_the_token_out_of_the_url() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/conduitv6/"))
        .and(header("x-api-key", TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"val_date": 1614054737, "dev_netid": "70B3D54990DC01DA", "dev_chid": 1, "val_raw": 4.091,
             "val_calibrated": 4.091, "unknown_attr": true}
        ])))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client(&server);
    let points = client
        .datapoints()
        .id("70B3D54990DC01DA")
        .id("A B&C")
        .channels([1, 2])
        .range(at(1_614_000_000), at(1_614_086_400))
        .send()
        .await
        .unwrap();
    // One response is one page: no next page (the API does not page), nothing besides.
    assert_eq!(points.len(), 1);
    assert_eq!(points.items[0].val_date, Some(at(1_614_054_737)));
    assert_eq!((points.cursor.as_ref(), points.next.as_ref()), (None, None));
    assert!(points.meta.is_empty());

    let request = &server.received_requests().await.unwrap()[0];
    assert_eq!(request.url.path(), "/conduitv6/");
    assert_eq!(
        request.url.query(),
        Some("id=70B3D54990DC01DA&id=A+B%26C&ch=1&ch=2&fcdt=1614000000&tcdt=1614086400")
    );
    assert!(!request.url.as_str().contains(TOKEN));
    assert_eq!(request.headers["accept"], "application/json");
    assert_eq!(request.headers["accept-encoding"], "gzip");
    assert!(
        request.headers["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("conduit-client/")
    );
}

#[tokio::test]
async fn half_a_range_is_refused_before_sending() {
    let server = MockServer::start().await;
    let (client, _) = client(&server);
    let err = client.datapoints().from(at(10)).send().await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err}");
    let err = client.datapoints().to(at(10)).send().await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)));
    let err = client
        .datapoints()
        .range(at(10), at(10))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)));
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn no_range_asks_for_the_default_last_hour() {
    let server = MockServer::start().await;
    Mock::given(path("/conduitv6/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    let (client, _) = client(&server);
    assert!(client.datapoints().send().await.unwrap().is_empty());
    assert_eq!(server.received_requests().await.unwrap()[0].url.query(), None);
}

#[tokio::test]
async fn not_modified_is_an_empty_result() {
    let server = MockServer::start().await;
    Mock::given(path("/conduitv6/"))
        .respond_with(ResponseTemplate::new(304))
        .mount(&server)
        .await;
    let (client, _) = client(&server);
    assert!(
        client
            .datapoints()
            .range(at(0), at(60))
            .send()
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn each_status_maps_to_its_error_with_code_and_text() {
    let cases: [(u16, Value); 9] = [
        (400, json!({"code": "400", "error": "Bad Request"})),
        (401, json!({"code": 401, "error": "Unauthorized"})),
        (403, json!({"code": "403", "error": "Forbidden"})),
        (404, json!({"code": "404", "error": "Not found"})),
        (405, json!({"code":"405","error":"Method Not Allowed"})),
        (413, json!({"code": "413", "error": "Request Too Large"})),
        (429, json!({"code": 429, "error": "Too Many Requests"})),
        (500, json!({"code": "500", "error": "Internal Server Error"})),
        (503, json!({"code": 503, "error": "Service Unavailable"})),
    ];
    for (status, body) in cases {
        let server = MockServer::start().await;
        let mut template = ResponseTemplate::new(status).set_body_json(body.clone());
        if status == 429 {
            template = template.insert_header("Retry-After", "20");
        }
        Mock::given(path("/conduitv6/"))
            .respond_with(template)
            .mount(&server)
            .await;
        let (client, clock) = client(&server);
        let client_err = client.datapoints().range(at(0), at(60)).send().await.unwrap_err();
        let api = client_err
            .api()
            .unwrap_or_else(|| panic!("{status}: {client_err}"));
        assert_eq!(api.status, status);
        assert_eq!(api.code_text().as_deref(), Some(status.to_string().as_str()));
        assert_eq!(client_err.status(), Some(status));
        assert_eq!(api.message.as_deref(), body["error"].as_str());
        let variant_ok = match status {
            400 => matches!(client_err, Error::BadRequest(_)),
            401 => matches!(client_err, Error::Unauthorized(_)),
            403 => matches!(client_err, Error::Forbidden(_)),
            404 => matches!(client_err, Error::NotFound(_)),
            405 => matches!(client_err, Error::UnexpectedStatus(_)),
            413 => matches!(client_err, Error::RequestTooLarge(_)),
            429 => {
                matches!(client_err, Error::Throttled { retry_after, .. } if retry_after == Some(Duration::from_secs(20)))
            }
            _ => matches!(client_err, Error::Server(_)),
        };
        assert!(variant_ok, "{status} gave {client_err:?}");
        let attempts = server.received_requests().await.unwrap().len();
        let retried = matches!(status, 429 | 500 | 503);
        assert_eq!(attempts, if retried { 4 } else { 1 }, "{status}");
        if status == 429 {
            assert_eq!(clock.sleeps(), vec![Duration::from_secs(20); 3]);
        }
        assert!(!client_err.to_string().contains(TOKEN));
    }
}

#[tokio::test]
async fn a_429_without_retry_after_waits_the_interval_then_recovers() {
    let server = MockServer::start().await;
    Mock::given(path("/conduitv6/"))
        .respond_with(
            ResponseTemplate::new(429).set_body_json(json!({"code": 429, "error": "Too Many Requests"})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/conduitv6/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    let clock = ManualClock::new();
    let client = Client::builder()
        .base_url(format!("{}/conduitv6/", server.uri()))
        .token(SecretString::from(TOKEN))
        .clock(Arc::new(clock.clone()))
        .throttle(Throttle::with_clock(
            1,
            Duration::from_secs(15),
            Arc::new(clock.clone()),
        ))
        .build()
        .unwrap();
    client.datapoints().range(at(0), at(60)).send().await.unwrap();
    // The retry waits the 15 s interval (throttle deferred), nothing else.
    let total: Duration = clock.sleeps().iter().sum();
    assert_eq!(total, Duration::from_secs(15), "{:?}", clock.sleeps());
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    out
}

#[tokio::test]
async fn large_bodies_are_gzipped_small_ones_are_not() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&server)
        .await;
    let (client, _) = client(&server);
    let small = json!({"name": "x"});
    let large = json!({"values": vec!["0123456789"; 200]});
    let answer: Option<Value> = client
        .request(Method::POST, "devices")
        .json(&small)
        .send()
        .await
        .unwrap();
    assert_eq!(answer, Some(json!({"ok": true})));
    let _: Option<Value> = client
        .request(Method::POST, "devices")
        .json(&large)
        .send()
        .await
        .unwrap();

    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests[0].url.path(), "/conduitv6/devices");
    assert_eq!(requests[0].headers["content-type"], "application/json");
    assert!(requests[0].headers.get("content-encoding").is_none());
    assert_eq!(serde_json::from_slice::<Value>(&requests[0].body).unwrap(), small);
    assert_eq!(requests[1].headers["content-encoding"], "gzip");
    assert_eq!(
        serde_json::from_slice::<Value>(&gunzip(&requests[1].body)).unwrap(),
        large
    );
}

#[tokio::test]
async fn gzip_responses_are_decoded() {
    use std::io::Write;
    let server = MockServer::start().await;
    let points: Vec<Value> = (0..100)
        .map(|i| json!({"val_date": 1_600_000_000 + i, "dev_chid": 1}))
        .collect();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(serde_json::to_string(&points).unwrap().as_bytes())
        .unwrap();
    Mock::given(path("/conduitv6/"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-encoding", "gzip")
                .insert_header("content-type", "application/json")
                .set_body_bytes(encoder.finish().unwrap()),
        )
        .mount(&server)
        .await;
    let (client, _) = client(&server);
    assert_eq!(
        client
            .datapoints()
            .range(at(0), at(60))
            .send()
            .await
            .unwrap()
            .len(),
        100
    );
}

#[tokio::test]
async fn a_body_over_5_mb_is_refused_before_sending() {
    let server = MockServer::start().await;
    let (client, _) = client(&server);
    let huge = json!({"blob": "x".repeat(5_000_001)});
    let err = client
        .request(Method::POST, "import")
        .json(&huge)
        .send::<Value>()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidRequest(text) if text.contains("5000000-byte limit")),
        "{err}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn method_override_sends_post_with_the_header() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header("x-http-method-override", "DELETE"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client(&server);
    let none: Option<Value> = client
        .request(Method::DELETE, "devices/1")
        .json(&json!({}))
        .method_override(true)
        .send()
        .await
        .unwrap();
    assert_eq!(none, None);
    let _: Option<Value> = client
        .request(Method::PUT, "devices/1")
        .json(&json!({"a": 1}))
        .send()
        .await
        .unwrap();
}

#[test]
fn env_vars_need_the_token_and_debug_hides_it() {
    let err = Client::from_vars(|_| None).unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert!(err.to_string().contains("CONDUIT_TOKEN"), "{err}");
    let client = Client::from_vars(|name| match name {
        "CONDUIT_TOKEN" => Some("env-token-xyz".into()),
        "CONDUIT_BASE_URL" => Some("http://127.0.0.1:9/conduitv6".into()),
        _ => None,
    })
    .unwrap();
    assert_eq!(client.base_url().as_str(), "http://127.0.0.1:9/conduitv6/");
    assert!(!format!("{client:?}").contains("env-token-xyz"));
    let default = Client::from_vars(|name| (name == "CONDUIT_TOKEN").then(|| "t".to_owned())).unwrap();
    assert_eq!(default.base_url().as_str(), "https://app.alphax.cloud/conduitv6/");
    assert_eq!(default.interval(), Some(Duration::from_secs(15)));
}

#[tokio::test]
async fn datapoints_keep_unknown_attributes_and_decode_into_any_type() {
    let server = MockServer::start().await;
    let body = json!([
        {"val_date": 10, "dev_netid": "A", "dev_chid": 1, "val_calibrated": 120.0, "val_quality": "good"},
        {"val_date": "11", "dev_netid": "A", "dev_chid": 1, "val_calibrated": 1e-5, "extra": {"x": [1, 2]}}
    ]);
    Mock::given(path("/conduitv6/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body.clone()))
        .mount(&server)
        .await;
    let (client, _) = client(&server);
    let points = client.datapoints().range(at(0), at(60)).send().await.unwrap();
    assert_eq!(points.items[0].other["val_quality"], "good");
    assert_eq!(points.items[1].other["extra"], json!({"x": [1, 2]}));
    assert_eq!(points.items[1].val_calibrated, Some(1e-5));
    // Your own type: here the server's JSON itself, through the complete-range stream.
    let raw: Vec<Value> = client
        .datapoints()
        .records::<Value>()
        .range(at(0), at(60))
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(raw, body.as_array().unwrap().clone());
}

#[tokio::test]
async fn the_shared_builder_vocabulary_reaches_the_wire() {
    let server = MockServer::start().await;
    Mock::given(path("/conduitv6/"))
        .and(header(
            "user-agent",
            concat!(
                "conduit-client/",
                env!("CARGO_PKG_VERSION"),
                " client-core/0.1.0 my-service/2.1"
            ),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    let client = Client::builder()
        .base_url(format!("{}/conduitv6", server.uri()))
        .token(SecretString::from(TOKEN))
        .tier(Tier::Unlimited)
        .read_timeout(Some(Duration::from_secs(5)))
        .connect_timeout(Some(Duration::from_secs(2)))
        .retry_policy(RetryPolicy::none())
        .user_agent_suffix("my-service/2.1")
        .build()
        .unwrap();
    client.datapoints().range(at(0), at(60)).send().await.unwrap();
}

#[tokio::test]
async fn a_datapoint_with_a_bad_val_date_is_kept_and_does_not_fail_its_window() {
    let server = MockServer::start().await;
    let texts = [
        r#"{"val_date":20,"dev_netid":"A","dev_chid":1,"val_raw":1}"#,
        r#"{"val_date":"soon","dev_netid":"A","dev_chid":1,"val_raw":2}"#,
        r#"{"val_date":99999999999999999999,"dev_netid":"A","dev_chid":1,"val_raw":3}"#,
    ];
    Mock::given(path("/conduitv6/"))
        .respond_with(ResponseTemplate::new(200).set_body_string(format!("[{}]", texts.join(","))))
        .mount(&server)
        .await;
    let (client, _) = client(&server);
    let read = || client.datapoints().records::<RawDatapoint>().range(at(0), at(60));
    let whole: Vec<String> = read()
        .stream()
        .map_ok(|p| p.as_str().to_owned())
        .try_collect()
        .await
        .unwrap();
    // Undated sorts first, by text; every datapoint is kept as sent.
    assert_eq!(whole, [texts[1], texts[2], texts[0]]);
    // A resume inside that window goes on.
    let mut first = read().checkpointed();
    let checkpoint = first.try_next().await.unwrap().unwrap().checkpoint;
    drop(first);
    let rest: Vec<String> = read()
        .resume_from(checkpoint)
        .stream()
        .map_ok(|p| p.as_str().to_owned())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rest, whole[1..]);
    let typed = client.datapoints().range(at(0), at(60)).send().await.unwrap();
    assert_eq!(typed.items.iter().filter(|p| p.val_date.is_none()).count(), 2);
}
