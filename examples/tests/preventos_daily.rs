//! `preventos-daily-export` and `preventos-catalog` driven from outside.

mod daily_common;

use std::path::Path;
use std::process::{Command, Output};

use daily_common::SOUTH;
use sandbox::Faults;
use sandbox::preventos::{Config, Sandbox};

/// One pass over the plan in `plan.json` for the document's day, into `out`.
const ONE_DAY: &[&str] = &[
    "--plan",
    "plan.json",
    "--out",
    "out",
    "--date",
    "2026-05-31",
    "--once",
];

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
    daily_common::output(daily_common::daemon(cwd, args, sim)).await
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
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("0 written, 0 replaced, 0 unchanged, 3 already there")
    );
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
    let output = daemon(folder.path(), ONE_DAY, Some(&sim)).await;
    assert_eq!(output.status.code(), Some(1));
    let item_folder = folder.path().join("out/site-ref-velocity-depth");
    // The item's folder is created by its first object: none here.
    assert_eq!(
        std::fs::read_dir(item_folder).map_or(0, |entries| entries.count()),
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
    let output = daemon(folder.path(), ONE_DAY, Some(&sim)).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(sim.values_requests(), 6, "two windows per item");
    // The manifest names both windows and both requests with their correlation ids.
    let m = manifest(&folder.path().join("out/csv"), "2026-05-31.csv");
    assert_eq!(m["windows"].as_array().unwrap().len(), 2, "{m}");
    let requests = m["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 2, "{m}");
    assert!(
        requests
            .iter()
            .all(|r| r["correlationId"].is_string() && r["status"] == 200),
        "{m}"
    );
    assert_ne!(requests[0]["correlationId"], requests[1]["correlationId"]);

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
    // Settled days only: this test is about days without a file.
    let args = [
        "--plan",
        "plan.json",
        "--out",
        "out",
        "--catch-up",
        "3",
        "--settle",
        "0",
        "--once",
    ];
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
        .filter(|name| name.ends_with(".csv"))
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
        stderr.contains("pass done: 1 written, 0 replaced, 0 unchanged, 2 already there, 0 failed"),
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
        let output = daemon(folder.path(), ONE_DAY, Some(&sim)).await;
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
    let output = daemon(folder.path(), ONE_DAY, Some(&sim)).await;
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

fn utc_day(back: i64) -> jiff::civil::Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .checked_sub(jiff::Span::new().days(back))
        .unwrap()
}

fn manifest(folder: &Path, file: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(folder.join(format!("{file}.manifest.json"))).unwrap()).unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_data_replaces_an_unsettled_day_and_settled_days_are_not_fetched_again() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("plan.json"), SOUTH).unwrap();
    let item = folder.path().join("out/south");
    let yesterday = format!("{}.ndjson", utc_day(1));
    let older = format!("{}.ndjson", utc_day(4));
    // Yesterday's afternoon has not arrived yet.
    let noon: jiff::Timestamp = format!("{}T12:00:00Z", utc_day(1)).parse().unwrap();
    sim.hold_back_from(Some(noon));
    let args = [
        "--plan",
        "plan.json",
        "--out",
        "out",
        "--catch-up",
        "4",
        "--settle",
        "48h",
        "--once",
    ];

    let first = daemon(folder.path(), &args, Some(&sim)).await;
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert_eq!(sim.values_requests(), 4);
    let early = std::fs::read(item.join(&yesterday)).unwrap();
    let m = manifest(&item, &yesterday);
    assert_eq!(m["records"], 720);
    assert_eq!(m["revision"], 1);
    assert_eq!(m["bytes"], early.len());
    assert_eq!(m["sha256"], sha256_hex(&early));
    assert_eq!(m["day"], utc_day(1).to_string());
    assert_eq!(m["windows"].as_array().unwrap().len(), 1);
    let requests = m["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 1, "{m}");
    assert_eq!(requests[0]["status"], 200);
    assert!(requests[0]["correlationId"].is_string(), "{m}");
    assert!(requests[0]["range"].is_string(), "{m}");
    assert_eq!(manifest(&item, &older)["records"], 1440);

    // Nothing new: the two days within 48 h are fetched again and left untouched.
    let second = daemon(folder.path(), &args, Some(&sim)).await;
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "{stderr}");
    assert!(
        stderr.contains("0 written, 0 replaced, 2 unchanged, 2 already there"),
        "{stderr}"
    );
    assert_eq!(sim.values_requests(), 6);
    assert_eq!(std::fs::read(item.join(&yesterday)).unwrap(), early);
    assert_eq!(manifest(&item, &yesterday), m);

    // The afternoon arrives: yesterday is replaced, with the next revision.
    sim.hold_back_from(None);
    let third = daemon(folder.path(), &args, Some(&sim)).await;
    let stderr = String::from_utf8_lossy(&third.stderr);
    assert!(third.status.success(), "{stderr}");
    assert!(
        stderr.contains("0 written, 1 replaced, 1 unchanged, 2 already there"),
        "{stderr}"
    );
    assert_eq!(sim.values_requests(), 8);
    let late = std::fs::read(item.join(&yesterday)).unwrap();
    assert!(late.starts_with(&early) && late.len() > early.len());
    let m = manifest(&item, &yesterday);
    assert_eq!(
        (m["records"].as_u64(), m["revision"].as_u64()),
        (Some(1440), Some(2))
    );
    assert_eq!(m["sha256"], sha256_hex(&late));
    assert!(String::from_utf8_lossy(&third.stdout).contains(&yesterday));

    // --settle 0: no day is fetched again.
    let mut settled = args.to_vec();
    settled[7] = "0";
    let fourth = daemon(folder.path(), &settled, Some(&sim)).await;
    assert!(fourth.status.success());
    assert_eq!(sim.values_requests(), 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_fetches_again_a_day_whose_file_was_altered() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("plan.json"), SOUTH).unwrap();
    let args = [
        "--plan",
        "plan.json",
        "--out",
        "out",
        "--from",
        "2026-05-30",
        "--to",
        "2026-05-31",
        "--once",
    ];
    assert!(daemon(folder.path(), &args, Some(&sim)).await.status.success());
    let file = folder.path().join("out/south/2026-05-30.ndjson");
    let original = std::fs::read(&file).unwrap();
    // Altered in place, its modification time kept: nothing but its bytes tell.
    let modified = std::fs::metadata(&file).unwrap().modified().unwrap();
    std::fs::write(&file, &original[..original.len() / 2]).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    assert_eq!(sim.values_requests(), 2);

    // Without --verify a settled day is trusted.
    assert!(daemon(folder.path(), &args, Some(&sim)).await.status.success());
    assert_eq!(sim.values_requests(), 2);

    let verified: Vec<&str> = args.iter().copied().chain(["--verify"]).collect();
    let output = daemon(folder.path(), &verified, Some(&sim)).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("0 written, 1 replaced, 0 unchanged, 1 already there"),
        "{stderr}"
    );
    assert_eq!(sim.values_requests(), 3);
    assert_eq!(std::fs::read(&file).unwrap(), original);
    assert_eq!(
        manifest(&folder.path().join("out/south"), "2026-05-30.ndjson")["revision"],
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn days_missed_beyond_the_catch_up_window_are_reported_and_fail_the_pass() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("plan.json"), SOUTH).unwrap();
    // The daemon stored a day a week ago, then was down longer than its catch-up.
    let item = folder.path().join("out/south");
    std::fs::create_dir_all(&item).unwrap();
    std::fs::write(item.join(format!("{}.ndjson", utc_day(6))), "").unwrap();
    let args = [
        "--plan",
        "plan.json",
        "--out",
        "out",
        "--catch-up",
        "2",
        "--settle",
        "0",
        "--once",
    ];
    let output = daemon(folder.path(), &args, Some(&sim)).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let backfill = format!("--from {} --to {}", utc_day(5), utc_day(3));
    assert!(
        stderr.contains(&format!(
            "missed: south: 3 day(s) beyond --catch-up; backfill with {backfill}"
        )),
        "{stderr}"
    );
    assert!(stderr.contains("days missed beyond --catch-up"), "{stderr}");
    // The window itself was exported.
    assert_eq!(sim.values_requests(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_whose_signals_left_the_catalog_fails_alone_and_names_them() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let folder = tempfile::tempdir().unwrap();
    let plan = r#"[
      {"name": "south", "env": "102", "siteId": "site-south", "signalIds": ["Velocity"],
       "timezone": "UTC", "format": "ndjson"},
      {"name": "ref", "env": "100", "siteId": "site-ref", "signalIds": ["Velocity", "Salinity", "Ph"],
       "timezone": "UTC", "format": "ndjson"},
      {"name": "gone", "env": "100", "siteId": "site-north", "signalIds": ["Level"],
       "timezone": "UTC", "format": "ndjson"}
    ]"#;
    std::fs::write(folder.path().join("plan.json"), plan).unwrap();
    let output = daemon(folder.path(), ONE_DAY, Some(&sim)).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "failed: ref: signals Salinity, Ph of site `site-ref` in environment `100` are not in the catalog"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("failed: gone: site `site-north` of environment `100` is not in the catalog"),
        "{stderr}"
    );
    assert!(folder.path().join("out/south/2026-05-31.ndjson").is_file());
    assert_eq!(sim.values_requests(), 1, "the broken items sent nothing");
    // Signals nobody exports are named.
    let unexported = stderr
        .lines()
        .find(|l| l.contains("catalog signals that no plan item exports"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        unexported.contains("100/site-ref/Flow") && unexported.contains("100/site-east/Pump"),
        "{unexported}"
    );
    assert!(!unexported.contains("102/site-south/Velocity"), "{unexported}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_day_is_logged_with_its_context_and_correlation_id() {
    let sim = Sandbox::start(Config::default().with_faults(Faults::none().fail_first(1, 400)))
        .await
        .unwrap();
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("plan.json"), DOC_ITEM).unwrap();
    let output = daemon(folder.path(), ONE_DAY, Some(&sim)).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.contains("ERROR") && l.contains("export failed"))
        .unwrap_or_else(|| panic!("{stderr}"));
    for field in [
        "environment=100",
        "site=site-ref",
        "signals=Velocity,Depth",
        "day=2026-05-31",
        "format=csv",
    ] {
        assert!(line.contains(field), "{field} in {line}");
    }
    let id = line
        .split("correlation_id=")
        .nth(1)
        .unwrap_or_else(|| panic!("{line}"));
    assert!(id.starts_with(|c: char| c.is_ascii_digit()), "{line}");
}

/// Starts the daemon and waits (bounded) until a day's values request reached `sim` (the
/// sandbox holds its response back): the daemon is mid-day.
async fn started_mid_day(cwd: &Path, args: &[&str], sim: &Sandbox) -> std::process::Child {
    let mut command = daily_common::daemon(cwd, args, Some(sim));
    command.stdout(std::process::Stdio::null());
    let before = sim.values_requests();
    let mut child = command.spawn().unwrap();
    for _ in 0..1000 {
        if sim.values_requests() > before {
            return child;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("no values request arrived");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_killed_mid_fetch_leaves_nothing_and_the_next_pass_removes_staging_files() {
    // Each response waits long enough for the kill to land mid-day.
    let sim = Sandbox::start(
        Config::default().with_faults(Faults::none().delay(std::time::Duration::from_secs(30))),
    )
    .await
    .unwrap();
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("plan.json"), SOUTH).unwrap();
    let args = ONE_DAY;
    let mut child = started_mid_day(folder.path(), args, &sim).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let item = folder.path().join("out/south");
    assert_eq!(
        std::fs::read_dir(&item).map_or(0, |entries| entries.count()),
        0,
        "SIGKILL mid-fetch leaves no object, partial or final"
    );
    // What a kill during a put leaves in a folder (the store's staging file), and an
    // earlier version's temporary file: the next pass removes both.
    std::fs::create_dir_all(&item).unwrap();
    std::fs::write(item.join("2026-05-31.ndjson#12"), b"{").unwrap();
    std::fs::write(item.join(".2026-05-31.ndjson.1f2e.part"), b"{").unwrap();
    sim.set_faults(Faults::none());
    let output = daemon(folder.path(), args, Some(&sim)).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut names: Vec<String> = std::fs::read_dir(&item)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["2026-05-31.ndjson", "2026-05-31.ndjson.manifest.json"]);
}

/// Sends Ctrl-C (SIGINT) to `child` and waits for its end.
async fn interrupted(child: std::process::Child) -> std::process::Output {
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_a_pass_with_exit_code_130_and_no_partial_file() {
    let sim = Sandbox::start(
        Config::default().with_faults(Faults::none().delay(std::time::Duration::from_secs(30))),
    )
    .await
    .unwrap();
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("plan.json"), SOUTH).unwrap();
    let args = ONE_DAY;
    let child = started_mid_day(folder.path(), args, &sim).await;
    let output = interrupted(child).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(folder.path().join("out/south")).map_or(0, |entries| entries.count()),
        0,
        "no file, partial or final"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_the_daemon_between_passes_with_exit_code_130() {
    use std::io::BufRead;
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("plan.json"), SOUTH).unwrap();
    let mut child = daily_common::daemon(
        folder.path(),
        &["--plan", "plan.json", "--out", "out", "--date", "2026-05-31"],
        Some(&sim),
    )
    .spawn()
    .unwrap();
    // The first pass is over when its file is listed; the daemon then waits for --at.
    let stdout = child.stdout.take().unwrap();
    let listed = tokio::task::spawn_blocking(move || std::io::BufReader::new(stdout).lines().next())
        .await
        .unwrap();
    assert!(listed.is_some_and(|line| line.unwrap().ends_with("2026-05-31.ndjson")));
    let output = interrupted(child).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
}
