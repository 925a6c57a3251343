//! `preventos-daily-export --shard I/N`: N processes, as a Kubernetes Indexed Job starts
//! them, against one sandbox and one output folder, one of them killed mid-pass and run
//! again, end with the output of a single run: the same files, byte for byte, each day
//! written by one process once.

mod daily_common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::Duration;

use sandbox::Faults;
use sandbox::preventos::{Config, Sandbox};

/// Six items, two per shard of 3 (`ref-depth-flow` and `ref-temperature` in 0,
/// `ref-velocity` and `east-level` in 1, `ref-depth-2` and `south` in 2).
const PLAN: &str = r#"[
  {"name": "ref-velocity", "env": "100", "siteId": "site-ref", "signalIds": ["Velocity"], "timezone": "UTC", "format": "ndjson"},
  {"name": "ref-depth-flow", "env": "100", "siteId": "site-ref", "signalIds": ["Depth", "Flow"], "timezone": "Europe/Helsinki", "format": "csv", "csvPreset": "finnish"},
  {"name": "ref-temperature", "env": "100", "siteId": "site-ref", "signalIds": ["Temperature"], "timezone": "UTC", "format": "json"},
  {"name": "east-level", "env": "100", "siteId": "site-east", "signalIds": ["Level"], "timezone": "UTC", "format": "ndjson"},
  {"name": "ref-depth-2", "env": "100", "siteId": "site-ref", "signalIds": ["Depth"], "timezone": "America/New_York", "format": "ndjson"},
  {"name": "south", "env": "102", "siteId": "site-south", "signalIds": ["Velocity"], "timezone": "UTC", "format": "ndjson"}
]"#;

const SHARDS: u32 = 3;

fn daemon(cwd: &Path, out: &str, shard: &str, sim: &Sandbox) -> Command {
    daily_common::daemon(
        cwd,
        &[
            "--plan",
            "plan.json",
            "--out",
            out,
            "--from",
            "2026-05-30",
            "--to",
            "2026-05-31",
            "--once",
            "--shard",
            shard,
        ],
        Some(sim),
    )
}

async fn finished(child: Child) -> Output {
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Every file under `root`, by its path below it: its bytes, or for a manifest its JSON
/// without what differs between two fetches of the same content (when, and the
/// requests' correlation ids).
fn tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    for item in std::fs::read_dir(root).unwrap() {
        let item = item.unwrap().path();
        if !item.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&item).unwrap() {
            let path = file.unwrap().path();
            let mut bytes = std::fs::read(&path).unwrap();
            if path.to_string_lossy().ends_with(".manifest.json") {
                let mut manifest: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                let members = manifest.as_object_mut().unwrap();
                members.remove("fetchedAt");
                members.remove("requests");
                bytes = serde_json::to_vec(&manifest).unwrap();
            }
            files.insert(path.strip_prefix(root).unwrap().to_owned(), bytes);
        }
    }
    files
}

/// The data files a run listed on stdout, relative to `root`.
fn listed(output: &Output, root: &Path) -> Vec<PathBuf> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            let path = Path::new(line);
            path.strip_prefix(root).unwrap_or(path).to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_run_at_once_and_one_killed_and_rerun_write_what_one_run_writes() {
    let sim = Sandbox::start(Config::default()).await.unwrap();
    let folder = tempfile::tempdir().unwrap();
    let cwd = folder.path();
    std::fs::write(cwd.join("plan.json"), PLAN).unwrap();

    // One process, the whole plan.
    let single = finished(daemon(cwd, "single", "0/1", &sim).spawn().unwrap()).await;
    let expected = tree(&cwd.join("single"));
    assert_eq!(listed(&single, Path::new("single")).len(), 12, "6 items x 2 days");
    assert_eq!(expected.len(), 24, "each day's file and manifest");

    // Shard 2 killed mid-pass: every response now takes long enough for the kill to land
    // while a day is being written.
    sim.set_faults(Faults::none().delay(Duration::from_secs(3)));
    let before = sim.values_requests();
    let mut killed = daemon(cwd, "sharded", "2/3", &sim).spawn().unwrap();
    let mut started = false;
    for _ in 0..1500 {
        // A values request in flight: the shard is mid-day.
        started = sim.values_requests() > before;
        if started {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    killed.kill().unwrap();
    killed.wait().unwrap();
    assert!(started, "shard 2 never started a day");
    sim.set_faults(Faults::none());

    // The three shards at once, shard 2 for the second time.
    let children: Vec<Child> = (0..SHARDS)
        .map(|index| {
            daemon(cwd, "sharded", &format!("{index}/{SHARDS}"), &sim)
                .spawn()
                .unwrap()
        })
        .collect();
    let mut outputs = Vec::new();
    for child in children {
        outputs.push(finished(child).await);
    }
    assert_eq!(
        tree(&cwd.join("sharded")),
        expected,
        "the shards' union is the single run's output"
    );

    // Each day written once, by the shard its item belongs to.
    let mut written: Vec<PathBuf> = Vec::new();
    for (index, output) in outputs.iter().enumerate() {
        for path in listed(output, Path::new("sharded")) {
            let item = path.iter().next().unwrap().to_string_lossy().into_owned();
            assert_eq!(
                examples::daily_export::shard_of(&item, SHARDS),
                index as u32,
                "{} written by shard {index}",
                path.display()
            );
            written.push(path);
        }
    }
    let distinct: BTreeSet<&PathBuf> = written.iter().collect();
    assert_eq!(distinct.len(), written.len(), "a day written twice: {written:?}");
    assert_eq!(written.len(), 12, "{written:?}");
    for (path, manifest) in &expected {
        if path.to_string_lossy().ends_with(".manifest.json") {
            let manifest: serde_json::Value = serde_json::from_slice(manifest).unwrap();
            assert_eq!(manifest["revision"], 1, "{}", path.display());
        }
    }
    // Nothing but days and manifests: no staging file is left.
    for item in std::fs::read_dir(cwd.join("sharded")).unwrap() {
        for file in std::fs::read_dir(item.unwrap().path()).unwrap() {
            let name = file.unwrap().file_name().to_string_lossy().into_owned();
            assert!(!name.contains('#') && !name.ends_with(".part"), "{name}");
        }
    }
}
