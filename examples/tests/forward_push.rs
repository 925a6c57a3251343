//! `forward-push` against the platform simulator's sinks.

use std::process::{Command, Output};

use sandbox::forward::{Sink, SinkConfig, SinkKind};

const VARS: [&str; 13] = [
    "FORWARD_HEADER_NAME",
    "FORWARD_HEADER_VALUE",
    "FORWARD_OAUTH2_TOKEN_URL",
    "FORWARD_OAUTH2_CLIENT_ID",
    "FORWARD_OAUTH2_CLIENT_SECRET",
    "FORWARD_OAUTH2_SCOPE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_EVENTHUBS_KEY_NAME",
    "AZURE_EVENTHUBS_KEY",
];

async fn push(args: Vec<String>, env: Vec<(&'static str, String)>) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_forward-push"));
        command.args(&args).env_remove("RUST_LOG");
        for name in VARS {
            command.env_remove(name);
        }
        command.envs(env);
        command.output().unwrap()
    })
    .await
    .unwrap()
}

fn args(to: &str, auth: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["--to", to, "--auth", auth, "--retry-delay", "0"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigv4_and_blob_pushes_land_at_their_keys() {
    let s3 = Sink::start(SinkConfig::new(SinkKind::S3 {
        access_key_id: "AKIDPUSH".into(),
        secret_access_key: "push-secret-key".into(),
        region: "eu-west-1".into(),
    }))
    .await
    .unwrap();
    let env = vec![
        ("AWS_ACCESS_KEY_ID", "AKIDPUSH".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "push-secret-key".to_owned()),
        ("AWS_REGION", "eu-west-1".to_owned()),
    ];
    let output = push(args(&s3.url(), "sigv4", &["--batches", "4"]), env.clone()).await;
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4);
    let keys: Vec<String> = s3.objects().into_iter().map(|(key, _)| key).collect();
    for (line, key) in lines.iter().zip(&keys) {
        assert_eq!(*line, format!("status=200 attempt=0 key={key}"));
        forward_types::ObjectKey::parse(key).unwrap();
    }
    assert!(!stdout.contains("push-secret-key"));

    // A wrong secret: every attempt refused, the exit code says so.
    let mut wrong = env;
    wrong[1].1 = "other".into();
    let output = push(
        args(&s3.url(), "sigv4", &["--batches", "1", "--attempts", "2"]),
        wrong,
    )
    .await;
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.starts_with("status=401 attempt=0 key=") && stdout.contains("status=401 attempt=1 key="),
        "{stdout}"
    );

    let blob = Sink::start(SinkConfig::new(SinkKind::Blob {
        sas_query: "sv=2022-11-02&sig=push%2Bsas".into(),
    }))
    .await
    .unwrap();
    let container = blob.url().split('?').next().unwrap().to_owned();
    let output = push(
        args(&container, "sas-blob", &["--batches", "2"]),
        vec![(
            "AZURE_STORAGE_SAS_TOKEN",
            "?sv=2022-11-02&sig=push%2Bsas".to_owned(),
        )],
    )
    .await;
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout.lines().count(), 2);
    assert!(
        stdout
            .lines()
            .all(|l| l.starts_with("status=201 attempt=0 key=") && l.ends_with(".json")),
        "{stdout}"
    );
    assert!(!stdout.contains("push%2Bsas"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_is_pushed_with_redeliveries_and_missing_secrets_are_named() {
    let sink = Sink::start(
        SinkConfig::new(SinkKind::StaticHeader {
            name: "x-forward-secret".into(),
            value: "s3cr3t".into(),
        })
        .failing_first(1),
    )
    .await
    .unwrap();
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("body.json");
    let batch =
        sandbox::forward::generate::batches(3, "2026-02-01T00:00:00Z".parse().unwrap(), 1, 2).remove(0);
    std::fs::write(&file, serde_json::to_vec(&batch).unwrap()).unwrap();
    let env = vec![
        ("FORWARD_HEADER_NAME", "x-forward-secret".to_owned()),
        ("FORWARD_HEADER_VALUE", "s3cr3t".to_owned()),
    ];
    let output = push(args(&sink.url(), "static", &[file.to_str().unwrap()]), env).await;
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout, "status=503 attempt=0 key=-\nstatus=200 attempt=1 key=-\n");
    let delivered = forward_types::decode_body(&sink.objects()[0].1).unwrap();
    assert_eq!(
        (delivered[0].hash_id(), delivered[0].attempt()),
        (batch[0]["hashId"].as_str().unwrap(), 1)
    );

    let output = push(args(&sink.url(), "oauth2-basic", &[]), vec![]).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("FORWARD_OAUTH2_TOKEN_URL is not set"));

    std::fs::write(&file, b"[{\"not\": \"a message\"}]").unwrap();
    let output = push(args(&sink.url(), "static", &[file.to_str().unwrap()]), vec![]).await;
    assert_eq!(output.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_read_prints_what_the_simulator_stored_once_each() {
    use sandbox::forward::{Auth, Platform};
    let folder = tempfile::tempdir().unwrap();
    // Redeliveries land too: the sink answers 503 after storing nothing, then accepts.
    let sink = Sink::start(
        SinkConfig::new(SinkKind::Blob {
            sas_query: "sig=read".into(),
        })
        .failing_first(1)
        .writing_to(folder.path()),
    )
    .await
    .unwrap();
    let platform = Platform::new(&sink.url(), Auth::BlobSas)
        .unwrap()
        .with_retries(3, std::time::Duration::ZERO);
    let batches = sandbox::forward::generate::batches(9, jiff::Timestamp::now(), 3, 2);
    for batch in &batches {
        assert!(platform.deliver(batch).await.last().unwrap().delivered());
    }
    // The same batch stored twice (a redelivery the receiver's side kept): read once.
    let (key, body) = sink.objects()[0].clone();
    let copy = key.replace(".json", "9.json");
    std::fs::write(folder.path().join(&copy), &body).unwrap();

    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .to_string();
    let url = format!("file://{}", folder.path().display());
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_forward-read"))
            .args(["--from", &today, "--to", &today, &url])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    // The lines forward-decode prints for the same bodies.
    let mut expected = Vec::new();
    for (_, body) in sink.objects() {
        for message in forward_types::decode_body(&body).unwrap() {
            expected.extend(examples::forward::lines_of(&message));
        }
    }
    assert_eq!(stdout.lines().collect::<Vec<_>>(), expected);
    assert!(String::from_utf8_lossy(&output.stderr).contains("read 3 messages"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_read_reports_a_refusal_on_one_line_without_the_secret() {
    use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(403).set_body_raw(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Error>\n  <Code>SignatureDoesNotMatch</Code>\n</Error>\n",
            "application/xml",
        ))
        .mount(&server)
        .await;
    let endpoint = server.uri();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_forward-read"))
            .args(["--from", "2026-01-02", "--to", "2026-01-02", "s3://bucket"])
            // Only these settings: nothing of the machine's own AWS configuration.
            .env_clear()
            .envs([
                ("AWS_ENDPOINT", endpoint.as_str()),
                ("AWS_ALLOW_HTTP", "true"),
                ("AWS_REGION", "eu-west-1"),
                ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
                ("AWS_SECRET_ACCESS_KEY", "secret-access-key-value"),
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("forward-read: ") && stderr.contains("SignatureDoesNotMatch"),
        "{stderr}"
    );
    assert!(!stderr.contains("secret-access-key-value"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_to_another_host_is_refused_before_any_connection() {
    // 192.0.2.1 (TEST-NET-1) never answers: a connection attempt would hang, not fail.
    let output = push(
        args("http://192.0.2.1:8080/ingest", "static", &["--attempts", "1"]),
        vec![
            ("FORWARD_HEADER_NAME", "Authorization".into()),
            ("FORWARD_HEADER_VALUE", "Bearer push-secret".into()),
        ],
    )
    .await;
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("forward-push: ") && stderr.contains("refusing plain HTTP"),
        "{stderr}"
    );
    assert!(!stderr.contains("push-secret"), "{stderr}");
}

/// Runs forward-read on `url` for 2 January 2026 with only `env` set.
async fn read_back(url: String, env: Vec<(&'static str, String)>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_forward-read"))
            .args(["--from", "2026-01-02", "--to", "2026-01-02", &url])
            .env_clear()
            .envs(env)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_read_takes_the_sas_from_the_environment_and_never_prints_it() {
    use wiremock::matchers::{any, method, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    const SIGNATURE: &str = "cmVhZC1zaWduYXR1cmU";
    let server = MockServer::start().await;
    // A container listing for requests that carry the SAS, 403 for any other.
    Mock::given(method("GET"))
        .and(query_param("comp", "list"))
        .and(query_param("sig", SIGNATURE))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults><Blobs></Blobs><NextMarker /></EnumerationResults>",
            "application/xml",
        ))
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(403).set_body_raw(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthenticationFailed</Code></Error>",
            "application/xml",
        ))
        .mount(&server)
        .await;
    let container = format!("{}/account/forwarded", server.uri());
    let sas = format!("sv=2022-11-02&sp=rl&sig={SIGNATURE}");

    let from_env = read_back(
        container.clone(),
        vec![("AZURE_STORAGE_SAS_TOKEN", format!("?{sas}"))],
    )
    .await;
    let in_url = read_back(format!("{container}?{sas}"), vec![]).await;
    let refused = read_back(format!("{container}?sv=2022-11-02&sig={SIGNATURE}x"), vec![]).await;
    let no_sas = read_back(container.clone(), vec![]).await;
    for (name, output, success) in [
        ("env", &from_env, true),
        ("url", &in_url, true),
        ("refused", &refused, false),
        ("no SAS", &no_sas, false),
    ] {
        let shown = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(output.status.success(), success, "{name}: {shown}");
        assert!(!shown.contains(SIGNATURE), "{name}: {shown}");
        assert!(!shown.contains("sig="), "{name}: {shown}");
    }
    assert!(String::from_utf8_lossy(&from_env.stderr).contains("read 0 messages"));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("AuthenticationFailed"));
    assert!(String::from_utf8_lossy(&no_sas.stderr).contains("AZURE_STORAGE_SAS_TOKEN"));
}

/// A raw loopback listener that records the first line of every request it gets and
/// answers `status`; its URL and the lines.
async fn recording_listener(status: &'static str) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
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
            let answer = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    (format!("http://{address}"), seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_to_loopback_never_goes_through_the_environments_proxy() {
    let (proxy, proxied) = recording_listener("403 Forbidden").await;
    let (receiver, received) = recording_listener("200 OK").await;
    let output = tokio::task::spawn_blocking(move || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_forward-push"));
        command
            .args(args(
                &format!("{receiver}/ingest"),
                "static",
                &["--attempts", "1", "--batches", "1"],
            ))
            .env_remove("RUST_LOG");
        for name in VARS
            .iter()
            .chain(&["NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy"])
        {
            command.env_remove(name);
        }
        command
            .env("HTTP_PROXY", &proxy)
            .env("http_proxy", &proxy)
            .env("ALL_PROXY", &proxy)
            .env("FORWARD_HEADER_NAME", "X-Secret")
            .env("FORWARD_HEADER_VALUE", "TOPSECRETVALUE");
        command.output().unwrap()
    })
    .await
    .unwrap();
    assert!(
        proxied.lock().unwrap().is_empty(),
        "{:?}",
        proxied.lock().unwrap()
    );
    assert_eq!(
        received.lock().unwrap().clone(),
        vec!["POST /ingest HTTP/1.1".to_owned()],
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
