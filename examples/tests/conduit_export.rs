//! `conduit-export` driven from outside: demo mode, a configured API, failures.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use sandbox::Faults;
use sandbox::conduit::{Config, Readings, Sandbox};

fn export(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_conduit-export"));
    command
        .args(args)
        .env_remove("CONDUIT_TOKEN")
        .env_remove("CONDUIT_BASE_URL")
        .env_remove("CONDUIT_TIER")
        .env_remove("RUST_LOG");
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

async fn export_async(args: Vec<String>, env: Vec<(String, String)>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        export(&args, &env)
    })
    .await
    .unwrap()
}

#[test]
fn without_a_token_it_exports_from_the_embedded_sandbox() {
    let folder = tempfile::tempdir().unwrap();
    let out = folder.path().join("day.csv");
    let output = export(
        &[
            "--ch",
            "2",
            "--from",
            "2026-01-01T00:00:00Z",
            "--to",
            "2026-01-02T00:00:00Z",
            "--format",
            "csv",
            "--out",
            out.to_str().unwrap(),
            "--min-interval",
            "0",
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("embedded sandbox"), "{stderr}");
    let csv = std::fs::read_to_string(&out).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "val_date,dev_netid,dev_chid,val_raw,val_calibrated,val_type,val_description,dev_tag,dev_site,other_attributes"
        )
    );
    // Two sandbox devices have a channel 2, one value a minute each; the sandbox's ends
    // are inclusive, and the two points created exactly at --to come along (nothing is
    // trimmed by val_date, and the client cannot see creation times).
    assert_eq!(lines.clone().count(), 2 * 1440 + 2);
    let first = lines.next().unwrap();
    assert!(
        first.starts_with("2026-01-01T00:00:00Z,70B3D54990DC01DA,2,"),
        "{first}"
    );
    // Every sandbox attribute has a column: nothing is left for the JSON one.
    assert!(
        first.ends_with(",Voltage,,Sandbox 70B3D54990DC01DA,,{}"),
        "{first}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_token_it_streams_ndjson_and_logs_each_window() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let env = vec![
        ("CONDUIT_TOKEN".to_owned(), sim.token().to_owned()),
        ("CONDUIT_BASE_URL".to_owned(), sim.base_url()),
    ];
    // 1767225600 = 2026-01-01T00:00:00Z; 5 days of 3 channels at 1/min: over the cap.
    let args = [
        "--id",
        "70B3D54990DC01DA",
        "--from",
        "1767225600",
        "--to",
        "1767657600",
        "--min-interval",
        "0",
    ];
    let output = export_async(args.iter().map(|s| s.to_string()).collect(), env).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    // With the three points created exactly at --to (the sandbox's ends are inclusive).
    assert_eq!(lines.len(), 5 * 1440 * 3 + 3);
    assert_eq!(lines[0]["val_date"], 1_767_225_600);
    assert_eq!(lines[0]["dev_netid"], "70B3D54990DC01DA");
    // Each line is the server's text: its attributes in its order, none added.
    let first = stdout.lines().next().unwrap();
    assert!(
        first.starts_with(r#"{"val_date":1767225600,"dev_netid":"70B3D54990DC01DA","dev_chid":1,"val_raw":"#),
        "{first}"
    );
    assert!(
        first.ends_with(r#","val_type":"Voltage","dev_tag":"Sandbox 70B3D54990DC01DA"}"#),
        "{first}"
    );
    // Every request is logged: the windows kept, and the capped ones halved.
    let fetched = stderr.matches("conduit window fetched").count();
    let halved = stderr.matches("conduit window at the cap").count();
    assert!(fetched >= 3 && halved >= 1, "{stderr}");
    assert_eq!(sim.requests(), (fetched + halved) as u64);
    assert!(!stderr.contains(sim.token()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_export_exits_non_zero_and_leaves_no_file() {
    let sim = Sandbox::start(Config::default().with_faults(Faults::none().cut_body_after(1000)))
        .await
        .unwrap();
    let folder = tempfile::tempdir().unwrap();
    let out = folder.path().join("export.ndjson");
    let env = vec![
        ("CONDUIT_TOKEN".to_owned(), sim.token().to_owned()),
        ("CONDUIT_BASE_URL".to_owned(), sim.base_url()),
    ];
    let args = vec![
        "--from".to_owned(),
        "1767225600".to_owned(),
        "--to".to_owned(),
        "1767312000".to_owned(),
        "--out".to_owned(),
        out.to_str().unwrap().to_owned(),
        "--min-interval".to_owned(),
        "0".to_owned(),
    ];
    let output = export_async(args, env).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("incomplete"));
    // No output file; at most what a rerun resumes from.
    assert!(!out.exists());
    for entry in std::fs::read_dir(folder.path()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(
            name == "export.ndjson.partial" || name == "export.ndjson.state.json",
            "{name}"
        );
    }
}

/// A server's datapoint with number text a float would change and attributes neither the
/// CSV columns nor the document name.
const UNUSUAL: &str = r#"{"val_date":1767225600,"dev_netid":"A","dev_chid":1,"val_raw":1.50,"val_type":"Voltage","dev_error":0,"brand_new":{"x":[1.0,"a,b"]}}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ndjson_is_the_servers_text_and_csv_keeps_every_other_attribute() {
    use wiremock::matchers::path;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(path("/conduitv6/"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(format!("[{UNUSUAL}]"), "application/json"))
        .mount(&server)
        .await;
    let env = vec![
        ("CONDUIT_TOKEN".to_owned(), "t".to_owned()),
        (
            "CONDUIT_BASE_URL".to_owned(),
            format!("{}/conduitv6/", server.uri()),
        ),
    ];
    let args = |format: &str| {
        [
            "--from",
            "1767225600",
            "--to",
            "1767229200",
            "--min-interval",
            "0",
            "--format",
            format,
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let output = export_async(args("ndjson"), env.clone()).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8(output.stdout).unwrap(), format!("{UNUSUAL}\n"));

    let output = export_async(args("csv"), env).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let csv = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        csv.lines().nth(1),
        Some(
            r#"2026-01-01T00:00:00Z,A,1,1.50,,Voltage,,,,"{""brand_new"":{""x"":[1.0,""a,b""]},""dev_error"":0}""#
        )
    );
}

#[test]
fn a_wrong_variable_is_a_configuration_error_named_on_one_line() {
    let output = export(&[], &[("CONDUIT_TOKEN", "t"), ("CONDUIT_TIER", "fast")]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("CONDUIT_TIER") && !stderr.contains("fast"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn half_a_range_is_a_usage_error() {
    let output = export(&["--from", "2026-01-01T00:00:00Z"], &[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--to <TO>") && stderr.contains("Usage"),
        "{stderr}"
    );
}

#[test]
fn every_example_answers_help_on_standard_output() {
    for binary in [
        env!("CARGO_BIN_EXE_conduit-export"),
        env!("CARGO_BIN_EXE_preventos-daily-export"),
        env!("CARGO_BIN_EXE_preventos-catalog"),
        env!("CARGO_BIN_EXE_forward-decode"),
        env!("CARGO_BIN_EXE_forward-receiver"),
        env!("CARGO_BIN_EXE_forward-push"),
        env!("CARGO_BIN_EXE_forward-read"),
        env!("CARGO_BIN_EXE_sds-export"),
        env!("CARGO_BIN_EXE_dt-events"),
        env!("CARGO_BIN_EXE_dt-stream"),
        env!("CARGO_BIN_EXE_dt-connectors"),
        env!("CARGO_BIN_EXE_dt-receiver"),
        env!("CARGO_BIN_EXE_sds-sensors"),
    ] {
        let output = std::process::Command::new(binary).arg("--help").output().unwrap();
        assert!(output.status.success(), "{binary}");
        let help = String::from_utf8_lossy(&output.stdout);
        assert!(help.contains("Usage:"), "{binary}: {help}");
        assert!(output.stderr.is_empty(), "{binary}");
    }
}

/// The command line of a resumable export from `sim` into `out`: 100 days, so that the
/// read takes several windows (31 days at most each).
fn resumable_command(sim: &Sandbox, out: &Path, format: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_conduit-export"));
    command
        .args([
            "--from",
            "1767225600",
            "--to",
            "1775865600",
            "--format",
            format,
            "--min-interval",
            "0",
            "--out",
        ])
        .arg(out)
        .env_remove("RUST_LOG")
        .env("CONDUIT_TOKEN", sim.token())
        .env("CONDUIT_BASE_URL", sim.base_url())
        .env("CONDUIT_TIER", "unlimited")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// Four points a day per channel, some sharing a second, `dev_chid` sometimes text.
fn resumable_config() -> Config {
    Config::default().with_interval_seconds(6 * 3600).with_readings(
        Readings::default()
            .with_samples_per_second(2)
            .with_chid_as_text(true),
    )
}

#[test]
fn a_killed_export_resumes_to_the_uninterrupted_file_without_fetching_again() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for format in ["ndjson", "csv"] {
        let folder = tempfile::tempdir().unwrap();
        // The uninterrupted run, on a simulator of its own.
        let quick = runtime.block_on(Sandbox::start(resumable_config())).unwrap();
        let whole_path = folder.path().join(format!("whole.{format}"));
        let output = resumable_command(&quick, &whole_path, format).output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let whole = std::fs::read(&whole_path).unwrap();
        let windows = quick.requests();
        assert!(windows >= 4, "several windows: {windows}");

        // A slow simulator (300 ms a response), killed after its first commit.
        let slow = runtime
            .block_on(Sandbox::start(
                resumable_config().with_faults(Faults::none().delay(Duration::from_millis(300))),
            ))
            .unwrap();
        let out = folder.path().join(format!("killed.{format}"));
        let state = folder.path().join(format!("killed.{format}.state.json"));
        let partial = folder.path().join(format!("killed.{format}.partial"));
        let mut child = resumable_command(&slow, &out, format).spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !state.exists() {
            assert!(Instant::now() < deadline, "no commit within 30 s");
            assert!(
                child.try_wait().unwrap().is_none(),
                "the export ended before a commit"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!out.exists(), "killed mid-way");
        let before = slow.requests();
        assert!(before < windows, "killed before the end: {before} of {windows}");

        // The same command line again: it goes on.
        let output = resumable_command(&slow, &out, format).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        assert!(stderr.contains("resuming"), "{stderr}");
        assert!(
            std::fs::read(&out).unwrap() == whole,
            "{format}: not the uninterrupted file"
        );
        assert!(!state.exists() && !partial.exists(), "state or partial file left");
        // Windows already written were not asked for again, apart from at most one.
        assert!(
            slow.requests() <= windows + 1,
            "{format}: {} requests for {windows} windows",
            slow.requests()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_keeps_a_val_date_sent_as_text_as_sent() {
    use wiremock::matchers::path;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    let body = r#"[{"val_date":"1767225600","dev_netid":"A","dev_chid":"1"},{"val_date":1767225601,"dev_netid":"A","dev_chid":1}]"#;
    Mock::given(path("/conduitv6/"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
        .mount(&server)
        .await;
    let env = vec![
        ("CONDUIT_TOKEN".to_owned(), "t".to_owned()),
        (
            "CONDUIT_BASE_URL".to_owned(),
            format!("{}/conduitv6/", server.uri()),
        ),
    ];
    let args = [
        "--from",
        "1767225600",
        "--to",
        "1767229200",
        "--min-interval",
        "0",
        "--format",
        "csv",
    ]
    .map(str::to_owned)
    .to_vec();
    let output = export_async(args, env).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let csv = String::from_utf8(output.stdout).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(
        rows,
        [
            r#"2026-01-01T00:00:00Z,A,1,,,,,,,"{""val_date"":""1767225600""}""#,
            "2026-01-01T00:00:01Z,A,1,,,,,,,{}",
        ]
    );
}
