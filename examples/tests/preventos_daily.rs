//! `preventos-daily-export` and `preventos-catalog` driven from outside.

use std::path::Path;
use std::process::{Command, Output};

use sandbox::Faults;
use sandbox::preventos::{Config, Sandbox};

const DOC_ITEM: &str = r#"[{
  "name": "site-ref-velocity-depth",
  "env": "100",
  "siteId": "site-ref",
  "signalIds": ["Velocity", "Depth"],
  "timezone": "Europe/Helsinki",
  "format": "csv",
  "csvPreset": "finnish"
}]"#;

fn command(binary: &str, cwd: &Path, args: &[String], env: &[(String, String)]) -> Output {
    let mut command = Command::new(binary);
    command.current_dir(cwd).args(args);
    for name in preventos_client::env::ALL {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

async fn daemon(cwd: &Path, args: &[&str], sim: Option<&Sandbox>) -> Output {
    let cwd = cwd.to_owned();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let env: Vec<(String, String)> = sim
        .map(|s| s.env_vars().into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
        .unwrap_or_default();
    tokio::task::spawn_blocking(move || {
        command(env!("CARGO_BIN_EXE_preventos-daily-export"), &cwd, &args, &env)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_mode_writes_files_and_says_where() {
    let folder = tempfile::tempdir().unwrap();
    let output = daemon(folder.path(), &[], None).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("embedded Preventos sandbox"), "{stderr}");
    let listed: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    // Two demo items, each catching up on the last seven completed days.
    assert_eq!(listed.len(), 14, "{listed:?}");
    for file in &listed {
        assert!(folder.path().join(file).is_file(), "{file}");
    }
    assert!(folder.path().join("preventos-export/demo-plan.json").is_file());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_writes_one_complete_file_a_day_and_reruns_skip() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("plan.json"), DOC_ITEM).unwrap();
    let args = [
        "--plan",
        "plan.json",
        "--out",
        "out",
        "--from",
        "2026-05-29",
        "--to",
        "2026-05-31",
        "--once",
    ];
    let output = daemon(folder.path(), &args, Some(&sim)).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for day in ["2026-05-29", "2026-05-30", "2026-05-31"] {
        let text = std::fs::read_to_string(
            folder
                .path()
                .join(format!("out/site-ref-velocity-depth/{day}.csv")),
        )
        .unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("timestamp;Velocity;Depth"));
        let rows: Vec<&str> = lines.collect();
        assert_eq!(rows.len(), 1440, "{day}");
        assert!(
            rows[0].starts_with(&format!("{day}T00:00:00+03:00;")),
            "{}",
            rows[0]
        );
    }
    let requests = sim.values_requests();
    assert_eq!(requests, 3);

    // A rerun is idempotent: nothing is fetched again...
    let output = daemon(folder.path(), &args, Some(&sim)).await;
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("0 written, 3 already there"));
    assert_eq!(sim.values_requests(), requests);
    // ...unless forced.
    let forced: Vec<&str> = args.iter().copied().chain(["--force"]).collect();
    let output = daemon(folder.path(), &forced, Some(&sim)).await;
    assert!(output.status.success());
    assert_eq!(sim.values_requests(), requests + 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_export_leaves_no_file_and_fails() {
    let sim = Sandbox::start(Config::default().with_faults(Faults::none().cut_body_after(20_000)))
        .await
        .unwrap();
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("plan.json"), DOC_ITEM).unwrap();
    let output = daemon(
        folder.path(),
        &[
            "--plan",
            "plan.json",
            "--out",
            "out",
            "--date",
            "2026-05-31",
            "--once",
        ],
        Some(&sim),
    )
    .await;
    assert_eq!(output.status.code(), Some(1));
    let item_folder = folder.path().join("out/site-ref-velocity-depth");
    assert_eq!(
        std::fs::read_dir(item_folder).unwrap().count(),
        0,
        "no file, partial or final"
    );
}

#[test]
fn partial_configuration_names_the_missing_variables() {
    let folder = tempfile::tempdir().unwrap();
    let output = command(
        env!("CARGO_BIN_EXE_preventos-daily-export"),
        folder.path(),
        &[
            "--plan".into(),
            "p.json".into(),
            "--out".into(),
            "o".into(),
            "--once".into(),
        ],
        &[("DATA_API_TENANT_ID".into(), "t".into())],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("DATA_API_BASE_URL") && stderr.contains("DATA_API_SUBSCRIPTION_KEY"),
        "{stderr}"
    );
}

#[test]
fn the_catalog_example_prints_a_table() {
    let folder = tempfile::tempdir().unwrap();
    let output = command(env!("CARGO_BIN_EXE_preventos-catalog"), folder.path(), &[], &[]);
    assert!(output.status.success());
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(table.lines().any(|l| l.starts_with("100")
        && l.contains("site-ref")
        && l.contains("Velocity")
        && l.contains("PT1M")));
    assert!(table.lines().any(|l| l.contains("Pump") && l.contains(" - ")));
    assert!(table.contains("maxRawDbPoints=44640"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_over_the_budget_is_stitched_into_one_document() {
    let mut config = Config::default();
    config.budget = 1000; // a PT1M day (1,440 points) needs two windows
    let sim = Sandbox::start(config).await.unwrap();
    let folder = tempfile::tempdir().unwrap();
    let plan = r#"[
      {"name": "csv", "env": "102", "siteId": "site-south", "signalIds": ["Velocity"],
       "timezone": "Europe/Helsinki", "format": "csv", "csvPreset": "finnish"},
      {"name": "ndjson", "env": "102", "siteId": "site-south", "signalIds": ["Velocity"],
       "timezone": "UTC", "format": "ndjson"},
      {"name": "json", "env": "102", "siteId": "site-south", "signalIds": ["Velocity"],
       "timezone": "UTC", "format": "json"}
    ]"#;
    std::fs::write(folder.path().join("plan.json"), plan).unwrap();
    let output = daemon(
        folder.path(),
        &[
            "--plan",
            "plan.json",
            "--out",
            "out",
            "--date",
            "2026-05-31",
            "--once",
        ],
        Some(&sim),
    )
    .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(sim.values_requests(), 6, "two windows per item");

    let csv = std::fs::read_to_string(folder.path().join("out/csv/2026-05-31.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("timestamp;Velocity"));
    let stamps: Vec<&str> = lines.map(|l| l.split(';').next().unwrap()).collect();
    assert_eq!(stamps.len(), 1440);
    assert_eq!(stamps[0], "2026-05-31T00:00:00+03:00");
    assert_eq!(
        stamps.iter().collect::<std::collections::HashSet<_>>().len(),
        1440
    );
    // The finnish preset: decimal commas, never points.
    assert!(csv.lines().skip(1).all(|l| !l.contains('.')));
    assert!(csv.lines().skip(1).any(|l| l.contains(',')));

    let ndjson = std::fs::read_to_string(folder.path().join("out/ndjson/2026-05-31.ndjson")).unwrap();
    let records: Vec<serde_json::Value> = ndjson.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(records.len(), 1440);
    assert_eq!(records[0]["timestamp"], "2026-05-31T00:00:00+00:00");

    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(folder.path().join("out/json/2026-05-31.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["values"].as_array().unwrap().len(), 1440);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_pass_catches_up_on_missing_days_without_asking_for_the_others() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("plan.json"), DOC_ITEM).unwrap();
    let args = ["--plan", "plan.json", "--out", "out", "--catch-up", "3", "--once"];
    let first = daemon(folder.path(), &args, Some(&sim)).await;
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let item = folder.path().join("out/site-ref-velocity-depth");
    let mut files: Vec<String> = std::fs::read_dir(&item)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files.len(), 3, "{files:?}");
    let requests = sim.values_requests();
    // A pass that failed or never ran: its day is missing.
    std::fs::remove_file(item.join(&files[1])).unwrap();
    let second = daemon(folder.path(), &args, Some(&sim)).await;
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "{stderr}");
    assert!(
        stderr.contains("pass done: 1 written, 2 already there, 0 failed"),
        "{stderr}"
    );
    assert!(item.join(&files[1]).is_file());
    // Only the missing day was asked for (one window: two PT1M signals fit the budget).
    assert_eq!(sim.values_requests(), requests + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_names_that_clash_are_refused_before_any_request() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let folder = tempfile::tempdir().unwrap();
    for (names, says) in [
        (["south", "south"], "two plan items are named `south`"),
        (["South", "south"], "differ only in case"),
    ] {
        let plan = serde_json::json!([
            {"name": names[0], "env": "102", "siteId": "site-south", "signalIds": ["Velocity"],
             "timezone": "UTC", "format": "ndjson"},
            {"name": names[1], "env": "100", "siteId": "site-ref", "signalIds": ["Depth"],
             "timezone": "UTC", "format": "ndjson"}
        ]);
        std::fs::write(folder.path().join("plan.json"), plan.to_string()).unwrap();
        let output = daemon(
            folder.path(),
            &[
                "--plan",
                "plan.json",
                "--out",
                "out",
                "--date",
                "2026-05-31",
                "--once",
            ],
            Some(&sim),
        )
        .await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
    }
    assert_eq!(sim.requests() + sim.token_requests(), 0);
    assert!(!folder.path().join("out").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_root_application_reads_the_catalog_with_the_plan_environments() {
    let sim = Sandbox::start(Config::default().with_root_application(true))
        .await
        .unwrap();
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("plan.json"), DOC_ITEM).unwrap();
    let output = daemon(
        folder.path(),
        &[
            "--plan",
            "plan.json",
            "--out",
            "out",
            "--date",
            "2026-05-31",
            "--once",
        ],
        Some(&sim),
    )
    .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        folder
            .path()
            .join("out/site-ref-velocity-depth/2026-05-31.csv")
            .is_file()
    );
}
