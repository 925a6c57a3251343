//! The DT examples driven from outside, against a sandbox of the test's own.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use dt_client::{Client, ConnectorUpdate, NewDataConnector};
use jiff::Timestamp;
use sandbox::dt::{Config, PROJECT, Sandbox, StreamFaults};
use secrecy::SecretString;

/// Every variable the DT examples read, and the old name of `DT_BASE_URL` (an error when
/// set): none leaks in from the test's environment.
const VARS: [&str; 9] = [
    "DT_API_URL",
    "DT_SERVICE_ACCOUNT_KEY_ID",
    "DT_SERVICE_ACCOUNT_SECRET",
    "DT_SERVICE_ACCOUNT_EMAIL",
    "DT_AUTH",
    "DT_BASE_URL",
    "DT_TOKEN_URL",
    "DT_EMULATOR_URL",
    "DT_SIGNATURE_SECRET",
];

fn command(binary: &str, args: &[String], env: &[(&'static str, String)]) -> Command {
    let mut command = Command::new(binary);
    command.args(args).env_remove("RUST_LOG");
    for name in VARS {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

async fn run(binary: &'static str, args: &[&str], env: Vec<(&'static str, String)>) -> Output {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    tokio::task::spawn_blocking(move || command(binary, &args, &env).output().unwrap())
        .await
        .unwrap()
}

fn client(sim: &Sandbox) -> Client {
    let vars = sim.env_vars();
    Client::from_vars(sandbox::env_lookup(&vars)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dt_events_writes_every_envelope_as_sent() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let device = sim.devices()[0].id.clone();
    let (from, to) = ("2025-02-01T00:00:00Z", "2025-02-02T00:00:00Z");
    let output = run(
        env!("CARGO_BIN_EXE_dt-events"),
        &[
            "--project",
            PROJECT,
            "--device",
            &device,
            "--type",
            "temperature",
            "--from",
            from,
            "--to",
            to,
        ],
        sim.env_vars(),
    )
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let ids: Vec<String> = stdout
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["eventId"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    // The range is half-open: the event at `to` (which the API's `endTime` includes)
    // belongs to the next day's selection.
    let expected = sim.event_ids(&device, from.parse().unwrap(), to.parse::<Timestamp>().unwrap());
    assert_eq!(ids, expected);
    assert_eq!(ids.len(), 96);

    // Every device of the project when no --device is given.
    let output = run(
        env!("CARGO_BIN_EXE_dt-events"),
        &[
            "--project",
            PROJECT,
            "--from",
            "2025-02-01T00:00:00Z",
            "--to",
            "2025-02-01T00:59:59Z",
        ],
        sim.env_vars(),
    )
    .await;
    assert!(output.status.success());
    assert_eq!(String::from_utf8(output.stdout).unwrap().lines().count(), 120 * 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dt_stream_writes_live_events_until_the_count() {
    dt_stream_writes_three_live_events(Config::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dt_stream_reports_an_undecodable_message_on_stderr_and_goes_on() {
    let stderr =
        dt_stream_writes_three_live_events(Config::default().with_stream_faults(StreamFaults::undecodable()))
            .await;
    let skipped: Vec<&str> = stderr.lines().filter(|l| l.contains("does not decode")).collect();
    assert_eq!(skipped.len(), 1, "{stderr}");
    assert!(skipped[0].starts_with("dt-stream: "), "{stderr}");
}

/// Runs `dt-stream --count 3` against a sandbox of `config` while 3 events are published;
/// checks it wrote them and exited 0, and returns its stderr.
async fn dt_stream_writes_three_live_events(config: Config) -> String {
    let sim = Sandbox::start(config).await.unwrap();
    let client = client(&sim);
    let labels = serde_json::Map::new();
    let device = client
        .create_emulated_device(PROJECT, "touch", &labels)
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let args: Vec<String> = ["--project", PROJECT, "--device", &device, "--count", "3"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let child = command(env!("CARGO_BIN_EXE_dt-stream"), &args, &sim.env_vars())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..500 {
        if sim.stream_connections() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for _ in 0..3 {
        client
            .publish(PROJECT, &device, "touch", &serde_json::json!({}))
            .await
            .unwrap();
    }
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines.iter().all(|l| l.contains("\"eventType\":\"touch\"")));
    stderr.into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dt_connectors_updates_only_what_it_is_given_and_never_prints_secrets() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let mut env = sim.env_vars();
    env.push(("RECEIVER_SECRET", "very-secret-signing-key".into()));
    let output = run(
        env!("CARGO_BIN_EXE_dt-connectors"),
        &[
            "--project",
            PROJECT,
            "create",
            "--name",
            "r",
            "--url",
            "http://127.0.0.1:9/",
            "--events",
            "touch,co2",
            "--header",
            "x-key=header-secret",
            "--signature-secret-env",
            "RECEIVER_SECRET",
        ],
        env.clone(),
    )
    .await;
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let created: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let id = created["name"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    assert!(
        !stdout.contains("very-secret") && !stdout.contains("header-secret"),
        "{stdout}"
    );

    let output = run(
        env!("CARGO_BIN_EXE_dt-connectors"),
        &["--project", PROJECT, "update", &id, "--status", "USER_DISABLED"],
        env.clone(),
    )
    .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let updated: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(updated["status"], "USER_DISABLED");
    assert_eq!(updated["events"], serde_json::json!(["touch", "co2"]));
    assert_eq!(updated["httpConfig"]["headers"]["x-key"], "[REDACTED]");

    for (args, expected, code) in [
        (
            vec![
                "--project",
                PROJECT,
                "update",
                &id,
                "--signature-secret-env",
                "UNSET_VARIABLE",
            ],
            "UNSET_VARIABLE",
            2,
        ),
        (vec!["--project", PROJECT, "update", &id], "at least one field", 2),
        (vec!["--project", PROJECT, "get", "missing"], "not found", 1),
    ] {
        let output = run(env!("CARGO_BIN_EXE_dt-connectors"), &args, env.clone()).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{stderr}");
        assert!(stderr.lines().last().unwrap().contains(expected), "{stderr}");
    }
    let output = run(
        env!("CARGO_BIN_EXE_dt-connectors"),
        &["--project", PROJECT, "metrics", &id],
        env,
    )
    .await;
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()["metrics"]["successCount"],
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dt_connectors_takes_a_secret_header_value_from_the_environment() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let mut env = sim.env_vars();
    env.push(("RECEIVER_KEY", "env-header-s3cret-value".into()));
    let output = run(
        env!("CARGO_BIN_EXE_dt-connectors"),
        &[
            "--project",
            PROJECT,
            "create",
            "--name",
            "r",
            "--url",
            "http://127.0.0.1:9/",
            "--header-env",
            "x-api-key=RECEIVER_KEY",
            "--header",
            "x-tenant=plant-7",
        ],
        env.clone(),
    )
    .await;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    );
    assert!(output.status.success(), "{stderr}");
    assert!(!stdout.contains("env-header-s3cret") && !stderr.contains("env-header-s3cret"));
    let created: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(created["httpConfig"]["headers"]["x-api-key"], "[REDACTED]");
    let id = created["name"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    // The connector carries the environment's value, and the plain one as given.
    let stored = client(&sim).data_connector(PROJECT, &id).await.unwrap();
    let headers = &stored.http_config.as_ref().unwrap().headers;
    assert_eq!(headers["x-api-key"], "env-header-s3cret-value");
    assert_eq!(headers["x-tenant"], "plant-7");

    // An unset variable (for a header or the signature secret) and a header named twice
    // are usage errors: exit 2, one line naming the variable, and nothing sent.
    let connectors = sim.requests();
    for (args, expected) in [
        (vec!["--header-env", "x-api-key=UNSET_VARIABLE"], "UNSET_VARIABLE"),
        (vec!["--signature-secret-env", "UNSET_VARIABLE"], "UNSET_VARIABLE"),
        (
            vec!["--header-env", "X-Key=RECEIVER_KEY", "--header", "x-key=v"],
            "given twice",
        ),
    ] {
        let mut full = vec!["--project", PROJECT, "update", &id];
        full.extend(args);
        let output = run(env!("CARGO_BIN_EXE_dt-connectors"), &full, env.clone()).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
        assert!(!stderr.contains("env-header-s3cret"), "{stderr}");
    }
    assert_eq!(sim.requests(), connectors, "nothing sent");
}

/// A running `dt-receiver` with `DT_SIGNATURE_SECRET=receiver-secret` and `extra`
/// arguments: the child, its URL, and its standard error (read to its end, since a
/// closed pipe would fail the receiver's writes).
async fn spawn_receiver(extra: &[&str]) -> (std::process::Child, String, tokio::task::JoinHandle<String>) {
    let mut args = vec!["--listen".to_owned(), "127.0.0.1:0".to_owned()];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let mut child = command(
        env!("CARGO_BIN_EXE_dt-receiver"),
        &args,
        &[("DT_SIGNATURE_SECRET", "receiver-secret".into())],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let (found, address) = tokio::sync::oneshot::channel();
    let log = tokio::task::spawn_blocking(move || {
        let mut found = Some(found);
        let mut log = String::new();
        let mut line = String::new();
        while stderr.read_line(&mut line).unwrap_or(0) > 0 {
            if let Some(rest) = line.trim().strip_prefix("dt-receiver: listening on ") {
                if let Some(found) = found.take() {
                    let _ = found.send(rest.to_owned());
                }
            }
            log.push_str(&line);
            line.clear();
        }
        log
    });
    let address = address.await.expect("the receiver listens");
    (child, address, log)
}

/// A push body of one touch event with id `event_id`.
fn push_body(event_id: &str) -> String {
    serde_json::json!({
        "event": {
            "eventId": event_id,
            "targetName": "projects/p/devices/d1",
            "eventType": "touch",
            "data": {"touch": {"updateTime": "2025-01-01T00:00:00Z"}},
            "timestamp": "2025-01-01T00:00:00Z",
        },
        "labels": {},
        "metadata": {"deviceId": "d1", "projectId": "p", "deviceType": "touch", "productNumber": "x"},
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dt_receiver_answers_a_replayed_push_without_writing_it_again() {
    let (mut child, address, log) = spawn_receiver(&[]).await;
    let http = reqwest::Client::new();
    let post = |body: String, signature: String| {
        http.post(&address)
            .header("X-Dt-Signature", signature)
            .body(body)
            .send()
    };
    let body = push_body("evt-replayed");
    let signature = sandbox::dt::push_signature("receiver-secret", body.as_bytes());
    // The same signed request twice (a copy), then the same event signed anew (DT's
    // retry: a new jti), then another event.
    for (body, signature) in [
        (body.clone(), signature.clone()),
        (body.clone(), signature),
        (
            body.clone(),
            sandbox::dt::push_signature("receiver-secret", body.as_bytes()),
        ),
        (
            push_body("evt-other"),
            sandbox::dt::push_signature("receiver-secret", push_body("evt-other").as_bytes()),
        ),
    ] {
        let answer = post(body, signature).await.unwrap();
        assert_eq!(answer.status().as_u16(), 200);
    }
    child.kill().unwrap();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let log = log.await.unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let ids: Vec<String> = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["event"]["eventId"].to_string())
        .collect();
    assert_eq!(ids, ["\"evt-replayed\"", "\"evt-other\""], "{log}");
    assert_eq!(log.matches("a replay of").count(), 2, "{log}");
    assert!(log.contains("a replay of jti"), "{log}");
    assert!(log.contains("a replay of event `evt-replayed`"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dt_receiver_prints_verified_pushes_and_refuses_the_rest() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let (mut child, address, log) = spawn_receiver(&[]).await;

    let http = reqwest::Client::new();
    let refused = http.post(&address).body("{}").send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 401, "no signature");

    let client = client(&sim);
    let connector = client
        .create_data_connector(
            PROJECT,
            &NewDataConnector::new("receiver", address.clone()).with(
                ConnectorUpdate::new()
                    .events(["co2"])
                    .signature_secret(SecretString::from("receiver-secret")),
            ),
        )
        .await
        .unwrap();
    let id = connector.id().unwrap().to_owned();
    client.sync_data_connector(PROJECT, &id).await.unwrap();
    assert_eq!(
        client
            .data_connector_metrics(PROJECT, &id)
            .await
            .unwrap()
            .success_count,
        20
    );

    // A connector signing with another secret: every push refused (401), counted.
    client
        .update_data_connector(
            PROJECT,
            &id,
            &ConnectorUpdate::new().signature_secret(SecretString::from("wrong")),
        )
        .await
        .unwrap();
    client.sync_data_connector(PROJECT, &id).await.unwrap();
    assert_eq!(
        client
            .data_connector_metrics(PROJECT, &id)
            .await
            .unwrap()
            .error_count,
        20
    );

    child.kill().unwrap();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let log = log.await.unwrap();
    // The unsigned request, and 20 pushes tried 3 times each.
    assert_eq!(log.matches("refused a push").count(), 61, "{log}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 20);
    assert!(
        lines
            .iter()
            .all(|push| push["event"]["eventType"] == "co2" && push["metadata"]["deviceType"] == "co2")
    );
}

#[tokio::test]
async fn dt_receiver_needs_its_secret_when_configured() {
    let output = run(
        env!("CARGO_BIN_EXE_dt-receiver"),
        &["--listen", "127.0.0.1:0"],
        vec![("DT_SERVICE_ACCOUNT_KEY_ID", "k".into())],
    )
    .await;
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("DT_SIGNATURE_SECRET is not set"));
}

/// Reads a child's standard output line by line on a thread, into a shared list.
fn collect_lines(stdout: std::process::ChildStdout) -> std::sync::Arc<std::sync::Mutex<Vec<String>>> {
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            sink.lock().unwrap().push(line);
        }
    });
    lines
}

/// Waits (briefly polling, bounded) until `done` holds.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Events the checkpoint in `path` says were yielded (0 while it is absent).
fn checkpointed_events(path: &std::path::Path) -> usize {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|checkpoint| checkpoint["state"]["seen"].as_array().map(Vec::len))
        .unwrap_or(0)
}

fn ids_of(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["eventId"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dt_stream_killed_and_rerun_with_its_checkpoint_writes_every_event_once() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let client = client(&sim);
    let labels = serde_json::Map::new();
    let device = client
        .create_emulated_device(PROJECT, "touch", &labels)
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("stream.checkpoint.json");
    let args: Vec<String> = [
        "--project",
        PROJECT,
        "--device",
        &device,
        "--count",
        "10",
        "--checkpoint",
        state.to_str().unwrap(),
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let started = Timestamp::now();
    let publish = |n: usize| {
        let client = client.clone();
        let device = device.clone();
        async move {
            for _ in 0..n {
                client
                    .publish(PROJECT, &device, "touch", &serde_json::json!({}))
                    .await
                    .unwrap();
            }
        }
    };

    // The first run: 4 events, each committed to the checkpoint, then killed.
    let mut first = command(env!("CARGO_BIN_EXE_dt-stream"), &args, &sim.env_vars())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let first_lines = collect_lines(first.stdout.take().unwrap());
    until("the first run to connect", || sim.stream_connections() >= 1).await;
    publish(4).await;
    until("the first run's checkpoint of 4 events", || {
        checkpointed_events(&state) == 4
    })
    .await;
    first.kill().unwrap();
    first.wait().unwrap();
    until("the first run's output", || {
        first_lines.lock().unwrap().len() == 4
    })
    .await;

    // Published while no run is connected.
    publish(3).await;
    let pages_before = sim.history_pages();

    // The rerun: the 3 missed events from history, then 7 live, then --count ends it.
    let mut second = command(env!("CARGO_BIN_EXE_dt-stream"), &args, &sim.env_vars())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let second_lines = collect_lines(second.stdout.take().unwrap());
    until("the rerun to read the missed events", || {
        second_lines.lock().unwrap().len() == 3
    })
    .await;
    publish(7).await;
    let status = tokio::task::spawn_blocking(move || second.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success());
    until("the rerun's output", || second_lines.lock().unwrap().len() == 10).await;

    let mut written = ids_of(&first_lines.lock().unwrap());
    written.extend(ids_of(&second_lines.lock().unwrap()));
    let truth = sim.event_ids(
        &device,
        started,
        Timestamp::now() + jiff::SignedDuration::from_secs(1),
    );
    assert_eq!(truth.len(), 14);
    // Events of one millisecond have no order of their own: compare sorted.
    let mut truth = truth;
    written.sort();
    truth.sort();
    assert_eq!(written, truth, "every event once across both runs");
    // The rerun read the history of its one device once, not what the first run wrote.
    assert_eq!(sim.history_pages() - pages_before, 1);
    assert!(sim.stream_connections() >= 2);

    // The checkpoint of other options is refused: a usage error.
    let mut other = args.clone();
    other.extend(["--type".to_owned(), "co2".to_owned()]);
    let refs: Vec<&str> = other.iter().map(String::as_str).collect();
    let output = run(env!("CARGO_BIN_EXE_dt-stream"), &refs, sim.env_vars()).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.lines().last().unwrap().contains("checkpoint"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dt_reconcile_prints_the_pushes_the_receiver_lacks_in_time_order() {
    let sim = Sandbox::start(Config::default().with_devices_per_project(0))
        .await
        .unwrap();
    let client = client(&sim);
    let mut labels = serde_json::Map::new();
    labels.insert("name".into(), serde_json::json!("door"));
    let device = client
        .create_emulated_device(PROJECT, "touch", &labels)
        .await
        .unwrap();
    let device = device.id().unwrap().to_owned();
    // Nothing listens on port 9: every push fails, as to a receiver that is down.
    let connector = client
        .create_data_connector(
            PROJECT,
            &NewDataConnector::new("down", "http://127.0.0.1:9/push")
                .with(ConnectorUpdate::new().events(["touch"]).labels(["name"])),
        )
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let from = Timestamp::now() - jiff::SignedDuration::from_secs(1);
    for _ in 0..6 {
        client
            .publish(PROJECT, &device, "touch", &serde_json::json!({}))
            .await
            .unwrap();
    }
    let to = Timestamp::now() + jiff::SignedDuration::from_secs(1);
    let ids = sim.event_ids(&device, from, to);
    assert_eq!(ids.len(), 6);
    // The receiver has the first and the fourth (the file as dt-receiver writes it).
    let folder = tempfile::tempdir().unwrap();
    let received = folder.path().join("received.ndjson");
    let lines: String = [&ids[0], &ids[3]]
        .iter()
        .map(|id| format!("{}\n", sim.push_body(&connector, &device, id).unwrap()))
        .collect();
    std::fs::write(&received, lines).unwrap();
    let (from, to) = (from.to_string(), to.to_string());
    let output = run(
        env!("CARGO_BIN_EXE_dt-reconcile"),
        &[
            "--project",
            PROJECT,
            "--connector",
            &connector,
            "--from",
            &from,
            "--to",
            &to,
            received.to_str().unwrap(),
        ],
        sim.env_vars(),
    )
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let bodies: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let expected: Vec<serde_json::Value> = [1, 2, 4, 5]
        .iter()
        .map(|&i| sim.push_body(&connector, &device, &ids[i]).unwrap())
        .collect();
    assert_eq!(bodies, expected);
    assert!(
        stderr.contains("2 received, 6 in history, 4 missing (1 devices)"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dt_reconcile_killed_then_run_again_with_its_output_gives_each_push_once() {
    use std::collections::HashSet;
    use std::io::Read;
    let sim = Sandbox::start(Config::default().with_devices_per_project(60))
        .await
        .unwrap();
    let client = client(&sim);
    let connector = client
        .create_data_connector(
            PROJECT,
            &NewDataConnector::new("down", "http://127.0.0.1:9/push")
                .with(ConnectorUpdate::new().labels(["name"])),
        )
        .await
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    let (from, to) = ("2025-03-01T00:00:00Z", "2025-03-03T00:00:00Z");
    let truth: HashSet<String> = sim
        .devices()
        .iter()
        .filter(|d| d.project == PROJECT)
        .flat_map(|d| sim.event_ids(&d.id, from.parse().unwrap(), to.parse().unwrap()))
        .collect();
    assert_eq!(truth.len(), 60 * 192);
    let folder = tempfile::tempdir().unwrap();
    let nothing = folder.path().join("received.ndjson");
    std::fs::write(&nothing, "").unwrap();
    let first = folder.path().join("first.ndjson");
    let args = |received: &[&std::path::Path]| {
        let mut args: Vec<String> = [
            "--project",
            PROJECT,
            "--connector",
            &connector,
            "--from",
            from,
            "--to",
            to,
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        args.extend(received.iter().map(|p| p.to_str().unwrap().to_owned()));
        args
    };

    // Killed once a megabyte of pushes came out (the output ends inside a line, most
    // likely).
    let binary = env!("CARGO_BIN_EXE_dt-reconcile");
    let killed_args = args(&[&nothing]);
    let env = sim.env_vars();
    let written = tokio::task::spawn_blocking(move || {
        let mut child = command(binary, &killed_args, &env)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut written = vec![0u8; 1 << 20];
        stdout.read_exact(&mut written).unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        written
    })
    .await
    .unwrap();
    std::fs::write(&first, &written).unwrap();
    let whole_lines: Vec<&str> = std::str::from_utf8(&written)
        .unwrap()
        .split_inclusive('\n')
        .filter(|line| line.ends_with('\n'))
        .collect();
    assert!(!whole_lines.is_empty() && whole_lines.len() < truth.len());

    // Run again with that output as one more received file.
    let output = run(binary, &[], Vec::new()).await;
    assert!(!output.status.success(), "RECEIVED is required");
    let again = args(&[&nothing, &first]);
    let again: Vec<&str> = again.iter().map(String::as_str).collect();
    let output = run(binary, &again, sim.env_vars()).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let id = |line: &str| {
        serde_json::from_str::<serde_json::Value>(line).unwrap()["event"]["eventId"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let before: Vec<String> = whole_lines.iter().map(|line| id(line)).collect();
    let after: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(id)
        .collect();
    let mut all: Vec<&String> = before.iter().chain(&after).collect();
    let count = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), count, "a push given in both runs");
    assert_eq!(all.into_iter().cloned().collect::<HashSet<_>>(), truth);
}
