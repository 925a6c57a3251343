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

    // The data API sends the default unit only: another unit is refused, not converted,
    // as a usage error.
    let mut args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    args[7] = "F".into();
    let output = run_async(env!("CARGO_BIN_EXE_sds-export"), args, sim.env_vars()).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
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

/// One day at one a minute: 24 pages (or data responses) of 60 under the kill tests'
/// caps.
const DAY: (&str, &str) = ("2025-07-01T00:00:00Z", "2025-07-02T00:00:00Z");
const PER_PAGE: usize = 60;

/// The export's arguments writing to `out` in `api` mode.
fn out_args(api: &str, out: &std::path::Path) -> Vec<String> {
    let unit = if api == "data" { "C" } else { "K" };
    let mut args = export_args(DAY.0, DAY.1, &["--api", api, "--out", out.to_str().unwrap()]);
    let index = args.iter().position(|a| a == "--unit").unwrap();
    args[index + 1] = unit.to_owned();
    args
}

/// The requests that read pages: observation pages, or data queries.
fn page_requests(sim: &Sandbox, api: &str) -> u64 {
    if api == "data" {
        sim.data_queries()
    } else {
        sim.observation_pages()
    }
}

fn sandbox_config(readings: Readings) -> Config {
    Config::default()
        .with_readings(readings.with_page_size_cap(PER_PAGE as u32, CapOffset::EffectiveSize))
        .with_data_response_cap(PER_PAGE)
}

/// Kills an export to `--out` after its first commit, reruns it, and checks the file,
/// what remains beside it and what the rerun fetched.
async fn killed_and_rerun(api: &'static str, readings: Readings) {
    let dir = tempfile::tempdir().unwrap();
    // An uninterrupted run: the file to match and the pages it takes.
    let reference = Sandbox::start(sandbox_config(readings)).await.unwrap();
    let whole_path = dir.path().join("whole.ndjson");
    let output = run_async(
        env!("CARGO_BIN_EXE_sds-export"),
        out_args(api, &whole_path),
        reference.env_vars(),
    )
    .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stdout.is_empty(), "--out leaves standard output empty");
    let whole = std::fs::read(&whole_path).unwrap();
    assert_eq!(whole.iter().filter(|b| **b == b'\n').count(), 1440);
    let uninterrupted = page_requests(&reference, api);

    // The same export, slowed down, killed once a page is committed.
    let sim = Sandbox::start(sandbox_config(readings)).await.unwrap();
    sim.set_faults(sandbox::Faults::none().delay(std::time::Duration::from_millis(40)));
    let out = dir.path().join("out.ndjson");
    let state = dir.path().join("out.ndjson.state.json");
    let partial = dir.path().join("out.ndjson.partial");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_sds-export"));
    command
        .args(out_args(api, &out))
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    for name in sds_client::env::ALL {
        command.env_remove(name);
    }
    command.envs(sim.env_vars());
    let mut child = command.spawn().unwrap();
    let started = std::time::Instant::now();
    // Two pages committed (a 1-based server's empty page 0 commits none), so that a
    // rerun reading everything again would show in the sandbox's counters.
    let committed_pages = || {
        let Some(saved) = std::fs::read(&state)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        else {
            return 0;
        };
        let committed = saved["committed"].as_u64().unwrap_or(0) as usize;
        let written = std::fs::read(&partial).unwrap_or_default();
        written[..committed.min(written.len())]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            / PER_PAGE
    };
    while committed_pages() < 2 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "no commit"
        );
        assert!(child.try_wait().unwrap().is_none(), "the export ended unkilled");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!out.exists(), "killed before the end");
    // The pages on disk are those the state names.
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    let committed = saved["committed"].as_u64().unwrap() as usize;
    let written = std::fs::read(&partial).unwrap();
    let pages_written = written[..committed].iter().filter(|b| **b == b'\n').count() / PER_PAGE;
    assert!(pages_written >= 2, "{saved}");

    // The same command line again: it goes on from the state.
    sim.set_faults(sandbox::Faults::none());
    let before = page_requests(&sim, api);
    let output = run_async(
        env!("CARGO_BIN_EXE_sds-export"),
        out_args(api, &out),
        sim.env_vars(),
    )
    .await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("resuming"), "{stderr}");
    let rerun = page_requests(&sim, api) - before;
    assert!(
        rerun <= uninterrupted - pages_written as u64 + 1,
        "{api} {readings:?}: the rerun read {rerun} pages; {pages_written} of {uninterrupted} were written"
    );
    assert!(
        std::fs::read(&out).unwrap() == whole,
        "{api} {readings:?}: not the uninterrupted file"
    );
    assert!(!state.exists() && !partial.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_observations_export_killed_mid_way_resumes_to_the_same_file() {
    for readings in [
        Readings::default(),
        Readings::default()
            .with_page_total(PageTotal::Observations)
            .with_one_based_pages()
            .with_linked_list_pages(1),
    ] {
        killed_and_rerun("observations", readings).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_api_export_killed_mid_way_resumes_to_the_same_file() {
    for readings in [Readings::default(), Readings::default().with_ends(false, false)] {
        killed_and_rerun("data", readings).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_writes_what_standard_output_shows() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("day.ndjson");
    let (from, to) = ("2025-07-01T00:00:00Z", "2025-07-01T06:00:00Z");
    let to_stdout = run_async(
        env!("CARGO_BIN_EXE_sds-export"),
        export_args(from, to, &[]),
        sim.env_vars(),
    )
    .await;
    assert!(to_stdout.status.success());
    let to_file = run_async(
        env!("CARGO_BIN_EXE_sds-export"),
        export_args(from, to, &["--out", out.to_str().unwrap()]),
        sim.env_vars(),
    )
    .await;
    assert!(to_file.status.success());
    assert_eq!(std::fs::read(&out).unwrap(), to_stdout.stdout);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sensors_are_listed_whole_whether_the_list_is_paged_or_not() {
    for readings in [
        Readings::default(),
        Readings::default().with_bare_lists(),
        Readings::default().with_linked_list_pages(1),
        Readings::default().with_linked_list_pages(2),
    ] {
        let sim = Sandbox::start(Config::default().with_readings(readings))
            .await
            .unwrap();
        let output = run_async(
            env!("CARGO_BIN_EXE_sds-sensors"),
            vec!["--itwin".into(), ITWIN.into()],
            sim.env_vars(),
        )
        .await;
        assert!(output.status.success(), "{readings:?}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        let ids: Vec<String> = stdout
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(ids, ["sensor-1", "sensor-2", "sensor-3"], "{readings:?}");
    }
}
