//! `forward-decode` and the receiver, driven from outside.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use examples::forward::{Receiver, router};
use forward_types::{SecretString, StaticHeaderCheck};
use serde_json::{Value, json};

const MEASUREMENT: &str = include_str!("../../forward-types/tests/fixtures/measurement.json");
const NOTIFICATION: &str = include_str!("../../forward-types/tests/fixtures/notification.json");

fn expected_lines() -> Vec<Value> {
    vec![
        json!({"kind":"measurement","reportHashId":"qoa978","environmentHashId":"f1a4w1",
            "deviceIdentifier":"device-serial-12345","quantityHashId":"sajia1","portHashId":"e13d57",
            "channelIndex":0,"unit":"W","value":"7827000","generatedAt":"2023-01-01T00:00:00.000Z","attempt":0}),
        json!({"kind":"measurement","reportHashId":"qoa978","environmentHashId":"f1a4w1",
            "deviceIdentifier":"device-serial-12345","quantityHashId":"sajia1","portHashId":"e13d57",
            "channelIndex":1,"unit":"V","value":"23041","generatedAt":"2023-01-01T00:00:00.000Z","attempt":0}),
        json!({"kind":"notification","batchHashId":"qoa978","environmentHashId":"f1a4w1","hashId":"dfa1p",
            "object":"device","action":"add","deviceIdentifier":"device-serial-12345","quantityName":null,
            "deletedAt":null,"attempt":0}),
        json!({"kind":"notification","batchHashId":"qoa978","environmentHashId":"f1a4w1","hashId":"dfa1p",
            "object":"quantity","action":"update","deviceIdentifier":null,
            "quantityName":{"en":"Active Power","nl":"Actief vermogen"},"deletedAt":null,"attempt":0}),
    ]
}

fn both_examples_body() -> String {
    let measurement: Value = serde_json::from_str(MEASUREMENT).unwrap();
    let notification: Value = serde_json::from_str(NOTIFICATION).unwrap();
    json!([measurement[0], notification[0]]).to_string()
}

fn parse_lines(text: &str) -> Vec<Value> {
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn run_decode(args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_forward-decode"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn decode_from_stdin_and_from_a_file() {
    let output = run_decode(&[], &both_examples_body());
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        parse_lines(&String::from_utf8(output.stdout).unwrap()),
        expected_lines()
    );

    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("body.json");
    std::fs::write(&file, MEASUREMENT).unwrap();
    let output = run_decode(&[file.to_str().unwrap()], "");
    assert!(output.status.success());
    assert_eq!(
        parse_lines(&String::from_utf8(output.stdout).unwrap()),
        expected_lines()[..2]
    );
}

#[test]
fn invalid_input_names_the_field_and_prints_nothing() {
    let mut body: Value = serde_json::from_str(MEASUREMENT).unwrap();
    body[0]["observations"][1]["significand"] = json!(1.5);
    let output = run_decode(&[], &body.to_string());
    // Bad input: exit code 2, as for a file that cannot be read.
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("[0].observations[1].significand"), "{stderr}");

    let output = run_decode(&["/nonexistent/body.json"], "");
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
}

#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn start_receiver() -> (String, Sink) {
    let sink = Sink::default();
    let check = StaticHeaderCheck::new("Authorization", SecretString::from("Bearer forward-secret")).unwrap();
    let app = router(Receiver::new(check, Box::new(sink.clone())));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}"), sink)
}

#[tokio::test]
async fn receiver_checks_the_header_decodes_and_prints() {
    let (url, sink) = start_receiver().await;
    let http = reqwest::Client::new();
    let send = |method: reqwest::Method, path: &str, auth: Option<&str>, body: String| {
        let mut request = http
            .request(method, format!("{url}{path}"))
            .header("content-type", "application/json")
            .body(body);
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        request.send()
    };

    let response = send(reqwest::Method::POST, "/", None, both_examples_body())
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let response = send(
        reqwest::Method::POST,
        "/",
        Some("Bearer wrong"),
        both_examples_body(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 401);
    assert!(sink.0.lock().unwrap().is_empty());

    let response = send(
        reqwest::Method::POST,
        "/",
        Some("Bearer forward-secret"),
        "[{\"hashId\":1}]".into(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("[0]"));

    let response = send(
        reqwest::Method::POST,
        "/",
        Some("Bearer forward-secret"),
        both_examples_body(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let printed = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    assert_eq!(parse_lines(&printed), expected_lines());

    // A redelivery of the same report is acknowledged and not printed again.
    let mut redelivery: Value = serde_json::from_str(MEASUREMENT).unwrap();
    redelivery[0]["attempt"] = json!(1);
    let response = send(
        reqwest::Method::POST,
        "/",
        Some("Bearer forward-secret"),
        redelivery.to_string(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        parse_lines(&String::from_utf8(sink.0.lock().unwrap().clone()).unwrap()).len(),
        4
    );

    // No PUT route: the platform PUTs only to S3 and Blob Storage, never here.
    let response = send(
        reqwest::Method::PUT,
        "/bucket/2023/01/01/1672531200000.json",
        Some("Bearer forward-secret"),
        NOTIFICATION.into(),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(
        parse_lines(&String::from_utf8(sink.0.lock().unwrap().clone()).unwrap()).len(),
        4
    );
}

#[tokio::test]
async fn a_notification_sharing_a_reports_hash_id_is_not_a_redelivery() {
    // The document's examples share hashId `qoa978`: a report, then the notification
    // batch on its second attempt. Both are printed.
    let (url, sink) = start_receiver().await;
    let http = reqwest::Client::new();
    let mut notification: Value = serde_json::from_str(NOTIFICATION).unwrap();
    notification[0]["attempt"] = json!(1);
    for body in [MEASUREMENT.to_owned(), notification.to_string()] {
        let response = http
            .post(format!("{url}/"))
            .header("authorization", "Bearer forward-secret")
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let printed = parse_lines(&String::from_utf8(sink.0.lock().unwrap().clone()).unwrap());
    let kinds: Vec<&str> = printed.iter().map(|l| l["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["measurement", "measurement", "notification", "notification"]
    );
}
