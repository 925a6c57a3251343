//! The conventions every example program follows (`examples::cli`, the README's
//! "Conventions of the example programs"), checked by driving each binary: `--help` and
//! usage errors, exit code 2 with one line for a bad configuration or input, 1 with one
//! line for a server's refusal, a closed standard output ended quietly with 0, and
//! Ctrl-C (SIGINT) ending with 130 after removing what an unfinished write left.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use sandbox::Faults;

const CONDUIT_EXPORT: &str = env!("CARGO_BIN_EXE_conduit-export");
const DT_CONNECTORS: &str = env!("CARGO_BIN_EXE_dt-connectors");
const DT_EVENTS: &str = env!("CARGO_BIN_EXE_dt-events");
const DT_RECEIVER: &str = env!("CARGO_BIN_EXE_dt-receiver");
const DT_RECONCILE: &str = env!("CARGO_BIN_EXE_dt-reconcile");
const DT_STREAM: &str = env!("CARGO_BIN_EXE_dt-stream");
const FORWARD_DECODE: &str = env!("CARGO_BIN_EXE_forward-decode");
const FORWARD_PUSH: &str = env!("CARGO_BIN_EXE_forward-push");
const FORWARD_READ: &str = env!("CARGO_BIN_EXE_forward-read");
const FORWARD_RECEIVER: &str = env!("CARGO_BIN_EXE_forward-receiver");
const PREVENTOS_CATALOG: &str = env!("CARGO_BIN_EXE_preventos-catalog");
const PREVENTOS_DAILY_EXPORT: &str = env!("CARGO_BIN_EXE_preventos-daily-export");
const SDS_EXPORT: &str = env!("CARGO_BIN_EXE_sds-export");
const SDS_SENSORS: &str = env!("CARGO_BIN_EXE_sds-sensors");

const EVERY_PROGRAM: [&str; 14] = [
    CONDUIT_EXPORT,
    DT_CONNECTORS,
    DT_EVENTS,
    DT_RECEIVER,
    DT_RECONCILE,
    DT_STREAM,
    FORWARD_DECODE,
    FORWARD_PUSH,
    FORWARD_READ,
    FORWARD_RECEIVER,
    PREVENTOS_CATALOG,
    PREVENTOS_DAILY_EXPORT,
    SDS_EXPORT,
    SDS_SENSORS,
];

/// A program, its arguments and its environment.
type Case<'a> = (&'a str, Vec<&'a str>, Vec<(&'static str, String)>);

const SDS_ARGS: [&str; 12] = [
    "--itwin",
    sandbox::sds::ITWIN,
    "--sensor",
    "sensor-1",
    "--metric",
    "T",
    "--unit",
    "C",
    "--from",
    "2025-01-01T00:00:00Z",
    "--to",
    "2025-01-02T00:00:00Z",
];

/// A command with none of the machine's environment (no credential of the test's
/// environment leaks in, no RUST_LOG), plus `env`.
fn command<K: AsRef<str>>(binary: &str, args: &[&str], env: &[(K, String)]) -> Command {
    let mut command = Command::new(binary);
    command.args(args).env_clear();
    for (name, value) in env {
        command.env(name.as_ref(), value);
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs `command` to its end (off the runtime, so that a sandbox of the test can answer).
async fn output(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

/// Runs `command` with its standard output closed before it writes anything: the
/// `program | head -0` of a shell.
async fn with_stdout_closed(mut command: Command) -> Output {
    let mut child = command.spawn().unwrap();
    drop(child.stdout.take());
    waited(child).await
}

/// Waits for `child`'s end, killing it after 20 s (a program that does not end fails
/// the test rather than hanging it).
async fn waited(child: Child) -> Output {
    let pid = child.id().to_string();
    let (done, finished) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
            finished.recv_timeout(Duration::from_secs(20))
        {
            let _ = Command::new("kill").args(["-KILL", &pid]).status();
        }
    });
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let _ = done.send(());
    output
}

fn name(binary: &str) -> &str {
    Path::new(binary).file_name().unwrap().to_str().unwrap()
}

/// Exit `code`, and standard error one line, `program: ...`.
fn one_line(binary: &str, output: &Output, code: i32) -> Result<(), String> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let program = name(binary);
    if output.status.code() != Some(code) {
        return Err(format!(
            "{program}: {}, not exit code {code}: {stderr}",
            output.status
        ));
    }
    if stderr.lines().count() != 1 || !stderr.starts_with(&format!("{program}: ")) {
        return Err(format!("{program}: not one line `{program}: ...`: {stderr}"));
    }
    Ok(())
}

/// Exit code 0, and nothing on standard error about the closed output.
fn quiet(binary: &str, output: &Output) -> Result<(), String> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let program = name(binary);
    if output.status.code() != Some(0) {
        return Err(format!("{program}: {}, not exit code 0: {stderr}", output.status));
    }
    for noise in ["Broken pipe", "os error 32", "panicked", "internal error"] {
        if stderr.contains(noise) {
            return Err(format!("{program}: `{noise}` on standard error: {stderr}"));
        }
    }
    Ok(())
}

/// Fails with every program's failure, not the first one's alone.
fn assert_all(failures: Vec<String>) {
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Sends Ctrl-C (SIGINT) to `child` and waits for its end.
async fn interrupted(child: Child) -> Output {
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    waited(child).await
}

/// Waits (bounded) until `ready` holds, or panics with the child's standard error.
async fn until(child: &mut Child, what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ready() {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
            panic!("ended ({status}) before {what}: {stderr}");
        }
        assert!(Instant::now() < deadline, "no {what} within 20 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Exit code 130 and a one-line `program: interrupted` (after whatever it logged).
fn assert_interrupted(binary: &str, output: &Output) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{}: {stderr}", name(binary));
    assert_eq!(
        stderr.lines().last(),
        Some(format!("{}: interrupted", name(binary)).as_str()),
        "{stderr}"
    );
}

fn files_in(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One forwarded request body (a measurement batch).
fn forward_body() -> String {
    let batches = sandbox::forward::generate::batches(3, jiff::Timestamp::now(), 1, 2);
    serde_json::to_string(&batches[0]).unwrap()
}

#[test]
fn help_exits_0_and_a_usage_error_2() {
    for binary in EVERY_PROGRAM {
        let output = command::<&str>(binary, &["--help"], &[]).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", name(binary));
        assert!(String::from_utf8_lossy(&output.stdout).contains("Usage:"));
        let output = command::<&str>(binary, &["--no-such-option"], &[])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{}", name(binary));
        assert!(String::from_utf8_lossy(&output.stderr).contains("Usage:"));
    }
}

#[test]
fn a_bad_configuration_or_input_exits_2_with_one_line() {
    let folder = tempfile::tempdir().unwrap();
    let bad_body = folder.path().join("body.json");
    std::fs::write(&bad_body, r#"[{"kind": 1}]"#).unwrap();
    let bad_body = bad_body.to_str().unwrap();
    let set = |name: &'static str| vec![(name, "x".to_owned())];
    let day = ["--from", "2026-01-02T00:00:00Z", "--to", "2026-01-01T00:00:00Z"];
    let day_forward = ["--from", "2026-01-01T00:00:00Z", "--to", "2026-01-02T00:00:00Z"];
    // A key that is never used: the input is refused before any request.
    let configured_dt = vec![
        ("DT_SERVICE_ACCOUNT_KEY_ID", "k".to_owned()),
        ("DT_SERVICE_ACCOUNT_SECRET", "s".to_owned()),
    ];
    let cases: Vec<Case> = vec![
        // Credentials half given.
        (
            CONDUIT_EXPORT,
            vec![],
            vec![("CONDUIT_TOKEN", "x".into()), ("CONDUIT_TIER", "fast".into())],
        ),
        (SDS_EXPORT, SDS_ARGS.to_vec(), set("SDS_CLIENT_ID")),
        (SDS_SENSORS, vec!["--itwin", "i"], set("SDS_CLIENT_ID")),
        (
            DT_EVENTS,
            [&["--project", "p"][..], &day].concat(),
            set("DT_SERVICE_ACCOUNT_KEY_ID"),
        ),
        (
            DT_STREAM,
            vec!["--project", "p"],
            set("DT_SERVICE_ACCOUNT_KEY_ID"),
        ),
        (
            DT_CONNECTORS,
            vec!["--project", "p", "list"],
            set("DT_SERVICE_ACCOUNT_KEY_ID"),
        ),
        (
            DT_RECEIVER,
            vec!["--listen", "127.0.0.1:0"],
            set("DT_SERVICE_ACCOUNT_KEY_ID"),
        ),
        (PREVENTOS_CATALOG, vec![], set("DATA_API_TENANT_ID")),
        (PREVENTOS_DAILY_EXPORT, vec!["--once"], set("DATA_API_TENANT_ID")),
        (
            FORWARD_PUSH,
            vec!["--to", "http://127.0.0.1:9/", "--auth", "static"],
            vec![],
        ),
        (FORWARD_RECEIVER, vec!["127.0.0.1:0"], set("FORWARD_HEADER_NAME")),
        // A range that ends before it starts, bad input, a bad URL.
        (DT_EVENTS, [&["--project", "p"][..], &day].concat(), vec![]),
        (
            FORWARD_READ,
            vec!["--from", "2026-01-02", "--to", "2026-01-01", "file:///tmp"],
            vec![],
        ),
        (
            FORWARD_READ,
            vec!["--from", "2026-01-01", "--to", "2026-01-01", "ftp://host/x"],
            vec![],
        ),
        (FORWARD_DECODE, vec![bad_body], vec![]),
        (FORWARD_DECODE, vec!["/nonexistent/body.json"], vec![]),
        (
            FORWARD_PUSH,
            vec!["--to", "http://127.0.0.1:9/", "--auth", "sas-blob", bad_body],
            vec![],
        ),
        // An update without a field to change.
        (DT_CONNECTORS, vec!["--project", "p", "update", "id"], vec![]),
        // Received pushes that are not push bodies, or not there; a reversed range.
        (
            DT_RECONCILE,
            [
                &["--project", "p", "--connector", "c"][..],
                &day_forward,
                &[bad_body],
            ]
            .concat(),
            configured_dt.clone(),
        ),
        (
            DT_RECONCILE,
            [
                &["--project", "p", "--connector", "c"][..],
                &day_forward,
                &["/nonexistent/pushes"],
            ]
            .concat(),
            configured_dt.clone(),
        ),
        (
            DT_RECONCILE,
            [&["--project", "p", "--connector", "c"][..], &day, &["/dev/null"]].concat(),
            configured_dt,
        ),
    ];
    let mut failures = Vec::new();
    for (binary, args, env) in cases {
        let mut output = command(binary, &args, &env).output().unwrap();
        // The DT demo announces its sandbox first: the report is the line after.
        if env.is_empty() && name(binary).starts_with("dt-") {
            let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
            let after_notice = stderr.split_once('\n').map_or("", |(_, rest)| rest);
            output.stderr = after_notice.as_bytes().to_vec();
        }
        failures.extend(one_line(binary, &output, 2).err());
    }
    assert_all(failures);
}

#[test]
fn a_listen_address_in_use_exits_2_with_one_line() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let env = [
        ("FORWARD_HEADER_NAME", "X-Key".to_owned()),
        ("FORWARD_HEADER_VALUE", "v".to_owned()),
        ("DT_SIGNATURE_SECRET", "s".to_owned()),
        ("DT_SERVICE_ACCOUNT_KEY_ID", "k".to_owned()),
    ];
    let output = command(FORWARD_RECEIVER, &[&address], &env).output().unwrap();
    let forward = one_line(FORWARD_RECEIVER, &output, 2).err();
    let output = command(DT_RECEIVER, &["--listen", &address], &env)
        .output()
        .unwrap();
    assert_all(
        forward
            .into_iter()
            .chain(one_line(DT_RECEIVER, &output, 2).err())
            .collect(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_server_exits_1_with_one_line() {
    let refusing = Faults::none().fail_first(1000, 403);
    let conduit = sandbox::conduit::Sandbox::start(sandbox::conduit::Config::default())
        .await
        .unwrap();
    conduit.set_faults(refusing.clone());
    let sds = sandbox::sds::Sandbox::start(sandbox::sds::Config::default())
        .await
        .unwrap();
    sds.set_faults(refusing.clone());
    let dt = sandbox::dt::Sandbox::start(sandbox::dt::Config::default())
        .await
        .unwrap();
    dt.set_faults(refusing);
    let preventos = sandbox::preventos::Sandbox::start(sandbox::preventos::Config::default())
        .await
        .unwrap();
    // Its faults are for values requests: a wrong subscription key is refused everywhere.
    let preventos_env: Vec<(&str, String)> = preventos
        .env_vars()
        .into_iter()
        .map(|(name, value)| match name {
            "DATA_API_SUBSCRIPTION_KEY" => (name, "wrong".to_owned()),
            _ => (name, value),
        })
        .collect();
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(
        folder.path().join("plan.json"),
        r#"[{"name": "south", "env": "102", "siteId": "site-south", "signalIds": ["Velocity"], "timezone": "UTC", "format": "ndjson"}]"#,
    )
    .unwrap();
    let plan = folder.path().join("plan.json");
    let out = folder.path().join("out");
    let to = format!("http://127.0.0.1:{}/", closed_port());
    let forward_env = vec![
        ("FORWARD_HEADER_NAME", "X-Key".to_owned()),
        ("FORWARD_HEADER_VALUE", "v".to_owned()),
    ];
    let day = ["--from", "2025-01-01T00:00:00Z", "--to", "2025-01-02T00:00:00Z"];
    let dt_env = dt.env_vars();
    // A refusal whose body spans lines (the report still takes one).
    let xml = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(
            wiremock::ResponseTemplate::new(403)
                .set_body_string("<Error>\n  <Code>Denied</Code>\n</Error>\n"),
        )
        .mount(&xml)
        .await;
    let cases: Vec<Case> = vec![
        (CONDUIT_EXPORT, vec!["--min-interval", "0"], conduit.env_vars()),
        (
            CONDUIT_EXPORT,
            vec!["--min-interval", "0"],
            vec![("CONDUIT_TOKEN", "t".to_owned()), ("CONDUIT_BASE_URL", xml.uri())],
        ),
        (SDS_EXPORT, SDS_ARGS.to_vec(), sds.env_vars()),
        (SDS_SENSORS, vec!["--itwin", sandbox::sds::ITWIN], sds.env_vars()),
        (
            DT_EVENTS,
            [&["--project", sandbox::dt::PROJECT][..], &day].concat(),
            dt_env.clone(),
        ),
        (DT_STREAM, vec!["--project", sandbox::dt::PROJECT], dt_env.clone()),
        (
            DT_RECONCILE,
            [
                &["--project", sandbox::dt::PROJECT, "--connector", "c"][..],
                &day,
                &["/dev/null"],
            ]
            .concat(),
            dt_env.clone(),
        ),
        (
            DT_CONNECTORS,
            vec!["--project", sandbox::dt::PROJECT, "list"],
            dt_env,
        ),
        (PREVENTOS_CATALOG, vec![], preventos_env.clone()),
        (
            PREVENTOS_DAILY_EXPORT,
            vec![
                "--plan",
                plan.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--date",
                "2026-05-31",
                "--once",
            ],
            preventos_env,
        ),
        (
            FORWARD_PUSH,
            vec![
                "--to",
                &to,
                "--auth",
                "static",
                "--attempts",
                "1",
                "--batches",
                "1",
            ],
            forward_env,
        ),
    ];
    let mut failures = Vec::new();
    for (binary, args, mut env) in cases {
        env.push(("RUST_LOG", "off".to_owned()));
        let mut command = command(binary, &args, &env);
        command.stdout(Stdio::null());
        failures.extend(one_line(binary, &output(command).await, 1).err());
    }
    assert_all(failures);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_read_exits_1_with_one_line_when_the_store_refuses() {
    use wiremock::{Mock, MockServer, ResponseTemplate, matchers::any};
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(403).set_body_string("<Error>\n<Code>AccessDenied</Code>\n</Error>"),
        )
        .mount(&server)
        .await;
    let env = [
        ("AWS_ENDPOINT", server.uri()),
        ("AWS_ALLOW_HTTP", "true".to_owned()),
        ("AWS_REGION", "eu-west-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "secret".to_owned()),
    ];
    let command = command(
        FORWARD_READ,
        &["--from", "2026-01-02", "--to", "2026-01-02", "s3://bucket"],
        &env,
    );
    assert_all(
        one_line(FORWARD_READ, &output(command).await, 1)
            .err()
            .into_iter()
            .collect(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_standard_output_ends_each_program_quietly_with_0() {
    let conduit = sandbox::conduit::Sandbox::start(sandbox::conduit::Config::default())
        .await
        .unwrap();
    let sds = sandbox::sds::Sandbox::start(sandbox::sds::Config::default())
        .await
        .unwrap();
    let dt = sandbox::dt::Sandbox::start(sandbox::dt::Config::default())
        .await
        .unwrap();
    let preventos = sandbox::preventos::Sandbox::start(sandbox::preventos::Config::default())
        .await
        .unwrap();
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(
        folder.path().join("plan.json"),
        r#"[{"name": "south", "env": "102", "siteId": "site-south", "signalIds": ["Velocity"], "timezone": "UTC", "format": "ndjson"}]"#,
    )
    .unwrap();
    let plan = folder.path().join("plan.json");
    let out = folder.path().join("out");
    let stored = forwarded_objects().await;
    let stored_url = format!("file://{}", stored.0.path().display());
    let today = stored.1.clone();
    let device = dt.devices()[0].id.clone();
    // A connector forwarding every type: a day of the sandbox's history is missing.
    let vars = dt.env_vars();
    let connector = dt_client::Client::from_vars(sandbox::env_lookup(&vars))
        .unwrap()
        .create_data_connector(
            sandbox::dt::PROJECT,
            &dt_client::NewDataConnector::new("closed", "http://127.0.0.1:9/push"),
        )
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let day = ["--from", "2025-01-01T00:00:00Z", "--to", "2025-01-02T00:00:00Z"];
    let to = format!("http://127.0.0.1:{}/", closed_port());
    let forward_env = vec![
        ("FORWARD_HEADER_NAME", "X-Key".to_owned()),
        ("FORWARD_HEADER_VALUE", "v".to_owned()),
    ];
    let cases: Vec<Case> = vec![
        (
            CONDUIT_EXPORT,
            vec![
                "--from",
                "2026-01-01T00:00:00Z",
                "--to",
                "2026-01-02T00:00:00Z",
                "--min-interval",
                "0",
            ],
            conduit.env_vars(),
        ),
        (SDS_EXPORT, SDS_ARGS.to_vec(), sds.env_vars()),
        (SDS_SENSORS, vec!["--itwin", sandbox::sds::ITWIN], sds.env_vars()),
        (
            DT_EVENTS,
            [
                &["--project", sandbox::dt::PROJECT, "--device", &device][..],
                &day,
            ]
            .concat(),
            dt.env_vars(),
        ),
        (
            DT_CONNECTORS,
            vec!["--project", sandbox::dt::PROJECT, "list"],
            dt.env_vars(),
        ),
        (
            DT_RECONCILE,
            [
                &["--project", sandbox::dt::PROJECT, "--connector", &connector][..],
                &day,
                &["/dev/null"],
            ]
            .concat(),
            dt.env_vars(),
        ),
        (PREVENTOS_CATALOG, vec![], preventos.env_vars()),
        (
            PREVENTOS_DAILY_EXPORT,
            vec![
                "--plan",
                plan.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--date",
                "2026-05-31",
                "--once",
            ],
            preventos.env_vars(),
        ),
        (
            FORWARD_READ,
            vec!["--from", &today, "--to", &today, &stored_url],
            vec![],
        ),
        // Each attempt's line goes to standard output, refused or not.
        (
            FORWARD_PUSH,
            vec![
                "--to",
                &to,
                "--auth",
                "static",
                "--attempts",
                "1",
                "--batches",
                "1",
            ],
            forward_env,
        ),
    ];
    let mut failures = Vec::new();
    for (binary, args, env) in cases {
        let output = with_stdout_closed(command(binary, &args, &env)).await;
        failures.extend(quiet(binary, &output).err());
    }

    // Standard input in, standard output closed.
    let mut child = command::<&str>(FORWARD_DECODE, &[], &[])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), forward_body().as_bytes()).unwrap();
    failures.extend(quiet(FORWARD_DECODE, &waited(child).await).err());
    assert_all(failures);
}

/// Messages stored in a folder as the platform stores them, and the day they are under.
async fn forwarded_objects() -> (tempfile::TempDir, String) {
    use sandbox::forward::{Auth, Platform, Sink, SinkConfig, SinkKind};
    let folder = tempfile::tempdir().unwrap();
    let sink = Sink::start(
        SinkConfig::new(SinkKind::Blob {
            sas_query: "sig=read".into(),
        })
        .writing_to(folder.path()),
    )
    .await
    .unwrap();
    let platform = Platform::new(&sink.url(), Auth::BlobSas).unwrap();
    for batch in &sandbox::forward::generate::batches(9, jiff::Timestamp::now(), 2, 2) {
        assert!(platform.deliver(batch).await.last().unwrap().delivered());
    }
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .to_string();
    (folder, today)
}

/// The receivers write each accepted push to standard output: a closed one ends them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_whose_standard_output_is_closed_ends_quietly_with_0() {
    // dt-receiver's demo: the embedded sandbox pushes to it.
    let output = with_stdout_closed(command::<&str>(DT_RECEIVER, &["--listen", "127.0.0.1:0"], &[])).await;
    assert_all(quiet(DT_RECEIVER, &output).err().into_iter().collect());

    let port = closed_port();
    let address = format!("127.0.0.1:{port}");
    let env = [
        ("FORWARD_HEADER_NAME", "X-Key".to_owned()),
        ("FORWARD_HEADER_VALUE", "v".to_owned()),
    ];
    let mut child = command(FORWARD_RECEIVER, &[&address], &env).spawn().unwrap();
    drop(child.stdout.take());
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.contains("listening"), "{line}");
    let response = reqwest::Client::new()
        .post(format!("http://{address}/"))
        .header("X-Key", "v")
        .body(forward_body())
        .send()
        .await
        .unwrap();
    assert!(!response.status().is_success());
    let status = waited(child).await.status;
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert_eq!(status.code(), Some(0), "{rest}");
    assert!(
        !rest.contains("Broken pipe") && !rest.contains("panicked"),
        "{rest}"
    );
}

/// A resumable export interrupted before its first commit leaves nothing (its partial
/// file held nothing to resume from); after one, its partial and state files (the
/// resume point), and no temporary file in either case.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_leaves_a_resumable_export_its_resume_point_and_nothing_else() {
    let slow =
        sandbox::conduit::Sandbox::start(sandbox::conduit::Config::default().with_interval_seconds(6 * 3600))
            .await
            .unwrap();
    let folder = tempfile::tempdir().unwrap();
    let out = folder.path().join("export.ndjson");
    let export = |out: &PathBuf| {
        let mut env = slow.env_vars();
        env.push(("CONDUIT_TIER", "unlimited".to_owned()));
        let args = [
            "--from",
            "2026-01-01T00:00:00Z",
            "--to",
            "2026-04-01T00:00:00Z",
            "--min-interval",
            "0",
            "--out",
            out.to_str().unwrap(),
        ];
        let mut command = command(CONDUIT_EXPORT, &args, &env);
        command.stdout(Stdio::null());
        command
    };

    // Before the first commit: every response waits for longer than the test.
    slow.set_faults(Faults::none().delay(Duration::from_secs(60)));
    let mut child = export(&out).spawn().unwrap();
    let partial = folder.path().join("export.ndjson.partial");
    until(&mut child, "the partial file", || partial.exists()).await;
    let output = interrupted(child).await;
    assert_interrupted(CONDUIT_EXPORT, &output);
    assert_eq!(files_in(folder.path()), Vec::<String>::new());

    // After a commit: the resume point stays.
    slow.set_faults(Faults::none().delay(Duration::from_millis(300)));
    let mut child = export(&out).spawn().unwrap();
    let state = folder.path().join("export.ndjson.state.json");
    until(&mut child, "a commit", || state.exists()).await;
    let output = interrupted(child).await;
    assert_interrupted(CONDUIT_EXPORT, &output);
    assert_eq!(
        files_in(folder.path()),
        ["export.ndjson.partial", "export.ndjson.state.json"]
    );

    // sds-export, before its first commit.
    let sds = sandbox::sds::Sandbox::start(sandbox::sds::Config::default())
        .await
        .unwrap();
    // A second a response: the sensor's lookup, then a page that does not come in time.
    sds.set_faults(Faults::none().delay(Duration::from_secs(1)));
    let folder = tempfile::tempdir().unwrap();
    let out = folder.path().join("sds.ndjson");
    let args = [&SDS_ARGS[..], &["--out", out.to_str().unwrap()]].concat();
    let mut command = command(SDS_EXPORT, &args, &sds.env_vars());
    command.stdout(Stdio::null());
    let mut child = command.spawn().unwrap();
    let partial = folder.path().join("sds.ndjson.partial");
    until(&mut child, "the partial file", || partial.exists()).await;
    let output = interrupted(child).await;
    assert_interrupted(SDS_EXPORT, &output);
    assert_eq!(files_in(folder.path()), Vec::<String>::new());
}

/// dt-stream (its checkpoint), and the two receivers, which write no file: Ctrl-C is
/// exit code 130 for them too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_ends_a_stream_and_the_receivers_with_130() {
    let folder = tempfile::tempdir().unwrap();
    let checkpoint = folder.path().join("stream.json");
    // The demo: an emulated device publishes every second.
    let mut child = command::<&str>(
        DT_STREAM,
        &[
            "--project",
            sandbox::dt::PROJECT,
            "--checkpoint",
            checkpoint.to_str().unwrap(),
        ],
        &[],
    )
    .spawn()
    .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let read = tokio::task::spawn_blocking(move || {
        stdout.read_line(&mut line).unwrap();
        (stdout, line)
    });
    let (_stdout, line) = tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .expect("an event within 20 s")
        .unwrap();
    assert!(line.contains("eventType"), "{line}");
    until(&mut child, "the checkpoint", || checkpoint.exists()).await;
    let output = interrupted(child).await;
    assert_interrupted(DT_STREAM, &output);
    assert_eq!(files_in(folder.path()), ["stream.json"], "no temporary file");
    let stored: serde_json::Value = serde_json::from_slice(&std::fs::read(&checkpoint).unwrap()).unwrap();
    assert!(stored.is_object());

    let env = [
        ("FORWARD_HEADER_NAME", "X-Key".to_owned()),
        ("FORWARD_HEADER_VALUE", "v".to_owned()),
        ("DT_SIGNATURE_SECRET", "s".to_owned()),
    ];
    for (binary, args) in [
        (FORWARD_RECEIVER, vec!["127.0.0.1:0"]),
        (DT_RECEIVER, vec!["--listen", "127.0.0.1:0"]),
    ] {
        let mut child = command(binary, &args, &env).spawn().unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        assert!(line.contains("listening"), "{line}");
        let sent = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let status = waited(child).await.status;
        let mut rest = String::new();
        stderr.read_to_string(&mut rest).unwrap();
        assert_eq!(status.code(), Some(130), "{}: {rest}", name(binary));
        assert_eq!(rest.trim_end(), format!("{}: interrupted", name(binary)));
    }
}
