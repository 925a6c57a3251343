//! `sds-export` and `sds-sensors` driven from outside: demo mode, a configured API under
//! a harsh paging reading, and failures.

use std::process::{Command, Output};

use jiff::Timestamp;
use sandbox::sds::{CapOffset, Config, ITWIN, PageTotal, Readings, Sandbox};

fn run(binary: &str, args: &[&str], env: &[(&str, String)]) -> Output {
    let mut command = Command::new(binary);
    command.args(args).env_remove("RUST_LOG");
    for name in sds_client::env::ALL {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

async fn run_async(binary: &'static str, args: Vec<String>, env: Vec<(&'static str, String)>) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(binary, &args, &env)
    })
    .await
    .unwrap()
}

fn export_args(from: &str, to: &str, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "--itwin", ITWIN, "--sensor", "sensor-2", "--metric", "T", "--unit", "K", "--from", from, "--to", to,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

#[test]
fn without_credentials_it_exports_from_the_embedded_sandbox() {
    let output = run(
        env!("CARGO_BIN_EXE_sds-export"),
        &[
            "--itwin",
            ITWIN,
            "--sensor",
            "sensor-1",
            "--metric",
            "f",
            "--unit",
            "digits",
            "--from",
            "2026-03-01T00:00:00Z",
            "--to",
            "2026-03-01T01:00:00Z",
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("embedded Sensor Data sandbox"), "{stderr}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 60);
    let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(
        first["timestamp"],
        "2026-03-01T00:00:00Z"
            .parse::<Timestamp>()
            .unwrap()
            .as_millisecond()
    );
    assert!(first["value"].is_number());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_export_is_complete_in_order_under_a_capped_server() {
    let readings = Readings::default()
        .with_page_total(PageTotal::Observations)
        .with_page_size_cap(700, CapOffset::RequestedSize);
    let sim = Sandbox::start(Config::default().with_readings(readings))
        .await
        .unwrap();
    let (from, to) = ("2025-07-01T00:00:00Z", "2025-07-03T00:00:00Z");
    let output = run_async(
        env!("CARGO_BIN_EXE_sds-export"),
        export_args(from, to, &[]),
        sim.env_vars(),
    )
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("embedded"), "{stderr}");
    let truth = sim.observations_in("sensor-2", "T", "K", from.parse().unwrap(), to.parse().unwrap());
    let expected: String = truth
        .iter()
        .map(|(ms, value)| {
            format!(
                "{{\"timestamp\":{ms},\"value\":{}}}\n",
                serde_json::Value::from(*value)
            )
        })
        .collect();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), expected);
    assert_eq!(truth.len(), 2880);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_api_export_writes_each_timestamp_once() {
    let sim = Sandbox::start(Config::default().with_data_response_cap(500))
        .await
        .unwrap();
    let (from, to) = ("2025-07-01T00:00:00Z", "2025-07-02T00:00:00Z");
    let args = [
        "--itwin", ITWIN, "--sensor", "sensor-2", "--metric", "T", "--unit", "C", "--from", from, "--to", to,
        "--api", "data",
    ];
    let output = run_async(
        env!("CARGO_BIN_EXE_sds-export"),
        args.iter().map(|s| (*s).to_owned()).collect(),
        sim.env_vars(),
    )
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1440);
    assert!(
        lines[0].starts_with(r#"{"timestamp":"2025-07-01T00:00:00Z","value":"#),
        "{}",
        lines[0]
    );
    assert!(
        lines[1439].starts_with(r#"{"timestamp":"2025-07-01T23:59:00Z","value":"#),
        "{}",
        lines[1439]
    );

    // The data API sends the default unit only: another unit is refused, not converted.
    let mut args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    args[7] = "F".into();
    let output = run_async(env!("CARGO_BIN_EXE_sds-export"), args, sim.env_vars()).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--unit C"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_one_line_and_non_zero() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let cases: [(&[&str], &str); 3] = [
        (&["--metric", "p"], "no metric `p`"),
        (&["--sensor", "nope"], "has no sensor nope"),
        (&["--itwin", sandbox::sds::FORBIDDEN_ITWIN], "sensor_data_read"),
    ];
    for (overrides, expected) in cases {
        let mut args = export_args("2025-07-01T00:00:00Z", "2025-07-02T00:00:00Z", &[]);
        for pair in overrides.chunks(2) {
            let index = args.iter().position(|a| a == pair[0]).unwrap();
            args[index + 1] = pair[1].to_owned();
        }
        let output = run_async(env!("CARGO_BIN_EXE_sds-export"), args, sim.env_vars()).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(output.stdout.is_empty());
        let last = stderr.lines().last().unwrap();
        assert!(
            last.starts_with("sds-export: ") && last.contains(expected),
            "{stderr}"
        );
    }
    // A wrong secret: the token endpoint refuses, one line, and the secret is not in it.
    let mut env = sim.env_vars();
    env.retain(|(name, _)| *name != "SDS_CLIENT_SECRET");
    env.push(("SDS_CLIENT_SECRET", "wrong-secret-value".into()));
    let output = run_async(
        env!("CARGO_BIN_EXE_sds-export"),
        export_args("2025-07-01T00:00:00Z", "2025-07-02T00:00:00Z", &[]),
        env,
    )
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("wrong-secret-value"), "{stderr}");
    // A client id without its secret: a configuration error before anything is sent.
    let output = run_async(
        env!("CARGO_BIN_EXE_sds-export"),
        export_args("2025-07-01T00:00:00Z", "2025-07-02T00:00:00Z", &[]),
        vec![("SDS_CLIENT_ID", "someone".into())],
    )
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("SDS_CLIENT_SECRET"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sensors_are_listed_one_per_line_with_metrics_and_units() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let output = run_async(
        env!("CARGO_BIN_EXE_sds-sensors"),
        vec![
            "--itwin".into(),
            ITWIN.into(),
            "--datasource".into(),
            "6304AD5893266431E1E9AD71".into(),
        ],
        sim.env_vars(),
    )
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let sensors: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(sensors.len(), 2);
    assert_eq!(sensors[0]["id"], "sensor-1");
    assert_eq!(
        sensors[0]["metrics"][1]["units"],
        serde_json::json!(["C", "F", "K"])
    );
    assert_eq!(sensors[0]["metrics"][0]["defaultUnit"], "Hz");

    let output = run_async(
        env!("CARGO_BIN_EXE_sds-sensors"),
        vec!["--itwin".into(), sandbox::sds::FOREIGN_ITWIN.into()],
        sim.env_vars(),
    )
    .await;
    assert!(output.status.success());
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a member"));
}
