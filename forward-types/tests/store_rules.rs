//! The object-store connector follows the workspace's rules: plain HTTP only to loopback
//! (refused before any connection), and a redirect is an error, never followed.
#![cfg(feature = "store")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use forward_types::{ForwardedObjects, StoreError};
use jiff::civil::date;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

#[tokio::test]
async fn plain_http_to_another_host_is_refused_before_any_connection() {
    // 192.0.2.1 (TEST-NET-1) never answers: a connection attempt would time out.
    let err =
        ForwardedObjects::from_url_with("http://192.0.2.1:10000/account/container?sig=x", []).unwrap_err();
    assert!(
        matches!(&err, StoreError::Config(m) if m.contains("192.0.2.1")),
        "{err:?}"
    );

    // `AWS_ALLOW_HTTP` lets object_store build the client; the request is refused anyway.
    let objects = ForwardedObjects::from_url_with(
        "s3://bucket",
        vars(&[
            ("AWS_ENDPOINT", "http://192.0.2.1:9000"),
            ("AWS_ALLOW_HTTP", "true"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
        ]),
    )
    .unwrap();
    let read = tokio::time::timeout(
        Duration::from_secs(3),
        objects.keys(date(2026, 1, 2), date(2026, 1, 2)),
    )
    .await
    .expect("refused at once, not after a connection attempt");
    let err = read.unwrap_err();
    assert!(err.to_string().contains("refusing http://"), "{err}");

    // Loopback stays allowed (the connection is refused by the closed port, not the rule).
    assert!(ForwardedObjects::from_url_with("http://127.0.0.1:9/account/container?sig=x", []).is_ok());
    assert!(ForwardedObjects::from_url_with("http://[::1]:9/account/container?sig=x", []).is_ok());
}

/// A server that answers every request with a redirect to `location`.
async fn redirecting(location: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let location = location.clone();
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = stream.read(&mut buffer).await;
                let response = format!(
                    "HTTP/1.1 307 Temporary Redirect\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    format!("http://{address}")
}

/// A server that counts the connections it gets and answers none.
async fn counting() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (format!("http://{address}"), count)
}

#[tokio::test]
async fn a_redirect_is_an_error_and_never_followed() {
    let (elsewhere, connections) = counting().await;
    let origin = redirecting(format!(
        "{elsewhere}/account/container?restype=container&comp=list"
    ))
    .await;
    let objects =
        ForwardedObjects::from_url_with(&format!("{origin}/account/container?sv=1&sig=c2VjcmV0"), [])
            .unwrap();
    let err = objects
        .keys(date(2026, 1, 2), date(2026, 1, 2))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Store(_)), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("c2VjcmV0"), "{err:?}");
    assert_eq!(connections.load(Ordering::SeqCst), 0, "the redirect was followed");
}
