//! A client built with `proxy(...)` sends its token requests through that proxy too,
//! not only its API calls.

use std::sync::{Arc, Mutex};

use preventos_client::{Client, SecretString};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::MockServer;

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

#[tokio::test]
async fn the_entra_token_request_goes_through_the_clients_proxy() {
    let (proxy, seen) = recording_proxy().await;
    // The API on loopback (never proxied); the token endpoint elsewhere, reachable only
    // through the proxy (a `.invalid` name does not resolve).
    let api = MockServer::start().await;
    let client = Client::builder()
        .base_url(format!("{}/api", api.uri()))
        .authority("https://login.example.invalid/tenant")
        .client_id("client")
        .client_secret(SecretString::from("client-secret"))
        .scope("api://preventos/.default")
        .subscription_key(SecretString::from("key-1"))
        .proxy(proxy)
        // The token request's one retry waits on this clock: no real wait.
        .clock(Arc::new(client_core::ManualClock::new()))
        .build()
        .unwrap();
    client.version().await.unwrap_err();
    let seen = seen.lock().unwrap().clone();
    assert!(!seen.is_empty(), "the token request did not go through the proxy");
    assert!(
        seen.iter()
            .all(|line| line == "CONNECT login.example.invalid:443 HTTP/1.1"),
        "{seen:?}"
    );
    assert!(api.received_requests().await.unwrap().is_empty());
}
