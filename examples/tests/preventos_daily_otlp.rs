//! Feature `otlp`: `preventos-daily-export` sends its spans, the SDK's `http_request`
//! included, to the OTLP/HTTP endpoint of `OTEL_EXPORTER_OTLP_ENDPOINT` (a wiremock
//! collector here). `cargo nextest run -p examples --features otlp --test preventos_daily_otlp`.
#![cfg(feature = "otlp")]

mod daily_common;

use daily_common::{SOUTH, daemon, output};
use sandbox::preventos::{Config, Sandbox};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_sends_its_spans_to_the_collector() {
    let collector = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/traces"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&collector)
        .await;
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("plan.json"), SOUTH).unwrap();
    let mut command = daemon(
        folder.path(),
        &[
            "--plan",
            "plan.json",
            "--out",
            "out",
            "--date",
            "2026-05-31",
            "--once",
        ],
        Some(&sim),
    );
    command
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", collector.uri())
        .env_remove("OTEL_SERVICE_NAME");
    let output = output(command).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let received = collector.received_requests().await.unwrap();
    assert!(!received.is_empty(), "no spans exported");
    for request in &received {
        assert_eq!(request.headers["content-type"], "application/x-protobuf");
    }
    let bodies: Vec<u8> = received.iter().flat_map(|r| r.body.clone()).collect();
    assert!(contains(&bodies, "http_request"), "the SDK's request spans");
    assert!(contains(&bodies, "preventos-daily-export"), "the service name");
    // No secret in any span.
    for (name, value) in sim.env_vars() {
        if name.contains("SECRET") || name.contains("KEY") {
            assert!(!contains(&bodies, &value), "{name} exported");
        }
    }
}
