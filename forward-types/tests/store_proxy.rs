//! Plain HTTP to a loopback store (an emulator) never goes through a proxy, neither the
//! `proxy_url` setting nor the environment's (`HTTP_PROXY`, `ALL_PROXY`): the requests
//! carry a signature or a SAS, in clear.
#![cfg(feature = "store")]

use std::sync::{Arc, Mutex};

use forward_types::ForwardedObjects;
use jiff::civil::date;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const EMPTY_LISTING: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
    <ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>bucket</Name>\
    <KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>";

/// A raw loopback listener acting as a proxy: records the first line of every request
/// and refuses it.
async fn recording_proxy() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut head = vec![0u8; 8192];
            let n = socket.read(&mut head).await.unwrap_or(0);
            let text = String::from_utf8_lossy(&head[..n]).into_owned();
            record
                .lock()
                .unwrap()
                .push(text.lines().next().unwrap_or_default().to_owned());
            let _ = socket
                .write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await;
        }
    });
    (format!("http://{address}"), seen)
}

/// An S3 server on loopback whose bucket is empty.
async fn empty_bucket() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(EMPTY_LISTING, "application/xml"))
        .mount(&server)
        .await;
    server
}

fn settings(endpoint: String, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = [
        ("AWS_ENDPOINT", endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        (
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        ),
    ]
    .iter()
    .chain(extra)
    .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
    .collect();
    vars.sort();
    vars
}

#[tokio::test]
async fn loopback_never_goes_through_the_configured_proxy() {
    let (proxy, proxied) = recording_proxy().await;
    let server = empty_bucket().await;
    let objects = ForwardedObjects::from_url_with(
        "s3://bucket",
        settings(server.uri(), &[("AWS_PROXY_URL", proxy.as_str())]),
    )
    .unwrap();
    let keys = objects.keys(date(2026, 1, 2), date(2026, 1, 2)).await.unwrap();
    assert!(keys.is_empty());
    assert!(
        proxied.lock().unwrap().is_empty(),
        "{:?}",
        proxied.lock().unwrap()
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn loopback_never_goes_through_the_environments_proxy() {
    let (proxy, proxied) = recording_proxy().await;
    let server = empty_bucket().await;
    let endpoint = server.uri();
    // The proxy variables are process-wide: the store is read in a child process
    // (`environment_proxy_child`) that has them from its start.
    let output = tokio::task::spawn_blocking(move || {
        let mut command = std::process::Command::new(std::env::current_exe().unwrap());
        command.args([
            "--exact",
            "environment_proxy_child",
            "--ignored",
            "--test-threads=1",
        ]);
        for name in ["HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"] {
            command.env_remove(name);
        }
        command
            .env("HTTP_PROXY", &proxy)
            .env("http_proxy", &proxy)
            .env("ALL_PROXY", &proxy)
            .env("CHILD_ENDPOINT", endpoint)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        proxied.lock().unwrap().is_empty(),
        "{:?}",
        proxied.lock().unwrap()
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

/// The child of `loopback_never_goes_through_the_environments_proxy`: lists a day of the
/// store at `CHILD_ENDPOINT`.
#[tokio::test]
#[ignore = "run as a child process, with proxy variables set"]
async fn environment_proxy_child() {
    let endpoint = std::env::var("CHILD_ENDPOINT").unwrap();
    let objects = ForwardedObjects::from_url_with("s3://bucket", settings(endpoint, &[])).unwrap();
    let keys = objects.keys(date(2026, 1, 2), date(2026, 1, 2)).await.unwrap();
    assert!(keys.is_empty());
}
