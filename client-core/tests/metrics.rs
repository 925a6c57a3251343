//! What a client records through the `metrics` facade, read back from a debugging
//! recorder: requests by status, retries, throttle waits, body bytes, records decoded by
//! a stream and by the paginator, each under the client's `api` label.
//!
//! The recorder is this thread's (`set_default_local_recorder`) and every test runs on a
//! current-thread runtime, so that what the client's tasks record lands in it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use client_core::metrics::{self, API, BYTES, RECORDS, REQUESTS, RETRIES, STATUS, THROTTLE_WAITS};
use client_core::shape::{Cursor, Fetched, Page, PageSource, Paginator};
use client_core::{DecodeOptions, HttpClient, ManualClock, RetryPolicy, Throttle};
use futures::TryStreamExt;
use futures::future::BoxFuture;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Each metric recorded: its name and labels (sorted, `name=value`), and its value.
fn recorded(snapshotter: &Snapshotter) -> HashMap<(String, Vec<String>), DebugValue> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let (_, key) = key.into_parts();
            let mut labels: Vec<String> = key
                .labels()
                .map(|label| format!("{}={}", label.key(), label.value()))
                .collect();
            labels.sort();
            ((key.name().to_owned(), labels), value)
        })
        .collect()
}

fn counter(recorded: &HashMap<(String, Vec<String>), DebugValue>, name: &str, labels: &[&str]) -> u64 {
    let key = (name.to_owned(), labels.iter().map(|l| l.to_string()).collect());
    match recorded.get(&key) {
        Some(DebugValue::Counter(value)) => *value,
        None => 0,
        Some(other) => panic!("{name} {labels:?} is not a counter: {other:?}"),
    }
}

const BODY: &str = "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n";

#[tokio::test]
async fn a_throttled_then_served_request_is_counted_by_status_retry_wait_bytes_and_records() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _recording = ::metrics::set_default_local_recorder(&recorder);
    metrics::describe();

    let server = MockServer::start().await;
    Mock::given(path("/values"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "7"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/values"))
        .respond_with(ResponseTemplate::new(200).set_body_string(BODY))
        .mount(&server)
        .await;
    let clock = ManualClock::new();
    let client = HttpClient::builder(server.uri())
        .metrics_label("test")
        .retry_policy(RetryPolicy::default().with_jitter(false))
        .throttle(Throttle::with_clock(
            1,
            Duration::from_secs(10),
            Arc::new(clock.clone()),
        ))
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    assert_eq!(client.metrics_label(), "test");

    let response = client.get("values").send().await.unwrap();
    let options = DecodeOptions::default().with_metrics_label("test");
    let records: Vec<serde_json::Value> = response.ndjson(options).try_collect().await.unwrap();
    assert_eq!(records.len(), 3);

    let seen = recorded(&snapshotter);
    assert_eq!(counter(&seen, REQUESTS, &["api=test", "status=429"]), 1);
    assert_eq!(counter(&seen, REQUESTS, &["api=test", "status=200"]), 1);
    assert_eq!(counter(&seen, RETRIES, &["api=test"]), 1);
    assert_eq!(counter(&seen, BYTES, &["api=test"]), BODY.len() as u64);
    assert_eq!(counter(&seen, RECORDS, &["api=test"]), 3);
    // The retry came 7 s after the first request (its `Retry-After`), and the throttle
    // of one request per 10 s held it 3 s more.
    assert_eq!(clock.sleeps(), [Duration::from_secs(7), Duration::from_secs(3)]);
    match seen.get(&(THROTTLE_WAITS.to_owned(), vec!["api=test".to_owned()])) {
        Some(DebugValue::Histogram(waits)) => {
            let waits: Vec<f64> = waits.iter().map(|w| w.into_inner()).collect();
            assert_eq!(waits, [3.0]);
        }
        other => panic!("no throttle wait recorded: {other:?}"),
    }
    // Nothing under another label, and no label but `api` and `status`.
    for (name, labels) in seen.keys() {
        assert!(name.starts_with("iiot_client_"), "{name}");
        assert!(labels.iter().any(|l| l == "api=test"), "{name} {labels:?}");
        assert!(
            labels
                .iter()
                .all(|l| l.starts_with(&format!("{API}=")) || l.starts_with(&format!("{STATUS}="))),
            "{name} {labels:?}"
        );
    }
}

#[tokio::test]
async fn an_attempt_without_a_response_counts_as_status_none() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _recording = ::metrics::set_default_local_recorder(&recorder);
    // A port that was free a moment ago: the connection is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let clock = ManualClock::new();
    let client = HttpClient::builder(format!("http://127.0.0.1:{port}"))
        .metrics_label("test")
        .retry_policy(RetryPolicy::default().with_max_attempts(2).with_jitter(false))
        .clock(Arc::new(clock))
        .build()
        .unwrap();
    client.get("values").send().await.unwrap_err();
    let seen = recorded(&snapshotter);
    assert_eq!(counter(&seen, REQUESTS, &["api=test", "status=none"]), 2);
    assert_eq!(counter(&seen, RETRIES, &["api=test"]), 1);
    assert_eq!(counter(&seen, BYTES, &["api=test"]), 0);
}

/// Two pages of two items, then one of one.
struct ThreePages;

impl PageSource for ThreePages {
    type Item = u32;
    type Error = client_core::Error;

    fn fetch<'a>(
        &'a mut self,
        cursor: Option<&'a Cursor>,
    ) -> BoxFuture<'a, Result<Fetched<u32>, Self::Error>> {
        let page = match cursor {
            None => Page::new(vec![1, 2]).with_next(Some(Cursor::Token("2".into()))),
            Some(Cursor::Token(token)) if token == "2" => {
                Page::new(vec![3, 4]).with_next(Some(Cursor::Token("3".into())))
            }
            Some(_) => Page::new(vec![5]),
        };
        Box::pin(async move { Ok(Fetched::new(page)) })
    }

    fn metrics_label(&self) -> Option<&'static str> {
        Some("paged")
    }
}

#[tokio::test]
async fn the_paginator_counts_each_pages_items() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _recording = ::metrics::set_default_local_recorder(&recorder);
    let items: Vec<u32> = Paginator::new(ThreePages).stream().try_collect().await.unwrap();
    assert_eq!(items, [1, 2, 3, 4, 5]);
    metrics::replanned("paged");
    metrics::gap_filled("paged");
    metrics::duplicates_dropped("paged", 2);
    let seen = recorded(&snapshotter);
    assert_eq!(counter(&seen, RECORDS, &["api=paged"]), 5);
    assert_eq!(counter(&seen, metrics::REPLANS, &["api=paged"]), 1);
    assert_eq!(counter(&seen, metrics::GAPS_FILLED, &["api=paged"]), 1);
    assert_eq!(counter(&seen, metrics::DUPLICATES_DROPPED, &["api=paged"]), 2);
}

#[tokio::test]
async fn without_a_label_a_stream_counts_no_records() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _recording = ::metrics::set_default_local_recorder(&recorder);
    let body = futures::stream::iter([Ok(bytes::Bytes::from_static(BODY.as_bytes()))]);
    let records: Vec<serde_json::Value> = client_core::decode::ndjson(body, DecodeOptions::default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(records.len(), 3);
    assert!(recorded(&snapshotter).is_empty());
}
