//! The platform simulator delivering to each kind of sink: checked, stored at the
//! document's paths, redelivered with `attempt` incremented and the same `hashId`.

use std::time::Duration;

use forward_types::{ObjectKey, decode_body};
use jiff::Timestamp;
use sandbox::forward::{Attempt, Auth, Platform, Sink, SinkConfig, SinkKind, generate};
use secrecy::SecretString;
use serde_json::Value;

fn secret(text: &str) -> SecretString {
    SecretString::from(text.to_owned())
}

fn batches(count: usize) -> Vec<Vec<Value>> {
    generate::batches(7, "2026-01-01T00:00:00Z".parse::<Timestamp>().unwrap(), count, 3)
}

fn s3_sink() -> SinkKind {
    SinkKind::S3 {
        access_key_id: "AKIDSANDBOX".into(),
        secret_access_key: "s3-secret-key".into(),
        region: "eu-west-1".into(),
    }
}

fn s3_auth(secret_key: &str) -> Auth {
    Auth::SigV4 {
        access_key_id: "AKIDSANDBOX".into(),
        secret_access_key: secret(secret_key),
        session_token: None,
        region: "eu-west-1".into(),
    }
}

async fn deliver_all(platform: &Platform, batches: &[Vec<Value>]) -> Vec<Vec<Attempt>> {
    let mut all = Vec::new();
    for batch in batches {
        all.push(platform.deliver(batch).await);
    }
    all
}

/// Every batch delivered once, the sink holding each body, decodable.
fn assert_delivered(sink: &Sink, attempts: &[Vec<Attempt>], sent: &[Vec<Value>], status: u16) {
    assert!(
        attempts
            .iter()
            .all(|a| a.len() == 1 && a[0].status == Some(status)),
        "{attempts:?}"
    );
    let objects = sink.objects();
    assert_eq!(objects.len(), sent.len());
    for ((_, body), batch) in objects.iter().zip(sent) {
        let decoded = decode_body(body).unwrap();
        assert_eq!(decoded[0].hash_id(), batch[0]["hashId"].as_str().unwrap());
        assert_eq!(decoded[0].attempt(), 0);
    }
    assert_eq!(sink.refused(), 0);
}

#[tokio::test]
async fn static_header_and_oauth2_deliveries_are_posts_with_their_credentials() {
    let sent = batches(3);
    let sink = Sink::start(SinkConfig::new(SinkKind::StaticHeader {
        name: "x-forward-secret".into(),
        value: "hdr-value".into(),
    }))
    .await
    .unwrap();
    let platform = Platform::new(
        &sink.url(),
        Auth::StaticHeader {
            name: "x-forward-secret".into(),
            value: secret("hdr-value"),
        },
    )
    .unwrap()
    .with_retries(3, Duration::ZERO);
    assert_delivered(&sink, &deliver_all(&platform, &sent).await, &sent, 200);

    for in_basic_header in [false, true] {
        let sink = Sink::start(SinkConfig::new(SinkKind::OAuth2 {
            client_id: "platform".into(),
            client_secret: "oauth-secret".into(),
            token_lifetime: Duration::from_secs(3600),
        }))
        .await
        .unwrap();
        let auth = Auth::OAuth2 {
            token_url: sink.token_url(),
            client_id: "platform".into(),
            client_secret: secret("oauth-secret"),
            secret_in_basic_header: in_basic_header,
            scope: None,
        };
        let platform = Platform::new(&sink.url(), auth)
            .unwrap()
            .with_retries(3, Duration::ZERO);
        assert_delivered(&sink, &deliver_all(&platform, &sent).await, &sent, 200);
        assert_eq!(
            sink.token_requests(),
            1,
            "the token is cached (Basic header: {in_basic_header})"
        );
    }
}

#[tokio::test]
async fn s3_and_blob_deliveries_are_puts_at_the_date_paths() {
    let sent = batches(2);
    let sink = Sink::start(SinkConfig::new(s3_sink())).await.unwrap();
    let platform = Platform::new(&sink.url(), s3_auth("s3-secret-key"))
        .unwrap()
        .with_retries(3, Duration::ZERO);
    let attempts = deliver_all(&platform, &sent).await;
    assert_delivered(&sink, &attempts, &sent, 200);
    for (key, _) in sink.objects() {
        let parsed = ObjectKey::parse(&key).unwrap();
        assert!(!parsed.has_json_suffix(), "{key}");
        assert!(parsed.timestamp().parse::<i64>().is_ok(), "{key}");
    }
    assert_eq!(attempts[0][0].key.as_deref(), Some(sink.objects()[0].0.as_str()));

    let sink = Sink::start(SinkConfig::new(SinkKind::Blob {
        sas_query: "sv=2022-11-02&sig=sandbox%2Bsig".into(),
    }))
    .await
    .unwrap();
    let platform = Platform::new(&sink.url(), Auth::BlobSas)
        .unwrap()
        .with_retries(3, Duration::ZERO);
    assert_delivered(&sink, &deliver_all(&platform, &sent).await, &sent, 201);
    for (key, _) in sink.objects() {
        assert!(ObjectKey::parse(&key).unwrap().has_json_suffix(), "{key}");
    }
    assert!(!format!("{platform:?}").contains("sandbox%2Bsig"));
}

#[tokio::test]
async fn event_hubs_deliveries_carry_a_sas_the_sink_verifies() {
    let sent = batches(2);
    let sink = Sink::start(SinkConfig::new(SinkKind::EventHubs {
        key_name: "send".into(),
        key: "hub-key".into(),
    }))
    .await
    .unwrap();
    let platform = Platform::new(
        &sink.url(),
        Auth::EventHubsSas {
            key_name: "send".into(),
            key: secret("hub-key"),
        },
    )
    .unwrap()
    .with_retries(3, Duration::ZERO);
    assert_delivered(&sink, &deliver_all(&platform, &sent).await, &sent, 201);
}

#[tokio::test]
async fn wrong_credentials_are_refused_by_every_sink() {
    let sent = batches(1);
    let cases: Vec<(SinkKind, Auth)> = vec![
        (
            SinkKind::StaticHeader {
                name: "x-h".into(),
                value: "right".into(),
            },
            Auth::StaticHeader {
                name: "x-h".into(),
                value: secret("wrong"),
            },
        ),
        (s3_sink(), s3_auth("wrong-secret")),
        (
            SinkKind::Blob {
                sas_query: "sig=right".into(),
            },
            Auth::BlobSas,
        ),
        (
            SinkKind::EventHubs {
                key_name: "send".into(),
                key: "right".into(),
            },
            Auth::EventHubsSas {
                key_name: "send".into(),
                key: secret("wrong"),
            },
        ),
    ];
    for (kind, auth) in cases {
        let sink = Sink::start(SinkConfig::new(kind.clone())).await.unwrap();
        let url = match &kind {
            // The platform is given the container URL with another SAS.
            SinkKind::Blob { .. } => sink.url().replace("sig=right", "sig=forged"),
            _ => sink.url(),
        };
        let platform = Platform::new(&url, auth).unwrap().with_retries(2, Duration::ZERO);
        let attempts = platform.deliver(&sent[0]).await;
        assert_eq!(attempts.len(), 2, "{kind:?}");
        assert!(
            attempts.iter().all(|a| a.status == Some(401)),
            "{kind:?}: {attempts:?}"
        );
        assert!(sink.objects().is_empty());
        assert_eq!(sink.refused(), 2);
    }
}

#[tokio::test]
async fn a_refused_delivery_is_redelivered_with_the_next_attempt_and_the_same_hash_id() {
    let sent = batches(1);
    let folder = tempfile::tempdir().unwrap();
    let sink = Sink::start(
        SinkConfig::new(s3_sink())
            .failing_first(2)
            .writing_to(folder.path()),
    )
    .await
    .unwrap();
    let platform = Platform::new(&sink.url(), s3_auth("s3-secret-key"))
        .unwrap()
        .with_retries(5, Duration::ZERO);
    let attempts = platform.deliver(&sent[0]).await;
    assert_eq!(
        attempts.iter().map(|a| (a.attempt, a.status)).collect::<Vec<_>>(),
        [(0, Some(503)), (1, Some(503)), (2, Some(200))]
    );
    let objects = sink.objects();
    assert_eq!(objects.len(), 1);
    let delivered = decode_body(&objects[0].1).unwrap();
    assert_eq!(delivered[0].attempt(), 2);
    assert_eq!(delivered[0].hash_id(), sent[0][0]["hashId"].as_str().unwrap());
    // The object is in the folder at its key.
    assert_eq!(
        std::fs::read(folder.path().join(&objects[0].0)).unwrap(),
        objects[0].1
    );
}

#[test]
fn no_secret_reaches_the_logs_at_trace() {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let sent = batches(1);
            let sinks_and_auth: Vec<(SinkKind, Auth)> = vec![
                (s3_sink(), s3_auth("s3-secret-key")),
                (
                    SinkKind::EventHubs {
                        key_name: "send".into(),
                        key: "hub-key-secret".into(),
                    },
                    Auth::EventHubsSas {
                        key_name: "send".into(),
                        key: secret("hub-key-secret"),
                    },
                ),
                (
                    SinkKind::Blob {
                        sas_query: "sig=blob-sas-secret".into(),
                    },
                    Auth::BlobSas,
                ),
            ];
            for (kind, auth) in sinks_and_auth {
                let sink = Sink::start(SinkConfig::new(kind)).await.unwrap();
                let platform = Platform::new(&sink.url(), auth)
                    .unwrap()
                    .with_retries(1, Duration::ZERO);
                assert!(platform.deliver(&sent[0]).await[0].delivered());
            }
            let sink = Sink::start(SinkConfig::new(SinkKind::OAuth2 {
                client_id: "platform".into(),
                client_secret: "oauth-client-secret".into(),
                token_lifetime: Duration::from_secs(60),
            }))
            .await
            .unwrap();
            let auth = Auth::OAuth2 {
                token_url: sink.token_url(),
                client_id: "platform".into(),
                client_secret: secret("oauth-client-secret"),
                secret_in_basic_header: true,
                scope: None,
            };
            let platform = Platform::new(&sink.url(), auth)
                .unwrap()
                .with_retries(1, Duration::ZERO);
            assert!(platform.deliver(&sent[0]).await[0].delivered());
        });
    });
    let logs = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(!logs.is_empty(), "TRACE logging was captured");
    for secret in [
        "s3-secret-key",
        "hub-key-secret",
        "blob-sas-secret",
        "oauth-client-secret",
        "sandbox-token-",
        "SharedAccessSignature sr",
        "Signature=",
    ] {
        assert!(!logs.contains(secret), "`{secret}` in the logs");
    }
}

fn static_auth() -> Auth {
    Auth::StaticHeader {
        name: "Authorization".into(),
        value: secret("Bearer plain-http-secret"),
    }
}

#[test]
fn plain_http_to_another_host_is_refused_before_any_connection() {
    // 192.0.2.1 (TEST-NET-1) is never reached: refused while building.
    for url in ["http://192.0.2.1:8080/ingest", "http://example.com/ingest"] {
        let err = Platform::new(url, static_auth()).unwrap_err();
        assert!(err.contains("refusing plain HTTP"), "{err}");
    }
    let err = Platform::new("http://192.0.2.1/container?sv=1&sig=c2VjcmV0", Auth::BlobSas).unwrap_err();
    assert!(!err.contains("c2VjcmV0"), "{err}");
    assert!(Platform::new("https://example.com/ingest", static_auth()).is_ok());
    assert!(Platform::new("http://127.0.0.1:9/ingest", static_auth()).is_ok());
    assert!(Platform::new("http://localhost:9/ingest", static_auth()).is_ok());
}

#[tokio::test]
async fn a_redirect_is_a_failed_attempt_and_never_followed() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    // Where the redirect points: counts connections.
    let elsewhere = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let elsewhere_address = elsewhere.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = elsewhere.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    // The destination: answers every request with a redirect.
    let destination = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = destination.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = destination.accept().await {
            tokio::spawn(async move {
                let mut buffer = vec![0u8; 64 * 1024];
                let _ = stream.read(&mut buffer).await;
                let response = format!(
                    "HTTP/1.1 307 Temporary Redirect\r\nlocation: http://{elsewhere_address}/ingest\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    let platform = Platform::new(&format!("http://{address}/ingest"), static_auth())
        .unwrap()
        .with_retries(2, Duration::ZERO);
    let attempts = platform.deliver(&batches(1)[0]).await;
    assert_eq!(attempts.len(), 2, "{attempts:?}");
    for attempt in &attempts {
        assert!(!attempt.delivered());
        assert_eq!(attempt.status, Some(307));
        assert!(
            attempt.error.as_deref().unwrap().contains("redirect"),
            "{attempt:?}"
        );
    }
    assert_eq!(connections.load(Ordering::SeqCst), 0, "the redirect was followed");
}
