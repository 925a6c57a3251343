//! The client shape against wiremock: the 429 classifier, inspectable requests, the
//! variables, any credential, and lossless storing.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use client_core::http::Method;
use client_core::{ClientBuilderShape, ManualClock, Pageable, Request, Sendable, Storable, Streamable};
use conduit_client::prelude::*;
use conduit_client::{
    Client, DatapointsQuery, Error, HeaderCredential, RawDatapoint, RetryPolicy, SecretString, Tier, Written,
    env,
};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use wiremock::matchers::{header, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "conduit-token-abc123";
/// 2026-01-01T00:00:00Z.
const START: i64 = 1_767_225_600;

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).unwrap()
}

fn builder(server: &MockServer) -> conduit_client::ClientBuilder {
    Client::builder()
        .base_url(format!("{}/conduitv6/", server.uri()))
        .token(SecretString::from(TOKEN))
        .tier(Tier::Unlimited)
        .retry_policy(RetryPolicy::default().with_jitter(false))
}

async fn answering(template: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path("/conduitv6/"))
        .respond_with(template)
        .mount(&server)
        .await;
    server
}

/// A client whose every request is answered 429 without `Retry-After`.
async fn throttled(tier: Tier) -> (MockServer, Client, ManualClock) {
    let server = answering(
        ResponseTemplate::new(429).set_body_json(json!({"code": 429, "error": "Too Many Requests"})),
    )
    .await;
    let clock = ManualClock::new();
    let client = builder(&server)
        .tier(tier)
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    (server, client, clock)
}

#[tokio::test]
async fn a_429_without_retry_after_waits_the_clients_interval() {
    for (tier, interval) in [(Tier::TenSeconds, 10), (Tier::Standard, 15)] {
        let (server, client, clock) = throttled(tier).await;
        let err = client.datapoints().range(at(0), at(60)).send().await.unwrap_err();
        let interval = Duration::from_secs(interval);
        // Without the classifier: the policy's backoff (0.5 s, 1 s, 2 s) and no wait named.
        assert_eq!(clock.sleeps(), vec![interval; 3], "{tier}");
        assert!(
            matches!(err, Error::Throttled { retry_after: Some(wait), .. } if wait == interval),
            "{tier}: {err:?}"
        );
        assert_eq!(err.retry_after(), Some(interval));
        assert_eq!(server.received_requests().await.unwrap().len(), 4);
    }
}

#[tokio::test]
async fn without_an_interval_a_429_without_retry_after_gets_the_policys_backoff() {
    let (server, client, clock) = throttled(Tier::Unlimited).await;
    let err = client.datapoints().range(at(0), at(60)).send().await.unwrap_err();
    // Not the 15 s of the standard tier: the retry policy's backoff, jitter off.
    let backoff = [500, 1000, 2000].map(Duration::from_millis);
    assert_eq!(clock.sleeps(), backoff);
    assert!(matches!(err, Error::Throttled { .. }), "{err:?}");
    assert_eq!(err.retry_after(), None);
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
}

const DAY: i64 = 86_400;
/// The devices and channels of the request tests, with their query text.
const DEVICES: &str = "id=A&id=B+C%26D&ch=1&ch=2";

/// A server answering every request with no datapoint, and a query of 40 days (longer
/// than one window) for two devices and two channels.
async fn forty_days_of_nothing() -> (MockServer, DatapointsQuery) {
    let server = answering(ResponseTemplate::new(200).set_body_json(json!([]))).await;
    let query = builder(&server)
        .build()
        .unwrap()
        .datapoints()
        .id("A")
        .id("B C&D")
        .channels([1, 2])
        .range(at(START), at(START + 40 * DAY));
    (server, query)
}

#[tokio::test]
async fn to_request_is_the_request_send_sends() {
    // Longer than one window, sent as given all the same.
    let (server, query) = forty_days_of_nothing().await;
    let preview = query.to_request().unwrap();
    assert_eq!(preview.method, Method::GET);
    assert_eq!(preview.url.as_str(), format!("{}/conduitv6/", server.uri()));
    assert_eq!(
        preview.query_string(),
        format!("{DEVICES}&fcdt={START}&tcdt={}", START + 40 * DAY)
    );
    assert_eq!(preview.body, None);
    // The trait gives the same request.
    assert!(Request::to_request(&query).unwrap() == preview);

    query.send().await.unwrap();
    let sent = server.received_requests().await.unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].url.path(), preview.url.path());
    assert_eq!(sent[0].url.query(), Some(preview.query_string().as_str()));
}

#[tokio::test]
async fn the_first_request_of_a_complete_range_read_is_the_first_window() {
    let (server, query) = forty_days_of_nothing().await;
    let windows: Vec<_> = query.clone().pages().try_collect().await.unwrap();
    query.stream().try_collect::<Vec<_>>().await.unwrap();
    let sent = server.received_requests().await.unwrap();
    // A second before `from`, up to 31 days less that second: every end convention.
    let first = format!("{DEVICES}&fcdt={}&tcdt={}", START - 1, START + 31 * DAY - 1);
    assert_eq!(sent.len(), 4);
    for request in [&sent[0], &sent[2]] {
        assert_eq!(request.url.query(), Some(first.as_str()));
    }
    // Two windows, back to back over the range, each one request.
    assert_eq!(windows.len(), 2);
    assert_eq!(
        (windows[0].from, windows[1].to),
        (at(START), at(START + 40 * DAY))
    );
    assert_eq!(windows[0].to, windows[1].from);
    assert!(windows.iter().all(|w| w.items.is_empty() && w.requests == 1));
}

#[tokio::test]
async fn ranges_at_the_ends_of_time_do_not_panic() {
    let server = answering(ResponseTemplate::new(200).set_body_json(json!([]))).await;
    let client = builder(&server).build().unwrap();
    let query = client.datapoints().range(Timestamp::MIN, Timestamp::MAX);
    let (fcdt, tcdt) = (Timestamp::MIN.as_second(), Timestamp::MAX.as_second());
    assert_eq!(
        query.to_request().unwrap().query_string(),
        format!("fcdt={fcdt}&tcdt={tcdt}")
    );
    assert!(query.clone().send().await.unwrap().is_empty());
    // The first window of the complete-range read, and the one after it.
    let windows: Vec<_> = query.pages().take(2).try_collect().await.unwrap();
    assert_eq!(windows[0].from, Timestamp::MIN);
    assert_eq!(windows[0].to, windows[1].from);
    let sent = server.received_requests().await.unwrap();
    assert_eq!(
        sent[1].url.query(),
        Some(format!("fcdt={}&tcdt={}", fcdt - 1, fcdt + 31 * DAY - 1).as_str())
    );
}

#[tokio::test]
async fn to_request_without_a_range_is_the_request_as_built_and_refuses_what_sending_refuses() {
    let server = MockServer::start().await;
    let client = builder(&server).build().unwrap();
    let preview = client.datapoints().id("A").to_request().unwrap();
    assert_eq!(preview.query_string(), "id=A");
    for query in [
        client.datapoints().from(at(10)),
        client.datapoints().to(at(10)),
        client.datapoints().range(at(10), at(10)),
    ] {
        assert!(
            matches!(query.to_request(), Err(Error::InvalidRequest(_))),
            "{query:?}"
        );
    }
}

#[tokio::test]
async fn a_json_requests_preview_has_the_wire_method_and_the_uncompressed_body() {
    let server = MockServer::start().await;
    let client = builder(&server).build().unwrap();
    let large = json!({"values": vec!["0123456789"; 200]});
    let preview = client
        .request(Method::DELETE, "devices/1")
        .json(&large)
        .method_override(true)
        .to_request()
        .unwrap();
    assert_eq!(preview.method, Method::POST);
    assert_eq!(
        preview.url.as_str(),
        format!("{}/conduitv6/devices/1", server.uri())
    );
    assert_eq!(preview.json_body(), Some(large));
    let plain = client.request(Method::PUT, "devices/1").to_request().unwrap();
    assert_eq!((plain.method, plain.body), (Method::PUT, None));
    let huge = client
        .request(Method::POST, "import")
        .json(&json!({"blob": "x".repeat(5_000_001)}));
    assert!(matches!(huge.to_request(), Err(Error::InvalidRequest(_))));
}

#[test]
fn every_missing_or_wrong_variable_is_named_at_once() {
    let err = Client::from_vars(|name| (name == env::TIER).then(|| "fast".to_owned())).unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("missing CONDUIT_TOKEN"), "{text}");
    assert!(
        text.contains("CONDUIT_TIER: not a Conduit tier: expected standard, 10s, 1s or unlimited"),
        "{text}"
    );
    assert!(!text.contains("fast"), "{text}");
    // A blank token is no token.
    let blank = Client::from_vars(|name| (name == env::TOKEN).then(|| "  ".to_owned())).unwrap_err();
    assert!(blank.to_string().contains("missing CONDUIT_TOKEN"), "{blank}");
}

#[test]
fn the_tier_variable_sets_the_interval_and_env_all_is_every_variable_read() {
    for (tier, interval) in [
        ("standard", Some(15)),
        ("10s", Some(10)),
        ("1S", Some(1)),
        ("unlimited", None),
    ] {
        let read = Mutex::new(HashSet::new());
        let client = Client::from_vars(|name| {
            read.lock().unwrap().insert(name.to_owned());
            match name {
                env::TOKEN => Some("t".into()),
                env::TIER => Some(tier.into()),
                _ => None,
            }
        })
        .unwrap();
        assert_eq!(client.interval(), interval.map(Duration::from_secs), "{tier}");
        let all: HashSet<String> = env::ALL.iter().map(|name| name.to_string()).collect();
        assert_eq!(*read.lock().unwrap(), all);
    }
}

#[tokio::test]
async fn any_credential_reaches_the_wire_in_place_of_the_token() {
    let server = MockServer::start().await;
    Mock::given(path("/conduitv6/"))
        .and(header("x-gateway-key", "gateway-secret"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(2)
        .mount(&server)
        .await;
    let credential = || {
        HeaderCredential::builder()
            .name("X-Gateway-Key")
            .value(SecretString::from("gateway-secret"))
            .build()
            .unwrap()
    };
    // With a token too, the credential wins; without one, none is needed (not even
    // from the variables).
    let with_token = builder(&server).credential(credential()).build().unwrap();
    let without = Client::builder()
        .credential(credential())
        .tier(Tier::Unlimited)
        .vars(|name| (name == env::BASE_URL).then(|| format!("{}/conduitv6/", server.uri())))
        .unwrap()
        .build()
        .unwrap();
    for client in [with_token, without] {
        client.datapoints().range(at(0), at(60)).send().await.unwrap();
    }
    for request in server.received_requests().await.unwrap() {
        assert!(request.headers.get("x-api-key").is_none());
    }
}

/// Elements as a server may write them: number text a float would change (`1.50`,
/// `-0.0`, `2e3`, an integer past 2^64), escapes, attributes no document names, keys in
/// any order, blanks between elements.
const ELEMENTS: [&str; 3] = [
    r#"{"val_date":1767225600,"dev_netid":"A","dev_chid":1,"val_raw":1.50,"val_calibrated":2.250,"brand_new":{"nested":[1.0,2e3]}}"#,
    r#"{"dev_chid":"2", "val_date":"1767225660","dev_netid":"A","val_raw":-0.0,"note":"caf\u00e9 \"q\""}"#,
    r#"{"val_date":1767225720,"dev_netid":"B","dev_chid":1,"val_raw":100000000000000000000001}"#,
];

fn lossless_body() -> String {
    format!("[\n  {},\n  {} ,{}\n]\n", ELEMENTS[1], ELEMENTS[0], ELEMENTS[2])
}

#[tokio::test]
async fn write_to_stores_each_datapoints_text_as_sent_once_in_stream_order() {
    let server =
        answering(ResponseTemplate::new(200).set_body_raw(lossless_body(), "application/json")).await;
    let client = builder(&server).build().unwrap();
    // 40 days: two windows, both answered with the same three datapoints.
    let query = client.datapoints().range(at(START), at(START + 40 * DAY));
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("points.ndjson");
    let written = query.clone().write_to(&file).await.unwrap();
    let stored = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = stored.lines().collect();
    assert_eq!(lines, ELEMENTS);
    assert_eq!(written, Written::new(2, 3, stored.len() as u64));

    let mut copy = Vec::new();
    assert_eq!(query.clone().copy_to(&mut copy).await.unwrap(), written);
    assert_eq!(String::from_utf8(copy).unwrap(), stored);
    // The same datapoints, in the same order, as the stream gives.
    let raw: Vec<RawDatapoint> = query
        .records::<RawDatapoint>()
        .stream()
        .try_collect()
        .await
        .unwrap();
    let texts: Vec<&str> = raw.iter().map(RawDatapoint::as_str).collect();
    assert_eq!(texts, ELEMENTS);
    assert_eq!(raw[1].dev_chid(), Some(2));
    assert_eq!(raw[1].val_date(), Some(at(1_767_225_660)));
}

#[tokio::test]
async fn a_failed_write_to_leaves_no_file() {
    let server =
        answering(ResponseTemplate::new(400).set_body_json(json!({"code": "400", "error": "no"}))).await;
    let client = builder(&server).build().unwrap();
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("points.ndjson");
    let err = client
        .datapoints()
        .range(at(START), at(START + 60))
        .write_to(&file)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BadRequest(_)), "{err:?}");
    assert_eq!(std::fs::read_dir(folder.path()).unwrap().count(), 0);
}

/// Any client's builder: a builder that loses a shared setter fails to compile here.
fn shaped<B: ClientBuilderShape>(builder: B) -> B {
    builder
        .read_timeout(Some(Duration::from_secs(30)))
        .connect_timeout(None)
        .retry_policy(RetryPolicy::none())
        .user_agent_suffix("shape-check/1")
}

/// Any reading request: one that loses a verb fails to compile here.
fn verbs<Q>(query: Q) -> Q
where
    Q: Request + Sendable + Streamable + Pageable + Storable + Clone,
{
    query
}

#[tokio::test]
async fn the_builder_and_the_query_have_every_shared_setter_and_verb() {
    let server = answering(ResponseTemplate::new(200).set_body_json(json!([{"val_date": START}]))).await;
    let client = shaped(builder(&server)).build().unwrap();
    let query = verbs(
        client
            .datapoints()
            .range(at(START), at(START) + SignedDuration::from_mins(1)),
    );
    let sent = Sendable::send(query.clone()).await.unwrap();
    let streamed: Vec<_> = Streamable::stream(query).try_collect().await.unwrap();
    assert_eq!(sent.items, streamed);
}
